"""/readyz against a stalled PostgreSQL: bounded answers, and /healthz never waits."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.schema_revision import head_revision
from bot.web import ReadinessProbe, WSGIApp, build_wsgi_app
from storage.db import make_engine, ping
from tests.e2e.conftest import eventually
from tests.harness.hostile_servers import StallingProxy

HANG_GUARD_SECONDS = 60
"""Far above the bounded answer: only a probe that would never answer reaches it."""


def _get(app: WSGIApp, path: str) -> tuple[int, dict[str, Any]]:
    started: dict[str, Any] = {}

    def start_response(status: str, _headers: list[tuple[str, str]],
                       _exc: Any = None) -> None:
        started["status"] = int(status.split(" ", 1)[0])

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "wsgi.input": io.BytesIO(b"")}
    body = b"".join(app(environ, start_response))
    return started["status"], json.loads(body)


@pytest.fixture
def proxy() -> Iterator[StallingProxy]:
    """A proxy to the test PostgreSQL server."""
    with StallingProxy(5432) as server:
        yield server


@pytest.mark.postgres
def test_readyz_answers_503_while_the_database_stalls(
        _postgres_migrated: str, proxy: StallingProxy) -> None:
    url = make_url(_postgres_migrated).set(host="127.0.0.1", port=proxy.port)
    settings = load_settings(database_url=url.render_as_string(hide_password=False))
    runtime = build_runtime(settings)
    app = build_wsgi_app(runtime, None)
    try:
        assert _get(app, "/readyz") == (200, {"status": "ready"})
        proxy.stall()
        with ThreadPoolExecutor(max_workers=20) as pool:
            probes = [pool.submit(_get, app, "/readyz") for _ in range(20)]
            answers = [probe.result(timeout=HANG_GUARD_SECONDS) for probe in probes]
        assert all(answer[0] == 503 for answer in answers), answers
        assert {answer[1]["status"] for answer in answers} == {"database not answering"}
        # The probes shared one check: a stalled database got at most one new connection.
        assert proxy.connections_after_stall <= 1
        assert _get(app, "/healthz") == (200, {"status": "ok"})
    finally:
        proxy.close()
        runtime.close()


def test_readyz_names_a_database_a_newer_release_migrated(sqlite_url: str) -> None:
    runtime = build_runtime(load_settings(database_url=sqlite_url))
    try:
        head = head_revision()
        assert head is not None
        newer = f"{int(head) + 1:04d}"
        with runtime.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": newer})
        assert _get(build_wsgi_app(runtime, None), "/readyz") == (503, {
            "status": f"the database is at {newer}, newer than this Vigie ({head}): "
                      "deploy the newer version"})
    finally:
        runtime.close()


@pytest.mark.postgres
def test_readiness_comes_back_after_a_failover_despite_a_check_stuck_for_good(
        _postgres_migrated: str, proxy: StallingProxy) -> None:
    """The connection a check was using when the database stalled may never answer (the
    old primary is gone); a check stuck that long is given up for one on a new connection."""
    url = make_url(_postgres_migrated).set(host="127.0.0.1", port=proxy.port)
    engine = make_engine(url.render_as_string(hide_password=False))

    def check() -> None:
        ping(engine)

    probe = ReadinessProbe(check, timeout=0.5, abandon_after=1.0)
    try:
        assert probe() == ("200 OK", {"status": "ready"})
        proxy.stall()
        assert probe() == ("503 Service Unavailable", {"status": "database not answering"})
        proxy.fail_over()
        eventually(lambda: probe()[0] == "200 OK", timeout=30)
    finally:
        proxy.close()
        engine.dispose()
