"""What `/ingest/<id>` answers: every status a push can get has its status line (a 503
was a KeyError, so a 500 with a traceback), and without the source's signature an id
tells nothing (whether it exists, is a webhook, or is paused)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.services.actors import CLI
from bot.services.sources_admin import do_add_source
from bot.web import status_line
from storage.db import transaction
from storage.models import SourceRow
from storage.secret_box import SecretBox, generate_key
from tests.e2e.conftest import VigieApp
from tests.e2e.test_listening import admin
from tests.harness.constants import CHANNEL_ID, TEAM_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers

BODY = json.dumps({"id": "1", "url": "https://forum.example/t/1", "text": "acme",
                   "author": {"handle": "ana"},
                   "published_at": "2026-12-06T09:00:00+00:00"}).encode()


def _webhook(vigie: VigieApp) -> tuple[int, str]:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    return webhook_from_answer(admin(vigie, "source add webhook acme"))


def test_a_secret_no_key_opens_answers_503_not_500(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    source, secret = _webhook(vigie)
    with transaction(vigie.runtime.sessions) as session:
        row = session.get(SourceRow, source)
        assert row is not None
        # written under a key Vigie no longer has (VIGIE_SECRET_KEY changed)
        row.config = {**row.config, "secret": SecretBox([generate_key()]).seal(secret)}
    answer = httpx.post(f"{vigie.url}/ingest/{source}", content=BODY,
                        headers=webhook_headers(secret, BODY))
    assert answer.status_code == 503, answer.text
    assert answer.json() == {"error": "this webhook source cannot check signatures right now"}
    assert secret not in answer.text


def test_a_get_answers_405(vigie_sqlite: VigieApp) -> None:
    answer = httpx.get(f"{vigie_sqlite.url}/ingest/1")
    assert answer.status_code == 405 and answer.json() == {"error": "POST only"}


@pytest.mark.parametrize(("code", "line"), [
    (200, "200 OK"), (405, "405 Method Not Allowed"), (413, "413 Content Too Large"),
    (503, "503 Service Unavailable"), (500, "500 Internal Server Error"), (599, "599 Unknown"),
])
def test_every_status_has_its_line(code: int, line: str) -> None:
    assert status_line(code) == line


def _send(vigie: VigieApp, path: str, headers: dict[str, str]) -> tuple[int, object]:
    answer = httpx.post(f"{vigie.url}{path}", content=BODY, headers=headers)
    return answer.status_code, answer.json()


def test_without_its_signature_a_source_id_tells_nothing(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    paused, secret = _webhook(vigie)
    feed = do_add_source(vigie.runtime.sessions, vigie.runtime.workspaces.ensure(TEAM_ID).id,
                         CLI, kind="rss", watch_name="acme",
                         values={"url": "https://feeds.example/acme.xml"}).id
    assert "paused" in admin(vigie, f"source pause {paused}")
    other = webhook_headers("someone-elses-secret-0123", BODY)
    for headers in (other, {**other, "X-Vigie-Signature": "sha256=00"},
                    {"Content-Type": "application/json"},
                    webhook_headers(secret, BODY, timestamp="1")):
        # a paused webhook, a source that is no webhook, no source at all
        answers = [_send(vigie, f"/ingest/{number}", headers) for number in (paused, feed, 999)]
        assert answers[0][0] == 401 and answers.count(answers[0]) == 3, answers
    assert _send(vigie, f"/ingest/{paused}", webhook_headers(secret, BODY)) == (
        409, {"error": "this webhook source is paused"})
