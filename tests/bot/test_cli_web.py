"""`vigie web` as run from a terminal: the start-up line lists what it really serves."""

from __future__ import annotations

import json
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


REFUSED_TOKEN = "xoxb-0000-refused-by-slack"
SIGNING_SECRET = "s" * 32


def _slack_env(slack_url: str, **env: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": REFUSED_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_url, **env}


def _serves_webhooks_with_a_refused_token(tmp_path: Path, error: str, *args: str,
                                          **env: str) -> str:
    """Start `vigie web` (``args``, ``env``) while Slack refuses its bot token with
    ``error``: it serves /healthz and a signed webhook push, /readyz stays ready (for
    those) and says that Slack refuses the token; it stops cleanly on SIGTERM. Returns its
    standard error."""
    from tests.harness.slack_standin import SlackStandIn

    with SlackStandIn(valid_tokens=[REFUSED_TOKEN]) as slack:
        slack.revoke_token(REFUSED_TOKEN, error)
        port = _unused_port()
        proc = subprocess.Popen([*VIGIE, "web", "--host", "127.0.0.1", "--port", str(port),
                                 *args], cwd=tmp_path,
                                env=_env(tmp_path, **_slack_env(slack.base_url, **env)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_sigint)
        url = f"http://127.0.0.1:{port}"
        try:
            assert _status("GET", f"{url}/healthz") == 200
            assert_webhooks_served_while_slack_refuses(url, tmp_path, error, REFUSED_TOKEN)
            proc.terminate()
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=20)
        assert slack.calls("auth.test")[0].error == error
    assert proc.returncode == 0, stderr
    assert f"Slack refused SLACK_BOT_TOKEN ({error})" in stderr, stderr
    assert REFUSED_TOKEN not in stderr and "Traceback" not in stderr, stderr
    return stderr


def assert_webhooks_served_while_slack_refuses(url: str, tmp_path: Path, error: str,
                                               token: str) -> None:
    """The process at ``url`` stores a signed push to the webhook source of ``tmp_path``
    (``_add_webhook_source``) and stays ready, its /readyz naming Slack's refusal of the
    bot token (``error``) but never ``token``: a platform routing by readiness keeps
    sending it webhooks."""
    from tests.harness.webhooks import webhook_headers
    body = json.dumps([{"id": "hook-1", "url": "https://forum.example/t/1",
                        "author": {"handle": "zed"},
                        "text": "hooks: my parcel never came, where is it?",
                        "published_at": "2026-11-20T10:00:00Z"}]).encode()
    path, secret = (tmp_path / "webhook").read_text().split()
    stored = httpx.post(f"{url}{path}", content=body, timeout=10,
                        headers=webhook_headers(secret, body))
    assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text
    ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert f"Slack refuses SLACK_BOT_TOKEN ({error})" in ready.json()["slack"]
    assert token not in ready.text


def _add_webhook_source(tmp_path: Path, **env: str) -> None:
    """A watch with a webhook source; its path and secret are kept in tmp_path."""
    assert vigie(tmp_path, "db", "upgrade", **env).returncode == 0
    assert vigie(tmp_path, "watch", "add", "hooks", "--channel", "C0CONSOLE1", **env
                 ).returncode == 0
    added = vigie(tmp_path, "source", "add", "webhook", "--watch", "hooks", **env)
    assert added.returncode == 0, added.stderr
    secret = added.stdout.split("Webhook secret (shown once): ")[1].split()[0]
    path = added.stdout.split("POST signed JSON to ")[1].split()[0]
    (tmp_path / "webhook").write_text(f"{path} {secret}")


def test_web_with_a_refused_bot_token_still_serves_webhooks_and_says_why_it_is_not_ready(
        tmp_path: Path) -> None:
    """`vigie web` alone serves POST /ingest/<source id>: a bot token Slack refuses at start
    must not stop it (it exited 2, and its supervisor restarted it in a loop while every
    pushed mention was refused). It logs the refusal, /readyz reports it, and `vigie
    doctor` too."""
    from tests.harness.slack_standin import SlackStandIn

    error = "token_revoked"
    _add_webhook_source(tmp_path)
    _serves_webhooks_with_a_refused_token(tmp_path, error)
    with SlackStandIn(valid_tokens=[REFUSED_TOKEN]) as slack:
        slack.revoke_token(REFUSED_TOKEN, error)
        doctor = vigie(tmp_path, "doctor", **_slack_env(slack.base_url))
    (line,) = [line for line in doctor.stdout.splitlines() if line.startswith("slack token")]
    assert "FAIL" in line and f"auth.test refused the token ({error})" in line, doctor.stdout
    assert REFUSED_TOKEN not in doctor.stdout + doctor.stderr


@pytest.mark.postgres
def test_web_processes_refused_by_slack_serve_webhooks_and_stop_cleanly(
        tmp_path: Path, _postgres_migrated: str) -> None:
    """With several processes (the default on PostgreSQL) each one checks the bot token;
    refused, each still serves webhooks and health checks, and `vigie web` stops with 0 on
    SIGTERM."""
    database = {"VIGIE_DATABASE_URL": _postgres_migrated}
    _add_webhook_source(tmp_path, **database)
    stderr = _serves_webhooks_with_a_refused_token(tmp_path, "invalid_auth", "--workers", "2",
                                                   **database)
    assert stderr.count("Slack refused SLACK_BOT_TOKEN (invalid_auth)") >= 2, stderr


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


def _readyz_slack(url: str, wanted: object, timeout: float = 30) -> dict:
    """/readyz's answer once its ``slack`` field is ``wanted`` (None: no such field)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{url}/readyz", timeout=10)
        assert answer.status_code == 200, answer.text
        body = dict(answer.json())
        if body.get("slack") == wanted or (
                isinstance(wanted, str) and wanted in str(body.get("slack"))):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.3)


def test_readyz_names_the_refused_token_only_while_slack_refuses_it(tmp_path: Path) -> None:
    """Refused at start, the bot token is named in /readyz's slack field only while Slack
    refuses it: once Slack accepts it again (no restart: the workspace or bot user active
    again), the field goes, found by the check /readyz itself starts."""
    from tests.harness.slack_standin import SlackStandIn

    _add_webhook_source(tmp_path)
    with SlackStandIn(valid_tokens=[REFUSED_TOKEN]) as slack:
        slack.revoke_token(REFUSED_TOKEN, "account_inactive")
        port = _unused_port()
        proc = subprocess.Popen([*VIGIE, "web", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=tmp_path, env=_env(tmp_path, **_slack_env(slack.base_url)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_sigint)
        url = f"http://127.0.0.1:{port}"
        try:
            assert _status("GET", f"{url}/healthz") == 200
            _readyz_slack(url, "Slack refuses SLACK_BOT_TOKEN (account_inactive)")
            slack.restore_token(REFUSED_TOKEN)
            assert _readyz_slack(url, None) == {"status": "ready"}
            assert [call.error for call in slack.calls("auth.test")][-1] is None
            proc.terminate()
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Slack accepts SLACK_BOT_TOKEN again (it refused it: account_inactive)" in stderr
    assert REFUSED_TOKEN not in stderr and "Traceback" not in stderr, stderr
