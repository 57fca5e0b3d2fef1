"""A TCP relay on loopback that a test closes and reopens: a database that goes away and
comes back (every connection cut, new ones refused) without stopping the shared server."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

from sqlalchemy.engine import make_url


class TcpRelay:
    """Relays connections from a loopback port to ``target`` while open. ``close`` cuts
    every relayed connection and refuses new ones; ``open`` listens again on the same
    port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Listen (on the same port as before, once there was one) and relay."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Stop listening and cut every relayed connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def url(self, database_url: str) -> str:
        """``database_url`` pointed at the relay."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if listener is not self._listener:
                client.close()
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        raise OSError
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def tcp_relay(database_url: str) -> Iterator[TcpRelay]:
    """An open relay to ``database_url``'s server; closed at the end."""
    parsed = make_url(database_url)
    relay = TcpRelay((parsed.host or "127.0.0.1", parsed.port or 5432))
    relay.open()
    try:
        yield relay
    finally:
        relay.close()
