"""Sending a leased batch of meter events: serially per (customer, meter), as Stripe takes
one concurrent call per customer per meter, and those groups side by side.

Only the HTTP calls run on the pool's threads; every database write stays with the caller
(``billing.meters``), on its own connection, after the batch is back.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import stripe

from billing.conf import setting
from billing.models import UsageRecord


@dataclass(frozen=True)
class LiveItem:
    """Where a row's event goes: its price's meter, its tenant's customer."""

    metered_price_id: int
    event_name: str
    customer_id: str
    added_at: datetime


#: None: Stripe accepted the event (or already had it). An InvalidRequestError: refused,
#: a person decides. Any other StripeError: the outcome is unknown, resend the same event.
Outcome = stripe.StripeError | None
Sendable = tuple[UsageRecord, LiveItem]


def send_rows(
    client: stripe.StripeClient, sendable: Iterable[Sendable]
) -> list[tuple[UsageRecord, Outcome]]:
    """Each row sent once, as pinned on it; its outcome beside it, in no promised order."""
    groups: dict[tuple[str, str], list[Sendable]] = {}
    for row, item in sendable:
        groups.setdefault((item.customer_id, item.event_name), []).append((row, item))
    workers = min(int(setting("PUSH_CONCURRENCY")), len(groups))

    def send_group(group: list[Sendable]) -> list[tuple[UsageRecord, Outcome]]:
        return [(row, send_one(client, row, item)) for row, item in group]

    if workers <= 1:
        return [done for group in groups.values() for done in send_group(group)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="meter-push") as pool:
        return [done for sent in pool.map(send_group, groups.values()) for done in sent]


def send_one(client: stripe.StripeClient, row: UsageRecord, item: LiveItem) -> Outcome:
    payload = {"stripe_customer_id": item.customer_id, "value": str(row.seconds)}
    if row.end_user_id:
        payload["end_user_id"] = row.end_user_id
    try:
        client.v1.billing.meter_events.create(
            params={
                "event_name": item.event_name,
                "identifier": row.identifier,
                "timestamp": int(row.event_timestamp.timestamp()),
                "payload": payload,
            },
            options={"idempotency_key": row.idempotency_key},
        )
    except stripe.InvalidRequestError as exc:
        return None if is_duplicate_identifier(exc) else exc
    except stripe.StripeError as exc:
        return exc
    return None


def is_duplicate_identifier(exc: stripe.InvalidRequestError) -> bool:
    """Stripe's answer for an identifier it already recorded: for us, "accepted"."""
    message = str(exc.user_message or "").lower()
    return exc.code == "resource_already_exists" or (
        "identifier" in message and "already" in message
    )
