"""Where a fetch may connect: the SSRF guard for URLs that came through Slack.

DESIGN.md "Security rules": source URLs given through Slack may not target loopback,
private, link-local or metadata addresses, checked after DNS resolution and on every
redirect. The check lives in :class:`GuardedBackend`, the network backend of the HTTP
transport, so it runs at the moment each TCP connection is opened (every redirect hop
to a new origin opens a new connection) and the socket goes to the very address that
was vetted: there is no second DNS lookup an attacker could rebind. TLS still uses the
URL's host name for SNI and certificate checks, because httpcore passes the origin host
to ``start_tls`` independently of the address we connect to.

Known limit: ``socket.getaddrinfo`` has no timeout of its own; a very slow resolver
delays a fetch beyond its connect timeout.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore

from bot.net.errors import SourceConfigError, SourceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
"""``resolver(host, port) -> [ip, ...]``; injectable so tests never touch real DNS."""

_METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6 metadata
    }
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_MAX_ADDRESSES_TRIED = 2


class BlockedAddressError(SourceError):
    """A URL resolves to an address the guard refuses (loopback, private, metadata...)."""


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver; every address, in preference order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise _unresolved(host) from err
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


BLOCKED_REASONS = {
    "metadata": "a cloud metadata address",
    "unspecified": "an unspecified address",
    "loopback": "a loopback address",
    "link_local": "a link-local address",
    "multicast": "a multicast address",
    "cgnat": "a carrier-grade NAT address",
    "private": "a private address",
    "reserved": "a reserved address",
    "non_public": "a non-public address",
}
"""Why an address is refused, by code (``source_error.blocked.CODE`` words it for readers)."""


def blocked_code(ip: IPAddress) -> str | None:
    """The code (a key of BLOCKED_REASONS) of why ``ip`` may not be fetched from an
    untrusted URL, or None when it is public."""
    if ip in _METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return blocked_code(inner)
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link_local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "cgnat"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "non_public"),
    )
    for matched, code in checks:
        if matched:
            return code
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be fetched from an untrusted URL, or None when it is public."""
    code = blocked_code(ip)
    return BLOCKED_REASONS[code] if code else None


def _unresolved(host: str) -> SourceError:
    return SourceError(f"could not resolve host {host}", key="unresolved_host",
                       params={"host": host})


def _normalize_host(host: str) -> str:
    """Lower-case, IDNA-encoded host without brackets or trailing dot."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@dataclass(frozen=True)
class AddressPolicy:
    """Which hosts and addresses an untrusted fetch may reach.

    ``allow`` holds admin-configured exceptions: exact host names, ``*.domain``
    wildcards, IP addresses or CIDR networks (e.g. an intranet feed server).
    """

    allow: Sequence[str] = ()
    resolver: Resolver = system_resolver
    _hosts: frozenset[str] = field(init=False, repr=False)
    _suffixes: tuple[str, ...] = field(init=False, repr=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Split the allowlist into host names, wildcard suffixes and networks."""
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in self.allow:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                suffixes.append("." + _normalize_host(entry[2:]))
            else:
                hosts.add(_normalize_host(entry))
        object.__setattr__(self, "_hosts", frozenset(hosts))
        object.__setattr__(self, "_suffixes", tuple(suffixes))
        object.__setattr__(self, "_networks", tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """True when the admin allowlist names ``host`` (exactly or by wildcard)."""
        name = _normalize_host(host)
        return name in self._hosts or any(name.endswith(s) for s in self._suffixes)

    def address_allowed(self, ip: IPAddress) -> bool:
        """True when ``ip`` is public or inside an allowlisted network."""
        return blocked_reason(ip) is None or any(ip in net for net in self._networks)

    def vet(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses, refusing if any one is not allowed.

        Refusing on any bad address (rather than filtering) defeats DNS answers that
        mix a public address with an internal one.
        """
        name = _normalize_host(host)
        try:
            literal: IPAddress | None = ipaddress.ip_address(name)
        except ValueError:
            literal = None
        addresses = [name] if literal is not None else self.resolver(name, port)
        if not addresses:
            raise _unresolved(name)
        for address in addresses:
            ip = ipaddress.ip_address(address)
            if not self.address_allowed(ip):
                code = blocked_code(ip) or "non_public"
                raise BlockedAddressError(
                    f"refused to connect to {name}: it points to {BLOCKED_REASONS[code]} "
                    f"({ip}); an admin can allow this host in the configuration",
                    key=f"blocked.{code}", params={"host": name, "ip": str(ip)},
                )
        return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore network backend that vets every TCP connection with an AddressPolicy."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.NetworkBackend | None = None):
        """Wrap ``inner`` (the default sync socket backend) with ``policy``."""
        self._policy = policy
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to a vetted address of ``host`` (never re-resolving the name)."""
        if self._policy.host_allowed(host):
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = self._policy.vet(host, port)
        last_error: Exception | None = None
        for address in addresses[:_MAX_ADDRESSES_TRIED]:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as err:
                last_error = err
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Unix sockets are never reachable from an untrusted URL."""
        raise BlockedAddressError("refused to connect to a local socket",
                                  key="blocked.local_socket")

    def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        self._inner.sleep(seconds)


def validate_public_url(
    url: str, allow_hosts: Sequence[str] = (), *, resolver: Resolver = system_resolver
) -> str:
    """Check a URL given through Slack before saving it; return it cleaned up.

    Refuses non-HTTP(S) schemes, embedded credentials, and hosts that resolve to a
    non-public address (unless ``allow_hosts`` names the host or its network).
    Raises :class:`SourceConfigError` with a message fit for Slack.
    """
    cleaned = url.strip()
    if cleaned.startswith("<") and cleaned.endswith(">"):
        cleaned = cleaned[1:-1].split("|", 1)[0]  # Slack wraps links as <url|label>
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in {"http", "https"}:
        raise SourceConfigError("the URL must start with http:// or https://",
                                key="url_scheme")
    if parts.username is not None or parts.password is not None:
        raise SourceConfigError("the URL must not contain a user name or password",
                                key="url_credentials")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as err:
        raise SourceConfigError("the URL has an invalid port", key="url_port") from err
    host = parts.hostname
    if not host:
        raise SourceConfigError("the URL has no host name", key="url_no_host")
    policy = AddressPolicy(tuple(allow_hosts), resolver)
    if not policy.host_allowed(host):
        try:
            policy.vet(host, port)
        except SourceError as err:
            raise SourceConfigError(str(err), key=err.key, params=err.params) from err
    return cleaned
