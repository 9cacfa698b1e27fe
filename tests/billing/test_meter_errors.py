"""Stripe refuses a meter event after accepting it: the row is flagged refused, shown to
staff and by reconciliation, and once the cause is fixed goes out under a new identifier,
counted once."""

from typing import Any

import pytest
from django.test import Client

from billing.meter_errors import usage_resend_refused
from billing.meters import push_pending_usage
from billing.models import BillingDifference, MeterErrorReport, TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.reconcile import billing_reconcile
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.conftest import Clock, wait_for
from tests.billing.factories import billable_run

Pushed = UsageRecord.PushState


@pytest.mark.django_db(transaction=True)
def test_an_event_refused_after_acceptance_is_flagged_then_resent_once_under_a_new_identifier(
    tenant: Any, destination: StripeFake, clock: Clock, admin_client: Client
) -> None:
    stripe_provision(client=stripe_client(), now=clock.now())
    billing = TenantBilling.objects.get(tenant=tenant)
    TenantBilling.objects.filter(pk=billing.pk).update(stripe_customer_id="cus_nobody_knows")
    run = billable_run(tenant)
    push_pending_usage(now=clock.now())
    row = UsageRecord.objects.get(run=run)
    assert row.push_state == Pushed.CONFIRMED  # Stripe said 200: accepted, not billed

    destination.flush()  # Stripe's validation runs and its report is delivered to us
    wait_for(lambda: UsageRecord.objects.get(pk=row.pk).push_state == Pushed.REFUSED)
    row.refresh_from_db()
    assert "meter_event_customer_not_found" in row.last_push_error
    assert MeterErrorReport.objects.get().rows_flagged == 1
    listed = admin_client.get("/admin/billing/usagerecord/", {"push_state": "refused"})
    assert row.identifier in listed.content.decode()

    clock.advance(minutes=2)
    report = billing_reconcile(client=stripe_client(), now=clock.now())
    (difference,) = report.differences
    assert (difference.ledger_value, difference.stripe_value) == (row.seconds, 0)
    assert "refused" in difference.action
    differences_page = admin_client.get("/admin/billing/billingdifference/").content.decode()
    assert "resend them under a new identifier" in differences_page

    # The cause is fixed (the right customer), then a person resends the refused row.
    TenantBilling.objects.filter(pk=billing.pk).update(
        stripe_customer_id=billing.stripe_customer_id
    )
    assert usage_resend_refused(UsageRecord.objects.filter(pk=row.pk)) == 1
    push_pending_usage(now=clock.now())
    resent = UsageRecord.objects.get(pk=row.pk)
    assert resent.identifier == f"{row.identifier}:2"
    assert resent.refused_identifiers == [row.identifier]
    assert resent.push_state == Pushed.CONFIRMED

    clock.advance(minutes=2)
    report = billing_reconcile(client=stripe_client(), now=clock.now())
    assert report.clean
    counted = [e for e in destination.meter_events() if e["customer"] == billing.stripe_customer_id]
    assert [e["identifier"] for e in counted] == [resent.identifier]
    assert not BillingDifference.objects.filter(state="open").exists()


@pytest.mark.django_db(transaction=True)
def test_a_thin_event_with_a_bad_signature_is_refused_and_counted(
    destination: StripeFake, live_server: Any, client: Client
) -> None:
    response = client.post(
        "/hooks/stripe/events/",
        data='{"id": "evt_forged", "object": "v2.core.event"}',
        content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )
    assert response.status_code == 400
    assert not MeterErrorReport.objects.exists()
