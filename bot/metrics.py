"""Prometheus metrics: counters kept by this process, gauges read from the database.

Counters (polls, ingested mentions, Slack 429s, LLM latency, digest runs) are per process:
scrape the web and the worker processes. Gauges that describe shared state (outbox lag,
failing sources, stored mentions) are read from the database, so any process reports the
same truth, at most once every :data:`GAUGE_MAX_AGE_SECONDS` whatever the scrape rate (the
mention count is a full COUNT(*)). The endpoint needs a bearer token (bot.web).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Mention, OutboxMessage, OutboxStatus, SourceRow, utcnow

REGISTRY = CollectorRegistry(auto_describe=True)

POLLS = Counter("vigie_polls_total", "Source polls by network and result",
                ["network", "result"], registry=REGISTRY)
INGESTED = Counter("vigie_mentions_ingested_total", "Mentions stored by ingest", ["network"],
                   registry=REGISTRY)
SLACK_RATE_LIMITED = Counter("vigie_slack_rate_limited_total",
                             "Slack calls answered 429 after the client's own retries",
                             registry=REGISTRY)
LLM_LATENCY = Histogram("vigie_llm_request_seconds", "LLM chat-completion latency",
                        buckets=(0.5, 1, 2, 5, 10, 20, 40, 80), registry=REGISTRY)
DIGEST_RUNS = Counter("vigie_digest_runs_total", "Daily digest runs by outcome", ["status"],
                      registry=REGISTRY)


GAUGE_MAX_AGE_SECONDS = 30.0
"""How long database gauges are served from memory before they are read again."""


class DatabaseCollector(Collector):
    """Gauges computed from the database, cached for ``max_age`` seconds."""

    def __init__(self, sessions: sessionmaker[Session], *,
                 max_age: float = GAUGE_MAX_AGE_SECONDS) -> None:
        self._sessions = sessions
        self._max_age = max_age
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._gauges: list[GaugeMetricFamily] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Outbox depth and lag, failing sources, stored mentions (cached)."""
        with self._lock:  # one reader at a time; the others get its fresh values
            if time.monotonic() - self._read_at >= self._max_age:
                self._gauges = list(self._read())
                self._read_at = time.monotonic()
            yield from self._gauges

    def _read(self) -> Iterator[GaugeMetricFamily]:
        with self._sessions() as session:
            pending, oldest = session.execute(
                select(func.count(), func.min(OutboxMessage.created_at))
                .where(OutboxMessage.status == OutboxStatus.PENDING.value)).one()
            failing = session.scalar(select(func.count()).select_from(SourceRow).where(
                SourceRow.consecutive_failures > 0)) or 0
            stored = session.scalar(select(func.count()).select_from(Mention)) or 0
        lag = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
            lag = max(0.0, (utcnow() - oldest).total_seconds())
        yield GaugeMetricFamily("vigie_outbox_pending", "Slack messages waiting", value=pending)
        yield GaugeMetricFamily("vigie_outbox_lag_seconds",
                                "Age of the oldest message waiting for Slack", value=lag)
        yield GaugeMetricFamily("vigie_sources_failing", "Sources whose last poll failed",
                                value=failing)
        yield GaugeMetricFamily("vigie_mentions_stored", "Mentions in the database",
                                value=stored)


def database_registry(sessions: sessionmaker[Session], *,
                      max_age: float = GAUGE_MAX_AGE_SECONDS) -> CollectorRegistry:
    """A registry of the (cached) database gauges; build it once per process."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(sessions, max_age=max_age))
    return registry


def render(database: CollectorRegistry) -> bytes:
    """The text exposition of this process's counters plus the database gauges."""
    return generate_latest(REGISTRY) + generate_latest(database)
