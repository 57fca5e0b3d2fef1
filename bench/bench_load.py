"""Load on the HTTP app: 100 concurrent signed Slack requests to `vigie web --workers 4`.

Usage: python bench/bench_load.py [--requests 100] [--workers 4]

Creates a fresh PostgreSQL database (VIGIE_TEST_POSTGRES_URL, else the local server),
migrates it, seeds a few mentions whose cards are posted to a Slack stand-in running in
this process, starts ``python -m bot.cli web --workers N`` (Hypercorn) against both, waits
for ``/healthz``, then fires the requests all at once: ``/cm`` commands (help, mentions,
stats) and clicks on the cards' buttons. Prints per-request latency (median, p95, max),
errors, and how many were acknowledged within Slack's 3 seconds. Stops the server and
drops the database at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.services.actors import CLI  # noqa: E402
from bot.services.cards import register_card_renderers  # noqa: E402
from bot.services.ingest import do_ingest  # noqa: E402
from bot.services.outbox import OutboxSender  # noqa: E402
from bot.services.watches import do_add_watch  # noqa: E402
from bot.sources.base import Author, FetchedMention  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import transaction  # noqa: E402
from storage.models import Mention, Watch, utcnow  # noqa: E402
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, SIGNING_SECRET, TEAM_ID, USER_ID  # noqa: E402
from tests.harness.slack_requests import SlackSender  # noqa: E402
from tests.harness.slack_standin import SlackStandIn  # noqa: E402

POSTGRES_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ACK_LIMIT = 3.0
SEEDED = 8
COMMANDS = ("help", "mentions", "stats")
BUTTONS = ("vigie.assign",)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_database() -> tuple[str, str]:
    """A fresh, migrated PostgreSQL database: (name, URL)."""
    name = f"vigie_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    return name, url


def drop_database(name: str) -> None:
    """Drop the bench database (even with connections left)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def seed(url: str, standin: SlackStandIn) -> list[str]:
    """A workspace, a watch and a few mentions whose cards are posted; the cards' ts."""
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_api_url=standin.base_url,
                             database_url=url, admins=[USER_ID])
    runtime = build_runtime(settings)
    try:
        workspace = runtime.workspaces.ensure(TEAM_ID)
        do_add_watch(runtime.sessions, workspace.id, CLI, name="acme", query="",
                     channel_id=CHANNEL_ID, alert_threshold=0)
        now = utcnow()
        with transaction(runtime.sessions) as session:
            watch = session.query(Watch).one()
            do_ingest(session, watch, None, [
                FetchedMention(network="rss", external_id=f"bench-{n}",
                               url=f"https://example.org/bench/{n}",
                               author=Author(handle=f"user{n}"), published_at=now,
                               text=f"Acme app {n} keeps crashing after the update, refund?")
                for n in range(SEEDED)], now=now)
        sender = OutboxSender(runtime.sessions, runtime.notifier, per_channel_interval=0.0)
        register_card_renderers(sender)
        sender.flush(wait=True)
        with runtime.sessions() as session:
            return [m.slack_ts for m in session.query(Mention).order_by(Mention.id)
                    if m.slack_ts]
    finally:
        runtime.close()


def start_server(url: str, standin: SlackStandIn, port: int, workers: int,
                 log: Path) -> subprocess.Popen[bytes]:
    """``vigie web --workers N`` in its own process group, output to ``log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VIGIE_"))}
    env.update(VIGIE_DATABASE_URL=url, SLACK_BOT_TOKEN=BOT_TOKEN,
               SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=standin.base_url,
               VIGIE_ADMINS=USER_ID, VIGIE_LOG_LEVEL="WARNING", PORT=str(port),
               PYTHONPATH=str(REPO))
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web", "--workers", str(workers),
             "--host", "127.0.0.1"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    """Seconds until ``/healthz`` answers 200."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return time.monotonic() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become healthy")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (the server and its workers), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def fire(slack: SlackSender, cards: list[str], count: int) -> list[tuple[str, float, str]]:
    """Send ``count`` requests at once over one pooled HTTP client (so the client's own
    connection setup is not measured); (kind, seconds, error or '') for each."""
    barrier = Barrier(count)
    client = httpx.Client(limits=httpx.Limits(max_connections=count,
                                              max_keepalive_connections=count))

    def one(index: int) -> tuple[str, float, str]:
        if index % 2 == 0:
            kind = f"/cm {COMMANDS[index // 2 % len(COMMANDS)]}"
        else:
            kind = f"click {BUTTONS[index % len(BUTTONS)]}"
        barrier.wait()
        began = time.monotonic()
        try:
            if kind.startswith("/cm"):
                response = slack.slash_command(kind.split(" ", 1)[1], timeout=30.0,
                                               client=client)
            else:
                response = slack.block_action(BUTTONS[index % len(BUTTONS)],
                                              message_ts=cards[index % len(cards)],
                                              timeout=30.0, client=client)
            error = "" if response.status_code == 200 else \
                f"HTTP {response.status_code} {response.text[:80]}"
        except httpx.HTTPError as err:
            error = type(err).__name__
        return kind, time.monotonic() - began, error

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(one, range(count)))
    finally:
        client.close()


def report(results: list[tuple[str, float, str]]) -> None:
    """Print latency figures per kind and overall."""
    def line(label: str, rows: list[tuple[str, float, str]]) -> str:
        times = sorted(r[1] for r in rows)
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        acked = sum(1 for r in rows if not r[2] and r[1] < ACK_LIMIT)
        errors = Counter(r[2] for r in rows if r[2])
        return (f"{label:<18} n={len(rows):<4} median {statistics.median(times) * 1000:7.0f} ms"
                f"  p95 {p95 * 1000:7.0f} ms  max {times[-1] * 1000:7.0f} ms  "
                f"acked <3s {acked}/{len(rows)}  errors {dict(errors) or 0}")

    for kind in sorted({r[0] for r in results}):
        print(line(kind, [r for r in results if r[0] == kind]))
    print(line("all", results))


def main() -> int:
    """Run the bench; exit 1 if any request failed (latency is only reported)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    name, url = create_database()
    process: subprocess.Popen[bytes] | None = None
    log = Path(tempfile.mkdtemp(prefix="vigie-bench-")) / "web.log"
    try:
        with SlackStandIn() as standin:
            cards = seed(url, standin)
            port = free_port()
            process = start_server(url, standin, port, args.workers, log)
            base = f"http://127.0.0.1:{port}"
            ready = wait_healthy(base, process)
            print(f"vigie web --workers {args.workers} healthy after {ready:.1f}s; "
                  f"{len(cards)} cards seeded; firing {args.requests} requests at once")
            slack = SlackSender(base, SIGNING_SECRET, standin=standin, user_id=USER_ID,
                                channel_id=CHANNEL_ID)
            fire(slack, cards, min(8, args.requests))  # warm each worker's imports
            results = fire(slack, cards, args.requests)
            report(results)
            errors = sum(1 for r in results if r[2])
    except Exception:
        if log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if process is not None:
            stop_server(process)
        drop_database(name)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
