"""`/cm mentions` and `/cm export` read the search as typed in Slack."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from storage.db import transaction
from storage.models import Mention, Watch
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.harness.constants import CHANNEL_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers

TEXTS = {
    "trial": "The free trial ended and acme charged me",
    "stuff": "acme gives free stuff, the trial comes later",
    "status": "acme status: new outage page for the app",
    "great": "acme app is great",
    "domain": "acme is down, see status.acme.example for news",
    "hashtag": "#panne chez acme depuis ce matin",
    "word": "une panne chez acme, encore",
}


def newest(*ids: int) -> list[int]:
    """Mention ids in the listing's order."""
    return sorted(ids, reverse=True)


def answer(vigie: VigieApp, text: str) -> dict[str, Any]:
    """What Vigie answers an admin's `/cm TEXT` (in the ack or through response_url)."""
    response = vigie.slack.slash_command(text, user_id=ADMIN_ID)
    assert response.status_code == 200
    if response.content and response.json().get("text"):
        return dict(response.json())
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    body = vigie.standin.responses()[-1]
    vigie.standin.clear()
    return dict(body)


def store(vigie: VigieApp, items: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Post ``{key: (network, text)}`` through a webhook of watch acme (which keeps every
    post); the stored mentions' ids by key."""
    assert "created" in answer(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:100")[
        "text"]
    source_id, secret = webhook_from_answer(answer(vigie, "source add webhook acme")["text"])
    now = datetime.now(UTC)
    body = json.dumps([
        {"id": key, "url": f"https://example.org/{key}", "author": {"handle": f"u{n}"},
         "text": text, "network": network,
         "published_at": (now - timedelta(minutes=n + 1)).isoformat()}
        for n, (key, (network, text)) in enumerate(items.items())]).encode()
    stored = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert stored.json()["stored"] == len(items), stored.text
    with vigie.runtime.sessions() as session:
        return dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())


def listed(vigie: VigieApp, text: str) -> list[int]:
    """The mention ids `/cm TEXT` lists."""
    body = answer(vigie, text)
    assert "blocks" in body, body
    return [int(found) for block in body["blocks"] if block["type"] == "section"
            for found in re.findall(r"^\*#(\d+)\*", block["text"]["text"])]


def test_a_misplaced_star_is_refused_where_a_query_is_typed(vigie: VigieApp) -> None:
    ids = store(vigie, {key: ("rss", TEXTS[key]) for key in ("hashtag", "word", "great")})
    for search in ("*anne", "*panne", "pa*nne", '"chez *acme"', "acme -pa*nne"):
        refused = answer(vigie, f"mentions {search}")["text"]
        assert "'*' can only end a word of at least 2 letters, as in refund*" in refused, (
            search, refused)
        assert "'*' can only end a word" in answer(
            vigie, f"watch add beta <#{CHANNEL_ID}|feed> {search}")["text"]
        assert "'*' can only end a word" in answer(vigie, f"export 30d {search}")["text"]
    assert listed(vigie, "mentions pan*") == newest(ids["hashtag"], ids["word"])  # a prefix
    answer(vigie, "lang fr")
    assert "'*' ne peut que terminer un mot d'au moins 2 lettres" in answer(
        vigie, "mentions *anne")["text"]


def test_a_stored_watch_with_a_misplaced_star_still_works(vigie: VigieApp) -> None:
    """A query an older Vigie stored (it read ``*panne`` as ``panne``) keeps loading and
    matching: only a newly typed query is refused."""
    answer(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:100 panne")
    with transaction(vigie.runtime.sessions) as session:
        session.scalars(select(Watch).where(Watch.name == "acme")).one().query = "*panne"
    source_id, secret = webhook_from_answer(answer(vigie, "source add webhook acme")["text"])
    now = datetime.now(UTC).isoformat()
    body = json.dumps([
        {"id": str(n), "url": f"https://example.org/{n}", "author": {"handle": "ana"},
         "text": text, "published_at": now}
        for n, text in enumerate(("une panne chez acme", "acme va bien"))]).encode()
    stored = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert stored.json()["stored"] == 1, stored.text
    listing = str(answer(vigie, "watch list")["blocks"])
    assert "*panne" in listing and "invalid query" not in listing, listing
