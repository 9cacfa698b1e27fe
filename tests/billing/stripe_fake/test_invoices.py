"""Invoices: per-line rounding, item windows, late events within the grace, closing periods."""

from datetime import UTC, datetime

import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import Account, Clock, make_meter, make_price, send
from .test_subscriptions import first_of_next_month, subscribe

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

HOUR = 3_600


def test_preview_bills_the_meter_sum_rounded_per_line(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    send(client, account, identifier="a", value="20", timestamp=int(clock.now) - 60)
    send(client, account, identifier="b", value="14.5", timestamp=int(clock.now) - 30)

    preview = client.v1.invoices.create_preview(params={"subscription": subscription.id})
    [line] = preview.lines.data
    assert line.quantity_decimal is not None
    assert line.quantity_decimal == 34.5
    assert line.quantity is None
    assert line.amount == 835  # 34.5 * 24.19 = 834.555 cents
    assert preview.total == preview.subtotal == 835
    assert line.pricing is not None
    assert line.pricing.price_details is not None
    assert line.pricing.price_details.price == account.price
    assert (
        line.description
        == "34.5 \N{MULTIPLICATION SIGN} Seedance 720p seconds (at $0.2419 / month)"
    )
    assert line.period.end == first_of_next_month(clock)


def test_half_a_cent_rounds_up(client: stripe.StripeClient, account: Account, clock: Clock) -> None:
    price = make_price(client, make_meter(client, "halves"), "0.05", "halves")
    customer = client.v1.customers.create(params={"name": "Half"})
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price}]}
    )
    client.v1.billing.meter_events.create(
        params={
            "event_name": "halves",
            "payload": {"stripe_customer_id": customer.id, "value": "30"},
        }
    )

    preview = client.v1.invoices.create_preview(params={"customer": customer.id})
    assert preview.parent is not None
    assert preview.parent.subscription_details is not None
    assert preview.parent.subscription_details.subscription == sub.id
    assert preview.lines.data[0].amount == 2  # 1.5 cents, Stripe's own example


def test_usage_before_an_item_existed_is_not_billed_on_it(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    meter = make_meter(client, "seedance_seconds_1080p")
    price = make_price(client, meter, "40", "p1080")
    early = int(clock.now) - 10
    client.v1.billing.meter_events.create(
        params={
            "event_name": "seedance_seconds_1080p",
            "identifier": "early",
            "timestamp": early,
            "payload": {"stripe_customer_id": account.customer, "value": "10"},
        }
    )
    client.v1.subscription_items.create(params={"subscription": subscription.id, "price": price})
    client.v1.billing.meter_events.create(
        params={
            "event_name": "seedance_seconds_1080p",
            "identifier": "late",
            "payload": {"stripe_customer_id": account.customer, "value": "3"},
        }
    )

    preview = client.v1.invoices.create_preview(params={"subscription": subscription.id})
    amounts = {line.pricing.price_details.price: line.amount for line in preview.lines.data}  # type: ignore[union-attr]
    assert amounts == {account.price: 0, price: 120}


def test_period_is_invoiced_after_its_end_plus_the_grace_with_late_events(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    end = first_of_next_month(clock)
    send(client, account, identifier="in", value="10", timestamp=int(clock.now))
    clock.now = end + 30 * 60
    send(client, account, identifier="late", value="5", timestamp=end - 1)
    send(client, account, identifier="next", value="7", timestamp=end + 10)
    assert client.v1.invoices.list(params={"subscription": subscription.id}).data == []

    clock.now = end + HOUR + 1
    send(client, account, identifier="too-late", value="100", timestamp=end - 2)
    [invoice] = client.v1.invoices.list(params={"subscription": subscription.id}).data
    assert invoice.status == "open"
    assert (invoice.period_start, invoice.period_end) == (subscription.start_date, end)
    assert invoice.lines.data[0].quantity == 15
    assert client.v1.invoices.retrieve(invoice.id).total == invoice.total == 363
    assert datetime.fromtimestamp(invoice.period_end, UTC).day == 1
