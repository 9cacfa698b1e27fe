"""Invoices: a period's metered usage, priced per line and rounded per line to the cent.

Each line bills one item's meter sum for the customer over the item's part of the period
(``[max(period start, item created), min(period end, item removed))``), counting events
received up to the period's end plus ``grace_seconds``. ``amount`` is quantity times
``unit_amount_decimal``, rounded half up per line (Stripe's docs: 1.5 cents bills 2).
Once the fake's clock passes a period's end plus the grace, its invoice is finalized.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stripe.params import InvoiceCreatePreviewParams, InvoiceListParams, InvoiceRetrieveParams

from . import periods
from .forms import invalid, text
from .store import Store, found, new_id, page, route
from .summaries import usage


def create_preview(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    """The upcoming invoice of the current period; usage still shows with summaries' lag."""
    customer_id, subscription_id = text(params, "customer"), text(params, "subscription")
    if subscription_id is not None:
        subscription = found(
            store.subscriptions, subscription_id, "subscription", param="subscription", status=400
        )
        if customer_id is not None and subscription["customer"] != customer_id:
            raise invalid("The subscription does not belong to that customer.", param="customer")
    elif customer_id is not None:
        found(store.customers, customer_id, "customer", param="customer", status=400)
        live = [
            s
            for s in store.subscriptions.values()
            if s["customer"] == customer_id and s["status"] != "canceled"
        ]
        if not live:
            raise invalid(
                "No upcoming invoices for customer: " + customer_id,
                param="customer",
                code="invoice_upcoming_none",
            )
        subscription = live[-1]
    else:
        raise invalid("Missing required param: customer or subscription.", param="customer")
    period = periods.containing(subscription, store.now())
    invoice = build(store, subscription, period, received_by=None)
    invoice["id"] = f"upcoming_{invoice['id']}"
    return invoice


def build(
    store: Store,
    subscription: dict[str, Any],
    period: tuple[int, int],
    *,
    received_by: float | None,
) -> dict[str, Any]:
    invoice_id = new_id("in")
    start, end = period
    removed = store.removed_items.get(subscription["id"], [])
    items = [*subscription["items"]["data"], *[i for i in removed if not i["clear_usage"]]]
    lines = []
    for item in items:
        low = max(start, item["created"])
        high = min(end, item.get("removed_at", end))
        if low < high:
            lines.append(_line(store, subscription, item, (low, high), invoice_id, received_by))
    total = sum(line["amount"] for line in lines)
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "billing_reason": "subscription_cycle",
        "collection_method": subscription["collection_method"],
        "created": store.timestamp(),
        "currency": subscription["currency"],
        "customer": subscription["customer"],
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "number": None,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": subscription["id"],
                "metadata": dict(subscription["metadata"]),
            },
        },
        "period_end": end,
        "period_start": start,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None},
        "subtotal": total,
        "total": total,
    }


def _line(
    store: Store,
    subscription: dict[str, Any],
    item: dict[str, Any],
    window: tuple[int, int],
    invoice_id: str,
    received_by: float | None,
) -> dict[str, Any]:
    price = item["price"]
    unit = Decimal(price["unit_amount_decimal"])
    meter = store.meters.get(price["recurring"]["meter"] or "")
    if meter is None:
        quantity = Decimal(item["quantity"] or 0)
    else:
        quantity = usage(store, meter, subscription["customer"], *window, received_by=received_by)
    amount = int((quantity * unit).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    product = store.products.get(price["product"], {})
    dollars = (unit / 100).normalize()
    shown = quantity.normalize()
    description = (
        f"{shown:f} \N{MULTIPLICATION SIGN} {product.get('name', price['product'])} "
        f"(at ${dollars:f} / {price['recurring']['interval']})"
    )
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": None,
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
        },
        "period": {"start": window[0], "end": window[1]},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": int(quantity) if quantity == quantity.to_integral_value() else None,
        "quantity_decimal": f"{shown:f}",
        "subtotal": amount,
        "taxes": [],
    }


def close_due_periods(store: Store) -> None:
    """Finalize the invoice of every period whose end plus the grace has passed."""
    grace = store.config.grace_seconds
    for subscription in store.subscriptions.values():
        if not subscription["items"]["data"]:
            continue
        billed = store.billed_until.get(subscription["id"])
        period = periods.first(subscription)
        while billed is not None and period[1] <= billed:
            period = periods.following(subscription, period)
        while period[1] + grace <= store.now():
            if subscription["canceled_at"] is not None and period[0] >= subscription["canceled_at"]:
                break
            invoice = build(store, subscription, period, received_by=period[1] + grace)
            invoice.update(status="open", number=f"FAKE-{len(store.invoices) + 1:04d}")
            invoice["status_transitions"]["finalized_at"] = store.timestamp()
            store.invoices[invoice["id"]] = invoice
            store.billed_until[subscription["id"]] = period[1]
            subscription["latest_invoice"] = invoice["id"]
            period = periods.following(subscription, period)


def get_invoice(store: Store, params: dict[str, Any], invoice_id: str) -> dict[str, Any]:
    return found(store.invoices, invoice_id, "invoice")


def list_invoices(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    customer, subscription = text(params, "customer"), text(params, "subscription")
    status = text(params, "status")
    chosen = [
        invoice
        for invoice in store.invoices.values()
        if (customer is None or invoice["customer"] == customer)
        and (
            subscription is None
            or invoice["parent"]["subscription_details"]["subscription"] == subscription
        )
        and (status is None or invoice["status"] == status)
    ]
    return page(chosen, params, "/v1/invoices", "invoice")


ROUTES = [
    route("POST", "/v1/invoices/create_preview", create_preview, InvoiceCreatePreviewParams),
    route("GET", "/v1/invoices", list_invoices, InvoiceListParams),
    route("GET", "/v1/invoices/{id}", get_invoice, InvoiceRetrieveParams),
]
