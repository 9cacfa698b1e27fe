"""The run page's cost card asks again until the cost stops changing: in flight, while the
video is copied or held for review, and while the usage is about to be sent to Stripe."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import UsageRecord
from seedance.models import Membership, Run
from seedance.moderation import run_approve
from seedance.run_input import RunInput
from seedance.services.runs import run_create
from tests.billing.factories import billable_run
from tests.factories import finish_successfully

POLL = 'hx-trigger="every 2s"'


@pytest.fixture
def member(tenant: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("mia", "mia@example.com", "pw-for-tests-123")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def signed_in(client: Client, member: Any) -> Client:
    client.force_login(member)
    return client


def cost_of(client: Client, run: Run) -> str:
    return client.get(
        reverse("billing_portal:run-cost", kwargs={"run_id": run.pk})
    ).content.decode()


def test_a_run_in_flight_shows_its_reservation_and_asks_again(
    signed_in: Client, tenant: Any, member: Any
) -> None:
    run, _ = run_create(
        tenant=tenant, run_input=RunInput(prompt="a kite", duration="5"), created_by=member
    )
    html = cost_of(signed_in, run)
    assert "billed only if it succeeds" in html
    assert POLL in html
    assert 'data-settled="false"' in html


def test_once_billed_the_card_says_the_amount_and_stops_asking(
    signed_in: Client, tenant: Any, member: Any
) -> None:
    html = cost_of(signed_in, billable_run(tenant, created_by=member))
    assert "$1.21" in html
    assert "billed only if it succeeds" not in html
    assert POLL not in html


def test_with_stripe_on_a_pending_push_keeps_asking_until_sent(
    signed_in: Client, tenant: Any, member: Any, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_API_KEY": "sk_test_x"}
    run = billable_run(tenant, created_by=member)
    assert POLL in cost_of(signed_in, run)
    UsageRecord.objects.filter(run=run).update(push_state=UsageRecord.PushState.CONFIRMED)
    assert POLL not in cost_of(signed_in, run)


def test_a_held_run_asks_again_until_the_review_decides(
    signed_in: Client, tenant: Any, member: Any, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}
    run, _ = run_create(
        tenant=tenant, run_input=RunInput(prompt="a kite", duration="5"), created_by=member
    )
    run = finish_successfully(run, nsfw_detected=True)
    held = cost_of(signed_in, run)
    assert "billed only if approved" in held
    assert POLL in held
    run_approve(run_id=run.pk, decided_by=member)
    approved = cost_of(signed_in, run)
    assert "billed only if approved" not in approved
    assert POLL not in approved
