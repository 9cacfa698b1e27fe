"""Without a payment method a tenant may use the allowance once; past it a create answers
402 ``payment_method_required`` over the API and a message with a link in the portal, and
nothing is created. With Stripe off, or for a tenant exempt from before, nothing changes."""

import threading
from collections import Counter
from decimal import Decimal
from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.template import engines
from django.test import Client
from rest_framework.test import APIClient

from billing.checkout import attach_test_card
from billing.checks import check_prices
from billing.models import RunCharge, TenantBilling
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import AuditEntry, Membership, Run, Tenant
from seedance.services.keys import api_key_issue
from tests.billing.payments import PASSWORD, admin_of, new_tenant
from tests.factories import SYSTEM

RUN = {"prompt": "a lantern on a lake", "duration": "5", "resolution": "720p"}
FORM = {**RUN, "aspect_ratio": "16:9"}
RESERVED = Decimal("1.209500")  # 5 s at 0.2419 USD


@pytest.fixture
def unpaid(db: None, stripe_fake: StripeFake) -> Tenant:
    tenant = new_tenant()
    stripe_provision(client=stripe_client(), tenants=[tenant])
    return tenant


def api_for(tenant: Tenant) -> APIClient:
    client = APIClient()
    secret = api_key_issue(tenant=tenant, name="k", actor=SYSTEM).secret
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def allowance(settings: Any, amount: str) -> None:
    settings.BILLING = {**settings.BILLING, "PAYMENT_METHOD_ALLOWANCE": Decimal(amount)}


def test_past_the_allowance_the_api_answers_402_and_creates_nothing(unpaid: Tenant) -> None:
    answer = api_for(unpaid).post("/api/v1/runs", RUN, format="json")
    assert answer.status_code == 402
    error = answer.json()["error"]
    assert error["code"] == "payment_method_required"
    assert "Add a payment method" in error["message"]
    assert not Run.objects.filter(tenant=unpaid).exists()
    assert not RunCharge.objects.filter(tenant=unpaid).exists()


def test_the_portal_form_says_why_and_links_to_adding_a_card(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    client.force_login(admin_of(unpaid, django_user_model))
    page = client.post("/runs/new/", FORM).content.decode()
    assert "Add a payment method to create runs" in page
    assert '<a href="/manage/billing/" id="form-error-action">Add a payment method</a>' in page
    assert not Run.objects.filter(tenant=unpaid).exists()

    member = django_user_model.objects.create_user("mo", "mo@example.com", PASSWORD)
    Membership.objects.create(user=member, tenant=unpaid, role=Membership.Role.MEMBER)
    client.force_login(member)
    told = client.post("/runs/new/", FORM).content.decode()
    assert "Add a payment method to create runs." in told
    assert 'id="form-error-action"' not in told  # the billing page is for admins only


def test_after_a_card_is_added_through_checkout_creates_are_admitted(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    api = api_for(unpaid)
    assert api.post("/api/v1/runs", RUN, format="json").status_code == 402
    assert attach_test_card(unpaid, client=stripe_client())
    assert TenantBilling.objects.get(pk=unpaid.pk).payment_method_last4 == "4242"
    assert api.post("/api/v1/runs", RUN, format="json").status_code == 201
    client.force_login(admin_of(unpaid, django_user_model))
    assert client.post("/runs/new/", FORM).status_code == 302


def test_the_allowance_is_used_once_and_counts_every_committed_run(
    unpaid: Tenant, settings: Any
) -> None:
    allowance(settings, "2")
    api = api_for(unpaid)
    assert api.post("/api/v1/runs", RUN, format="json").status_code == 201
    refused = api.post("/api/v1/runs", RUN, format="json")
    assert refused.status_code == 402
    assert "2.00 USD in all (0.79 USD left)" in refused.json()["error"]["message"]
    # A grace, not a discount: the admitted run is reserved (and billed) like any other.
    assert RunCharge.objects.get(tenant=unpaid).amount == RESERVED


def test_a_released_reservation_gives_its_allowance_back(unpaid: Tenant, settings: Any) -> None:
    allowance(settings, "2")
    api = api_for(unpaid)
    assert api.post("/api/v1/runs", RUN, format="json").status_code == 201
    RunCharge.objects.filter(tenant=unpaid).update(
        state=RunCharge.State.RELEASED, amount=Decimal(0)
    )
    assert api.post("/api/v1/runs", RUN, format="json").status_code == 201


def test_an_exempt_tenant_and_a_deployment_without_stripe_are_never_refused(
    unpaid: Tenant, settings: Any
) -> None:
    TenantBilling.objects.filter(pk=unpaid.pk).update(payment_method_exempt=True)
    assert api_for(unpaid).post("/api/v1/runs", RUN, format="json").status_code == 201
    TenantBilling.objects.filter(pk=unpaid.pk).update(payment_method_exempt=False)
    settings.BILLING = {**settings.BILLING, "STRIPE_API_KEY": ""}
    assert api_for(unpaid).post("/api/v1/runs", RUN, format="json").status_code == 201


def test_staff_turn_the_exemption_off_in_the_admin_with_a_reason_kept_in_the_audit_log(
    unpaid: Tenant, admin_client: Client
) -> None:
    TenantBilling.objects.filter(pk=unpaid.pk).update(payment_method_exempt=True)
    url = f"/admin/billing/tenantbilling/{unpaid.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="payment_method_exempt"' in page
    assert 'name="payment_method_id"' not in page  # read from Stripe, never typed in
    caps = {"monthly_spend_cap": "", "max_in_flight_runs": "", "end_user_monthly_spend_cap": ""}
    assert admin_client.post(url, {**caps, "reason": "signed up in 2025"}).status_code == 302
    assert not TenantBilling.objects.get(pk=unpaid.pk).payment_method_exempt
    entry = AuditEntry.objects.get(tenant=unpaid, action=AuditEntry.Action.CAP_CHANGED)
    assert entry.details == {"payment_method_exempt": {"before": True, "after": False}}
    assert entry.reason == "signed up in 2025"
    assert api_for(unpaid).post("/api/v1/runs", RUN, format="json").status_code == 402


def test_tenants_existing_before_the_change_are_marked_exempt_rows_made_where_missing(
    db: None,
) -> None:
    with_row, without_row = new_tenant("old-one"), new_tenant("old-two")
    TenantBilling.objects.filter(pk=without_row.pk).delete()
    migration = import_module("billing.migrations.0014_exempt_existing_tenants")
    migration.exempt_existing(apps, None)
    rows = TenantBilling.objects.filter(tenant__in=[with_row, without_row])
    assert sorted(rows.values_list("payment_method_exempt", flat=True)) == [True, True]
    assert not TenantBilling.objects.get(pk=new_tenant("new-one").pk).payment_method_exempt


def test_the_notice_tells_admins_with_a_link_and_members_more_softly(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    client.force_login(admin_of(unpaid, django_user_model))
    page = client.get("/runs/").content.decode()
    assert 'id="payment-method-notice"' in page
    assert "New runs are refused until this account has a payment method." in page
    assert '<a href="/manage/billing/">Add a card</a>' in page

    member = django_user_model.objects.create_user("mo", "mo@example.com", PASSWORD)
    Membership.objects.create(user=member, tenant=unpaid, role=Membership.Role.MEMBER)
    client.force_login(member)
    soft = client.get("/runs/").content.decode()
    assert "New runs are paused until an admin of Initech adds a payment method." in soft
    assert "/manage/billing/" not in soft

    attach_test_card(unpaid, client=stripe_client())
    assert 'id="payment-method-notice"' not in client.get("/runs/").content.decode()


def test_within_the_allowance_there_is_no_notice(
    unpaid: Tenant, django_user_model: Any, client: Client, settings: Any
) -> None:
    allowance(settings, "5")
    client.force_login(admin_of(unpaid, django_user_model))
    assert 'id="payment-method-notice"' not in client.get("/runs/").content.decode()


def test_billing_is_in_the_manage_menu_and_the_next_steps_offer_a_card(
    unpaid: Tenant, django_user_model: Any, client: Client
) -> None:
    admin = admin_of(unpaid, django_user_model)
    client.force_login(admin)
    billing_page = client.get("/manage/billing/").content.decode()
    active = '<a href="/manage/billing/" class="active" aria-current="page">Billing</a>'
    assert active in billing_page
    assert 'id="no-card"' in billing_page
    assert 'id="add-card"' in billing_page
    template = engines["django"].from_string(
        '{% load portal_extensions %}{% portal_panels "onboarding.next_steps" %}'
    )
    membership = Membership.objects.get(user=admin)
    steps = template.render({"membership": membership})
    assert 'href="/manage/billing/" id="onboarding-add-card">Add a payment method</a>' in steps


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_creates_never_use_more_than_the_allowance(
    stripe_fake: StripeFake, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    tenant = new_tenant()
    stripe_provision(client=stripe_client(), tenants=[tenant])
    allowance(settings, str(RESERVED * 5))
    secret = api_key_issue(tenant=tenant, name="k", actor=SYSTEM).secret
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def create() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            statuses.append(client.post("/api/v1/runs", RUN, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {201: 5, 402: 15}
    assert RunCharge.objects.filter(tenant=tenant).count() == 5


def test_the_demo_command_saves_the_test_card_once(unpaid: Tenant, stripe_fake: StripeFake) -> None:
    out = StringIO()
    call_command("billing_test_card", "initech", stdout=out)
    call_command("billing_test_card", "initech", stdout=out)
    assert out.getvalue().splitlines() == [
        "initech: test card 4242 on file",
        "initech: card on file already (4242)",
    ]
    assert len(stripe_fake.payment_methods()) == 1
    assert [s["status"] for s in stripe_fake.checkout_sessions()] == ["complete"]


@pytest.mark.parametrize("bad", [5.0, Decimal("-1"), Decimal("NaN")])
def test_an_allowance_that_is_not_a_non_negative_decimal_is_refused_at_startup(
    settings: Any, bad: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "PAYMENT_METHOD_ALLOWANCE": bad}
    assert [error.id for error in check_prices(None)] == ["billing.E008"]
