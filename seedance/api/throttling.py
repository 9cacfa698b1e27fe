"""Per-key API throttles, and the limit on failed authentication per client address.

Creates and every other request (reads, cancels) have separate rates, both per API key and
counted in seedance.ratelimit, so all web processes share one count. A refusal is DRF's
Throttled: 429 ``rate_limited`` with ``Retry-After`` (seedance.api.errors).
"""

import ipaddress
from typing import Any

from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from seedance.conf import setting
from seedance.models import ApiKey
from seedance.ratelimit import Decision, rate_hit, rate_parse

AUTH_FAILURE_CODE = "authentication_rate_limited"
#: IPv6 clients are counted per /64: one host gets a whole /64 to hop through.
IPV6_PREFIX = 64


class ApiKeyThrottle(BaseThrottle):
    """``API_CREATE_RATE`` for a view's ``create_methods``, ``API_READ_RATE`` for the rest.

    Only requests authenticated by an API key are counted; the webhooks and the schema
    carry none and pass.
    """

    def __init__(self) -> None:
        self.decision = Decision(allowed=True, retry_after=0)

    def allow_request(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        creating = request.method in getattr(view, "create_methods", ())
        scope = "api-create" if creating else "api-read"
        rate = rate_parse(setting("API_CREATE_RATE" if creating else "API_READ_RATE"))
        if rate is None:
            return True
        self.decision = rate_hit(scope, str(api_key.pk), rate)
        return self.decision.allowed

    def wait(self) -> float | None:
        return self.decision.retry_after or None


def auth_failure_record(request: Any) -> None:
    """Count a bad key from this client's address; past the limit, answer 429 instead.

    Valid keys are never counted nor refused here, so a tenant sharing an address (a NAT,
    an office) with someone guessing keys keeps working.
    """
    rate = rate_parse(setting("API_AUTH_FAILURE_RATE"))
    if rate is None:
        return
    decision = rate_hit("api-auth-failed", client_address(request), rate)
    if not decision.allowed:
        raise Throttled(
            wait=decision.retry_after,
            detail="Too many requests with an invalid API key from this address.",
            code=AUTH_FAILURE_CODE,
        )


def client_address(request: Any) -> str:
    """The client's address: ``TRUSTED_PROXY_COUNT`` proxies back in X-Forwarded-For.

    Without that many entries (the request bypassed a proxy) or with a malformed one, the
    connecting address counts: a forged header can lump requests, never escape the count.
    """
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = int(setting("TRUSTED_PROXY_COUNT"))
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    if proxies > 0 and len(forwarded) >= proxies and forwarded[-proxies]:
        candidate = forwarded[-proxies]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return "unknown"
    if address.version == 6:
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)
