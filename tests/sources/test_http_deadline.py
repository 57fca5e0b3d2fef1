"""The total deadline of a fetch holds against a server that trickles its headers or
stalls its body: a body cut off at the deadline is an error, never a short response."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.net.errors import SourceError
from bot.net.http import HttpClient, HttpLimits
from tests.harness.hostile_servers import StallingServer, TricklingServer

LIVENESS = 30.0
"""Generous bound after which a fetch counts as stalled (old code never returned)."""


ONE_ITEM = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            b"<title>Acme status</title><item><title>acme outage again, site down</title>"
            b"<guid>acme-1</guid></item>")
"""The start of a feed: one complete item, then the server stalls."""


def fetch_error(client: HttpClient, server: TricklingServer | StallingServer,
                path: str = "/") -> str:
    """The error of a GET run in a thread; fails the test when it does not return."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(client.get, server.url(path))
        try:
            with pytest.raises(SourceError) as caught:
                future.result(timeout=LIVENESS)
        except TimeoutError:  # pragma: no cover - the bug this test guards against
            server.close()  # releases the stuck fetch so the test can end
            pytest.fail("the fetch was still running: the deadline did not hold")
    return str(caught.value)


def test_trickled_headers_stop_at_the_total_deadline() -> None:
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=1, max_attempts=1)
    with TricklingServer(interval=0.05) as server, HttpClient(limits=limits) as client:
        message = fetch_error(client, server, "/feed")
        assert message == "timed out after 1s"
        assert server.bytes_sent > 3, "the server did trickle within the read timeout"
        assert server.connections == 1


def test_trickled_headers_of_an_untrusted_url_stop_too() -> None:
    """The SSRF-guarded transport (sources added through Slack) is watched the same way."""
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=1, max_attempts=1)
    with TricklingServer() as server, HttpClient(
        limits=limits, untrusted=True, allow_hosts=["127.0.0.1"]
    ) as client:
        assert fetch_error(client, server) == "timed out after 1s"


def test_a_budget_bounds_the_whole_fetch() -> None:
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=30, max_attempts=3)
    with TricklingServer() as server, HttpClient(limits=limits) as client:
        client.set_budget(1)
        assert fetch_error(client, server) == "gave up after 1s (time budget of a fetch)"
        assert server.connections == 1, "no retry once the budget is spent"


def test_abort_from_another_thread_ends_a_trickled_fetch() -> None:
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=60, max_attempts=3)
    with TricklingServer() as server, HttpClient(limits=limits) as client, \
            ThreadPoolExecutor(1) as pool:
        future = pool.submit(client.get, server.url())
        while server.first_byte_at is None and not future.done():
            server.stopped.wait(0.02)
        client.abort()
        with pytest.raises(SourceError, match="abandoned"):
            future.result(timeout=LIVENESS)


@pytest.mark.parametrize("framing", ["close", "chunked", "length"])
def test_a_body_stalled_past_the_budget_is_an_error_whatever_its_framing(framing: str) -> None:
    """A body that ends at connection close looked complete when the watchdog shut the
    socket: the feed's first item was returned as the whole feed."""
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=30, max_attempts=1)
    with StallingServer(ONE_ITEM, framing) as server, HttpClient(limits=limits) as client:
        client.set_budget(1)
        assert fetch_error(client, server, "/f.xml") == (
            "gave up after 1s (time budget of a fetch)")
        assert server.stall_bytes > 3, "the server did keep the body going"


def test_a_close_delimited_body_stalled_past_the_total_deadline_is_an_error() -> None:
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=1, max_attempts=1)
    with StallingServer(ONE_ITEM, "close") as server, HttpClient(limits=limits) as client:
        assert fetch_error(client, server) == "timed out after 1s"


def test_abort_during_a_close_delimited_body_is_an_error() -> None:
    limits = HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=60, max_attempts=1)
    with StallingServer(ONE_ITEM, "close") as server, HttpClient(limits=limits) as client, \
            ThreadPoolExecutor(1) as pool:
        future = pool.submit(client.get, server.url())
        while server.stall_bytes == 0 and not future.done():
            server.stopped.wait(0.02)
        client.abort()
        with pytest.raises(SourceError, match="abandoned"):
            future.result(timeout=LIVENESS)
