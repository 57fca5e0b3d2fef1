"""SLA: response targets per watch and priority, counted in business hours.

A mention belongs to every watch it matches, and is one piece of work with one deadline:
its SLA is the *strictest* target among the watches that alerted on it (each watch's
target for the mention's priority in that watch), or among all its watches when none
alerted (a mention taken up from a listing or the digest). A watch that only holds the
mention without alerting never shortens its deadline. Competitors' watches never give an
SLA: a mention only they hold has none, and one a brand watch also holds gets the brand's.

A reminder goes to the assignee (DM) at 75 % of the time, a notice to the card's thread on
breach, and an escalation to approvers when an urgent mention breaches. Each is sent once
per mention: a ``sla_notices`` row (unique per mention and kind) is written in the same
transaction as its outbox message, so a restart never repeats one. The reminder is the
assignee's: reassigning or reopening the mention deletes it (``workflow``), so the new
assignee is reminded too.

Every SLA clock, and every response time the team is measured on, starts when Vigie
received the mention (``received_at``, its stored first-seen time), as help desks count
first reply time from when a message reached the inbox: a post found hours after it was
published (an RSS entry listed late, a backlog after downtime, a source added with its
history) is not overdue on arrival for hours nobody could act on. The card still shows
when the post was published. A post the brand answered before Vigie found it (natively,
found by the same poll as the answer) counts from when it was published: the team saw it
elsewhere, and the customer waited that long; no response time is ever negative
(``response_seconds``, ``waited_for``). A reopened case counts from when the customer's new post
reached Vigie (``bot.services.cases``). ``clock_starts`` (Python) and ``RECEIVED_AT``
(SQL) are the one place that says so.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from bot.messages.notes import Date, Note, Text
from bot.messages.stored import spec_payload
from bot.services import backfill, cases
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import ServiceError, Terms, Worded
from bot.services.outbox import KIND_POST, KIND_THREAD, STALE_REPORTS, card_channels, do_enqueue
from bot.services.permissions import require_role
from bot.services.reach import reachable
from bot.services.watches import get_watch_by_name
from bot.services.workflow import OPEN
from storage import reporting_sql
from storage.db import transaction
from storage.models import Member, Mention, Role, Watch, Workspace
from storage.models_cases import Case
from storage.models_competitors import WATCH_BRAND
from storage.models_sla import SlaNotice
from storage.models_watches import MentionWatch

log = logging.getLogger(__name__)

URGENT, HIGH = 80, 60
REMIND_AT = 0.75
LOOKBACK = timedelta(days=30)
"""The checks' least look-back: a mention whose clock started earlier is no longer checked,
unless its workspace's targets can take longer than that (``lookbacks``)."""
BREACH_GRACE = timedelta(days=7)
"""How long after the latest due time a workspace's targets can give the checks still look
(``lookbacks``): a breach due while the checks did not run (a restart, an outage) is sent."""
LONGEST_WALK = timedelta(days=400)
"""``add_business_time`` finds no due time further than this (it walks 400 days)."""
WALK_WEEKS = 55
"""The most business weeks a target may take (``most_minutes``): the walk's days after the
start's own hold 57 whole weeks, two of which are kept for the openings a spring-forward
day can take away (one a year)."""
DEFAULT_TARGETS = {"urgent": 60, "high": 240, "normal": 1440}
"""A new watch's targets (the ``Watch`` columns' defaults): business hours must fit them."""
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_ALIASES = {**{day: i for i, day in enumerate(DAYS)},
               **{day: i for i, day in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam",
                                                   "dim"))}}
"""Day names ``sla hours`` accepts: English and French abbreviations (``mon-fri``,
``lun-ven``); they are stored in English."""

RECEIVED_AT: InstrumentedAttribute[datetime] = Mention.created_at
"""When Vigie first stored the mention (set once, at ingest): where its SLA clock and the
team's response times start (see the module docstring), in SQL."""


WAITED_FROM: ColumnElement[datetime] = func.coalesce(Mention.waiting_since, RECEIVED_AT)
"""Where a mention's wait for an answer began, in SQL: when Vigie received it, or when the
story it took over did (``Mention.waiting_since``); response times count from there."""


def response_seconds(session: Session, answer_at: Any) -> ColumnElement[float]:
    """Seconds a mention waited for ``answer_at`` (its first response), in SQL: from
    ``WAITED_FROM``, or from when it was published when the brand answered it before Vigie
    found it; never below zero (``waited_for``, in Python)."""
    found = reporting_sql.seconds_between(session, answer_at, WAITED_FROM)
    posted = reporting_sql.seconds_between(session, answer_at, Mention.published_at)
    # An answer found with the post (the brand replied natively before Vigie's poll)
    # counts from the post: the team saw it elsewhere, and the customer waited that long.
    # A published time after the answer (unknown times are stored as found) counts zero.
    return case((found >= 0, found), (posted > 0, posted), else_=0.0)


def waited_for(mention: Mention, answer_at: datetime) -> float:
    """Seconds ``mention`` waited for ``answer_at``: ``response_seconds`` of a loaded row."""
    found = (answer_at - (mention.waiting_since or received_at(mention))).total_seconds()
    if found >= 0:
        return found
    return max(0.0, (answer_at - mention.published_at).total_seconds())


def received_at(mention: Mention) -> datetime:
    """When Vigie received ``mention`` (``RECEIVED_AT`` of a loaded row)."""
    value: datetime = getattr(mention, RECEIVED_AT.key)
    return value


def clock_starts(session: Session, mentions: Sequence[Mention]) -> dict[int, datetime]:
    """Mention id -> when its SLA clock started: when its case's current wait began if it
    reopened (``cases.sla_starts``), else when the story it took over began waiting
    (``Mention.waiting_since``), else when Vigie received it (``received_at``)."""
    restarted = cases.sla_starts(session, [m.id for m in mentions])
    return {m.id: restarted.get(m.id) or m.waiting_since or received_at(m) for m in mentions}


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Working hours in a time zone; ``None`` hours mean around the clock."""

    timezone: str = "UTC"
    start: time | None = None
    end: time | None = None
    days: frozenset[int] = frozenset(range(7))

    @classmethod
    def from_settings(cls, settings: dict[str, Any], default_tz: str) -> BusinessHours:
        """Read ``sla_hours`` ("09:00-18:00"), ``sla_days`` ("mon-fri") and ``sla_tz``."""
        hours = settings.get("sla_hours")
        start = end = None
        if hours:
            first, last = str(hours).split("-")
            start, end = time.fromisoformat(first), time.fromisoformat(last)
        return cls(str(settings.get("sla_tz") or default_tz), start, end,
                   parse_days(str(settings.get("sla_days") or "mon-sun")))


def parse_days(text: str) -> frozenset[int]:
    """"mon-fri", "lun-ven" or "mon,wed,fri" -> weekday numbers; ServiceError otherwise."""
    chosen: set[int] = set()
    for part in text.lower().split(","):
        first, _, last = part.strip().partition("-")
        if first not in DAY_ALIASES or (last and last not in DAY_ALIASES):
            raise ServiceError("sla.bad_days", value=text)
        a, b = DAY_ALIASES[first], DAY_ALIASES[last or first]
        chosen.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(chosen)


@dataclass(frozen=True, slots=True)
class Target:
    """The SLA a mention runs on: the minutes, and the watch (and its priority there)
    they come from."""

    minutes: int
    watch_name: str
    channel_id: str
    priority: int


def sla_targets(session: Session, mention_ids: list[int]) -> dict[int, Target]:
    """Mention id -> its SLA target (the rule in the module docstring), in one query;
    mentions in no brand watch are left out."""
    if not mention_ids:
        return {}
    candidates: dict[int, list[tuple[bool, int, str, Target]]] = {}
    for mention_id, priority, alerted, watch in session.execute(
            select(MentionWatch.mention_id, MentionWatch.priority, MentionWatch.alerted, Watch)
            .join(Watch, Watch.id == MentionWatch.watch_id)
            .where(MentionWatch.mention_id.in_(mention_ids), Watch.kind == WATCH_BRAND)):
        minutes = target_minutes(watch, priority)
        candidates.setdefault(mention_id, []).append(
            (bool(alerted), minutes, watch.name,
             Target(minutes, watch.name, watch.channel_id, priority)))
    targets: dict[int, Target] = {}
    for mention_id, links in candidates.items():
        alerted = [link for link in links if link[0]] or links
        targets[mention_id] = min(alerted, key=lambda link: (link[1], link[2]))[3]
    return targets


def target_minutes(watch: Watch, priority: int) -> int:
    """The watch's response target for a mention of this priority."""
    if priority >= URGENT:
        return watch.sla_urgent_minutes
    if priority >= HIGH:
        return watch.sla_high_minutes
    return watch.sla_normal_minutes


def add_business_time(start: datetime, minutes: float, hours: BusinessHours) -> datetime:
    """``start`` plus ``minutes`` of business time (DST-safe: walks local wall-clock days,
    whose opening and closing times it takes as UTC instants)."""
    if hours.start is None or hours.end is None:
        return start + timedelta(minutes=minutes)
    zone = ZoneInfo(hours.timezone)
    remaining = timedelta(minutes=minutes)
    local = start.astimezone(zone)
    day = local.date()
    for _ in range(400):
        if day.weekday() in hours.days:
            # In UTC: two datetimes of one zone subtract and add as wall-clock times, an
            # hour off on the days clocks change.
            opens = datetime.combine(day, hours.start, zone).astimezone(UTC)
            closes = datetime.combine(day, hours.end, zone).astimezone(UTC)
            begin = max(opens, start.astimezone(UTC)) if day == local.date() else opens
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise ServiceError("sla.no_business_days")


_reported: set[tuple[int, BusinessHours]] = set()
"""(workspace id, hours) whose due times could not be computed, already logged."""


def _due_or_none(workspace_id: int, start: datetime, minutes: float,
                 hours: BusinessHours) -> datetime | None:
    """``add_business_time``, or None when it finds no due time (hours too short for the
    target, stored before ``sla hours`` refused them; a zone gone from the system): the
    mention is skipped, and the workspace logged once for those hours, so one workspace's
    settings never stop the checks or App Home for the others."""
    try:
        return add_business_time(start, minutes, hours)
    except (ServiceError, ZoneInfoNotFoundError):
        if (workspace_id, hours) not in _reported:
            _reported.add((workspace_id, hours))
            log.warning("SLA: workspace %s: no due time for a %s min target within %s days"
                        " in its business hours (%s-%s, days %s, %s); its mentions get"
                        " no due time until its hours or targets change", workspace_id,
                        round(minutes), LONGEST_WALK.days, f"{hours.start:%H:%M}",
                        f"{hours.end:%H:%M}",
                        ",".join(DAYS[d] for d in sorted(hours.days)), hours.timezone)
        return None


def weekly_minutes(hours: BusinessHours) -> float | None:
    """Minutes of business time in a week of ``hours`` (None around the clock)."""
    if hours.start is None or hours.end is None:
        return None
    daily = (datetime.combine(datetime.min, hours.end)
             - datetime.combine(datetime.min, hours.start)).total_seconds() / 60
    return max(0.0, daily) * len(hours.days)


def most_minutes(hours: BusinessHours) -> int | None:
    """The largest target ``hours`` allow (None: any): one that always comes due within
    ``add_business_time``'s walk, whatever the start (``WALK_WEEKS``)."""
    weekly = weekly_minutes(hours)
    return None if weekly is None else math.floor(weekly * WALK_WEEKS)


def _fit(hours: BusinessHours, minutes: int) -> dict[str, Any] | None:
    """What to say when a ``minutes`` target cannot be met in ``hours`` (None: it can): the
    hours, the largest target they allow, and the shortest daily opening that fits it."""
    most = most_minutes(hours)
    if most is None or minutes <= most or hours.start is None:
        return None
    need = math.ceil(minutes / (WALK_WEEKS * len(hours.days)))
    opens = datetime.combine(datetime.min, hours.start)
    if (opens + timedelta(minutes=need)).date() != opens.date():
        opens = datetime.combine(datetime.min, time(0))
    example = f"{opens:%H:%M}-{opens + timedelta(minutes=need):%H:%M}"
    return {"hours": f"{hours.start:%H:%M}-{hours.end:%H:%M}",
            "days": Terms(f"weekday.{DAYS[d]}" for d in sorted(hours.days)),
            "weekly": round(weekly_minutes(hours) or 0), "most": most, "need": need,
            "example": example, "walk": LONGEST_WALK.days}


def _notify(session: Session, mention: Mention, kind: str, channel: str, note: Note,
            *, thread: bool) -> bool:
    try:
        # Added inside the savepoint: a notice another worker sent first fails there alone.
        with session.begin_nested():
            session.add(SlaNotice(mention_id=mention.id, kind=kind, recipient=channel))
            session.flush()
    except IntegrityError:
        return False
    do_enqueue(session, workspace_id=mention.workspace_id,
               kind=KIND_THREAD if thread else KIND_POST, channel=channel,
               mention_id=mention.id, payload=spec_payload(note))
    return True


def _approvers(session: Session, workspace_id: int) -> list[str]:
    return sorted(session.scalars(select(Member.user_id).where(
        Member.workspace_id == workspace_id,
        Member.role.in_([Role.APPROVER.value, Role.ADMIN.value]))))


def longest_span(minutes: int, hours: BusinessHours) -> timedelta:
    """The longest calendar time ``minutes`` of business time can take in ``hours``, from
    any start (a bound: a few days over the exact worst case, never under it)."""
    if hours.start is None or hours.end is None:
        return timedelta(minutes=minutes)
    daily = (datetime.combine(datetime.min, hours.end)
             - datetime.combine(datetime.min, hours.start)).total_seconds() / 60
    weekly = daily * len(hours.days)
    if weekly <= 0:
        return LONGEST_WALK
    # From the start's next local midnight, each run of 7 local days holds ``weekly``
    # minutes; a week more (and two days) covers the first partial day and the hour a
    # clock change can take off an opening.
    weeks = math.ceil(minutes / weekly)
    return min(LONGEST_WALK, timedelta(days=7 * (weeks + 1) + 2))


def lookbacks(session: Session) -> dict[int, timedelta]:
    """Reachable workspace id -> how far back the SLA checks look for mentions whose clock
    started: ``LOOKBACK``, or longer when the workspace's largest target, counted in its
    business hours, can come due later (``longest_span``), plus ``BREACH_GRACE``. A
    one-week target in 09:00-17:00 mon-fri hours comes due some five weeks after a Friday
    evening's post: a 30-day look-back dropped it before its breach, which App Home showed
    overdue and no notice ever told."""
    # All three levels: a row stored before ``_check_order`` may hold its largest target
    # at a more urgent level.
    largest = {workspace_id: max(levels) for workspace_id, *levels in session.execute(
        select(Watch.workspace_id, func.max(Watch.sla_urgent_minutes),
               func.max(Watch.sla_high_minutes), func.max(Watch.sla_normal_minutes))
        .where(Watch.kind == WATCH_BRAND).group_by(Watch.workspace_id))}
    out: dict[int, timedelta] = {}
    for workspace_id, settings in session.execute(
            select(Workspace.id, Workspace.settings).where(reachable())).tuples():
        minutes = largest.get(workspace_id)
        span = (longest_span(int(minutes), BusinessHours.from_settings(settings or {}, "UTC"))
                if minutes else timedelta(0))
        out[workspace_id] = max(LOOKBACK, span + BREACH_GRACE)
    return out


def check_candidates(session: Session, now: datetime) -> Select[tuple[Mention, Workspace]]:
    """The mentions the SLA checks look at, with their workspace: open, alerted (its card
    queued: ``bot.services.watch_links.do_mark_alerting``) or assigned, and whose clock
    (``clock_starts``) started within their workspace's look-back (``lookbacks``): received
    since, or the first mention of a case reopened since, however old."""
    # Not of a workspace out of reach (uninstalled, its token refused: ``reach``): its
    # notices would wait in its paused outbox, all to be sent at once on a reinstall.
    since = {workspace_id: now - back for workspace_id, back in lookbacks(session).items()}
    # The reopened cases are read first (through their sla_started_at index), so the
    # mentions are found through two indexes OR-ed: (workspace_id, created_at) for the
    # recent ones, given the workspaces it starts with, and the primary key for the others.
    earliest = min(since.values(), default=now - LOOKBACK)
    restarted = sorted({mention_id for mention_id, workspace_id, started in session.execute(
        select(Case.root_mention_id, Case.workspace_id, Case.sla_started_at)
        .where(Case.sla_started_at >= earliest)).tuples()
        if workspace_id in since and started is not None
        and started >= since[workspace_id]})
    by_since: dict[datetime, list[int]] = {}
    for workspace_id, start in sorted(since.items()):
        by_since.setdefault(start, []).append(workspace_id)
    recent = or_(*(and_(Mention.workspace_id.in_(ids), start <= RECEIVED_AT)
                   for start, ids in by_since.items())) if by_since else \
        Mention.workspace_id.in_([])
    return (select(Mention, Workspace)
            .join(Workspace, Workspace.id == Mention.workspace_id)
            .where(Mention.status.in_([s.value for s in OPEN]),
                   reachable(),
                   or_(recent, Mention.id.in_(restarted)) if restarted else recent,
                   (Mention.alerted.is_(True)) | (Mention.assignee_user_id.is_not(None))))


def run_sla_checks(sessions: sessionmaker[Session], now: datetime, default_tz: str) -> int:
    """Send the reminders, breach notices and escalations that are due
    (``check_candidates``); returns how many."""
    sent = 0
    with transaction(sessions) as session:
        # In one order in every worker (by mention, then reminder, breach, escalations by
        # user): two workers inserting the same notices in different orders deadlocked on
        # PostgreSQL, each waiting for the other's uncommitted notice. The query's own order
        # is the table's (a mention changed between two reads moves): sorted here, which
        # leaves its plan alone.
        rows = sorted(session.execute(check_candidates(session, now)).all(),
                      key=lambda row: row[0].id)
        ids = [r[0].id for r in rows]
        done = {(m, k) for m, k in session.execute(select(SlaNotice.mention_id, SlaNotice.kind)
                                                   .where(SlaNotice.mention_id.in_(ids)))}
        approvers: dict[int, list[str]] = {}
        quiet = backfill.quiet_among(session, ids)
        starts = clock_starts(session, [r[0] for r in rows])
        targets = sla_targets(session, ids)
        for mention, workspace in rows:
            target = targets.get(mention.id)
            if mention.id in quiet or target is None:
                continue  # backfilled (never given an SLA), or in no watch any more
            start = starts[mention.id]
            minutes = target.minutes
            hours = BusinessHours.from_settings(workspace.settings or {},
                                                workspace.timezone or default_tz)
            due = _due_or_none(mention.workspace_id, start, minutes, hours)
            if due is None:
                continue  # no due time within the walk: skipped, logged once
            language = workspace.locale or "en"
            ref = f"#{mention.id}"
            remind = _due_or_none(mention.workspace_id, start, minutes * REMIND_AT, hours)
            if (remind is not None and now >= remind and now < due and mention.assignee_user_id
                    and (mention.id, "reminder") not in done):
                sent += _notify(session, mention, "reminder", mention.assignee_user_id,
                                Note.of(language, "sla.reminder", id=ref, due=Date(due),
                                        watch=Text(target.watch_name)), thread=False)
            if now >= due and (mention.id, "breach") not in done:
                # In the card's thread, the card posted or still queued (the note waits
                # for it in the outbox); in the watch's channel when it has none (Slack
                # refused it for good).
                cards = card_channels(session, mention.id)
                sent += _notify(session, mention, "breach",
                                cards[0] if cards else target.channel_id,
                                Note.of(language, "sla.breach", id=ref, due=Date(due)),
                                thread=bool(cards))
                if target.priority >= URGENT:
                    if mention.workspace_id not in approvers:
                        approvers[mention.workspace_id] = _approvers(session,
                                                                     mention.workspace_id)
                    for user in approvers[mention.workspace_id]:
                        sent += _notify(session, mention, f"escalation:{user}", user,
                                        Note.of(language, "sla.escalation", id=ref,
                                                due=Date(due), watch=Text(target.watch_name)),
                                        thread=False)
    return sent


MISSED = "unreachable"
"""The ``recipient`` of a breach notice never sent: it came due while Vigie could not
reach the workspace (``skip_missed_breaches``)."""


def skip_missed_breaches(session: Session, workspace_id: int, since: datetime,
                         now: datetime, default_tz: str = "UTC") -> int:
    """Inside the caller's transaction, once ``workspace_id`` is reachable again (a
    reinstall, a token Slack accepts again): mark as sent the breach notices that came due
    from ``since`` (when it went out of reach) to ``now``; returns how many.

    The checks skipped the workspace meanwhile (``reach``): without this, its first check
    would post every breach notice and escalation DM of those days at once, for deadlines
    nobody could meet while Slack was closed to Vigie. Their mentions still show overdue
    (App Home, the digest); a deadline still ahead gets its reminder and notices as usual.
    Only the workspace's own candidates (``check_candidates``) are read."""
    rows = session.scalars(check_candidates(session, now)
                           .where(Mention.workspace_id == workspace_id)).all()
    if not rows:
        return 0
    breached = set(session.scalars(select(SlaNotice.mention_id).where(
        SlaNotice.mention_id.in_([m.id for m in rows]), SlaNotice.kind == "breach")))
    skipped = 0
    for mention_id, due in sorted(due_times(session, rows, default_tz).items()):
        if since <= due <= now and mention_id not in breached:
            session.add(SlaNotice(mention_id=mention_id, kind="breach", recipient=MISSED))
            skipped += 1
    return skipped


def skip_stale_breaches(session: Session, workspace_id: int, since: datetime,
                        now: datetime, default_tz: str = "UTC") -> int:
    """Inside the caller's transaction, once ``workspace_id`` is reachable again at ``now``
    after being out of reach since ``since``: mark as sent the breach notices that came
    due then more than ``STALE_REPORTS`` before ``now`` (``skip_missed_breaches``);
    returns how many.

    Those due more recently are left to the next check, which sends them: a short time
    out of reach (one refused delivery, the next probe going through) loses no breach note
    or escalation, as a digest or report kept less than ``STALE_REPORTS`` is still sent
    (``outbox.drop_stale_reports``)."""
    if now - STALE_REPORTS <= since:
        return 0
    return skip_missed_breaches(session, workspace_id, since, now - STALE_REPORTS,
                                default_tz)


def due_at(session: Session, mention: Mention) -> datetime | None:
    """When the mention's SLA ends (None when it is in no watch); the checks use the same."""
    return due_times(session, [mention]).get(mention.id)


def due_times(session: Session, mentions: Sequence[Mention], default_tz: str = "UTC"
              ) -> dict[int, datetime]:
    """Mention id -> when its SLA ends, by the rule the checks apply: the target of the
    module docstring, counted in the workspace's business hours from when its clock started
    (``clock_starts``). Mentions with no SLA (backfilled, in no brand watch) are left out, and
so are those whose due time cannot be computed (``_due_or_none``)."""
    ids = [m.id for m in mentions]
    targets = sla_targets(session, ids)
    quiet, starts = backfill.quiet_among(session, ids), clock_starts(session, mentions)
    hours: dict[int, BusinessHours] = {}
    due: dict[int, datetime] = {}
    for mention in mentions:
        target = targets.get(mention.id)
        if target is None or mention.id in quiet:
            continue
        if mention.workspace_id not in hours:
            workspace = session.get(Workspace, mention.workspace_id)
            hours[mention.workspace_id] = BusinessHours.from_settings(
                (workspace.settings if workspace else None) or {},
                (workspace.timezone if workspace else None) or default_tz)
        when = _due_or_none(mention.workspace_id, starts[mention.id], target.minutes,
                            hours[mention.workspace_id])
        if when is not None:
            due[mention.id] = when
    return due


def do_set_targets(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                   watch_name: str, targets: dict[str, int]) -> None:
    """Set a watch's targets in minutes (``urgent``, ``high``, ``normal``). A more urgent
    level's target is never longer than a less urgent one's (urgent <= high <= normal),
    levels not given keeping their stored targets: refused otherwise, naming the pair. A
    target the workspace's business hours cannot meet within ``add_business_time``'s walk
    is refused too, saying the largest they allow (``most_minutes``)."""
    for level, minutes in targets.items():
        if level not in SLA_LEVELS or not 1 <= minutes <= 60 * 24 * 30:
            raise ServiceError("sla.bad_target", value=f"{level}={minutes}")
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        # Locked before the watch, as ``do_set_hours`` does: hours and targets set at once
        # are checked one after the other, never each against the other's old value.
        workspace = _locked_workspace(session, workspace_id)
        # Locked: two admins setting different levels at once cannot cross each other.
        watch = get_watch_by_name(session, workspace_id, watch_name, lock=True)
        _check_order(watch, targets)
        if targets:
            level = max(targets, key=lambda name: (targets[name], name))
            unmet = _fit(BusinessHours.from_settings(workspace.settings or {}, "UTC"),
                         targets[level])
            if unmet is not None:
                raise ServiceError("sla.target_too_long", level=level,
                                   minutes=targets[level], **unmet)
        for level, minutes in targets.items():
            setattr(watch, f"sla_{level}_minutes", minutes)
        record(session, workspace_id, actor, "sla.targets",
               detail={"watch": watch.name, **targets})


SLA_LEVELS = ("urgent", "high", "normal")
"""The target levels, most urgent first."""


def _check_order(watch: Watch, targets: dict[str, int]) -> None:
    """Refuse ``targets`` when, with ``watch``'s stored targets for the levels not given, a
    level's target would be longer than a less urgent level's."""
    after = {level: targets.get(level, getattr(watch, f"sla_{level}_minutes"))
             for level in SLA_LEVELS}

    def named(level: str) -> Worded:
        key = "sla.target_given" if level in targets else "sla.target_stored"
        return Worded(key, {"level": level, "minutes": after[level]})

    for more, less in itertools.pairwise(SLA_LEVELS):
        if after[more] > after[less]:
            raise ServiceError("sla.targets_out_of_order", more_urgent=named(more),
                               less_urgent=named(less), watch=watch.name, **after)


def canonical_days(text: str) -> str:
    """The days of ``text`` (``lun-ven``, ``mon,wed``) as stored: English names, in order
    (``mon,tue,wed,thu,fri``)."""
    return ",".join(DAYS[d] for d in sorted(parse_days(text)))


def do_set_hours(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                 hours: str | None, days: str, timezone: str | None) -> None:
    """Set business hours ("09:00-18:00", "mon-fri", "Europe/Paris"); None hours = 24/7;
    None zone = the workspace's zone (``settings timezone``), whatever it is later. Hours
    too short for the workspace's largest target (any watch's, or a new watch's) to come due
    within ``add_business_time``'s walk are refused, saying the shortest that fit."""
    if hours is not None:
        try:
            first, last = hours.split("-")
            if time.fromisoformat(first) >= time.fromisoformat(last):
                raise ValueError(hours)
        except ValueError:
            raise ServiceError("sla.bad_hours", value=hours) from None
    days = canonical_days(days)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (KeyError, ValueError):
            raise ServiceError("sla.bad_zone", value=timezone) from None
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        workspace = _locked_workspace(session, workspace_id)
        _check_hours_fit(session, workspace_id,
                         BusinessHours.from_settings({"sla_hours": hours, "sla_days": days},
                                                     "UTC"))
        workspace.settings = {**(workspace.settings or {}), "sla_hours": hours,
                              "sla_days": days, "sla_tz": timezone}
        record(session, workspace_id, actor, "sla.hours",
               detail={"hours": hours, "days": days, "timezone": timezone})


def _locked_workspace(session: Session, workspace_id: int) -> Workspace:
    """The workspace row, locked (FOR NO KEY UPDATE) until the caller's transaction ends."""
    workspace = session.get(Workspace, workspace_id, with_for_update={"key_share": True},
                            populate_existing=True)
    assert workspace is not None
    return workspace


def _check_hours_fit(session: Session, workspace_id: int, hours: BusinessHours) -> None:
    """Refuse ``hours`` when the workspace's largest target cannot be met in them: any
    watch's, of any kind (a competitor's watch can become the brand's), or a new watch's."""
    levels = [(minutes, level, "") for level, minutes in DEFAULT_TARGETS.items()]
    for name, *stored in session.execute(
            select(Watch.name, Watch.sla_urgent_minutes, Watch.sla_high_minutes,
                   Watch.sla_normal_minutes).where(Watch.workspace_id == workspace_id)):
        levels += [(int(m), level, str(name)) for m, level in zip(stored, SLA_LEVELS,
                                                                  strict=True)]
    minutes, level, watch = max(levels, key=lambda item: (item[0], item[2] != "", item[2]))
    unmet = _fit(hours, minutes)
    if unmet is not None:
        target = (Worded("sla.largest_of_watch", {"level": level, "minutes": minutes,
                                                  "watch": watch}) if watch
                  else Worded("sla.largest_of_new_watch", {"level": level, "minutes": minutes}))
        raise ServiceError("sla.hours_too_short", target=target, **unmet)


def describe(sessions: sessionmaker[Session], workspace_id: int, default_tz: str
             ) -> tuple[BusinessHours, list[tuple[str, int, int, int]]]:
    """Business hours and each watch's targets (urgent, high, normal minutes); the hours'
    zone is the one the checks use (``sla_tz``, else the workspace's, else ``default_tz``)."""
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        hours = BusinessHours.from_settings((workspace.settings if workspace else {}) or {},
                                            (workspace.timezone if workspace else None)
                                            or default_tz)
        watches = session.scalars(select(Watch).where(Watch.workspace_id == workspace_id)
                                  .order_by(Watch.name)).all()
        return hours, [(w.name, w.sla_urgent_minutes, w.sla_high_minutes,
                        w.sla_normal_minutes) for w in watches]
