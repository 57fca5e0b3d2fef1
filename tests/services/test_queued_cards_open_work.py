"""A mention whose card is still queued in the outbox (a backlog, a stretch of 429s, a
paused workspace) is open work with an SLA from the moment its card is queued: the digest,
`/cm stats`, App Home and the SLA checks count it as they do once Slack took the card, and
the breach notice waits for the card's thread. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.home import home_summary
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD, KIND_POST, KIND_THREAD
from bot.services.reporting.digest import preview_digests
from bot.services.reporting.stats import get_stats
from bot.services.sla import run_sla_checks
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
SOCIAL = "C0SOCIAL01"
RECEIVED = NOW - timedelta(minutes=170)
COMPLAINTS = 20


def _complaint(n: int) -> FetchedMention:
    return FetchedMention(
        network="x", external_id=f"3{n:03d}", url=f"https://x.com/cust{n}/status/3{n:03d}",
        author=FetchedAuthor(handle=f"@cust{n}", followers=200),
        text=f"@acmecare my Acme Roadster order {5000 + n} arrived with a cracked frame, "
             "I want a refund",
        published_at=NOW - timedelta(minutes=200 - n))


def _setup(sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL)
    do_add_account(sessions, workspace_id, CLI, "x", "@acmecare")
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  [_complaint(n) for n in range(COMPLAINTS)], now=RECEIVED)


def _figures(sessions: sessionmaker[Session], workspace_id: int) -> dict[str, int]:
    (_config, digest), = preview_digests(sessions, workspace_id, now=NOW)
    home = home_summary(sessions, workspace_id, "U0NOBODY1", NOW)
    stats = get_stats(sessions, workspace_id, CLI, period="7d", now=NOW)
    return {"digest open": digest.open_total, "digest overdue": digest.overdue_count,
            "needed an answer": digest.responses.actionable,
            "home open": sum(home.counts.values()), "home overdue": home.overdue_total,
            "stats needed an answer": stats.responses.actionable}


def test_mentions_whose_card_is_queued_are_open_work_as_when_slack_took_it(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    _setup(sessions, workspace_id)
    with sessions() as session:
        queued = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD, OutboxMessage.status == "pending")).all()
        assert len(queued) == COMPLAINTS
        assert session.scalars(select(Mention.slack_ts)).all() == [None] * COMPLAINTS
    every = dict.fromkeys(("digest open", "digest overdue", "needed an answer", "home open",
                           "home overdue", "stats needed an answer"), COMPLAINTS)
    assert _figures(sessions, workspace_id) == every  # no card in Slack yet

    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    while sender.pending_count():
        sender.flush()
        clock.sleep(1)
    assert len(slack_standin.calls("chat.postMessage", ok=True)) == COMPLAINTS
    assert _figures(sessions, workspace_id) == every  # the same once Slack took them


def test_the_sla_checks_see_a_queued_card_and_put_the_breach_in_its_thread(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    _setup(sessions, workspace_id)
    assert run_sla_checks(sessions, NOW, "UTC") >= COMPLAINTS
    with sessions() as session:
        notes = session.execute(select(OutboxMessage.kind, OutboxMessage.channel).where(
            OutboxMessage.kind.in_((KIND_THREAD, KIND_POST)))).all()
    # One breach notice per mention, in its card's thread (the card is still queued).
    assert notes == [(KIND_THREAD, SOCIAL)] * COMPLAINTS

    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    while sender.pending_count():
        sender.flush()
        clock.sleep(1)
    posts = slack_standin.calls("chat.postMessage", ok=True)
    cards = {c.response["ts"] for c in posts if not c.args.get("thread_ts")}
    threaded = [c.args["thread_ts"] for c in posts if c.args.get("thread_ts")]
    assert len(cards) == COMPLAINTS and sorted(threaded) == sorted(cards)
