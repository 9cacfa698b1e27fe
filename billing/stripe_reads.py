"""What Stripe itself says it will bill: meter event summaries and invoice lines."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe

from billing.models import MeteredPrice, TenantBilling
from billing.periods import month_start, next_month_start


def summary_seconds(
    client: stripe.StripeClient, price: MeteredPrice, customer: str, start: datetime, end: datetime
) -> Decimal:
    """What the meter summed for the customer in [start, end) (minute-aligned)."""
    summaries = client.v1.billing.meters.event_summaries.list(
        price.meter_id,
        params={
            "customer": customer,
            "start_time": int(start.timestamp()),
            "end_time": int(end.timestamp()),
        },
    )
    return sum(
        (Decimal(str(summary.aggregated_value)) for summary in summaries.auto_paging_iter()),
        Decimal(0),
    )


def invoice_line_cents_by_price(
    client: stripe.StripeClient, billing: TenantBilling, start: datetime, now: datetime
) -> dict[str, int]:
    """Cents per price id that Stripe bills for the period starting at ``start``."""
    if start == month_start(now):
        invoices = [
            client.v1.invoices.create_preview(
                params={
                    "customer": str(billing.stripe_customer_id),
                    "subscription": billing.stripe_subscription_id,
                }
            )
        ]
    else:
        invoices = list(
            client.v1.invoices.list(
                params={"customer": str(billing.stripe_customer_id), "limit": 100}
            ).auto_paging_iter()
        )
    cents: dict[str, int] = {}
    for invoice in invoices:
        for line in invoice.lines.data:
            if int(line.period.start) < int(start.timestamp()) or int(line.period.start) >= int(
                next_month_start(start).timestamp()
            ):
                continue
            price_id = _price_of(line)
            if price_id:
                cents[price_id] = cents.get(price_id, 0) + int(line.amount)
    return cents


def invoice_line_cents_by_rate(
    client: stripe.StripeClient, billing: TenantBilling, start: datetime, now: datetime
) -> dict[tuple[str, Decimal], int]:
    """The same, keyed as the ledger's lines are: (resolution, unit price); lines of
    prices we did not make are left out."""
    by_price_id = invoice_line_cents_by_price(client, billing, start, now)
    rates = {
        price.price_id: (price.resolution, price.unit_price.normalize())
        for price in MeteredPrice.objects.filter(price_id__in=by_price_id)
    }
    return {rates[price_id]: cents for price_id, cents in by_price_id.items() if price_id in rates}


def _price_of(line: Any) -> str | None:
    """The line's price: ``pricing.price_details.price`` (API 2025-03-31+), else ``price``."""
    pricing = getattr(line, "pricing", None)
    details = getattr(pricing, "price_details", None) if pricing else None
    price = getattr(details, "price", None) if details else getattr(line, "price", None)
    if price is None:
        return None
    return price if isinstance(price, str) else str(price.id)
