"""Forgetting an author everywhere, and retention with daily aggregates."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.services.privacy import purge_older_than
from storage.db import transaction
from storage.models import AuditEvent, Author, Mention
from storage.models_privacy import Forgotten
from storage.models_reporting import MentionHourCount
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import card, seed, settle
from tests.harness.constants import CHANNEL_ID


def test_forget_deletes_everything_and_redacts_the_cards(vigie: VigieApp) -> None:
    mention_id = seed(vigie, handle="@ana@mastodon.social")
    other = seed(vigie, text="Another person entirely", handle="@bob@mastodon.social")
    vigie.slack.slash_command(f"draft {mention_id} Sorry Ana!")
    ts = card(vigie, mention_id)["ts"]
    denied = vigie.slack.slash_command("forget @ana@mastodon.social").json()
    assert "You need the *admin* role" in denied["text"]
    done = vigie.slack.slash_command("forget @ana@mastodon.social", user_id=ADMIN_ID).json()
    assert "1 author record(s) and 1 mention(s) deleted" in done["text"]
    settle(vigie)
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
    again = vigie.slack.slash_command("forget @ana@mastodon.social", user_id=ADMIN_ID).json()
    # Nothing of theirs is stored now: the request still holds, and says so.
    assert "Nothing by `ana@mastodon.social` is stored in this workspace yet" in again["text"]
    assert "Their future posts will not be kept" in again["text"]
    undone = vigie.slack.slash_command("forget undo @ana@mastodon.social",
                                       user_id=ADMIN_ID).json()
    assert "`ana@mastodon.social` is no longer forgotten" in undone["text"]
    nothing = vigie.slack.slash_command("forget undo @ana@mastodon.social",
                                        user_id=ADMIN_ID).json()
    assert "is not forgotten in this workspace" in nothing["text"]
    with vigie.runtime.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("privacy.%")).order_by(AuditEvent.id)).all()
    assert list(actions) == ["privacy.forget", "privacy.forget", "privacy.unforget"]


def test_forget_answers_with_the_name_not_the_network_prefix(vigie: VigieApp) -> None:
    # The answer echoed "/u/reddit_bob" lowered, and its undo hint "@/u/reddit_bob"; a
    # Hacker News name lost its case, which tells two people apart there.
    done = vigie.slack.slash_command("forget /u/Reddit_Bob", user_id=ADMIN_ID).json()
    assert "Nothing by `Reddit_Bob` is stored" in done["text"]
    assert "`/cm forget undo @Reddit_Bob`" in done["text"]
    undone = vigie.slack.slash_command("forget undo u/reddit_bob", user_id=ADMIN_ID).json()
    assert "`reddit_bob` is no longer forgotten" in undone["text"]


def test_retention_keeps_daily_aggregates(vigie: VigieApp) -> None:
    old = seed(vigie, text="an old complaint about the app", handle="@old")
    recent = seed(vigie, text="a fresh complaint", handle="@new")
    long_ago = datetime.now(UTC) - timedelta(days=120)
    with transaction(vigie.runtime.sessions) as session:
        mention = session.get(Mention, old)
        assert mention is not None
        mention.created_at = long_ago
    assert purge_older_than(vigie.runtime.sessions, 90, datetime.now(UTC)) == 1
    assert purge_older_than(vigie.runtime.sessions, 90, datetime.now(UTC)) == 0
    with vigie.runtime.sessions() as session:
        assert session.get(Mention, old) is None and session.get(Mention, recent) is not None
        # The hourly counts the reports read still count the purged mention, and no
        # emptied row is left.
        counts = session.scalars(select(MentionHourCount)).all()
        assert sum(c.mentions for c in counts) == 2
        assert all(c.mentions > 0 for c in counts)
