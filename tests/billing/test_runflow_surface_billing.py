"""One run made on the Runflow-compatible surface is one run everywhere: the same id,
status, seconds, amount and meter event in /v1, /api/v1, the portal, usage and Stripe."""

from typing import Any

from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from billing.meters import push_pending_usage
from billing.models import UsageRecord
from billing.portal.services import usd
from billing.provisioning import stripe_provision
from billing.reconcile import billing_reconcile
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import Membership, Run
from seedance.services.keys import api_key_issue
from tests.billing.conftest import Clock
from tests.factories import SYSTEM, finish_successfully, make_person


def test_a_compatible_run_shows_the_same_money_in_every_place_and_in_stripe(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock
) -> None:
    stripe_provision(client=stripe_client(), tenants=[tenant], now=clock.now())
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_issue(tenant=tenant, name='k', actor=SYSTEM).secret}"
    )
    created = api.post(
        reverse("runflow_compat:model-runs"),
        {"input": {"prompt": "a heron", "duration": "6", "end_user_id": "user-3"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    estimate = created.json()
    assert estimate["cost"] is None
    assert (estimate["cost_breakdown"]["state"], estimate["cost_breakdown"]["amount"]) == (
        "estimate",
        "1.451400",  # the worst case of 6 s at $0.2419: reserved, not yet owed
    )
    run = finish_successfully(Run.objects.get(pk=created.json()["id"]))
    push_pending_usage(now=clock.advance(seconds=5))
    clock.advance(seconds=20)
    assert billing_reconcile(client=stripe_client(), now=clock.now()).clean
    record = UsageRecord.objects.get(run=run)
    assert record.counted_at is not None
    assert (record.seconds, str(record.amount)) == (6, "1.451400")

    compat = api.get(reverse("runflow_compat:run-detail", args=[run.pk])).json()
    assert (compat["id"], compat["status_code"], compat["cost"]) == (
        str(run.pk),
        "succeeded",
        "1.451400",
    )
    assert compat["cost_breakdown"] == {
        "state": "billed",
        "amount": "1.451400",
        "currency": "usd",
        "unit_price": "0.241900",
        "seconds": 6,
        "meter_event_identifier": record.identifier,
    }
    ours = api.get(reverse("api:run-detail", args=[run.pk])).json()
    listed = api.get(reverse("api:runs")).json()["results"]
    assert [item["id"] for item in listed] == [str(run.pk)]
    for shown in (ours, listed[0]):
        assert shown["status"] == "succeeded"
        assert shown["charge"] == compat["cost_breakdown"]

    usage = api.get(reverse("billing_api:usage")).json()["totals"]
    assert usage == {"runs": 1, "seconds": 6, "amount": "1.451400"}

    person = make_person("ada", "ada@example.com", "pw")
    Membership.objects.create(user=person, tenant=tenant, role=Membership.Role.ADMIN)
    portal = Client()
    portal.force_login(person)
    card = portal.get(reverse("billing_portal:run-cost", args=[run.pk])).content.decode()
    assert usd(record.amount) in card
    assert "6 s \N{MULTIPLICATION SIGN}" in card
    assert record.identifier in card
    detail = portal.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    assert str(run.pk) in detail

    [event] = clocked_stripe.meter_events()
    assert event["identifier"] == record.identifier
    assert event["value"] == 6
    assert event["error"] is None
