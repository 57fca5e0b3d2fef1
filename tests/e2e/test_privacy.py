"""Forgetting an author everywhere, and retention with daily aggregates."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from bot.messages.notes import Note, Text
from bot.messages.stored import spec_payload
from bot.services.outbox import KIND_THREAD, do_enqueue
from bot.services.privacy import purge_older_than
from storage.db import transaction
from storage.models import AuditEvent, Author, Mention, OutboxMessage, OutboxStatus
from storage.models_privacy import Forgotten
from storage.models_reporting import MentionHourCount
from storage.search_index import compaction_due
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_listening import admin
from tests.e2e.test_notifications import command, delivered, dms
from tests.e2e.test_workflow import card, grant, seed, settle
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers


def compaction_left(vigie: VigieApp) -> bool:
    """Whether a forget's words are still in SQLite's search index (never on PostgreSQL)."""
    with vigie.runtime.sessions() as session:
        return compaction_due(session)


def test_forget_deletes_everything_and_redacts_the_cards(vigie: VigieApp) -> None:
    mention_id = seed(vigie, handle="@ana@mastodon.social")
    other = seed(vigie, text="Another person entirely", handle="@bob@mastodon.social")
    vigie.slack.command_answer(f"draft {mention_id} Sorry Ana!")
    ts = card(vigie, mention_id)["ts"]
    denied = vigie.slack.command_answer("forget @ana@mastodon.social")
    assert "You need the *admin* role" in denied["text"]
    done = vigie.slack.command_answer("forget @ana@mastodon.social", user_id=ADMIN_ID)
    assert "1 author record(s) and 1 mention(s) deleted" in done["text"]
    settle(vigie)
    # Their words leave SQLite's search index after the answer, in the background.
    eventually(lambda: not compaction_left(vigie))
    redacted = vigie.standin.message(CHANNEL_ID, ts)
    assert "deleted at the author's request" in redacted["text"]
    assert "Ana" not in str(redacted["blocks"]) and "scam" not in str(redacted["blocks"])
    with vigie.runtime.sessions() as session:
        assert session.get(Mention, mention_id) is None
        assert session.get(Mention, other) is not None
        assert session.scalar(select(func.count()).select_from(Author).where(
            Author.handle == "@ana@mastodon.social")) == 0
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.forget")).one()
        # A keyed digest, the suppression's own: the plain hash anyone can compute from a
        # list of handles is not kept (it was).
        digest = event.detail["handle_digest"]
        assert digest == session.scalars(select(Forgotten.subject)).first()
        assert hashlib.sha256(b"ana@mastodon.social").hexdigest()[:16] not in str(
            event.detail)
        assert "ana" not in str(event.detail)
    assert "No source will store their posts again" in done["text"]
    assert "`/cm forget undo @ana@mastodon.social`" in done["text"]
    again = vigie.slack.command_answer("forget @ana@mastodon.social", user_id=ADMIN_ID)
    # Nothing of theirs is stored now: the request still holds, and says so.
    assert "Nothing by `ana@mastodon.social` is stored in this workspace yet" in again["text"]
    assert "Their future posts will not be kept" in again["text"]
    undone = vigie.slack.command_answer("forget undo @ana@mastodon.social",
                                        user_id=ADMIN_ID)
    assert "`ana@mastodon.social` is no longer forgotten" in undone["text"]
    nothing = vigie.slack.command_answer("forget undo @ana@mastodon.social",
                                         user_id=ADMIN_ID)
    assert "is not forgotten in this workspace" in nothing["text"]
    with vigie.runtime.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("privacy.%")).order_by(AuditEvent.id)).all()
    assert list(actions) == ["privacy.forget", "privacy.forget", "privacy.unforget"]


def test_forget_answers_with_the_name_not_the_network_prefix(vigie: VigieApp) -> None:
    # The answer echoed "/u/reddit_bob" lowered, and its undo hint "@/u/reddit_bob"; a
    # Hacker News name lost its case, which tells two people apart there.
    done = vigie.slack.command_answer("forget /u/Reddit_Bob", user_id=ADMIN_ID)
    assert "Nothing by `Reddit_Bob` is stored" in done["text"]
    assert "`/cm forget undo @Reddit_Bob`" in done["text"]
    undone = vigie.slack.command_answer("forget undo u/reddit_bob", user_id=ADMIN_ID)
    assert "`reddit_bob` is no longer forgotten" in undone["text"]


def _authors(vigie: VigieApp) -> list[str]:
    with vigie.runtime.sessions() as session:
        return sorted(session.scalars(select(Author.handle)))


def test_forget_reads_handles_as_typed_not_as_slack_escaped_them(vigie: VigieApp) -> None:
    # With should_escape on, Slack sends a typed @marie as a member mention when a member
    # has that name, a typed alice.bsky.social as a link, an email-like Mastodon handle as a
    # mailto: link. The escaped text was taken as the handle: nobody was found, nothing
    # deleted, and a suppression of that text (matching no one) was recorded while the
    # admin was told their posts would be kept out.
    for handle, network in [("alice.bsky.social", "bluesky"), ("@marie", "x"),
                            ("@ana@mastodon.social", "mastodon"),
                            ("@bob@mastodon.social", "mastodon")]:
        seed(vigie, text=f"a private story by {handle}", handle=handle, network=network)
    sent = ["<https://alice.bsky.social|alice.bsky.social>", "<@U07MARIE01|marie>",
            "<mailto:ana@mastodon.social|ana@mastodon.social>",
            "@<mailto:bob@mastodon.social|bob@mastodon.social>"]
    for text in sent:
        done = vigie.slack.command_answer(f"forget {text}", user_id=ADMIN_ID)
        assert "1 author record(s) and 1 mention(s) deleted" in done["text"], done["text"]
    assert _authors(vigie) == []
    undone = [vigie.slack.command_answer(f"forget undo {text}", user_id=ADMIN_ID)["text"]
              for text in sent]
    assert [answer.split("`")[1] for answer in undone] == [
        "alice.bsky.social", "marie", "ana@mastodon.social", "bob@mastodon.social"]
    assert all("is no longer forgotten" in answer for answer in undone)
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Forgotten)) == 0


def test_forget_refuses_slack_markup_it_cannot_read_as_a_handle(vigie: VigieApp) -> None:
    # A member mention without its name (<@U…>) names a Slack member, not an author: no
    # suppression of the markup is recorded, and the admin is told so.
    for command_text in ["forget <@U07MARIE01>", "forget undo <@U07MARIE01>",
                         "forget a|b"]:
        answer = vigie.slack.command_answer(command_text, user_id=ADMIN_ID)["text"]
        assert "is not a handle" in answer, answer
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Forgotten)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("privacy.%"))) == 0


def test_retention_keeps_daily_aggregates(vigie: VigieApp) -> None:
    old = seed(vigie, text="an old complaint about the app", handle="@old")
    recent = seed(vigie, text="a fresh complaint", handle="@new")
    long_ago = datetime.now(UTC) - timedelta(days=120)
    with transaction(vigie.runtime.sessions) as session:
        mention = session.get(Mention, old)
        assert mention is not None
        mention.created_at = long_ago
    assert purge_older_than(vigie.runtime.sessions, 90, datetime.now(UTC)).mentions == 1
    assert purge_older_than(vigie.runtime.sessions, 90, datetime.now(UTC)).mentions == 0
    with vigie.runtime.sessions() as session:
        assert session.get(Mention, old) is None and session.get(Mention, recent) is not None
        # The hourly counts the reports read still count the purged mention, and no
        # emptied row is left.
        counts = session.scalars(select(MentionHourCount)).all()
        assert sum(c.mentions for c in counts) == 2
        assert all(c.mentions > 0 for c in counts)


def _push(vigie: VigieApp, source: int, secret: str, items: list[dict[str, Any]]) -> None:
    body = json.dumps(items).encode()
    response = httpx.post(f"{vigie.url}/ingest/{source}", content=body,
                          headers=webhook_headers(secret, body))
    assert response.status_code < 300, response.text


def _post(external_id: str, text: str, handle: str, at: datetime,
          parent: str | None = None) -> dict[str, Any]:
    item = {"id": external_id, "url": f"https://forum.example/t/{external_id}", "text": text,
            "author": {"handle": handle}, "published_at": at.isoformat()}
    return {**item, "parent_id": parent} if parent else item


def test_forget_leaves_no_message_in_slack_or_queued_that_quotes_them(
        vigie: VigieApp) -> None:
    """A forget replaced their cards only: the follow-up note quoting them in the card's
    thread (their address here), the DMs naming them and excerpting their post (an
    assignment, an approval digest) stayed in Slack for ever, their outbox rows deleted
    with the mentions, and a note still queued went out after the forget."""
    bob = OTHER_USER_ID
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:10 acme")
    source, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    start = datetime.now(UTC) - timedelta(minutes=30)
    _push(vigie, source, secret, [
        _post("p1", "acme my order never arrived, scam", "janedoe", start),
        _post("k1", "acme support was great today, thanks", "kept_person", start),
        _post("p3", "acme support helped me too", "janedoe", start)])
    settle(vigie)
    _push(vigie, source, secret, [_post(
        "p2", "acme still nothing. My address is 12 Rue Secrete Paris, phone 0612345678",
        "janedoe", start + timedelta(minutes=5), parent="p1")])
    settle(vigie)
    with transaction(vigie.runtime.sessions) as session:
        first, kept, told = (
            session.scalar(select(Mention.id).where(Mention.external_id == key))
            for key in ("p1", "k1", "p3"))
        # Their post tells the same story as someone else's: that card names them.
        session.execute(update(Mention).where(Mention.id == told).values(story_id=kept))
    # Bob is assigned their case (a DM excerpting it, his App Home lists it) and the other
    # post (its card is rendered again, naming its story), and approves drafts (a digest).
    grant(vigie, bob, "approver")
    command(vigie, f"assign {first} <@{bob}|bob>", ADMIN_ID)
    command(vigie, f"assign {kept} <@{bob}|bob>", ADMIN_ID)
    assert "saved" in command(vigie, f"draft {first} Sorry, we are on it.", ADMIN_ID)
    eventually(lambda: delivered(vigie) or len(dms(vigie, bob)) >= 2)
    # A note quoting them waits for a retry (Slack asked Vigie to slow down).
    with transaction(vigie.runtime.sessions) as session:
        ts = session.scalar(select(Mention.slack_ts).where(Mention.id == kept))
        workspace_id = session.scalar(select(Mention.workspace_id).where(Mention.id == kept))
        assert workspace_id is not None
        note = Note.of("en", "cases.note_follow_up", id=first, author=Text("janedoe", 80),
                       text=Text("acme my order never arrived, scam", 500))
        row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD,
                         channel=CHANNEL_ID, payload={**spec_payload(note), "thread_ts": ts})
        assert row is not None
        row.next_attempt_at = datetime.now(UTC) + timedelta(hours=1)
    words = ("janedoe", "Rue Secrete", "never arrived")

    def quoting(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [m for m in messages if any(w.lower() in json.dumps(m).lower() for w in words)]

    channels = (CHANNEL_ID, bob, ADMIN_ID)
    before = [m for channel in channels for m in quoting(vigie.standin.messages_in(channel))]
    assert any(m.get("thread_ts") and "Rue Secrete" in json.dumps(m) for m in before)
    assert quoting(dms(vigie, bob)), "the assignment and digest DMs name them"
    eventually(lambda: delivered(vigie) or "janedoe" in json.dumps(card(vigie, kept)))
    eventually(lambda: delivered(vigie) or bool(quoting([vigie.standin.home_view(bob) or {}])))

    assert "1 author record(s)" in admin(vigie, "forget @janedoe")
    with transaction(vigie.runtime.sessions) as session:
        for waiting in session.scalars(select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.PENDING.value)):
            waiting.next_attempt_at = datetime.now(UTC)  # the retries are due
    eventually(lambda: delivered(vigie) or vigie.runtime.outbox.pending_count() == 0)
    for channel in channels:
        assert quoting(vigie.standin.messages_in(channel)) == [], channel
    eventually(lambda: delivered(vigie) or not quoting([vigie.standin.home_view(bob) or {}]))
    with vigie.runtime.sessions() as session:
        stored = [(row.kind, row.status, row.payload) for row in session.scalars(
            select(OutboxMessage))]
    assert [row for row in stored if any(w.lower() in json.dumps(row).lower()
                                         for w in words)] == []
    # Nothing else was touched: the other person's card still shows their post.
    assert "support was great" in json.dumps(card(vigie, kept))
