"""`/cm stats` numbers against hand-counted values, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services import competitors
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.reporting.periods import last_days
from bot.services.reporting.stats import (
    _buckets,
    build_stats_report,
    get_stats,
    parse_period,
    stats_chart,
)
from bot.slack.digest_blocks import build_stats_blocks
from tests.reporting.dataset import DIGEST_END, ZONE, Dataset, utc


def test_week_statistics(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=7, now=DIGEST_END,
                                    timezone=ZONE)
    # From local midnight on 19 October (22:00 UTC the day before) to now: every mention but
    # m9, which arrived at "now".
    assert report.start == utc(10, 18, 22)
    assert report.total == 15
    assert report.by_sentiment == {"negative": 8, "neutral": 3, "positive": 4, "unknown": 0}
    assert dict(report.by_network) == {"mastodon": 9, "bluesky": 3, "rss": 2, "x": 1}
    assert [day for day, _counts in report.buckets] == [date(2026, 10, d) for d in range(19, 26)]
    # The bars are labelled in the reader's language when drawn.
    assert stats_chart(report, "en")["labels"][0] == "19 Oct"
    assert stats_chart(report, "fr")["labels"][-1] == "25 oct."
    assert report.buckets[6][1] == {"negative": 2, "neutral": 1, "positive": 1, "unknown": 0}
    responses = report.responses
    assert (responses.actionable, responses.answered) == (9, 4)
    assert (responses.median_seconds, responses.p90_seconds) == (3600, 11700)
    assert [(w.user_id, w.assigned, w.open, w.answered) for w in report.workload] == [
        ("U07AGENT01", 2, 2, 0), ("U07AGENT02", 2, 1, 1)]
    # The approval of 10 October is outside the week.
    assert [(a.user_id, a.approved, a.rejected) for a in report.approvals] == [
        ("U07APPROVA", 1, 1), ("U07APPROVB", 1, 0)]
    assert report.top_authors[0].handle == "@dan"


def test_busiest_hours_are_local_across_the_clock_change(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=7, now=DIGEST_END,
                                    timezone=ZONE)
    hours = report.hours
    assert sum(hours) == 15
    # 06:59 UTC (CEST) on the 23rd and 24th, 07:30 and 07:59 UTC (CET) on the 25th: 8 h local.
    assert hours[8] == 4
    assert hours[9] == 2  # 07:00 UTC on the 23rd and 24th (CEST)
    assert hours[0] == 1  # 22:30 UTC on the 24th is 00:30 CEST
    assert hours[2] == 1  # 01:30 UTC on the 25th is 02:30 CET
    assert report.busiest_hours == [(8, 4), (9, 2), (0, 1)]


def test_quarter_long_periods_use_weekly_bars(sessions: sessionmaker[Session],
                                              dataset: Dataset) -> None:
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=90, now=DIGEST_END,
                                    timezone=ZONE)
    assert len(report.buckets) == 13
    assert sum(sum(c.values()) for _l, c in report.buckets) == report.total == 15
    assert [(a.user_id, a.approved) for a in report.approvals][1] == ("U07APPROVB", 2)


def test_periods() -> None:
    assert parse_period(None) == 7
    assert parse_period("30D") == 30
    assert parse_period("90d") == 90
    with pytest.raises(ServiceError) as err:
        parse_period("12d")
    assert "`12d` is not a period" in err.value.message() and "7d, 30d, 90d" in \
        err.value.message()


def test_get_stats_uses_the_workspace_zone(sessions: sessionmaker[Session],
                                           dataset: Dataset) -> None:
    report = get_stats(sessions, dataset.workspace_id, CLI, period="7d", now=DIGEST_END)
    assert report.timezone == ZONE and report.total == 15


def test_dates_read_in_the_reader_s_language(sessions: sessionmaker[Session],
                                            dataset: Dataset) -> None:
    """Not "Du 19 Oct 00:00 au 25 Oct ..." in French: strftime's %b is always English."""
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=7, now=DIGEST_END,
                                    timezone=ZONE)
    french = str(build_stats_blocks(report, "fr")[1])
    assert "19 oct. 00:00" in french and "Oct" not in french
    assert "19 Oct 00:00" in str(build_stats_blocks(report, "en")[1])


def test_numbers_read_the_reader_s_way(sessions: sessionmaker[Session],
                                       dataset: Dataset) -> None:
    """15 mentions in 7 days are "2,1 par jour" in French, @dan's followers "900 000" (a
    narrow no-break space) and a share "53 %"; English keeps "2.1", "900,000" and "53%"."""
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=7, now=DIGEST_END,
                                    timezone=ZONE)
    french = json.dumps(build_stats_blocks(report, "fr")[1], ensure_ascii=False)
    assert "*15* mention(s), 2,1 par jour" in french
    assert "900\u202f000 abonnés" in french and "53\u202f%" in french
    english = json.dumps(build_stats_blocks(report, "en")[1], ensure_ascii=False)
    assert "*15* mention(s), 2.1 a day" in english
    assert "900,000 followers" in english and "53%" in english


def test_a_competitors_mentions_are_not_the_brands_statistics(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """With beta a competitor's watch, `/cm stats` counts the brand's watches alone: the week
    less beta's posts, whose author carl (beta's only) is no top author."""
    competitors.do_set_watch_kind(sessions, dataset.workspace_id, CLI, watch_name="beta",
                                  kind="competitor")
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=7, now=DIGEST_END,
                                    timezone=ZONE)
    # beta's m4 (rss, negative), m5 (bluesky, negative), m7 (rss, neutral) and m13
    # (bluesky, positive) leave the 15 of the week.
    assert report.total == 11
    assert report.by_sentiment == {"negative": 6, "neutral": 2, "positive": 3, "unknown": 0}
    assert dict(report.by_network) == {"mastodon": 9, "bluesky": 1, "x": 1}
    assert sum(report.hours) == 11
    assert "@carl" not in [author.handle for author in report.top_authors]


def test_daily_bars_start_at_midnight_after_a_skipped_one() -> None:
    """Santiago skips midnight on 6 September (00:00 -> 01:00): that bar starts at 01:00,
    the next ones at midnight again, not at 01:00 for the rest of the period."""
    start, end = last_days(datetime(2026, 9, 9, 12, tzinfo=UTC), 7, "America/Santiago")
    edges = _buckets(start, end, 7, "America/Santiago")
    assert [day for day, _edge in edges] == [date(2026, 9, 3) + timedelta(days=n)
                                             for n in range(7)]
    assert [edge.astimezone(UTC).hour for _day, edge in edges] == [4, 4, 4, 4, 3, 3, 3]
