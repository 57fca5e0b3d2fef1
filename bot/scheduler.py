"""APScheduler jobs: outbox flush, polling, daily digests and SLA checks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime
from bot.services.http_clients import http_factory
from bot.services.polling import run_poll_tick

log = logging.getLogger(__name__)


def _flush_outbox(runtime: Runtime) -> None:
    report = runtime.outbox.flush()
    if report.sent or report.failed:
        log.info("outbox: %d sent, %d deferred, %d failed",
                 report.sent, report.deferred, report.failed)


def _poll(runtime: Runtime) -> None:
    report = run_poll_tick(runtime.sessions, http_factory(runtime.settings),
                           concurrency=runtime.settings.poll_concurrency)
    if report.outcomes:
        totals = report.totals
        log.info("poll: %d sources, %d failed, %d new mentions, %d alerts",
                 len(report.outcomes), report.failures, totals.stored, totals.alerts)
        runtime.nudge_outbox()


def build_scheduler(runtime: Runtime, *, blocking: bool) -> BaseScheduler:
    """A scheduler with Vigie's recurring jobs; ``blocking`` for a dedicated worker process."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    scheduler.add_job(
        _flush_outbox, IntervalTrigger(seconds=runtime.settings.outbox_tick_seconds),
        args=[runtime], id="outbox_flush", name="Send pending Slack messages", **common,
    )
    scheduler.add_job(
        _poll, IntervalTrigger(seconds=runtime.settings.poll_tick_seconds), args=[runtime],
        id="poll", name="Poll due sources", next_run_time=datetime.now(UTC), **common,
    )
    return scheduler
