"""A tenant's subscription state comes from its newest subscription of ours, read fresh
from Stripe: never from invoices, never from another deployment's objects."""

import itertools
import time
from typing import Any

import pytest

from billing.models import TenantBilling
from billing.naming import NAMESPACE_KEY, TENANT_KEY
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from billing.subscriptions import stripe_event_apply

Status = TenantBilling.SubscriptionStatus
_ids = itertools.count(1)


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_test_{next(_ids)}",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


@pytest.fixture
def subscribed(tenant: Any, stripe_fake: StripeFake) -> TenantBilling:
    stripe_provision(client=stripe_client())
    return TenantBilling.objects.get(tenant=tenant)


def test_state_is_read_from_the_subscription_not_from_the_events_body(
    subscribed: TenantBilling, stripe_fake: StripeFake
) -> None:
    stripe_fake.set_subscription_status(subscribed.stripe_subscription_id, "past_due")
    stale = {"id": subscribed.stripe_subscription_id, "status": "active"}
    assert stripe_event_apply(event("customer.subscription.updated", stale))
    assert TenantBilling.objects.get(pk=subscribed.pk).subscription_status == Status.PAST_DUE


def test_paid_invoice_after_the_subscription_was_deleted_leaves_the_tenant_canceled(
    subscribed: TenantBilling, stripe_fake: StripeFake
) -> None:
    subscription_id = subscribed.stripe_subscription_id
    stripe_client().v1.subscriptions.cancel(subscription_id)
    stripe_event_apply(event("customer.subscription.deleted", {"id": subscription_id}))
    invoice = {
        "id": "in_final",
        "customer": subscribed.stripe_customer_id,
        "parent": {"subscription_details": {"subscription": subscription_id}},
    }
    assert not stripe_event_apply(event("invoice.paid", invoice))
    assert TenantBilling.objects.get(pk=subscribed.pk).subscription_status == Status.CANCELED


def test_a_subscription_of_another_namespace_changes_nothing(
    tenant: Any, subscribed: TenantBilling, stripe_fake: StripeFake
) -> None:
    client = stripe_client()
    price_id = stripe_fake.subscriptions()[0]["items"]["data"][0]["price"]["id"]
    foreign = client.v1.subscriptions.create(
        params={
            "customer": subscribed.stripe_customer_id,
            "items": [{"price": price_id}],
            "metadata": {NAMESPACE_KEY: "seedance-staging", TENANT_KEY: str(tenant.uuid)},
        }
    )
    stripe_fake.set_subscription_status(foreign.id, "past_due")
    assert not stripe_event_apply(event("customer.subscription.updated", {"id": foreign.id}))
    billing = TenantBilling.objects.get(pk=subscribed.pk)
    assert billing.stripe_subscription_id == subscribed.stripe_subscription_id
    assert billing.subscription_status == Status.ACTIVE


def test_a_resubscribed_tenant_follows_its_newest_subscription(
    tenant: Any, subscribed: TenantBilling, stripe_fake: StripeFake
) -> None:
    old = subscribed.stripe_subscription_id
    stripe_client().v1.subscriptions.cancel(old)
    stripe_event_apply(event("customer.subscription.deleted", {"id": old}))
    time.sleep(1.01)  # Stripe's ``created`` is in whole seconds
    stripe_provision(client=stripe_client(), resubscribe=True)
    new = TenantBilling.objects.get(pk=subscribed.pk).stripe_subscription_id
    assert new != old
    # The old subscription's late news never takes the tenant back.
    assert not stripe_event_apply(event("customer.subscription.updated", {"id": old}))
    billing = TenantBilling.objects.get(pk=subscribed.pk)
    assert (billing.stripe_subscription_id, billing.subscription_status) == (new, Status.ACTIVE)


def test_each_event_id_is_acted_on_once(subscribed: TenantBilling, stripe_fake: StripeFake) -> None:
    stripe_fake.set_subscription_status(subscribed.stripe_subscription_id, "unpaid")
    news = event("customer.subscription.updated", {"id": subscribed.stripe_subscription_id})
    assert stripe_event_apply(news)
    assert not stripe_event_apply(news)
