"""``SeedanceClient``: one blocking method per /api/v1 operation (``OPERATIONS``)."""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from seedance_client import _operations as ops
from seedance_client import models
from seedance_client._base import ClientBase, poll_delays, wait_timeout
from seedance_client._operations import Moment
from seedance_client._transport import Call, send


class SeedanceClient(ClientBase):
    """Blocking client; use it as a context manager, or call ``close()``."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            owns_http=http_client is None,
        )
        self._http = http_client if http_client is not None else httpx.Client()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the HTTP client only if this client made it."""
        if self._owns_http:
            self._http.close()

    def _send[T](self, call: Call[T]) -> T:
        return send(self._http, self._target, call, self.policy)

    # Runs

    def create_run(
        self,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        duration: str | int | None = None,
        resolution: str | None = None,
        generate_audio: bool | None = None,
        seed: int | None = None,
        end_user_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> models.Run:
        """Queues a run; without ``idempotency_key`` a new uuid4 is used for all its retries."""
        return self._send(
            ops.runs_create(
                prompt=prompt,
                aspect_ratio=aspect_ratio,
                duration=duration,
                resolution=resolution,
                generate_audio=generate_audio,
                seed=seed,
                end_user_id=end_user_id,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

    def get_run(self, run_id: str) -> models.Run:
        return self._send(ops.runs_retrieve(run_id))

    def list_runs(
        self,
        *,
        status: str | Sequence[str] | None = None,
        end_user_id: str | None = None,
        created_after: Moment | None = None,
        created_before: Moment | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> models.Page[models.Run]:
        return self._send(
            ops.runs_list(
                status=status,
                end_user_id=end_user_id,
                created_after=created_after,
                created_before=created_before,
                limit=limit,
                cursor=cursor,
            )
        )

    def iter_runs(self, **filters: Any) -> Iterator[models.Run]:
        """Every run matching ``list_runs``' filters, newest first, page after page."""
        return _iterate(lambda cursor: self.list_runs(**filters, cursor=cursor))

    def cancel_run(self, run_id: str) -> models.Run:
        return self._send(ops.runs_cancel(run_id))

    def wait(
        self, run_id: str, *, timeout: float = 300.0, poll_interval: float = 1.0
    ) -> models.Run:
        """Polls until the run is terminal; ``WaitTimeoutError`` (with the last run) if not."""
        deadline = time.monotonic() + timeout
        for delay in poll_delays(poll_interval):
            run = self.get_run(run_id)
            left = deadline - time.monotonic()
            if run.is_terminal:
                return run
            if left <= 0:
                raise wait_timeout(run, timeout)
            time.sleep(min(delay, left))
        raise AssertionError("unreachable")

    # Billing

    def get_usage(
        self,
        *,
        from_: Moment | None = None,
        to: Moment | None = None,
        group_by: str | None = None,
        end_user_id: str | None = None,
    ) -> models.Usage:
        call = ops.usage_retrieve(from_=from_, to=to, group_by=group_by, end_user_id=end_user_id)
        usage: models.Usage = self._send(call)
        return usage

    def get_usage_csv(
        self,
        *,
        from_: Moment | None = None,
        to: Moment | None = None,
        group_by: str | None = None,
        end_user_id: str | None = None,
    ) -> str:
        """The same usage as CSV text (``format=csv``)."""
        call = ops.usage_retrieve(
            from_=from_, to=to, group_by=group_by, end_user_id=end_user_id, csv=True
        )
        text: str = self._send(call)
        return text

    def estimate_price(
        self, *, resolution: str | None = None, duration: str | int | None = None
    ) -> models.PriceEstimate:
        estimate: models.PriceEstimate = self._send(
            ops.prices_estimate(resolution=resolution, duration=duration)
        )
        return estimate

    def get_limits(self, *, end_user_id: str | None = None) -> models.Limits:
        return self._send(ops.limits_retrieve(end_user_id=end_user_id))

    # Webhooks

    def create_webhook_endpoint(
        self, url: str, events: Sequence[str], *, description: str | None = None
    ) -> models.WebhookEndpointCreated:
        """Not retried once sent (a repeat would make a second endpoint); keep the secret."""
        return self._send(
            ops.webhook_endpoints_create(url=url, events=events, description=description)
        )

    def list_webhook_endpoints(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> models.Page[models.WebhookEndpoint]:
        return self._send(ops.webhook_endpoints_list(limit=limit, cursor=cursor))

    def iter_webhook_endpoints(
        self, *, limit: int | None = None
    ) -> Iterator[models.WebhookEndpoint]:
        return _iterate(lambda cursor: self.list_webhook_endpoints(limit=limit, cursor=cursor))

    def get_webhook_endpoint(self, endpoint_id: str) -> models.WebhookEndpoint:
        return self._send(ops.webhook_endpoints_retrieve(endpoint_id))

    def update_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> models.WebhookEndpoint:
        return self._send(
            ops.webhook_endpoints_update(
                endpoint_id, url=url, events=events, description=description, enabled=enabled
            )
        )

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        self._send(ops.webhook_endpoints_destroy(endpoint_id))

    def rotate_webhook_secret(self, endpoint_id: str) -> models.WebhookEndpointRotated:
        return self._send(ops.webhook_endpoints_rotate_secret(endpoint_id))

    def send_test_webhook(self, endpoint_id: str) -> models.WebhookTestEvent:
        return self._send(ops.webhook_endpoints_send_test(endpoint_id))

    def list_webhook_deliveries(
        self, endpoint_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.Page[models.WebhookDelivery]:
        return self._send(ops.webhook_deliveries_list(endpoint_id, limit=limit, cursor=cursor))

    def iter_webhook_deliveries(
        self, endpoint_id: str, *, limit: int | None = None
    ) -> Iterator[models.WebhookDelivery]:
        return _iterate(
            lambda cursor: self.list_webhook_deliveries(endpoint_id, limit=limit, cursor=cursor)
        )

    def redeliver_webhook(self, delivery_id: int) -> models.WebhookDelivery:
        return self._send(ops.webhook_deliveries_redeliver(delivery_id))

    def list_event_types(self) -> list[models.EventType]:
        return self._send(ops.webhook_event_types_list())


def _iterate[T](fetch: Callable[[str | None], models.Page[T]]) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.results
        cursor = page.next_cursor
        if cursor is None:
            return
