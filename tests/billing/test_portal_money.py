"""Money in the portal comes from the ledger: a run's cost, and usage without voided rows."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import UsageRecord
from seedance.models import Membership, Run
from seedance.moderation import run_reject
from tests.billing.factories import billable_run, new_price

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def member(tenant: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("mia", "mia@example.com", PASSWORD)
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def test_run_page_cost_is_the_ledgers_not_todays_price(
    tenant: Any, member: Any, client: Any
) -> None:
    run = billable_run(tenant, created_by=member)
    new_price(tenant, "720p", "1")
    client.force_login(member)
    body = client.get(reverse("billing_portal:run-cost", kwargs={"run_id": run.pk})).content
    assert b"$1.21" in body
    assert b"$5.00" not in body


def test_voided_usage_is_not_counted_as_usage(tenant: Any, settings: Any) -> None:
    from billing.selectors import usage_summary

    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}
    kept, rejected = billable_run(tenant), billable_run(tenant)
    Run.objects.filter(pk=rejected.pk).update(moderation=Run.Moderation.PENDING)
    UsageRecord.objects.filter(run=rejected).update(push_state=UsageRecord.PushState.WAITING)
    staff = type(tenant)._meta.apps.get_model("auth", "User").objects.create(username="s")
    run_reject(run_id=rejected.pk, decided_by=staff, reason="policy")
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    summary = usage_summary(tenant=tenant, start=start, end=timezone.now(), group_by="day")
    assert summary.totals.runs == 1
    assert UsageRecord.objects.get(run=rejected).push_state == UsageRecord.PushState.VOIDED
    assert kept.pk != rejected.pk


def test_the_cost_card_says_billed_only_once_stripe_counted_the_run(
    tenant: Any, member: Any, client: Any
) -> None:
    run = billable_run(tenant, created_by=member)
    client.force_login(member)
    url = reverse("billing_portal:run-cost", kwargs={"run_id": run.pk})
    assert "Waiting to be sent to Stripe" in client.get(url).content.decode()
    UsageRecord.objects.filter(run=run).update(push_state=UsageRecord.PushState.CONFIRMED)
    assert "Sent to Stripe" in client.get(url).content.decode()
    UsageRecord.objects.filter(run=run).update(counted_at=timezone.now())
    assert "Stripe counted it" in client.get(url).content.decode()
