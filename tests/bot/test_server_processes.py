"""The supervisor of `vigie web --workers N` (bot/server.serve_processes), run as a real
parent with real worker processes: how it ends tells a platform whether to restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.bot.test_cli import _env, _unused_port


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app the workers serve: the supervisor is what is tested, not the app."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def hello_app() -> Any:
    return hello


# The parent: two processes serving ``hello``; a process stops on its own after one request
# when the second argument is 0 (Hypercorn's max_requests: it exits 0, unasked).
_PARENT = """
import sys
from bot.server import serve_processes, server_config
config = server_config("127.0.0.1", int(sys.argv[1]), workers=2, log_level="info")
if sys.argv[2] != "none":
    config.max_requests = int(sys.argv[2])
    config.max_requests_jitter = 0
sys.exit(serve_processes("asgi:tests.bot.test_server_processes:hello_app()", config))
"""


@contextmanager
def _supervisor(tmp_path: Path, max_requests: str) -> Iterator[tuple[subprocess.Popen[str],
                                                                     str]]:
    """The parent, in a process group of its own (a group signal reaches only it and its
    workers), and its base URL."""
    port = _unused_port()
    proc = subprocess.Popen([sys.executable, "-c", _PARENT, str(port), max_requests],
                            cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _get(url: str) -> int:
    deadline = time.monotonic() + 90  # two processes start on a busy machine
    while True:
        try:
            return httpx.get(url, timeout=10).status_code
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "the workers never answered"
            time.sleep(0.2)


def test_a_process_exiting_0_unasked_makes_the_parent_fail(tmp_path: Path) -> None:
    """A worker stopping on its own, even with 0, while nobody asked Vigie to stop: the
    parent stops the other and exits non-zero, so that a platform restarting on failure
    (systemd Restart=on-failure, Heroku, Kubernetes) restarts it."""
    with _supervisor(tmp_path, max_requests="0") as (proc, url):
        assert _get(f"{url}/") == 200  # the worker that served it then exits 0
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "exited with code 0 though Vigie was not asked to stop" in stderr, stderr


def _workers(parent: int) -> list[int]:
    """The worker processes of ``parent`` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_a_process_killed_by_sigterm_alone_makes_the_parent_fail(tmp_path: Path) -> None:
    """SIGTERM to one worker only (not to the parent, which was not asked to stop) is a
    worker gone unasked: the parent fails once its grace for a signal of its own is over."""
    with _supervisor(tmp_path, max_requests="none") as (proc, url):
        assert _get(f"{url}/") == 200
        os.kill(_workers(proc.pid)[0], signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "was killed by SIGTERM though Vigie was not asked to stop" in stderr, stderr


def test_a_sigterm_to_the_whole_group_is_a_clean_stop(tmp_path: Path) -> None:
    """systemd (and `docker stop` of a shell's group) send SIGTERM to every process at
    once: the workers may end before the parent sees its own signal, still a clean stop."""
    with _supervisor(tmp_path, max_requests="none") as (proc, url):
        assert _get(f"{url}/") == 200
        os.killpg(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "not asked to stop" not in stderr, stderr
    assert "Traceback" not in stderr, stderr
