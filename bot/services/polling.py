"""Scheduled polling: claim due sources, fetch them concurrently, ingest each batch.

Claims go through the database (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several
workers share the work and no source is fetched by two at once; a claim is a lease
(``next_poll_at`` pushed forward), so a worker that dies only delays its sources. A tick
claims only as many sources as it has free fetch slots, and claims again as slots free,
and every few seconds while slots are free and fetches run (a source falling due while
another's fetch hangs is fetched then): a claimed source's fetch starts at once and
settles within its budget, well inside the lease, and the sources it has not reached
stay due for the other workers.
One failing source gets backoff and a health entry, and never stops the others.

No tick waits on one source: each fetch has a time budget, enforced inside the HTTP
layer (a watchdog shuts its sockets down) and again by the tick, which abandons a fetch
still running past its budget (e.g. stuck in a DNS lookup, which nothing can interrupt),
records the failure with backoff and goes on with the other sources.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.net.errors import SourceError, SourceRateLimited
from bot.net.http import HttpClient
from bot.net.retry import exponential, retry_delay
from bot.services import backfill
from bot.services.ingest import IngestReport, do_ingest
from bot.services.secrets import (
    ensure_openable,
    open_config,
    redact,
    redact_for_row,
    secret_values,
)
from bot.sources.base import FetchResult
from bot.sources.registry import POLLABLE_KINDS, get_source, parse_config
from storage.claims import QueryT, skip_locked
from storage.db import integer_ids, transaction
from storage.db_errors import error_kind, is_transient
from storage.models import SourceRow, Watch, Workspace, utcnow
from storage.search_index import index_pending

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
"""How long a claim holds a source at least (longer when the fetch budget asks for it)."""
MAX_BACKOFF = timedelta(hours=6)
DEFAULT_CONCURRENCY = 8
DEFAULT_SOURCE_BUDGET = 60.0
"""Seconds one source's fetch may take, all its requests, retries and pauses included."""
ABANDON_GRACE = 5.0
"""Extra seconds the tick waits after a budget before abandoning the fetch's thread."""
BUSY_GRACE = timedelta(minutes=30)
"""How long the database may fail a source's polls (``database_busy``) or pushes for a
passing reason, from the first such failure (``busy_since``), before those failures count
as its own: a lock or a short outage is over by then; a post whose own insert always fails
(a statement timeout it exceeds, a full disk) is not, and must show as failing, with
backoff, where a person looks."""
RECLAIM_SECONDS = 3.0
"""How long a tick whose claim found nothing more to take waits before claiming again for
its free slots while fetches run, so that the sources falling due meanwhile are fetched
then, not after its slowest fetch (at most one such claim per this many seconds)."""

HttpFactory = Callable[[bool], HttpClient]
"""Builds the HTTP client for a source; the flag says whether the source is trusted."""


@dataclass(frozen=True, slots=True)
class ClaimedSource:
    """What a fetch needs, copied out of the claiming transaction."""

    id: int
    kind: str
    config: dict[str, Any]
    cursor: dict[str, Any]
    trusted: bool
    interval_seconds: int
    watch_name: str
    claimed_at: datetime | None = None
    """When this worker claimed it; a later claim by another worker wins."""
    unclaimed: tuple[datetime, datetime | None] | None = None
    """Its ``next_poll_at`` and ``last_polled_at`` before this claim (None: no lease), which
    ``release_claims`` puts back."""
    leased_until: datetime | None = None
    """The ``next_poll_at`` this claim set (None: no lease)."""
    polled_at: datetime | None = None
    """The time the tick polls it at (the claim's ``now``)."""


@dataclass
class SourceOutcome:
    """The result of polling one source."""

    source: ClaimedSource
    error: str | None = None
    not_modified: bool = False
    fetched: int = 0
    report: IngestReport = field(default_factory=IngestReport)
    seconds: float = 0.0


@dataclass
class TickReport:
    """What one poll tick did."""

    outcomes: list[SourceOutcome] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """Sources whose fetch or ingest failed."""
        return sum(1 for outcome in self.outcomes if outcome.error)

    @property
    def totals(self) -> IngestReport:
        """All ingest counts added up; a failed source stored nothing and counts none."""
        total = IngestReport()
        for outcome in self.outcomes:
            if not outcome.error:
                total.add(outcome.report)
        return total


def snapshot(row: SourceRow, watch_name: str,
             unclaimed: tuple[datetime, datetime | None] | None = None, *,
             polled_at: datetime | None = None) -> ClaimedSource:
    """Copy what a fetch needs out of a source row (``unclaimed``, ``polled_at``: see
    ClaimedSource)."""
    return ClaimedSource(row.id, row.kind, open_config(row), dict(row.cursor), row.trusted,
                         row.interval_seconds, watch_name, row.last_polled_at, unclaimed,
                         row.next_poll_at if unclaimed is not None else None, polled_at)


def lease_for(budget: float) -> timedelta:
    """How long a claim holds a source whose fetch may take ``budget`` seconds: at least
    CLAIM_LEASE, and twice the time before the tick abandons the fetch, so that a claim
    never runs out while its fetch or its store is under way."""
    return max(CLAIM_LEASE, timedelta(seconds=2 * (budget + ABANDON_GRACE)))


def claim_due_sources(
    sessions: sessionmaker[Session], *, now: datetime, limit: int = 1000,
    only_ids: Sequence[int] | None = None, force: bool = False, lease: bool = True,
    exclude: Collection[int] = (), hold: timedelta = CLAIM_LEASE,
) -> list[ClaimedSource]:
    """Claim up to ``limit`` due sources of active watches, each for ``hold``.

    ``force`` ignores the schedule (``vigie poll --once``); ``lease=False`` only reads
    (dry runs); ``exclude``: ids left out (those the tick took already). On PostgreSQL
    rows locked by another worker are skipped.
    """
    with transaction(sessions) as session:
        query = _pollable(select(SourceRow, Watch.name), now=now, only_ids=only_ids,
                          force=force).order_by(SourceRow.next_poll_at, SourceRow.id).limit(limit)
        if exclude:
            query = query.where(SourceRow.id.not_in(list(exclude)))
        if lease:
            query = skip_locked(session, query, of=SourceRow)
        claimed = []
        for row, watch_name in session.execute(query).all():
            unclaimed = None
            if lease:
                unclaimed = (row.next_poll_at, row.last_polled_at)
                row.next_poll_at = now + hold
                row.last_polled_at = now
            claimed.append(snapshot(row, watch_name, unclaimed, polled_at=now))
        return claimed


def _pollable(query: QueryT, *, now: datetime, only_ids: Sequence[int] | None,
              force: bool) -> QueryT:
    """``query`` over the sources (and their watch) a tick polls: active, pollable, of a
    workspace Vigie is installed in (``bot.services.installs``), due at
    ``now`` (unless ``force``), among ``only_ids`` when given."""
    query = (query.join(Watch, Watch.id == SourceRow.watch_id)
             .join(Workspace, Workspace.id == Watch.workspace_id)
             .where(SourceRow.paused.is_(False), Watch.paused.is_(False),
                    Workspace.uninstalled_at.is_(None),
                    SourceRow.kind.in_(sorted(POLLABLE_KINDS))))
    if not force:
        query = query.where(SourceRow.next_poll_at <= now)
    if only_ids is not None:
        query = query.where(SourceRow.id.in_(integer_ids(only_ids)))
    return query


def release_claims(sessions: sessionmaker[Session], sources: Sequence[ClaimedSource]) -> int:
    """Give the sources of an interrupted poll (Ctrl-C on `vigie poll`) back their schedule
    from before the claim: held until the lease ran out, a running `vigie run` would skip
    them for ten minutes. A source claimed again since (its lease ran out) stays with its
    new claim. Returns how many were released."""
    released = 0
    with transaction(sessions) as session:
        for source in sources:
            if source.unclaimed is None:
                continue
            row = session.get(SourceRow, source.id, with_for_update=True)
            # Still this claim, untouched: a store or a failure that committed just before
            # the interrupt set the next poll itself (its own schedule, or a backoff).
            if (row is None or source.claimed_at is None
                    or row.last_polled_at != source.claimed_at
                    or row.next_poll_at != source.leased_until):
                continue
            row.next_poll_at, row.last_polled_at = source.unclaimed
            released += 1
    return released


class StrandedClaims:
    """The claims of sources whose poll failed with the database out of reach, so that
    their failure could not be recorded either: held until their lease ran out
    (``lease_for``: ten minutes at least), they would not be polled again for that long
    once the database is back. A process keeps one; each tick gives them back their
    schedule (``release_claims``) before it claims, once the database answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[int, ClaimedSource] = {}

    def add(self, sources: Sequence[ClaimedSource]) -> None:
        """Keep ``sources`` (claims not recorded) until a release goes through."""
        with self._lock:
            self._sources.update((source.id, source) for source in sources)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sources)

    def release(self, sessions: sessionmaker[Session]) -> int:
        """Release the claims kept (``release_claims``); returns how many went back to
        their schedule. With the database still out of reach they are kept for the next
        try; a release failing for another reason is logged and they are forgotten (their
        leases run out on their own)."""
        with self._lock:
            sources = list(self._sources.values())
        if not sources:
            return 0
        try:
            released = release_claims(sessions, sources)
        except SQLAlchemyError as err:
            if is_transient(err):
                return 0
            log.exception("could not release the claims of polls the database failed")
            released = 0
        with self._lock:
            for source in sources:
                if self._sources.get(source.id) is source:
                    del self._sources[source.id]
        if released:
            log.info("the database is back: %d source(s) whose poll it failed are due again",
                     released)
        return released


def fetch_source(source: ClaimedSource, http_factory: HttpFactory, *,
                 budget: float = DEFAULT_SOURCE_BUDGET,
                 on_client: Callable[[HttpClient], None] | None = None) -> FetchResult:
    """Fetch one source within ``budget`` seconds (runs in a worker thread; no database).

    ``on_client`` receives the HTTP client before the fetch starts, so the caller can
    abort it from another thread.
    """
    source_cls = get_source(source.kind)
    ensure_openable(source.config)
    config = parse_config(source.kind, source.config)
    with http_factory(source.trusted) as http:
        http.set_budget(budget)
        if on_client is not None:
            on_client(http)
        return source_cls().fetch(http, config, dict(source.cursor))


def backoff_delay(interval_seconds: int, failures: int, retry_after: float | None) -> timedelta:
    """How long to wait after ``failures`` consecutive failures (capped at six hours)."""
    backoff = exponential(max(failures - 1, 0), base=interval_seconds, max_exponent=8)
    delay = timedelta(seconds=retry_delay(backoff, retry_after, floor=True))
    return min(delay, MAX_BACKOFF)


MAX_ERROR_CHARS = 1000
"""A source's stored ``last_error`` is cut to this many characters."""
MAX_ERROR_REASONS = 10
"""At most this many reasons of an error are stored in ``last_error_reasons`` (a settings
error has one per setting)."""
MAX_REASON_PARAM_CHARS = 200
"""Each text parameter of a stored reason is cut to this many characters: a server's
message, an address or a header value can be of any length, and would bloat the row and
the message showing it (the source list shows the error's first 300 characters)."""


def _capped(value: str) -> str:
    """``value``, ending with "…" when cut to :data:`MAX_REASON_PARAM_CHARS` characters."""
    if len(value) <= MAX_REASON_PARAM_CHARS:
        return value
    return value[:MAX_REASON_PARAM_CHARS - 1] + "…"


def _stored_last(row: SourceRow) -> datetime:
    """When the source last stored a poll (or was added, if it never did)."""
    last = row.last_success_at or row.created_at
    return last if last.tzinfo is not None else last.replace(tzinfo=UTC)


BUSY_REASONS = frozenset({"database_busy", "database_busy_push"})
"""``last_error_reasons`` keys of a poll (a push) the database could not store for a
passing reason; their ``since`` parameter says since when it has not (``busy_since``)."""


def busy_since(row: SourceRow, now: datetime) -> datetime:
    """Since when the database has failed the source's polls (or pushes) for a passing
    reason: its first such failure since it last stored one, which its last error's
    reason keeps (``since``); ``now`` when its last error is no such failure (this one
    begins the streak). How long ago it last stored one says how quiet it is, not how long
    the database has been busy (a webhook whose last push came an hour ago)."""
    reasons = row.last_error_reasons or []
    if (len(reasons) == 1 and isinstance(reasons[0], list) and len(reasons[0]) == 2
            and reasons[0][0] in BUSY_REASONS and isinstance(reasons[0][1], dict)):
        value = reasons[0][1].get("since")
        try:
            since = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            since = None
        if since is not None:
            since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            return min(since, now)
    return now


def failure_message(error: BaseException) -> str:
    """What a failed poll says in its source's health (before the row's secrets are
    masked)."""
    if isinstance(error, SourceError):
        return str(error)
    if isinstance(error, SQLAlchemyError) and is_transient(error):
        return (f"the database could not store this poll ({error_kind(error)}: a lock, a "
                "timeout or a lost connection); nothing was lost: the same posts are "
                "fetched again at the next poll")
    return f"internal error ({type(error).__name__}); see the worker logs"


def record_failure(session: Session, source_id: int, error: BaseException, now: datetime) -> str:
    """Store a failed poll in the source's health and schedule the retry with backoff. A
    database failing for a passing reason (``storage.db_errors``) is told as such: the
    poll's transaction rolled back, and its posts are fetched again at the next one. That
    is no failure of the source: it is retried at its own interval, and its failure streak
    (what shows it failing) is left as it was, unless the database has failed its polls
    so for longer than ``BUSY_GRACE`` (``busy_since``) and it has stored none for three
    intervals: then it counts as any failure."""
    row = session.get(SourceRow, source_id)
    busy = isinstance(error, SQLAlchemyError) and is_transient(error)
    since = busy_since(row, now) if busy and row is not None else now
    # The database has not stored its polls for so long: whatever the error says, it does
    # not pass. Measured from the first such failure: one blip after a long pause (or a
    # stop of the workers) is no failure of the source.
    counted = not busy or (row is not None and since < now - BUSY_GRACE
                           and _stored_last(row) < now - max(
                               BUSY_GRACE, timedelta(seconds=3 * row.interval_seconds)))
    kind = error_kind(error)
    message = failure_message(error)
    if row is None:
        return message
    message = redact_for_row(message, row) or message  # servers echo tokens back
    if counted:  # a short database outage would otherwise put every source in backoff
        row.consecutive_failures += 1
    row.last_error = message[:MAX_ERROR_CHARS]
    reasons = (error.reasons if isinstance(error, SourceError)
               else (("database_busy", {"type": kind, "since": since.isoformat()}),) if busy
               else (("internal", {"type": type(error).__name__}),))
    # Masked before they are cut: a secret cut in two would no longer be recognised.
    row.last_error_reasons = [
        [key, {name: _capped(redact_for_row(value, row) or "") if isinstance(value, str)
               else value for name, value in params.items()}]
        for key, params in reasons[:MAX_ERROR_REASONS]] or None
    row.last_error_at = now
    retry_after = error.retry_after if isinstance(error, SourceRateLimited) else None
    row.next_poll_at = now + backoff_delay(row.interval_seconds,
                                           row.consecutive_failures if counted else 1,
                                           retry_after)
    return message


def why_not_polled(sessions: sessionmaker[Session], source_ids: Sequence[int], *, due: bool
                   ) -> dict[int, str]:
    """Why each of ``source_ids`` is not polled: ``missing``, ``pushed`` (a webhook),
    ``paused``, ``watch_paused``, ``uninstalled`` (Vigie was uninstalled from its
    workspace), ``not_due`` (with ``due``, its next poll is later), or ``busy`` (another
    worker holds it for its poll)."""
    with sessions() as session:
        found = {row.id: (row, paused, gone) for row, paused, gone in session.execute(
            select(SourceRow, Watch.paused, Workspace.uninstalled_at)
            .join(Watch, Watch.id == SourceRow.watch_id)
            .join(Workspace, Workspace.id == Watch.workspace_id)
            .where(SourceRow.id.in_(integer_ids(source_ids))))}
    reasons = {}
    for source_id in source_ids:
        row, watch_paused, uninstalled_at = found.get(source_id, (None, False, None))
        reasons[source_id] = ("missing" if row is None else
                              "pushed" if row.kind not in POLLABLE_KINDS else
                              "paused" if row.paused else
                              "watch_paused" if watch_paused else
                              "uninstalled" if uninstalled_at is not None else
                              "not_due" if due else "busy")
    return reasons


def _store(sessions: sessionmaker[Session], source: ClaimedSource, result: FetchResult,
           now: datetime, outcome: SourceOutcome,
           backfill_hours: int = backfill.DEFAULT_HOURS) -> None:
    with transaction(sessions) as session:
        _apply(session, source, result, now, outcome, backfill_hours)


def _apply(session: Session, source: ClaimedSource, result: FetchResult, now: datetime,
           outcome: SourceOutcome, backfill_hours: int, *, dry_run: bool = False) -> None:
    """Ingest one source's fetch in ``session`` and record its success: mentions, alerts,
    quiet backfill, cursor, health and the new mentions' search words (``dry_run``: all
    but the words, in a transaction the caller rolls back; a dry run holds no lease)."""
    row = session.get(SourceRow, source.id, with_for_update=True)
    if row is None:  # removed while we fetched
        return
    if (not dry_run and source.claimed_at is not None
            and row.last_polled_at != source.claimed_at):
        # Our lease ran out and another worker claimed it: its result will be stored.
        outcome.error = "claim expired during a slow tick; skipped"
        return
    watch = session.get(Watch, row.watch_id)
    first_poll = backfill.cutoff(session, row, now, backfill_hours)
    # A backlog read over several polls (a week's pause) is history on each, not the first only.
    quiet_before = (first_poll if first_poll is not None
                    else backfill.history_start(session, row, backfill_hours))
    if watch is not None and result.mentions:
        history_before = (backfill.history_start(session, row, backfill_hours)
                          if any(item.late for item in result.mentions) else None)
        outcome.report = do_ingest(session, watch, row.id, result.mentions, now=now,
                                   backfill_before=quiet_before,
                                   history_before=history_before)
        if not dry_run:
            index_pending(session)  # the new mentions' words, in the same transaction
    if first_poll is not None:
        backfill.record(session, row.id, outcome.report.backfilled,
                        round((now - first_poll).total_seconds() / 3600), now)
    else:
        backfill.count_later(session, row.id, outcome.report.backfilled)
    # The cursor moves in the same transaction as the mentions it covers.
    row.cursor = result.cursor
    row.consecutive_failures = 0
    row.last_error = outcome.report.skipped_note  # English, for the CLI and the logs
    row.last_error_reasons = outcome.report.skipped_reasons  # worded for each reader
    if row.last_error:  # stored, but some items were dropped: say so in the health
        row.last_error_at = now
    row.last_success_at = now
    row.next_poll_at = now + timedelta(seconds=row.interval_seconds)
    if result.rate_limited is not None:
        # A look-up that only adds to the mentions met a rate limit: they are stored, and
        # the next poll waits as after a rate-limited fetch, or it meets the limit again.
        row.next_poll_at = now + backoff_delay(row.interval_seconds, 1,
                                               result.rate_limited.retry_after)


class PollStopped(Exception):
    """A tick was stopped (its process is stopping): its fetches in flight were cut short and
    the sources it had not stored were given back their schedule."""


STOP_CHECK_SECONDS = 0.2
"""How often a tick that can be stopped looks at its stop signal while fetches run."""


class _Discarded(Exception):
    """Raised at the end of a dry run's transaction so that it rolls back."""


def _try_store(sessions: sessionmaker[Session], source: ClaimedSource, result: FetchResult,
               now: datetime, outcome: SourceOutcome, backfill_hours: int) -> None:
    """What ``_store`` would do, in a transaction always rolled back: the same dedupe
    against stored posts, backfill and alert decisions as a poll, so the same counts; its
    mentions, outbox rows, cursor and health never reach the database. One transaction
    per source, as a poll's, so a dry run holds no lock longer than a poll does (one
    transaction for every source deadlocked with the worker polling the same posts)."""
    try:
        with transaction(sessions) as session:
            _apply(session, source, result, now, outcome, backfill_hours, dry_run=True)
            raise _Discarded
    except _Discarded:
        pass


def _fetched(future: Future[FetchResult] | None, budget: float, outcome: SourceOutcome
             ) -> FetchResult:
    """The fetch's result, counted in ``outcome``; SourceError when it was abandoned."""
    if future is None:
        raise SourceError(f"gave up after {budget:g}s (time budget of a fetch)")
    result = future.result()
    outcome.fetched = len(result.mentions)
    outcome.not_modified = result.not_modified
    return result


class _Fetches:
    """The fetches of one tick in a thread pool, each watched against its budget; the
    sources come from ``claim`` (given how many slots are free), called as slots free, and
    every RECLAIM_SECONDS while slots are free and fetches run."""

    def __init__(self, http_factory: HttpFactory, concurrency: int, budget: float,
                 claim: Callable[[int], list[ClaimedSource]], most: int,
                 stop: threading.Event | None = None) -> None:
        self._http_factory = http_factory
        self._stop = stop
        self._budget = budget
        self._concurrency = max(1, concurrency)
        self._claim = claim
        self._most = max(1, most)
        self._idle_until: float | None = None
        """After a claim found fewer sources than it asked for: no claim before this
        (monotonic) time."""
        self._queued: list[ClaimedSource] = []
        self._pool: ThreadPoolExecutor | None = None
        self.started: dict[int, float] = {}
        self._clients: dict[int, HttpClient] = {}
        self.sources: dict[Future[FetchResult], ClaimedSource] = {}

    def submit(self, source: ClaimedSource) -> None:
        """Queue one fetch; it starts when one of the tick's ``concurrency`` slots is free,
        and its budget with it."""
        self._queued.append(source)

    def _free(self, pending: set[Future[FetchResult]]) -> int:
        return self._concurrency - len(pending) - len(self._queued)

    def _refill(self, pending: set[Future[FetchResult]]) -> None:
        """Claim sources for the free slots, unless the tick stops. A claim that finds fewer
        than it asked for (nothing more is due, or other workers hold the rest) is not
        repeated for RECLAIM_SECONDS: a fetch hanging until its budget runs out once kept
        the tick from claiming anything more, and the sources falling due meanwhile (and
        the next ticks, which wait for this one) waited for it."""
        free = self._free(pending)
        if free <= 0 or (self._stop is not None and self._stop.is_set()):
            return
        if self._idle_until is not None and time.monotonic() < self._idle_until:
            return
        claimed = self._claim(free)
        self._queued.extend(claimed)
        self._idle_until = time.monotonic() + RECLAIM_SECONDS if len(claimed) < free else None

    def _until_claim(self, pending: set[Future[FetchResult]]) -> float | None:
        """Seconds until the next claim for free slots is due (None: no slot is free, or
        nothing waits on a short claim)."""
        if self._idle_until is None or self._free(pending) <= 0:
            return None
        return max(0.05, self._idle_until - time.monotonic())

    def _start(self, pending: set[Future[FetchResult]]) -> None:
        """Start queued fetches while fewer than ``concurrency`` are pending, claiming more
        for the free slots. An abandoned fetch keeps its thread (it may never come back), so
        it gives its slot up and the pool may have a thread for every fetch (it only makes
        one when none is idle): a fixed-size pool would leave the fetches queued behind
        stuck threads waiting forever."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._most,
                                            thread_name_prefix="vigie-fetch")
        self._refill(pending)
        while self._queued and len(pending) < self._concurrency:
            source = self._queued.pop(0)
            future = self._pool.submit(self._run, source)
            self.sources[future] = source
            pending.add(future)
            if not self._queued:
                self._refill(pending)

    def _run(self, source: ClaimedSource) -> FetchResult:
        self.started[source.id] = time.monotonic()
        return fetch_source(source, self._http_factory, budget=self._budget,
                            on_client=lambda http: self._clients.__setitem__(source.id, http))

    def settle(self) -> Iterator[tuple[ClaimedSource, Future[FetchResult] | None]]:
        """Yield each source with its finished future, or None when it was abandoned."""
        pending: set[Future[FetchResult]] = set()
        limit = self._budget + ABANDON_GRACE
        try:
            self._start(pending)
            while pending:
                timeout = self._next_check(pending, limit)
                until_claim = self._until_claim(pending)
                if until_claim is not None:
                    timeout = min(timeout, until_claim)
                if self._stop is not None:
                    timeout = min(timeout, STOP_CHECK_SECONDS)
                done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                if self._stop is not None and self._stop.is_set():
                    raise PollStopped
                self._start(pending)  # before the caller stores what is done
                for future in done:
                    yield self.sources[future], future
                now = time.monotonic()
                for future in list(pending):
                    source = self.sources[future]
                    began = self.started.get(source.id)
                    if began is not None and now - began > limit:
                        pending.discard(future)
                        client = self._clients.get(source.id)
                        if client is not None:
                            client.abort()
                        log.warning("source %s (%s) abandoned after %.0fs", source.id,
                                    source.kind, now - began)
                        yield source, None
                self._start(pending)
        finally:
            # Left early (Ctrl-C): nothing will store what is still in flight, so cut it
            # short, or the process would wait for it on exit.
            for future, source in self.sources.items():
                client = self._clients.get(source.id)
                if not future.done() and client is not None:
                    client.abort()
            # Never wait for an abandoned fetch: its thread ends on its own.
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)

    def seconds(self, source: ClaimedSource) -> float:
        """Seconds since ``source``'s fetch started (0 when it never started)."""
        return time.monotonic() - self.started.get(source.id, time.monotonic())

    def _next_check(self, pending: set[Future[FetchResult]], limit: float) -> float:
        now = time.monotonic()
        ends = [self.started[self.sources[f].id] + limit for f in pending
                if self.sources[f].id in self.started]
        return max(0.05, min(ends) - now) if ends else 1.0


def run_poll_tick(
    sessions: sessionmaker[Session], http_factory: HttpFactory, *,
    now: datetime | None = None, concurrency: int = DEFAULT_CONCURRENCY, limit: int = 1000,
    only_ids: Sequence[int] | None = None, force: bool = False, dry_run: bool = False,
    progress: Callable[[SourceOutcome, int, int], None] | None = None,
    budget: float = DEFAULT_SOURCE_BUDGET, backfill_hours: int = backfill.DEFAULT_HOURS,
    stop: threading.Event | None = None, stranded: StrandedClaims | None = None,
) -> TickReport:
    """Poll every due source once (``limit`` at most): claim, fetch concurrently, ingest,
    record health.

    Sources are claimed as fetch slots free (``concurrency`` at a time), so the sources
    this tick has not reached stay due for other workers, and a claim's lease never runs
    out before its fetch settles; while fetches run, it claims for its free slots every
    RECLAIM_SECONDS (sources falling due during a slow fetch), never a source twice.
    Without ``now``, each claim polls at the time it is made.
    ``budget`` bounds each source's fetch; a fetch past it is abandoned and counts as a
    failure. ``dry_run`` fetches and ingests as a poll would (same counts: new, duplicates
    of stored posts, alerts, quiet backfill) but writes nothing: no mention, cursor, outbox
    row or health. Each source is tried against what is stored, not against what another
    source of the same tick would store first.
    A new or resumed source's posts older than ``backfill_hours`` are stored quietly, as
    are those of a source that failed for longer than that once it answers again.
    Once ``stop`` is set (the process is stopping), the fetches in flight are cut short,
    the sources not stored yet are released as on Ctrl-C, and PollStopped is raised.
    A source whose poll the database failed, its failure not recorded either (the
    database out of reach), is released at the end of the tick, or, the database still
    out of reach, kept in ``stranded`` (the process's) and released at the start of a
    later tick: the first tick after the outage polls it, not one ten minutes later.
    """
    if stop is not None and stop.is_set():
        raise PollStopped
    stranded = stranded if stranded is not None else StrandedClaims()
    if not dry_run:
        stranded.release(sessions)
    claimed: list[ClaimedSource] = []
    taken: set[int] = set()
    hold = lease_for(budget)

    def claim(wanted: int) -> list[ClaimedSource]:
        wanted = min(wanted, limit - len(claimed))
        if wanted <= 0:
            return []
        batch = claim_due_sources(sessions, now=now or utcnow(), limit=wanted,
                                  only_ids=only_ids, force=force, lease=not dry_run,
                                  exclude=taken, hold=hold)
        claimed.extend(batch)
        taken.update(source.id for source in batch)
        return batch

    report = TickReport()
    total = _count_due(sessions, now or utcnow(), limit, only_ids, force) if progress else 0
    first = claim(concurrency)
    if not first:
        return report
    fetches = _Fetches(http_factory, concurrency, budget, claim, limit, stop)
    for source in first:
        fetches.submit(source)
    settled: set[int] = set()
    unrecorded: list[ClaimedSource] = []
    try:
        for outcome in _poll(sessions, fetches, budget, backfill_hours, dry_run=dry_run,
                             unrecorded=unrecorded):
            settled.add(outcome.source.id)
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome, len(report.outcomes), max(total, len(claimed)))
    except BaseException:  # Ctrl-C (KeyboardInterrupt), PollStopped, on its way out
        if not dry_run:
            _release_quietly(sessions, [s for s in claimed if s.id not in settled])
            stranded.add(unrecorded)
        raise
    if unrecorded:
        stranded.add(unrecorded)
        stranded.release(sessions)
    return report


def _count_due(sessions: sessionmaker[Session], now: datetime, limit: int,
               only_ids: Sequence[int] | None, force: bool) -> int:
    """How many sources a tick would poll at ``now`` (``limit`` at most), for its
    progress lines: the tick claims them as it goes, so it cannot count its claims."""
    query = _pollable(select(func.count()).select_from(SourceRow), now=now,
                      only_ids=only_ids, force=force)
    with sessions() as session:
        return min(limit, int(session.scalar(query) or 0))


def _release_quietly(sessions: sessionmaker[Session], sources: list[ClaimedSource]) -> None:
    """``release_claims`` on the way out of an interrupted tick; a failure is logged, and
    the interruption goes on (the leases then run out on their own)."""
    try:
        released = release_claims(sessions, sources)
    except Exception:
        log.exception("could not release the sources of an interrupted poll")
        return
    if released:
        log.info("interrupted poll: released %d source(s)", released)


def _poll(sessions: sessionmaker[Session], fetches: _Fetches, budget: float,
          backfill_hours: int, *, dry_run: bool,
          unrecorded: list[ClaimedSource]) -> Iterator[SourceOutcome]:
    """Store each fetch as it settles, each source in its own transaction; a failure is
    recorded in the source's health, with backoff (``dry_run``: rolled back, and a
    failure only reported). The sources whose failure the database could not record
    are added to ``unrecorded``."""
    store = _try_store if dry_run else _store
    for source, future in fetches.settle():
        outcome = SourceOutcome(source)
        now = source.polled_at or utcnow()
        try:
            store(sessions, source, _fetched(future, budget, outcome), now, outcome,
                  backfill_hours)
        except Exception as err:
            # Its transaction rolled back: whatever its ingest counted was not stored.
            outcome.report = IngestReport()
            if isinstance(err, SQLAlchemyError) and is_transient(err):
                # A passing failure is no bug: one line, no traceback.
                log.warning("polling source %s (%s): the database could not store this "
                            "poll (%s); it is fetched again at the next one", source.id,
                            source.kind, error_kind(err))
            elif not isinstance(err, SourceError):
                log.exception("polling source %s (%s) failed", source.id, source.kind)
            if dry_run:
                outcome.error = redact(str(err) if isinstance(err, SourceError)
                                       else repr(err), secret_values(source.kind, source.config))
            else:
                outcome.error, recorded = _record(sessions, source, err, now,
                                                  len(unrecorded))
                if not recorded:
                    unrecorded.append(source)
        outcome.seconds = fetches.seconds(source)
        yield outcome


def _record(sessions: sessionmaker[Session], source: ClaimedSource, error: Exception,
            now: datetime, unrecorded: int) -> tuple[str, bool]:
    """``record_failure`` in its own transaction: the poll's error as its health tells
    it, and whether it was recorded (``unrecorded``: how many failures of the tick were
    not, so far). A database that is still down (failing for a passing reason) cannot
    store the health either: the tick goes on, and the source's claim is released once
    the database answers (``StrandedClaims``), so that the next poll tries again; one
    warning per tick. Any other failure is raised."""
    try:
        with transaction(sessions) as session:
            return record_failure(session, source.id, error, now), True
    except SQLAlchemyError as failed:
        if not is_transient(failed):
            raise
        if not unrecorded:
            log.warning("polling source %s (%s): the database could not record its failure "
                        "(%s); it is polled again once the database answers", source.id,
                        source.kind, error_kind(failed))
    message = failure_message(error)
    return redact(message, secret_values(source.kind, source.config)) or message, False
