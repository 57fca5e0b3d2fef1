"""A poll tick whose fetch hangs goes on claiming the sources that fall due meanwhile
(real HTTP servers, SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.net.http import HttpClient, HttpLimits
from bot.services.actors import CLI
from bot.services.polling import (
    SourceOutcome,
    TickReport,
    claim_due_sources,
    run_poll_tick,
)
from bot.services.sources_admin import do_add_source
from storage.db import transaction
from storage.models import SourceRow

WAIT = 30.0
"""Longest a step waits for what it expects (a bound for a broken build, not a timing)."""

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Acme {n}</title><link>https://e.example/{n}</link>"
        b"<guid>{n}</guid><description>acme news {n}</description></item>"
        b"</channel></rss>")


def patient_client(_trusted: bool) -> HttpClient:
    """A client whose own timeouts outlast the test: the hung fetch stays pending until the
    test lets its server answer."""
    return HttpClient(limits=HttpLimits(read_timeout=300, total_timeout=300, max_attempts=1))


class SilentServer:
    """Accepts connections and never answers, until ``answer()``: then each connection
    held, and every later one, gets a 404 and is closed."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/feed.rss"
        self.connected = threading.Event()
        self._answering = threading.Event()
        self._held: list[socket.socket] = []
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed
                return
            with self._guard:
                if self._answering.is_set():
                    self._refuse(conn)
                    continue
                self._held.append(conn)
            self.connected.set()

    @staticmethod
    def _refuse(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
        conn.close()

    def answer(self) -> None:
        """Answer every held connection (and those to come) with a 404."""
        with self._guard:
            self._answering.set()
            held, self._held = self._held, []
        for conn in held:
            self._refuse(conn)

    def close(self) -> None:
        """Answer what is held and stop accepting."""
        self.answer()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close does not)
        self._listener.close()
        self._thread.join(5)


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


class Outcomes:
    """The outcomes a tick reports as they settle (its ``progress``)."""

    def __init__(self) -> None:
        self.settled: dict[int, SourceOutcome] = {}
        self.changed = threading.Condition()

    def __call__(self, outcome: SourceOutcome, _done: int, _total: int) -> None:
        with self.changed:
            self.settled[outcome.source.id] = outcome
            self.changed.notify_all()

    def wait_for(self, source_id: int) -> SourceOutcome | None:
        """``source_id``'s outcome once it settled (None: not within WAIT)."""
        with self.changed:
            self.changed.wait_for(lambda: source_id in self.settled, WAIT)
            return self.settled.get(source_id)


def _due(sessions: sessionmaker[Session], *source_ids: int, at: datetime) -> None:
    with transaction(sessions) as session:
        session.execute(update(SourceRow).where(SourceRow.id.in_(source_ids))
                        .values(next_poll_at=at))


def test_sources_falling_due_while_a_fetch_hangs_are_fetched_meanwhile_once_each(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, silent: SilentServer,
) -> None:
    """A tick whose claim came back short claimed nothing more: a feed server that accepts
    and never answers held every source falling due meanwhile until its fetch was
    abandoned (a minute), and the next ticks, which wait for this one, with them."""
    hits: Counter[str] = Counter()

    def feed(request: Request) -> Response:
        hits[request.path] += 1
        n = request.path.rsplit("/", 1)[-1].encode()
        return Response(FEED.replace(b"{n}", n), content_type="application/rss+xml")

    httpserver.expect_request("/feed/b").respond_with_handler(feed)
    httpserver.expect_request("/feed/c").respond_with_handler(feed)
    hung = do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                         values={"url": silent.url})
    b, c = (do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                          values={"url": httpserver.url_for(f"/feed/{name}")})
            for name in ("b", "c"))
    now = datetime.now(UTC)
    _due(sessions, b.id, c.id, at=now + timedelta(days=1))
    _due(sessions, hung.id, at=now - timedelta(seconds=1))
    outcomes = Outcomes()
    reports: list[TickReport] = []
    tick = threading.Thread(target=lambda: reports.append(run_poll_tick(
        sessions, patient_client, concurrency=4, budget=600, progress=outcomes)))
    tick.start()
    try:
        assert silent.connected.wait(WAIT)  # the hung fetch is under way
        _due(sessions, b.id, at=datetime.now(UTC) - timedelta(seconds=1))
        fetched = outcomes.wait_for(b.id)
        assert fetched is not None, "B fell due while A hung and was not fetched meanwhile"
        assert fetched.error is None and fetched.report.stored == 1
        assert hung.id not in outcomes.settled and tick.is_alive()  # A still hangs
        # Claims are leases: nothing is left for another worker while A's fetch runs.
        assert claim_due_sources(sessions, now=datetime.now(UTC), lease=False) == []
        # B due again (as after a short interval) and C due: the claim that takes C sees
        # both, and leaves B, which this tick polled already.
        _due(sessions, b.id, c.id, at=datetime.now(UTC) - timedelta(seconds=1))
        fetched = outcomes.wait_for(c.id)
        assert fetched is not None and fetched.error is None
        assert hung.id not in outcomes.settled and tick.is_alive()
        assert hits == {"/feed/b": 1, "/feed/c": 1}
    finally:
        silent.answer()
        tick.join(WAIT)
    assert not tick.is_alive()
    (report,) = reports
    assert sorted(o.source.id for o in report.outcomes) == sorted([hung.id, b.id, c.id])
    assert [o.source.id for o in report.outcomes if o.error] == [hung.id]
