"""What the sync and the async client share: configuration, the operation table, polling.

Both build the same ``Call`` (``_operations``) and differ only in how they wait; the
``OPERATIONS`` table names the method of each operationId in the OpenAPI document.
"""

from collections.abc import Iterator

import httpx

from seedance_client import models
from seedance_client._retry import RetryPolicy
from seedance_client._transport import Target
from seedance_client.errors import WaitTimeoutError

__version__ = "0.1.0"

API_PREFIX = "/api/v1/"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"seedance-client-python/{__version__}"

#: operationId in the served OpenAPI document -> the method of both clients that calls it.
OPERATIONS: dict[str, str] = {
    "runs_create": "create_run",
    "runs_retrieve": "get_run",
    "runs_list": "list_runs",
    "runs_cancel": "cancel_run",
    "usage_retrieve": "get_usage",
    "prices_estimate": "estimate_price",
    "limits_retrieve": "get_limits",
    "webhook_endpoints_create": "create_webhook_endpoint",
    "webhook_endpoints_list": "list_webhook_endpoints",
    "webhook_endpoints_retrieve": "get_webhook_endpoint",
    "webhook_endpoints_update": "update_webhook_endpoint",
    "webhook_endpoints_destroy": "delete_webhook_endpoint",
    "webhook_endpoints_rotate_secret": "rotate_webhook_secret",
    "webhook_endpoints_send_test": "send_test_webhook",
    "webhook_deliveries_list": "list_webhook_deliveries",
    "webhook_deliveries_redeliver": "redeliver_webhook",
    "webhook_event_types_list": "list_event_types",
}


class ClientBase:
    """Configuration shared by both clients; the HTTP client itself is theirs."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        owns_http: bool,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        root = base_url.rstrip("/").removesuffix(API_PREFIX.rstrip("/"))
        self.base_url = root
        self.policy = RetryPolicy(max_retries=max_retries)
        self._owns_http = owns_http
        # An injected client keeps its own timeout unless one is given here.
        if timeout is None and owns_http:
            timeout = DEFAULT_TIMEOUT
        self._target = Target(
            api_url=root + API_PREFIX,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(timeout) if timeout is not None else None,
        )


def poll_delays(first: float, *, factor: float = 1.5, ceiling: float = 10.0) -> Iterator[float]:
    """Polls start at ``first`` seconds apart and slow down to at most ``ceiling``."""
    delay, ceiling = first, max(ceiling, first)
    while True:
        yield delay
        delay = min(ceiling, max(delay, 0.05) * factor)


def wait_timeout(run: models.Run, timeout: float) -> WaitTimeoutError:
    return WaitTimeoutError(f"Run {run.id} still {run.status} after {timeout:g} s.", run=run)
