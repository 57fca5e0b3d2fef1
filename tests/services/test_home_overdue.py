"""App Home's "overdue" list applies the SLA rule of bot.services.sla, the one the SLA checks
and the card's due time use: counted from when Vigie received the mention (not from the
post's published time: a post found late is not overdue on arrival), never for a mention
only a competitor's watch holds, and from the restart of a reopened case. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.home import home_summary
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.queries import Scope
from bot.services.reporting.schedule import DigestChannel
from bot.services.sla import do_set_hours, due_at
from bot.services.watch_links import do_record_card
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from storage.models_cases import Case, QuietMention
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID, USER_ID

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
VEILLE = "C07VEILLE1"


def _item(external_id: str, text: str, published: datetime) -> FetchedMention:
    return FetchedMention(network="mastodon", external_id=external_id,
                          url=f"https://masto.example/@u{external_id}/{external_id}", text=text,
                          author=FetchedAuthor(handle=f"user{external_id}", followers=120),
                          published_at=published)


def _poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
          items: list[FetchedMention]) -> None:
    """Ingest ``items``; the cards they raised go out, recorded as the outbox records them."""
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, name), None, items, now=NOW)
    with transaction(sessions) as session:
        for message in session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == KIND_CARD, OutboxMessage.sent_at.is_(None))):
            assert message.mention_id is not None
            do_record_card(session, session.get_one(Mention, message.mention_id),
                           message.channel, f"1.{message.id:06d}")
            message.sent_at = NOW


def _ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {m.external_id: m.id for m in session.query(Mention)}


def _overdue(sessions: sessionmaker[Session], workspace_id: int, now: datetime) -> set[int]:
    return {item.id for item in home_summary(sessions, workspace_id, USER_ID, now).overdue}


def test_home_overdue_follows_the_sla_rule(sessions: sessionmaker[Session],
                                           workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="rivalo", query="rivalo", channel_id=VEILLE,
                 alert_threshold=0, kind="competitor")
    # Published 30 h before Vigie found it (inside the 48 h backfill window): its 24 h target
    # would have run out 6 h before it was found, had it counted from publication.
    _poll(sessions, workspace_id, "acme",
          [_item("1", "acme support never answered my refund request", NOW - timedelta(hours=30)),
           _item("2", "acme app keeps logging me out", NOW - timedelta(minutes=10))])
    _poll(sessions, workspace_id, "rivalo",
          [_item("3", "rivalo support is the worst, still no refund", NOW - timedelta(hours=30))])
    ids = _ids(sessions)
    with sessions() as session:
        late = session.get(Mention, ids["1"])
        assert late is not None and due_at(session, late) is not None
        competitor = session.get(Mention, ids["3"])
        assert competitor is not None and due_at(session, competitor) is None

    assert _overdue(sessions, workspace_id, NOW + timedelta(minutes=1)) == set()
    with sessions() as session:
        assert due_at(session, session.get_one(Mention, ids["1"])) == due_at(
            session, session.get_one(Mention, ids["2"]))
    # A day after they were found both are late; the competitor's never is.
    assert _overdue(sessions, workspace_id, NOW + timedelta(days=1, minutes=1)) == {
        ids["1"], ids["2"]}

    # A reopened case's wait restarts when the customer wrote again.
    with transaction(sessions) as session:
        case = session.query(Case).filter_by(root_mention_id=ids["1"]).one_or_none()
        if case is None:
            case = Case(workspace_id=workspace_id, network="mastodon", thread_key="t1",
                        customer="user1", root_mention_id=ids["1"])
            session.add(case)
        case.state, case.sla_started_at, case.reopened = "open", NOW, 1
    assert _overdue(sessions, workspace_id, NOW + timedelta(hours=1)) == set()
    with transaction(sessions) as session:
        session.execute(update(Case).where(Case.root_mention_id == ids["1"])
                        .values(sla_started_at=NOW - timedelta(days=2)))
    assert _overdue(sessions, workspace_id, NOW + timedelta(hours=1)) == {ids["1"]}


def test_an_overdue_mention_behind_many_older_open_ones_is_listed(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The SLA filters run in SQL: 600 older open mentions with no SLA (a competitor's,
    backfilled ones) do not hide a later overdue one, and the list stays in priority
    order."""
    acme = do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                        channel_id=CHANNEL_ID, alert_threshold=0)
    rivalo = do_add_watch(sessions, workspace_id, CLI, name="rivalo", query="rivalo",
                          channel_id=VEILLE, alert_threshold=0, kind="competitor")
    old = NOW - timedelta(days=20)
    with transaction(sessions) as session:
        for n in range(600):
            session.add(Mention(
                workspace_id=workspace_id, watch_id=rivalo.id if n % 2 else acme.id,
                network="mastodon", external_id=f"old{n}", url=f"https://masto.example/{n}",
                text="rivalo is down", published_at=old + timedelta(seconds=n), priority=90,
                status="new", created_at=old, updated_at=old))
        session.flush()
        backfilled = [m.id for m in session.query(Mention).filter(Mention.watch_id == acme.id)]
        session.add_all([QuietMention(mention_id=i) for i in backfilled])
    _poll(sessions, workspace_id, "acme",
          [_item("1", "acme support never answered my refund request", NOW - timedelta(hours=30)),
           _item("2", "acme is great", NOW - timedelta(minutes=5))])
    ids = _ids(sessions)
    # A mention in the competitor's watch (whose link alerted) and the brand's (whose did
    # not) runs on the brand's target, as bot.services.sla says.
    with transaction(sessions) as session:
        # The refund request reached Vigie 30 h ago (its 24 h target ran out).
        session.get_one(Mention, ids["1"]).created_at = NOW - timedelta(hours=30)
        both = session.get_one(Mention, ids["old1"])
        both.alerted = True
        session.query(MentionWatch).filter_by(mention_id=both.id).update({"alerted": True})
        session.add(MentionWatch(workspace_id=workspace_id, mention_id=both.id,
                                 watch_id=acme.id, network=both.network,
                                 published_at=both.published_at, priority=50, alerted=False))
    overdue = home_summary(sessions, workspace_id, USER_ID, NOW + timedelta(minutes=1)).overdue
    # old1 (priority 90) before the refund request (lower).
    assert [item.id for item in overdue] == [ids["old1"], ids["1"]]
    assert overdue[0].priority > overdue[1].priority


def test_home_overdue_counts_the_late_ones_it_does_not_list(sessions: sessionmaker[Session],
                                                            workspace_id: int) -> None:
    """Fifteen mentions past their SLA: Home lists ten and knows of the five others."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    _poll(sessions, workspace_id, "acme",
          [_item(str(n), f"acme support never answered my refund request {n}",
                 NOW - timedelta(hours=30)) for n in range(15)])
    with transaction(sessions) as session:  # they reached Vigie 30 h ago: SLAs count from then
        session.execute(update(Mention).where(Mention.workspace_id == workspace_id)
                        .values(created_at=NOW - timedelta(hours=30)))
    summary = home_summary(sessions, workspace_id, USER_ID, NOW + timedelta(minutes=1))
    assert len(summary.overdue) == 10
    assert (summary.overdue_total, summary.overdue_counted_all) == (15, True)


def _digest_overdue(sessions: sessionmaker[Session], workspace_id: int, now: datetime) -> int:
    with sessions() as session:
        config = DigestChannel(workspace_id, CHANNEL_ID, now.time(), ZoneInfo("UTC"), False,
                               True, Scope(workspace_id), "en", None)
        return build_digest_report(session, config, end=now, now=now).overdue_count


def test_home_overdue_leaves_out_what_was_never_carded(sessions: sessionmaker[Session],
                                                       workspace_id: int) -> None:
    """A low-priority post below the alert threshold waits for the digest, never carded:
    nobody was shown it, so it is not late work on Home, as it is not in the digest's
    overdue count nor given SLA reminders; an alerted one is, and both counts agree."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    _poll(sessions, workspace_id, "acme",
          [_item("1", "acme support never answered my refund request", NOW)])
    with transaction(sessions) as session:
        get_watch_by_name(session, workspace_id, "acme").alert_threshold = 100
    _poll(sessions, workspace_id, "acme", [_item("2", "acme has a new logo", NOW)])
    ids = _ids(sessions)
    with sessions() as session:
        carded, below = session.get_one(Mention, ids["1"]), session.get_one(Mention, ids["2"])
        assert (carded.alerted, below.alerted, below.status) == (True, False, "new")
        assert due_at(session, below) is not None  # it has a target, just no card
    later = NOW + timedelta(days=2)
    summary = home_summary(sessions, workspace_id, USER_ID, later)
    assert {item.id for item in summary.overdue} == {ids["1"]}
    assert summary.overdue_total == 1 == _digest_overdue(sessions, workspace_id, later)


def test_home_open_work_is_the_digests(sessions: sessionmaker[Session],
                                       workspace_id: int) -> None:
    """Home's team counts are the digest's open work: an alerted post and one taken up count;
    a post below the alert threshold (it waited for the digest) and a competitor's post
    (never alerted) do not, though both are still "new"."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="rivalo", query="rivalo", channel_id=VEILLE,
                 alert_threshold=0, kind="competitor")
    _poll(sessions, workspace_id, "acme",
          [_item("1", "acme support never answered my refund request", NOW),
           _item("2", "acme app keeps logging me out", NOW)])
    _poll(sessions, workspace_id, "rivalo",
          [_item("3", "rivalo support is the worst, still no refund", NOW)])
    with transaction(sessions) as session:
        get_watch_by_name(session, workspace_id, "acme").alert_threshold = 100
    _poll(sessions, workspace_id, "acme", [_item("4", "acme has a new logo", NOW)])
    ids = _ids(sessions)
    with transaction(sessions) as session:
        session.get_one(Mention, ids["2"]).status = "assigned"
        rows = {key: session.get_one(Mention, ids[key]) for key in ("3", "4")}
        assert [(m.alerted, m.status) for m in rows.values()] == [(False, "new")] * 2
    summary = home_summary(sessions, workspace_id, USER_ID, NOW)
    with sessions() as session:
        config = DigestChannel(workspace_id, CHANNEL_ID, NOW.time(), ZoneInfo("UTC"), False,
                               True, Scope(workspace_id), "en", None)
        digest = build_digest_report(session, config, end=NOW, now=NOW)
    assert summary.counts == {"new": 1, "assigned": 1} == digest.open_by_status


def test_the_digest_counts_overdue_in_business_hours_as_home_does(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Received on Friday at 17:00 in Paris with a 4-hour target and hours 09:00-18:00 on
    weekdays: one business hour goes by on Friday, three on Monday morning. On Saturday
    it is late on the clock only: neither Home nor the digest says overdue (nor do the
    card or the breach notice: ``due_times``); on Monday at 12:01 both do."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    _poll(sessions, workspace_id, "acme",
          [_item("1", "acme support never answered my refund request", NOW)])
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        session.execute(update(Mention).values(created_at=friday, published_at=friday))
        watch = get_watch_by_name(session, workspace_id, "acme")
        watch.sla_urgent_minutes = watch.sla_high_minutes = watch.sla_normal_minutes = 240
    do_set_hours(sessions, workspace_id, CLI, "09:00-18:00", "mon-fri", "Europe/Paris")
    (mention_id,) = _ids(sessions).values()

    def digest(now: datetime) -> tuple[int, list[int]]:
        with sessions() as session:
            config = DigestChannel(workspace_id, CHANNEL_ID, now.time(), ZoneInfo("UTC"),
                                   False, True, Scope(workspace_id), "en", None)
            report = build_digest_report(session, config, end=now, now=now)
        return report.overdue_count, [line.id for line in report.overdue]

    saturday = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # the 09:00 digest in Paris
    assert _overdue(sessions, workspace_id, saturday) == set()
    assert digest(saturday) == (0, [])
    monday = datetime(2026, 11, 23, 11, 1, tzinfo=UTC)
    assert _overdue(sessions, workspace_id, monday) == {mention_id}
    assert digest(monday) == (1, [mention_id])
