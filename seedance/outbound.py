"""The one way we fetch a URL someone else chose (output copies now, webhooks later).

A URL is checked before any byte leaves: https on an allowed port (``OUTBOUND_PORTS``), a
host that resolves only to public unicast addresses, and every address form the OS accepts
(decimal, octal, short, IPv4-mapped IPv6) judged by what it resolves to. The connection then
dials the very address that was checked, while TLS still verifies the certificate for the
URL's hostname: a DNS answer that changes between check and connect (rebinding) is never
asked for. Redirects are not followed and proxies from the environment are not used.
``OUTBOUND_LOOPBACK_HTTP`` names the few loopback ``host:port`` endpoints (the sandbox) that
may be fetched over plain http; it is empty in production. ``host:*`` allows every port of a
loopback host, for the demo's webhook receivers only: a system check refuses it without DEBUG.
"""

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from seedance.conf import setting
from seedance.exceptions import OutboundRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Destination:
    """A checked URL and the address its connection must dial."""

    url: str
    host: str
    port: int
    address: IPAddress


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the OS resolves ``host`` to: the seam tests replace."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"{host} does not resolve ({exc})") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in answers]


def forbidden_because(address: IPAddress) -> str:
    """Why we may not connect to ``address``, or "" for a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            return forbidden_because(embedded)
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address in _SHARED, "shared (carrier-grade NAT)"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not public"),
    )
    return next((reason for matched, reason in checks if matched), "")


_SHARED = ipaddress.ip_network("100.64.0.0/10")


def check_url(url: str) -> Destination:
    """The destination ``url`` may be fetched at, or OutboundRefused saying why not."""
    try:
        parsed = httpx.URL(url)
        port = parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise OutboundRefused(f"not a URL we can parse ({exc})") from exc
    host = parsed.host.lower().rstrip(".")
    if parsed.scheme not in DEFAULT_PORTS or not host:
        raise OutboundRefused("only http(s) URLs with a host are fetched")
    if parsed.userinfo:
        raise OutboundRefused("URLs carrying credentials are not fetched")
    _refuse_odd_numeric(host)
    netloc_host = f"[{host}]" if ":" in host else host
    endpoint = f"{netloc_host}:{port}"
    allowed = _loopback_endpoints()
    if endpoint in allowed or f"{netloc_host}:*" in allowed:
        addresses = _resolved(host, port)
        if not all(address.is_loopback for address in addresses):
            raise OutboundRefused(f"{endpoint} is allowed only on a loopback address")
        return Destination(url=url, host=host, port=port, address=addresses[0])
    if parsed.scheme != "https":
        raise OutboundRefused("only https URLs are fetched")
    if port not in {int(p) for p in setting("OUTBOUND_PORTS")}:
        raise OutboundRefused(f"port {port} is not one we fetch from")
    addresses = _resolved(host, port)
    for address in addresses:
        if reason := forbidden_because(address):
            raise OutboundRefused(f"{host} resolves to a {reason} address ({address})")
    return Destination(url=url, host=host, port=port, address=addresses[0])


def _resolved(host: str, port: int) -> list[IPAddress]:
    addresses = resolve(host, port)
    if not addresses:
        raise OutboundRefused(f"{host} does not resolve")
    return addresses


def _refuse_odd_numeric(host: str) -> None:
    """A host made of digits, dots and hex that is not a canonical IP literal (2130706433,
    0177.0.0.1, 0x7f.1, 127.1) is a trick, not a name: refused whatever it resolves to."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return
    except ValueError:
        pass
    labels = host.split(".")
    if all(label.isdigit() or label.lower().startswith("0x") for label in labels if label):
        raise OutboundRefused(f"{host} is a numeric address in a non-canonical form")


def _loopback_endpoints() -> set[str]:
    return {str(entry).lower() for entry in setting("OUTBOUND_LOOPBACK_HTTP")}


def trust_roots() -> ssl.SSLContext:
    """A TLS context holding the roots a guarded fetch trusts, httpx's own (certifi): the
    seam a test replaces to trust its own authority."""
    return httpx.create_ssl_context(trust_env=False)


def tls_context() -> ssl.SSLContext:
    """``trust_roots()`` requiring a certificate valid for the name it is given, whatever
    that context came with: httpcore gives it the URL's hostname (SNI and the check)."""
    context = trust_roots()
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


class _PinnedBackend(httpcore.SyncBackend):
    """Dials the checked address whatever host the connection pool asks for; TLS (SNI and
    certificate) still uses the URL's hostname, which httpcore passes to ``start_tls``."""

    def __init__(self, address: IPAddress) -> None:
        self._address = str(address)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(self._address, port, timeout, local_address, socket_options)


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, destination: Destination) -> None:
        super().__init__(verify=tls_context(), trust_env=False, retries=0)
        # httpx 0.28 takes no network backend, so the pool it built is rebuilt with one
        # (pyproject pins httpx below 0.29; tests/seedance/test_outbound.py proves the pin).
        old = self._pool
        self._pool = httpcore.ConnectionPool(
            ssl_context=old._ssl_context,
            max_connections=1,
            retries=0,
            network_backend=_PinnedBackend(destination.address),
        )
        old.close()


def pinned_client(destination: Destination, *, timeout: float) -> httpx.Client:
    """An httpx client that can reach only ``destination``'s checked address."""
    return httpx.Client(
        transport=_PinnedTransport(destination),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


@contextmanager
def guarded_stream(
    method: str,
    url: str,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> Iterator[httpx.Response]:
    """Stream one request to a checked ``url``. Raises OutboundRefused before connecting
    when the URL is not allowed, and on a 3xx answer (never followed); any other answer is
    the caller's to judge, httpx's own errors pass through."""
    destination = check_url(url)
    with (
        pinned_client(destination, timeout=timeout) as client,
        client.stream(method, url, headers=headers, content=content) as response,
    ):
        if 300 <= response.status_code < 400:
            raise OutboundRefused(
                f"the source answered HTTP {response.status_code}, a redirect we do not follow",
                status=response.status_code,
            )
        yield response


def guarded_request(method: str, url: str, *, timeout: float, **kwargs: Any) -> httpx.Response:
    """One whole request through ``guarded_stream``, its body read (for small answers)."""
    with guarded_stream(method, url, timeout=timeout, **kwargs) as response:
        response.read()
        return response
