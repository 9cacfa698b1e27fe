"""Staff see which runs need a person (the attention flag) and resolve paid-not-billed
discrepancies with a note that goes to the audit log."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from seedance.models import AuditEntry, Run, RunDiscrepancy, Tenant
from seedance.states import Attention, RunStatus
from tests.factories import make_run

pytestmark = pytest.mark.django_db

RUNS = "/admin/seedance/run/"
DISCREPANCIES = "/admin/seedance/rundiscrepancy/"


@pytest.fixture
def staff_client(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def paid_not_billed(tenant: Tenant) -> RunDiscrepancy:
    run = make_run(
        tenant,
        status=RunStatus.FAILED,
        failure_code="deadline_exceeded",
        attention=Attention.OVERDUE,
        completed_at=timezone.now(),
        provider_run_id="rf-late-1",
    )
    return RunDiscrepancy.objects.create(
        run=run,
        kind=RunDiscrepancy.Kind.PAID_NOT_BILLED,
        provider_run_id="rf-late-1",
        provider_status="succeeded",
        cost=Decimal("0.9676"),
    )


def test_runs_are_filtered_by_their_attention_flag(tenant: Tenant, staff_client: Client) -> None:
    make_run(tenant, prompt="overdue run", attention=Attention.OVERDUE)
    refused = make_run(tenant, prompt="refused run", attention=Attention.LOOKUP_REFUSED)
    make_run(tenant, prompt="a quiet run")

    page = staff_client.get(RUNS, {"attention__exact": Attention.OVERDUE}).content.decode()

    assert "overdue run" in page
    assert "refused run" not in page
    assert "a quiet run" not in page
    detail = staff_client.get(f"{RUNS}{refused.pk}/change/").content.decode()
    assert "Lookup refused" in detail
    assert "Recheck at" in detail


def test_resolving_asks_for_a_note_and_changes_nothing_without_one(
    tenant: Tenant, staff_client: Client
) -> None:
    discrepancy = paid_not_billed(tenant)
    form = {"action": "mark_resolved", "_selected_action": [str(discrepancy.pk)]}

    asked = staff_client.post(DISCREPANCIES, form)
    refused = staff_client.post(DISCREPANCIES, {**form, "confirm": "yes", "note": " "})

    assert asked.status_code == refused.status_code == 200
    assert b"discrepancy-resolve-form" in asked.content
    discrepancy.refresh_from_db()
    assert discrepancy.resolved_at is None
    assert not AuditEntry.objects.exists()


def test_resolving_records_who_when_and_the_note_in_the_audit_log(
    tenant: Tenant, staff_client: Client, admin_user: Any
) -> None:
    discrepancy = paid_not_billed(tenant)
    note = "Refund asked of Runflow, ticket 4411"

    response = staff_client.post(
        DISCREPANCIES,
        {
            "action": "mark_resolved",
            "_selected_action": [str(discrepancy.pk)],
            "confirm": "yes",
            "note": note,
        },
        follow=True,
    )

    assert "Resolved 1." in response.content.decode()
    discrepancy.refresh_from_db()
    assert discrepancy.resolved_by == admin_user
    assert discrepancy.resolved_at is not None
    assert discrepancy.note == note
    (entry,) = AuditEntry.objects.all()
    assert entry.action == AuditEntry.Action.DISCREPANCY_RESOLVED
    assert (entry.actor, entry.tenant, entry.reason) == (admin_user, tenant, note)
    assert entry.details["provider_run_id"] == "rf-late-1"
    assert Run.objects.get(pk=discrepancy.run_id).status == RunStatus.FAILED


def test_a_resolved_discrepancy_is_not_resolved_again(tenant: Tenant, staff_client: Client) -> None:
    discrepancy = paid_not_billed(tenant)
    form = {
        "action": "mark_resolved",
        "_selected_action": [str(discrepancy.pk)],
        "confirm": "yes",
        "note": "credited",
    }
    staff_client.post(DISCREPANCIES, form)
    staff_client.post(DISCREPANCIES, {**form, "note": "again"})

    discrepancy.refresh_from_db()
    assert discrepancy.note == "credited"
    assert AuditEntry.objects.count() == 1


def test_open_discrepancies_filter(tenant: Tenant, staff_client: Client) -> None:
    discrepancy = paid_not_billed(tenant)
    assert "rf-late-1" in staff_client.get(DISCREPANCIES, {"open": "yes"}).content.decode()
    RunDiscrepancy.objects.filter(pk=discrepancy.pk).update(resolved_at=timezone.now())
    assert "rf-late-1" not in staff_client.get(DISCREPANCIES, {"open": "yes"}).content.decode()
