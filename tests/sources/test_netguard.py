"""SSRF guard: untrusted URLs may not reach internal addresses, even through redirects."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer

from bot.net.errors import SourceConfigError, SourceError
from bot.net.http import HttpClient, HttpLimits
from bot.net.netguard import BlockedAddressError, blocked_reason, validate_public_url

from .conftest import SleepRecorder


def fake_resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    """A resolver answering from ``table`` and recording every lookup."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise SourceError(f"could not resolve host {host}")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.fixture
def untrusted(sleeps: SleepRecorder) -> Iterator[HttpClient]:
    """A client in untrusted mode with no allowlist."""
    client = HttpClient(untrusted=True, limits=HttpLimits(max_attempts=1), sleep=sleeps)
    yield client
    client.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/", "a loopback address"),
        ("http://10.0.0.1/", "a private address"),
        ("http://192.168.1.10/", "a private address"),
        ("http://172.16.5.4/", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://169.254.10.1/", "a link-local address"),
        ("http://100.64.0.1/", "a carrier-grade NAT address"),
        ("http://0.0.0.0:{port}/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://[::1]:{port}/", "a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/", "a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
        ("http://[fd00:ec2::254]/", "a cloud metadata address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://localhost:{port}/", "a loopback address"),
    ],
)
def test_internal_targets_are_refused(
    httpserver: HTTPServer, untrusted: HttpClient, url: str, reason: str
) -> None:
    httpserver.expect_request("/").respond_with_data("internal secret")
    with pytest.raises(BlockedAddressError) as caught:
        untrusted.get(url.format(port=httpserver.port))
    assert reason in str(caught.value)
    assert "an admin can allow this host" in str(caught.value)
    assert len(httpserver.log) == 0  # nothing reached the server


def test_redirect_from_an_allowed_host_to_loopback_is_refused(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    internal = httpserver.url_for("/secret").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": internal}
    )
    httpserver.expect_request("/secret").respond_with_data("internal secret")
    with (
        HttpClient(untrusted=True, allow_hosts=["localhost"], sleep=sleeps) as client,
        pytest.raises(BlockedAddressError, match="a loopback address"),
    ):
        client.get(httpserver.url_for("/start"))
    assert [entry[0].path for entry in httpserver.log] == ["/start"]


def test_allowlisted_host_bypasses_the_guard(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    httpserver.expect_request("/feed").respond_with_data("intranet feed")
    with HttpClient(untrusted=True, allow_hosts=["LOCALHOST."], sleep=sleeps) as client:
        assert client.get(httpserver.url_for("/feed")).content == b"intranet feed"


def test_allowlisted_network_connects_to_the_vetted_address_keeping_the_host_name(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    # "feeds.example" does not exist in real DNS: the request can only succeed if the
    # socket goes to the address our resolver vetted, with no second lookup.
    resolver = fake_resolver({"feeds.example": ["127.0.0.1"]})
    httpserver.expect_request("/feed").respond_with_data("ok")
    with HttpClient(
        untrusted=True, allow_hosts=["127.0.0.0/8"], resolver=resolver, sleep=sleeps
    ) as client:
        response = client.get(f"http://feeds.example:{httpserver.port}/feed")
    assert response.content == b"ok"
    assert httpserver.log[0][0].headers["Host"] == f"feeds.example:{httpserver.port}"
    assert resolver.calls == ["feeds.example"]  # type: ignore[attr-defined]


def test_a_name_resolving_to_a_metadata_address_is_refused(sleeps: SleepRecorder) -> None:
    resolver = fake_resolver({"evil.example": ["169.254.169.254"]})
    with (
        HttpClient(untrusted=True, resolver=resolver, sleep=sleeps) as client,
        pytest.raises(BlockedAddressError, match="cloud metadata"),
    ):
        client.get("http://evil.example/latest/meta-data/")


def test_mixed_public_and_private_answers_are_refused(sleeps: SleepRecorder) -> None:
    resolver = fake_resolver({"mixed.example": ["93.184.216.34", "10.1.2.3"]})
    with (
        HttpClient(untrusted=True, resolver=resolver, sleep=sleeps) as client,
        pytest.raises(BlockedAddressError, match=r"a private address \(10\.1\.2\.3\)"),
    ):
        client.get("http://mixed.example/feed")


def test_unresolvable_host_is_a_plain_error(sleeps: SleepRecorder) -> None:
    with (
        HttpClient(untrusted=True, resolver=fake_resolver({}), sleep=sleeps) as client,
        pytest.raises(SourceError, match=r"could not resolve host nowhere\.example"),
    ):
        client.get("http://nowhere.example/")


def test_trusted_client_reaches_loopback(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/").respond_with_data("ok")
    assert http.get(httpserver.url_for("/")).content == b"ok"


# ------------------------------------------------------------------ address rules


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4007:80e::200e"],
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.2",
        "10.255.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "100.100.100.200",
        "100.127.255.254",
        "0.0.0.0",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.1",
        "198.18.0.1",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::abcd",
        "ff02::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::1",
    ],
)
def test_internal_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


# ------------------------------------------------------------- validate_public_url


def test_validate_public_url_accepts_public_addresses() -> None:
    resolver = fake_resolver({"news.example.com": ["93.184.216.34"]})
    url = "https://news.example.com/feed.xml"
    assert validate_public_url(url, resolver=resolver) == url
    assert validate_public_url("<https://93.184.216.34/rss|feed>") == "https://93.184.216.34/rss"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/feed", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("https://user:pw@example.com/", "must not contain a user name or password"),
        ("https:///nohost", "has no host name"),
        ("http://example.com:99999/", "invalid port"),
        ("http://127.0.0.1/feed", "a loopback address"),
        ("http://localhost/feed", "a loopback address"),
        ("http://[::1]/feed", "a loopback address"),
        ("http://169.254.169.254/", "a cloud metadata address"),
        ("http://10.0.0.1/", "a private address"),
    ],
)
def test_validate_public_url_refuses(url: str, message: str) -> None:
    with pytest.raises(SourceConfigError, match=message.replace(".", r"\.")):
        validate_public_url(url)


def test_validate_public_url_allowlist() -> None:
    assert validate_public_url("http://localhost:8080/feed", ["localhost"])
    resolver = fake_resolver({"wiki.corp.example": ["10.0.0.5"]})
    assert validate_public_url(
        "https://wiki.corp.example/rss", ["*.corp.example"], resolver=resolver
    )
    assert validate_public_url("https://wiki.corp.example/rss", ["10.0.0.0/8"], resolver=resolver)
    with pytest.raises(SourceConfigError):
        validate_public_url("https://wiki.corp.example/rss", ["corp.example"], resolver=resolver)
