"""Every /api/v1 operation as a ``Call``: path, query, body and how to read the answer.

Shared by the sync and the async client, so both send exactly the same requests. A value
left as None is not sent, so the server's documented default applies.
"""

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from seedance_client import models
from seedance_client._retry import Safety
from seedance_client._transport import Call, Params

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
Moment = datetime | date | str


def _query(**values: Any) -> Params:
    """Query pairs without the None values; a list repeats its name (``status=a&status=b``)."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        items = [value] if isinstance(value, str) or not isinstance(value, Iterable) else value
        pairs.extend((name.rstrip("_"), _text(item)) for item in items)
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


def _body(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _json_of(parse: Any) -> Any:
    return lambda response: parse(response.json())


def _page_of(item: Any) -> Any:
    return lambda response: models.Page.from_json(response.json(), item)


def _nothing(response: httpx.Response) -> None:
    return None


def runs_create(
    *,
    prompt: str,
    aspect_ratio: str | None,
    duration: str | int | None,
    resolution: str | None,
    generate_audio: bool | None,
    seed: int | None,
    end_user_id: str | None,
    metadata: Mapping[str, Any] | None,
    idempotency_key: str | None,
) -> Call[models.Run]:
    body = _body(
        prompt=prompt,
        aspect_ratio=aspect_ratio,
        duration=str(duration) if duration is not None else None,
        resolution=resolution,
        generate_audio=generate_audio,
        seed=seed,
        end_user_id=end_user_id,
        metadata=dict(metadata) if metadata is not None else None,
    )
    key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
    return Call(
        "runs_create",
        "POST",
        "runs",
        _created_run,
        json=body,
        headers={IDEMPOTENCY_HEADER: key},
    )


def _created_run(response: httpx.Response) -> models.Run:
    run = models.Run.from_json(response.json())
    return dataclasses.replace(run, replayed=response.headers.get(REPLAYED_HEADER) == "true")


def runs_retrieve(run_id: str) -> Call[models.Run]:
    return Call("runs_retrieve", "GET", f"runs/{_segment(run_id)}", _json_of(models.Run.from_json))


def runs_list(
    *,
    status: str | Sequence[str] | None,
    end_user_id: str | None,
    created_after: Moment | None,
    created_before: Moment | None,
    limit: int | None,
    cursor: str | None,
) -> Call[models.Page[models.Run]]:
    params = _query(
        status=status,
        end_user_id=end_user_id,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        cursor=cursor,
    )
    return Call("runs_list", "GET", "runs", _page_of(models.Run.from_json), params=params)


def runs_cancel(run_id: str) -> Call[models.Run]:
    """Idempotent: the server answers an already canceled run as it is."""
    path = f"runs/{_segment(run_id)}/cancel"
    return Call("runs_cancel", "POST", path, _json_of(models.Run.from_json))


def usage_retrieve(
    *,
    from_: Moment | None,
    to: Moment | None,
    group_by: str | None,
    end_user_id: str | None,
    csv: bool = False,
) -> Call[Any]:
    params = _query(
        from_=from_,
        to=to,
        group_by=group_by,
        end_user_id=end_user_id,
        format="csv" if csv else None,
    )
    parse = (lambda response: response.text) if csv else _json_of(models.Usage.from_json)
    headers = {"Accept": "text/csv"} if csv else {}
    return Call("usage_retrieve", "GET", "usage", parse, params=params, headers=headers)


def prices_estimate(*, resolution: str | None, duration: str | int | None) -> Call[Any]:
    params = _query(resolution=resolution, duration=duration)
    parse = _json_of(models.PriceEstimate.from_json)
    return Call("prices_estimate", "GET", "prices/estimate", parse, params=params)


def limits_retrieve(*, end_user_id: str | None) -> Call[models.Limits]:
    params = _query(end_user_id=end_user_id)
    return Call(
        "limits_retrieve", "GET", "limits", _json_of(models.Limits.from_json), params=params
    )


def webhook_endpoints_create(
    *, url: str, events: Sequence[str], description: str | None
) -> Call[models.WebhookEndpointCreated]:
    body = _body(url=url, events=list(events), description=description)
    parse = _json_of(models.WebhookEndpointCreated.from_json)
    return Call(
        "webhook_endpoints_create",
        "POST",
        "webhooks/endpoints",
        parse,
        safety=Safety.UNSAFE,
        json=body,
    )


def webhook_endpoints_list(
    *, limit: int | None, cursor: str | None
) -> Call[models.Page[models.WebhookEndpoint]]:
    return Call(
        "webhook_endpoints_list",
        "GET",
        "webhooks/endpoints",
        _page_of(models.WebhookEndpoint.from_json),
        params=_query(limit=limit, cursor=cursor),
    )


def _endpoint_path(endpoint_id: str, action: str = "") -> str:
    return f"webhooks/endpoints/{_segment(endpoint_id)}{action}"


def webhook_endpoints_retrieve(endpoint_id: str) -> Call[models.WebhookEndpoint]:
    parse = _json_of(models.WebhookEndpoint.from_json)
    return Call("webhook_endpoints_retrieve", "GET", _endpoint_path(endpoint_id), parse)


def webhook_endpoints_update(
    endpoint_id: str,
    *,
    url: str | None,
    events: Sequence[str] | None,
    description: str | None,
    enabled: bool | None,
) -> Call[models.WebhookEndpoint]:
    """Idempotent: the same fields set twice leave the same endpoint."""
    body = _body(
        url=url,
        events=list(events) if events is not None else None,
        description=description,
        enabled=enabled,
    )
    return Call(
        "webhook_endpoints_update",
        "PATCH",
        _endpoint_path(endpoint_id),
        _json_of(models.WebhookEndpoint.from_json),
        json=body,
    )


def webhook_endpoints_destroy(endpoint_id: str) -> Call[None]:
    """Retried as idempotent: a retry after a lost answer may then see a 404."""
    return Call("webhook_endpoints_destroy", "DELETE", _endpoint_path(endpoint_id), _nothing)


def webhook_endpoints_rotate_secret(endpoint_id: str) -> Call[models.WebhookEndpointRotated]:
    return Call(
        "webhook_endpoints_rotate_secret",
        "POST",
        _endpoint_path(endpoint_id, "/rotate-secret"),
        _json_of(models.WebhookEndpointRotated.from_json),
        safety=Safety.UNSAFE,
    )


def webhook_endpoints_send_test(endpoint_id: str) -> Call[models.WebhookTestEvent]:
    return Call(
        "webhook_endpoints_send_test",
        "POST",
        _endpoint_path(endpoint_id, "/test"),
        _json_of(models.WebhookTestEvent.from_json),
        safety=Safety.UNSAFE,
    )


def webhook_deliveries_list(
    endpoint_id: str, *, limit: int | None, cursor: str | None
) -> Call[models.Page[models.WebhookDelivery]]:
    return Call(
        "webhook_deliveries_list",
        "GET",
        _endpoint_path(endpoint_id, "/deliveries"),
        _page_of(models.WebhookDelivery.from_json),
        params=_query(limit=limit, cursor=cursor),
    )


def webhook_deliveries_redeliver(delivery_id: int) -> Call[models.WebhookDelivery]:
    return Call(
        "webhook_deliveries_redeliver",
        "POST",
        f"webhooks/deliveries/{_segment(delivery_id)}/redeliver",
        _json_of(models.WebhookDelivery.from_json),
        safety=Safety.UNSAFE,
    )


def webhook_event_types_list() -> Call[list[models.EventType]]:
    def parse(response: httpx.Response) -> list[models.EventType]:
        return [models.EventType.from_json(item) for item in response.json()["results"]]

    return Call("webhook_event_types_list", "GET", "webhooks/event-types", parse)
