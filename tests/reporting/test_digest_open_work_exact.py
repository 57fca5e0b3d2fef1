"""The digest's open-work figures (by status, by topic, overdue count and lines, the
window's open work in the answered share) against the same figures computed in Python
from the rows, the SLA by ``bot.services.sla.due_times`` (the rule the SLA checks apply),
on a seeded mix: mentions whose first watch is outside the channel but linked to one of
its watches, mentions in both of its watches, links that alerted or not, backfilled
(quiet) mentions someone took up, reopened cases, topics, spam, ignored and answered
mentions, mentions alerted only in another channel, and what waited for the digest; on
SQLite and PostgreSQL, for several "now" (before, at and after the day's end)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.topics import TOPICS, topic_mask
from bot.services import sla
from bot.services.reporting.digest_sections import (
    OVERDUE_SHOWN,
    WAITED_EXAMPLES,
    build_digest_report,
)
from bot.services.reporting.queries import OPEN_STATUSES
from bot.services.reporting.schedule import channel_config
from storage.db import transaction
from storage.models import Mention, Watch
from storage.models_cases import Case, QuietMention
from storage.models_watches import MentionWatch

CHANNEL = "C0OPENWORK1"
END = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
STATUSES = (*OPEN_STATUSES, "replied", "closed", "ignored")
TOTAL = 240


def _load(sessions: sessionmaker[Session], workspace_id: int) -> dict[str, int]:
    rng = random.Random(20261206)
    with transaction(sessions) as session:
        watches = {name: Watch(workspace_id=workspace_id, name=name, channel_id=channel,
                               sla_urgent_minutes=urgent, sla_high_minutes=high,
                               sla_normal_minutes=normal)
                   for name, channel, urgent, high, normal in (
                       ("alpha", CHANNEL, 30, 120, 600), ("beta", CHANNEL, 60, 300, 2000),
                       ("gamma", "C0ELSEWHERE", 15, 60, 240))}
        session.add_all(watches.values())
        session.flush()
        ids = {name: watch.id for name, watch in watches.items()}
        for index in range(TOTAL):
            received = END - timedelta(minutes=rng.randint(-180, 3 * 24 * 60))
            status = rng.choice(STATUSES)
            answered = status in ("replied", "closed") and rng.random() < 0.8
            mention = Mention(
                workspace_id=workspace_id, watch_id=ids[rng.choice(list(ids))],
                network=rng.choice(("x", "mastodon", "rss")), external_id=f"o{index}",
                url=f"https://example.org/{index}", text=f"mention {index}",
                published_at=received - timedelta(minutes=rng.randint(0, 90)),
                created_at=received, priority=rng.randint(0, 100), status=status,
                alerted=rng.random() < 0.6, intent="spam" if rng.random() < 0.08 else "question",
                sentiment_label=rng.choice(("negative", "neutral", "positive")),
                topic_mask=topic_mask([name for name in TOPICS if rng.random() < 0.2]),
                first_response_at=received + timedelta(minutes=rng.randint(5, 500))
                if answered else None)
            session.add(mention)
            session.flush()
            # Another link: to the channel's other watch, into the channel from elsewhere,
            # or out of it; with the link's own priority and alert decision.
            if rng.random() < 0.35:
                other = rng.choice([wid for wid in ids.values() if wid != mention.watch_id])
                session.add(MentionWatch(
                    workspace_id=workspace_id, mention_id=mention.id, watch_id=other,
                    network=mention.network, published_at=mention.published_at,
                    priority=rng.randint(0, 100), alerted=rng.random() < 0.5))
            if status in OPEN_STATUSES and rng.random() < 0.06:
                session.add(QuietMention(mention_id=mention.id))
            if status in OPEN_STATUSES and rng.random() < 0.06:
                session.add(Case(workspace_id=workspace_id, network=mention.network,
                                 thread_key=f"t{index}", customer="someone",
                                 root_mention_id=mention.id, state="open", reopened=1,
                                 sla_started_at=END - timedelta(minutes=rng.randint(0, 900))))
        return ids


def _expected(session: Session, channel_watches: list[int], now: datetime,
              start: datetime, end: datetime) -> dict[str, object]:
    in_channel = set(session.scalars(select(MentionWatch.mention_id).where(
        MentionWatch.watch_id.in_(channel_watches))))
    mentions = [m for m in session.scalars(select(Mention)) if m.id in in_channel]
    alerts: dict[int, list[int | None]] = {}
    for mention_id, watch_id in session.execute(select(
            MentionWatch.mention_id, MentionWatch.watch_id).where(MentionWatch.alerted)):
        alerts.setdefault(mention_id, []).append(watch_id)
    # Alerted in this channel: by one of its watches (a mention alerted before watches'
    # decisions were recorded, no link alerted, counts in each of its channels).
    here = {m.id for m in mentions if m.alerted and (
        m.id not in alerts or any(watch in channel_watches for watch in alerts[m.id]))}
    open_now = [m for m in mentions
                if m.status in OPEN_STATUSES and (m.id in here or m.status != "new")
                and (m.intent or "") != "spam" and m.published_at <= now]
    due = sla.due_times(session, open_now)
    late = sorted((m for m in open_now if m.id in due and due[m.id] < now),
                  key=lambda m: (-m.priority, m.published_at, m.id))
    topics = Counter(name for m in open_now for name in TOPICS
                     if m.topic_mask & topic_mask([name]))
    in_window = [m for m in mentions if start <= m.published_at < end]
    opened = [m for m in in_window if m.status in OPEN_STATUSES
              and (m.id in here or m.status != "new") and (m.intent or "") != "spam"]
    answered_done = [m for m in in_window
                     if (m.first_response_at or m.replied_at) and m.status != "ignored"
                     and (m.intent or "") != "spam" and m not in opened]
    # Waited for the digest, per watch of the channel: its links of the window that did not
    # alert, below its threshold, of mentions none of the channel's watches alerted on.
    thresholds = dict(session.execute(select(Watch.id, Watch.alert_threshold).where(
        Watch.id.in_(channel_watches))).tuples().all())
    by_id = {m.id: m for m in mentions}
    waited: dict[int, list[Mention]] = {}
    for link in session.scalars(select(MentionWatch).where(
            MentionWatch.watch_id.in_(channel_watches), MentionWatch.alerted.is_(False))):
        mention = by_id[link.mention_id]
        if (start <= mention.published_at < end and link.priority < thresholds[link.watch_id]
                and not any(watch in channel_watches
                            for watch in alerts.get(mention.id, ()))):
            waited.setdefault(link.watch_id, []).append(mention)
    return {"by_status": dict(Counter(m.status for m in open_now)),
            "waited": {watch: {m.id for m in held} for watch, held in waited.items()},
            "overdue": len(late), "lines": [m.id for m in late[:OVERDUE_SHOWN]],
            "topics": dict(topics),
            "actionable": len(opened) + len(answered_done),
            "answered": len(answered_done)
            + len([m for m in opened if m.first_response_at or m.replied_at])}


@pytest.mark.parametrize("hours", [-5, 0, 7])
def test_open_work_figures_match_the_rows_and_the_sla_rule(
        sessions: sessionmaker[Session], workspace_id: int, hours: int) -> None:
    ids = _load(sessions, workspace_id)
    now = END + timedelta(hours=hours)
    with sessions() as session:
        config = channel_config(session, workspace_id, CHANNEL)
        report = build_digest_report(session, config, end=END, now=now)
        expected = _expected(session, [ids["alpha"], ids["beta"]], now,
                             report.window_start, report.window_end)
    assert expected["overdue"] and expected["topics"]  # the mix exercises every figure
    assert report.open_by_status == expected["by_status"]
    # The examples are some of them (the highest priorities in the watch, its links').
    waited = expected["waited"]
    assert {group.watch_id: group.count for group in report.waited} == {
        watch: len(held) for watch, held in waited.items()}
    for group in report.waited:
        examples = {line.id for line in group.examples}
        assert examples <= waited[group.watch_id]
        assert len(examples) == min(WAITED_EXAMPLES, len(waited[group.watch_id]))
    assert report.overdue_count == expected["overdue"]
    assert [line.id for line in report.overdue] == expected["lines"]
    assert dict(report.open_by_topic) == expected["topics"]
    assert [count for _name, count in report.open_by_topic] == sorted(
        expected["topics"].values(), reverse=True)
    assert (report.responses.actionable, report.responses.answered) == (
        expected["actionable"], expected["answered"])
