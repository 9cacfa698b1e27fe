"""Builds the StripeClient from settings; nowhere else does."""

import logging
from collections.abc import Mapping
from typing import Any

import stripe
from stripe._base_address import BaseAddresses

from billing.conf import setting
from billing.metrics import STRIPE_ERRORS

logger = logging.getLogger(__name__)


class CountingHTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx transport, counting each failed exchange with Stripe (a network
    error or a 4xx/5xx answer) in ``seedance_stripe_errors_total``, the one place every
    Stripe call passes."""

    # HTTPXClient's own signature (bytes, no ``_usage``) already departs from its base's.
    def request(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            content, status, response_headers = super().request(method, url, headers, post_data)
        except stripe.APIConnectionError:
            STRIPE_ERRORS.labels(reason="network").inc()
            logger.warning("Stripe %s %s: network error", method, _path(url))
            raise
        if status >= 400:
            STRIPE_ERRORS.labels(reason=str(status)).inc()
            logger.warning(
                "Stripe %s %s answered %s",
                method,
                _path(url),
                status,
                extra={"stripe_request_id": response_headers.get("Request-Id")},
            )
        return content, status, response_headers


def _path(url: str) -> str:
    """The URL without its query (search queries and expand lists carry customer data)."""
    return url.split("?", 1)[0]


def stripe_client(*, timeout: float | None = None) -> stripe.StripeClient:
    """The SDK's own retries stay off: the push owns its backoff in the ledger. ``timeout``
    overrides ``STRIPE_TIMEOUT`` for a caller that must not wait long (``runs_doctor``)."""
    base = setting("STRIPE_API_BASE")
    addresses: BaseAddresses = (
        {"api": base, "meter_events": base, "files": base, "connect": base} if base else {}
    )
    return stripe.StripeClient(
        setting("STRIPE_API_KEY"),
        base_addresses=addresses,
        max_network_retries=0,
        http_client=CountingHTTPXClient(
            timeout=float(timeout if timeout is not None else setting("STRIPE_TIMEOUT")),
            allow_sync_methods=True,
        ),
    )
