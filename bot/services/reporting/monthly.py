"""The monthly report for management (`/cm report month`, `vigie report --month`).

A calendar month in the workspace's time zone: volume and sentiment per day, networks,
response-time percentiles and the reply gap, SLA kept, spikes and what they were about,
top influencers, top topics, team workload and approvals. Every figure comes from the
queries the digest and `/cm stats` use (``bot.services.reporting.queries``,
``storage.reporting_counts``, ``bot.services.reporting.stats``), the influencer ranking
(``bot.services.influencers``) and the spikes the detector recorded.

Definitions beyond those of ``bot.services.reporting.queries``:

- *Reply gap*: the share of actionable mentions of the month not answered.
- *SLA kept*: of the actionable mentions answered that have an SLA, the share first
  answered within it. The target is the one ``bot.services.sla`` gives (brand watches only,
  the strictest of those that alerted; none for a competitor's mention or a backfilled
  one), counted on the clock from when Vigie received the mention (as the overdue lists
  and the first-response times count it; business hours are not applied here).

The report is built as data (``MonthlyReport``), then turned into a JSON-able spec
(``report_spec``) that the renderers (``bot.reports``) draw as PDF or HTML. In Slack the
spec travels through the outbox and the worker draws the PDF, as it draws charts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import case, exists, func, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t, tally
from bot.messages.spikes import SpikeFigures
from bot.services.actors import SCHEDULER, Actor
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.influencers import Influencer, rank_influencers
from bot.services.outbox import KIND_CHART, do_enqueue
from bot.services.permissions import require_role
from bot.services.reach import reachable
from bot.services.reporting.periods import local_midnight, zone_or_default
from bot.services.reporting.queries import (
    HIGH_PRIORITY,
    SENTIMENT_LABELS,
    UNKNOWN,
    URGENT_PRIORITY,
    ResponseTimes,
    Scope,
    actionable,
    brand_scope,
    count_if,
    in_window,
    largest_spikes,
    response_times,
    scope_volume,
)
from bot.services.reporting.share_of_voice import SovReport, share_of_voice_between
from bot.services.reporting.stats import AgentLoad, ApproverLoad, approvals, workload
from bot.services.sla import response_seconds, sla_targets
from bot.services.topic_channels import topics_of_mask
from storage import reporting_sql
from storage.db import transaction
from storage.models import Mention, Role, Watch, Workspace
from storage.models_cases import QuietMention
from storage.models_competitors import WATCH_BRAND
from storage.models_influencers import ReportRun, ReportSchedule
from storage.models_watches import MentionWatch

MONTH = re.compile(r"(\d{4})-(\d{2})")
FORMATS = ("pdf", "html")
TOP_INFLUENCERS = 10
TOP_TOPICS = 6
MAX_SPIKES = 20
SEVERAL_CHUNK = 500
"""Mentions in several watches whose SLA is read by the rule itself, per query."""
SEND_AFTER = time(8, 0)
"""Scheduled reports go out from 08:00 local time on the first day of the month."""


@dataclass(frozen=True, slots=True)
class SlaKept:
    """Answered mentions of the month, and how many were answered within their SLA."""

    answered: int
    on_time: int

    @property
    def share(self) -> float | None:
        """on_time / answered, or None when nothing was answered."""
        return self.on_time / self.answered if self.answered else None


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the monthly report shows."""

    month: str
    timezone: str
    start: datetime
    end: datetime
    complete: bool
    total: int
    previous_total: int
    by_sentiment: dict[str, int]
    by_network: list[tuple[str, int]]
    days: list[tuple[str, dict[str, int]]]
    responses: ResponseTimes
    sla: SlaKept
    spikes: list[SpikeFigures]
    influencers: list[Influencer]
    topics: list[tuple[str, int]]
    workload: list[AgentLoad]
    approvals: list[ApproverLoad]
    share_of_voice: list[SovGroup] | None = field(default=None)
    """Share of voice of each watch group over the month against the month before; None
    (no group in the workspace) leaves the section out."""

    @property
    def empty(self) -> bool:
        """True when no mention was published in the month."""
        return self.total == 0


def parse_month(value: str | None, now: datetime, timezone: str) -> date:
    """``YYYY-MM`` -> the month's first day; None -> the last complete month.

    ServiceError ``monthly.bad_month`` for anything else and ``monthly.future_month`` for a
    month that has not started yet (the current month is allowed: it runs to now).
    """
    local_today = now.astimezone(zone_or_default(timezone)).date()
    if value is None or not value.strip():
        first = local_today.replace(day=1)
        return date(first.year - 1, 12, 1) if first.month == 1 else first.replace(
            month=first.month - 1)
    match = MONTH.fullmatch(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise ServiceError("monthly.bad_month", value=value[:40])
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if first > local_today:
        raise ServiceError("monthly.future_month", value=value.strip())
    return first


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else first.replace(
        month=first.month + 1)


def _previous_month(first: date) -> date:
    return date(first.year - 1, 12, 1) if first.month == 1 else first.replace(
        month=first.month - 1)


def sla_kept(session: Session, scope: Scope, start: datetime, end: datetime) -> SlaKept:
    """Answered actionable mentions of [start, end) that have an SLA, and those answered
    within it (read through the answered mentions' partial index).

    The target is the one ``bot.services.sla`` gives: the strictest among the brand watches
    that alerted on the mention (all its brand watches when none did), each for the
    mention's priority in that watch; a mention only competitors' watches hold, or one that
    was backfilled, has none and is not counted. Most mentions are in one watch, whose id
    and priority are the mention's own: SQL reads their target from a CASE over the brand
    watches, without a subquery per row. The few with a link beyond their first to a brand
    watch (read from those links' partial index) are then corrected with the rule itself
    (``sla_targets``)."""
    brand = session.execute(select(Watch.id, Watch.sla_urgent_minutes, Watch.sla_high_minutes,
                                   Watch.sla_normal_minutes).where(
        Watch.workspace_id == scope.workspace_id, Watch.kind == WATCH_BRAND)).all()
    if not brand:
        return SlaKept(0, 0)
    single = case(*[(Mention.watch_id == watch_id, case(
        (Mention.priority >= URGENT_PRIORITY, urgent),
        (Mention.priority >= HIGH_PRIORITY, high), else_=normal))
        for watch_id, urgent, high, normal in brand], else_=null())
    answer_at = func.coalesce(Mention.first_response_at, Mention.replied_at)
    waited = response_seconds(session, answer_at)
    where = [*scope.where(), *in_window(start, end), reporting_sql.answered_indexed(),
             actionable(), ~exists().where(QuietMention.mention_id == Mention.id)]
    answered, on_time = session.execute(
        # Within the SLA to the second: SQLite's julianday arithmetic is not exact.
        select(func.count(single), count_if(waited < single * 60 + 1)).where(*where)).one()
    answered, on_time = int(answered), int(on_time)
    several = sorted(set(session.scalars(select(MentionWatch.mention_id).where(
        MentionWatch.workspace_id == scope.workspace_id, ~MentionWatch.is_first,
        MentionWatch.watch_id.in_([row[0] for row in brand]),
        MentionWatch.published_at >= start, MentionWatch.published_at < end))))
    for first in range(0, len(several), SEVERAL_CHUNK):
        rows = session.execute(select(Mention.id, waited, single).where(
            *where, Mention.id.in_(several[first:first + SEVERAL_CHUNK]))).all()
        targets = sla_targets(session, [row[0] for row in rows])
        for mention_id, seconds, guessed in rows:
            if guessed is not None:  # counted above on its first watch's target: undo
                answered -= 1
                on_time -= float(seconds) < guessed * 60 + 1
            target = targets.get(mention_id)
            if target is not None:
                answered += 1
                on_time += float(seconds) < target.minutes * 60 + 1
    return SlaKept(answered, on_time)


def _spikes(session: Session, workspace_id: int, start: datetime, end: datetime
            ) -> list[SpikeFigures]:
    return largest_spikes(session, Scope(workspace_id), start, end, MAX_SPIKES)


def top_topics(session: Session, scope: Scope, start: datetime, end: datetime,
               limit: int = TOP_TOPICS) -> list[tuple[str, int]]:
    """Request topics of the scope's mentions of [start, end), most frequent first (for
    the whole workspace, an index-only read of ``ix_mentions_influencer_window``: one
    GROUP BY over the distinct masks)."""
    counts: dict[str, int] = {}
    for mask, count in session.execute(
            select(Mention.topic_mask, func.count())
            .where(*scope.where(), *in_window(start, end), Mention.topic_mask != 0)
            .group_by(Mention.topic_mask)):
        for name in topics_of_mask(int(mask)):
            counts[name] = counts.get(name, 0) + int(count)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


@dataclass(frozen=True, slots=True)
class SovMember:
    """One watch of a group in the report: its share of the group's mentions and of its
    negative mentions (fractions, None when the group has none), and the change of its share
    of mentions since the previous month in points."""

    watch: str
    kind: str
    mentions: int
    share: float | None
    trend: float | None
    negative_share: float | None


@dataclass(frozen=True, slots=True)
class SovGroup:
    """One watch group's share of voice in the report (opportunities only when the group
    turns competitors' unhappy customers into opportunities)."""

    group: str
    total: int
    members: list[SovMember]
    opportunities: int | None


def _sov_groups(reports: list[SovReport]) -> list[SovGroup] | None:
    if not reports:
        return None
    return [SovGroup(group=r.group, total=r.total.mentions,
                     opportunities=r.opportunities if r.conquest else None,
                     members=[SovMember(watch=m.watch, kind=m.kind, mentions=m.current.mentions,
                                        share=m.share["mentions"], trend=m.trend("mentions"),
                                        negative_share=m.share["negative"])
                              for m in r.members])
            for r in reports]


def build_monthly_report(session: Session, workspace_id: int, first: date, *,
                         now: datetime, timezone: str) -> MonthlyReport:
    """The report of the month starting ``first`` (local days in ``timezone``); a month not
    over yet runs to ``now``."""
    tz = zone_or_default(timezone)
    scope = Scope(workspace_id)
    brand = brand_scope(session, workspace_id)
    start = local_midnight(first, tz)
    month_end = local_midnight(_next_month(first), tz)
    end = min(month_end, now)
    day_edges: list[datetime] = []
    day = first
    while (moment := local_midnight(day, tz)) < end:
        day_edges.append(moment)
        day = date.fromordinal(day.toordinal() + 1)
    labels = [edge.astimezone(tz).strftime("%d") for edge in day_edges]
    # One read of the hourly counts: the previous month, then each day of this one.
    previous_start = local_midnight(_previous_month(first), tz)
    buckets = scope_volume(session, brand, [previous_start, *day_edges, end])
    previous_total = sum(buckets[0].values())
    days: list[tuple[str, dict[str, int]]] = []
    networks: dict[str, int] = {}
    for label, volume in zip(labels, buckets[1:], strict=True):
        counts = dict.fromkeys((*SENTIMENT_LABELS, UNKNOWN), 0)
        for (_watch, network, sentiment), count in volume.items():
            counts[sentiment if sentiment in counts else UNKNOWN] += count
            networks[network] = networks.get(network, 0) + count
        days.append((label, counts))
    by_sentiment = {key: sum(counts[key] for _label, counts in days)
                    for key in (*SENTIMENT_LABELS, UNKNOWN)}
    total = sum(by_sentiment.values())
    return MonthlyReport(
        month=f"{first:%Y-%m}", timezone=tz.key, start=start, end=end,
        complete=end >= month_end, total=total, previous_total=previous_total,
        by_sentiment=by_sentiment,
        by_network=sorted(networks.items(), key=lambda item: (-item[1], item[0])),
        days=days, responses=response_times(session, scope, start, end),
        sla=sla_kept(session, scope, start, end),
        spikes=_spikes(session, workspace_id, start, end),
        influencers=rank_influencers(session, workspace_id, start, end, TOP_INFLUENCERS,
                                     among=brand.where()) if total else [],
        topics=top_topics(session, brand, start, end) if total else [],
        workload=workload(session, scope, start, end),
        approvals=approvals(session, workspace_id, start, end),
        share_of_voice=_sov_groups(share_of_voice_between(
            session, workspace_id, start, end, previous_start=previous_start)),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def report_spec(report: MonthlyReport, language: str, workspace_name: str | None
                ) -> dict[str, Any]:
    """The report as JSON-able data for the renderers (``bot.reports.monthly``)."""
    spec: dict[str, Any] = _jsonable(asdict(report))
    spec["language"] = language
    spec["workspace"] = workspace_name or ""
    spec["responses"]["answered_share"] = report.responses.answered_share
    spec["sla"]["share"] = report.sla.share
    for item, influencer in zip(spec["influencers"], report.influencers, strict=True):
        item["trend"] = influencer.trend
    return spec


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise ServiceError("digest.no_workspace")
    return workspace


def get_monthly_report(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                       month: str | None, now: datetime, default_timezone: str = "UTC",
                       language: str | None = None) -> tuple[MonthlyReport, dict[str, Any]]:
    """The report of ``month`` (``YYYY-MM``; None: the last complete month) and its spec,
    in the workspace's time zone and ``language`` (default: the workspace's). Any member
    may read it (it goes to them privately)."""
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.VIEWER)
        workspace = _workspace(session, workspace_id)
        zone_name = zone_or_default(workspace.timezone, default_timezone).key
        first = parse_month(month, now, zone_name)
        report = build_monthly_report(session, workspace_id, first, now=now,
                                      timezone=zone_name)
        return report, report_spec(report, language or workspace.locale or "en",
                                   workspace.name)


def report_filename(month: str, fmt: str = "pdf") -> str:
    """``vigie-report-2026-11.pdf``."""
    return f"vigie-report-{month}.{fmt}"


def enqueue_report(session: Session, workspace_id: int, channel: str,
                   spec: dict[str, Any], *, title: str, comment: str,
                   dedupe_key: str | None = None) -> bool:
    """Queue the PDF of ``spec`` for ``channel`` (a user id: their DM); the worker draws
    it at send time. False when ``dedupe_key`` was queued already."""
    return do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=channel,
                      payload={"filename": report_filename(spec["month"]), "report": spec,
                               "title": title, "comment": comment},
                      dedupe_key=dedupe_key) is not None


def do_send_report(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                   user_id: str, month: str | None, now: datetime, language: str,
                   default_timezone: str = "UTC") -> MonthlyReport:
    """Build the report (in ``language``) and queue its PDF for ``user_id``'s DM."""
    report, spec = get_monthly_report(sessions, workspace_id, actor, month=month, now=now,
                                      default_timezone=default_timezone, language=language)
    with transaction(sessions) as session:
        enqueue_report(session, workspace_id, user_id, spec,
                       title=t(language, "monthly.file_title", month=report.month),
                       comment=t(language, "monthly.comment", month=report.month,
                                 total=tally(report.total, language)))
    return report


def _check_channel(channel_id: str) -> None:
    if not channel_id or channel_id[:1] not in ("C", "G") or not channel_id.isalnum():
        raise ServiceError("monthly.bad_channel", channel=channel_id)


def do_schedule_monthly(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                        channel_id: str, enabled: bool) -> None:
    """Send (or stop sending) the monthly report to ``channel_id``. Admins only: the
    report names the team's members and their workload."""
    _check_channel(channel_id)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row = session.scalar(select(ReportSchedule).where(
            ReportSchedule.workspace_id == workspace_id,
            ReportSchedule.channel_id == channel_id))
        if row is None:
            row = ReportSchedule(workspace_id=workspace_id, channel_id=channel_id)
            session.add(row)
        row.enabled = enabled
        row.updated_by = actor.user_id
        record(session, workspace_id, actor,
               "report.scheduled" if enabled else "report.unscheduled",
               detail={"channel": channel_id})


def monthly_schedule(sessions: sessionmaker[Session], workspace_id: int, channel_id: str
                     ) -> bool:
    """True when ``channel_id`` gets the monthly report."""
    with sessions() as session:
        return bool(session.scalar(select(ReportSchedule.enabled).where(
            ReportSchedule.workspace_id == workspace_id,
            ReportSchedule.channel_id == channel_id)))


def run_due_reports(sessions: sessionmaker[Session], *, now: datetime,
                    default_timezone: str) -> list[tuple[str, str]]:
    """Queue last month's report for every channel that asked for it, once per month
    (from 08:00 local time on the 1st); call it from any number of workers. Returns the
    (channel, month) pairs queued now."""
    due: list[tuple[int, str, date, str]] = []
    with sessions() as session:
        rows = session.execute(
            select(ReportSchedule, Workspace).join(
                Workspace, Workspace.id == ReportSchedule.workspace_id)
            .where(ReportSchedule.enabled.is_(True),
                   reachable())).all()
        for schedule, workspace in rows:
            tz = zone_or_default(workspace.timezone, default_timezone)
            this_month = now.astimezone(tz).date().replace(day=1)
            send_from = datetime.combine(this_month, SEND_AFTER, tzinfo=tz)
            # Asked for before the month began: a schedule set on the 5th starts next month.
            if now < send_from or schedule.updated_at >= local_midnight(this_month, tz):
                continue
            due.append((workspace.id, schedule.channel_id, _previous_month(this_month),
                        tz.key))
        if not due:
            return []
        done = set(session.execute(
            select(ReportRun.workspace_id, ReportRun.channel_id, ReportRun.month)
            .where(ReportRun.month.in_({f"{first:%Y-%m}" for _w, _c, first, _z in due}))
        ).tuples())
    queued = []
    for workspace_id, channel_id, first, _zone in due:
        month = f"{first:%Y-%m}"
        if (workspace_id, channel_id, month) in done:
            continue
        report, spec = get_monthly_report(sessions, workspace_id, SCHEDULER,
                                          month=month, now=now,
                                          default_timezone=default_timezone)
        language = spec["language"]
        try:
            with transaction(sessions) as session:
                session.add(ReportRun(workspace_id=workspace_id, channel_id=channel_id,
                                      month=month))
                session.flush()
                enqueue_report(session, workspace_id, channel_id, spec,
                               title=t(language, "monthly.file_title", month=month),
                               comment=t(language, "monthly.comment", month=month,
                                         total=tally(report.total, language)),
                               dedupe_key=f"report:{workspace_id}:{channel_id}:{month}")
        except IntegrityError:
            continue  # another worker queued it
        queued.append((channel_id, month))
    return queued
