"""billing's metrics in seedance's ``/metrics``: the usage push backlog and open
reconciliation differences (from the ledger, at scrape time) and Stripe's errors."""

from typing import Any

import pytest
import stripe
from django.core.management import call_command

from billing.meters import push_pending_usage
from billing.models import UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.conftest import Clock
from tests.billing.factories import billable_run
from tests.metrics import TOKEN, scrape, value
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _metrics_token(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "METRICS_TOKEN": TOKEN}


def test_usage_push_backlog_counts_ledger_rows_stripe_has_not_accepted(
    client: Any, tenant: Any, clocked_stripe: StripeFake, clock: Clock
) -> None:
    backlog = "seedance_usage_push_backlog"
    before = scrape(client)
    run = billable_run(tenant)
    state = UsageRecord.objects.get(run=run).push_state
    waiting = scrape(client)
    assert value(waiting, backlog, state=state) == value(before, backlog, state=state) + 1
    stripe_provision(client=stripe_client(), now=clock.now())
    push_pending_usage(now=clock.now())
    assert UsageRecord.objects.get(run=run).push_state == UsageRecord.PushState.CONFIRMED
    assert value(scrape(client), backlog, state=state) == value(before, backlog, state=state)


def test_open_reconciliation_differences_are_counted(
    client: Any, tenant: Any, clocked_stripe: StripeFake, clock: Clock
) -> None:
    stripe_provision(client=stripe_client(), now=clock.now())
    run = billable_run(tenant)
    push_pending_usage(now=clock.now())
    UsageRecord.objects.filter(run=run).update(seconds=4)  # the ledger says less than Stripe
    clock.advance(minutes=2)
    before = value(scrape(client), "seedance_billing_differences_open", kind="meter")
    with pytest.raises(SystemExit):
        call_command("billing_reconcile")
    after = value(scrape(client), "seedance_billing_differences_open", kind="meter")
    assert after == before + 1


def test_stripe_errors_are_counted_by_status_and_network_failure(
    client: Any, stripe_fake: StripeFake, settings: Any
) -> None:
    name = "seedance_stripe_errors_total"
    before = scrape(client)
    stripe_fake.faults.configure(paths=["/v1/customers"], queue=["500"])
    with pytest.raises(stripe.APIError):
        stripe_client().v1.customers.list()
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client().v1.customers.retrieve("cus_missing")
    settings.BILLING = {**settings.BILLING, "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(stripe.APIConnectionError):
        stripe_client().v1.customers.list()
    after = scrape(client)
    for reason in ("500", "404", "network"):
        assert value(after, name, reason=reason) == value(before, name, reason=reason) + 1, reason
