"""SLA deadlines in business hours (with a DST change) and notices sent exactly once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services import workflow
from bot.services.actors import CLI, Actor
from bot.services.errors import ServiceError
from bot.services.home import home_summary
from bot.services.outbox import KIND_POST, KIND_THREAD
from bot.services.sla import (
    LONGEST_WALK,
    LOOKBACK,
    BusinessHours,
    add_business_time,
    check_candidates,
    do_set_hours,
    do_set_targets,
    due_at,
    longest_span,
    most_minutes,
    parse_days,
    run_sla_checks,
)
from storage.db import transaction
from storage.models import Member, Mention, OutboxMessage, Watch, Workspace
from storage.models_cases import Case
from storage.models_sla import SlaNotice

PARIS = BusinessHours("Europe/Paris", time(9), time(18), parse_days("mon-fri"))


def test_around_the_clock() -> None:
    start = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert add_business_time(start, 60, BusinessHours()) == start + timedelta(hours=1)


def test_business_hours_skip_nights_and_weekends() -> None:
    friday_5pm = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 17:00 in Paris
    due = add_business_time(friday_5pm, 240, PARIS)  # 1 h Friday, 3 h Monday
    assert due == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 12:00 Paris


def test_dst_change_is_counted_in_local_hours() -> None:
    # Paris leaves summer time on Sunday 2026-10-25: Friday 17:00 CEST is 15:00 UTC,
    # Monday 11:00 CET is 10:00 UTC.
    friday = datetime(2026, 10, 23, 15, 0, tzinfo=UTC)
    assert add_business_time(friday, 180, PARIS) == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("start", "due"), [
    # Saturday 28 March 12:00 CET: 11 h 59 min that day, the other 8 h 01 min from
    # midnight CET (23:00 UTC) on the 23-hour Sunday: 07:01 UTC (09:01 CEST), not 08:01
    # on the wall clock (06:01 UTC, 19 hours of target).
    (datetime(2026, 3, 28, 11, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 1, tzinfo=UTC)),
    # Saturday 24 October 12:00 CEST, then the 25-hour Sunday from midnight CEST (22:00
    # UTC): 06:01 UTC (07:01 CET), not 08:01 on the wall clock (21 hours of target).
    (datetime(2026, 10, 24, 10, 0, tzinfo=UTC), datetime(2026, 10, 25, 6, 1, tzinfo=UTC)),
])
def test_business_time_is_real_time_on_clock_change_days(start: datetime,
                                                         due: datetime) -> None:
    all_day = BusinessHours("Europe/Paris", time(0), time(23, 59), parse_days("mon-sun"))
    assert add_business_time(start, 20 * 60, all_day) == due


def test_night_start_counts_from_opening() -> None:
    tuesday_3am = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert add_business_time(tuesday_3am, 60, PARIS) == datetime(2026, 11, 24, 9, 0,
                                                                tzinfo=UTC)


@pytest.mark.parametrize("days", ["", "mon-funday", "x"])
def test_bad_days(days: str) -> None:
    with pytest.raises(ServiceError):
        parse_days(days)


def test_bad_hours_and_zone(sessions: sessionmaker[Session], workspace_id: int) -> None:
    for hours, zone in (("18:00-09:00", "UTC"), ("9h-18h", "UTC"), ("09:00-18:00", "Mars")):
        with pytest.raises(ServiceError):
            do_set_hours(sessions, workspace_id, CLI, hours, "mon-fri", zone)


def test_targets_keep_urgent_no_longer_than_high_no_longer_than_normal(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    def targets() -> tuple[int, int, int]:
        with sessions() as session:
            watch = session.scalars(select(Watch).where(Watch.name == watch_name)).one()
            return watch.sla_urgent_minutes, watch.sla_high_minutes, watch.sla_normal_minutes

    def refused(values: dict[str, int], language: str = "en") -> str:
        with pytest.raises(ServiceError) as err:
            do_set_targets(sessions, workspace_id, CLI, watch_name, values)
        return err.value.message(language)

    assert targets() == (60, 240, 1440)
    assert refused({"urgent": 600, "high": 30, "normal": 5}) == (
        "Nothing was changed: `urgent=600` would be longer than `high=30`. A more urgent"
        " level needs a target no longer than a less urgent one's (urgent ≤ high ≤ normal,"
        f" in minutes); watch *{watch_name}* would get urgent 600 min · high 30 min ·"
        " normal 5 min.")
    assert refused({"high": 300, "normal": 200}).startswith(
        "Nothing was changed: `high=300` would be longer than `normal=200`.")
    # Levels not given keep their stored targets, and the answer says which ones those are.
    assert refused({"urgent": 300}).startswith(
        "Nothing was changed: `urgent=300` would be longer than the current `high=` target"
        " (240 min).")
    assert refused({"normal": 100}).startswith(
        "Nothing was changed: the current `high=` target (240 min) would be longer than"
        " `normal=100`.")
    assert refused({"normal": 100}, "fr").startswith(
        "Rien n'a été changé : l'objectif actuel `high=` (240 min) serait plus long que"
        " `normal=100`.")
    assert targets() == (60, 240, 1440)
    # Equal targets are in order; a level given alone is checked against the others.
    do_set_targets(sessions, workspace_id, CLI, watch_name,
                   {"urgent": 30, "high": 30, "normal": 30})
    do_set_targets(sessions, workspace_id, CLI, watch_name, {"normal": 600})
    assert targets() == (30, 30, 600)


def an_assigned_urgent_mention(sessions: sessionmaker[Session], workspace_id: int,
                               received: datetime) -> None:
    """Watch "acme" with an urgent target of 60 minutes and an approver, and an urgent
    mention received then, alerted in C0ACME123 and assigned to U0AGENT01."""
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123",
                      sla_urgent_minutes=60)
        session.add(watch)
        session.add(Member(workspace_id=workspace_id, user_id="U0APPROVER", role="approver"))
        session.flush()
        session.add(Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                            external_id="1", url="https://x.com/a/status/1", text="help!",
                            published_at=received, created_at=received, priority=90,
                            assignee_user_id="U0AGENT01", status="assigned", alerted=True,
                            slack_channel="C0ACME123", slack_ts="1.1"))


def test_reminder_breach_and_escalation_are_sent_once(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    created = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    an_assigned_urgent_mention(sessions, workspace_id, created)
    assert run_sla_checks(sessions, created + timedelta(minutes=30), "UTC") == 0
    assert run_sla_checks(sessions, created + timedelta(minutes=46), "UTC") == 1  # 75 %
    assert run_sla_checks(sessions, created + timedelta(minutes=50), "UTC") == 0
    assert run_sla_checks(sessions, created + timedelta(minutes=61), "UTC") == 2  # breach+esc
    assert run_sla_checks(sessions, created + timedelta(minutes=90), "UTC") == 0
    with sessions() as session:
        rows = session.execute(select(OutboxMessage.kind, OutboxMessage.channel)
                               .order_by(OutboxMessage.id)).all()
    assert [tuple(r) for r in rows] == [(KIND_POST, "U0AGENT01"), (KIND_THREAD, "C0ACME123"),
                                        (KIND_POST, "U0APPROVER")]


def _reminders(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.channel).where(
            OutboxMessage.kind == KIND_POST).order_by(OutboxMessage.id)))


def test_a_new_assignee_gets_the_reminder_too(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    # Reported: the 75 % reminder was kept once per mention, so after Alice had hers and
    # the mention went to Bob, Bob never got one; a /cm reopen did not reset it either.
    created = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    alice, bob = Actor("U0ALICE01", "slash_command"), Actor("U0BOBBY01", "slash_command")
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123",
                      sla_normal_minutes=600)
        session.add(watch)
        session.add_all(Member(workspace_id=workspace_id, user_id=user, role="agent")
                        for user in ("U0ALICE01", "U0BOBBY01"))
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, network="rss",
                          external_id="1", url="https://blog.example/1", text="help!",
                          published_at=created, created_at=created, priority=10,
                          assignee_user_id="U0ALICE01", status="assigned", alerted=True,
                          slack_channel="C0ACME123", slack_ts="1.1")
        session.add(mention)
        session.flush()
        mention_id = mention.id
    at = created + timedelta(minutes=460)  # past 75 % of 600, before the breach
    assert run_sla_checks(sessions, at, "UTC") == 1
    assert _reminders(sessions) == ["U0ALICE01"]
    workflow.do_assign(sessions, workspace_id, alice, mention_id, "U0BOBBY01")
    assert run_sla_checks(sessions, at + timedelta(minutes=1), "UTC") == 1
    assert run_sla_checks(sessions, at + timedelta(minutes=2), "UTC") == 0
    assert _reminders(sessions) == ["U0ALICE01", "U0BOBBY01"]
    # Given to the same person again: no new reminder.
    workflow.do_assign(sessions, workspace_id, bob, mention_id, "U0BOBBY01")
    assert run_sla_checks(sessions, at + timedelta(minutes=3), "UTC") == 0
    # Marked replied by mistake and reopened before the deadline: the reminder comes back.
    workflow.do_mark_replied(sessions, workspace_id, bob, mention_id)
    workflow.do_simple(sessions, workspace_id, bob, mention_id, "reopen")
    assert run_sla_checks(sessions, at + timedelta(minutes=4), "UTC") == 1
    assert _reminders(sessions) == ["U0ALICE01", "U0BOBBY01", "U0BOBBY01"]


def test_a_post_found_late_gets_its_whole_sla_from_when_vigie_received_it(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """An RSS entry Vigie found 5 hours after it was published: its 60 min urgent target
    runs from when Vigie received it (the team could not act before), not from the post's
    date; the reminder, the breach notice, the escalation and the card's due time agree."""
    received = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123",
                      sla_urgent_minutes=60)
        session.add(watch)
        session.add(Member(workspace_id=workspace_id, user_id="U0APPROVER", role="approver"))
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, network="rss",
                          external_id="late", url="https://blog.example/acme-outage",
                          text="acme is down again", published_at=received - timedelta(hours=5),
                          created_at=received, priority=90, assignee_user_id="U0AGENT01",
                          status="assigned", alerted=True, slack_channel="C0ACME123",
                          slack_ts="1.1")
        session.add(mention)
        session.flush()
        assert due_at(session, mention) == received + timedelta(minutes=60)
    assert run_sla_checks(sessions, received + timedelta(minutes=1), "UTC") == 0
    assert run_sla_checks(sessions, received + timedelta(minutes=46), "UTC") == 1  # reminder
    assert run_sla_checks(sessions, received + timedelta(minutes=61), "UTC") == 2  # breach+esc


@pytest.mark.parametrize("hours", [
    PARIS, BusinessHours("Europe/Paris", time(9), time(17), parse_days("mon-fri")),
    BusinessHours("Asia/Kolkata", time(9, 30), time(10), parse_days("sat")),
    BusinessHours("America/New_York", time(0), time(23, 59), parse_days("sun,wed")),
    BusinessHours("UTC")])
@pytest.mark.parametrize("minutes", [60, 1440, 7 * 24 * 60, 30 * 24 * 60])
def test_no_start_takes_longer_than_the_longest_span(hours: BusinessHours,
                                                     minutes: int) -> None:
    longest = longest_span(minutes, hours)
    # Every half hour of a fortnight around Europe's and America's autumn clock changes.
    for n in range(14 * 48):
        start = datetime(2026, 10, 20, tzinfo=UTC) + timedelta(minutes=30 * n)
        try:
            due = add_business_time(start, minutes, hours)
        except ServiceError:  # no due time within the 400 days it walks
            assert longest == LONGEST_WALK
            continue
        assert due - start <= longest, start


def test_a_breach_due_more_than_thirty_days_after_receipt_is_notified(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    # A one-week target in 09:00-17:00 weekday hours, for a post received on a Friday
    # evening in Paris: due 21 working days later, some 31 calendar days. The checks looked
    # back 30 days only: App Home showed it overdue, no breach notice was ever sent.
    received = datetime(2027, 3, 5, 16, 30, tzinfo=UTC)
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123")
        session.add(watch)
        session.flush()
        session.add(Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                            external_id="1", url="https://x.com/a/status/1",
                            text="question about my invoice", published_at=received,
                            created_at=received, priority=10, assignee_user_id="U0AGENT01",
                            status="assigned", alerted=True, slack_channel="C0ACME123",
                            slack_ts="1.1"))
    do_set_hours(sessions, workspace_id, CLI, "09:00-17:00", "mon-fri", "Europe/Paris")
    do_set_targets(sessions, workspace_id, CLI, "acme", {"normal": 7 * 24 * 60})
    with sessions() as session:
        due = due_at(session, session.scalars(select(Mention)).one())
    assert due is not None and due - received > LOOKBACK
    assert run_sla_checks(sessions, due - timedelta(minutes=1), "UTC") == 1  # reminder
    assert run_sla_checks(sessions, due + timedelta(minutes=1), "UTC") == 1  # breach
    with sessions() as session:
        assert sorted(session.scalars(select(SlaNotice.kind))) == ["breach", "reminder"]
    # App Home agrees: the one mention it shows overdue is the one the notice was about.
    assert home_summary(sessions, workspace_id, "U0AGENT01",
                        due + timedelta(hours=1)).overdue_total == 1


def test_the_checks_find_their_mentions_through_indexes(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """Over 12,000 mentions of 600 days (most never carded, many answered), 6,000 cases and a
    few of them reopened lately, the checks' candidates are read through indexes, never by scanning
    every mention: the recent ones by (workspace, received time), the reopened cases'
    first mentions by id, those cases by when their wait restarted."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123")
        session.add(watch)
        session.flush()
        mentions = [Mention(
            workspace_id=workspace_id, watch_id=watch.id, network="x", external_id=str(n),
            url=f"https://x.com/a/status/{n}", text="acme", priority=n % 100,
            published_at=now - timedelta(minutes=72 * n),
            created_at=now - timedelta(minutes=72 * n),
            status="new" if n % 10 < 6 or n % 10 == 9 else "replied", alerted=n % 10 == 9)
            for n in range(12000)]
        session.add_all(mentions)
        session.flush()
        session.add_all(Case(workspace_id=workspace_id, network="x", thread_key=str(m.id),
                             customer=f"c{n}", root_mention_id=m.id,
                             sla_started_at=now - timedelta(days=n % 90) if n % 150 == 0 else None)
                        for n, m in enumerate(mentions[::2]))
    engine = sessions.kw["bind"]
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        # As autovacuum would in time: statistics and the visibility map settled. (Over 150
        # days, a fifth of the rows in the checks' 30 days, a CI run once costed a scan of
        # the table a little below the indexes; production holds a far smaller share.)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))
    with sessions() as session:
        query = check_candidates(session, now)
        statement = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        plan = "\n".join(str(row[-1]) for row in session.execute(text(explain + statement)))
        cases_plan = "\n".join(str(row[-1]) for row in session.execute(text(explain + str(
            select(Case.root_mention_id).where(Case.sla_started_at >= now - LOOKBACK)
            .compile(engine, compile_kwargs={"literal_binds": True})))))
    if postgres:
        assert "Seq Scan on mentions" not in plan, plan
        assert "ix_mentions_workspace_id_created_at" in plan and "pk_mentions" in plan, plan
        assert "ix_cases_sla_started_at" in cases_plan, cases_plan
    else:
        assert "SCAN mentions" not in plan, plan
        assert "ix_mentions_workspace_id_created_at" in plan and "PRIMARY KEY" in plan, plan
        assert "ix_cases_sla_started_at" in cases_plan, cases_plan


@pytest.mark.parametrize("hours", [
    BusinessHours("UTC", time(9), time(9, 1), parse_days("mon")),
    # 02:00-02:01 does not exist on the spring-forward Sundays (29 March 2026, 28 March
    # 2027): the walk loses those openings.
    BusinessHours("Europe/Paris", time(2), time(2, 1), parse_days("sun")),
    BusinessHours("America/New_York", time(2, 30), time(2, 45), parse_days("sun"))])
def test_the_largest_target_hours_allow_always_comes_due(hours: BusinessHours) -> None:
    most = most_minutes(hours)
    assert most is not None
    # Every six hours of a fortnight before Europe's and America's spring clock changes.
    for n in range(14 * 4):
        start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=6 * n)
        assert add_business_time(start, most, hours) - start < LONGEST_WALK


def test_hours_stored_too_short_skip_their_workspace_not_the_checks(
    sessions: sessionmaker[Session], workspace_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Hours of one minute on Mondays, stored before ``sla hours`` refused them, give a
    one-hour target no due time within the 400 days ``add_business_time`` walks: the
    error stopped every SLA check, of every workspace, and App Home. That workspace's
    mention is now skipped and logged once; the other workspace's breach is sent."""
    received = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    # A workspace is logged once per process for given hours: each engine's run has its own.
    minute = {"sqlite": 0, "postgresql": 30}[sessions.kw["bind"].dialect.name]
    with transaction(sessions) as session:
        session.get_one(Workspace, workspace_id).settings = {
            "sla_hours": f"09:{minute:02d}-09:{minute + 1:02d}", "sla_days": "mon",
            "sla_tz": "UTC"}
        other = Workspace(team_id="T0OTHER01")
        session.add(other)
        session.flush()
        other_id = other.id
        for n, team in enumerate((workspace_id, other_id)):
            watch = Watch(workspace_id=team, name="acme", channel_id=f"C0ACME{n}",
                          sla_urgent_minutes=60, sla_high_minutes=60, sla_normal_minutes=60)
            session.add(watch)
            session.flush()
            session.add(Mention(workspace_id=team, watch_id=watch.id, network="x",
                                external_id=f"{n}", url=f"https://x.com/a/status/{n}",
                                text="help!", published_at=received, created_at=received,
                                priority=10, assignee_user_id="U0AGENT01", status="assigned",
                                alerted=True, slack_channel=f"C0ACME{n}", slack_ts=f"{n}.1"))
    later = received + timedelta(minutes=61)
    with caplog.at_level(logging.WARNING, logger="bot.services.sla"):
        assert run_sla_checks(sessions, later, "UTC") == 1  # the other workspace's breach
        assert run_sla_checks(sessions, later + timedelta(minutes=1), "UTC") == 0
        assert home_summary(sessions, workspace_id, "U0AGENT01", later).overdue_total == 0
    assert home_summary(sessions, other_id, "U0AGENT01", later).overdue_total == 1
    with sessions() as session:
        assert [tuple(row) for row in session.execute(
            select(SlaNotice.kind, Mention.workspace_id)
            .join(Mention, Mention.id == SlaNotice.mention_id))] == [("breach", other_id)]
        stuck = session.scalars(select(Mention).where(Mention.workspace_id == workspace_id))
        assert due_at(session, stuck.one()) is None
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.services.sla"]
    assert len(warned) == 1, warned
    assert warned[0].startswith(f"SLA: workspace {workspace_id}: no due time")
