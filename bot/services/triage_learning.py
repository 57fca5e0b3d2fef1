"""Per-workspace calibration of the alert decision, learned from the team's labels.

The shipped priority stays as it is; what a workspace learns is a shift of every watch's
alert threshold (``offset`` points, the same for all its watches). A learning run:

1. takes the workspace's labelled mentions in the order their alert decisions were made,
   leaving out those of decisions no shift changes (``triage_labels.learnable``: competitors'
   watches never alert, a watch at threshold 0 alerts on everything);
2. fits the shift on the older three quarters: the one whose alerts best match the labels
   (F1 of "needed attention now"; ties go to the shift nearest the current one);
3. moves the current shift toward it by at most ``STEP`` points per UTC day, counting every
   run of the day (nightly and on demand, ``vigie triage learn`` or `/cm triage learn`) and
   an admin's reset of that day (`/cm triage reset` moves the shift back to 0 however far,
   and learning moves it only what that left of the day's ``STEP``), and never beyond
   ``MAX_OFFSET`` either way;
4. measures precision and recall on the newest quarter, which the fit never saw, of the
   current shift, of the one the labels asked for and of the bounded step toward it; the
   step is taken only if the shift asked for does better there and the step no worse.

An admin's reset sets the labels made until then aside: runs read only the labels made
after the last reset (``triage_labels.learned_from``), and need ``MIN_LABELS`` of them again.

Every run is recorded (``triage_runs``) with its figures, and `/cm triage` shows it; so is
a run while learning is off for the workspace, as one that changed nothing (outcome ``off``,
with the label counts), except a dry run, which records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.permissions import require_role
from bot.services.triage_labels import learned_from
from storage.db import transaction
from storage.models import Role, Watch, Workspace, utcnow
from storage.models_competitors import WATCH_BRAND
from storage.models_triage import TriageCalibration, TriageLabel, TriageRun

MIN_LABELS = 40
MIN_PER_CLASS = 10
STEP = 10
"""The most learning moves the threshold in one UTC day (all its runs together, a reset's
move counted in), in points."""
MAX_OFFSET = 30
"""The furthest the learned shift may take any watch from its own threshold."""
TEST_SHARE = 0.25
MAX_LABELS = 5000
"""The newest labels a run reads: old habits fade, and a run stays cheap."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled alert decision: the priority's margin over the watch's threshold."""

    margin: int
    positive: bool


@dataclass(frozen=True, slots=True)
class Figures:
    """Precision and recall of the alert decision on a set of labels."""

    labels: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """Share of alerts the team wanted now (None without alerts)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """Share of what the team wanted now that alerted (None without such labels)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when either is undefined)."""
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived figures."""
        return {**asdict(self), "precision": self.precision, "recall": self.recall,
                "f1": self.f1}


def evaluate(examples: Sequence[Example], offset: int) -> Figures:
    """The figures of "alert when margin >= offset" on ``examples``."""
    tp = fp = fn = 0
    for example in examples:
        alert = example.margin >= offset
        if alert and example.positive:
            tp += 1
        elif alert:
            fp += 1
        elif example.positive:
            fn += 1
    return Figures(len(examples), tp, fp, fn)


def best_offset(examples: Sequence[Example], current: int) -> int:
    """The shift in [-MAX_OFFSET, MAX_OFFSET] with the best F1 on ``examples`` (the nearest
    to ``current`` among equals)."""
    # Counts per margin (clipped to the range), then one sweep from the top: a margin
    # m alerts at every offset <= m.
    low, high = -MAX_OFFSET, MAX_OFFSET
    positives = [0] * (high - low + 2)
    negatives = [0] * (high - low + 2)
    for example in examples:
        slot = min(max(example.margin, low - 1), high) - low + 1
        (positives if example.positive else negatives)[slot] += 1
    total_positive = sum(positives)
    best: tuple[float, int, int] | None = None
    tp = fp = 0
    for offset in range(high, low - 1, -1):
        tp += positives[offset - low + 1]
        fp += negatives[offset - low + 1]
        f1 = 2 * tp / (tp + fp + total_positive) if tp else 0.0
        key = (round(f1, 9), -abs(offset - current), offset)
        if best is None or key > best:
            best = key
    assert best is not None
    return best[2]


def bounded(current: int, proposed: int, step_left: int = STEP) -> int:
    """``proposed``, at most ``step_left`` points from ``current`` and within ±MAX_OFFSET."""
    step = max(-step_left, min(step_left, proposed - current))
    return max(-MAX_OFFSET, min(MAX_OFFSET, current + step))


def effective_threshold(threshold: int, offset: int) -> int:
    """A watch's threshold with the workspace's shift; 0 ("alert on everything") stays 0."""
    if threshold <= 0:
        return threshold
    return max(1, min(100, threshold + offset))


def workspace_offset(session: Session, workspace_id: int) -> int:
    """The shift applied to the workspace's thresholds now (0 when off or never learned)."""
    row = session.get(TriageCalibration, workspace_id)
    return row.offset if row is not None and row.enabled else 0


def shifts_in_force(session: Session, workspace_id: int, start: datetime, end: datetime
                    ) -> list[int]:
    """The shifts ingest applied to the workspace's thresholds at some moment of [start,
    end) (0 while learning was off): the one in force now, taken back through the runs
    recorded since ``start`` (learning's, resets, off and on). A digest's "waited" reads
    the decisions made then, not today's threshold: after a reset or a step down, a
    mention that waited under the higher threshold is above today's."""
    row = session.get(TriageCalibration, workspace_id)
    enabled = row.enabled if row is not None else True
    offset = row.offset if row is not None else 0
    runs = list(session.scalars(select(TriageRun).where(
        TriageRun.workspace_id == workspace_id, TriageRun.created_at >= start)
        .order_by(TriageRun.created_at.desc(), TriageRun.id.desc())))
    # An "off" run while learning was already off (or "on" while on) is recorded too: what
    # a switch found is what the switch before it left, not the opposite of its own.
    earlier = session.scalar(select(TriageRun.kind).where(
        TriageRun.workspace_id == workspace_id, TriageRun.created_at < start,
        TriageRun.kind.in_(("on", "off")))
        .order_by(TriageRun.created_at.desc(), TriageRun.id.desc()).limit(1))
    found = [run.kind == "on" for run in runs if run.kind in ("on", "off")][1:]
    found.append(earlier != "off")  # a workspace's calibration starts on
    seen: list[int] = []
    for run in runs:
        if run.created_at < end:  # what the run left was in force from then on
            seen.append(offset if enabled else 0)
        if run.kind in ("learn", "reset"):
            offset = run.offset_before
        elif run.kind in ("on", "off"):
            enabled = found.pop(0)  # what it was before the switch
    seen.append(offset if enabled else 0)  # in force at ``start``
    return seen


def alert_threshold(session: Session, watch: Watch) -> int:
    """The threshold ingest compares a mention's priority with, for ``watch``."""
    return effective_threshold(watch.alert_threshold,
                               workspace_offset(session, watch.workspace_id))


@dataclass
class LearnResult:
    """What a learning run found, and what it did."""

    team_id: str
    outcome: str
    offset_before: int
    offset_after: int
    proposed: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    before: Figures | None = None
    after: Figures | None = None
    target: Figures | None = None
    """The held-out figures of the shift the labels asked for (``after``: of the bounded
    step taken toward it)."""
    dry_run: bool = False
    moved_today: int = 0
    """How far the shift had moved earlier in the run's UTC day (learning and resets)."""

    @property
    def applied(self) -> bool:
        """True when the run changed the workspace's shift."""
        return self.outcome == "applied" and not self.dry_run

    @property
    def figures(self) -> dict[str, Any]:
        """What the run record keeps."""
        return {"counts": self.counts,
                "before": self.before.as_dict() if self.before else None,
                "after": self.after.as_dict() if self.after else None,
                "target": self.target.as_dict() if self.target else None,
                "moved_today": self.moved_today}


def load_examples(session: Session, workspace_id: int) -> list[Example]:
    """The workspace's newest labels of decisions the shift can change, made since its last
    reset (``learned_from``), oldest first."""
    rows = session.execute(
        select(TriageLabel.priority, TriageLabel.threshold, TriageLabel.positive)
        .outerjoin(Watch, Watch.id == TriageLabel.watch_id)
        .where(learned_from(session, workspace_id))
        .order_by(TriageLabel.decided_at.desc(), TriageLabel.id.desc()).limit(MAX_LABELS)).all()
    return [Example(int(priority) - int(threshold), bool(positive))
            for priority, threshold, positive in reversed(rows)]


def _counts(examples: Sequence[Example]) -> dict[str, int]:
    positive = sum(1 for e in examples if e.positive)
    return {"labels": len(examples), "positive": positive,
            "negative": len(examples) - positive}


def propose(examples: Sequence[Example], current: int, team_id: str = "",
            step_left: int = STEP) -> LearnResult:
    """The run's decision on ``examples`` (oldest first), without touching the database;
    ``step_left``: how far the shift may still move today."""
    counts = _counts(examples)
    result = LearnResult(team_id, "too_few_labels", current, current, counts=counts)
    if (counts["labels"] < MIN_LABELS or counts["positive"] < MIN_PER_CLASS
            or counts["negative"] < MIN_PER_CLASS):
        return result
    cut = len(examples) - max(1, round(len(examples) * TEST_SHARE))
    train, test = examples[:cut], examples[cut:]
    counts.update(train=len(train), test=len(test))
    result.proposed = best_offset(train, current)
    new = bounded(current, result.proposed, step_left)
    result.before, result.after = evaluate(test, current), evaluate(test, new)
    result.target = evaluate(test, result.proposed)
    if result.proposed == current:
        result.outcome = "unchanged"
    elif new == current:
        result.outcome = "day_limit"
    elif result.after.f1 < result.before.f1 or result.target.f1 < result.before.f1:
        result.outcome = "held_out_worse"
    elif result.target.f1 == result.before.f1:
        # The newest labels cannot tell the two apart: no evidence, no change (labels of
        # mentions that waited are mostly "Should have alerted", so the older ones alone
        # would always ask for a lower threshold).
        result.outcome = "held_out_same"
    else:
        result.outcome, result.offset_after = "applied", new
    return result


def _calibration(session: Session, workspace_id: int) -> TriageCalibration:
    row = session.get(TriageCalibration, workspace_id)
    if row is None:
        row = TriageCalibration(workspace_id=workspace_id, enabled=True, offset=0)
        session.add(row)
        session.flush()
    return row


def _record_run(session: Session, workspace_id: int, actor: Actor, kind: str,
                result: LearnResult, run_key: str | None = None,
                now: datetime | None = None) -> None:
    session.add(TriageRun(
        workspace_id=workspace_id, run_key=run_key, kind=kind, actor=actor.name[:32],
        outcome=result.outcome, applied=result.applied, offset_before=result.offset_before,
        offset_after=result.offset_after, proposed=result.proposed, figures=result.figures,
        created_at=now or utcnow()))
    record(session, workspace_id, actor, f"triage.{kind}",
           detail={"outcome": result.outcome, "offset_before": result.offset_before,
                   "offset_after": result.offset_after})


def _utc_day(now: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    return start, start + timedelta(days=1)


def moves_today(session: Session, workspace_id: int, now: datetime) -> list[TriageRun]:
    """The runs of ``now``'s UTC day that moved the workspace's shift: learning's and
    resets (turning learning off or on keeps the shift)."""
    start, end = _utc_day(now)
    return list(session.scalars(select(TriageRun).where(
        TriageRun.workspace_id == workspace_id, TriageRun.created_at >= start,
        TriageRun.created_at < end, or_(
            (TriageRun.kind == "learn") & TriageRun.applied.is_(True),
            (TriageRun.kind == "reset") & (TriageRun.offset_after != TriageRun.offset_before)))
        .order_by(TriageRun.id)))


def moved_today(session: Session, workspace_id: int, now: datetime) -> int:
    """How many points the shift moved in ``now``'s UTC day, learning and resets together."""
    return sum(abs(run.offset_after - run.offset_before)
               for run in moves_today(session, workspace_id, now))


def step_left(session: Session, workspace_id: int, now: datetime) -> int:
    """How many points learning may still move the shift in ``now``'s UTC day: what the
    day's learning and resets left of ``STEP``."""
    return max(0, STEP - moved_today(session, workspace_id, now))


def learn(session: Session, workspace: Workspace, actor: Actor, *, dry_run: bool = False,
          run_key: str | None = None, now: datetime | None = None) -> LearnResult:
    """One learning run for ``workspace`` in the caller's transaction (``dry_run``: compute
    and record nothing), at ``now`` (default: the clock). A workspace whose calibration is
    off is left alone: the run is recorded as one that changed nothing because learning is
    off (outcome ``off``), with the label counts it reports all the same."""
    now = now or utcnow()
    calibration = _calibration(session, workspace.id) if not dry_run else (
        session.get(TriageCalibration, workspace.id))
    current = calibration.offset if calibration is not None else 0
    examples = load_examples(session, workspace.id)
    if calibration is not None and not calibration.enabled:
        result = LearnResult(workspace.team_id, "off", current, current,
                             counts=_counts(examples))
    else:
        moved = moved_today(session, workspace.id, now)
        result = propose(examples, current, workspace.team_id, max(0, STEP - moved))
        result.moved_today = moved
    result.dry_run = dry_run
    if dry_run:
        return result
    assert calibration is not None
    if result.applied:
        calibration.offset = result.offset_after
        calibration.updated_by = actor.name[:32]
        calibration.updated_at = now
    _record_run(session, workspace.id, actor, "learn", result, run_key, now)
    return result


def do_learn(sessions: sessionmaker[Session], actor: Actor, team_ids: Sequence[str] = (),
             *, dry_run: bool = False, now: datetime | None = None) -> list[LearnResult]:
    """`vigie triage learn`: a run for each named workspace, once each however often it is
    named (all when none is named)."""
    team_ids = list(dict.fromkeys(team_ids))
    with sessions() as session:
        known = dict(session.execute(select(Workspace.team_id, Workspace.id)).tuples().all())
    unknown = [team for team in team_ids if team not in known]
    if unknown:
        raise ServiceError("triage.unknown_workspace", teams=", ".join(unknown),
                           known=", ".join(sorted(known)) or "-")
    results = []
    for team in team_ids or sorted(known):
        with transaction(sessions) as session:
            workspace = session.get(Workspace, known[team])
            assert workspace is not None
            results.append(learn(session, workspace, actor, dry_run=dry_run, now=now))
    return results


def do_learn_workspace(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                       *, dry_run: bool = False, now: datetime | None = None) -> LearnResult:
    """`/cm triage learn`: a run now for the admin's workspace."""
    with transaction(sessions) as session:
        if actor.user_id is not None:
            require_role(session, workspace_id, actor, Role.ADMIN)
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise ServiceError("triage.unknown_workspace", teams=str(workspace_id), known="-")
        return learn(session, workspace, actor, dry_run=dry_run, now=now)


def run_nightly(sessions: sessionmaker[Session], now: datetime, actor: Actor) -> list[LearnResult]:
    """The nightly job: one run per workspace and UTC day, whichever worker gets there
    first (the run's unique key); safe to call every hour."""
    key = f"nightly:{now.date().isoformat()}"
    with sessions() as session:
        done = set(session.scalars(select(TriageRun.workspace_id).where(
            TriageRun.run_key == key)))
        todo = [wid for wid in session.scalars(select(Workspace.id).order_by(Workspace.id))
                if wid not in done]
    results = []
    for workspace_id in todo:
        try:
            with transaction(sessions) as session:
                workspace = session.get(Workspace, workspace_id)
                if workspace is None:
                    continue
                results.append(learn(session, workspace, actor, run_key=key, now=now))
        except IntegrityError:
            continue  # another worker ran this workspace's nightly run
    return results


def _switch(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
            kind: str, now: datetime | None) -> LearnResult:
    now = now or utcnow()
    with transaction(sessions) as session:
        if actor.user_id is not None:
            require_role(session, workspace_id, actor, Role.ADMIN)
        calibration = _calibration(session, workspace_id)
        before = calibration.offset
        if kind == "reset":
            calibration.offset = 0  # on or off, as it was
            # Labels carry the clock's time (``labelled_at``): so does the reset.
            calibration.reset_at = utcnow()
        else:
            calibration.enabled = kind == "on"
        calibration.updated_by = actor.name[:32]
        calibration.updated_at = now
        workspace = session.get(Workspace, workspace_id)
        outcome = {"off": "switched_off", "on": "switched_on"}.get(kind, kind)
        result = LearnResult(workspace.team_id if workspace else "", outcome, before,
                             calibration.offset)
        _record_run(session, workspace_id, actor, kind, result, now=now)
        return result


def do_reset(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
             *, now: datetime | None = None) -> LearnResult:
    """Back to the shipped thresholds (admins): the shift only; learning stays on or off.
    The labels made until now are set aside: learning reads only those made after the
    reset (``learned_from``), so it starts again once there are enough of them (else the
    next run would learn the old shift back from the same labels). ``now``: when, for the
    day's movement (default: the clock)."""
    return _switch(sessions, workspace_id, actor, "reset", now)


def do_set_enabled(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                   enabled: bool, *, now: datetime | None = None) -> LearnResult:
    """Apply and learn the calibration, or not (admins); "off" keeps the shift for later.
    ``now``: when (default: the clock)."""
    return _switch(sessions, workspace_id, actor, "on" if enabled else "off", now)


@dataclass(frozen=True, slots=True)
class RunView:
    """A past run as `/cm triage` shows it."""

    kind: str
    outcome: str
    actor: str
    at: datetime
    offset_before: int
    offset_after: int
    proposed: int | None
    figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TriageStatus:
    """What `/cm triage` shows."""

    enabled: bool
    offset: int
    counts: dict[str, int]
    by_action: dict[str, int]
    watches: list[tuple[str, int, int]]
    """(name, own threshold, effective threshold) of the brand watches (competitors' never
    alert)."""
    last_run: RunView | None
    last_change: RunView | None
    today: list[RunView] = field(default_factory=list)
    """The runs of the current UTC day that moved the shift (learning's, resets), oldest
    first."""
    step_left: int = STEP
    """How far learning may still move the shift today."""
    min_labels: int = MIN_LABELS
    min_per_class: int = MIN_PER_CLASS
    step: int = STEP
    max_offset: int = MAX_OFFSET
    reset_at: datetime | None = None
    """When an admin last reset the shift: the labels counted are those made since."""


def _run_view(row: TriageRun | None) -> RunView | None:
    if row is None:
        return None
    return RunView(row.kind, row.outcome, row.actor, row.created_at, row.offset_before,
                   row.offset_after, row.proposed, row.figures or {})


def triage_status(sessions: sessionmaker[Session], workspace_id: int,
                  now: datetime | None = None) -> TriageStatus:
    """The workspace's labels (those learning reads: made since the last reset, if any),
    calibration, its last run and last
    change, and what learning changed in ``now``'s UTC day (default: the clock)."""
    now = now or utcnow()
    with sessions() as session:
        calibration = session.get(TriageCalibration, workspace_id)
        enabled = calibration.enabled if calibration is not None else True
        offset = calibration.offset if calibration is not None else 0
        labels = select(TriageLabel.action, TriageLabel.positive, func.count()).outerjoin(
            Watch, Watch.id == TriageLabel.watch_id).where(
            learned_from(session, workspace_id)).group_by(
            TriageLabel.action, TriageLabel.positive)
        by_action: dict[str, int] = {}
        positive = 0
        for action, is_positive, count in session.execute(labels).tuples():
            by_action[action] = by_action.get(action, 0) + int(count)
            positive += int(count) if is_positive else 0
        total = sum(by_action.values())
        watches = [(name, threshold, effective_threshold(threshold, offset if enabled else 0))
                   for name, threshold in session.execute(
                       select(Watch.name, Watch.alert_threshold).where(
                           Watch.workspace_id == workspace_id, Watch.kind == WATCH_BRAND)
                       .order_by(Watch.name))]
        runs = select(TriageRun).where(TriageRun.workspace_id == workspace_id).order_by(
            TriageRun.id.desc()).limit(1)
        last_run = session.scalar(runs)
        last_change = session.scalar(runs.where(or_(
            TriageRun.offset_after != TriageRun.offset_before, TriageRun.kind.in_(("on", "off")))))
        today = [view for run in moves_today(session, workspace_id, now)
                 if (view := _run_view(run)) is not None]
        return TriageStatus(enabled, offset,
                            {"labels": total, "positive": positive, "negative": total - positive},
                            by_action, watches, _run_view(last_run), _run_view(last_change),
                            today=today, step_left=step_left(session, workspace_id, now),
                            reset_at=calibration.reset_at if calibration is not None else None)
