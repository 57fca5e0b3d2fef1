"""The shared HTTP layer sources and publishers fetch through (implements ``Fetcher``).

One place enforces DESIGN.md "Reliability rules" for all networks: timeouts (connect,
read and a total deadline per attempt), a response size cap that also bounds the
*decompressed* size (a gzip bomb stops at the cap), a redirect cap with loop detection,
conditional GET (ETag / Last-Modified kept in the source's cursor), retries with
``Retry-After`` or exponential backoff and jitter on 429/5xx, an honest User-Agent,
and, for URLs that came through Slack, the SSRF guard of :mod:`bot.net.netguard`.

The total deadline is enforced from outside the read loop: a watchdog timer shuts down
the attempt's sockets when it passes, so a server that trickles its headers (or its TLS
handshake, or its body) one byte at a time cannot hold a worker past the deadline; httpx's
own timeouts are per operation and never fire while bytes keep arriving. An attempt whose
sockets were shut down under it fails even when what it read looks complete (a body that
ends at connection close). A client may also be given an overall budget
(:meth:`HttpClient.set_budget`) that bounds every attempt, retry and pause of one fetch.

Errors are always the ``SourceError`` family with a short message that names the host
but never a full URL, header or token.
"""

from __future__ import annotations

import contextlib
import functools
import json as jsonlib
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from bot.net.errors import SourceAuthError, SourceConfigError, SourceError, SourceRateLimited
from bot.net.fetcher import Fetcher, Validators
from bot.net.netguard import (
    AddressPolicy,
    BlockedAddressError,
    GuardedBackend,
    Resolver,
    system_resolver,
    validate_public_url,
)
from bot.net.retry import (
    call_with_retries,
    equal_jitter,
    exponential,
    parse_retry_after,
    retry_delay,
)

__all__ = [
    "USER_AGENT",
    "BlockedAddressError",
    "HttpAuthError",
    "HttpClient",
    "HttpLimits",
    "HttpStatusError",
    "Response",
    "validate_public_url",
]

log = logging.getLogger(__name__)

ETAG_KEY = "etag"
LAST_MODIFIED_KEY = "last_modified"
"""Cursor keys where conditional-GET validators are stored."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRYABLE = frozenset({429, 500, 502, 503, 504})
_RETRYABLE_POST = frozenset({429})
"""A POST may have been processed by a failing server: retry only when it says it was not.
A 429 is a refusal (nothing done). A 503 is not: an overloaded front may answer it after the
write went through (X documents 503 as "X is overloaded; wait and retry",
https://docs.x.com/x-api/fundamentals/response-codes-and-errors, and says nothing of the
write), so only a POST its caller declares ``idempotent`` is retried on one."""
_RETRYABLE_IDEMPOTENT_POST = frozenset({429, 503})
_ERROR_BODY_LIMIT = 64 * 1024
_SERVER_MESSAGE_LIMIT = 200
_DEADLINE_SLACK = 0.02
_DROP_ON_CROSS_ORIGIN = ("authorization", "cookie", "proxy-authorization")


def _version() -> str:
    try:
        return metadata.version("vigie-cm")
    except metadata.PackageNotFoundError:
        return "0"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process: loading the CA bundle is slow (tens of ms)."""
    return httpx.create_ssl_context()


USER_AGENT = f"Vigie/{_version()} (+https://github.com/vigie-cm/vigie)"


class HttpStatusError(SourceError):
    """The server answered with an error status; carries it for sources that care."""

    def __init__(self, message: str, status_code: int, error_code: str | None = None, *,
                 key: str | None = None, params: Mapping[str, str | int] | None = None
                 ) -> None:
        """Keep the HTTP status and the server's short error code (e.g. ``ExpiredToken``)."""
        super().__init__(message, key=key, params=params)
        self.status_code = status_code
        self.error_code = error_code


class HttpAuthError(SourceAuthError):
    """401/403: the server refused our credentials (or requires some)."""

    def __init__(self, message: str, status_code: int, error_code: str | None = None, *,
                 key: str | None = None, params: Mapping[str, str | int] | None = None
                 ) -> None:
        """Keep the HTTP status and the server's short error code."""
        super().__init__(message, key=key, params=params)
        self.status_code = status_code
        self.error_code = error_code


@dataclass(frozen=True)
class HttpLimits:
    """Bounds of one request; defaults suit a poll tick over many sources."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    """Deadline of one attempt: redirects, headers and body included."""
    max_bytes: int = 10 * 1024 * 1024
    """Largest body accepted, counted after decompression."""
    max_redirects: int = 5
    max_attempts: int = 3
    """Tries for 429/5xx and connection failures (1 = no retry)."""
    backoff_base: float = 1.0
    max_retry_wait: float = 30.0
    """Longest wait between tries; a longer Retry-After fails fast instead of blocking."""


@dataclass(slots=True)
class Response:
    """A fully read response (satisfies ``bot.net.fetcher.HttpResponse``)."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str

    def json(self) -> Any:
        """Decode the body as JSON, or raise a plain-words SourceError."""
        try:
            return jsonlib.loads(self.content)
        except (ValueError, UnicodeDecodeError) as err:
            host = _host_of(self.url)
            raise SourceError(f"{host} did not answer with valid JSON", key="not_json",
                              params={"host": host}) from err

    @property
    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 when none)."""
        charset = _charset(self.headers.get("content-type", "")) or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _host_of(url: str | httpx.URL) -> str:
    try:
        return httpx.URL(str(url)).host or "the server"
    except (httpx.InvalidURL, TypeError):
        return "the server"


def _fmt_seconds(value: float) -> str:
    return f"{value:g}s"


def _fmt_size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB"


def _server_message(body: bytes) -> tuple[str | None, str | None]:
    """(short human message, error code) from a JSON error body, when there is one.

    Besides the usual top-level fields, the first of an ``errors`` list (X's API v2 and
    v1.1: ``{"errors": [{"message": ..., "code": 453}]}``) gives its message, more
    precise than a generic ``detail`` beside it, and its code; a ``reason`` (X's
    ``client-not-enrolled``) is a code too. A code from ``errors`` is shown with the
    message. The message loses its final period: the reader's sentence adds one."""
    try:
        data = jsonlib.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(
        errors[0], dict) else {}
    listed_code = first.get("code")
    listed_code = (str(listed_code) if isinstance(listed_code, (int, str))
                   and not isinstance(listed_code, bool) and str(listed_code).strip() else None)
    code = next((value for value in (data.get("error"), listed_code, data.get("reason"))
                 if isinstance(value, str) and value.strip()), None)
    message = None
    for candidate in (data.get("error_description"), first.get("message"), data.get("message"),
                      data.get("detail"), data.get("title"), data.get("error")):
        if isinstance(candidate, str) and candidate.strip():
            message = candidate
            break
    if message is not None:
        message = " ".join(message.split())[:_SERVER_MESSAGE_LIMIT].rstrip(" .")
        message = "".join(ch for ch in message if ch.isprintable()) or None
    if message is not None and listed_code is not None and len(listed_code) <= 64:
        message = f"{message} (code {listed_code})"
    if code is not None and (len(code) > 64 or " " in code):
        code = None
    return message, code


class _BodyTooLarge(SourceError):
    pass


def _too_large(limit: int) -> _BodyTooLarge:
    size = _fmt_size(limit)
    return _BodyTooLarge(f"response larger than {size}", key="too_large", params={"size": size})


class _Decoder:
    """Incremental gzip/deflate decoder that never produces more than a budget."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._started = False
        self._inflater: Any = self._new_inflater()

    def _new_inflater(self) -> Any:
        if self._encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)

    def feed(self, data: bytes, budget: int) -> bytes:
        """Decompress ``data``; stops once the output exceeds ``budget`` bytes."""
        out = bytearray()
        try:
            while data and len(out) <= budget:
                data = self._step(data, budget - len(out) + 1, out)
        except zlib.error as err:
            raise SourceError("the server sent a corrupt compressed response",
                              key="corrupt_compression") from err
        return bytes(out)

    def _step(self, data: bytes, room: int, out: bytearray) -> bytes:
        try:
            piece = self._inflater.decompress(data, room)
        except zlib.error:
            if self._encoding == "deflate" and not self._started:
                # Some servers send raw deflate without the zlib header the RFC requires.
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                piece = self._inflater.decompress(data, room)
            else:
                raise
        self._started = True
        out += piece
        rest: bytes = self._inflater.unconsumed_tail
        if self._inflater.eof:
            rest = self._inflater.unused_data
            if rest and self._encoding == "gzip":
                self._inflater = self._new_inflater()  # next member of a multi-member gzip
            else:
                rest = b""
        return rest

    def flush(self) -> bytes:
        """Whatever the decompressor still holds."""
        try:
            return bytes(self._inflater.flush())
        except zlib.error as err:
            raise SourceError("the server sent a corrupt compressed response",
                              key="corrupt_compression") from err


class _TrackedStream(httpcore.NetworkStream):
    """A network stream its client can shut down from another thread (the watchdog)."""

    def __init__(self, inner: httpcore.NetworkStream, owner: _StreamRegistry) -> None:
        self._inner = inner
        self._owner = owner
        owner.add(self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Delegate to the wrapped stream."""
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Delegate to the wrapped stream."""
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        """Close the wrapped stream and forget it."""
        self._owner.discard(self)
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Upgrade to TLS; the TLS stream replaces this one in the registry."""
        upgraded = self._inner.start_tls(ssl_context, server_hostname, timeout)
        self._owner.discard(self)
        return _TrackedStream(upgraded, self._owner)

    def get_extra_info(self, info: str) -> Any:
        """Delegate to the wrapped stream."""
        return self._inner.get_extra_info(info)

    def shutdown(self) -> None:
        """Wake any thread blocked on this socket: reads see end-of-stream at once."""
        sock = self._inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            # The plain socket method: SSLSocket.shutdown would drop the TLS object
            # under a reader in another thread; a shutdown of the descriptor makes
            # that reader fail cleanly with an end-of-stream error. OSError: already
            # closed or never connected.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _StreamRegistry:
    """The open streams of one client, so a watchdog can shut them all down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: set[_TrackedStream] = set()

    def add(self, stream: _TrackedStream) -> None:
        """Remember an open stream."""
        with self._lock:
            self._streams.add(stream)

    def discard(self, stream: _TrackedStream) -> None:
        """Forget a closed stream."""
        with self._lock:
            self._streams.discard(stream)

    def shutdown_all(self) -> None:
        """Shut down every open stream (idle pooled ones are simply reopened later)."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.shutdown()


class _TrackingBackend(httpcore.NetworkBackend):
    """httpcore network backend that registers every stream it opens."""

    def __init__(self, inner: httpcore.NetworkBackend, registry: _StreamRegistry) -> None:
        self._inner = inner
        self._registry = registry

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect through the wrapped backend and track the stream."""
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _TrackedStream(stream, self._registry)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect through the wrapped backend and track the stream."""
        stream = self._inner.connect_unix_socket(path, timeout, socket_options)
        return _TrackedStream(stream, self._registry)

    def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        self._inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx transport whose connections are tracked (and guarded for untrusted URLs)."""

    def __init__(
        self, backend: httpcore.NetworkBackend, limits: httpx.Limits, *, trust_env: bool
    ) -> None:
        """Build the standard transport, then swap in a pool using ``backend``."""
        super().__init__(verify=_ssl_context(), limits=limits, trust_env=trust_env)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            # Refuse to run unguarded if a future httpx renames its pool attribute.
            raise RuntimeError("httpx internals changed: cannot install the SSRF guard")
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class _Alarm:
    """The watchdog of one attempt: shuts the client's sockets down at the deadline."""

    def __init__(self, seconds: float, registry: _StreamRegistry) -> None:
        self.fired = False
        self._registry = registry
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.name = "vigie-http-deadline"
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._registry.shutdown_all()

    def cancel(self) -> None:
        """Disarm (the attempt ended in time)."""
        self._timer.cancel()


class HttpClient:
    """Synchronous HTTP client for sources; use one per worker thread.

    ``untrusted=True`` turns on the SSRF guard (for URLs that came through Slack);
    ``allow_hosts`` lists admin exceptions (host names, ``*.domain``, IPs or CIDRs).
    ``sleep`` and ``now`` are injectable so tests never wait. Every attempt is bounded
    by ``limits.total_timeout`` from connect to last byte, enforced by a watchdog.
    """

    def __init__(
        self,
        *,
        limits: HttpLimits | None = None,
        untrusted: bool = False,
        allow_hosts: Sequence[str] = (),
        resolver: Resolver = system_resolver,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = USER_AGENT,
        max_connections: int = 20,
    ) -> None:
        """Create the underlying ``httpx.Client`` (redirects are followed by hand)."""
        self.limits = limits or HttpLimits()
        self._sleep = sleep
        self._now = now
        self._clock = clock
        self._budget_deadline: float | None = None
        self._budget = 0.0
        self._aborted = False
        self._streams = _StreamRegistry()
        pool_limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        backend: httpcore.NetworkBackend = httpcore.SyncBackend()
        if untrusted:
            backend = GuardedBackend(AddressPolicy(tuple(allow_hosts), resolver))
        transport = _Transport(
            _TrackingBackend(backend, self._streams), pool_limits, trust_env=not untrusted
        )
        self._client = httpx.Client(
            transport=transport,
            verify=_ssl_context(),
            limits=pool_limits,
            follow_redirects=False,
            trust_env=not untrusted,  # an env proxy would bypass the guard
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def set_budget(self, seconds: float) -> None:
        """Bound everything this client does from now on (attempts, retries, pauses).

        A poll gives each source's fetch a budget so one source, however many requests
        it makes, cannot hold a worker for longer.
        """
        self._budget = seconds
        self._budget_deadline = self._clock() + seconds

    def abort(self) -> None:
        """Shut down this client's connections now (from any thread); requests in flight fail."""
        self._aborted = True
        self._budget_deadline = self._clock()
        self._streams.shutdown_all()

    def __enter__(self) -> HttpClient:
        """Use as a context manager."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close on exit."""
        self.close()

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        cursor: Validators | None = None,
    ) -> Response:
        """GET ``url``; with ``cursor`` send and update ETag/Last-Modified validators.

        A 304 is returned as is (empty body). Errors raise the SourceError family.
        """
        request_headers = dict(headers or {})
        if cursor is not None:
            if cursor.get(ETAG_KEY):
                request_headers["If-None-Match"] = str(cursor[ETAG_KEY])
            if cursor.get(LAST_MODIFIED_KEY):
                request_headers["If-Modified-Since"] = str(cursor[LAST_MODIFIED_KEY])
        response = self._request("GET", url, params=params, headers=request_headers)
        if cursor is not None and response.status_code == 200:
            _store_validators(cursor, response.headers)
        return response

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = False,
    ) -> Response:
        """POST a JSON or form body (authentication handshakes, replies).

        A POST is retried only where the server said it did nothing (429, a connection
        that failed before the request was sent). ``idempotent`` (a sign-in, a write the
        network deduplicates by key) retries a 503 as well: a repeat cannot post twice.
        """
        return self._request("POST", url, headers=dict(headers or {}), json=json, data=data,
                             idempotent=idempotent)

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str],
        json: Any = None,
        data: dict[str, str] | None = None,
        idempotent: bool = False,
    ) -> Response:
        try:
            start = httpx.URL(url, params=params) if params else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as err:
            raise SourceConfigError("the URL is not valid") from err
        try:
            return call_with_retries(
                lambda: self._attempt(method, start, headers, json, data),
                attempts=self.limits.max_attempts,
                retry_if=lambda err: self._may_retry(method, err, idempotent=idempotent),
                wait=self._retry_wait,
                before_sleep=lambda err, _attempt, seconds: self._pause(start, seconds, err),
                sleep=self._sleep,
            )
        except _Retryable as err:
            raise _final_error(err.response, self._now()) from None
        except _TransientNetworkError as err:
            raise err.error from None

    def _may_retry(self, method: str, err: BaseException, *, idempotent: bool = False) -> bool:
        """Whether a failed attempt may be tried again (attempts left aside)."""
        if isinstance(err, _Retryable):
            allowed = _RETRYABLE_IDEMPOTENT_POST if idempotent else _RETRYABLE_POST
            if method == "POST" and err.response.status_code not in allowed:
                return False
            # A long Retry-After fails fast: the scheduler backs off the source instead
            # of a worker blocking on it.
            return err.retry_after is None or err.retry_after <= self.limits.max_retry_wait
        if isinstance(err, _TransientNetworkError):
            return not (method == "POST" and err.maybe_sent)
        return False

    def _retry_wait(self, err: BaseException, attempt: int) -> float:
        """Seconds to wait after failed ``attempt``: what the server asked, else backoff."""
        asked = err.retry_after if isinstance(err, _Retryable) else None
        return retry_delay(self._backoff(attempt), asked)

    def _pause(self, url: httpx.URL, seconds: float, err: BaseException) -> None:
        if self._budget_deadline is not None and self._clock() + seconds > self._budget_deadline:
            raise self._budget_error()
        reason = err.reason if isinstance(err, _Retryable) else "connection failure"
        log.info("retrying %s in %.1fs after %s", url.host, seconds, reason)

    def _backoff(self, attempt: int) -> float:
        ceiling = exponential(
            attempt - 1, base=self.limits.backoff_base, cap=self.limits.max_retry_wait
        )
        return equal_jitter(ceiling)  # jitter spreads retries of many workers

    def _attempt(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        json: Any,
        data: dict[str, str] | None,
    ) -> Response:
        total = self.limits.total_timeout
        if self._budget_deadline is not None:
            left = self._budget_deadline - self._clock()
            if left <= 0:
                raise self._budget_error()
            total = min(total, left)
        deadline = self._clock() + total
        alarm = _Alarm(total, self._streams)
        try:
            response = self._follow(method, url, headers, json, data, deadline)
        except (SourceError, _TransientNetworkError, _Retryable):
            if not self._cut_off(alarm):
                raise
            raise self._deadline_error(total) from None
        finally:
            alarm.cancel()
        if self._cut_off(alarm):
            # A body that ends at connection close reads as complete when we shut the
            # socket under it: what was read is only the part that came in time.
            raise self._deadline_error(total)
        return response

    def _cut_off(self, alarm: _Alarm) -> bool:
        """Whether this client shut the attempt's sockets (watchdog or abort): whatever
        ended then was cut off, however complete it looks."""
        return alarm.fired or self._aborted

    def _deadline_error(self, total: float) -> SourceError:
        """The error of an attempt cut off at its deadline of ``total`` seconds."""
        if self._aborted or total < self.limits.total_timeout:
            return self._budget_error()
        return self._timed_out()

    def _timed_out(self) -> SourceError:
        seconds = _fmt_seconds(self.limits.total_timeout)
        return SourceError(f"timed out after {seconds}", key="timed_out",
                           params={"seconds": seconds})

    def _budget_error(self) -> SourceError:
        if self._aborted:
            return SourceError("fetch abandoned: it took longer than its time budget",
                               key="budget_abandoned")
        seconds = _fmt_seconds(self._budget)
        return SourceError(f"gave up after {seconds} (time budget of a fetch)",
                           key="budget_spent", params={"seconds": seconds})

    def _follow(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        json: Any,
        data: dict[str, str] | None,
        deadline: float,
    ) -> Response:
        seen = {str(url)}
        # A login body (handle and password) is as secret as an Authorization header.
        sensitive = (json is not None or data is not None) or any(
            k.lower() in _DROP_ON_CROSS_ORIGIN for k in headers
        )
        for hop in range(self.limits.max_redirects + 1):
            raw = self._send(method, url, headers, json, data, deadline)
            with _Closing(raw):
                if raw.status_code not in _REDIRECTS or "location" not in raw.headers:
                    return self._finish(raw, url, deadline)
                target = self._redirect_target(url, raw.headers["location"], seen, hop)
            if raw.status_code == 303 or (raw.status_code in {301, 302} and method == "POST"):
                method, json, data = "GET", None, None
            if sensitive and url.scheme == "https" and target.scheme != "https":
                raise SourceError(
                    f"{url.host} redirected to an unencrypted address (http://{target.host}); "
                    "Vigie does not follow it with credentials"
                )
            if (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port):
                if json is not None or data is not None:
                    # 307/308 keep the body: it would go to a site it was not meant for.
                    raise SourceError(
                        f"{url.host} redirected a request with a body to another site "
                        f"({target.host}); Vigie does not send it there: use that address "
                        "directly if it is the right one"
                    )
                headers = {
                    k: v for k, v in headers.items() if k.lower() not in _DROP_ON_CROSS_ORIGIN
                }
            url = target
        raise AssertionError("unreachable")  # pragma: no cover

    def _redirect_target(
        self, url: httpx.URL, location: str, seen: set[str], hop: int
    ) -> httpx.URL:
        if hop >= self.limits.max_redirects:
            raise SourceError(
                f"too many redirects from {url.host} (more than {self.limits.max_redirects})",
                key="too_many_redirects",
                params={"host": url.host, "max": self.limits.max_redirects},
            )
        try:
            target = url.join(location.strip())
        except (httpx.InvalidURL, ValueError) as err:
            raise SourceError(f"{url.host} sent an invalid redirect", key="bad_redirect",
                              params={"host": url.host}) from err
        if target.scheme not in {"http", "https"}:
            raise SourceError(f"{url.host} redirected to an unsupported address",
                              key="bad_redirect", params={"host": url.host})
        if str(target) in seen:
            raise SourceError(f"redirect loop at {target.host}", key="redirect_loop",
                              params={"host": target.host})
        seen.add(str(target))
        return target

    def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        json: Any,
        data: dict[str, str] | None,
        deadline: float,
    ) -> httpx.Response:
        if url.scheme not in {"http", "https"}:
            raise SourceConfigError("only http:// and https:// URLs can be fetched")
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise self._timed_out()
        timeout = httpx.Timeout(
            connect=min(self.limits.connect_timeout, remaining),
            read=min(self.limits.read_timeout, remaining),
            write=min(self.limits.read_timeout, remaining),
            pool=min(self.limits.connect_timeout, remaining),
        )
        request = self._client.build_request(
            method, url, headers=headers, json=json, data=data, timeout=timeout
        )
        try:
            return self._client.send(request, stream=True)
        except httpx.TimeoutException as err:
            raise self._timeout_error(err, url, deadline) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as err:
            sent = not isinstance(err, httpx.ConnectError)
            raise _TransientNetworkError(_network_error(err, url), maybe_sent=sent) from None
        except httpx.UnsupportedProtocol as err:
            raise SourceConfigError("only http:// and https:// URLs can be fetched") from err
        except httpx.HTTPError as err:
            raise _network_error(err, url) from None

    def _timeout_error(
        self, err: httpx.TimeoutException, url: httpx.URL, deadline: float
    ) -> SourceError:
        if self._clock() >= deadline - _DEADLINE_SLACK:
            # The per-operation timeout was shortened to fit the total deadline.
            return self._timed_out()
        if isinstance(err, httpx.ConnectTimeout | httpx.PoolTimeout):
            seconds = _fmt_seconds(self.limits.connect_timeout)
            return SourceError(f"timed out after {seconds} connecting to {url.host}",
                               key="timed_out_connecting",
                               params={"seconds": seconds, "host": url.host})
        seconds = _fmt_seconds(self.limits.read_timeout)
        return SourceError(f"timed out after {seconds} waiting for {url.host}",
                           key="timed_out_waiting", params={"seconds": seconds, "host": url.host})

    def _finish(self, raw: httpx.Response, url: httpx.URL, deadline: float) -> Response:
        status = raw.status_code
        if status == 304:
            return Response(304, raw.headers, b"", str(url))
        if status < 400:
            body = self._read_body(raw, url, deadline, self.limits.max_bytes)
            return Response(status, raw.headers, body, str(url))
        try:
            body = self._read_body(raw, url, deadline, _ERROR_BODY_LIMIT)
        except SourceError:
            body = b""
        response = Response(status, raw.headers, body, str(url))
        if status in _RETRYABLE:
            hint = parse_retry_after(response.headers, self._now())
            raise _Retryable(response, f"HTTP {status}", hint)
        raise _status_error(response)

    def _read_body(self, raw: httpx.Response, url: httpx.URL, deadline: float, limit: int) -> bytes:
        encoding = raw.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in {"", "identity", "gzip", "x-gzip", "deflate"}:
            raise SourceError(f"{url.host} used an unsupported compression ({encoding[:20]})",
                              key="unsupported_compression",
                              params={"host": url.host, "encoding": encoding[:20]})
        decoder = (
            _Decoder("gzip" if encoding == "x-gzip" else encoding)
            if encoding in {"gzip", "x-gzip", "deflate"}
            else None
        )
        declared = raw.headers.get("content-length", "")
        if decoder is None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        body = bytearray()
        for chunk in self._iter_raw(raw, url, deadline):
            if self._clock() > deadline:
                raise self._timed_out()
            body += decoder.feed(chunk, limit - len(body)) if decoder else chunk
            if len(body) > limit:
                raise _too_large(limit)
        if decoder is not None:
            body += decoder.flush()
            if len(body) > limit:
                raise _too_large(limit)
        return bytes(body)

    def _iter_raw(self, raw: httpx.Response, url: httpx.URL, deadline: float) -> Iterator[bytes]:
        try:
            yield from raw.iter_raw()
        except httpx.TimeoutException as err:
            raise self._timeout_error(err, url, deadline) from None
        except httpx.HTTPError as err:
            raise _network_error(err, url) from None


class _Retryable(Exception):
    def __init__(self, response: Response, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.response = response
        self.reason = reason
        self.retry_after = retry_after


class _TransientNetworkError(Exception):
    def __init__(self, error: SourceError, *, maybe_sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.maybe_sent = maybe_sent


class _Closing:
    """Close a streamed httpx response on exit (``contextlib.closing`` wants ``close``)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    def __enter__(self) -> httpx.Response:
        return self._response

    def __exit__(self, *exc: object) -> None:
        self._response.close()


def _network_error(err: httpx.HTTPError, url: httpx.URL) -> SourceError:
    if isinstance(err, httpx.ConnectError):
        return SourceError(f"could not connect to {url.host}", key="connect",
                           params={"host": url.host})
    return SourceError(f"network error while talking to {url.host}", key="network",
                       params={"host": url.host})


def _status_error(response: Response) -> SourceError:
    status = response.status_code
    host = _host_of(response.url)
    message, code = _server_message(response.content)
    suffix = f": {message}" if message else ""
    # The server's own message stays as it wrote it: only our words are translated.
    params: dict[str, str | int] = {"host": host, "status": status, "detail": suffix}
    if status in {401, 403}:
        return HttpAuthError(f"{host} refused access (HTTP {status}){suffix}", status, code,
                             key="http_refused", params=params)
    if status in {404, 410}:
        return HttpStatusError(
            f"nothing found at this address on {host} (HTTP {status})", status, code,
            key="http_not_found", params=params,
        )
    return HttpStatusError(f"{host} answered HTTP {status}{suffix}", status, code,
                           key="http_status", params=params)


def _final_error(response: Response, now: float) -> SourceError:
    host = _host_of(response.url)
    if response.status_code == 429:
        retry_after = parse_retry_after(response.headers, now)
        if retry_after is None:
            return SourceRateLimited(f"rate limited by {host}", None, key="rate_limited",
                                     params={"host": host})
        return SourceRateLimited(f"rate limited by {host}; retry after {retry_after:.0f}s",
                                 retry_after, key="rate_limited_retry",
                                 params={"host": host, "seconds": f"{retry_after:.0f}s"})
    _, code = _server_message(response.content)
    return HttpStatusError(
        f"{host} had a server error (HTTP {response.status_code})", response.status_code, code,
        key="http_server_error", params={"host": host, "status": response.status_code},
    )


def _store_validators(cursor: Validators, headers: httpx.Headers) -> None:
    """Remember the validators of a 200 so the next GET can be conditional."""
    for key, header in ((ETAG_KEY, "etag"), (LAST_MODIFIED_KEY, "last-modified")):
        value = headers.get(header)
        if value:
            cursor[key] = value
        else:
            cursor.pop(key, None)


if TYPE_CHECKING:  # mypy proves HttpClient satisfies the Fetcher protocol sources use

    def _conforms(client: HttpClient) -> Fetcher:
        return client
