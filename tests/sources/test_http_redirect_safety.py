"""Redirects never carry a request's secrets somewhere they were not meant for: a body is
not re-sent to another site (307/308), and credentials never follow https to http."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from bot.net.errors import SourceError
from bot.net.http import HttpClient, HttpLimits

LOGIN = {"identifier": "acme.bsky.social", "password": "app-pass-1234"}
REPO_ROOT = Path(__file__).resolve().parents[2]
HTTPS_CHILD = Path(__file__).with_name("https_child.py")
"""Sends the HTTPS tests' requests: see its docstring for why in a child process."""


@pytest.fixture(scope="module")
def other_server() -> Iterator[HTTPServer]:
    """A second local server: the other site a redirect points to."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def other(other_server: HTTPServer) -> Iterator[HTTPServer]:
    """The second server, with no routes or log left from another test."""
    yield other_server
    other_server.clear()


def _self_signed(folder: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, pem


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HTTPServer, Path]]:
    """A local HTTPS server with a self-signed certificate, and that certificate's file."""
    cert_file, key_file, _pem = _self_signed(tmp_path_factory.mktemp("tls"))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    server = HTTPServer(host="localhost", port=0, ssl_context=server_context)
    server.start()
    yield server, cert_file
    server.stop()


@pytest.fixture
def tls(tls_server: tuple[HTTPServer, Path]) -> Iterator[HTTPServer]:
    """The HTTPS server, with no routes or log left from another test."""
    server, _cert_file = tls_server
    yield server
    server.clear()


@dataclass(frozen=True)
class Outcome:
    """What a request sent by ``https_child.py`` got: a response, or a SourceError."""

    status: int | None = None
    content: str = ""
    error: str | None = None
    message: str = ""


def _in_child(request: dict[str, Any], cert_file: Path | None) -> Outcome:
    """Send ``request`` with Vigie's HttpClient in a child process that trusts ``cert_file``
    (through ``SSL_CERT_FILE``, which httpx honours) and nothing else; with None, the
    default CA bundle."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR") and not k.lower().endswith("_proxy")}
    env.update(PYTHONPATH=str(REPO_ROOT), VIGIE_LOG_LEVEL="WARNING")
    if cert_file is not None:
        env["SSL_CERT_FILE"] = str(cert_file)
    done = subprocess.run([sys.executable, str(HTTPS_CHILD), json.dumps(request)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return Outcome(**json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def over_https(tls_server: tuple[HTTPServer, Path]) -> Callable[..., Outcome]:
    """Send a request with a client that trusts the local HTTPS server's certificate."""
    _server, cert_file = tls_server

    def send(method: str, url: str, *, headers: dict[str, str] | None = None,
             json_body: Any = None) -> Outcome:
        return _in_child({"method": method, "url": url, "headers": headers, "json": json_body},
                         cert_file)

    return send


def _client() -> HttpClient:
    return HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10))


@pytest.fixture
def client() -> Iterator[HttpClient]:
    """A trusted client."""
    with _client() as http:
        yield http


# ------------------------------------------------------------- bodies and other sites


@pytest.mark.parametrize("status", [307, 308])
def test_a_login_body_is_not_resent_to_another_site(
    httpserver: HTTPServer, other: HTTPServer, client: HttpClient, status: int
) -> None:
    httpserver.expect_request("/xrpc/login", method="POST").respond_with_data(
        "", status=status, headers={"Location": other.url_for("/steal")}
    )
    other.expect_request("/steal").respond_with_json({})
    with pytest.raises(SourceError, match=r"redirected a request with a body to another site"):
        client.post(httpserver.url_for("/xrpc/login"), json=LOGIN)
    assert other.log == []


def test_a_form_body_is_not_resent_to_another_site(
    httpserver: HTTPServer, other: HTTPServer, client: HttpClient
) -> None:
    httpserver.expect_request("/token", method="POST").respond_with_data(
        "", status=307, headers={"Location": other.url_for("/token")}
    )
    with pytest.raises(SourceError, match=r"\(127\.0\.0\.1\); Vigie does not send it there"):
        client.post(httpserver.url_for("/token"), data={"password": "hunter2"})
    assert other.log == []


def test_a_body_follows_a_307_on_the_same_site(httpserver: HTTPServer, client: HttpClient) -> None:
    httpserver.expect_request("/old", method="POST").respond_with_data(
        "", status=307, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new", method="POST", json=LOGIN).respond_with_json({"ok": 1})
    assert client.post(httpserver.url_for("/old"), json=LOGIN).json() == {"ok": 1}


def test_a_303_to_another_site_drops_the_body_and_is_followed(
    httpserver: HTTPServer, other: HTTPServer, client: HttpClient
) -> None:
    httpserver.expect_request("/login", method="POST").respond_with_data(
        "", status=303, headers={"Location": other.url_for("/done")}
    )
    other.expect_request("/done", method="GET").respond_with_data("done")
    assert client.post(httpserver.url_for("/login"), json=LOGIN).content == b"done"
    ((request, _),) = other.log
    assert request.get_data() == b""


# ------------------------------------------------------------------- https to http


def test_the_https_server_is_trusted_only_through_its_certificate(tls: HTTPServer) -> None:
    """The TLS is real: without its certificate authority the client refuses the server."""
    tls.expect_request("/feed").respond_with_data("<rss/>")
    outcome = _in_child({"method": "GET", "url": tls.url_for("/feed")}, None)
    assert outcome.error is not None and outcome.status is None
    assert tls.log == []


def test_credentials_never_follow_https_to_http(
    tls: HTTPServer, other: HTTPServer, over_https: Callable[..., Outcome]
) -> None:
    tls.expect_request("/api").respond_with_data(
        "", status=302, headers={"Location": other.url_for("/api")}
    )
    outcome = over_https("GET", tls.url_for("/api"), headers={"Authorization": "Bearer secret"})
    assert outcome.error == "SourceError", outcome
    assert re.search(r"unencrypted address \(http://127\.0\.0\.1\)", outcome.message)
    assert len(tls.log) == 1 and other.log == []


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_login_never_follows_https_to_http(
    tls: HTTPServer, other: HTTPServer, over_https: Callable[..., Outcome], status: int
) -> None:
    tls.expect_request("/login", method="POST").respond_with_data(
        "", status=status, headers={"Location": other.url_for("/login")}
    )
    outcome = over_https("POST", tls.url_for("/login"), json_body=LOGIN)
    assert outcome.error == "SourceError", outcome
    assert "does not follow it with credentials" in outcome.message
    assert len(tls.log) == 1 and other.log == []


def test_a_public_fetch_may_follow_https_to_http(
    tls: HTTPServer, other: HTTPServer, over_https: Callable[..., Outcome]
) -> None:
    tls.expect_request("/feed").respond_with_data(
        "", status=301, headers={"Location": other.url_for("/feed")}
    )
    other.expect_request("/feed").respond_with_data("<rss/>")
    assert over_https("GET", tls.url_for("/feed")) == Outcome(status=200, content="<rss/>")
    assert tls.log and len(other.log) == 1


def test_credentials_follow_https_redirects_on_the_same_site(
    tls: HTTPServer, over_https: Callable[..., Outcome]
) -> None:
    tls.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    tls.expect_request("/b", headers={"Authorization": "Bearer secret"}).respond_with_data("ok")
    outcome = over_https("GET", tls.url_for("/a"), headers={"Authorization": "Bearer secret"})
    assert outcome == Outcome(status=200, content="ok")
