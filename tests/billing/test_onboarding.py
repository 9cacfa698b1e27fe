"""A tenant made in the portal is subscribed by billing's own provisioning, once committed."""

from typing import Any

import pytest

from billing.autoprovision import provision_due_tenants
from billing.models import TenantBilling
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from billing.tasks import enqueue_provision
from seedance.services.tenants import tenant_create
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def test_a_tenant_created_by_its_founder_is_provisioned_after_commit(
    stripe_fake: StripeFake, django_capture_on_commit_callbacks: Any
) -> None:
    founder = make_person("ada", "ada@example.com")
    with django_capture_on_commit_callbacks() as callbacks:
        created = tenant_create(founder=founder, name="Lumen Studio")
        assert stripe_fake.customers() == []  # nothing leaves before the commit
    assert [callback.__name__ for callback in callbacks] == [enqueue_provision.__name__]
    assert TenantBilling.objects.get(tenant=created.tenant).next_provision_at is not None

    provision_due_tenants(stripe_client())
    (customer,) = stripe_fake.customers()
    assert customer["name"] == "Lumen Studio"
    assert TenantBilling.objects.get(tenant=created.tenant).stripe_customer_id == customer["id"]
    assert len(stripe_fake.subscriptions()) == 1


def test_the_founders_address_is_the_stripe_customers_email(stripe_fake: StripeFake) -> None:
    founder = make_person("ada", "ada@example.com")
    created = tenant_create(founder=founder, name="Lumen Studio")
    assert TenantBilling.objects.get(tenant=created.tenant).billing_email == "ada@example.com"

    provision_due_tenants(stripe_client())
    (customer,) = stripe_fake.customers()
    assert customer["email"] == "ada@example.com"
