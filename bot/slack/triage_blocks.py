"""`/cm triage`: what the workspace's triage learning knows, did last, and why (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.i18n import has, number, plural_key, t, tally
from bot.slack.digest_blocks import context, header, section, sections, signed
from bot.slack.escape import escape, slack_date

MAX_WATCHES_SHOWN = 20


class TriageRun(Protocol):
    """A learning run's outcome (``bot.services.triage_learning`` RunView or LearnResult)."""

    @property
    def outcome(self) -> str: ...
    @property
    def offset_before(self) -> int: ...
    @property
    def offset_after(self) -> int: ...
    @property
    def proposed(self) -> int | None: ...
    @property
    def figures(self) -> Mapping[str, Any]: ...


class TriageResult(TriageRun, Protocol):
    """A run just made by `/cm triage learn` (``LearnResult``)."""

    @property
    def dry_run(self) -> bool: ...


class TriageChange(TriageRun, Protocol):
    """A past run or offset change (``RunView``)."""

    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def at(self) -> datetime: ...


class TriageRules(Protocol):
    """The learning rules a run's outcome is explained with."""

    @property
    def step(self) -> int: ...
    @property
    def min_labels(self) -> int: ...
    @property
    def min_per_class(self) -> int: ...


class TriageState(TriageRules, Protocol):
    """What `/cm triage` shows (``bot.services.triage_learning.TriageStatus`` has it)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def offset(self) -> int: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def by_action(self) -> Mapping[str, int]: ...
    @property
    def watches(self) -> Sequence[tuple[str, int, int]]: ...
    @property
    def last_run(self) -> TriageChange | None: ...
    @property
    def last_change(self) -> TriageChange | None: ...
    @property
    def max_offset(self) -> int: ...
    @property
    def today(self) -> Sequence[TriageChange]: ...
    @property
    def step_left(self) -> int: ...
    @property
    def reset_at(self) -> datetime | None: ...


def ratio(value: float | None, language: str = "en") -> str:
    """0.8333 -> ``0.83`` (``0,83`` in French); a dash when undefined."""
    return "–" if value is None else number(value, language, decimals=2)


def figures_line(figures: Mapping[str, Any], language: str) -> str | None:
    """Before/after precision and recall on the held-out labels, if the run measured them."""
    before, after = figures.get("before"), figures.get("after")
    if not before or not after:
        return None
    return t(language, "triage.figures", test=before["labels"],
             p0=ratio(before["precision"], language), p1=ratio(after["precision"], language),
             r0=ratio(before["recall"], language), r1=ratio(after["recall"], language),
             n0=before["tp"] + before["fp"], n1=after["tp"] + after["fp"])


def outcome_text(run: TriageRun, language: str, status: TriageRules) -> str:
    """One run's outcome in words (``run``: a RunView or LearnResult)."""
    counts = run.figures.get("counts", {})
    proposed = run.proposed
    # Runs recorded before resets counted in the day's movement stopped at STEP.
    moved = run.figures.get("moved_today") or status.step
    return t(language, f"triage.outcome_{run.outcome}", before=signed(run.offset_before),
             after=signed(run.offset_after),
             proposed=signed(proposed) if proposed is not None else "–",
             step=status.step, moved=moved, labels=counts.get("labels", 0),
             positive=counts.get("positive", 0), negative=counts.get("negative", 0),
             min=status.min_labels, per_class=status.min_per_class)


def action_words(by_action: Mapping[str, int], language: str) -> str:
    """``46 assigned, 34 ignored, 4 marked *Should have alerted*`` (a dash when none)."""
    parts = []
    for action, count in sorted(by_action.items()):
        key = plural_key(language, f"triage.action.{action}", count)
        parts.append(f"{number(count, language)} "
                     f"{t(language, key) if has(key) else escape(action)}")
    return ", ".join(parts) or "–"


def today_line(status: TriageState, language: str) -> str:
    """What moved the shift in the current UTC day (learning, an admin's reset), and how
    far learning may still move it."""
    if not status.today:
        return t(language, "triage.today_none", left=status.step_left)
    runs = ", ".join(t(language, "triage.today_reset" if run.kind == "reset"
                       else "triage.today_run", before=signed(run.offset_before),
                       after=signed(run.offset_after), actor=_who(run.actor, language))
                     for run in status.today)
    reset = any(run.kind == "reset" for run in status.today)
    return t(language, "triage.today_with_reset" if reset else "triage.today",
             start=signed(status.today[0].offset_before),
             end=signed(status.today[-1].offset_after), runs=runs, left=status.step_left,
             step=status.step)


def _who(actor: str, language: str) -> str:
    """Who ran or changed the triage: a Slack user as a mention, the terminal operator and
    the nightly job in words, anything else as recorded (escaped)."""
    if actor[:1] in {"U", "W"} and actor.isalnum():
        return f"<@{actor}>"
    if actor == "cli":
        return t(language, "workflow.operator")
    if actor == "scheduler":
        return t(language, "triage.nightly_job")
    return escape(actor)


def more_watches_line(left_out: Sequence[tuple[str, int, int]], offset: int,
                      language: str) -> str:
    """What the watch list leaves out to fit: how many more brand watches, and how their
    thresholds move (the shift is the workspace's, the same for each, but bounded)."""
    shifts = {effective - own for _name, own, effective in left_out}
    if shifts == {0}:
        key = "triage.watches_more_own"
    elif shifts == {offset}:
        key = "triage.watches_more"
    else:
        key = "triage.watches_more_bounded"
    return t(language, plural_key(language, key, len(left_out)),
             count=tally(len(left_out), language), offset=signed(offset))


def build_triage_status(status: TriageState, language: str,
                        result: TriageResult | None = None
                        ) -> tuple[str, list[dict[str, Any]]]:
    """The `/cm triage` answer; ``result`` is a run just made (shown first)."""
    title = t(language, "triage.title")
    blocks: list[dict[str, Any]] = [header(title)]
    if result is not None:
        lines = [outcome_text(result, language, status)]
        figures = figures_line(result.figures, language)
        if figures:
            lines.append(figures)
        if result.dry_run:
            lines.append(t(language, "triage.dry_run"))
        blocks.append(section("\n".join(lines)))
    state = "triage.state_on" if status.enabled else "triage.state_off"
    lines = [t(language, state, offset=signed(status.offset))]
    lines += [t(language, "triage.watch_line", watch=escape(name), own=own, effective=eff)
              for name, own, eff in status.watches[:MAX_WATCHES_SHOWN]]
    left_out = status.watches[MAX_WATCHES_SHOWN:]
    if left_out:
        lines.append(more_watches_line(left_out, status.offset, language))
    blocks += sections(lines)  # long names run on into another section, none cut off
    # After a reset the counts are of the labels made since (all learning reads): say so.
    since = {} if status.reset_at is None else {"when": slack_date(status.reset_at)}
    blocks.append(section(t(language, "triage.labels_since_reset" if since else "triage.labels",
                            actions=action_words(status.by_action, language),
                            **since, **status.counts)))
    history: list[str] = []
    if status.last_run is not None:
        run = status.last_run
        history.append(t(language, "triage.last_run", when=slack_date(run.at),
                         actor=_who(run.actor, language),
                         outcome=outcome_text(run, language, status)))
        figures = figures_line(run.figures, language)
        if figures:
            history.append(figures)
    else:
        history.append(t(language, "triage.no_runs"))
    change = status.last_change
    if change is not None and change != status.last_run:
        why = t(language, f"triage.why_{change.kind}")
        history.append(t(language, "triage.last_change", when=slack_date(change.at),
                         actor=_who(change.actor, language), before=signed(change.offset_before),
                         after=signed(change.offset_after), why=why))
        figures = figures_line(change.figures, language)
        if figures:
            history.append(figures)
    history.append(today_line(status, language))
    blocks.append(section("\n".join(history)))
    blocks.append(context(t(language, "triage.rules", min=status.min_labels,
                            per_class=status.min_per_class, step=status.step,
                            max=status.max_offset)))
    return title, blocks
