"""`/cm stats [7d|30d|90d]`: volume, sentiment trend, responses, workload, approvals, top
authors and busiest hours over a period, all from SQL aggregates.

The period is the last N local days up to now in the workspace's time zone (same
definitions as the digest: see ``bot.services.reporting.queries``). Mentions are selected
by ``created_at``; approvals by the time the decision was taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import day_month, t
from bot.reports.charts import chart_labels
from bot.services.actors import Actor
from bot.services.opportunities import opportunity_counts
from bot.services.outbox import KIND_CHART, do_enqueue
from bot.services.permissions import require_role
from bot.services.reporting.periods import (
    last_days,
    local_midnight,
    offset_segments,
    parse_days,
    zone_or_default,
)
from bot.services.reporting.queries import (
    SENTIMENT_LABELS,
    UNKNOWN,
    AuthorReach,
    ResponseTimes,
    Scope,
    answered,
    brand_scope,
    count_if,
    hour_histogram,
    in_window,
    open_work,
    response_times,
    scope_volume,
    sentiment_series,
    top_authors,
)
from storage.db import transaction
from storage.models import Approval, Mention, Role, Workspace

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "7d"
BUSIEST_HOURS = 3


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """Mentions assigned to one person in the period."""

    user_id: str
    assigned: int
    open: int
    answered: int


@dataclass(frozen=True, slots=True)
class ApproverLoad:
    """Decisions one approver took in the period."""

    user_id: str
    approved: int
    rejected: int


@dataclass(frozen=True)
class StatsReport:
    """Everything `/cm stats` shows."""

    days: int
    timezone: str
    start: datetime
    end: datetime
    total: int
    by_sentiment: dict[str, int]
    by_network: list[tuple[str, int]]
    buckets: list[tuple[date, dict[str, int]]]
    trend: list[tuple[date, float | None]]
    responses: ResponseTimes
    workload: list[AgentLoad]
    approvals: list[ApproverLoad]
    top_authors: list[AuthorReach]
    hours: list[int]
    opportunities: dict[str, int] = field(default_factory=dict)
    """Conquest opportunities of the period's posts, per status."""

    @property
    def busiest_hours(self) -> list[tuple[int, int]]:
        """The three local hours with the most mentions, busiest first."""
        ranked = sorted(enumerate(self.hours), key=lambda item: (-item[1], item[0]))
        return [(hour, count) for hour, count in ranked[:BUSIEST_HOURS] if count]


def parse_period(text: str | None) -> int:
    """``7d``, ``30d`` or ``90d`` (default 7d) -> days; ServiceError ``stats.bad_period``."""
    return parse_days(text, PERIODS, DEFAULT_PERIOD, "stats.bad_period")


def _buckets(start: datetime, end: datetime, days: int, tz_name: str
             ) -> list[tuple[date, datetime]]:
    """Each bar's local first day and its start (labels are worded when drawn)."""
    # Daily bars up to a month, weekly bars beyond (13 readable bars for 90 days).
    tz = zone_or_default(tz_name)
    step = 1 if days <= 31 else 7
    edges: list[tuple[date, datetime]] = []
    day = start.astimezone(tz).date()
    moment = start
    while moment < end:
        edges.append((day, moment))
        # From the date, not the last edge: a midnight a clock change skips (Santiago's
        # in September) starts at 01:00, and shifting that would start every later bar
        # at 01:00.
        day += timedelta(days=step)
        moment = local_midnight(day, tz)
    return edges


def workload(session: Session, scope: Scope, start: datetime, end: datetime
             ) -> list[AgentLoad]:
    """Mentions of [start, end) per assignee: assigned, still open, answered."""
    rows = session.execute(
        select(Mention.assignee_user_id, func.count(), count_if(open_work()),
               count_if(answered()))
        .where(*scope.where(), *in_window(start, end), Mention.assignee_user_id.is_not(None))
        .group_by(Mention.assignee_user_id).order_by(func.count().desc(),
                                                     Mention.assignee_user_id)
    ).all()
    return [AgentLoad(str(user), int(total), int(still_open), int(done))
            for user, total, still_open, done in rows]


def approvals(session: Session, workspace_id: int, start: datetime, end: datetime
              ) -> list[ApproverLoad]:
    """Decisions taken in [start, end) per approver."""
    rows = session.execute(
        select(Approval.approver_user_id, count_if(Approval.decision == "approved"),
               count_if(Approval.decision == "rejected"))
        .join(Mention, Mention.id == Approval.mention_id)
        .where(Mention.workspace_id == workspace_id, Approval.created_at >= start,
               Approval.created_at < end)
        .group_by(Approval.approver_user_id).order_by(func.count().desc(),
                                                      Approval.approver_user_id)
    ).all()
    return [ApproverLoad(str(user), int(ok), int(no)) for user, ok, no in rows]


def _trend(buckets: list[tuple[date, dict[str, int]]]) -> list[tuple[date, float | None]]:
    # Share of negative mentions in the first and in the second half of the period.
    half = len(buckets) // 2
    halves = [buckets[:half], buckets[half:]] if half else [buckets]
    trend: list[tuple[date, float | None]] = []
    for part in halves:
        if not part:
            continue
        total = sum(sum(counts.values()) for _label, counts in part)
        negative = sum(counts["negative"] for _label, counts in part)
        trend.append((part[0][0], negative / total if total else None))
    return trend


def build_stats_report(session: Session, workspace_id: int, *, days: int, now: datetime,
                       timezone: str) -> StatsReport:
    """Statistics of the workspace over the last ``days`` local days ending ``now``."""
    tz = zone_or_default(timezone)
    scope = Scope(workspace_id)
    brand = brand_scope(session, workspace_id)
    start, end = last_days(now, days, timezone)
    edges = _buckets(start, end, days, tz.key)
    counted = sentiment_series(session, brand, [edge for _label, edge in edges] + [end])
    buckets = [(label, counts) for (label, _edge), counts in zip(edges, counted, strict=True)]
    by_sentiment = {key: sum(counts[key] for _l, counts in buckets)
                    for key in (*SENTIMENT_LABELS, UNKNOWN)}
    networks: dict[str, int] = {}
    for (_watch, network, _sentiment), count in scope_volume(
            session, brand, [start, end])[0].items():
        networks[network] = networks.get(network, 0) + count
    by_network = sorted(networks.items(), key=lambda item: (-item[1], item[0]))
    total = sum(by_sentiment.values())
    return StatsReport(
        days=days, timezone=tz.key, start=start, end=end, total=total,
        by_sentiment=by_sentiment, by_network=by_network, buckets=buckets,
        trend=_trend(buckets), responses=response_times(session, scope, start, end),
        workload=workload(session, scope, start, end),
        approvals=approvals(session, workspace_id, start, end),
        top_authors=top_authors(session, brand, start, end, 5),
        hours=hour_histogram(session, brand, offset_segments(start, end, tz), end),
        opportunities=opportunity_counts(session, workspace_id, start, end),
    )


def stats_chart(report: StatsReport, language: str) -> dict[str, Any]:
    """The period's mentions by sentiment (daily, or weekly beyond a month), as the chart
    description the outbox draws (``bot.reports.charts.render_chart_spec``)."""
    legend = chart_labels(language)["series"]
    return {
        "labels": [day_month(day, language) for day, _counts in report.buckets],
        "series": {key: [counts[key] for _label, counts in report.buckets] for key in legend},
        "title": t(language, "stats.chart_title", days=report.days),
        "xlabel": t(language, "stats.chart_x" if report.days <= 31 else "stats.chart_x_weeks",
                    zone=report.timezone),
        "ylabel": t(language, "digest.chart_y"), "legend": dict(legend)}


def get_stats(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
              period: str | None, now: datetime, default_timezone: str = "UTC"
              ) -> StatsReport:
    """The statistics `/cm stats` shows (any member may see them)."""
    days = parse_period(period)
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.VIEWER)
        workspace = session.get(Workspace, workspace_id)
        zone_name = workspace.timezone if workspace and workspace.timezone else default_timezone
        return build_stats_report(session, workspace_id, days=days, now=now,
                                  timezone=zone_or_default(zone_name, default_timezone).key)


def do_share_stats_chart(sessions: sessionmaker[Session], workspace_id: int, *,
                         channel_id: str, report: StatsReport, language: str) -> bool:
    """Upload the statistics chart to ``channel_id`` through the outbox (False: no data)."""
    if not report.total:
        return False
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=channel_id,
                   payload={"filename": f"vigie-stats-{report.days}d.png",
                            "chart": stats_chart(report, language),
                            "title": t(language, "stats.chart_title", days=report.days)})
    return True
