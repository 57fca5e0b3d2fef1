"""A watch's alerts must reach Slack, or someone must be told: the channel is checked with
Slack when the watch is created, and a channel Slack refuses later is reported to admins
and flagged in the watch list."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.bot.test_cli import vigie as run_vigie
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_listening import admin
from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_from_answer, webhook_headers


def push(vigie: VigieApp, source_id: int, secret: str, *ids: str) -> None:
    """Post one mention per id to the webhook source."""
    body = json.dumps([{"id": i, "url": f"https://x.example/{i}", "text": "acme is down!",
                        "author": {"handle": f"u-{i}"}, "published_at": "2026-11-20T10:00:00Z"}
                       for i in ids]).encode()
    answer = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert answer.status_code == 200 and answer.json()["stored"] == len(ids)


def test_watch_add_refuses_a_channel_vigie_cannot_post_in(vigie: VigieApp) -> None:
    vigie.standin.set_channel("C07PRIVATE1", is_private=True, is_member=False)
    vigie.standin.set_channel("C07ARCHIVE1", is_archived=True)
    vigie.standin.set_channel("C07PUBLIC01", is_member=False)

    private = admin(vigie, "watch add priv <#C07PRIVATE1|secret> threshold:0 acme")
    assert "cannot post in <#C07PRIVATE1>" in private and "/invite @Vigie" in private
    archived = admin(vigie, "watch add arch <#C07ARCHIVE1|old> threshold:0 acme")
    assert "<#C07ARCHIVE1> is archived" in archived and "another channel" in archived
    assert "No watches yet" in admin(vigie, "watch list")
    # A public channel the bot is not in is fine: chat:write.public posts there.
    assert "Watch *pub* created" in admin(vigie, "watch add pub <#C07PUBLIC01|news> acme")
    refused = admin(vigie, "watch route pub topic:outage <#C07PRIVATE1|secret>")
    assert "cannot post in <#C07PRIVATE1>" in refused
    assert "No topic routes" in admin(vigie, "watch routes")




def test_a_slow_channel_check_does_not_hold_the_command(vigie: VigieApp) -> None:
    vigie.standin.delay("conversations.info", 4)
    started = time.monotonic()
    created = admin(vigie, "watch add slow <#C07SLOW001|slow> acme")
    assert time.monotonic() - started < 3  # Slack's acknowledgement deadline
    assert "Watch *slow* created" in created  # a check that could not tell refuses nothing

def test_a_channel_archived_after_the_watch_is_reported_and_flagged(vigie: VigieApp,
                                                                   tmp_path: Path) -> None:
    assert "created" in admin(vigie, "watch add arch <#C07ARCHIVE1|old> threshold:0 acme")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook arch"))
    vigie.standin.set_channel("C07ARCHIVE1", is_archived=True)

    push(vigie, source_id, secret, "a-1", "a-2")
    vigie.runtime.outbox.flush(wait=True, limit=100)
    push(vigie, source_id, secret, "a-3")
    vigie.runtime.outbox.flush(wait=True, limit=100)

    assert vigie.standin.messages_in("C07ARCHIVE1") == []
    dms = vigie.standin.messages_in(ADMIN_ID)
    assert len(dms) == 1, dms  # once per channel per day, not once per lost card
    assert "cannot post in <#C07ARCHIVE1>" in dms[0]["text"]
    assert "is_archived" in dms[0]["text"] and "arch" in dms[0]["text"]
    assert "/invite @Vigie" in dms[0]["text"]
    listing = vigie.slack.slash_command("watch list", user_id=ADMIN_ID).json()
    flagged = str(listing["blocks"])
    assert "alerts cannot reach <#C07ARCHIVE1> since" in flagged
    assert "invite the bot" in flagged
    listed = run_vigie(tmp_path, "watch", "list",
                       VIGIE_DATABASE_URL=vigie.runtime.settings.database_url)
    assert listed.returncode == 0, listed.stderr
    assert "alerts cannot reach C07ARCHIVE1 since" in listed.stdout
    assert "(is_archived): invite the bot" in listed.stdout

    # Fixed in Slack: the kept cards go out on `vigie outbox retry --all-failed`.
    vigie.standin.set_channel("C07ARCHIVE1", is_archived=False)
    retried = run_vigie(tmp_path, "outbox", "retry", "--all-failed",
                        VIGIE_DATABASE_URL=vigie.runtime.settings.database_url)
    assert retried.returncode == 0, retried.stderr
    vigie.runtime.outbox.flush(wait=True, limit=100)
    cards = [m for m in vigie.standin.messages_in("C07ARCHIVE1")
             if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert [card["text"].split(":")[0] for card in cards] == [
        "Mention #1 on Webhook by u-a-1", "Mention #2 on Webhook by u-a-2",
        "Mention #3 on Webhook by u-a-3"]
    listing = vigie.slack.slash_command("watch list", user_id=ADMIN_ID).json()
    assert "cannot reach" not in str(listing["blocks"])


def test_cli_watch_add_checks_the_channel_only_with_slack(tmp_path: Path,
                                                          slack_standin: SlackStandIn) -> None:
    slack_standin.set_channel("C07PRIVATE1", is_private=True, is_member=False)
    slack = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack_standin.base_url}
    assert run_vigie(tmp_path, "db", "upgrade").returncode == 0
    refused = run_vigie(tmp_path, "watch", "add", "priv", "--query", "acme",
                    "--channel", "C07PRIVATE1", **slack)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "cannot post in C07PRIVATE1" in refused.stderr
    assert "/invite @Vigie" in refused.stderr
    # In console mode (no Slack token) there is no Slack to ask.
    added = run_vigie(tmp_path, "watch", "add", "priv", "--query", "acme",
                  "--channel", "C07PRIVATE1")
    assert added.returncode == 0, added.stderr
    # Moving the demo watch there is refused the same way.
    slack_standin.set_channel("C07ARCHIVE1", is_archived=True)
    moved = run_vigie(tmp_path, "demo", "--channel", "C07ARCHIVE1", **slack)
    assert moved.returncode == 2 and "C07ARCHIVE1 is archived" in moved.stderr, moved.stderr
