"""Request bodies on /slack/events and /ingest: capped before parsing or logging, and
malformed ones answered 4xx (never a 500 with a traceback)."""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import logging
import socket
import time
from urllib.parse import quote, urlparse

import httpx
import pytest

from bot.web import SLACK_MAX_BODY_BYTES, BodyRefused, read_capped_body
from tests.e2e.conftest import VigieApp
from tests.harness.constants import SIGNING_SECRET
from tests.harness.slack_requests import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    post,
    signed_headers,
)
from tests.harness.webhooks import webhook_from_answer, webhook_headers


def _raw_request(url: str, head: bytes) -> bytes:
    """Send ``head`` (request line, headers, maybe the start of a body) and read the answer."""
    parts = urlparse(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(head)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path", ["/slack/events", "/ingest/1"])
def test_a_huge_declared_body_is_refused_before_it_is_read(vigie_sqlite: VigieApp,
                                                           path: str) -> None:
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM_CONTENT_TYPE}\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\nConnection: close\r\n\r\n").encode()
    answer = _raw_request(vigie_sqlite.url, head + b"command=%2Fcm&text=")
    assert answer.startswith(b"HTTP/1.1 413") or answer.startswith(b"HTTP/1.0 413"), answer[:80]


def test_a_chunked_body_is_read_up_to_the_cap_only() -> None:
    endless = io.BytesIO(b"x" * (3 * SLACK_MAX_BODY_BYTES))
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": endless}
    with pytest.raises(BodyRefused) as refused:
        read_capped_body(environ, SLACK_MAX_BODY_BYTES)
    assert refused.value.status == 413
    assert endless.tell() == SLACK_MAX_BODY_BYTES + 1
    small = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"a=1")}
    assert read_capped_body(small, SLACK_MAX_BODY_BYTES) == b"a=1"
    with pytest.raises(BodyRefused) as bad:
        read_capped_body({"CONTENT_LENGTH": "-5", "wsgi.input": io.BytesIO()}, 10)
    assert bad.value.status == 400


def test_an_unsigned_body_is_never_logged_whole(vigie_sqlite: VigieApp,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "PERSONAL-DATA-" + "z" * 200_000
    response = httpx.post(vigie_sqlite.url + "/slack/events",
                          content=f"command=/cm&text={marker}".encode(),
                          headers={"Content-Type": FORM_CONTENT_TYPE,
                                   "X-Slack-Request-Timestamp": "1",
                                   "X-Slack-Signature": "v0=00"}, timeout=10)
    assert response.status_code == 401
    assert not [r for r in caplog.records if "PERSONAL-DATA" in r.getMessage()]


def _form(payload: str) -> str:
    return "payload=" + quote(payload)


MALFORMED = {
    "payload not JSON": (_form("{not json"), FORM_CONTENT_TYPE),
    "payload a JSON list": (_form("[1, 2]"), FORM_CONTENT_TYPE),
    "payload a number": (_form("5"), FORM_CONTENT_TYPE),
    "deeply nested JSON body": ("{\"a\":" * 100_000 + "1" + "}" * 100_000, JSON_CONTENT_TYPE),
    "deeply nested payload": (_form("[" * 100_000 + "]" * 100_000), FORM_CONTENT_TYPE),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_signed_body_gets_400(vigie_sqlite: VigieApp, case: str) -> None:
    body, content_type = MALFORMED[case]
    response = post(vigie_sqlite.url, SIGNING_SECRET, body, content_type=content_type)
    assert response.status_code == 400, (case, response.text)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_unsigned_body_gets_401(vigie_sqlite: VigieApp, case: str) -> None:
    body, content_type = MALFORMED[case]
    response = post(vigie_sqlite.url, SIGNING_SECRET, body, content_type=content_type,
                    bad_signature=True)
    assert response.status_code == 401, (case, response.text)


@pytest.mark.parametrize("headers", [
    {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
    {"X-Slack-Request-Timestamp": "1700000000",
     "X-Slack-Signature": "v0=\u00e9\u00e9".encode("latin-1")},
    {},
])
def test_odd_signature_headers_get_401(vigie_sqlite: VigieApp,
                                       headers: dict[str, str | bytes]) -> None:
    response = httpx.post(vigie_sqlite.url + "/slack/events", content=b"command=%2Fcm&text=",
                          headers={"Content-Type": FORM_CONTENT_TYPE, **headers}, timeout=10)
    assert response.status_code == 401


def test_a_signed_body_that_is_not_utf8_gets_400(vigie_sqlite: VigieApp) -> None:
    raw = b"command=%2Fcm&text=\xff\xfe"
    hdrs = signed_headers(SIGNING_SECRET, raw, content_type=FORM_CONTENT_TYPE)
    bad = httpx.post(vigie_sqlite.url + "/slack/events", content=raw, headers=hdrs, timeout=10)
    assert bad.status_code == 400


def _webhook(vigie: VigieApp) -> tuple[str, str]:
    """A webhook source's URL and secret, added by an admin from Slack."""
    from tests.e2e.test_listening import admin

    admin(vigie, "watch add acme threshold:0")
    text = admin(vigie, "source add webhook acme")
    source_id, secret = webhook_from_answer(text)
    return f"{vigie.url}/ingest/{source_id}", secret


def test_a_webhook_signed_without_timestamp_cannot_be_replayed(vigie_sqlite: VigieApp) -> None:
    url, secret = _webhook(vigie_sqlite)
    body = json.dumps({"id": "r-1", "url": "https://forum.example/1", "text": "acme",
                       "author": {"handle": "zed"},
                       "published_at": "2026-11-20T10:00:00Z"}).encode()
    unstamped = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    replay = httpx.post(url, content=body, headers={"X-Vigie-Signature": unstamped})
    assert replay.status_code == 401 and "X-Vigie-Timestamp" in replay.json()["error"]
    stale = webhook_headers(secret, body, timestamp=str(int(time.time()) - 3600))
    assert httpx.post(url, content=body, headers=stale).status_code == 401


def test_a_non_ascii_webhook_signature_gets_the_answer_of_any_bad_one(
        vigie_sqlite: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """It was a 500 with a traceback: the comparison raised TypeError on a non-ASCII str."""
    url, secret = _webhook(vigie_sqlite)
    caplog.set_level(logging.ERROR)
    body = b"{}"
    good = webhook_headers(secret, body)
    bad = httpx.post(url, content=body, headers={**good, "X-Vigie-Signature": "sha256=" + "0" * 64})
    unknown = url.rsplit("/", 1)[0] + "/999999"
    for signature, target in itertools.product(("sha256=\xe9", "sha256=" + "\xe9" * 64),
                                               (url, unknown)):
        odd = httpx.post(target, content=body,
                         headers={**good, "X-Vigie-Signature": signature.encode("latin-1")})
        assert (odd.status_code, odd.json()) == (bad.status_code, bad.json()) == (
            401, {"error": "bad signature"})
    assert not caplog.records


def test_a_deeply_nested_signed_webhook_body_gets_400(vigie_sqlite: VigieApp) -> None:
    url, secret = _webhook(vigie_sqlite)
    body = b"[" * 100_000 + b"]" * 100_000
    answer = httpx.post(url, content=body, headers=webhook_headers(secret, body))
    assert answer.status_code == 400 and "nested" in answer.json()["error"]


@pytest.mark.parametrize("published_at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_a_pushed_date_past_the_calendar_in_utc_gets_400_naming_it(
        vigie: VigieApp, caplog: pytest.LogCaptureFixture, published_at: str) -> None:
    """Valid as written, out of range in UTC: it was a 500 with a traceback
    (OverflowError), refusing the whole batch, and senders retry a 5xx forever."""
    url, secret = _webhook(vigie)
    caplog.set_level(logging.ERROR)
    item = {"id": "1", "url": "https://forum.example/1", "text": "acme is broken",
            "author": {"handle": "ana"}, "published_at": "2026-11-20T10:00:00Z"}
    body = json.dumps([item, dict(item, id="2", published_at=published_at)]).encode()
    answer = httpx.post(url, content=body, headers=webhook_headers(secret, body))
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("item 1: published_at: out of range")
    assert not caplog.records


@pytest.mark.parametrize("source_id", ["2147483648", "999999999999"])
def test_an_id_past_the_id_column_gets_the_answer_of_any_unknown_one(
        vigie: VigieApp, caplog: pytest.LogCaptureFixture, source_id: str) -> None:
    """On PostgreSQL, an id past INTEGER's range was a 500 with a traceback (the database
    refused the id itself), where an unknown id gets 401."""
    caplog.set_level(logging.ERROR)
    body = b'{"id": "1"}'
    headers = webhook_headers("x" * 32, body)
    unknown = httpx.post(f"{vigie.url}/ingest/2147483647", content=body, headers=headers)
    past = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body, headers=headers)
    assert (past.status_code, past.json()) == (unknown.status_code, unknown.json()) == (
        401, {"error": "bad signature"})
    assert not caplog.records
