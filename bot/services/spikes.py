"""Bad-buzz detection per watch: hourly counts from SQL, the detector, and the alert.

Each check looks at the last complete hour and the current one, against the history since
the watch began counting (its creation or first stored mention); a spike is recorded once
per watch and hour (unique key) in the same transaction as its alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.spike_explain import SpikeMention, explain_spike
from bot.analysis.spikes import HourBucket, SpikeConfig, SpikeDecision, detect_spike
from bot.messages.spikes import SpikeAlertSpec
from bot.messages.stored import spec_payload
from bot.services.outbox import KIND_POST, do_enqueue
from bot.services.watch_links import in_watches
from storage.db import transaction
from storage.models import Author, Mention, Watch, Workspace
from storage.models_spikes import Spike
from storage.models_watches import MentionWatch
from storage.time_buckets import hour_start

log = logging.getLogger(__name__)

SAMPLE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class SpikeReport:
    """A spike that was detected and alerted."""

    watch: str
    decision: SpikeDecision


def hourly_buckets(session: Session, watch_id: int, since: datetime, until: datetime
                   ) -> list[HourBucket]:
    """Mentions per hour (total, negative) of a watch, by publication time."""
    link = MentionWatch
    hour = hour_start(session, link.published_at)
    rows = session.execute(
        select(hour, func.count(), func.sum(case((link.sentiment == "negative", 1), else_=0)))
        .where(link.watch_id == watch_id, link.published_at >= since,
               link.published_at < until)
        .group_by(hour).order_by(hour)).all()
    buckets = []
    for start, total, negative in rows:
        moment = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
        moment = moment.replace(tzinfo=until.tzinfo) if moment.tzinfo is None else moment
        buckets.append(HourBucket(moment, int(total), int(negative or 0)))
    return buckets


def counting_start(session: Session, watch: Watch, earliest: datetime) -> datetime:
    """When the watch's hourly counts begin to mean something, no earlier than ``earliest``.

    A watch counts its mentions from its creation; a watch re-created over stored mentions
    linked to it has their history too, from the first of them. Hours before both are
    unknown, not calm: counting them as zeros would let a new watch's first busy hour
    pass for a spike.
    """
    first = session.scalar(select(func.min(MentionWatch.published_at)).where(
        MentionWatch.watch_id == watch.id))
    moments = [_aware(moment, earliest) for moment in (watch.created_at, first)
               if moment is not None]
    return max(earliest, min(moments, default=earliest))


def _aware(moment: datetime, like: datetime) -> datetime:
    """``moment`` with ``like``'s zone when the database returned it naive (SQLite, UTC)."""
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


def _explain_and_alert(session: Session, watch: Watch, decision: SpikeDecision,
                       workspace: Workspace | None, now: datetime) -> None:
    start = decision.start
    rows = session.execute(
        select(Mention, Author.handle, Author.followers)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        .where(in_watches([watch.id]), Mention.published_at >= start,
               Mention.published_at < start + timedelta(hours=1))
        .limit(SAMPLE_LIMIT)).all()
    baseline_rows = session.scalars(
        select(Mention.text).where(in_watches([watch.id]),
                                   Mention.published_at < start - timedelta(hours=1))
        .order_by(Mention.id.desc()).limit(SAMPLE_LIMIT)).all()
    explanation = explain_spike(
        [SpikeMention(text=m.text, author=handle or "?", followers=followers,
                      sentiment_label=m.sentiment_label or "neutral", engagement=m.engagement,
                      links=(m.url,), url=m.url, mention_id=str(m.id))
         for m, handle, followers in rows],
        [SpikeMention(text=text, author="") for text in baseline_rows])
    alert = SpikeAlertSpec.of(watch.name, decision, explanation,
                              workspace.locale if workspace else "en", now=now,
                              zone=workspace.timezone if workspace else "UTC")
    do_enqueue(session, workspace_id=watch.workspace_id, kind=KIND_POST,
               channel=watch.channel_id, payload=spec_payload(alert),
               dedupe_key=f"spike:{watch.id}:{start.isoformat()}")


def _update_recorded(session: Session, watch_id: int, hours: tuple[datetime, ...],
                     by_start: dict[datetime, HourBucket], buckets: list[HourBucket],
                     config: SpikeConfig, since: datetime) -> None:
    """Bring the spikes recorded for ``hours`` up to their hour's count so far: a spike
    found at 14:15 is stored with the hour's first quarter; the checks until the hour
    is over (and through the next one) complete it, so the digest and the monthly
    report show and rank whole hours."""
    for spike in session.scalars(select(Spike).where(Spike.watch_id == watch_id,
                                                     Spike.hour_start.in_(hours))):
        start = _aware(spike.hour_start, since)
        current = by_start.get(start, HourBucket(start, 0, 0))
        if (current.total, current.negative) == (spike.total, spike.negative):
            continue
        decision = detect_spike([b for b in buckets if b.start < start], current, config,
                                since=since)
        spike.total, spike.negative = current.total, current.negative
        spike.negative_share = current.negative / current.total if current.total else 0.0
        if decision is not None:
            spike.kind, spike.baseline = decision.kind, decision.baseline
            spike.baseline_negative_share = decision.baseline_negative_share
            spike.summary = decision.summary()


def check_watch(sessions: sessionmaker[Session], watch_id: int, now: datetime,
                config: SpikeConfig | None = None) -> SpikeReport | None:
    """Look for a spike in the last complete hour and the current one; alert once."""
    config = config or SpikeConfig()
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    since = current_hour - timedelta(days=config.history_days + 1)
    with transaction(sessions) as session:
        watch = session.get(Watch, watch_id)
        if watch is None or watch.paused:
            return None
        buckets = hourly_buckets(session, watch_id, since, current_hour + timedelta(hours=1))
        since = counting_start(session, watch, since)
        last = session.scalar(select(func.max(Spike.hour_start)).where(
            Spike.watch_id == watch_id))
        by_start = {b.start: b for b in buckets}
        hours = (current_hour - timedelta(hours=1), current_hour)
        _update_recorded(session, watch_id, hours, by_start, buckets, config, since)
        for start in hours:
            current = by_start.get(start, HourBucket(start, 0, 0))
            history = [b for b in buckets if b.start < start]
            decision = detect_spike(history, current, config, last_spike_at=last, since=since)
            if decision is None:
                continue
            workspace = session.get(Workspace, watch.workspace_id)
            session.add(Spike(
                workspace_id=watch.workspace_id, watch_id=watch.id, hour_start=start,
                kind=decision.kind, total=decision.total, baseline=decision.baseline,
                negative=decision.negative, negative_share=decision.negative_share,
                baseline_negative_share=decision.baseline_negative_share,
                summary=decision.summary()))
            try:
                session.flush()
            except IntegrityError:
                return None  # another worker recorded this spike
            _explain_and_alert(session, watch, decision, workspace, now)
            return SpikeReport(watch.name, decision)
    return None


def run_spike_checks(sessions: sessionmaker[Session], now: datetime) -> list[SpikeReport]:
    """Check every active watch; one watch's failure never stops the others."""
    with sessions() as session:
        watch_ids = list(session.scalars(select(Watch.id).where(Watch.paused.is_(False))))
    found = []
    for watch_id in watch_ids:
        try:
            report = check_watch(sessions, watch_id, now)
        except Exception:
            log.exception("spike check failed for watch %s", watch_id)
            continue
        if report is not None:
            found.append(report)
    return found
