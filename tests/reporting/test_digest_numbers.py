"""The digest's numbers against hand-counted values (tests/reporting/dataset.py), on SQLite
and PostgreSQL, across the night clocks go back in Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.services import sla
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.queries import Scope, open_in_several_watches
from bot.services.reporting.schedule import channel_config
from bot.slack.digest_blocks import build_digest_blocks
from storage.db import transaction
from storage.models import Mention, Watch
from storage.models_cases import Case, QuietMention
from storage.models_competitors import WATCH_COMPETITOR
from storage.models_watches import MentionWatch
from tests.reporting.dataset import CHANNEL, DIGEST_END, Dataset, utc


def _report(sessions: sessionmaker[Session], data: Dataset, end: datetime = DIGEST_END):
    with sessions() as session:
        config = channel_config(session, data.workspace_id, CHANNEL)
        return build_digest_report(session, config, end=end, now=end)


def test_window_is_the_local_day_of_25_hours(sessions: sessionmaker[Session],
                                             dataset: Dataset) -> None:
    report = _report(sessions, dataset)
    assert report.timezone == "Europe/Paris"
    assert report.window_start == datetime(2026, 10, 24, 7, tzinfo=UTC)
    assert report.window_end == datetime(2026, 10, 25, 8, tzinfo=UTC)
    assert report.local_date == date(2026, 10, 25)


def test_volume_by_network_and_sentiment_with_change(sessions: sessionmaker[Session],
                                                     dataset: Dataset) -> None:
    report = _report(sessions, dataset)
    # m1-m8, m11, m12, m16 (m9 is at the end instant, m15 belongs to another channel).
    assert (report.total.current, report.total.previous, report.total.delta) == (11, 2, 9)
    networks = {name: (c.current, c.previous) for name, c in report.by_network}
    assert networks == {"mastodon": (6, 1), "bluesky": (2, 1), "rss": (2, 0), "x": (1, 0)}
    assert [name for name, _c in report.by_network][:1] == ["mastodon"]
    sentiments = {name: (c.current, c.previous) for name, c in report.by_sentiment}
    assert sentiments == {"negative": (5, 1), "neutral": (3, 0), "positive": (3, 1)}


def test_answered_share_and_first_response_times(sessions: sessionmaker[Session],
                                                 dataset: Dataset) -> None:
    responses = _report(sessions, dataset).responses
    # Needed an answer: the 11 less m5 (spam), m7 (ignored), and m2, m8, m16 (never
    # alerted nor taken up: they only waited for the digest, as open work leaves them out);
    # answered: m1, m6, m11, m12.
    assert (responses.actionable, responses.answered, responses.responded) == (6, 4, 4)
    assert round(responses.answered_share or 0, 4) == round(4 / 6, 4)
    # Response times 10, 30, 90, 240 min: median 30 + 0.5 * 60 = 60 min;
    # p90 at rank 2.7: 90 + 0.7 * 150 = 195 min.
    assert responses.median_seconds == 3600
    assert responses.p90_seconds == 11700


def test_open_and_overdue(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    report = _report(sessions, dataset)
    # m3 assigned, m4 and m9 new but alerted (open work is as of now, and m9 arrived at
    # now), m13 drafting, m14 awaiting approval; m2, m8, m10 and m16 only waited for the
    # digest; m15 is another channel's.
    assert report.open_by_status == {"assigned": 1, "new": 2, "drafting": 1,
                                     "awaiting_approval": 1}
    # m14 (urgent, 49 h > 60 min) and m3 (high, 12 h > 240 min) are overdue; m4 (urgent,
    # 30 min) is not yet; m13 (normal, 49 h) is within beta's 3000 minutes.
    assert report.overdue_count == 2
    ids = [line.id for line in report.overdue]
    assert ids == [dataset.mentions["m14"], dataset.mentions["m3"]]
    assert report.overdue[0].card_url == f"https://slack.com/archives/{CHANNEL}/p1761000014000100"


def test_overdue_moves_with_now(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        later = build_digest_report(session, config, end=DIGEST_END, now=utc(10, 25, 8, 31))
    # m4 has now waited 61 minutes: over its urgent SLA.
    assert later.overdue_count == 3


def test_a_competitors_watch_gives_no_sla(sessions: sessionmaker[Session],
                                          dataset: Dataset) -> None:
    """The digest's overdue count follows bot.services.sla: a mention only a competitor's
    watch holds has no SLA, so m4 (beta, urgent, 61 minutes) is not overdue once beta is a
    competitor's watch."""
    with transaction(sessions) as session:
        session.get_one(Watch, dataset.watches["beta"]).kind = WATCH_COMPETITOR
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        later = build_digest_report(session, config, end=DIGEST_END, now=utc(10, 25, 8, 31))
        assert sla.due_at(session, session.get_one(Mention, dataset.mentions["m4"])) is None
    assert later.overdue_count == 2
    assert dataset.mentions["m4"] not in [line.id for line in later.overdue]


def test_backfilled_mentions_and_reopened_cases_follow_the_sla_rule(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """The digest's overdue count follows bot.services.sla: a backfilled mention never gets
    an SLA, and a reopened case's wait restarts when the customer wrote again."""
    m = dataset.mentions
    with transaction(sessions) as session:
        session.add(QuietMention(mention_id=m["m14"]))
        session.add(Case(workspace_id=dataset.workspace_id, network="mastodon",
                         thread_key="m3-thread", customer="someone", root_mention_id=m["m3"],
                         state="open", reopened=1,
                         sla_started_at=DIGEST_END - timedelta(hours=1)))
    report = _report(sessions, dataset)
    with sessions() as session:
        for name in ("m14", "m3"):
            assert sla.due_at(session, session.get_one(Mention, m[name])) in (
                None, DIGEST_END + timedelta(hours=3))
    # m14 was backfilled; m3 (high, 240 min) has waited one hour since its case reopened.
    assert report.overdue_count == 0 and report.overdue == []
    with transaction(sessions) as session:
        session.query(Case).filter_by(root_mention_id=m["m3"]).one().sla_started_at = \
            DIGEST_END - timedelta(hours=5)
    report = _report(sessions, dataset)
    assert report.overdue_count == 1 and [line.id for line in report.overdue] == [m["m3"]]


def _link(session: Session, data: Dataset, mention: str, watch: str, *, alerted: bool) -> None:
    row = session.get_one(Mention, data.mentions[mention])
    session.add(MentionWatch(workspace_id=data.workspace_id, mention_id=row.id,
                             watch_id=data.watches[watch], network=row.network,
                             published_at=row.published_at, priority=row.priority,
                             alerted=alerted))


def test_a_mention_in_several_watches_reads_its_own_case_and_links(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """In several watches, the SLA reads the mention's own case (not the newest case of the
    table) and, when no watch alerted, every one of its watches."""
    m = dataset.mentions
    with transaction(sessions) as session:
        _link(session, dataset, "m3", "beta", alerted=True)
        session.add(Case(workspace_id=dataset.workspace_id, network="mastodon",
                         thread_key="m3-thread", customer="someone", root_mention_id=m["m3"],
                         state="open", reopened=1,
                         sla_started_at=DIGEST_END - timedelta(hours=1)))
        session.flush()
        session.add(Case(workspace_id=dataset.workspace_id, network="mastodon",
                         thread_key="m13-thread", customer="other", root_mention_id=m["m13"],
                         state="open"))
    report = _report(sessions, dataset)
    assert [line.id for line in report.overdue] == [m["m14"]]
    # m13 (normal) is in beta (3000 min) and now acme too, neither alerted: acme's target
    # (the strictest) has run out.
    with transaction(sessions) as session:
        _link(session, dataset, "m13", "acme", alerted=False)
    with sessions() as session:
        due = sla.due_at(session, session.get_one(Mention, m["m13"]))
    assert due is not None and due < DIGEST_END
    report = _report(sessions, dataset)
    assert m["m13"] in [line.id for line in report.overdue]


def test_links_to_competitor_watches_leave_the_overdue_figures_and_the_id_list_alone(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """A competitor watch's link gives no SLA (bot.services.sla): open mentions whose only
    extra links go to a competitor's watch keep the overdue figures they had and stay out
    of the ids the overdue SQL lists; an extra link to a brand watch is listed."""
    m = dataset.mentions
    before = _report(sessions, dataset)
    with transaction(sessions) as session:
        rival = Watch(workspace_id=dataset.workspace_id, name="rival", channel_id=CHANNEL,
                      kind=WATCH_COMPETITOR, sla_urgent_minutes=1, sla_high_minutes=1,
                      sla_normal_minutes=1, created_at=utc(1, 1, 0))
        session.add(rival)
        session.flush()
        dataset.watches["rival"] = rival.id
        for name in ("m3", "m4", "m13", "m14"):
            _link(session, dataset, name, "rival", alerted=True)
    with sessions() as session:
        scope = Scope(dataset.workspace_id)
        assert open_in_several_watches(session, scope) == []
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        assert open_in_several_watches(session, config.scope) == []
    after = _report(sessions, dataset)
    assert (after.overdue_count, [line.id for line in after.overdue]) == (
        before.overdue_count, [line.id for line in before.overdue]) == (
        2, [m["m14"], m["m3"]])
    assert after.open_by_status == before.open_by_status
    # An extra link to a brand watch does make the mention one of several watches.
    with transaction(sessions) as session:
        _link(session, dataset, "m13", "acme", alerted=False)
    with sessions() as session:
        assert open_in_several_watches(session, Scope(dataset.workspace_id)) == [m["m13"]]
    assert m["m13"] in [line.id for line in _report(sessions, dataset).overdue]


def test_top_priority_authors_and_waited(sessions: sessionmaker[Session],
                                         dataset: Dataset) -> None:
    report = _report(sessions, dataset)
    m = dataset.mentions
    assert [line.id for line in report.top_priority] == [m["m4"], m["m1"], m["m12"], m["m11"],
                                                         m["m3"]]
    assert [(a.handle, a.followers, a.mentions) for a in report.top_authors] == [
        ("@dan", 900000, 1), ("@ana", 48213, 3), ("@bob", 1200, 2), ("@carl", None, 2)]
    waited = {group.watch_name: (group.count, [line.id for line in group.examples])
              for group in report.waited}
    assert waited == {"acme": (3, [m["m2"], m["m8"], m["m16"]]),
                      "beta": (2, [m["m7"], m["m5"]])}


def test_a_competitors_watch_never_waited_for_the_digest(sessions: sessionmaker[Session],
                                                         dataset: Dataset) -> None:
    """A competitor's watch never alerts: its mentions did not "wait", and the digest offers
    no "Should have alerted" for them."""
    with transaction(sessions) as session:
        session.execute(update(Watch).where(Watch.name == "beta")
                        .values(kind=WATCH_COMPETITOR))
    report = _report(sessions, dataset)
    assert [group.watch_name for group in report.waited] == ["acme"]
    _title, blocks = build_digest_blocks(report, "en")
    flagged = [element["value"] for block in blocks if block["type"] == "actions"
               for element in block["elements"]]
    m = dataset.mentions
    acme = dataset.watches["acme"]
    assert flagged == [f"{m[name]}:w{acme}" for name in ("m2", "m8", "m16")]
    assert "beta" not in str(blocks)


def test_chart_counts_local_days(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    chart = _report(sessions, dataset).chart
    assert len(chart) == 14
    assert chart[0].day == date(2026, 10, 12) and chart[-1].day == date(2026, 10, 25)
    by_day = {item.day: item.counts for item in chart if sum(item.counts.values())}
    assert by_day == {
        date(2026, 10, 23): {"negative": 1, "neutral": 0, "positive": 1, "unknown": 0},
        date(2026, 10, 24): {"negative": 4, "neutral": 2, "positive": 2, "unknown": 0},
        # m16 at 22:30 UTC is 00:30 CEST; m5 at 01:30 UTC is 02:30 CET, after the change.
        date(2026, 10, 25): {"negative": 2, "neutral": 1, "positive": 1, "unknown": 0},
    }


def test_previous_day_window_tiles(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    report = _report(sessions, dataset, end=utc(10, 24, 7))
    # 24 October 09:00 CEST is 07:00 UTC: the day before covers m13 (07:00) and m10.
    assert report.window_start == utc(10, 23, 7)
    assert report.total.current == 2
    assert report.total.previous == 1  # m14 at 06:59 UTC on the 23rd


def test_empty_channel_is_empty(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    report = _report(sessions, dataset, end=utc(9, 1, 7))
    assert report.empty and report.top_priority == [] and report.waited == []


def test_a_competitors_posts_are_not_the_brands_volume_authors_nor_top_priority(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """With beta a competitor's watch, the digest counts the brand's posts as `/cm stats`
    does: in the channel of acme and beta, acme's alone (m4, m5 and m7, beta's, leave the
    day, carl's posts with them; m13 the day before); a digest channel without watches
    counts acme and other, not the whole workspace; a channel of beta alone was given the
    competitor's watch, and counts its posts. Open work and share of voice are unchanged."""
    m = dataset.mentions
    before = _report(sessions, dataset)
    with transaction(sessions) as session:
        session.execute(update(Watch).where(Watch.name == "beta")
                        .values(kind=WATCH_COMPETITOR))
    report = _report(sessions, dataset)
    assert (report.total.current, report.total.previous) == (8, 1)
    assert {name: c.current for name, c in report.by_network} == {
        "mastodon": 6, "bluesky": 1, "x": 1}
    assert {name: c.current for name, c in report.by_sentiment} == {
        "negative": 3, "neutral": 2, "positive": 3}
    assert [line.id for line in report.top_priority] == [m["m1"], m["m12"], m["m11"],
                                                         m["m3"], m["m6"]]
    assert [a.handle for a in report.top_authors] == ["@dan", "@ana", "@bob"]
    by_day = {item.day: item.counts for item in report.chart if sum(item.counts.values())}
    assert by_day == {
        date(2026, 10, 23): {"negative": 1, "neutral": 0, "positive": 0, "unknown": 0},
        date(2026, 10, 24): {"negative": 4, "neutral": 1, "positive": 2, "unknown": 0},
        date(2026, 10, 25): {"negative": 0, "neutral": 1, "positive": 1, "unknown": 0},
    }
    assert report.open_by_status == before.open_by_status
    with sessions() as session:
        whole = build_digest_report(session, channel_config(session, dataset.workspace_id,
                                                            "C07WHOLE001"),
                                    end=DIGEST_END, now=DIGEST_END)
    assert whole.total.current == 9  # acme's 8 and other's m15
    assert [line.id for line in whole.top_priority][:2] == [m["m15"], m["m1"]]
    assert "@carl" not in [a.handle for a in whole.top_authors]
    with transaction(sessions) as session:
        session.execute(update(Watch).where(Watch.name == "beta")
                        .values(channel_id="C07RIVAL001"))
    with sessions() as session:
        rival = build_digest_report(session, channel_config(session, dataset.workspace_id,
                                                            "C07RIVAL001"),
                                    end=DIGEST_END, now=DIGEST_END)
    assert rival.total.current == 3  # m4, m5, m7
    assert [a.handle for a in rival.top_authors] == ["@bob", "@carl"]
