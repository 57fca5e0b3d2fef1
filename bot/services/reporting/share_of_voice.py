"""Share of voice: each watch of a group's share of the group's mentions, reach, positive and
negative mentions over a period, per network and overall, with the previous period's.

Read from the count tables (``storage.reporting_counts.measures_by_bucket``): whole UTC
days from ``mention_day_counts``, the other whole hours from ``mention_hour_counts``, the
fringes of a window from the links, never a pass over the mentions. Each watch counts the
mentions linked to it; a post in the brand's watch and a competitor's counts in both (it
is part of each one's voice), so the group's total is the sum of its members'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.services.actors import Actor
from bot.services.competitors import GroupView, get_group, groups_of
from bot.services.outbox import KIND_CHART, do_enqueue
from bot.services.permissions import require_role
from bot.services.reporting.periods import last_days, local_midnight, parse_days, zone_or_default
from storage.db import transaction
from storage.models import Role, Workspace
from storage.models_competitors import Opportunity
from storage.reporting_counts import measures_by_bucket

PERIODS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "7d"
METRICS = ("mentions", "reach", "positive", "negative")


@dataclass(frozen=True, slots=True)
class SovFigures:
    """What one watch holds in one period (and network, or all of them)."""

    mentions: int = 0
    reach: int = 0
    positive: int = 0
    negative: int = 0

    def plus(self, other: SovFigures) -> SovFigures:
        """Both summed."""
        return SovFigures(self.mentions + other.mentions, self.reach + other.reach,
                          self.positive + other.positive, self.negative + other.negative)


@dataclass(frozen=True, slots=True)
class SovShare:
    """One member of a group: its figures and shares now and in the previous period.

    ``share[metric]`` is a fraction of the group's total for that metric (None when the
    group has none of it), ``trend(metric)`` the change in percentage points.
    """

    watch: str
    kind: str
    current: SovFigures
    previous: SovFigures
    share: dict[str, float | None]
    previous_share: dict[str, float | None]

    def trend(self, metric: str) -> float | None:
        """The change of the share of ``metric`` since the previous period, in points."""
        now, before = self.share[metric], self.previous_share[metric]
        if now is None or before is None:
            return None
        return round((now - before) * 100, 1)


@dataclass(frozen=True, slots=True)
class SovReport:
    """Share of voice of one group over [start, end), against [previous_start, start)."""

    group: str
    conquest: bool
    start: datetime
    end: datetime
    previous_start: datetime
    members: tuple[SovShare, ...]
    """All networks together, the brand's watches first."""
    by_network: dict[str, tuple[SovShare, ...]]
    opportunities: int = 0
    """Conquest opportunities found in the period (by the post's published time)."""

    @property
    def total(self) -> SovFigures:
        """The group's figures in the period (the sum of its members')."""
        out = SovFigures()
        for member in self.members:
            out = out.plus(member.current)
        return out


def parse_period(text: str | None) -> int:
    """``1d``, ``7d``, ``30d`` or ``90d`` (default 7d) -> days; ServiceError ``sov.bad_period``."""
    return parse_days(text, PERIODS, DEFAULT_PERIOD, "sov.bad_period")


def _shares(members: list[tuple[str, str, SovFigures, SovFigures]]) -> tuple[SovShare, ...]:
    totals = [SovFigures(), SovFigures()]
    for _name, _kind, current, previous in members:
        totals = [totals[0].plus(current), totals[1].plus(previous)]

    def share(figures: SovFigures, total: SovFigures) -> dict[str, float | None]:
        return {metric: (getattr(figures, metric) / getattr(total, metric)
                         if getattr(total, metric) else None) for metric in METRICS}

    return tuple(SovShare(name, kind, current, previous, share(current, totals[0]),
                          share(previous, totals[1]))
                 for name, kind, current, previous in members)


def _figures(counts: dict[tuple[int | None, str, str], tuple[int, int]]
             ) -> dict[tuple[int, str], SovFigures]:
    out: dict[tuple[int, str], SovFigures] = {}
    for (watch_id, network, sentiment), (mentions, reach) in counts.items():
        if watch_id is None:
            continue
        key = (watch_id, network)
        out[key] = out.get(key, SovFigures()).plus(SovFigures(
            mentions, reach, mentions if sentiment == "positive" else 0,
            mentions if sentiment == "negative" else 0))
    return out


def share_of_voice(session: Session, workspace_id: int, group: GroupView, start: datetime,
                   end: datetime, previous_start: datetime | None = None) -> SovReport:
    """Share of voice of ``group`` over [start, end) against the previous period
    [previous_start, start) (by default as long as the period, just before it)."""
    if previous_start is None:
        previous_start = start - (end - start)
    ids = tuple(m.watch_id for m in group.members)
    previous, current = (_figures(b) for b in measures_by_bucket(
        session, workspace_id, ids, [previous_start, start, end]))
    networks = sorted({network for _w, network in (*current, *previous)})
    empty = SovFigures()

    def rows(network: str | None) -> list[tuple[str, str, SovFigures, SovFigures]]:
        out = []
        for member in group.members:  # brand watches first (see GroupView)
            now, before = SovFigures(), SovFigures()
            for name in ([network] if network else networks):
                now = now.plus(current.get((member.watch_id, name), empty))
                before = before.plus(previous.get((member.watch_id, name), empty))
            out.append((member.name, member.kind, now, before))
        return out

    opportunities = int(session.scalar(select(func.count()).select_from(Opportunity).where(
        Opportunity.workspace_id == workspace_id, Opportunity.group_id == group.id,
        Opportunity.published_at >= start, Opportunity.published_at < end)) or 0)
    return SovReport(group.name, group.conquest, start, end, previous_start,
                     _shares(rows(None)), {n: _shares(rows(n)) for n in networks},
                     opportunities)


def share_of_voice_between(session: Session, workspace_id: int, start: datetime,
                           end: datetime, *, group: str | None = None,
                           previous_start: datetime | None = None) -> list[SovReport]:
    """Share of voice of every group of the workspace (or only ``group``: NotFound when no
    group has that name) over [start, end), each against the previous period of the same
    length (or from ``previous_start``)."""
    groups = [get_group(session, workspace_id, group)] if group else groups_of(
        session, workspace_id)
    return [share_of_voice(session, workspace_id, g, start, end, previous_start)
            for g in groups]


def period_window(days: int, now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The last ``days`` local days ending ``now`` (today until now), as `/cm stats`."""
    return last_days(now, days, timezone)


def get_share_of_voice(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                       period: str | None, now: datetime, group: str | None = None,
                       default_timezone: str = "UTC") -> tuple[int, str, list[SovReport]]:
    """`/cm stats sov [period] [group]`: (days, zone, reports), any member may see them.

    The previous period is the same number of local days just before."""
    days = parse_period(period)
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.VIEWER)
        workspace = session.get(Workspace, workspace_id)
        zone = zone_or_default(workspace.timezone if workspace and workspace.timezone
                               else default_timezone, default_timezone).key
        start, end = period_window(days, now, zone)
        previous_start = local_midnight(
            start.astimezone(zone_or_default(zone)).date() - timedelta(days=days),
            zone_or_default(zone))
        return days, zone, share_of_voice_between(session, workspace_id, start, end,
                                                  group=group, previous_start=previous_start)


def sov_chart(report: SovReport, language: str) -> dict[str, Any]:
    """The group's shares of mentions, reach, positive and negative mentions, as the chart
    description the outbox draws (``bot.reports.charts.render_chart_spec``, kind ``share``)."""
    return {
        "kind": "share", "members": [m.watch for m in report.members],
        "metrics": [t(language, f"sov.chart_{metric}") for metric in METRICS],
        "shares": [[round((m.share[metric] or 0) * 100, 1) for metric in METRICS]
                   for m in report.members],
        "title": t(language, "sov.chart_title", group=report.group),
        "xlabel": t(language, "sov.chart_x"), "language": language}


def do_share_sov_charts(sessions: sessionmaker[Session], workspace_id: int, *,
                        channel_id: str, reports: list[SovReport], language: str) -> int:
    """Upload each group's share-of-voice chart to ``channel_id`` through the outbox (groups
    with no mention in the period have none); returns how many were queued."""
    drawn = [r for r in reports if r.total.mentions]
    if not drawn:
        return 0
    with transaction(sessions) as session:
        for report in drawn:
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=channel_id,
                       payload={"filename": f"vigie-sov-{report.group}.png",
                                "chart": sov_chart(report, language),
                                "title": t(language, "sov.chart_title", group=report.group)})
    return len(drawn)
