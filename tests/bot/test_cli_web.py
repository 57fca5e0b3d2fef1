"""`vigie web` as run from a terminal: the start-up line lists what it really serves."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.bot.test_cli import VIGIE, _default_sigint, _env, _Output, _unused_port, vigie


@contextmanager
def _web(tmp_path: Path, **env: str) -> Iterator[tuple[str, str]]:
    """A running `vigie web` on a free loopback port: its start-up line and base URL."""
    port = _unused_port()
    proc = subprocess.Popen([*VIGIE, "web", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp_path, env=_env(tmp_path, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    try:
        yield _Output(proc).line(), f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _status(method: str, url: str) -> int:
    deadline = time.monotonic() + 60  # workers start slowly on a loaded machine
    while True:  # the server may still be binding
        try:
            return httpx.request(method, url, timeout=5).status_code
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "vigie web never answered"
            time.sleep(0.2)


def test_web_without_slack_lists_only_what_it_serves(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    with _web(tmp_path) as (line, url):
        assert line.strip() == (f"Vigie HTTP app on {url} (POST /ingest/<source id>, "
                                "GET /healthz, GET /readyz)"), line
        assert _status("POST", f"{url}/slack/events") == 404  # hence not listed
        assert _status("GET", f"{url}/healthz") == 200
        assert _status("GET", f"{url}/readyz") == 200
        assert _status("GET", f"{url}/ingest/1") == 405  # served: POST only
        assert _status("GET", f"{url}/metrics") == 404  # off without VIGIE_METRICS_TOKEN
    with _web(tmp_path, VIGIE_METRICS_TOKEN="m" * 32) as (line, url):
        assert line.strip().endswith("GET /healthz, GET /readyz, GET /metrics)"), line
        assert _status("GET", f"{url}/metrics") == 401  # served, behind its token


@pytest.mark.postgres
def test_web_processes_refused_by_slack_make_the_parent_fail(
        tmp_path: Path, _postgres_migrated: str) -> None:
    """With several processes (the default on PostgreSQL) each one checks the bot token;
    when Slack refuses it they exit 2, and so must `vigie web`: 0 reads as a clean stop."""
    from tests.harness.slack_standin import SlackStandIn

    with SlackStandIn() as slack:
        result = vigie(tmp_path, "web", "--host", "127.0.0.1", "--port", str(_unused_port()),
                       "--workers", "2", VIGIE_DATABASE_URL=_postgres_migrated,
                       SLACK_BOT_TOKEN="xoxb-0000-refused", SLACK_SIGNING_SECRET="s" * 32,
                       SLACK_API_URL=slack.base_url)
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr


@pytest.mark.postgres
def test_web_processes_serve_and_stop_cleanly_on_sigterm(
        tmp_path: Path, _postgres_migrated: str) -> None:
    port = _unused_port()
    proc = subprocess.Popen([*VIGIE, "web", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "2"], cwd=tmp_path,
                            env=_env(tmp_path, VIGIE_DATABASE_URL=_postgres_migrated),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        assert _status("GET", f"http://127.0.0.1:{port}/readyz") == 200
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
