"""The shared HTTP layer against a local server: caps, redirects, retries, conditional GET."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.net.errors import SourceAuthError, SourceError, SourceRateLimited
from bot.net.http import USER_AGENT, HttpClient, HttpLimits, HttpStatusError
from bot.net.retry import parse_retry_after

from .conftest import SleepRecorder


def client(sleeps: SleepRecorder, **limits: float) -> HttpClient:
    """A trusted client with test-sized limits."""
    return HttpClient(limits=HttpLimits(**limits), sleep=sleeps)  # type: ignore[arg-type]


def test_get_returns_body_headers_and_sends_honest_user_agent(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    httpserver.expect_request("/hello", headers={"User-Agent": USER_AGENT}).respond_with_json(
        {"ok": True}
    )
    response = http.get(httpserver.url_for("/hello"))
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["content-type"] == "application/json"
    assert USER_AGENT.startswith("Vigie/") and "(+https://github.com/vigie-cm/vigie)" in USER_AGENT


def test_query_params_are_sent(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/q", query_string={"a": "1", "b": "x y"}).respond_with_data("ok")
    assert http.get(httpserver.url_for("/q"), params={"a": 1, "b": "x y"}).content == b"ok"


def test_invalid_json_is_a_plain_source_error(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/bad").respond_with_data("<html>", content_type="text/html")
    with pytest.raises(SourceError, match="did not answer with valid JSON"):
        http.get(httpserver.url_for("/bad")).json()


# ------------------------------------------------------------------ conditional GET


def test_conditional_get_stores_validators_and_304_costs_nothing(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/feed").respond_with_data(
        "<rss/>", headers={"ETag": '"v1"', "Last-Modified": modified}
    )
    cursor: dict[str, object] = {}
    first = http.get(httpserver.url_for("/feed"), cursor=cursor)
    assert first.status_code == 200
    assert cursor == {"etag": '"v1"', "last_modified": modified}

    second = http.get(httpserver.url_for("/feed"), cursor=cursor)
    assert second.status_code == 304
    assert second.content == b""
    request = httpserver.log[-1][0]
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == modified


def test_validators_the_server_stopped_sending_are_forgotten(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    cursor: dict[str, object] = {"etag": '"old"', "other": 1}
    http.get(httpserver.url_for("/feed"), cursor=cursor)
    assert cursor == {"other": 1}


# ------------------------------------------------------------------------- retries


def test_429_with_retry_after_seconds_then_success(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_oneshot_request("/api").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_request("/api").respond_with_json({"ok": 1})
    with client(sleeps) as http:
        assert http.get(httpserver.url_for("/api")).json() == {"ok": 1}
    assert sleeps.calls == [2.0]


def test_429_with_retry_after_http_date(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    httpserver.expect_oneshot_request("/api").respond_with_data(
        "", status=429, headers={"Retry-After": when}
    )
    httpserver.expect_request("/api").respond_with_data("ok")
    with client(sleeps) as http:
        assert http.get(httpserver.url_for("/api")).content == b"ok"
    assert len(sleeps.calls) == 1 and 15 <= sleeps.calls[0] <= 20


def test_429_until_attempts_run_out_raises_rate_limited(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/api").respond_with_data(
        "", status=429, headers={"Retry-After": "3"}
    )
    with client(sleeps, max_attempts=3) as http, pytest.raises(SourceRateLimited) as caught:
        http.get(httpserver.url_for("/api"))
    assert caught.value.retry_after == 3.0
    assert sleeps.calls == [3.0, 3.0]
    assert "rate limited by localhost" in str(caught.value)


def test_long_retry_after_fails_fast_instead_of_blocking(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/api").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    with client(sleeps, max_retry_wait=30) as http, pytest.raises(SourceRateLimited) as caught:
        http.get(httpserver.url_for("/api"))
    assert caught.value.retry_after == 3600.0
    assert sleeps.calls == []


def test_rate_limit_reset_header_is_used_when_there_is_no_retry_after(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    reset = int(time.time()) + 10
    httpserver.expect_oneshot_request("/api").respond_with_data(
        "", status=429, headers={"x-rate-limit-reset": str(reset)}
    )
    httpserver.expect_request("/api").respond_with_data("ok")
    with client(sleeps) as http:
        http.get(httpserver.url_for("/api"))
    assert len(sleeps.calls) == 1 and 5 <= sleeps.calls[0] <= 10


def test_5xx_retries_with_bounded_jittered_backoff(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_oneshot_request("/api").respond_with_data("", status=503)
    httpserver.expect_oneshot_request("/api").respond_with_data("", status=502)
    httpserver.expect_request("/api").respond_with_data("ok")
    with client(sleeps, backoff_base=1.0, max_attempts=3) as http:
        assert http.get(httpserver.url_for("/api")).content == b"ok"
    assert len(sleeps.calls) == 2
    assert 0.5 <= sleeps.calls[0] <= 1.0 and 1.0 <= sleeps.calls[1] <= 2.0


def test_5xx_after_retries_is_a_server_error(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    httpserver.expect_request("/api").respond_with_data("boom", status=500)
    with client(sleeps, max_attempts=2) as http, pytest.raises(HttpStatusError) as caught:
        http.get(httpserver.url_for("/api"))
    assert caught.value.status_code == 500
    assert str(caught.value) == "localhost had a server error (HTTP 500)"


def test_connection_refused_is_retried_then_reported(sleeps: SleepRecorder) -> None:
    with client(sleeps, max_attempts=2) as http, pytest.raises(SourceError) as caught:
        http.get("http://127.0.0.1:9/nothing-listens-here")
    assert str(caught.value) == "could not connect to 127.0.0.1"
    assert len(sleeps.calls) == 1


# -------------------------------------------------------------------- status errors


def test_401_is_an_auth_error_with_the_server_message_but_no_secret(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    httpserver.expect_request("/api").respond_with_json(
        {"error": "The access token is invalid"}, status=401
    )
    with pytest.raises(SourceAuthError) as caught:
        http.get(
            httpserver.url_for("/api"),
            params={"token": "s3cr3t-query"},
            headers={"Authorization": "Bearer s3cr3t-header"},
        )
    message = str(caught.value)
    assert message == "localhost refused access (HTTP 401): The access token is invalid"
    assert "s3cr3t" not in message and "/api" not in message


def test_403_is_an_auth_error(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/api").respond_with_data("no", status=403)
    with pytest.raises(SourceAuthError, match=r"HTTP 403"):
        http.get(httpserver.url_for("/api"))


def test_404_and_other_4xx_keep_status_and_error_code(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    httpserver.expect_request("/gone").respond_with_json({"error": "Record not found"}, status=404)
    httpserver.expect_request("/bad").respond_with_json(
        {"error": "ExpiredToken", "message": "Token has expired"}, status=400
    )
    with pytest.raises(HttpStatusError) as gone:
        http.get(httpserver.url_for("/gone"))
    assert gone.value.status_code == 404 and "nothing found" in str(gone.value)
    with pytest.raises(HttpStatusError) as bad:
        http.get(httpserver.url_for("/bad"))
    assert bad.value.error_code == "ExpiredToken"
    assert str(bad.value) == "localhost answered HTTP 400: Token has expired"


def test_an_errors_list_gives_its_message_and_code_without_a_double_period(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    """X's error bodies: the first of ``errors`` says what is wrong, more precisely than a
    generic ``detail`` beside it; its code is kept and shown. The reader's sentence ends
    with its own period, so the server's is dropped."""
    httpserver.expect_request("/bad").respond_with_json({
        "errors": [{"parameters": {"query": ["acme OR"]},
                    "message": "Ambiguous use of or as a keyword. (at position 6)"}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request"}, status=400)
    httpserver.expect_request("/plan").respond_with_json({"errors": [{
        "message": "You currently have access to a subset of X API V2 endpoints and "
                   "limited v1.1 endpoints (e.g. media post, oauth) only.", "code": 453}]},
        status=403)
    httpserver.expect_request("/detail").respond_with_json(
        {"detail": "One or more parameters to your request was invalid."}, status=400)
    with pytest.raises(HttpStatusError) as bad:
        http.get(httpserver.url_for("/bad"))
    assert str(bad.value) == ("localhost answered HTTP 400: Ambiguous use of or as a keyword. "
                              "(at position 6)")
    with pytest.raises(SourceAuthError) as plan:
        http.get(httpserver.url_for("/plan"))
    assert str(plan.value) == (
        "localhost refused access (HTTP 403): You currently have access to a subset of X API "
        "V2 endpoints and limited v1.1 endpoints (e.g. media post, oauth) only (code 453)")
    assert plan.value.error_code == "453"  # type: ignore[attr-defined]
    with pytest.raises(HttpStatusError) as detail:
        http.get(httpserver.url_for("/detail"))
    assert str(detail.value).endswith("request was invalid")


# ------------------------------------------------------------------------ timeouts


def test_slow_server_times_out(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    def slow(_: Request) -> Response:
        time.sleep(0.6)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with client(sleeps, read_timeout=0.2) as http, pytest.raises(SourceError) as caught:
        http.get(httpserver.url_for("/slow"))
    assert str(caught.value) == "timed out after 0.2s waiting for localhost"
    # The server logs the request when its handler returns, 0.4 s after the client gave
    # up: wait for it, or the entry lands in a later test's log (seen in a full run).
    deadline = time.monotonic() + 10
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)


def test_trickling_body_hits_the_total_deadline(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    def trickle(_: Request) -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(12):
                time.sleep(0.05)
                yield b"x" * 10

        return Response(body(), direct_passthrough=True)

    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    with (
        client(sleeps, read_timeout=2, total_timeout=0.25) as http,
        pytest.raises(SourceError, match=r"^timed out after 0\.25s$"),
    ):
        http.get(httpserver.url_for("/trickle"))


# ---------------------------------------------------------------- size limits


def test_oversize_body_with_content_length_is_refused(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 300_000)
    with (
        client(sleeps, max_bytes=100 * 1024) as http,
        pytest.raises(SourceError, match=r"^response larger than 100 KB$"),
    ):
        http.get(httpserver.url_for("/big"))


def test_oversize_streamed_body_is_stopped_at_the_cap(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    def endless(_: Request) -> Response:
        return Response((b"y" * 65536 for _ in range(64)), direct_passthrough=True)

    httpserver.expect_request("/stream").respond_with_handler(endless)
    with (
        client(sleeps, max_bytes=1024 * 1024) as http,
        pytest.raises(SourceError, match=r"^response larger than 1 MB$"),
    ):
        http.get(httpserver.url_for("/stream"))


def test_gzip_bomb_is_stopped_at_the_decompressed_cap(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    bomb = gzip.compress(b"\0" * 30_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with (
        client(sleeps, max_bytes=1024 * 1024) as http,
        pytest.raises(SourceError, match=r"^response larger than 1 MB$"),
    ):
        http.get(httpserver.url_for("/bomb"))


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_compressed_bodies_within_the_cap_are_decoded(
    httpserver: HTTPServer, http: HttpClient, encoding: str, compress: object
) -> None:
    payload = b"<rss>" + b"hello " * 5000 + b"</rss>"
    httpserver.expect_request("/z").respond_with_data(
        compress(payload),  # type: ignore[operator]
        headers={"Content-Encoding": encoding},
    )
    assert http.get(httpserver.url_for("/z")).content == payload


def test_corrupt_gzip_is_a_plain_error(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/z").respond_with_data(
        b"\x1f\x8bnot really gzip", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(SourceError, match="corrupt compressed response"):
        http.get(httpserver.url_for("/z"))


# ------------------------------------------------------------------------ redirects


def test_redirects_are_followed_up_to_the_cap(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    for hop in range(5):
        httpserver.expect_request(f"/r{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/r{hop + 1}"}
        )
    httpserver.expect_request("/r5").respond_with_data("arrived")
    with client(sleeps, max_redirects=5) as http:
        response = http.get(httpserver.url_for("/r0"))
    assert response.content == b"arrived"
    assert response.url == httpserver.url_for("/r5")


def test_too_many_redirects(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    for hop in range(7):
        httpserver.expect_request(f"/r{hop}").respond_with_data(
            "", status=301, headers={"Location": f"/r{hop + 1}"}
        )
    with (
        client(sleeps, max_redirects=5) as http,
        pytest.raises(SourceError, match=r"too many redirects from localhost \(more than 5\)"),
    ):
        http.get(httpserver.url_for("/r0"))


def test_redirect_loop_is_detected(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=307, headers={"Location": "/a"})
    with pytest.raises(SourceError, match="redirect loop at localhost"):
        http.get(httpserver.url_for("/a"))


def test_redirect_to_another_origin_drops_credentials(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    other = httpserver.url_for("/landing").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": other}
    )
    httpserver.expect_request("/landing").respond_with_data("ok")
    http.get(httpserver.url_for("/start"), headers={"Authorization": "Bearer secret"})
    first, second = (entry[0] for entry in httpserver.log)
    assert first.headers.get("Authorization") == "Bearer secret"
    assert "Authorization" not in second.headers


def test_redirect_to_a_non_http_scheme_is_refused(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/a").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(SourceError, match="redirected to an unsupported address"):
        http.get(httpserver.url_for("/a"))


def test_post_form_and_json(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request(
        "/form", method="POST", data="grant_type=client_credentials"
    ).respond_with_json({"form": True})
    httpserver.expect_request("/json", method="POST", json={"a": 1}).respond_with_json({"j": 1})
    assert http.post(httpserver.url_for("/form"), data={"grant_type": "client_credentials"}).json()
    assert http.post(httpserver.url_for("/json"), json={"a": 1}).json() == {"j": 1}


def test_post_is_not_retried_on_500(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    httpserver.expect_request("/login", method="POST").respond_with_data("", status=500)
    with client(sleeps) as http, pytest.raises(HttpStatusError):
        http.post(httpserver.url_for("/login"), json={})
    assert sleeps.calls == []
    assert len(httpserver.log) == 1


def test_post_is_retried_on_503_only_when_idempotent(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    # An overloaded server may answer 503 after the write went through: X then refused
    # the automatic repeat as duplicate content and the reply was failed for good.
    httpserver.expect_request("/2/tweets", method="POST").respond_with_data("", status=503)
    with client(sleeps) as http, pytest.raises(HttpStatusError):
        http.post(httpserver.url_for("/2/tweets"), json={})
    assert sleeps.calls == []
    assert len(httpserver.log) == 1
    with client(sleeps) as http, pytest.raises(HttpStatusError):
        http.post(httpserver.url_for("/2/tweets"), json={}, idempotent=True)
    assert len(httpserver.log) == 1 + 3


# --------------------------------------------------------------------- unit checks


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0),
        ({"x-ratelimit-reset": "2015-10-21T07:29:00.000Z"}, 60.0),
        ({"x-ratelimit-reset": "42"}, 42.0),
        ({"ratelimit-reset": str(1445412480 + 15)}, 15.0),
        ({"Retry-After": "garbage"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    import httpx

    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC).timestamp()
    assert parse_retry_after(httpx.Headers(headers), now) == expected


def test_invalid_url_is_a_config_error(http: HttpClient) -> None:
    with pytest.raises(SourceError, match="only http:// and https://"):
        http.get("ftp://example.com/feed")
