"""Bad-buzz detection: hourly counts from SQL, the detector, and the alerts.

Each check looks at the last complete hour and the current one of a channel's watches
(and the ``LATE_HOURS`` before, for posts stored late, their quiet backfill left out),
against each watch's history since it began counting (its creation or first stored
mention); a spike is recorded once per watch and hour (unique key), and brought up to its
hour's count by the next checks. The spikes of a channel's watches make one event while
they last (one open event per channel, unique): its first spikes give one alert naming
their watches; each complete hour that is still a spike is posted in the alert's thread;
after ``quiet_hours`` complete hours without one, a note in the thread says it is over
(each watch's figures in the last hour, the peak, how long it lasted). A thread note waits
for its alert's ts (the alert still on its way); an alert Slack refused leaves no thread,
so its notes go to the channel.

Competitor watches are left out: a spike of negative posts about a competitor is no crisis
of the brand's, and a competitor watch never alerts (``bot.services.competitors``); its
complaints reach the team as conquest opportunities when its group asks for them. An event
whose channel has no active brand watch any more (paused, removed, made a competitor) is
closed by the next check with a note in its thread saying the follow-up stopped: nothing
counts its hours any more, so "back to usual" would be a guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.reach import AuthorActivity
from bot.analysis.spike_explain import SpikeMention, explain_spike
from bot.analysis.spikes import (
    HourBucket,
    SpikeConfig,
    SpikeDecision,
    assess_hour,
    detect_spike,
)
from bot.messages.spikes import (
    STAGE_OVER,
    STAGE_STOPPED,
    STAGE_UPDATE,
    SpikeAlertSpec,
    SpikeWatchFigures,
)
from bot.messages.stored import payload_spec, spec_payload
from bot.services.outbox import (
    KIND_POST,
    KIND_THREAD,
    KIND_UPDATE_POST,
    RANK_ALERT,
    do_enqueue,
)
from bot.services.reach import reachable
from bot.services.reporting.periods import zone_or_default
from bot.services.watch_links import in_watches
from storage.db import transaction
from storage.mention_listing import authors_with_keys
from storage.models import (
    AuditEvent,
    Author,
    Mention,
    OutboxMessage,
    OutboxStatus,
    Watch,
    Workspace,
)
from storage.models_cases import QuietMention
from storage.models_competitors import WATCH_COMPETITOR
from storage.models_reporting import DigestSchedule
from storage.models_spikes import Spike, SpikeEvent
from storage.models_watches import MentionWatch
from storage.time_buckets import hour_start

log = logging.getLogger(__name__)

SAMPLE_LIMIT = 500
LATE_HOURS = 6
"""Complete hours before the previous one each check still looks at: a spike whose posts
are stored late (a source rate-limited or in backoff for a while) is found when they come."""


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


def quiet_by_hour(session: Session, watch_id: int, since: datetime, until: datetime
                  ) -> dict[datetime, int]:
    """Per hour, the watch's mentions published in [since, until) that were stored quietly
    (a backfill's history, ``bot.services.backfill``): they never alert, a spike either."""
    link = MentionWatch
    hour = hour_start(session, link.published_at)
    rows = session.execute(
        select(hour, func.count())
        .join(QuietMention, QuietMention.mention_id == link.mention_id)
        .where(link.watch_id == watch_id, link.published_at >= since,
               link.published_at < until)
        .group_by(hour)).all()
    out = {}
    for start, count in rows:
        moment = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
        out[_aware(moment, until)] = int(count)
    return out


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


def paused_spans(session: Session, watch: Watch, earliest: datetime, now: datetime
                 ) -> list[tuple[datetime, datetime]]:
    """The spans since ``earliest`` the watch was paused (its ``watch.paused`` and
    ``watch.resumed`` audit events): nothing was polled then, so those hours are unknown,
    not calm. A resume with no pause since ``earliest`` ends a pause begun before it; a
    pause with no resume yet lasts until ``now``. Only events since the watch's creation
    and of its id (older ones: of its name) are its own: a removed namesake's pause is
    not a new watch's."""
    events = session.execute(
        select(AuditEvent.action, AuditEvent.created_at, AuditEvent.detail)
        .where(AuditEvent.workspace_id == watch.workspace_id,
               AuditEvent.created_at >= earliest, AuditEvent.created_at <= now,
               AuditEvent.action.in_(("watch.paused", "watch.resumed")))
        .order_by(AuditEvent.created_at, AuditEvent.id)).all()
    spans: list[tuple[datetime, datetime]] = []
    paused_at: datetime | None = None
    first = True
    created = _aware(watch.created_at, now) if watch.created_at is not None else None
    for action, at, detail in events:
        at = _aware(at, now)
        if not _of_watch(detail or {}, at, watch, created):
            continue
        if action == "watch.paused":
            paused_at = at if paused_at is None else paused_at
        else:
            began = paused_at if paused_at is not None else earliest if first else None
            if began is not None:
                spans.append((began, at))
            paused_at = None
        first = False
    if paused_at is not None:
        spans.append((paused_at, now))
    return spans


def _of_watch(detail: dict[str, object], at: datetime, watch: Watch,
              created: datetime | None) -> bool:
    """Whether a pause or resume event written at ``at`` is ``watch``'s: of its id (or
    its name, written before events had the id) and not before its creation (SQLite
    gives a removed watch's id to the next one)."""
    if created is not None and at < created:
        return False
    if "watch_id" in detail:
        return detail["watch_id"] == watch.id
    return detail.get("watch") == watch.name


def _aware(moment: datetime, like: datetime) -> datetime:
    """``moment`` with ``like``'s zone when the database returned it naive (SQLite, UTC)."""
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


def baseline_zone(session: Session, workspace: Workspace | None, channel_id: str) -> tzinfo:
    """The time zone whose hours of day and weekends a channel's baseline compares: its
    digest's (the channel's digest zone, else the workspace's, else UTC), so a brand's
    9 am rush is 9 am in summer and winter alike."""
    if workspace is None:
        return UTC
    schedule_zone = session.scalar(select(DigestSchedule.timezone).where(
        DigestSchedule.workspace_id == workspace.id, DigestSchedule.channel_id == channel_id))
    return zone_or_default(schedule_zone, workspace.timezone)


@dataclass(slots=True)
class _WatchCounts:
    """A watch's hourly counts for one check, when they began to mean something, and the
    zone whose hours of day and weekends its baseline compares."""

    watch: Watch
    since: datetime
    by_start: dict[datetime, HourBucket]
    zone: tzinfo = UTC
    gaps: tuple[tuple[datetime, datetime], ...] = ()
    quiet: dict[datetime, int] | None = None

    def bucket(self, start: datetime) -> HourBucket:
        """The hour starting at ``start`` (zero when nothing was published in it)."""
        return self.by_start.get(start, HourBucket(start, 0, 0))

    def loud(self, start: datetime) -> HourBucket:
        """The hour starting at ``start`` without its quietly stored mentions (``quiet``):
        the figures a late hour is judged on, so a backfill's history never alerts."""
        bucket = self.bucket(start)
        quiet = (self.quiet or {}).get(start, 0)
        if not quiet:
            return bucket
        total = max(bucket.total - quiet, 0)
        return HourBucket(start, total, min(bucket.negative, total))

    def history(self, start: datetime) -> list[HourBucket]:
        """The hours before ``start``."""
        return [b for b in self.by_start.values() if b.start < start]


class _Raced(Exception):
    """Another worker recorded the same spike or opened the channel's event first."""


def _figures(name: str, row: Spike | SpikeDecision) -> SpikeWatchFigures:
    return SpikeWatchFigures(name, row.total, row.baseline, row.negative_share,
                             row.baseline_negative_share)


def _alert(session: Session, event: SpikeEvent, found: list[tuple[Watch, SpikeDecision]],
           workspace: Workspace | None, now: datetime) -> None:
    """The event's first message: the largest of its first hour's spikes, explained by
    their watches' mentions, naming the other watches of the channel that spiked too."""
    first = min(decision.start for _, decision in found)
    hour = sorted(((w, d) for w, d in found if d.start == first),
                  key=lambda pair: (-pair[1].total, pair[0].name))
    watch, decision = hour[0]
    start = decision.start
    ids = [w.id for w, _ in hour]
    in_hour = (in_watches(ids), Mention.published_at >= start,
               Mention.published_at < start + timedelta(hours=1))
    # A big hour has more mentions than the sample: the telling ones (negative, then
    # reach and engagement) go first, so terms and examples come from what drives it.
    rows = session.execute(
        select(Mention, Author.handle, Author.followers)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        .where(*in_hour)
        .order_by(case((Mention.sentiment_label == "negative", 0), else_=1),
                  func.coalesce(Author.followers, 0).desc(), Mention.engagement.desc(),
                  Mention.id)
        .limit(SAMPLE_LIMIT)).all()
    baseline_rows = session.scalars(
        select(Mention.text).where(in_watches(ids),
                                   Mention.published_at < start - timedelta(hours=1))
        .order_by(Mention.id.desc()).limit(SAMPLE_LIMIT)).all()
    explanation = explain_spike(
        [SpikeMention(text=m.text, author=handle or "?", followers=followers,
                      sentiment_label=m.sentiment_label or "neutral", engagement=m.engagement,
                      links=(m.url,), url=m.url, mention_id=str(m.id))
         for m, handle, followers in rows],
        [SpikeMention(text=text, author="") for text in baseline_rows],
        authors=_hour_authors(session, in_hour))
    alert = SpikeAlertSpec.of(watch.name, decision, explanation, _language(workspace),
                              now=now, zone=_zone(workspace),
                              others=tuple(_figures(w.name, d) for w, d in hour[1:]))
    row = do_enqueue(session, workspace_id=event.workspace_id, kind=KIND_POST,
                     channel=event.channel_id, payload=spec_payload(alert),
                     dedupe_key=f"spike-event:{event.id}", rank=RANK_ALERT)
    event.alert_outbox_id = row.id if row is not None else None
    if now >= start + timedelta(hours=1):
        event.reported_hour = start  # the alert already shows the whole hour


def _hour_authors(session: Session, in_hour: tuple[ColumnElement[bool], ...]
                  ) -> list[AuthorActivity]:
    """Every author with a negative mention among those matching ``in_hour``, with their
    mentions, negative ones, reach and engagement over all of them (summed in SQL, not
    over a sample). Handles are grouped case-insensitively, as the alert shows them;
    mentions without a stored author name nobody and are left out."""
    negative = func.sum(case((Mention.sentiment_label == "negative", 1), else_=0))
    rows = session.execute(
        select(func.min(Author.handle), func.max(Author.followers), func.count(), negative,
               func.sum(case((Mention.engagement > 0, Mention.engagement), else_=0)))
        .select_from(Mention).join(Author, Author.id == Mention.author_id)
        .where(*in_hour)
        .group_by(func.lower(Author.handle)).having(negative > 0)).all()
    return [AuthorActivity(handle=handle, followers=followers, mentions=int(total),
                           negative=int(negatives), engagement=int(engagement or 0))
            for handle, followers, total, negatives, engagement in rows]


def _language(workspace: Workspace | None) -> str:
    return workspace.locale if workspace else "en"


def _zone(workspace: Workspace | None) -> str:
    return workspace.timezone if workspace else "UTC"


def _in_thread(session: Session, event: SpikeEvent, spec: SpikeAlertSpec, key: str) -> bool:
    """Queue ``spec`` in the thread of the event's alert; False (nothing queued) while the
    alert is on its way, so its ts is not known yet. An alert Slack refused for good
    leaves no thread: the note goes to the channel."""
    alert = session.get(OutboxMessage, event.alert_outbox_id) \
        if event.alert_outbox_id is not None else None
    if alert is not None and alert.status == OutboxStatus.PENDING.value:
        return False
    payload = spec_payload(spec)
    if alert is not None and alert.result_ts:
        do_enqueue(session, workspace_id=event.workspace_id, kind=KIND_THREAD,
                   channel=event.channel_id, payload={**payload, "thread_ts": alert.result_ts},
                   dedupe_key=key, rank=RANK_ALERT)
    else:
        do_enqueue(session, workspace_id=event.workspace_id, kind=KIND_POST,
                   channel=event.channel_id, payload=payload, dedupe_key=key, rank=RANK_ALERT)
    return True


def _event_spikes(session: Session, event: SpikeEvent) -> list[tuple[str, Spike]]:
    return [(name, spike) for spike, name in session.execute(
        select(Spike, Watch.name).join(Watch, Watch.id == Spike.watch_id)
        .where(Spike.event_id == event.id).order_by(Spike.hour_start, Watch.name))]


def _update(session: Session, event: SpikeEvent, hour: datetime,
            workspace: Workspace | None) -> None:
    """Post the figures of ``hour``, now complete, in the thread when it was a spike of the
    event and was not posted yet."""
    if event.reported_hour is not None and _utc(event.reported_hour) >= hour:
        return
    spikes = [(name, spike) for name, spike in _event_spikes(session, event)
              if _utc(spike.hour_start) == hour]
    if not spikes:
        return
    spikes.sort(key=lambda pair: (-pair[1].total, pair[0]))
    name, lead = spikes[0]
    spec = SpikeAlertSpec(
        language=_language(workspace), watch=name, kind=lead.kind, total=lead.total,
        baseline=lead.baseline, negative_share=lead.negative_share,
        baseline_negative_share=lead.baseline_negative_share, hour_start=hour,
        zone=_zone(workspace), stage=STAGE_UPDATE,
        watches=tuple(_figures(n, spike) for n, spike in spikes))
    if _in_thread(session, event, spec, f"spike-event:{event.id}:{hour.isoformat()}"):
        event.reported_hour = hour
        _refresh_alert(session, event, spec)


def _refresh_alert(session: Session, event: SpikeEvent, hour: SpikeAlertSpec) -> None:
    """Bring the event's alert, at the top level of the channel, to the figures of the
    hour ``hour`` posts in its thread (``chat.update``): the channel shows where the event
    stands, not only how it began. Its explanation (terms, links, authors, examples) stays
    that of the first hour, and the alert then says when the event began."""
    alert = session.get(OutboxMessage, event.alert_outbox_id) \
        if event.alert_outbox_id is not None else None
    if alert is None or not alert.result_ts:
        return  # refused for good: no message to update (the notes went to the channel)
    first = payload_spec(alert.payload)
    if not isinstance(first, SpikeAlertSpec) or hour.hour_start is None:
        return
    lead, *others = hour.watches
    spec = replace(_still_stored(session, event.workspace_id, first), watch=lead.watch,
                   kind=hour.kind, total=lead.total,
                   baseline=lead.baseline, negative_share=lead.negative_share,
                   baseline_negative_share=lead.baseline_negative_share,
                   hour_start=hour.hour_start, counted_until=None, watches=tuple(others),
                   first_hour=_utc(event.first_hour))
    do_enqueue(session, workspace_id=event.workspace_id, kind=KIND_UPDATE_POST,
               channel=event.channel_id, payload={**spec_payload(spec), "ts": alert.result_ts},
               dedupe_key=f"spike-event:{event.id}:{hour.hour_start.isoformat()}:alert")


def _still_stored(session: Session, workspace_id: int, spec: SpikeAlertSpec
                  ) -> SpikeAlertSpec:
    """``spec`` without the examples and authors no longer stored (an author forgotten, a
    post purged since the alert was posted): a refreshed alert never posts again the
    words or the name of someone Vigie was asked to forget.

    Examples are looked up by their mention ids (the primary key) and compared by URL,
    never searched by URL, which no index holds: that read the workspace's every mention,
    each hour of each open event. An alert queued before examples kept their ids names
    them by URL alone: they are looked for among the mentions published in the alert's
    hour, where they were taken from (the (workspace_id, published_at) index), and left
    out without an hour."""
    ids = sorted({s.mention_id for s in spec.samples if s.mention_id is not None})
    # With its URL: SQLite gives the ids of the last mentions deleted to the next ones
    # stored (no AUTOINCREMENT), so an id alone may name another post by now.
    kept_ids = set(session.execute(select(Mention.id, Mention.url).where(
        Mention.workspace_id == workspace_id, Mention.id.in_(ids))).tuples()) if ids else set()
    urls = sorted({s.url for s in spec.samples if s.mention_id is None and s.url})
    kept_urls: set[str] = set()
    if urls and spec.hour_start is not None:
        kept_urls = set(session.scalars(select(Mention.url).where(
            Mention.workspace_id == workspace_id, Mention.published_at >= spec.hour_start,
            Mention.published_at < spec.hour_start + timedelta(hours=1),
            Mention.url.in_(urls))))
    # Read by their handle key (the (workspace_id, handle_key) index): every author whose
    # handle is one of these, whatever its case, has the key of it.
    handles = {handle.lower() for handle, _ in spec.authors}
    kept_handles = {handle.lower() for _, handle in authors_with_keys(
        session.connection(), workspace_id, sorted(handles))} & handles if handles else set()
    return replace(spec, samples=tuple(
        s for s in spec.samples
        if ((s.mention_id, s.url) in kept_ids if s.mention_id is not None
            else s.url in kept_urls)),
        authors=tuple(a for a in spec.authors if a[0].lower() in kept_handles))


def _end(session: Session, event: SpikeEvent, counts: list[_WatchCounts], hour: datetime,
         config: SpikeConfig, workspace: Workspace | None, now: datetime) -> bool:
    """Close the event with a note in its thread: each of its watches' figures in ``hour``
    (back to usual), its peak and how long it lasted. False while the note must wait."""
    spikes = _event_spikes(session, event)
    names = {name for name, _ in spikes}
    calm = []
    for state in counts:
        if state.watch.name in names:
            figures = assess_hour(state.history(hour), state.bucket(hour), config,
                                  since=state.since, zone=state.zone, gaps=state.gaps)
            if figures is not None:
                calm.append(_figures(state.watch.name, figures))
    if spikes:
        peak_name, peak = max(spikes, key=lambda pair: (
            pair[1].total, -_utc(pair[1].hour_start).timestamp()))
    spec = SpikeAlertSpec(
        language=_language(workspace), watch=", ".join(sorted(names)), kind="volume",
        total=0, baseline=0.0, negative_share=0.0, baseline_negative_share=0.0,
        hour_start=hour, zone=_zone(workspace), stage=STAGE_OVER,
        watches=tuple(sorted(calm, key=lambda figures: figures.watch)),
        peak=_figures(peak_name, peak) if spikes else None,
        peak_hour=_utc(peak.hour_start) if spikes else None,
        first_hour=_utc(event.first_hour), last_hour=_utc(event.last_hour))
    if not _in_thread(session, event, spec, f"spike-event:{event.id}:over"):
        return False
    event.ended_at = now
    return True


def _utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite returns them naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _update_recorded(session: Session, state: _WatchCounts, hours: tuple[datetime, ...],
                     config: SpikeConfig) -> None:
    """Bring the spikes recorded for ``hours`` up to their hour's count so far: a spike
    found at 14:15 is stored with the hour's first quarter; the checks until the hour
    is over (and through the next one) complete it, so the digest and the monthly
    report show and rank whole hours."""
    for spike in session.scalars(select(Spike).where(Spike.watch_id == state.watch.id,
                                                     Spike.hour_start.in_(hours))):
        start = _utc(spike.hour_start)
        current = state.bucket(start)
        if (current.total, current.negative) == (spike.total, spike.negative):
            continue
        decision = detect_spike(state.history(start), current, config, since=state.since,
                                zone=state.zone, gaps=state.gaps)
        spike.total, spike.negative = current.total, current.negative
        spike.negative_share = current.negative / current.total if current.total else 0.0
        if decision is not None:
            spike.kind, spike.baseline = decision.kind, decision.baseline
            spike.baseline_negative_share = decision.baseline_negative_share
            spike.summary = decision.summary()


def _check(session: Session, watches: list[Watch], now: datetime,
           config: SpikeConfig) -> list[SpikeReport]:
    """Check ``watches`` (one channel's) in the caller's transaction; see the module doc."""
    if not watches:
        return []
    current_hour = _utc(now).replace(minute=0, second=0, microsecond=0)
    previous_hour = current_hour - timedelta(hours=1)
    late = tuple(previous_hour - k * timedelta(hours=1) for k in range(LATE_HOURS, 0, -1))
    hours = (*late, previous_hour, current_hour)
    earliest = current_hour - timedelta(days=config.history_days + 1)
    workspace = session.get(Workspace, watches[0].workspace_id)
    zone = baseline_zone(session, workspace, watches[0].channel_id)
    counts = []
    for watch in watches:
        buckets = hourly_buckets(session, watch.id, earliest, current_hour + timedelta(hours=1))
        state = _WatchCounts(watch, counting_start(session, watch, earliest),
                             {b.start: b for b in buckets}, zone,
                             tuple(paused_spans(session, watch, earliest, now)),
                             quiet_by_hour(session, watch.id, late[0], previous_hour))
        _update_recorded(session, state, hours, config)
        counts.append(state)
    recorded = set(session.execute(select(Spike.watch_id, Spike.hour_start).where(
        Spike.watch_id.in_([w.id for w in watches]), Spike.hour_start.in_(hours))).tuples())
    found: list[tuple[Watch, SpikeDecision]] = []
    for state in counts:
        for start in hours:
            if any(w == state.watch.id and _utc(h) == start for w, h in recorded):
                continue
            # An hour before the previous one is complete since the last checks: it is
            # looked at again for posts stored since (late), its quiet ones left out.
            current = state.loud(start) if start < previous_hour else state.bucket(start)
            decision = detect_spike(state.history(start), current, config,
                                    since=state.since, zone=state.zone, gaps=state.gaps)
            if decision is not None:
                found.append((state.watch, decision))
    event = session.scalars(select(SpikeEvent).where(
        SpikeEvent.workspace_id == watches[0].workspace_id,
        SpikeEvent.channel_id == watches[0].channel_id,
        SpikeEvent.ended_at.is_(None))).first()
    # Detection comes first: an hour the end would call quiet may be a spike now that it
    # is complete (found late), and then the event goes on rather than ending and opening
    # again with a new alert.
    if event is not None and event.ended_at is None \
            and previous_hour - _utc(event.last_hour) >= timedelta(hours=config.quiet_hours) \
            and not any(decision.start <= previous_hour for _, decision in found) \
            and _end(session, event, counts, previous_hour, config, workspace, now):
        event = None
    if found:
        starts = [decision.start for _, decision in found]
        opening = event is None
        if event is None:
            event = SpikeEvent(workspace_id=watches[0].workspace_id,
                               channel_id=watches[0].channel_id, first_hour=min(starts),
                               last_hour=max(starts))
            session.add(event)
        else:
            event.last_hour = max(_utc(event.last_hour), *starts)
        try:
            session.flush()
            for watch, decision in found:
                session.add(Spike(
                    workspace_id=watch.workspace_id, watch_id=watch.id,
                    hour_start=decision.start, kind=decision.kind, total=decision.total,
                    baseline=decision.baseline, negative=decision.negative,
                    negative_share=decision.negative_share,
                    baseline_negative_share=decision.baseline_negative_share,
                    summary=decision.summary(), event_id=event.id))
            session.flush()
        except IntegrityError as err:
            raise _Raced from err
        if opening:
            _alert(session, event, found, workspace, now)
    if event is not None and event.ended_at is None:
        _update(session, event, previous_hour, workspace)
    return [SpikeReport(watch.name, decision) for watch, decision in found]


def _alerting() -> tuple[ColumnElement[bool], ...]:
    """The watches whose spikes are the brand's: active, and not a competitor's."""
    return Watch.paused.is_(False), Watch.kind != WATCH_COMPETITOR


def check_channel(sessions: sessionmaker[Session], workspace_id: int, channel_id: str,
                  now: datetime, config: SpikeConfig | None = None) -> list[SpikeReport]:
    """Check the active brand watches alerting in a channel together, in one transaction:
    the spikes they find in the same event give one alert (see the module doc)."""
    try:
        with transaction(sessions) as session:
            watches = list(session.scalars(select(Watch).where(
                Watch.workspace_id == workspace_id, Watch.channel_id == channel_id,
                *_alerting()).order_by(Watch.id)))
            return _check(session, watches, now, config or SpikeConfig())
    except _Raced:
        return []  # another worker checked this channel at the same time


def check_watch(sessions: sessionmaker[Session], watch_id: int, now: datetime,
                config: SpikeConfig | None = None) -> SpikeReport | None:
    """Check one watch (within its channel's event): its first new spike, if any."""
    try:
        with transaction(sessions) as session:
            watch = session.get(Watch, watch_id)
            if watch is None or watch.paused or watch.kind == WATCH_COMPETITOR:
                return None
            reports = _check(session, [watch], now, config or SpikeConfig())
    except _Raced:
        return None
    return reports[0] if reports else None


def _stop(session: Session, event: SpikeEvent, now: datetime) -> bool:
    """Close an event no active brand watch of its channel follows any more, with a note in
    its thread saying so (its peak and span when its watches are still stored). Not "back
    to usual": nothing counts the channel's hours any more. False while the note must wait
    for the alert's ts."""
    workspace = session.get(Workspace, event.workspace_id)
    spikes = _event_spikes(session, event)
    peak = max(spikes, key=lambda pair: (
        pair[1].total, -_utc(pair[1].hour_start).timestamp())) if spikes else None
    spec = SpikeAlertSpec(
        language=_language(workspace), watch=", ".join(sorted({name for name, _ in spikes})),
        kind="volume", total=0, baseline=0.0, negative_share=0.0,
        baseline_negative_share=0.0, zone=_zone(workspace), stage=STAGE_STOPPED,
        peak=_figures(*peak) if peak else None,
        peak_hour=_utc(peak[1].hour_start) if peak else None,
        first_hour=_utc(event.first_hour), last_hour=_utc(event.last_hour))
    if not _in_thread(session, event, spec, f"spike-event:{event.id}:over"):
        return False
    event.ended_at = now
    return True


def close_unwatched_events(sessions: sessionmaker[Session], now: datetime) -> int:
    """Close the open events of channels where no active brand watch alerts any more
    (paused, removed or made a competitor's): no check would ever end them. Returns how
    many were closed; an event whose alert is still on its way waits for the next run."""
    active = select(Watch.id).where(Watch.workspace_id == SpikeEvent.workspace_id,
                                    Watch.channel_id == SpikeEvent.channel_id, *_alerting())
    with sessions() as session:
        ids = session.scalars(select(SpikeEvent.id).where(
            SpikeEvent.ended_at.is_(None), ~exists(active)).order_by(SpikeEvent.id)).all()
    closed = 0
    for event_id in ids:
        with transaction(sessions) as session:
            event = session.get(SpikeEvent, event_id, with_for_update=True)
            # Read again under the event's lock: a watch resumed meanwhile keeps it open.
            if event is not None and event.ended_at is None \
                    and session.scalar(select(Watch.id).where(
                        Watch.workspace_id == event.workspace_id,
                        Watch.channel_id == event.channel_id, *_alerting()).limit(1)) is None \
                    and _stop(session, event, now):
                closed += 1
    return closed


def run_spike_checks(sessions: sessionmaker[Session], now: datetime) -> list[SpikeReport]:
    """Check every channel's active brand watches; one channel's failure never stops the
    others."""
    with sessions() as session:
        # Not in a workspace out of reach (uninstalled, its token refused: ``reach``): its
        # alerts would wait in its paused outbox, all to be sent at once on a reinstall.
        channels = session.execute(
            select(Watch.workspace_id, Watch.channel_id)
            .join(Workspace, Workspace.id == Watch.workspace_id)
            .where(*_alerting(), reachable())
            .distinct().order_by(Watch.workspace_id, Watch.channel_id)).tuples().all()
    found = []
    for workspace_id, channel_id in channels:
        try:
            found += check_channel(sessions, workspace_id, channel_id, now)
        except Exception:
            log.exception("spike check failed for channel %s", channel_id)
    try:
        close_unwatched_events(sessions, now)
    except Exception:
        log.exception("closing the spike events no watch follows failed")
    return found
