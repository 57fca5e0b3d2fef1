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
    # A public channel the bot is not in is accepted: chat:write.public posts there. The
    # answer warns that the digest's charts need the bot in it (files need membership).
    created = admin(vigie, "watch add pub <#C07PUBLIC01|news> acme")
    assert "Watch *pub* created" in created
    assert "Vigie is not a member of <#C07PUBLIC01>" in created
    assert "`channels:join`" in created and "/invite @Vigie" in created
    moved = admin(vigie, "watch channel pub <#C07PUBLIC02|more>")
    assert "now alerts in <#C07PUBLIC02>" in moved and "not a member" not in moved
    vigie.standin.set_channel("C07PUBLIC03", is_member=False)
    moved = admin(vigie, "watch channel pub <#C07PUBLIC03|out>")
    assert "now alerts in <#C07PUBLIC03>" in moved
    assert "Vigie is not a member of <#C07PUBLIC03>" in moved
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
    # Nobody can be invited into an archived channel: unarchive it, or move the watch.
    assert "/invite" not in dms[0]["text"]
    assert "Unarchive it, or move the watch (`/cm watch channel arch #channel`)" in \
        dms[0]["text"]
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
    flagged = str(listing["blocks"])
    assert "alerts cannot reach <#C07ARCHIVE1> since" in flagged
    assert "Unarchive it, or move the watch (`/cm watch channel arch #channel`)" in flagged
    assert "invite" not in flagged
    listed = run_vigie(tmp_path, "watch", "list",
                       VIGIE_DATABASE_URL=vigie.runtime.settings.database_url)
    assert listed.returncode == 0, listed.stderr
    assert "alerts cannot reach C07ARCHIVE1 since" in listed.stdout
    assert "(is_archived). Unarchive it, or move the watch (/cm watch channel arch" \
        in listed.stdout

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
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
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


def _cards_in(vigie: VigieApp, channel: str) -> list[str]:
    """The cards (not thread replies) posted in ``channel``, by their first words."""
    return [m["text"].split(":")[0] for m in vigie.standin.messages_in(channel)
            if m.get("thread_ts", m["ts"]) == m["ts"]]


def test_a_watch_moves_out_of_its_archived_channel_with_its_refused_alerts(
        vigie: VigieApp) -> None:
    assert "created" in admin(vigie, "watch add arch <#C07ARCHIVE1|old> threshold:0 acme")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook arch"))
    push(vigie, source_id, secret, "a-1")
    vigie.runtime.outbox.flush(wait=True, limit=100)
    vigie.standin.set_channel("C07ARCHIVE1", is_archived=True)
    push(vigie, source_id, secret, "a-2", "a-3")
    vigie.runtime.outbox.flush(wait=True, limit=100)
    assert _cards_in(vigie, "C07ARCHIVE1") == ["Mention #1 on Webhook by u-a-1"]

    vigie.standin.set_channel("C07NEWPRIV1", is_private=True, is_member=False)
    refused = admin(vigie, "watch channel arch <#C07NEWPRIV1|secret>")
    assert "cannot post in <#C07NEWPRIV1>" in refused  # checked as `watch add` checks
    viewer = vigie.slack.command_answer("watch channel arch <#C07NEW0001|new>")
    assert "admin" in viewer["text"].lower() and "now alerts" not in viewer["text"]

    moved = admin(vigie, "watch channel arch <#C07NEW0001|new>")
    assert "Watch *arch* now alerts in <#C07NEW0001> (it was <#C07ARCHIVE1>)" in moved
    assert "that go to <#C07NEW0001> now: 2" in moved
    vigie.runtime.outbox.flush(wait=True, limit=100)
    assert _cards_in(vigie, "C07NEW0001") == [
        "Mention #2 on Webhook by u-a-2", "Mention #3 on Webhook by u-a-3"]
    # The card posted before the archive stays where it is; new alerts go to the new one.
    push(vigie, source_id, secret, "a-4")
    vigie.runtime.outbox.flush(wait=True, limit=100)
    assert _cards_in(vigie, "C07ARCHIVE1") == ["Mention #1 on Webhook by u-a-1"]
    assert _cards_in(vigie, "C07NEW0001")[-1] == "Mention #4 on Webhook by u-a-4"
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
    assert "cannot reach" not in str(listing["blocks"])
    assert "<#C07NEW0001>" in str(listing["blocks"])
    assert "No watch called" not in admin(vigie, "watch channel arch <#C07NEW0001|new>")
    assert "already alerts in <#C07NEW0001>" in admin(vigie,
                                                     "watch channel arch <#C07NEW0001|new>")


def test_cli_moves_a_watch_and_the_advice_follows_slacks_reason(
        vigie: VigieApp, tmp_path: Path) -> None:
    assert "created" in admin(vigie, "watch add gone <#C07GONE0001|gone> threshold:0 acme")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook gone"))
    vigie.standin.remove_channel("C07GONE0001")
    push(vigie, source_id, secret, "g-1")
    vigie.runtime.outbox.flush(wait=True, limit=100)
    vigie.runtime.outbox.flush(wait=True, limit=100)  # the admins' DM, queued by the refusal
    dms = vigie.standin.messages_in(ADMIN_ID)
    assert len(dms) == 1 and "channel_not_found" in dms[0]["text"], dms
    assert ("If it is a private channel, invite the bot there (`/invite @Vigie` in that "
            "channel); if it was deleted or its id changed, move the watch "
            "(`/cm watch channel gone #channel`)") in dms[0]["text"]

    database = {"VIGIE_DATABASE_URL": vigie.runtime.settings.database_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": vigie.standin.base_url}
    vigie.standin.set_channel("C07ARCHIVE1", is_archived=True)
    refused = run_vigie(tmp_path, "watch", "channel", "gone", "C07ARCHIVE1", **database)
    assert refused.returncode == 2 and "C07ARCHIVE1 is archived" in refused.stderr
    moved = run_vigie(tmp_path, "watch", "channel", "gone", "C07HERE0001", **database)
    assert moved.returncode == 0, moved.stderr
    assert "Watch gone now alerts in C07HERE0001 (it was C07GONE0001)" in moved.stdout
    assert "that go to C07HERE0001 now: 1" in moved.stdout
    vigie.runtime.outbox.flush(wait=True, limit=100)
    assert _cards_in(vigie, "C07HERE0001") == ["Mention #1 on Webhook by u-g-1"]


def test_a_refused_route_channel_is_advised_as_a_route(vigie: VigieApp) -> None:
    assert "created" in admin(vigie, "watch add rt <#C07OWN0001|own> threshold:0 acme")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook rt"))
    assert "outage" in admin(vigie, "watch route rt topic:outage <#C07ROUTE01|bugs>")
    vigie.standin.set_channel("C07ROUTE01", is_archived=True)
    push(vigie, source_id, secret, "r-1")  # "acme is down!": an outage
    vigie.runtime.outbox.flush(wait=True, limit=100)
    vigie.runtime.outbox.flush(wait=True, limit=100)

    advice = ("Unarchive it, or route the topic elsewhere (`/cm watch route rt topic:outage "
              "#channel`) or stop routing it (`/cm watch unroute rt topic:outage`)")
    dms = vigie.standin.messages_in(ADMIN_ID)
    assert len(dms) == 1 and advice in dms[0]["text"], dms
    notes = [m["text"] for m in vigie.standin.messages_in("C07OWN0001")
             if m.get("thread_ts", m["ts"]) != m["ts"]]
    assert any("Posted here instead of <#C07ROUTE01>" in n and advice in n for n in notes), notes
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
    assert advice in str(listing["blocks"])
