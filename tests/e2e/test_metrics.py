"""/metrics: behind a bearer token, and served from gauges read at most every N seconds."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event

from tests.e2e.conftest import VigieApp, start_vigie
from tests.harness.slack_standin import SlackStandIn

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def vigie_metrics(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    yield from start_vigie(sqlite_url, slack_standin, metrics_token=TOKEN)


def test_metrics_need_the_bearer_token(vigie_metrics: VigieApp) -> None:
    url = vigie_metrics.url + "/metrics"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    metrics = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert metrics.status_code == 200 and "text/plain" in metrics.headers["content-type"]
    for name in ("vigie_outbox_pending", "vigie_outbox_lag_seconds", "vigie_sources_failing",
                 "vigie_mentions_stored", "vigie_polls_total", "vigie_llm_request_seconds"):
        assert name in metrics.text


def test_scrapes_do_not_count_the_database_each_time(vigie_metrics: VigieApp) -> None:
    counts: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "count(" in statement.lower():
            counts.append(statement)

    engine = vigie_metrics.runtime.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            answer = httpx.get(vigie_metrics.url + "/metrics",
                               headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 200 and "vigie_mentions_stored" in answer.text
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert 0 < len(counts) <= 3  # one read of the three gauges' queries, then the cache
