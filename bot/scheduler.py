"""APScheduler jobs: the outbox flush now; polling, digests and SLA checks join it."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime

log = logging.getLogger(__name__)


def _flush_outbox(runtime: Runtime) -> None:
    report = runtime.outbox.flush()
    if report.sent or report.failed:
        log.info("outbox: %d sent, %d deferred, %d failed",
                 report.sent, report.deferred, report.failed)


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
    return scheduler
