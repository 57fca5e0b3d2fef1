"""Hostile HTTP servers on loopback for resilience tests (raw sockets, no framework).

``TricklingServer`` answers every request with an endless status line and headers sent
one byte at a time: each byte arrives well within any read timeout, so only an overall
deadline enforced from outside the read loop ends the fetch. ``StallingServer`` sends a
whole status line and headers, the start of a body, then stalls the body the same way.
``StaticServer`` serves one fixed body (e.g. a nested-HTML bomb) to any GET.
``StallingProxy`` forwards TCP to a real server (PostgreSQL) until told to stall.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType


class _RawServer:
    """Accept loop on 127.0.0.1 with one thread per connection; ``close`` stops all."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.stopped = threading.Event()
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str = "/") -> str:
        """The URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> bool:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = conn.recv(4096)
            except OSError:
                return False
            if not chunk:
                return False
            data += chunk
        return True

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> _RawServer:
        self._accepter.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, end every connection and wait for the threads."""
        self.stopped.set()
        self._listener.close()
        self._accepter.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)


class TricklingServer(_RawServer):
    """Sends ``HTTP/1.1 200 OK`` and an endless header one byte every ``interval`` s."""

    def __init__(self, interval: float = 0.05) -> None:
        """``interval``: seconds between two bytes (far below any read timeout)."""
        super().__init__()
        self.interval = interval
        self.bytes_sent = 0
        self.first_byte_at: float | None = None
        self.hangups: list[float] = []
        """Monotonic times at which a client closed a trickled connection."""

    def __enter__(self) -> TricklingServer:
        super().__enter__()
        return self

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if not self._read_request(conn):
                return
            head = b"HTTP/1.1 200 OK\r\nX-Slow: "
            index = 0
            while not self.stopped.is_set():
                byte = head[index : index + 1] if index < len(head) else b"a"
                try:
                    conn.sendall(byte)
                except OSError:
                    self.hangups.append(time.monotonic())
                    return
                if self.first_byte_at is None:
                    self.first_byte_at = time.monotonic()
                self.bytes_sent += 1
                index += 1
                self.stopped.wait(self.interval)


class StallingServer(_RawServer):
    """Answers ``200 OK``, sends ``body``, then keeps the body going one space every
    ``interval`` s, forever.

    ``framing`` says how the body's end would be known: ``"close"`` (no Content-Length:
    the body ends when the connection closes), ``"chunked"`` (the stall is one-space
    chunks, never the last chunk) or ``"length"`` (a Content-Length never reached).
    """

    def __init__(self, body: bytes, framing: str = "close", interval: float = 0.05) -> None:
        """Serve ``body`` then stall, with ``framing`` (see the class)."""
        super().__init__()
        self.body = body
        self.framing = framing
        self.interval = interval
        self.stall_bytes = 0
        """Bytes of stall sent after ``body`` (the server did keep the body going)."""

    def __enter__(self) -> StallingServer:
        super().__enter__()
        return self

    def _head(self) -> bytes:
        framing = {"close": "Connection: close\r\n",
                   "chunked": "Transfer-Encoding: chunked\r\n",
                   "length": f"Content-Length: {len(self.body) + 10_000_000}\r\n"}
        return ("HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                f"{framing[self.framing]}\r\n").encode("ascii")

    def _piece(self, data: bytes) -> bytes:
        if self.framing == "chunked":
            return f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n"
        return data

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if not self._read_request(conn):
                return
            try:
                conn.sendall(self._head() + self._piece(self.body))
                while not self.stopped.wait(self.interval):
                    conn.sendall(self._piece(b" "))
                    self.stall_bytes += 1
            except OSError:
                return


class StaticServer(_RawServer):
    """Answers every GET with ``body`` (HTTP/1.1, Content-Length, then close)."""

    def __init__(self, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        """Serve ``body`` with ``content_type``."""
        super().__init__()
        self.body = body
        self.content_type = content_type

    def __enter__(self) -> StaticServer:
        super().__enter__()
        return self

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if not self._read_request(conn):
                return
            head = (
                "HTTP/1.1 200 OK\r\n"
                f"Content-Type: {self.content_type}\r\n"
                f"Content-Length: {len(self.body)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode("ascii")
            try:
                conn.sendall(head + self.body)
            except OSError:
                return


class StallingProxy(_RawServer):
    """A TCP proxy to ``127.0.0.1:target_port`` that can stall, as a database behind a
    network partition or a failover does: after ``stall()`` it still accepts connections
    and keeps every one open, but forwards nothing either way and answers nothing."""

    def __init__(self, target_port: int) -> None:
        """Forward to ``target_port`` on loopback until ``stall()``."""
        super().__init__()
        self.target_port = target_port
        self.stalled = threading.Event()
        self.connections_after_stall = 0
        self.failed_over = False

    def __enter__(self) -> StallingProxy:
        super().__enter__()
        return self

    def stall(self) -> None:
        """From now on, forward nothing (connections stay open, new ones are accepted)."""
        self.stalled.set()

    def fail_over(self) -> None:
        """New connections reach the server again; those open during the stall stay
        stalled (as after a failover: the old primary never answers them)."""
        self.failed_over = True

    def _pump(self, source: socket.socket, target: socket.socket, stalls: bool) -> None:
        source.settimeout(0.2)
        while not self.stopped.is_set():
            if stalls and self.stalled.is_set():
                self.stopped.wait(0.2)
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            if stalls and self.stalled.is_set():
                continue  # the partition swallows what was in flight
            try:
                target.sendall(data)
            except OSError:
                return

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if self.failed_over:
                self._forward(conn, stalls=False)
                return
            if self.stalled.is_set():
                self.connections_after_stall += 1
                self.stopped.wait()
                return
            self._forward(conn, stalls=True)

    def _forward(self, conn: socket.socket, *, stalls: bool) -> None:
        with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
            back = threading.Thread(target=self._pump, args=(upstream, conn, stalls),
                                    daemon=True)
            back.start()
            self._pump(conn, upstream, stalls)
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_RDWR)
            back.join(timeout=5)
