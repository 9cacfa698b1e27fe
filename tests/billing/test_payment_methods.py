"""A tenant's card changes only from Stripe's own state: a completed Checkout read by the
server, or a verified event's news re-read from the customer; the success URL alone proves
nothing. The Billing Portal uses one configuration, made once."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from billing.checkout import checkout_session_apply, checkout_start
from billing.customer_portal import FEATURES
from billing.exceptions import CheckoutNotOurs
from billing.models import PortalConfiguration, TenantBilling
from billing.naming import object_metadata
from billing.provisioning import ProvisionReport, provision_tenant, stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_events import stripe_event_apply
from billing.stripe_fake import StripeFake
from seedance.models import Membership, Tenant
from tests.billing.payments import admin_of, new_tenant, save_card_on_checkout_page

SUCCESS = "http://testserver/manage/billing/checkout/done/?session_id={CHECKOUT_SESSION_ID}"


@pytest.fixture
def unpaid(db: None, stripe_fake: StripeFake) -> Tenant:
    tenant = new_tenant()
    stripe_provision(client=stripe_client(), tenants=[tenant])
    return tenant


def record(tenant: Tenant) -> TenantBilling:
    return TenantBilling.objects.get(pk=tenant.pk)


def checkout_url(tenant: Tenant) -> str:
    return checkout_start(
        tenant=tenant,
        success_url=SUCCESS,
        cancel_url="http://testserver/manage/billing/",
        client=stripe_client(),
    )


def session_id_of(url: str) -> str:
    return url.rpartition("/")[2]


def news(kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> Any:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {"id": f"evt_{kind}", "type": kind, "created": 1, "data": data}


def stripe_default(tenant: Tenant) -> Any:
    customer = stripe_client().v1.customers.retrieve(str(record(tenant).stripe_customer_id))
    return customer.invoice_settings.default_payment_method


def test_a_completed_checkout_makes_its_card_the_customers_default_and_records_it(
    unpaid: Tenant,
) -> None:
    url = checkout_url(unpaid)
    save_card_on_checkout_page(url)
    completed = news("checkout.session.completed", {"id": session_id_of(url), "mode": "setup"})
    assert stripe_event_apply(completed)
    billing = record(unpaid)
    assert (billing.payment_method_brand, billing.payment_method_last4) == ("visa", "4242")
    assert stripe_default(unpaid) == billing.payment_method_id
    stripe_event_apply(completed)  # the same news again (a redelivery) changes nothing
    assert record(unpaid).payment_method_id == billing.payment_method_id
    assert stripe_default(unpaid) == billing.payment_method_id


def test_opening_the_success_url_of_an_unfinished_checkout_leaves_no_payment_method(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    client.force_login(admin_of(unpaid, django_user_model))
    started = client.post("/manage/billing/checkout/")
    assert started.status_code == 302
    fake_page = started["Location"]
    done = f"/manage/billing/checkout/done/?session_id={session_id_of(fake_page)}"
    answer = client.get(done, follow=True)
    assert "Checkout was not completed: no card was saved." in answer.content.decode()
    assert 'id="no-card"' in answer.content.decode()
    assert not record(unpaid).has_payment_method
    assert stripe_default(unpaid) is None


def test_the_success_page_reads_the_completed_session_and_applies_it(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    client.force_login(admin_of(unpaid, django_user_model))
    fake_page = client.post("/manage/billing/checkout/")["Location"]
    redirect = save_card_on_checkout_page(fake_page).headers["location"]
    success = urlsplit(redirect)
    assert success.path == "/manage/billing/checkout/done/"
    assert parse_qs(success.query)["session_id"] == [session_id_of(fake_page)]
    page = client.get(f"{success.path}?{success.query}", follow=True).content.decode()
    assert "Card saved" in page
    assert "Visa ending in 4242" in page
    assert stripe_default(unpaid) == record(unpaid).payment_method_id


def test_another_tenants_completed_checkout_is_refused_on_this_tenants_success_page(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    other = new_tenant("hooli")
    stripe_provision(client=stripe_client(), tenants=[other])
    url = checkout_url(other)
    save_card_on_checkout_page(url)
    client.force_login(admin_of(unpaid, django_user_model))
    client.get(f"/manage/billing/checkout/done/?session_id={session_id_of(url)}")
    assert not record(unpaid).has_payment_method
    assert not record(other).has_payment_method  # nobody applied it yet: only its own may
    with pytest.raises(CheckoutNotOurs):
        checkout_session_apply(session_id_of(url), client=stripe_client(), tenant=unpaid)


def test_a_checkout_of_another_deployment_is_ignored(unpaid: Tenant, settings: Any) -> None:
    client = stripe_client()
    settings.BILLING = {**settings.BILLING, "NAMESPACE": "someone-else"}
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "currency": "usd",
            "customer": str(record(unpaid).stripe_customer_id),
            "metadata": object_metadata(unpaid),
        }
    )
    settings.BILLING = {**settings.BILLING, "NAMESPACE": "seedance-dev"}
    save_card_on_checkout_page(str(session.url))
    completed = news("checkout.session.completed", {"id": session.id, "mode": "setup"})
    assert not stripe_event_apply(completed)
    assert not record(unpaid).has_payment_method


def test_customer_updated_is_news_the_record_follows_the_customer_read_from_stripe(
    unpaid: Tenant,
) -> None:
    customer_id = str(record(unpaid).stripe_customer_id)
    lying = {
        "id": customer_id,
        "email": "mallory@evil.test",
        "invoice_settings": {"default_payment_method": "pm_forged"},
    }
    stripe_event_apply(news("customer.updated", lying))
    assert not record(unpaid).has_payment_method
    assert record(unpaid).billing_email == ""
    stripe_client().v1.customers.update(customer_id, params={"email": "ap@initech.test"})
    assert stripe_event_apply(news("customer.updated", lying))
    assert record(unpaid).billing_email == "ap@initech.test"


def test_a_detached_default_card_is_cleared_on_its_event(unpaid: Tenant) -> None:
    url = checkout_url(unpaid)
    save_card_on_checkout_page(url)
    checkout_session_apply(session_id_of(url), client=stripe_client())
    method = record(unpaid).payment_method_id
    stripe_client().v1.payment_methods.detach(method)
    detached = {"id": method, "object": "payment_method", "customer": None}
    customer = record(unpaid).stripe_customer_id
    assert stripe_event_apply(news("payment_method.detached", detached, {"customer": customer}))
    billing = record(unpaid)
    assert (billing.payment_method_id, billing.payment_method_last4) == ("", "")


def test_events_about_customers_that_are_not_ours_change_nothing(unpaid: Tenant) -> None:
    stranger = stripe_client().v1.customers.create(params={"email": "x@y.test"})
    assert not stripe_event_apply(news("customer.updated", {"id": stranger.id}))
    assert not stripe_event_apply(
        news("payment_method.detached", {"id": "pm_x", "customer": None}, {"customer": "cus_x"})
    )


def test_provisioning_makes_one_portal_configuration_used_by_every_session(
    unpaid: Tenant, stripe_fake: StripeFake, django_user_model: Any, client: Client
) -> None:
    stripe_provision(client=stripe_client())
    stripe_provision(client=stripe_client(), tenants=[new_tenant("hooli")])
    [configuration] = stripe_fake.portal_configurations()
    features = configuration["features"]
    assert features["invoice_history"]["enabled"]
    assert features["payment_method_update"]["enabled"]
    assert features["customer_update"] == {
        "enabled": True,
        "allowed_updates": ["email", "address", "tax_id"],
    }
    assert not features["subscription_cancel"]["enabled"]
    assert not features["subscription_update"]["enabled"]
    assert configuration["metadata"]["seedance_namespace"] == "seedance-dev"
    stored = PortalConfiguration.objects.get()
    assert (stored.namespace, stored.configuration_id) == ("seedance-dev", configuration["id"])
    assert FEATURES["subscription_update"] == {"enabled": False}

    client.force_login(admin_of(unpaid, django_user_model))
    portal = client.post("/manage/billing/portal/")
    assert portal.status_code == 302
    [session] = stripe_fake.store.portal_sessions.values()
    assert session["configuration"] == configuration["id"]
    assert session["return_url"] == "http://testserver/manage/billing/"
    assert portal["Location"] == session["url"]


def test_a_lost_portal_configuration_row_finds_ours_at_stripe_instead_of_making_another(
    unpaid: Tenant, stripe_fake: StripeFake
) -> None:
    PortalConfiguration.objects.all().delete()
    stripe_provision(client=stripe_client(), tenants=[unpaid])
    assert len(stripe_fake.portal_configurations()) == 1
    assert PortalConfiguration.objects.count() == 1


def test_provisioning_gives_a_new_customer_the_billing_email_when_known(
    db: None, stripe_fake: StripeFake
) -> None:
    tenant = new_tenant("piedpiper")
    provision_tenant(
        stripe_client(), tenant, ProvisionReport(), now=timezone.now(), email="r@pp.test"
    )
    customer = stripe_client().v1.customers.retrieve(str(record(tenant).stripe_customer_id))
    assert customer.email == "r@pp.test"
    assert record(tenant).billing_email == "r@pp.test"
    quiet = new_tenant("hooli")
    stripe_provision(client=stripe_client(), tenants=[quiet])
    quiet_customer = str(record(quiet).stripe_customer_id)
    assert stripe_client().v1.customers.retrieve(quiet_customer).email is None


def test_the_billing_email_is_validated_then_set_on_the_stripe_customer(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    client.force_login(admin_of(unpaid, django_user_model))
    refused = client.post("/manage/billing/", {"email": "not an email"})
    assert refused.status_code == 200
    assert "Enter a valid email address." in refused.content.decode()
    customer_id = str(record(unpaid).stripe_customer_id)
    assert stripe_client().v1.customers.retrieve(customer_id).email is None
    saved = client.post("/manage/billing/", {"email": "ap@initech.test"}, follow=True)
    assert "Billing email saved." in saved.content.decode()
    assert stripe_client().v1.customers.retrieve(customer_id).email == "ap@initech.test"
    assert record(unpaid).billing_email == "ap@initech.test"


def test_the_billing_page_is_for_admins_only(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    user = django_user_model.objects.create_user("mo", "mo@example.com", "pw-for-tests-123")
    Membership.objects.create(user=user, tenant=unpaid, role=Membership.Role.MEMBER)
    client.force_login(user)
    for url in ("/manage/billing/", "/manage/billing/checkout/done/?session_id=cs_x"):
        assert client.get(url).status_code == 404
    for url in ("/manage/billing/checkout/", "/manage/billing/portal/"):
        assert client.post(url).status_code == 404


def test_stripe_unreachable_on_the_billing_page_is_a_message_not_a_500(
    unpaid: Tenant, stripe_fake: StripeFake, django_user_model: Any, client: Client
) -> None:
    client.force_login(admin_of(unpaid, django_user_model))
    stripe_fake.faults.configure(paths=["/v1/checkout/sessions"], queue=["500"])
    answer = client.post("/manage/billing/checkout/", follow=True)
    assert answer.redirect_chain == [("/manage/billing/", 302)]
    assert "Stripe could not be reached just now" in answer.content.decode()
    assert stripe_fake.checkout_sessions() == []
