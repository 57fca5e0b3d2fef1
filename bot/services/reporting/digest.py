"""Daily digests: posted once per channel and local day (run_due_digests), on demand
(do_post_digest_now) or printed (preview_digests).

Exactly once: the ``digest_runs`` row (unique per workspace, channel and local date) is
inserted in the same transaction as the digest's outbox rows. A worker that loses the race
gets an IntegrityError, rolls everything back and skips; a restarted process sees the row.
A digest missed while no process ran is still sent later the same local day; one missed
for longer is folded into the next, whose window starts where the last one ended
(``_window_start``): consecutive digests cover each moment exactly once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import day_month, t
from bot.messages.digest import (
    AuthorData,
    DigestData,
    DigestSpec,
    MentionData,
    ResponsesData,
    SovCountData,
    SovData,
    SovMemberData,
    WaitedData,
)
from bot.messages.stored import spec_payload
from bot.reports.charts import chart_labels
from bot.services.actors import Actor
from bot.services.errors import Mrkdwn, ServiceError
from bot.services.outbox import KIND_CHART, KIND_POST, do_enqueue
from bot.services.permissions import require_role
from bot.services.reach import reachable
from bot.services.reporting.digest_sections import (
    DigestReport,
    build_digest_report,
    complete_days,
    series_key,
)
from bot.services.reporting.periods import at_local, next_at, scheduled_window
from bot.services.reporting.queries import MentionLine
from bot.services.reporting.schedule import DigestChannel, channel_config, digest_channels
from bot.services.reporting.share_of_voice import METRICS, SovReport, SovShare, sov_chart
from storage.db import transaction
from storage.models import Mention, Role, Workspace
from storage.models_base import as_utc
from storage.models_reporting import DigestRun

log = logging.getLogger(__name__)

SOV_CHARTS = 3
"""Share-of-voice charts a digest uploads at most (one per group, with its main chart)."""
POSTED = "posted"
SKIPPED_EMPTY = "skipped_empty"
ALREADY_DONE = "already_done"
FAILED = "failed"
CATCH_UP = timedelta(hours=50)
"""How long ago a channel's last digest may have ended for the next one to start there.

Two days (a day missed while the host was down: the next digest covers both), plus the
hour a clock change adds, or the 26 hours a zone moved from UTC+14 to UTC-12 adds to a
day whose local date came again (its digest, already posted, is folded into the next).
Longer, the digest would summarise a period nobody reads as a day's news: it covers the
day before its time and leaves the rest uncovered.
"""


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What happened to one channel's daily digest in one scheduler tick."""

    workspace_id: int
    channel_id: str
    local_date: date
    status: str
    mention_count: int = 0
    error: str | None = None


def _cached_days(session: Session, config: DigestChannel) -> dict[str, list[int]]:
    row = session.scalar(
        select(DigestRun).where(DigestRun.workspace_id == config.workspace_id,
                                DigestRun.channel_id == config.channel_id)
        .order_by(DigestRun.id.desc()).limit(1))
    if row is None or not row.series or row.series.get("key") != series_key(config):
        return {}
    days = row.series.get("days")
    return dict(days) if isinstance(days, dict) else {}


def digest_chart(report: DigestReport, language: str) -> dict[str, Any]:
    """The digest's 14-day chart, as the description the outbox draws
    (``bot.reports.charts.render_chart_spec``)."""
    labels = chart_labels(language)
    return {
        "labels": [day_month(item.day, language) for item in report.chart],
        "series": {key: [item.counts[key] for item in report.chart] for key in labels["series"]},
        "title": t(language, "digest.chart_title", zone=report.timezone),
        "xlabel": t(language, "digest.chart_x", zone=report.timezone),
        "ylabel": t(language, "digest.chart_y"), "legend": dict(labels["series"])}


def _mention(line: MentionLine) -> MentionData:
    return MentionData(line.id, line.network, line.author, line.text, line.title, line.priority,
                       line.status, line.link, tuple(line.topics), line.story_posts)


def _sov_member(member: SovShare) -> SovMemberData:
    return SovMemberData(member.watch, member.kind, SovCountData(member.current.mentions),
                         dict(member.share), {metric: member.trend(metric) for metric in METRICS})


def _sov(report: SovReport) -> SovData:
    return SovData(report.group, report.conquest,
                   tuple(_sov_member(m) for m in report.members),
                   {network: tuple(_sov_member(m) for m in members)
                    for network, members in report.by_network.items()},
                   report.opportunities, SovCountData(report.total.mentions))


def digest_spec(report: DigestReport, language: str) -> DigestSpec:
    """What the digest message shows of ``report``, as data rendered when it is sent."""
    responses = report.responses
    return DigestSpec(DigestData(
        timezone=report.timezone, window_start=report.window_start,
        window_end=report.window_end, local_date=report.local_date, empty=report.empty,
        total=report.total,
        by_network=tuple(report.by_network),
        by_sentiment=tuple(report.by_sentiment),
        responses=ResponsesData(responses.actionable, responses.answered, responses.responded,
                                responses.median_seconds, responses.p90_seconds,
                                responses.answered_share),
        open_total=report.open_total, open_by_status=dict(report.open_by_status),
        overdue_count=report.overdue_count,
        overdue=tuple(_mention(line) for line in report.overdue),
        top_authors=tuple(AuthorData(a.handle, a.network, a.followers, a.url, a.mentions)
                          for a in report.top_authors),
        top_priority=tuple(_mention(line) for line in report.top_priority),
        waited=tuple(WaitedData(group.watch_name, group.threshold, group.count,
                                tuple(_mention(line) for line in group.examples),
                                group.watch_id)
                     for group in report.waited),
        spikes=tuple(report.spikes),
        open_by_topic=tuple(report.open_by_topic),
        share_of_voice=tuple(_sov(sov) for sov in report.share_of_voice)), language)


def _enqueue(session: Session, workspace_id: int, channel: str, report: DigestReport,
             language: str, chart: dict[str, Any] | None, dedupe: str | None) -> None:
    do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=channel,
               payload=spec_payload(digest_spec(report, language)),
               dedupe_key=f"{dedupe}:post" if dedupe else None)
    if chart is not None:
        day = report.local_date.isoformat()
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=channel,
                   payload={"filename": f"vigie-digest-{day}.png", "chart": chart,
                            "title": t(language, "digest.chart_title", zone=report.timezone),
                            "comment": None},
                   dedupe_key=f"{dedupe}:chart" if dedupe else None)
        for sov in report.share_of_voice[:SOV_CHARTS]:
            if not sov.total.mentions:
                continue
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=channel,
                       payload={"filename": f"vigie-sov-{sov.group}-{day}.png",
                                "chart": sov_chart(sov, language),
                                "title": t(language, "sov.chart_title", group=sov.group),
                                "comment": None},
                       dedupe_key=f"{dedupe}:sov:{sov.group}" if dedupe else None)


def _due(config: DigestChannel, now: datetime, covered_until: datetime | None
         ) -> tuple[date, datetime] | None:
    """The local date and end of the digest due at ``now``, if any. ``covered_until``:
    where the channel's last digest ended; one due before that is not (a zone moved west
    makes a time already covered come again: posting it would repeat those hours)."""
    local_date = now.astimezone(config.tz).date()
    scheduled = at_local(local_date, config.local_time, config.tz)
    if scheduled > now or (config.active_since is not None and scheduled < config.active_since):
        return None
    if covered_until is not None and scheduled <= covered_until:
        return None
    return local_date, scheduled


def _covered_until(session: Session, configs: list[DigestChannel]
                   ) -> dict[tuple[int, str], datetime]:
    """(workspace, channel) -> where its last scheduled digest's window ended."""
    if not configs:
        return {}
    rows = session.execute(
        select(DigestRun.workspace_id, DigestRun.channel_id, func.max(DigestRun.window_end))
        .where(DigestRun.workspace_id.in_({c.workspace_id for c in configs}),
               DigestRun.channel_id.in_({c.channel_id for c in configs}))
        .group_by(DigestRun.workspace_id, DigestRun.channel_id))
    return {(workspace_id, channel): as_utc(end) for workspace_id, channel, end in rows}


def _window_start(config: DigestChannel, local_date: date, scheduled: datetime,
                  covered_until: datetime | None) -> datetime:
    """Where the digest ending at ``scheduled`` starts: where the channel's last one ended,
    so consecutive digests cover each moment exactly once whatever happened in between (the
    digest time changed, a day was missed while the host was down, the zone changed and its
    local date came again); but a local day before ``scheduled`` when that was more than
    ``CATCH_UP`` ago (a digest disabled for weeks, a workspace back after months)."""
    day_start, _ = scheduled_window(local_date, config.local_time, config.tz)
    if covered_until is not None and scheduled - CATCH_UP <= covered_until < scheduled:
        return covered_until
    return day_start


@dataclass(frozen=True, slots=True)
class NextDigest:
    """When a channel's next daily digest goes out (``next_digest``)."""

    at: datetime
    today_done: bool
    """Today's time is still ahead, but today's local date has its digest already: ``at``
    is a later day's."""


NEXT_DIGEST_DAYS = 4
"""Local days ``next_digest`` looks ahead (a zone moved west covers a day at most)."""


def next_digest(sessions: sessionmaker[Session], config: DigestChannel, now: datetime
                ) -> NextDigest:
    """When ``run_due_digests`` will next post ``config``'s digest after ``now``: the first
    local day whose digest time is after ``now``, after the schedule took effect
    (``active_since``), after the hours the channel's last digest covered, and whose local
    date has no digest yet (one a local date: a time moved later on a day whose digest went
    out comes tomorrow)."""
    today = now.astimezone(config.tz).date()
    with sessions() as session:
        covered = _covered_until(session, [config]).get(
            (config.workspace_id, config.channel_id))
        done = set(session.scalars(select(DigestRun.local_date).where(
            DigestRun.workspace_id == config.workspace_id,
            DigestRun.channel_id == config.channel_id, DigestRun.local_date >= today)))
    today_done = False
    for offset in range(NEXT_DIGEST_DAYS):
        day = today + timedelta(days=offset)
        scheduled = at_local(day, config.local_time, config.tz)
        if scheduled <= now or (config.active_since is not None
                                and scheduled < config.active_since):
            continue
        if covered is not None and scheduled <= covered:
            continue
        if day in done:
            today_done = today_done or day == today
            continue
        return NextDigest(scheduled, today_done)
    return NextDigest(next_at(config.local_time, config.tz, now), False)


def run_due_digests(sessions: sessionmaker[Session], *, now: datetime, default_timezone: str,
                    chart: bool = True
                    ) -> list[DigestOutcome]:
    """Post every digest due at ``now`` that was not posted yet this local day.

    Call it every minute from any number of workers: each (workspace, channel, local date)
    is posted once. Returns what happened to each channel that was due.
    """
    due: list[tuple[DigestChannel, date, datetime]] = []
    with sessions() as session:
        # Only the channels whose time has come read their last window (most ticks none).
        configs = [config
                   for workspace in session.scalars(select(Workspace).where(
                       reachable()).order_by(Workspace.id))
                   for config in digest_channels(session, workspace, default_timezone)
                   if _due(config, now, None) is not None]
        covered = _covered_until(session, configs)
        for config in configs:
            when = _due(config, now, covered.get((config.workspace_id, config.channel_id)))
            if when is not None:
                due.append((config, *when))
        if not due:
            return []
        done = set(session.execute(
            select(DigestRun.workspace_id, DigestRun.channel_id, DigestRun.local_date)
            .where(DigestRun.local_date.in_({local_date for _c, local_date, _s in due}))
        ).tuples())
    outcomes = []
    for config, local_date, scheduled in due:
        if (config.workspace_id, config.channel_id, local_date) in done:
            continue
        try:
            start = _window_start(config, local_date, scheduled,
                                  covered.get((config.workspace_id, config.channel_id)))
            outcomes.append(_run_one(sessions, config, local_date, start, scheduled, now,
                                     chart))
        except Exception as err:  # one channel's failure must not stop the others
            log.exception("digest for %s failed", config.channel_id)
            outcomes.append(DigestOutcome(config.workspace_id, config.channel_id, local_date,
                                          FAILED, error=type(err).__name__))
    return outcomes


def _built_at(session: Session, config: DigestChannel, start: datetime) -> datetime | None:
    """When the channel's digest ending at ``start`` was built (its run's ``created_at``: the
    tick's time, or the newest store its report saw if later),
    if that is where this one starts: what it could not count was found after."""
    row = session.execute(
        select(DigestRun.window_end, DigestRun.created_at)
        .where(DigestRun.workspace_id == config.workspace_id,
               DigestRun.channel_id == config.channel_id)
        .order_by(DigestRun.window_end.desc(), DigestRun.id.desc()).limit(1)).first()
    if row is None or as_utc(row.window_end) != start:
        return None
    return as_utc(row.created_at)


def _stored_until(session: Session, workspace_id: int) -> datetime | None:
    """When the newest of the workspace's mentions was stored (its ``created_at``), read by
    the (workspace_id, created_at) index; None without any."""
    newest = session.scalar(select(func.max(Mention.created_at))
                            .where(Mention.workspace_id == workspace_id))
    return as_utc(newest) if newest is not None else None


def _run_one(sessions: sessionmaker[Session], config: DigestChannel, local_date: date,
             start: datetime, scheduled: datetime, now: datetime, chart: bool
             ) -> DigestOutcome:
    with sessions() as session:
        # The report counts what is stored when it reads, maybe after the tick's ``now``
        # (a poll storing while the tick builds other channels' digests): the next digest
        # takes as found late only what was stored after the newest post this one saw.
        seen_until = _stored_until(session, config.workspace_id)
        report = build_digest_report(session, config, start=start, end=scheduled, now=now,
                                     cached_days=_cached_days(session, config),
                                     found_after=_built_at(session, config, start))
    post = not (report.empty and config.skip_empty)
    figure = digest_chart(report, config.language) if post and chart and not report.empty \
        else None
    series: dict[str, Any] = {"key": series_key(config),
                              "days": complete_days(report.chart, config, scheduled)}
    try:
        with transaction(sessions) as session:
            session.add(DigestRun(
                workspace_id=config.workspace_id, channel_id=config.channel_id,
                local_date=local_date, scheduled_for=scheduled, window_start=report.window_start,
                window_end=report.window_end, mention_count=report.total.current, posted=post,
                series=series,
                created_at=max(now, seen_until) if seen_until is not None else now))
            session.flush()
            if post:
                _enqueue(session, config.workspace_id, config.channel_id, report,
                         config.language, figure,
                         f"digest:{config.workspace_id}:{config.channel_id}:{local_date}")
    except IntegrityError:
        return DigestOutcome(config.workspace_id, config.channel_id, local_date, ALREADY_DONE)
    return DigestOutcome(config.workspace_id, config.channel_id, local_date,
                         POSTED if post else SKIPPED_EMPTY, report.total.current)


_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


def do_post_digest_now(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                       channel_id: str, now: datetime, default_timezone: str = "UTC",
                       chart: bool = True) -> DigestReport:
    """Post the digest of the local day ending ``now`` to ``channel_id`` (`/cm digest now`),
    in the channel's language (the workspace's, as the daily run posts it), whoever asks.

    It does not count as the daily run. An empty day still posts its one line.
    """
    if not channel_id:
        raise ServiceError("digest.bad_channel", channel=channel_id)
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        config = channel_config(session, workspace_id, channel_id, default_timezone)
        if config.scope.watch_ids is None:
            # No watch or route here: the report would cover every mention of the
            # workspace, private channels' watches included, in a channel anyone may read
            # (guests, a Slack Connect partner). Only a digest an admin set here may.
            workspace = session.get(Workspace, workspace_id)
            everyone = digest_channels(session, workspace, default_timezone) \
                if workspace else []
            if channel_id not in {c.channel_id for c in everyone}:
                known = [f"<#{c.channel_id}>" for c in everyone
                         if c.scope.watch_ids is not None and _CHANNEL_ID.fullmatch(c.channel_id)]
                raise ServiceError("digest.now_no_channel", channel=channel_id,
                                   known=Mrkdwn(", ".join(known) or "-"))
        report = build_digest_report(session, config, end=now, now=now,
                                     cached_days=_cached_days(session, config))
    figure = digest_chart(report, config.language) if chart and not report.empty else None
    with transaction(sessions) as session:
        _enqueue(session, workspace_id, channel_id, report, config.language, figure, None)
    return report


def preview_digests(sessions: sessionmaker[Session], workspace_id: int, *, now: datetime,
                    default_timezone: str = "UTC", channel_id: str | None = None
                    ) -> list[tuple[DigestChannel, DigestReport]]:
    """The digests of the local day ending ``now``, built but not posted (`vigie digest
    --preview`): every digest channel of the workspace, or only ``channel_id``."""
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        everyone = digest_channels(session, workspace, default_timezone) if workspace else []
        if channel_id:
            config = channel_config(session, workspace_id, channel_id, default_timezone)
            if config.scope.watch_ids is None and \
                    channel_id not in {c.channel_id for c in everyone}:
                # Without watches or routes the report would count every mention of the
                # workspace.
                raise ServiceError("digest_preview.no_channel", channel=channel_id,
                                   known=", ".join(c.channel_id for c in everyone) or "none")
            configs = [config]
        else:
            configs = everyone
        return [(config, build_digest_report(session, config, end=now, now=now,
                                             cached_days=_cached_days(session, config)))
                for config in configs]
