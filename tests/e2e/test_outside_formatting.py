"""Names from outside keep their formatting characters as text: `*Boss*` is not bold and
does not close the card's bold label (pings were already escaped; formatting was not)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_listening import admin
from tests.e2e.test_workflow import card, seed, settle
from tests.harness.constants import CHANNEL_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers

ZWSP = "\u200b"


def test_an_author_name_cannot_break_the_card_label(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie, name="*Boss* <!here>", handle="@_x_@m.social")
    author_line = card(vigie, mention_id)["blocks"][0]["text"]["text"]
    # Each marker is followed by an invisible space: shown, never read as formatting.
    assert (f"*{'*' + ZWSP}Boss{'*' + ZWSP} &lt;!here&gt;* "
            f"(@{'_' + ZWSP}x{'_' + ZWSP}@m.social)") in author_line
    assert "<!here>" not in author_line


def test_digest_authors_keep_their_formatting_characters_as_text(vigie_sqlite: VigieApp
                                                                 ) -> None:
    vigie = vigie_sqlite
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:40 acme")
    source, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    published = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    body = json.dumps([{"id": "b1", "url": "https://forum.example/t/1",
                        "text": "acme is down again, no answer from support",
                        "author": {"handle": "*Bob*", "followers": 90_000},
                        "published_at": published}]).encode()
    answer = httpx.post(f"{vigie.url}/ingest/{source}", content=body,
                        headers=webhook_headers(secret, body))
    assert answer.status_code < 300, answer.text
    settle(vigie)
    vigie.slack.slash_command("digest now", user_id=ADMIN_ID)
    time.sleep(1)
    settle(vigie)
    digest = [c for c in vigie.standin.calls("chat.postMessage", ok=True)
              if str(c.args.get("text", "")).startswith("Daily digest")][-1]
    shown = json.dumps(digest.args["blocks"], ensure_ascii=False)
    assert f"*{ZWSP}Bob*{ZWSP}" in shown  # among the top authors
    assert "*Bob*" not in shown
