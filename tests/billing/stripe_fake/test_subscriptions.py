"""Subscriptions as billing uses them: anchored, backdated, flexible, items added and removed."""

from datetime import UTC, datetime

import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import Account, Clock, make_meter, make_price

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def first_of_next_month(clock: Clock) -> int:
    now = datetime.fromtimestamp(clock.now, UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def subscribe(client: stripe.StripeClient, account: Account, clock: Clock) -> stripe.Subscription:
    return client.v1.subscriptions.create(
        params={
            "customer": account.customer,
            "items": [{"price": account.price}],
            "billing_mode": {"type": "flexible"},
            "billing_cycle_anchor": first_of_next_month(clock),
            "backdate_start_date": int(clock.now) - 3_600,
            "proration_behavior": "none",
            "metadata": {"tenant": "acme"},
        }
    )


def test_first_period_runs_from_the_backdate_to_the_anchor_then_monthly(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    anchor = first_of_next_month(clock)

    assert subscription.billing_mode.type == "flexible"
    assert subscription.start_date == int(clock.now) - 3_600
    [item] = subscription["items"].data
    assert (item.current_period_start, item.current_period_end) == (
        int(clock.now) - 3_600,
        anchor,
    )
    clock.now = anchor + 10
    [item] = client.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert item.current_period_start == anchor
    assert datetime.fromtimestamp(item.current_period_end, UTC).day == 1


def test_anchor_in_the_past_is_refused(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(
            params={
                "customer": account.customer,
                "items": [{"price": account.price}],
                "billing_cycle_anchor": int(clock.now) - 10,
            }
        )
    assert exc.value.param == "billing_cycle_anchor"


def test_items_are_added_and_removed_and_keep_their_created_time(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    other = make_price(client, make_meter(client, "seedance_seconds_1080p"), "40", "p1080")
    clock.now += 100

    added = client.v1.subscription_items.create(
        params={"subscription": subscription.id, "price": other}
    )
    assert added.created == int(clock.now)
    [first] = subscription["items"].data
    client.v1.subscription_items.delete(first.id)
    items = client.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert [i.id for i in items] == [added.id]

    updated = client.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [{"id": added.id, "deleted": True}, {"price": account.price}],
            "metadata": {"plan": "pro"},
        },
    )
    assert [i.price.id for i in updated["items"].data] == [account.price]
    assert updated.metadata.to_dict() == {"tenant": "acme", "plan": "pro"}


def test_same_price_twice_and_more_than_20_items_are_refused(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_items.create(
            params={"subscription": subscription.id, "price": account.price}
        )
    meter = make_meter(client, "many")
    prices = [make_price(client, meter, "1", f"k{n}") for n in range(20)]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(
            subscription.id, params={"items": [{"price": price} for price in prices]}
        )
    assert "at most 20" in str(exc.value.user_message)


def test_subscriptions_are_found_by_metadata_and_all_statuses_listed(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    found = client.v1.subscriptions.search(params={"query": "metadata['tenant']:'acme'"})
    assert [s.id for s in found.data] == [subscription.id]

    client.v1.subscriptions.cancel(subscription.id)
    assert client.v1.subscriptions.list(params={"customer": account.customer}).data == []
    every = client.v1.subscriptions.list(params={"customer": account.customer, "status": "all"})
    assert [s.status for s in every.data] == ["canceled"]


def test_changing_an_items_price_in_place_is_refused_not_ignored(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    subscription = subscribe(client, account, clock)
    other = make_price(client, make_meter(client, "seedance_seconds_1080p"), "40", "p1080")
    [item] = subscription["items"].data

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(
            subscription.id, params={"items": [{"id": item.id, "price": other}]}
        )
    assert exc.value.param == "items[0][price]"
