"""Start-up cost of the `vigie` command, in fresh processes.

Usage: python bench/bench_startup.py [--repeat 7] [--feed FILE]
Times, in fresh interpreter processes started one after another (interleaved round by
round, so a load spike on a shared machine hits every measure alike):
- ``python -c 'import bot.cli'``;
- ``vigie --version`` and ``vigie --help``;
- ``vigie run`` to its first poll: console mode (no Slack settings), SQLite, one watch
  with one RSS source on a local feed server on loopback; the time runs from starting
  the process to the feed server receiving its first request. The process then runs
  ``--settle`` seconds more (it ingests the feed) before it gets SIGTERM.
Each run gets a copy of one database migrated and set up beforehand, so every run finds
its source due. Prints one JSON object: per measure the median, min and max of the wall
seconds and of the process's CPU seconds (user + system: less sensitive to other load on
the machine; for `run`, read from /proc at the first poll), and the peak resident memory
(ru_maxrss of the process, from wait4) in MB.
With ``--compare TREE`` (another source tree of Vigie, such as ``git archive main``
unpacked) each round times both trees, one after the other.
Targets (issue 20): import < 0.8 s, run to first poll < 2.5 s, RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FEED = REPO / "tests" / "data" / "feeds" / "rssparser__guardian.rss"
VIGIE = [sys.executable, "-m", "bot.cli"]


class FeedServer:
    """Serves one feed on loopback and records when the first request arrived."""

    def __init__(self, body: bytes) -> None:
        self.first_hit: float | None = None
        self.hit = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if server.first_hit is None:
                    server.first_hit = time.perf_counter()
                    server.hit.set()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.rss"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self) -> None:
        """Wait for the next first request."""
        self.first_hit = None
        self.hit.clear()

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def child_env(database_url: str, code: Path = REPO) -> dict[str, str]:
    """A console-mode environment running the tree ``code``: no Slack or Vigie variables
    but ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "VIGIE_")) and k != "PORT"
    }
    env.update(
        VIGIE_DATABASE_URL=database_url,
        VIGIE_LOG_LEVEL="WARNING",
        VIGIE_ALLOWED_SOURCE_HOSTS="127.0.0.1",
        PYTHONPATH=str(code),
    )
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS in MB) of one process run to completion."""
    start = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=env["PYTHONPATH"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        assert process.stderr is not None
        raise SystemExit(f"{' '.join(args)} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def time_run(env: dict[str, str], feed: FeedServer, settle: float) -> tuple[float, float, float]:
    """(seconds and CPU seconds to the first poll, peak RSS in MB) of one ``vigie run``."""
    feed.reset()
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            [*VIGIE, "run"],
            cwd=env["PYTHONPATH"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            while not feed.hit.wait(0.05):
                if process.poll() is not None or time.perf_counter() > start + 120:
                    errors.seek(0)
                    raise SystemExit(
                        f"vigie run ({env['PYTHONPATH']}) did not poll the feed (exit code "
                        f"{process.returncode}):\n{errors.read().decode(errors='replace')[-3000:]}"
                    )
            assert feed.first_hit is not None
            elapsed = feed.first_hit - start
            cpu = cpu_seconds(process.pid)
            time.sleep(settle)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(process.pid, 0)
    return elapsed, cpu, usage.ru_maxrss / 1024


def prepare(folder: Path, feed_url: str, code: Path) -> Path:
    """A SQLite database migrated by the tree ``code``, with one watch and one RSS source
    on ``feed_url``."""
    template = folder / "template.db"
    env = child_env(f"sqlite:///{template}", code)
    for args in (
        ["db", "upgrade"],
        ["watch", "add", "bench", "--channel", "C0BENCH01", "--query", ""],
        ["source", "add", "rss", "--watch", "bench", "--url", feed_url],
    ):
        subprocess.run([*VIGIE, *args], cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
    return template


def fresh_copy(template: Path, database: Path) -> None:
    """``database`` as ``template`` is, without the write-ahead log a stopped run left
    beside it (SQLite would replay it onto the copy: the source would not be due)."""
    for suffix in ("-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, database)


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max, rounded."""
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def main() -> None:
    """Run the benchmark and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--feed", type=Path, default=DEFAULT_FEED)
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds `vigie run` goes on after its first poll"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="another source tree of Vigie (e.g. `git archive main` unpacked) to time in the "
        "same rounds",
    )
    args = parser.parse_args()
    trees = {"this tree": REPO}
    if args.compare is not None:
        trees["compared"] = args.compare.resolve()
    feed = FeedServer(args.feed.read_bytes())
    folder = Path(tempfile.mkdtemp(prefix="vigie-bench-startup-"))
    names = ("import bot.cli", "vigie --version", "vigie --help", "vigie run to first poll")
    measures: dict[str, dict[str, list[tuple[float, float, float]]]] = {
        tree: {name: [] for name in names} for tree in trees
    }
    try:
        setups = {}
        for index, (tree, code) in enumerate(trees.items()):
            own = folder / str(index)
            own.mkdir()
            database = own / "run.db"
            setups[tree] = (
                prepare(own, feed.url, code),
                database,
                child_env(f"sqlite:///{database}", code),
            )
        for _ in range(args.repeat):
            for tree, (template, database, env) in setups.items():
                runs = measures[tree]
                runs["import bot.cli"].append(timed([sys.executable, "-c", "import bot.cli"], env))
                runs["vigie --version"].append(timed([*VIGIE, "--version"], env))
                runs["vigie --help"].append(timed([*VIGIE, "--help"], env))
                fresh_copy(template, database)
                runs["vigie run to first poll"].append(time_run(env, feed, args.settle))
    finally:
        feed.close()
        shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, object] = {
        tree: {
            name: {
                "seconds": summary([s for s, _, _ in runs]),
                "cpu_seconds": summary([c for _, c, _ in runs]),
                "peak_rss_mb": round(max(r for _, _, r in runs), 1),
            }
            for name, runs in by_name.items()
        }
        for tree, by_name in measures.items()
    }
    result["repeat"] = args.repeat
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
