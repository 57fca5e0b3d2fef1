"""APScheduler jobs: outbox flush, polling, daily digests, monthly reports and SLA checks."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.failure_streak import FailureStreak
from bot.metrics import DIGEST_RUNS, INGESTED, POLLS
from bot.runtime import Runtime
from bot.services.actors import SCHEDULER
from bot.services.clock_steps import catch_up_clock_step
from bot.services.http_clients import http_factory
from bot.services.outbox import prune_pace
from bot.services.polling import CLAIM_LEASE, PollStopped, lease_for, run_poll_tick
from bot.services.privacy import AliasSweep, do_compact_search_index, purge_older_than
from bot.services.replies import flush_replies
from bot.services.reporting.digest import run_due_digests
from bot.services.reporting.monthly import run_due_reports
from bot.services.secrets import seal_plain_secrets
from bot.services.sla import run_sla_checks
from bot.services.spikes import run_spike_checks
from bot.services.triage_learning import run_nightly
from storage.db import optimize

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
"""How long a stopping process waits for its running jobs (a stopped poll ends in well under
a second; `docker stop` kills after 10 s)."""


class Stopping:
    """The stop signal of a scheduler's jobs, and the count of those running: a poll tick
    seeing it set cuts its fetches short and releases its sources."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._changed = threading.Condition()
        self._running = 0

    def counted(self, job: Callable[..., Any]) -> Callable[..., Any]:
        """``job``, counted while it runs."""
        @functools.wraps(job)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._changed:
                self._running += 1
            try:
                return job(*args, **kwargs)
            finally:
                with self._changed:
                    self._running -= 1
                    self._changed.notify_all()
        return run

    def wait_idle(self, timeout: float = STOP_GRACE_SECONDS) -> bool:
        """Wait up to ``timeout`` seconds for the running jobs to end; False if some run on."""
        with self._changed:
            return self._changed.wait_for(lambda: self._running == 0, timeout)


class _QuietStop:
    """A scheduler stopped while it hands its due jobs over ends that pass quietly.

    APScheduler (3.11) marks a scheduler stopped before it takes the job stores' lock
    that such a pass holds: the pass then looks for a one-shot job it just handed over
    among the pending jobs of a stopped scheduler, does not find it, and the
    JobLookupError kills the scheduler's thread with a traceback on stderr (Ctrl-C while
    the start-up jobs are due; agronholm/apscheduler#104 moved only the stores' own
    shutdown under the lock). The job stores are emptied by the stop anyway."""

    state: int

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[misc]
        except JobLookupError:
            if self.state != STATE_STOPPED:
                raise
            return None


SKIPPED_RUN = ('Execution of job "%s" skipped: maximum number of running instances'
               " reached (%d)")
"""What APScheduler (3.x) logs, as a WARNING, when a job is due while its last run goes on."""


STUCK_AFTER = timedelta(minutes=5)
"""A single-instance job running this long (or ten of its intervals, if longer) while its
next runs are skipped is stuck: one warning says so."""

STUCK_INTERVALS = 10


class _SkippedRunsAtDebug(logging.Filter):
    """Logs at DEBUG APScheduler's warning that a single-instance job's run was skipped.

    The outbox flush (every second) and the poll tick run one at a time: a flush waiting on
    a slow Slack answer made the next ones skip, as intended, each with a WARNING. The
    scheduler logs it before any listener hears of it (EVENT_JOB_MAX_INSTANCES), so it is
    filtered on its logger; misfires, errors and the skips of a job allowed more than one
    run at a time stay warnings. A job whose run goes on past its bound (_QuietSkips) is
    stuck, and that is worth one warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a single-instance job's skip warning, logged again at DEBUG."""
        if (record.levelno == logging.WARNING and record.msg == SKIPPED_RUN
                and isinstance(record.args, tuple) and record.args[1:] == (1,)):
            logging.getLogger(record.name).debug(record.msg, *record.args)
            job = record.args[0]
            scheduler = getattr(job, "_scheduler", None)
            if isinstance(scheduler, _QuietSkips):
                scheduler.run_skipped(job)
            return False
        return True


_SKIPPED_RUNS_AT_DEBUG = _SkippedRunsAtDebug()


class _QuietSkips:
    """A scheduler whose single-instance jobs' skipped runs are logged at DEBUG, but for
    one warning per run that goes on past ``stuck_after`` or STUCK_INTERVALS of its
    intervals, whichever is longer (a poll or SLA check stuck for hours must be seen)."""

    _logger: logging.Logger

    def __init__(self, *args: Any, stuck_after: timedelta = STUCK_AFTER,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stuck_after = stuck_after
        # job id -> (monotonic start of its last run, whether that run was called stuck);
        # written and read on the scheduler's own thread (listener and skip log).
        self._runs: dict[str, tuple[float, bool]] = {}
        # One filter for all: addFilter adds an instance once.
        self._logger.addFilter(_SKIPPED_RUNS_AT_DEBUG)
        self.add_listener(self._run_submitted, EVENT_JOB_SUBMITTED)  # type: ignore[attr-defined]

    def _run_submitted(self, event: JobSubmissionEvent) -> None:
        self._runs[event.job_id] = (time.monotonic(), False)

    def run_skipped(self, job: Job) -> None:
        """Note that ``job``'s run was skipped, its last still running; warn once when
        that run has gone on past the job's bound."""
        started, warned = self._runs.get(job.id, (None, True))
        if started is None or warned:
            return
        bound = self._stuck_after
        if isinstance(job.trigger, IntervalTrigger):
            bound = max(bound, STUCK_INTERVALS * job.trigger.interval)
        running = timedelta(seconds=time.monotonic() - started)
        if running > bound:
            self._runs[job.id] = (started, True)
            log.warning("job %s has been running for %s (more than %s): its next runs are "
                        "skipped until it ends", job.id, running, bound)


class QuietBackgroundScheduler(_QuietStop, _QuietSkips, BackgroundScheduler):
    """A BackgroundScheduler whose stop never kills its thread with a traceback, and whose
    single-instance jobs' skipped runs are no warnings (but for one when a run is stuck)."""


class QuietBlockingScheduler(_QuietStop, _QuietSkips, BlockingScheduler):
    """A BlockingScheduler whose stop never ends its loop with a traceback, and whose
    single-instance jobs' skipped runs are no warnings (but for one when a run is stuck)."""


def stop_scheduler(scheduler: BaseScheduler, stopping: Stopping) -> bool:
    """Stop ``scheduler``: no new job starts, a running poll cuts its fetches short and
    releases its sources; returns once the running jobs ended (True) or after
    STOP_GRACE_SECONDS (False)."""
    stopping.requested.set()
    if scheduler.running:
        scheduler.shutdown(wait=False)
    return stopping.wait_idle()


class ClockWatch:
    """Keeps the scheduler's interval jobs running when the wall clock steps back (an NTP
    step, a VM restored from a snapshot). APScheduler waits for a job's next run by the
    wall clock: stepped back 20 s, every job, the outbox's one-second flush included,
    waited 20 s more; stepped back hours, it waited hours. A job whose next run is further
    away than its interval can only be there because the clock stepped back (or a job
    that was running then scheduled its next run by the old clock), so it is brought back
    to one interval from now. The schedules stored in the database (next polls, retries,
    probes) were computed from the old clock too: ``on_step_back`` (given now) brings them
    back (``bot.services.clock_steps``)."""

    def __init__(self, scheduler: BaseScheduler, *,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic,
                 on_step_back: Callable[[datetime, timedelta], object] | None = None) -> None:
        self._scheduler = scheduler
        self._wall = wall
        self._monotonic = monotonic
        self._on_step_back = on_step_back
        self._last = (monotonic(), wall())
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[str]:
        """Bring back the interval jobs scheduled more than their interval (and a second)
        from now; returns their ids. A step back of STORED_STEP_MIN or more (the wall
        clock behind where the monotonic one says it should be since the last check) is
        given to ``on_step_back`` (now, the step) for the stored schedules."""
        elapsed, now = self._monotonic(), self._wall()
        last_elapsed, last_now = self._last
        self._last = (elapsed, now)
        step = last_now + timedelta(seconds=elapsed - last_elapsed) - now
        moved = []
        for job in self._scheduler.get_jobs():
            trigger = job.trigger
            if job.next_run_time is None or not isinstance(trigger, IntervalTrigger):
                continue
            if job.next_run_time > now + trigger.interval + CLOCK_SLACK:
                job.modify(next_run_time=now + trigger.interval)
                moved.append(job.id)
        if moved:
            log.warning("the wall clock stepped back: the next runs of %s brought back to "
                        "one interval from now", ", ".join(moved))
        if step >= STORED_STEP_MIN and self._on_step_back is not None:
            log.warning("the wall clock stepped back %s: the stored schedules move back "
                        "as much", step)
            self._on_step_back(now, step)
        return moved

    def start(self) -> None:
        """Check every CLOCK_CHECK_SECONDS (by the monotonic clock) until ``stop``."""
        self._thread = threading.Thread(target=self._run, name="vigie-clock-watch",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(CLOCK_CHECK_SECONDS):
            try:
                self.check()
            except Exception:  # never let the watch die: the jobs would stall again
                log.exception("clock watch failed")

    def stop(self) -> None:
        """Stop checking."""
        self._stopped.set()


CLOCK_CHECK_SECONDS = 1.0
"""How often ClockWatch looks at the jobs' next runs."""
CLOCK_SLACK = timedelta(seconds=1)
STORED_STEP_MIN = timedelta(seconds=30)
"""The least step back ClockWatch brings the stored schedules back for: a smaller one
holds them no longer than itself, and a hypervisor's time sync stepping a second or two
every few minutes would otherwise keep shortening every wait (Retry-After, rate limits)."""
"""How much further than its interval a job's next run may be before ClockWatch moves it
(APScheduler's own rounding and a job scheduling itself as the watch looks)."""


def catch_up_clock(runtime: Runtime, now: datetime | None = None,
                   step: timedelta | None = None) -> None:
    """Bring back what the database holds scheduled by a wall clock that has since
    stepped back ``step`` (seen by ClockWatch), or at start by one of unknown step
    (``bot.services.clock_steps``). Given to ClockWatch, and run once at start."""
    holds = {CLAIM_LEASE, lease_for(runtime.settings.poll_source_budget_seconds)}
    caught = catch_up_clock_step(runtime.sessions, now or runtime.clock(), step=step,
                                 holds=holds)
    if caught:
        log.warning("the wall clock stepped back: %d source(s), %d paused workspace(s), "
                    "%d message(s), %d reply(ies) and %d approval digest(s) scheduled by "
                    "the old clock brought back", caught.sources, caught.pauses,
                    caught.messages, caught.replies, caught.approval_digests)
        runtime.nudge_outbox()


def _catch_up_clock_at_start(runtime: Runtime) -> None:
    catch_up_clock(runtime)


def _flush_outbox(runtime: Runtime) -> None:
    report = runtime.outbox.flush()
    if report.sent or report.failed:
        log.info("outbox: %d sent, %d deferred, %d failed",
                 report.sent, report.deferred, report.failed)


def _prune_pace(runtime: Runtime) -> None:
    pruned = prune_pace(runtime.sessions, runtime.clock())
    if pruned:
        log.info("outbox: the pace of %d quiet channels forgotten", pruned)


def _poll(runtime: Runtime, stop: threading.Event | None = None) -> None:
    try:
        report = run_poll_tick(runtime.sessions, http_factory(runtime.settings),
                               concurrency=runtime.settings.poll_concurrency,
                               budget=runtime.settings.poll_source_budget_seconds,
                               backfill_hours=runtime.settings.backfill_hours, stop=stop,
                               stranded=runtime.stranded_claims)
    except PollStopped:
        log.info("poll stopped: the process is stopping")
        return
    for outcome in report.outcomes:
        POLLS.labels(outcome.source.kind, "failure" if outcome.error else "success").inc()
        if outcome.report.stored:
            INGESTED.labels(outcome.source.kind).inc(outcome.report.stored)
    if report.outcomes:
        totals = report.totals
        log.info("poll: %d sources, %d failed, %d new mentions, %d alerts",
                 len(report.outcomes), report.failures, totals.stored, totals.alerts)
        runtime.nudge_outbox()


def _seal_plain_secrets(runtime: Runtime) -> None:
    sealed = seal_plain_secrets(runtime.sessions)
    if sealed:
        log.info("secrets: %d source secret(s) stored in plain text now encrypted", sealed)


def _spikes(runtime: Runtime) -> None:
    for found in run_spike_checks(runtime.sessions, runtime.clock()):
        log.warning("spike on watch %s: %s", found.watch, found.decision.summary())
    runtime.nudge_outbox()


def _post_replies(runtime: Runtime) -> None:
    outcomes = flush_replies(runtime.sessions, http_factory(runtime.settings))
    if outcomes:
        log.info("replies: %s", ", ".join(f"#{o.mention_id} {o.status}" for o in outcomes))
        runtime.nudge_outbox()


def _post_due_digests(runtime: Runtime) -> None:
    for outcome in run_due_digests(runtime.sessions, now=runtime.clock(),
                                   default_timezone=runtime.settings.timezone):
        log.info("digest %s %s: %s", outcome.channel_id, outcome.local_date, outcome.status)
        DIGEST_RUNS.labels(outcome.status).inc()
    runtime.nudge_outbox()


def _monthly_reports(runtime: Runtime) -> None:
    queued = run_due_reports(runtime.sessions, now=runtime.clock(),
                             default_timezone=runtime.settings.timezone)
    for channel_id, month in queued:
        log.info("monthly report %s queued for %s", month, channel_id)
    if queued:
        runtime.nudge_outbox()


def _sla(runtime: Runtime) -> None:
    if run_sla_checks(runtime.sessions, runtime.clock(), runtime.settings.timezone):
        runtime.nudge_outbox()


def _retention(runtime: Runtime) -> None:
    purged = purge_older_than(runtime.sessions, runtime.settings.retention_days,
                              runtime.clock()).mentions
    if purged:
        log.info("retention: %d mentions older than %d days purged", purged,
                 runtime.settings.retention_days)
        # Already in the background: their words leave the search index now.
        do_compact_search_index(runtime.sessions)


def _expire_aliases(runtime: Runtime, sweep: AliasSweep) -> None:
    expired = sweep.run(runtime.sessions, runtime.clock())
    if expired:
        log.info("aliases: %d other names of posts not kept expired", expired)


def _triage_learning(runtime: Runtime) -> None:
    for result in run_nightly(runtime.sessions, runtime.clock(), SCHEDULER):
        log.info("triage learning %s: %s, shift %+d -> %+d", result.team_id, result.outcome,
                 result.offset_before, result.offset_after)


def _compact_search_index(runtime: Runtime) -> None:
    do_compact_search_index(runtime.sessions)


def _optimize(runtime: Runtime) -> None:
    log.info("sqlite statistics: %s", optimize(runtime.engine))


def _as_is(job: Callable[..., Any]) -> Callable[..., Any]:
    return job


def _streaked(job: Callable[..., Any]) -> Callable[..., Any]:
    """``job``, its failures logged by streak (see bot.failure_streak) and never raised:
    APScheduler would log every failed run's traceback again."""
    streak = FailureStreak(f"job {getattr(job, '__name__', 'job').lstrip('_')}", log)

    @functools.wraps(job)
    def run(*args: Any, **kwargs: Any) -> Any:
        return streak.run(job, *args, **kwargs)
    return run


def build_scheduler(runtime: Runtime, *, blocking: bool,
                    stopping: Stopping | None = None) -> BaseScheduler:
    """A scheduler with Vigie's recurring jobs; ``blocking`` for a dedicated worker process.
    With ``stopping``, its jobs are counted and its polls stop when it is set (see
    stop_scheduler)."""
    scheduler: BaseScheduler = (
        QuietBlockingScheduler(timezone=UTC) if blocking
        else QuietBackgroundScheduler(timezone=UTC)
    )
    counted = stopping.counted if stopping is not None else _as_is

    def job(func: Callable[..., Any]) -> Callable[..., Any]:
        return counted(_streaked(func))
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    scheduler.add_job(
        job(_flush_outbox), IntervalTrigger(seconds=runtime.settings.outbox_tick_seconds),
        args=[runtime], id="outbox_flush", name="Send pending Slack messages", **common,
    )
    scheduler.add_job(job(_prune_pace), IntervalTrigger(hours=1), args=[runtime],
                      id="outbox_pace", name="Forget the pace of quiet channels", **common)
    scheduler.add_job(
        job(_poll), IntervalTrigger(seconds=runtime.settings.poll_tick_seconds),
        args=[runtime, stopping.requested if stopping is not None else None],
        id="poll", name="Poll due sources", next_run_time=datetime.now(UTC), **common,
    )
    # Once at start: sources stored before a key was set, or whose URL credentials an older
    # Vigie did not recognise, get encrypted without waiting for `vigie secrets rotate`.
    scheduler.add_job(job(_seal_plain_secrets), args=[runtime], id="seal_secrets",
                      name="Encrypt source secrets stored in plain text",
                      next_run_time=datetime.now(UTC), **common)
    # Once at start: a clock stepped back while no process ran left schedules in its
    # future (see ClockWatch for a step while this one runs).
    scheduler.add_job(job(_catch_up_clock_at_start), args=[runtime],
                      id="clock_catch_up", name="Make due what a clock stepped back held",
                      next_run_time=datetime.now(UTC), **common)
    scheduler.add_job(job(_spikes), IntervalTrigger(minutes=10), args=[runtime], id="spikes",
                      name="Detect bad-buzz spikes", **common)
    scheduler.add_job(job(_post_replies), IntervalTrigger(seconds=15), args=[runtime],
                      id="replies", name="Post approved replies", **common)
    # The nudge also queues the approval digests whose window ended and refreshes App Homes.
    scheduler.add_job(job(runtime.nudge_outbox), IntervalTrigger(seconds=30),
                      id="notifications", name="Approval digests and App Home refreshes",
                      **common)
    scheduler.add_job(job(_sla), IntervalTrigger(minutes=1), args=[runtime], id="sla",
                      name="SLA reminders and escalations", **common)
    if runtime.settings.retention_days:
        scheduler.add_job(job(_retention), IntervalTrigger(hours=6), args=[runtime],
                          id="retention", name="Purge old mentions and sent messages", **common)
    scheduler.add_job(job(_expire_aliases), IntervalTrigger(hours=1),
                      args=[runtime, AliasSweep()], id="aliases",
                      name="Expire other names of posts not kept", **common)
    # Hourly, but each workspace learns once per UTC day (the run's unique key).
    scheduler.add_job(job(_triage_learning), IntervalTrigger(hours=1), args=[runtime],
                      id="triage_learning", name="Nightly triage learning", **common)
    scheduler.add_job(job(_post_due_digests), IntervalTrigger(minutes=1), args=[runtime],
                      id="daily_digests", name="Post due daily digests", **common)
    if runtime.engine.dialect.name == "sqlite":
        # A forget or a purge leaves the deleted words in the search index until this
        # runs: at start (one stopped before it ran) and within a minute (one from the CLI
        # or another process; `/cm forget` nudges it at once).
        scheduler.add_job(job(_compact_search_index), IntervalTrigger(minutes=1),
                          args=[runtime], next_run_time=datetime.now(UTC),
                          id="search_compaction", name="Compact the SQLite search index",
                          **common)
        scheduler.add_job(job(_optimize), IntervalTrigger(hours=1), args=[runtime],
                          next_run_time=datetime.now(UTC) + timedelta(minutes=1),
                          id="sqlite_optimize", name="SQLite planner statistics", **common)
    scheduler.add_job(job(_monthly_reports), IntervalTrigger(minutes=15), args=[runtime],
                      id="monthly_reports", name="Queue due monthly reports", **common)
    return scheduler
