"""The outbound guard: a URL someone else chose is fetched only over https from a public
address on an allowed port, at the very address checked, never through a redirect or an
environment proxy; the output copier goes through it."""

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedance import outbound
from seedance.exceptions import OutboundRefused
from seedance.models import Run, Tenant
from seedance.outbound import check_url, guarded_request
from seedance.outputs import outputs_copy
from seedance.states import Delivery
from tests.factories import VIDEO_720P, finish_successfully, make_run
from tests.tls import CertificateAuthority

PUBLIC = ipaddress.ip_address("93.184.216.34")

FORBIDDEN_URLS = [
    "https://127.0.0.1/v.mp4",
    "https://10.1.2.3/v.mp4",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/v.mp4",
    "https://[::ffff:127.0.0.1]/v.mp4",
    "https://2130706433/v.mp4",
    "https://0177.0.0.1/v.mp4",
    "https://127.1/v.mp4",
    "https://0x7f.0.0.1/v.mp4",
    "https://100.64.0.1/v.mp4",
    "https://192.168.1.1/v.mp4",
    "https://[fc00::1]/v.mp4",
    "https://[fe80::1]/v.mp4",
    "https://224.0.0.1/v.mp4",
    "https://0.0.0.0/v.mp4",
    "https://[::]/v.mp4",
    "https://240.0.0.1/v.mp4",
    "http://cdn.example.com/v.mp4",
    "https://cdn.example.com:8443/v.mp4",
    "https://user:pw@cdn.example.com/v.mp4",
    "file:///etc/passwd",
    "",
]

FORBIDDEN_ADDRESSES = [
    "127.0.0.1",
    "10.0.0.7",
    "169.254.169.254",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "100.100.100.200",
    "172.16.0.1",
    "fd00::1",
    "0.0.0.0",  # noqa: S104 - an address we refuse, not one we bind
]


class RecordingServer(ThreadingHTTPServer):
    seen: list[tuple[str, str | None]]
    location: str
    #: The server names TLS clients asked for (SNI).
    sni: list[str | None]


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 with a small video-ish body, or a 302 to ``server.location``."""

    def do_GET(self) -> None:
        assert isinstance(self.server, RecordingServer)
        self.server.seen.append((self.path, self.headers.get("Host")))
        location = self.server.location
        if location:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"\x00\x00\x00\x18ftypmp42-copied"
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(location: str = "", tls: ssl.SSLContext | None = None) -> RecordingServer:
    server = RecordingServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    server.sni = []
    server.location = location
    if tls is not None:
        tls.sni_callback = lambda _socket, name, _context: server.sni.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def local() -> Iterator[RecordingServer]:
    server = serve()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def authority(monkeypatch: pytest.MonkeyPatch) -> CertificateAuthority:
    """A throwaway authority, the only one the guard trusts in this test."""
    authority = CertificateAuthority()
    monkeypatch.setattr(outbound, "trust_roots", authority.client_context)
    return authority


@contextmanager
def serving_tls(context: ssl.SSLContext) -> Iterator[RecordingServer]:
    server = serve(tls=context)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def allow_loopback(settings: Any, *endpoints: str) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": list(endpoints)}


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Make every host resolve to ``addresses``; the hosts asked for are returned."""
    asked: list[str] = []

    def fake(host: str, port: int) -> list[Any]:
        asked.append(host)
        return [ipaddress.ip_address(a) for a in addresses]

    monkeypatch.setattr(outbound, "resolve", fake)
    return asked


def unavailable_copy(tenant: Tenant, url: str) -> Run:
    run = finish_successfully(make_run(tenant), output={**VIDEO_720P, "url": url}, delivered=False)
    outputs_copy(run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
def test_a_url_outside_the_rules_is_refused(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_url(url)


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_a_hostname_resolving_to_a_forbidden_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolving_to(monkeypatch, address)
    with pytest.raises(OutboundRefused, match="resolves to"):
        check_url("https://cdn.example.com/v.mp4")


def test_one_forbidden_address_among_public_ones_refuses_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving_to(monkeypatch, str(PUBLIC), "10.0.0.1")
    with pytest.raises(OutboundRefused):
        check_url("https://cdn.example.com/v.mp4")


def test_a_public_https_host_is_allowed_at_the_address_it_resolved_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving_to(monkeypatch, str(PUBLIC))
    destination = check_url("https://CDN.example.com./v.mp4")
    assert (destination.host, destination.port, destination.address) == (
        "cdn.example.com",
        443,
        PUBLIC,
    )


def test_a_port_is_allowed_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    resolving_to(monkeypatch, str(PUBLIC))
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_PORTS": [443, 8443]}
    assert check_url("https://cdn.example.com:8443/v.mp4").port == 8443
    with pytest.raises(OutboundRefused, match="port 8080"):
        check_url("https://cdn.example.com:8080/v.mp4")


def test_loopback_http_is_refused_unless_its_endpoint_is_allowed(
    settings: Any, local: RecordingServer
) -> None:
    url = f"http://127.0.0.1:{local.server_port}/v.mp4"
    allow_loopback(settings)
    with pytest.raises(OutboundRefused):
        guarded_request("GET", url, timeout=5)
    allow_loopback(settings, f"127.0.0.1:{local.server_port}")
    assert guarded_request("GET", url, timeout=5).status_code == 200
    assert len(local.seen) == 1


def test_an_allowed_endpoint_is_named_as_a_url_names_it_ipv6_in_brackets(settings: Any) -> None:
    allow_loopback(settings, "[::1]:8765")
    assert str(check_url("http://[::1]:8765/v.mp4").address) == "::1"


def test_a_port_wildcard_allows_every_port_of_that_loopback_host_only(
    monkeypatch: pytest.MonkeyPatch, settings: Any, local: RecordingServer
) -> None:
    """The demo's ``127.0.0.1:*``: a receiver on any local port, and nothing else opened."""
    allow_loopback(settings, "127.0.0.1:*")
    url = f"http://127.0.0.1:{local.server_port}/v.mp4"
    assert guarded_request("GET", url, timeout=5).status_code == 200
    assert check_url("http://127.0.0.1:1/").port == 1
    for refused in ("http://localhost:8000/", "http://10.0.0.1:8000/", "http://[::1]:8000/"):
        with pytest.raises(OutboundRefused):
            check_url(refused)
    allow_loopback(settings, "media.test:*")
    resolving_to(monkeypatch, "10.0.0.1")
    with pytest.raises(OutboundRefused, match="only on a loopback"):
        check_url("http://media.test:8000/")


def test_an_allowed_loopback_endpoint_resolving_elsewhere_is_refused(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    allow_loopback(settings, "sandbox.test:8765")
    resolving_to(monkeypatch, "10.0.0.1")
    with pytest.raises(OutboundRefused, match="only on a loopback"):
        check_url("http://sandbox.test:8765/v.mp4")


def test_the_connection_dials_the_checked_address_and_resolves_once(
    monkeypatch: pytest.MonkeyPatch, settings: Any, local: RecordingServer
) -> None:
    """``media.invalid`` exists in no DNS: the answer comes from where the check resolved
    it, with the URL's own Host header; nothing resolves it a second time (rebinding)."""
    asked = resolving_to(monkeypatch, "127.0.0.1")
    allow_loopback(settings, f"media.invalid:{local.server_port}")

    response = guarded_request("GET", f"http://media.invalid:{local.server_port}/x", timeout=5)

    assert response.status_code == 200
    assert local.seen == [("/x", f"media.invalid:{local.server_port}")]
    assert asked == ["media.invalid"]


def test_tls_is_verified_for_the_urls_hostname_while_dialing_the_checked_address(
    monkeypatch: pytest.MonkeyPatch, settings: Any, authority: CertificateAuthority, tmp_path: Path
) -> None:
    """Dialed at 127.0.0.1, where the check resolved ``media.test``, the connection still
    asks for ``media.test`` (SNI) and accepts its certificate for that name, not the IP."""
    with serving_tls(authority.server_context("media.test", tmp_path)) as server:
        asked = resolving_to(monkeypatch, "127.0.0.1")
        allow_loopback(settings, f"media.test:{server.server_port}")

        url = f"https://media.test:{server.server_port}/v.mp4"
        response = guarded_request("GET", url, timeout=5)

    assert response.status_code == 200
    assert server.sni == ["media.test"]
    assert server.seen == [("/v.mp4", f"media.test:{server.server_port}")]
    assert asked == ["media.test"]


def test_a_certificate_for_another_name_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, settings: Any, authority: CertificateAuthority, tmp_path: Path
) -> None:
    with serving_tls(authority.server_context("elsewhere.test", tmp_path)) as server:
        resolving_to(monkeypatch, "127.0.0.1")
        allow_loopback(settings, f"media.test:{server.server_port}")

        url = f"https://media.test:{server.server_port}/v.mp4"
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            guarded_request("GET", url, timeout=5)

    assert server.sni == ["media.test"]
    assert server.seen == []


def test_a_certificate_from_an_authority_the_guard_does_not_trust_is_refused(
    monkeypatch: pytest.MonkeyPatch, settings: Any, authority: CertificateAuthority, tmp_path: Path
) -> None:
    stranger = CertificateAuthority(name="Someone else's CA")
    with serving_tls(stranger.server_context("media.test", tmp_path)) as server:
        resolving_to(monkeypatch, "127.0.0.1")
        allow_loopback(settings, f"media.test:{server.server_port}")

        url = f"https://media.test:{server.server_port}/v.mp4"
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            guarded_request("GET", url, timeout=5)

    assert server.seen == []


def test_the_guard_checks_the_hostname_even_if_its_roots_came_without_the_check(
    monkeypatch: pytest.MonkeyPatch, settings: Any, authority: CertificateAuthority, tmp_path: Path
) -> None:
    def lax_roots() -> ssl.SSLContext:
        context = authority.client_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    monkeypatch.setattr(outbound, "trust_roots", lax_roots)
    with serving_tls(authority.server_context("elsewhere.test", tmp_path)) as server:
        resolving_to(monkeypatch, "127.0.0.1")
        allow_loopback(settings, f"media.test:{server.server_port}")

        url = f"https://media.test:{server.server_port}/v.mp4"
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            guarded_request("GET", url, timeout=5)

    assert server.seen == []


def test_proxies_from_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch, settings: Any, local: RecordingServer
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    allow_loopback(settings, f"127.0.0.1:{local.server_port}")

    url = f"http://127.0.0.1:{local.server_port}/direct"
    assert guarded_request("GET", url, timeout=5).status_code == 200
    assert local.seen[0][0] == "/direct"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/v.mp4",
        "https://10.20.30.40/v.mp4",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/v.mp4",
        "https://[::ffff:127.0.0.1]/v.mp4",
        "https://2130706433/v.mp4",
        "https://0177.0.0.1/v.mp4",
    ],
)
def test_the_copier_refuses_a_forbidden_url_and_the_outputs_become_unavailable(
    tenant: Tenant, url: str
) -> None:
    run = unavailable_copy(tenant, url)

    assert run.delivery == Delivery.UNAVAILABLE
    assert "no URL we may fetch" in run.delivery_error


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1"])
def test_the_copier_refuses_a_hostname_resolving_to_a_forbidden_address(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    asked = resolving_to(monkeypatch, address)

    run = unavailable_copy(tenant, "https://cdn.example.com/v.mp4")

    assert asked == ["cdn.example.com"]
    assert run.delivery == Delivery.UNAVAILABLE
    assert "resolves to a" in run.delivery_error


@pytest.mark.django_db(transaction=True)
def test_the_copier_never_follows_a_redirect_to_loopback(
    tenant: Tenant, settings: Any, local: RecordingServer
) -> None:
    """Both servers are allowed endpoints: only the no-redirect rule keeps the target safe."""
    redirector = serve(location=f"http://127.0.0.1:{local.server_port}/secret")
    try:
        allow_loopback(
            settings, f"127.0.0.1:{redirector.server_port}", f"127.0.0.1:{local.server_port}"
        )

        run = unavailable_copy(tenant, f"http://127.0.0.1:{redirector.server_port}/v.mp4")
    finally:
        redirector.shutdown()
        redirector.server_close()

    assert [path for path, _ in redirector.seen] == ["/v.mp4"]
    assert local.seen == []
    assert run.delivery == Delivery.UNAVAILABLE
    assert "HTTP 302" in run.delivery_error
    assert not run.files.filter(copied_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_the_copier_fetches_from_an_allowed_endpoint_through_the_guard(
    tenant: Tenant, settings: Any, local: RecordingServer
) -> None:
    allow_loopback(settings, f"127.0.0.1:{local.server_port}")
    run = finish_successfully(
        make_run(tenant),
        output={**VIDEO_720P, "url": f"http://127.0.0.1:{local.server_port}/v.mp4"},
        delivered=False,
    )

    assert outputs_copy(run.pk) == 1

    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    assert run.files.get().file.read() == b"\x00\x00\x00\x18ftypmp42-copied"
