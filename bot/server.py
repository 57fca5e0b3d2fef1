"""Serving the WSGI app (`vigie web`, `vigie run` in HTTP mode): Hypercorn in front, the app
in a thread pool behind a buffer.

A thread-per-connection server (gunicorn's gthread worker) gives a slow client a thread
for as long as it takes to send its request: 24 connections trickling one byte every 5 s
were enough to stop `/cm` and `/healthz`. Here Hypercorn's asyncio loop reads every request
(headers bounded by h11), and only a complete request reaches a thread of the pool; a slow
client costs a coroutine and a socket, not a thread. No proxy is needed in front for that
(one still terminates TLS).

Bodies are what the internet could make a process hold, so the front routes before it
reads: a request the app answers without its body (an unknown path, a wrong method, a
webhook push without its signature headers) is answered at once, its body never read; a
body the app reads is capped (:data:`MAX_REQUEST_BODY`), must arrive whole within a
deadline however steadily it trickles, and counts against a budget of bytes held by all
connections at once (503 past it). Hypercorn has no setting for the number of connections;
each one waiting for its headers holds at most h11's 16 KB.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hypercorn.config import Config

from bot.config import Settings
from bot.sources.webhook import MAX_BODY_BYTES
from bot.web import SLACK_MAX_BODY_BYTES, WSGIApp

log = logging.getLogger("vigie.web.server")

MAX_REQUEST_BODY = max(SLACK_MAX_BODY_BYTES, MAX_BODY_BYTES)
"""The largest body any endpoint accepts; the buffer refuses bigger ones (413)."""
APP_THREADS = 16
"""Threads running complete requests in each process (acks are fast; slow work is after)."""
READ_TIMEOUT_SECONDS = 30
"""A connection that sends nothing for this long is closed (Hypercorn's timeout, reset by
every byte: the deadline of a body is :attr:`WebLimits.body_seconds`)."""

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class WebLimits:
    """What request bodies may cost a web process: ``body_seconds``, the longest one may
    take to arrive whole; ``buffered_bytes``, the most all connections hold at once."""

    body_seconds: float = 10.0
    buffered_bytes: int = 32 * 1024 * 1024

    @classmethod
    def of(cls, settings: Settings) -> WebLimits:
        """The limits VIGIE_WEB_BODY_TIMEOUT_SECONDS and VIGIE_WEB_MAX_BUFFERED_MB set."""
        return cls(body_seconds=settings.web_body_timeout_seconds,
                   buffered_bytes=settings.web_max_buffered_mb * 1024 * 1024)


class _Budget:
    """Bytes of request bodies held at once by the connections of one event loop (no lock:
    only that loop's coroutines take and give)."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._held = 0

    def take(self, size: int) -> bool:
        """Hold ``size`` more bytes; False, holding nothing, when that would pass the total."""
        if self._held + size > self._total:
            return False
        self._held += size
        return True

    def give(self, size: int) -> None:
        """Release ``size`` bytes taken before."""
        self._held -= size


class _TooLarge(Exception):
    """A body without Content-Length ran past its cap."""


class BufferedWSGI:
    """An ASGI app that buffers the whole request (capped), then runs a WSGI app in a
    thread pool and sends its answer.

    An app with a ``body_limit(environ)`` method (:class:`bot.web.WebApp`) says which bodies
    it reads: every other request reaches it with an empty body, unread. Any other app
    gets every body up to ``max_body``.
    """

    def __init__(self, app: WSGIApp, *, max_body: int = MAX_REQUEST_BODY,
                 threads: int = APP_THREADS, limits: WebLimits | None = None) -> None:
        self._app = app
        self._body_limit: Callable[[dict[str, Any]], int] | None = getattr(
            app, "body_limit", None)
        self._max_body = max_body
        self._limits = limits or WebLimits()
        self._budget = _Budget(self._limits.buffered_bytes)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vigie-web")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close"})
            return
        environ = _environ(scope)
        limit = self._max_body
        if self._body_limit is not None:
            limit = min(limit, self._body_limit(environ))
        if limit <= 0:
            # Answered without its body: what the client still sends is discarded, never
            # held, and the connection closes after the answer.
            await _discarding(receive, self._answer(send, environ, unread=_has_body(scope)))
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _discarding(receive, _plain(send, 413 if declared.isdigit() else 400,
                                              b"body refused\n"))
            return
        # A chunked body may reach the cap: it holds that much of the budget.
        reserved = int(declared) if declared is not None else \
            limit if _header(scope, b"transfer-encoding") is not None else 0
        if not self._budget.take(reserved):
            retry = str(math.ceil(self._limits.body_seconds)).encode()
            await _discarding(receive, _plain(send, 503, b"busy: try again shortly\n",
                                              [(b"retry-after", retry)]))
            return
        try:
            try:
                async with asyncio.timeout(self._limits.body_seconds):
                    body = await _read_body(receive, limit)
            except TimeoutError:
                await _discarding(receive, _plain(send, 408, b"request body too slow\n"))
                return
            except _TooLarge:
                await _discarding(receive, _plain(send, 413, b"body too large\n"))
                return
            if body is None:  # the client left
                return
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            await self._answer(send, environ)
        finally:
            self._budget.give(reserved)

    async def _answer(self, send: Send, environ: dict[str, Any], *,
                      unread: bool = False) -> None:
        """Run the app on ``environ`` in the pool and send its answer (``unread``: the
        request's body was not read, so the connection cannot serve another)."""
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self._pool, self._run, environ)
        if unread and not any(name == b"connection" for name, _ in headers):
            headers = [*headers, (b"connection", b"close")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})

    def _run(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                                  for name, value in headers]
            return lambda _data: None

        try:
            result: Iterable[bytes] = self._app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("unhandled error in the web app")
            return 500, [(b"content-type", b"text/plain")], b"internal error\n"
        if "status" not in started:
            log.error("the web app returned without calling start_response")
            return 500, [(b"content-type", b"text/plain")], b"internal error\n"
        return started["status"], started["headers"], content

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


def _has_body(scope: dict[str, Any]) -> bool:
    """Whether the request announces a body (chunked, or a Content-Length other than 0)."""
    declared = _header(scope, b"content-length")
    return (declared is not None and declared != "0") or \
        _header(scope, b"transfer-encoding") is not None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request's whole body, or None when the client left; raises _TooLarge past
    ``limit`` (a declared Content-Length was checked before: h11 sends no more)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _discarding(receive: Receive, answer: Awaitable[None]) -> None:
    """Await ``answer`` while dropping what the client sends meanwhile. Hypercorn queues
    what it reads for the app (ten messages at most) and, once the answer is sent, queues
    a disconnect too: on a full queue that waited forever, the connection with it."""

    async def drop() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    dropping = asyncio.create_task(drop())
    try:
        await answer
    finally:
        dropping.cancel()


async def _plain(send: Send, status: int, text: bytes,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"connection", b"close"),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": text, "more_body": False})


def _environ(scope: dict[str, Any]) -> dict[str, Any]:
    """The WSGI environ of an ASGI request, with an empty body (PEP 3333 strings are
    latin-1); the caller puts the body it read in ``wsgi.input`` and CONTENT_LENGTH."""
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"] = scope["client"][0]
    for raw_name, raw_value in scope.get("headers", []):
        name = bytes(raw_name).decode("latin-1").lower()
        value = bytes(raw_value).decode("latin-1")
        if name in ("content-length", "transfer-encoding"):
            continue  # the body given to the app is complete: its length is set apart
        key = "CONTENT_TYPE" if name == "content-type" else \
            "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["CONTENT_LENGTH"] = "0"
    return environ


def server_config(host: str, port: int, *, workers: int, log_level: str) -> Config:
    """Hypercorn's settings for Vigie: plain HTTP/1.1 on ``host:port``."""
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.workers = workers
    config.accesslog = None
    config.errorlog = logging.getLogger("vigie.web.server")
    config.loglevel = log_level.upper()
    config.read_timeout = READ_TIMEOUT_SECONDS
    config.wsgi_max_body_size = MAX_REQUEST_BODY
    return config


def serve(app_factory: Callable[[], WSGIApp], config: Config, limits: WebLimits) -> None:
    """Serve the app built by ``app_factory`` in this process until SIGTERM or SIGINT."""
    from hypercorn.asyncio import serve as hypercorn_serve

    app = BufferedWSGI(app_factory(), limits=limits)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await hypercorn_serve(app, config, mode="asgi",  # type: ignore[arg-type]
                              shutdown_trigger=stop.wait)

    asyncio.run(main())


STOP_WAIT_SECONDS = 30
"""Longest the parent waits for its processes to stop before terminating them."""

STOP_SIGNAL_GRACE_SECONDS = 5.0
"""How long the parent waits for a SIGTERM or SIGINT of its own after one of its processes
stopped cleanly or by one of those signals: a stop sent to the whole group (systemd's
default, a terminal's Ctrl-C) can reach a process before the parent runs its handler."""

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve_processes(application_path: str, config: Config) -> int:
    """Serve with ``config.workers`` processes, each loading ``application_path``
    (``asgi:module:factory()``) itself; returns the exit code.

    Hypercorn's own supervisor (``hypercorn.run.run``) returned 0 when its processes failed
    (it reads the exit codes again after stopping them, finding 0), so a refused Slack
    token stopped `vigie web` with 0, which platforms take for a clean stop. Here a process
    that stops unasked stops the others, and the parent fails: with the process's exit
    code when it exited with one (2, configuration), 1 otherwise (killed by a signal, the
    OOM killer's, or exited 0 or by SIGTERM though the parent was not asked to stop: a
    platform restarting on failure must restart it). SIGTERM and SIGINT to the parent stop
    them all, exit 0, also when the processes received the same signal a moment before.
    """
    from multiprocessing import get_context
    from multiprocessing.connection import wait

    from hypercorn.asyncio.run import asyncio_worker

    config.application_path = application_path
    sockets = config.create_sockets()
    context = get_context("spawn")
    stop = context.Event()
    # The children inherit SIGINT ignored: Ctrl-C reaches the whole group, the parent
    # alone decides, through ``stop``, which they poll.
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes = [context.Process(target=asyncio_worker, daemon=False,
                                 kwargs={"config": config, "sockets": sockets,
                                         "shutdown_event": stop})
                 for _ in range(config.workers)]
    for process in processes:
        process.start()
    # The handler only notes the signal: setting ``stop`` (a lock shared between
    # processes) from a handler could wait on that lock held by the interrupted loop.
    asked: list[int] = []
    previous_term = signal.signal(signal.SIGTERM, lambda signum, _: asked.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _: asked.append(signum))
    code = 0
    try:
        running = list(processes)
        while running and not asked and not code:
            wait([process.sentinel for process in running], timeout=0.2)
            for process in [p for p in running if p.exitcode is not None]:
                running.remove(process)
                if asked or code or _stopped_by_group_signal(process.exitcode, asked):
                    continue
                code = _failure_code(process.exitcode)
                log.error("web process %s %s though Vigie was not asked to stop: stopping "
                          "the others, exit %d", process.pid, _how_it_ended(process.exitcode),
                          code)
        stop.set()  # asked to stop, or one stopped unasked: stop them all
        for process in processes:
            process.join(STOP_WAIT_SECONDS)
            if process.exitcode is None:
                process.terminate()
                process.join(5)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
        for sock in [*sockets.secure_sockets, *sockets.insecure_sockets]:
            sock.close()
    return code


def _stopped_by_group_signal(exitcode: int | None, asked: list[int]) -> bool:
    """Whether a process that ended with ``exitcode`` was stopped by a signal sent to the
    whole group: it exited 0 or died by SIGTERM or SIGINT, and the parent's own signal
    arrives within :data:`STOP_SIGNAL_GRACE_SECONDS` (``asked`` is what its handler
    fills)."""
    if exitcode not in (0, *(-signum for signum in _STOP_SIGNALS)):
        return False
    deadline = time.monotonic() + STOP_SIGNAL_GRACE_SECONDS
    while not asked and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(asked)


def _failure_code(exitcode: int | None) -> int:
    """The parent's exit code for a process that stopped unasked with ``exitcode``: its
    own when it exited with one, else 1 (killed by a signal, or exited 0: stopping
    unasked is a failure whatever the code)."""
    return exitcode if exitcode is not None and exitcode > 0 else 1


def _how_it_ended(exitcode: int | None) -> str:
    """``"exited with code 0"``, ``"was killed by SIGKILL"``: how a process ended."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


class BackgroundServer:
    """The web front served from a thread, for a process whose main thread does something
    else (`vigie run` in Socket Mode serves webhooks and health checks this way).

    The listening socket is bound when the server is made, in the caller's thread, so a
    port already in use is an ``OSError`` there rather than a thread dying silently.
    """

    def __init__(self, app: WSGIApp, host: str, port: int, *, log_level: str,
                 limits: WebLimits) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self.port = int(self._socket.getsockname()[1])
        self._config = server_config(host, self.port, workers=1, log_level=log_level)
        # Hypercorn closes the socket it serves: it gets its own descriptor of ours.
        self._config.bind = [f"fd://{os.dup(self._socket.fileno())}"]
        self._app = BufferedWSGI(app, limits=limits)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="vigie-web-front",
                                        daemon=True)

    def start(self) -> None:
        """Serve in the background (returns once the server's loop runs)."""
        self._thread.start()
        self._started.wait(timeout=10)

    def _serve(self) -> None:
        from hypercorn.asyncio import serve as hypercorn_serve

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            await hypercorn_serve(self._app, self._config, mode="asgi",  # type: ignore[arg-type]
                                  shutdown_trigger=self._stop.wait)

        try:
            asyncio.run(main())
        except Exception:
            log.exception("the web front stopped")
        finally:
            self._started.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread (requests in flight finish first)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)
        self._socket.close()
