"""The `vigie` command run as a user runs it: a real process, real SQLite/PostgreSQL."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

VIGIE = [sys.executable, "-m", "bot.cli"]
REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "VIGIE_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def vigie(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIE, *args], cwd=tmp_path, env=_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=120, check=False)


def test_doctor_without_configuration_explains_what_is_missing(tmp_path: Path) -> None:
    result = vigie(tmp_path, "doctor")
    lines = result.stdout.splitlines()
    assert result.returncode == 1  # no database is a failure
    assert lines[0].split() == ["CHECK", "STATUS", "DETAIL"]
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert "OK" in by_name["configuration"]
    assert "FAIL" in by_name["database"] and "vigie db upgrade" in by_name["database"]
    assert str(tmp_path / "vigie.db") in by_name["database"]
    assert "SKIP" in by_name["migrations"]
    assert "WARN" in by_name["slack"] and "SLACK_BOT_TOKEN" in by_name["slack"]
    assert "SKIP" in by_name["llm"]
    assert "Traceback" not in result.stdout + result.stderr


def test_invalid_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = vigie(tmp_path, "db", "upgrade", VIGIE_TIMEZONE="Atlantis/City")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: VIGIE_TIMEZONE: unknown time zone 'Atlantis/City'; put an IANA "
        "name such as Europe/Paris or UTC"
    ]


def test_db_upgrade_downgrade_on_sqlite(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert "newest" in vigie(tmp_path, "db", "current").stdout
    assert vigie(tmp_path, "doctor").returncode == 0
    down = vigie(tmp_path, "db", "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert "not migrated" in vigie(tmp_path, "db", "current").stdout


def test_db_downgrade_to_unknown_revision_is_a_clear_error(tmp_path: Path) -> None:
    vigie(tmp_path, "db", "upgrade")
    result = vigie(tmp_path, "db", "downgrade", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("Migration error:")
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_db_upgrade_downgrade_on_postgres(tmp_path: Path, fresh_postgres_url: str) -> None:
    up = vigie(tmp_path, "db", "upgrade", VIGIE_DATABASE_URL=fresh_postgres_url)
    assert up.returncode == 0, up.stderr
    down = vigie(tmp_path, "db", "downgrade", "base", VIGIE_DATABASE_URL=fresh_postgres_url)
    assert down.returncode == 0, down.stderr


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = vigie(tmp_path, "run")
    assert result.returncode == 2
    assert "vigie db upgrade" in result.stderr


class _Output:
    """A running `vigie run`'s standard output, read by a thread: a line is waited for
    with a time limit, so a process that stays silent fails the test instead of hanging it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self._proc, self._lines, self._errors = proc, queue.Queue[str](), list[str]()
        self._reader = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        # stderr is drained too: a full pipe would block the process.
        self._err_reader = threading.Thread(target=self._errors.extend, args=(proc.stderr,),
                                            daemon=True)
        self._reader.start()
        self._err_reader.start()

    def _read(self, stream: Any) -> None:
        for text in stream:
            self._lines.put(text)
        self._lines.put("")  # end of output

    def line(self, timeout: float = 30.0) -> str:
        """The next line ("" once the process closed its output)."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"vigie run printed nothing for {timeout:.0f} s") from None

    def stop_with_ctrl_c(self) -> None:
        """Ctrl-C it: it must stop cleanly, saying so."""
        self._proc.send_signal(signal.SIGINT)
        self._proc.wait(timeout=20)
        self._reader.join(5)
        self._err_reader.join(5)
        err = "".join(self._errors)
        rest = "".join(iter(self._lines.get_nowait, ""))
        assert self._proc.returncode == 0, err
        assert "Vigie stopped." in rest
        assert "Traceback" not in err


def test_run_without_slack_starts_in_console_mode_until_stopped(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    # A test runner started in the background (no job control) ignores SIGINT and its
    # children inherit that: give `vigie run` the default Ctrl-C handling a terminal gives.
    proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        output = _Output(proc)
        assert "console mode" in output.line()
        time.sleep(1.5)
        assert proc.poll() is None, "vigie run exited on its own"
        output.stop_with_ctrl_c()
    finally:
        if proc.poll() is None:
            proc.kill()


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_without_slack_serves_webhook_sources_and_prints_their_alerts(
        tmp_path: Path) -> None:
    """Console mode takes webhook pushes as Socket Mode does (real HTTP on loopback): a
    user trying a webhook source before connecting Slack sees its alert printed."""
    import httpx

    from tests.harness.webhooks import webhook_headers

    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "hooks", "--channel", "C0CONSOLE1",
                 "--alert-threshold", "0").returncode == 0
    added = vigie(tmp_path, "source", "add", "webhook", "--watch", "hooks")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.split("Webhook secret (shown once): ")[1].split()[0]
    port = _unused_port()
    proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=_env(tmp_path, PORT=str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        output = _Output(proc)
        lines = [output.line() for _ in range(3)]
        assert f"Webhooks and health checks on http://127.0.0.1:{port}" in lines[2], lines
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:  # the server thread may still be binding
            try:
                assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the web front never answered"
                time.sleep(0.2)
        body = json.dumps([{"id": "hook-1", "url": "https://forum.example/t/1",
                            "author": {"handle": "zed"},
                            "text": "hooks: my parcel never came, where is it?",
                            "published_at": "2026-11-20T10:00:00Z"}]).encode()
        forged = httpx.post(f"{url}/ingest/1", content=body, timeout=10,
                            headers=webhook_headers("not-the-secret", body))
        assert forged.status_code == 401
        stored = httpx.post(f"{url}/ingest/1", content=body, timeout=10,
                            headers=webhook_headers(secret, body))
        assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text
        printed = ""
        while "my parcel never came" not in printed:  # the outbox prints it within seconds
            assert time.monotonic() < deadline + 20, printed
            printed += output.line()
        assert "[C0CONSOLE1]" in printed
        output.stop_with_ctrl_c()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_poll_once_shows_the_whole_path_in_console_mode(
    tmp_path: Path, httpserver: object, shared_data: Path
) -> None:
    feed = (shared_data / "feeds" / "rssparser__guardian.rss").read_bytes()
    httpserver.expect_request("/feed").respond_with_data(  # type: ignore[attr-defined]
        feed, content_type="application/rss+xml")
    url = httpserver.url_for("/feed")  # type: ignore[attr-defined]
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    added = vigie(tmp_path, "watch", "add", "news", "--query", "", "--channel", "C0NEWS123",
                  "--alert-threshold", "0")
    assert added.returncode == 0, added.stderr
    assert "Watch news created" in added.stdout
    bad = vigie(tmp_path, "watch", "add", "bad", "--query", '"unclosed', "--channel", "C0NEWS123")
    assert bad.returncode == 2 and "does not parse" in bad.stderr and "^" in bad.stderr
    source = vigie(tmp_path, "source", "add", "rss", "--watch", "news", "--url", url)
    assert source.returncode == 0, source.stderr
    dry = vigie(tmp_path, "poll", "--once", "--dry-run")
    assert "would store" in dry.stdout, dry.stdout + dry.stderr
    # The feed's posts are years old: without VIGIE_BACKFILL_HOURS=0 the first poll would
    # store them quietly (tests/services/test_cases.py covers that); here every one alerts.
    polled = vigie(tmp_path, "poll", "--once", VIGIE_BACKFILL_HOURS="0")
    assert polled.returncode == 0, polled.stderr
    assert "[1/1] #1 rss (news):" in polled.stdout
    assert "=== alert [C0NEWS123] ===" in polled.stdout  # cards printed to the console
    assert "Sent " in polled.stdout and "to the console" in polled.stdout
    again = vigie(tmp_path, "poll", "--once")
    assert "stored 0 mention(s)" in again.stdout
    listed = vigie(tmp_path, "mentions", "--json", "--limit", "3")
    rows = json.loads(listed.stdout)
    assert len(rows) == 3
    for key in ("id", "network", "external_id", "author", "text", "url", "published_at",
                "status", "watch", "language", "sentiment", "intent", "priority"):
        assert key in rows[0]
    assert "source(s)" not in vigie(tmp_path, "source", "list").stdout
    assert "#1" in vigie(tmp_path, "source", "list").stdout


def test_eval_sentiment(tmp_path: Path) -> None:
    data = tmp_path / "set.tsv"
    data.write_text("positive\tI love this, great job!\nnegative\tThis is awful, I hate it\n"
                    "neutral\tThe store opens at 9am on Monday\n", encoding="utf-8")
    result = vigie(tmp_path, "eval", "sentiment", str(data), "--json", "--out", "pred.tsv")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"n", "accuracy", "macro_f1", "per_class"} and report["n"] == 3
    lines = (tmp_path / "pred.tsv").read_text().splitlines()
    assert len(lines) == 3
    score, label = lines[0].split("\t")
    assert -1.0 <= float(score) <= 1.0 and label in {"negative", "neutral", "positive"}
    text = vigie(tmp_path, "eval", "sentiment", str(data))
    assert "macro" in text.stdout.lower()
    data.write_text("happy\toops\n", encoding="utf-8")
    bad = vigie(tmp_path, "eval", "sentiment", str(data))
    assert bad.returncode == 2 and "set.tsv:1" in bad.stderr
    data.write_text("\n", encoding="utf-8")  # as `eval attention|complaint`: no result
    empty = vigie(tmp_path, "eval", "sentiment", str(data))
    assert empty.returncode == 2 and empty.stderr == "Error: set.tsv: no labelled lines\n"


def test_eval_attention(tmp_path: Path) -> None:
    data = tmp_path / "set.tsv"
    data.write_text("alert\t@acme I was charged twice, I want a refund\n"
                    "digest\t@acme thank you, great job!\n", encoding="utf-8")
    result = vigie(tmp_path, "eval", "attention", str(data), "--json", "--out", "pred.tsv")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"precision", "recall", "f1", "best_threshold"} <= set(report) and report["n"] == 2
    assert report["recall"] == 1.0 and report["precision"] == 1.0
    priority, label, reason = (tmp_path / "pred.tsv").read_text().splitlines()[0].split("\t")
    assert int(priority) >= report["threshold"] and label == "alert" and "complaint" in reason
    assert "best threshold" in vigie(tmp_path, "eval", "attention", str(data)).stdout
    data.write_text("alert\tfine\nnegative\toops\n", encoding="utf-8")
    bad = vigie(tmp_path, "eval", "attention", str(data))
    assert bad.returncode == 2 and "set.tsv:2: unknown label 'negative'" in bad.stderr
    missing = vigie(tmp_path, "eval", "attention", "nope.tsv")
    assert missing.returncode == 2 and "nope.tsv" in missing.stderr


def test_eval_complaint(tmp_path: Path) -> None:
    data = tmp_path / "set.tsv"
    data.write_text(
        "complaint\t@ShopCo my order never arrived, two weeks and nobody answers. Useless.\n"
        "not_complaint\t@ShopCo thank you, the new store is lovely!\n", encoding="utf-8")
    result = vigie(tmp_path, "eval", "complaint", str(data), "--json", "--out", "pred.tsv")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"n", "macro_f1", "precision", "recall", "per_class"} <= set(report)
    assert report["n"] == 2
    assert set(report["per_class"]) == {"complaint", "not_complaint"}
    lines = (tmp_path / "pred.tsv").read_text().splitlines()
    assert len(lines) == 2
    probability, label = lines[0].split("\t")
    assert 0.0 <= float(probability) <= 1.0 and label in {"complaint", "not_complaint"}
    assert "macro-F1" in vigie(tmp_path, "eval", "complaint", str(data)).stdout
    data.write_text("complaint\tok\nalert\toops\n", encoding="utf-8")
    bad = vigie(tmp_path, "eval", "complaint", str(data))
    assert bad.returncode == 2 and "set.tsv:2: unknown label 'alert'" in bad.stderr
    threshold = vigie(tmp_path, "eval", "complaint", str(data), "--threshold", "1.5")
    assert threshold.returncode == 2 and "threshold must be between 0 and 1" in threshold.stderr


EVAL_SETS = {
    "sentiment": "positive\tI love this, great job!\nnegative\tThis is awful, I hate it\n",
    "attention": "alert\t@acme I was charged twice, I want a refund\n"
                 "digest\t@acme thank you, great job!\n",
    "complaint": "complaint\t@ShopCo my order never arrived. Useless.\n"
                 "not_complaint\t@ShopCo thank you, the new store is lovely!\n",
}


@pytest.mark.parametrize("kind", sorted(EVAL_SETS))
def test_eval_out_that_cannot_be_written_fails_before_evaluating(tmp_path: Path, kind: str
                                                                  ) -> None:
    # It was a FileNotFoundError traceback after the report was printed.
    data = tmp_path / "set.tsv"
    data.write_text(EVAL_SETS[kind], encoding="utf-8")
    for out, message in [("/nonexistent-folder/x.tsv",
                          "Error: the folder /nonexistent-folder does not exist.\n"),
                         ("", "Error: --out needs a file name.\n"),
                         ("/proc/x.tsv",
                          "Error: cannot write /proc/x.tsv: No such file or directory.\n")]:
        result = vigie(tmp_path, "eval", kind, str(data), "--out", out)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


@pytest.mark.parametrize("kind", sorted(EVAL_SETS))
def test_eval_out_refuses_to_overwrite_the_labelled_input(tmp_path: Path, kind: str) -> None:
    # `--out FILE` on FILE itself replaced the labelled texts with predictions.
    data = tmp_path / "set.tsv"
    data.write_text(EVAL_SETS[kind], encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.tsv").symlink_to(data)
    for out in [str(data), "set.tsv", "sub/../set.tsv", "link.tsv"]:
        result = vigie(tmp_path, "eval", kind, str(data), "--out", out)
        assert (result.returncode, result.stdout) == (2, ""), result.stderr
        assert result.stderr == (f"Error: --out {out} is the input file: it would be "
                                 "overwritten; give another file.\n")
    assert data.read_text(encoding="utf-8") == EVAL_SETS[kind]
    other = vigie(tmp_path, "eval", kind, "set.tsv", "--out", "pred.tsv")
    assert other.returncode == 0, other.stderr


def test_web_port_and_host_that_cannot_be_served_are_one_line(tmp_path: Path) -> None:
    # Each of these was a traceback (OverflowError, gaierror, "Address already in use").
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for port in ("99999", "0", "-1"):
        result = vigie(tmp_path, "web", "--port", port)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "Invalid value for '--port'" in result.stderr
        assert "1<=x<=65535" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = vigie(tmp_path, "web", "--host", "127.0.0.1", "--port", port)
        assert (busy.returncode, busy.stdout) == (2, ""), busy.stderr
        assert busy.stderr == (f"Cannot serve HTTP on 127.0.0.1:{port} (Address already in "
                               "use): give a free --port (or PORT) and a --host of this "
                               "machine.\n")
        # `vigie run` in HTTP mode says it its way: PORT is all it takes.
        run = vigie(tmp_path, "run", PORT=port, SLACK_BOT_TOKEN="xoxb-1-2-abc",
                    SLACK_SIGNING_SECRET="s3cret")
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert (f"Cannot serve HTTP on 0.0.0.0:{port} (Address already in use): set PORT to "
                "a free port.") in run.stderr
    host = vigie(tmp_path, "web", "--host", "999.1.1.1", "--port", port)
    assert (host.returncode, host.stdout) == (2, ""), host.stderr
    assert host.stderr.startswith(f"Cannot serve HTTP on 999.1.1.1:{port} (")
    assert len(host.stderr.splitlines()) == 1


def test_web_on_sqlite_warns_that_nothing_polls(tmp_path: Path) -> None:
    # The Docker image's default command on its default SQLite database: no scheduler,
    # and no worker can run beside it, so nothing was ever polled, and nothing said so.
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    port = _unused_port()
    proc = subprocess.Popen([*VIGIE, "web", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
    finally:
        proc.kill()
        proc.communicate(timeout=20)
    assert "vigie web runs no scheduler" in first and "vigie run" in first, first


def test_secrets_new_key_and_rotate(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    refused = vigie(tmp_path, "secrets", "rotate")
    assert refused.returncode == 2 and "VIGIE_SECRET_KEY is not set" in refused.stderr
    key = vigie(tmp_path, "secrets", "new-key").stdout.strip()
    assert len(key) == 44
    rotated = vigie(tmp_path, "secrets", "rotate", VIGIE_SECRET_KEY=key)
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-encrypted 0 source secret(s) and 0 Slack token(s)" in rotated.stdout
    doctor = vigie(tmp_path, "doctor", VIGIE_SECRET_KEY=key).stdout
    assert any(line.split()[:2] == ["secrets", "OK"] for line in doctor.splitlines())


def test_doctor_fails_naming_stored_secrets_no_key_opens(tmp_path: Path) -> None:
    """A wrong key, or none, while secrets are stored encrypted: sources cannot fetch
    and `secrets rotate` refuses, so the doctor says FAIL and names them (never values)."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    key, wrong = (vigie(tmp_path, "secrets", "new-key").stdout.strip() for _ in range(2))
    assert vigie(tmp_path, "watch", "add", "acme", "--channel", "C0NEWS123").returncode == 0
    added = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url",
                  "http://alice:PwSecret123@127.0.0.1:9/feed.xml", VIGIE_SECRET_KEY=key)
    assert added.returncode == 0, added.stderr

    def secrets_line(**env: str) -> tuple[int, str]:
        result = vigie(tmp_path, "doctor", **env)
        line = next(line for line in result.stdout.splitlines() if line.startswith("secrets"))
        assert "PwSecret123" not in result.stdout + result.stderr
        return result.returncode, line

    code, line = secrets_line(VIGIE_SECRET_KEY=key)
    assert line.split()[:2] == ["secrets", "OK"], line
    for env in ({"VIGIE_SECRET_KEY": wrong}, {}):
        code, line = secrets_line(**env)
        assert code == 1 and line.split()[:2] == ["secrets", "FAIL"], line
        assert "1 of 1 encrypted stored secret(s) cannot be opened" in line, line
        assert "source 1 (rss) url" in line, line


def test_feed_url_credentials_are_encrypted_and_masked_by_the_cli(
    tmp_path: Path, httpserver: object
) -> None:
    """The operator review's steps: a feed URL carrying a password and an apikey is masked
    by `source add`, `source list` and a failed `poll --once`; an older row stored it in
    clear and `secrets rotate` encrypts it; with the key set a new row never holds it."""
    secrets = ("PwSecret123", "TopSecret456")
    url = (httpserver.url_for("/feed.xml")  # type: ignore[attr-defined]
           .replace("://", f"://alice:{secrets[0]}@") + f"?apikey={secrets[1]}")

    def raw_configs() -> str:
        with sqlite3.connect(tmp_path / "vigie.db") as db:
            return json.dumps(db.execute("select config from sources").fetchall())

    def clean(text: str) -> bool:
        return not any(secret in text for secret in secrets)

    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--channel", "C0NEWS123").returncode == 0
    added = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url", url)
    assert added.returncode == 0, added.stderr
    assert clean(added.stdout + added.stderr) and "apikey=••••••" in added.stdout
    assert secrets[1] in raw_configs()  # no key yet: in clear
    key = vigie(tmp_path, "secrets", "new-key").stdout.strip()
    rotated = vigie(tmp_path, "secrets", "rotate", VIGIE_SECRET_KEY=key)
    assert rotated.returncode == 0, rotated.stderr
    assert clean(raw_configs())
    other = url.replace("/feed.xml", "/other.xml")
    assert vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url", other,
                 VIGIE_SECRET_KEY=key).returncode == 0
    assert clean(raw_configs())
    listed = vigie(tmp_path, "source", "list", VIGIE_SECRET_KEY=key)
    assert clean(listed.stdout) and listed.stdout.count("alice:••••••@") == 2, listed.stdout
    httpserver.expect_request(  # type: ignore[attr-defined]
        "/feed.xml", query_string={"apikey": secrets[1]}).respond_with_data(
        f"no access for apikey={secrets[1]}", status=403)
    polled = vigie(tmp_path, "poll", "--once", "--source", "1", VIGIE_SECRET_KEY=key)
    assert "FAILED" in polled.stdout, polled.stdout + polled.stderr
    assert clean(polled.stdout + polled.stderr)
    assert len(httpserver.log) == 1  # type: ignore[attr-defined]


def test_account_commands_from_the_terminal(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    added = vigie(tmp_path, "account", "add", "x", "@AcmeCare")
    assert added.returncode == 0, added.stderr
    assert "@acmecare on x is now one of the brand's accounts" in added.stdout
    bad = vigie(tmp_path, "account", "add", "mastodon", "@acme")
    assert bad.returncode == 2 and "write it like `@acme@mastodon.social`" in bad.stderr
    assert "x           @acmecare" in vigie(tmp_path, "account", "list").stdout
    assert vigie(tmp_path, "account", "remove", "x", "acmecare").returncode == 0
    assert "No brand accounts yet" in vigie(tmp_path, "account", "list").stdout


def test_settings_from_the_terminal_are_those_of_cm_settings(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    shown = vigie(tmp_path, "settings")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == (
        "four_eyes on: when on, nobody approves a draft holding their own words")
    # Each line says what the setting does, not what it does at its current value: off
    # and 0 no longer read as the opposite ("backfill_hours 0: how far back ... may alert").
    assert ("backfill_hours 48: a new source's first fetch stores posts older than this "
            "many hours without alerting (0: off, every post may alert)") in shown.stdout
    assert "timezone UTC: digests, statistics and SLA hours" in shown.stdout
    changed = vigie(tmp_path, "settings", "four-eyes", "off")
    assert changed.stdout == "four_eyes changed from on to off.\n", changed.stderr
    assert vigie(tmp_path, "settings", "four_eyes", "no").stdout == "four_eyes is already off.\n"
    assert vigie(tmp_path, "settings", "timezone", "Europe/Paris").returncode == 0
    assert "timezone Europe/Paris:" in vigie(tmp_path, "settings").stdout
    assert "language en: what Vigie posts in channels" in shown.stdout
    assert vigie(tmp_path, "settings", "language", "fr").stdout == (
        "language changed from en to fr.\n")
    for args, expected in (
            (("colour", "red"), "Error: colour is not a setting: use one of four_eyes, "
                                "default_role, backfill_hours, timezone, language."),
            (("language", "klingon"), "Error: klingon is not a language Vigie speaks: "
                                      "use one of en, fr."),
            (("backfill_hours", "999"), "Error: 999 is not a number of hours from 0 to 168."),
            (("timezone", "Mars/Base"), "Error: Mars/Base is not a time zone"),
            (("four_eyes",), "Usage: vigie settings (show them), vigie settings NAME VALUE")):
        refused = vigie(tmp_path, "settings", *args)
        assert refused.returncode == 2 and refused.stderr.startswith(expected), refused.stderr
        assert "Traceback" not in refused.stderr
    # The same audit event as `/cm settings`, by the terminal's actor; refusals write none.
    with sqlite3.connect(tmp_path / "vigie.db") as db:
        events = db.execute("SELECT actor, action, detail FROM audit_events "
                            "ORDER BY id").fetchall()
    assert [(actor, action, json.loads(detail)) for actor, action, detail in events] == [
        ("cli", "settings.changed", {"setting": "four_eyes", "before": "on", "after": "off"}),
        ("cli", "settings.changed",
         {"setting": "timezone", "before": "UTC", "after": "Europe/Paris"}),
        ("cli", "settings.changed", {"setting": "language", "before": "en", "after": "fr"})]


def test_topic_routes_and_topic_filter_from_the_terminal(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--channel", "C0ACME123").returncode == 0
    routed = vigie(tmp_path, "watch", "route", "acme", "--topic", "bug", "--channel",
                   "C0PRODUCT1")
    assert routed.returncode == 0, routed.stderr
    assert "about outage now go to C0PRODUCT1" in routed.stdout
    assert "acme" in vigie(tmp_path, "watch", "routes").stdout
    bad_topic = vigie(tmp_path, "watch", "route", "acme", "--topic", "weather", "--channel",
                      "C0PRODUCT1")
    assert bad_topic.returncode == 2 and "`weather` is not a topic" in bad_topic.stderr
    bad_channel = vigie(tmp_path, "watch", "route", "acme", "--topic", "outage", "--channel",
                        "product-bugs")
    assert bad_channel.returncode == 2 and "is not a Slack channel id" in bad_channel.stderr
    assert "no longer go to C0PRODUCT1" in vigie(
        tmp_path, "watch", "unroute", "acme", "--topic", "outage").stdout
    missing = vigie(tmp_path, "watch", "unroute", "acme", "--topic", "outage")
    assert missing.returncode == 2 and "no route for topic" in missing.stderr
    listed = vigie(tmp_path, "mentions", "--topic", "billing", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    wrong = vigie(tmp_path, "mentions", "--topic", "weather")
    assert wrong.returncode == 2 and "is not a topic" in wrong.stderr
    # A repeated filter is refused, naming it, as /cm mentions does: one value per filter.
    twice = vigie(tmp_path, "mentions", "--topic", "billing", "--topic", "outage")
    assert twice.returncode == 2 and "'--topic': given twice ('billing', then 'outage')" in (
        twice.stderr)
    again = vigie(tmp_path, "mentions", "--topic", "bug", "--topic", "outage", "--status",
                  "new", "--status", "NEW", "--since", "24h", "--since", "1d")
    assert again.returncode == 0 and again.stdout.strip() == "No mentions match.", again.stderr
    statuses = vigie(tmp_path, "mentions", "--status", "new", "--status", "replied")
    assert statuses.returncode == 2 and "'--status': given twice" in statuses.stderr
    own = vigie(tmp_path, "watch", "route", "acme", "--topic", "churn", "--channel", "C0ACME123")
    assert own.returncode == 2 and "already go to C0ACME123, the watch's own channel" in (
        own.stderr) and "/cm" not in own.stderr
