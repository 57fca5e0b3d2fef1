"""The spike baseline on real databases: what counts as a watch's usual hour.

Hours of day and weekends are the channel's local ones (a brand's 9 am rush stays 9 am
when clocks change, a Tokyo Monday morning is no weekend hour); hours a watch was paused
are no calm hours; a burst stored late is still looked at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.reporting.schedule import do_set_digest_time
from bot.services.spikes import run_spike_checks
from bot.services.watches import do_add_watch, do_remove_watch, do_set_watch_paused
from storage.db import transaction
from storage.models import AuditEvent, Author, Mention, OutboxMessage, Watch, Workspace
from storage.models_cases import QuietMention
from storage.models_spikes import Spike
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_spike_events import H0, burst, setup

CHANNEL = "C0SOCIAL01"
HOUR = timedelta(hours=1)


def brand(sessions: sessionmaker[Session], workspace_id: int, zone: str, start: datetime,
          end: datetime, rate: Callable[[datetime], int]) -> int:
    """A watch created at ``start`` in a workspace of ``zone``, with ``rate(hour)`` posts
    in each hour until ``end``."""
    with transaction(sessions) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.timezone = zone
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL,
                      created_at=start)
        author = Author(workspace_id=workspace_id, network="x", handle="u", followers=10)
        session.add_all([watch, author])
        session.flush()
        rows, hour = [], start
        while hour < end:
            for i in range(rate(hour)):
                rows.append({"workspace_id": workspace_id, "watch_id": watch.id,
                             "author_id": author.id, "network": "x",
                             "external_id": f"m{len(rows)}",
                             "url": f"https://x.com/u/{len(rows)}", "priority": 10,
                             "status": "new", "text": f"acme order {len(rows)}",
                             "published_at": hour + timedelta(seconds=30 * i),
                             "sentiment_label": "neutral"})
            hour += HOUR
        session.execute(insert(Mention), rows)
        return watch.id


def sixty_posts_from(sessions: sessionmaker[Session], workspace_id: int,
                     at: datetime) -> None:
    """A burst on the brand's one watch: 60 posts by its one author, a second apart from
    ``at``."""
    with transaction(sessions) as session:
        watch = session.scalars(select(Watch)).one()
        author = session.scalars(select(Author)).one()
        session.add_all([Mention(
            workspace_id=workspace_id, watch_id=watch.id, author_id=author.id, network="x",
            external_id=f"burst{i}", url=f"https://x.com/u/burst{i}", priority=10,
            status="new", text="acme order", sentiment_label="neutral",
            published_at=at + timedelta(seconds=i)) for i in range(60)])


def office_hours(zone: ZoneInfo, first: int, last: int) -> Callable[[datetime], int]:
    """20 posts an hour from ``first`` to ``last`` o'clock local on weekdays, else 1."""
    def rate(moment: datetime) -> int:
        local = moment.astimezone(zone)
        return 20 if local.weekday() < 5 and first <= local.hour < last else 1
    return rate


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def spikes(sessions: sessionmaker[Session]) -> list[Spike]:
    with sessions() as session:
        return list(session.scalars(select(Spike)))


def alerts(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage)))


def test_a_paris_morning_rush_after_the_clocks_change_is_no_spike(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Busy 09:00-18:00 Paris time for three weeks; clocks go forward on Sun 29 Mar. On the
    Monday after, 09:00 local is 07:00 UTC, an hour that was 08:00 local (calm) all March:
    compared by UTC hour it was a spike, 20 vs 1 usual; by local hour it is a usual 9 am."""
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 9, tzinfo=paris).astimezone(UTC)
    monday_nine = datetime(2026, 3, 30, 9, tzinfo=paris).astimezone(UTC)
    brand(sessions, workspace_id, "Europe/Paris", start, monday_nine + 3 * HOUR,
          office_hours(paris, 9, 18))
    for check in range(4):
        run_spike_checks(sessions, monday_nine + check * HOUR + timedelta(minutes=50))
    assert spikes(sessions) == [] and alerts(sessions) == []


def test_a_tokyo_monday_morning_is_compared_with_weekday_mornings(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Monday 08:00 in Tokyo is Sunday 23:00 UTC: compared with UTC weekend hours (1 post)
    its usual 20 posts were a spike; with Tokyo's weekday mornings it is ordinary."""
    tokyo = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 11, 9, tzinfo=tokyo).astimezone(UTC)
    monday_eight = datetime(2026, 11, 30, 8, tzinfo=tokyo).astimezone(UTC)
    brand(sessions, workspace_id, "Asia/Tokyo", start, monday_eight + 2 * HOUR,
          office_hours(tokyo, 8, 18))
    for check in range(2):
        run_spike_checks(sessions, monday_eight + check * HOUR + timedelta(minutes=50))
    assert spikes(sessions) == [] and alerts(sessions) == []


def test_the_channels_digest_zone_sets_the_local_hours(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A workspace in UTC whose channel's digest is on Tokyo time: the channel's zone,
    the one its digest uses, decides what a Monday morning is. A real spike on that
    Monday morning is still found."""
    tokyo = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 11, 9, tzinfo=tokyo).astimezone(UTC)
    monday_eight = datetime(2026, 11, 30, 8, tzinfo=tokyo).astimezone(UTC)

    def rate(moment: datetime) -> int:
        return 90 if moment == monday_eight + HOUR else office_hours(tokyo, 8, 18)(moment)

    brand(sessions, workspace_id, "UTC", start, monday_eight + 2 * HOUR, rate)
    do_set_digest_time(sessions, workspace_id, CLI, channel_id=CHANNEL, local_time="09:00",
                       zone_name="Asia/Tokyo")
    run_spike_checks(sessions, monday_eight + timedelta(minutes=50))
    assert spikes(sessions) == []
    run_spike_checks(sessions, monday_eight + HOUR + timedelta(minutes=50))
    found = spikes(sessions)
    assert [(s.total, s.baseline) for s in found] == [(90, 20.0)]
    assert len(alerts(sessions)) == 1


def test_a_resumed_watchs_paused_days_are_no_calm_hours(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """12 posts an hour for 20 days, then paused for 8 days (nothing polled, nothing
    stored) and resumed: its first ordinary hour was a spike "vs 0.0 usual", the paused
    hours counted as calm zeros. They are left out: the baseline is the 12 of before."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    pause, resume = start + timedelta(days=20), start + timedelta(days=28)

    def rate(moment: datetime) -> int:
        return 12 if moment < pause or moment >= resume else 0

    brand(sessions, workspace_id, "UTC", start, resume + HOUR, rate)
    do_set_watch_paused(sessions, workspace_id, CLI, "acme", True)
    do_set_watch_paused(sessions, workspace_id, CLI, "acme", False)
    with transaction(sessions) as session:  # as the audit was written at those moments
        for event in session.scalars(select(AuditEvent).where(
                AuditEvent.action.in_(("watch.paused", "watch.resumed")))):
            event.created_at = pause if event.action == "watch.paused" else resume
    run_spike_checks(sessions, resume + timedelta(minutes=59))
    assert spikes(sessions) == [] and alerts(sessions) == []
    # A real burst after the resume is still news against the hours before the pause.
    sixty_posts_from(sessions, workspace_id, resume + HOUR)
    run_spike_checks(sessions, resume + HOUR + timedelta(minutes=50))
    assert [(s.total, s.baseline) for s in spikes(sessions)] == [(60, 12.0)]


def test_a_burst_stored_two_hours_late_is_a_spike_once(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """300 angry posts published at 14:00 reach Vigie at 16:10 (a source in backoff): the
    checks looked at 16:00 and 15:00 only, and never found them. Now one alert, whatever
    the number of checks after."""
    ids = setup(sessions, workspace_id)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    burst(sessions, workspace_id, ids, 300, H0, "late")
    for minutes in range(130, 130 + 8 * 60, 10):
        run_spike_checks(sessions, H0 + timedelta(minutes=minutes))
        sender.flush()
        clock.sleep(600)
    assert [(_utc(s.hour_start), s.total) for s in spikes(sessions)] == [(H0, 300)]
    posted = slack_standin.calls("chat.postMessage", ok=True)
    assert len([call for call in posted if not call.args.get("thread_ts")]) == 1


def test_a_late_backfill_stays_quiet(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The same posts stored quietly (a resumed source's history) alert nobody."""
    ids = setup(sessions, workspace_id)
    burst(sessions, workspace_id, ids, 300, H0, "late")
    with transaction(sessions) as session:
        session.execute(insert(QuietMention), [
            {"mention_id": mention_id, "reason": "backfill"} for mention_id in
            session.scalars(select(Mention.id).where(Mention.external_id.startswith("late")))])
    for minutes in range(130, 130 + 3 * 60, 10):
        run_spike_checks(sessions, H0 + timedelta(minutes=minutes))
    assert spikes(sessions) == [] and alerts(sessions) == []


def test_a_removed_namesakes_pause_is_not_the_new_watchs(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A watch "acme" paused, then removed while paused, and a new watch "acme" created:
    the pause was matched by name, so the new watch's hours all read as paused (the old
    one was never resumed) and its bursts were never news. Pauses are the watch's own."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL,
                 alert_threshold=0)
    do_set_watch_paused(sessions, workspace_id, CLI, "acme", True)
    do_remove_watch(sessions, workspace_id, CLI, "acme")
    with transaction(sessions) as session:  # as the audit was written then
        for event in session.scalars(select(AuditEvent)):
            event.created_at = start - HOUR
    burst_at = start + timedelta(days=10)
    brand(sessions, workspace_id, "UTC", start, burst_at, lambda _hour: 12)
    sixty_posts_from(sessions, workspace_id, burst_at)
    run_spike_checks(sessions, burst_at + timedelta(minutes=50))
    assert [(s.total, s.baseline) for s in spikes(sessions)] == [(60, 12.0)]
