"""The usage page's CSV: the period's ledger rows per run, exact Decimals and UTC ISO
times, scoped as the page is (a member gets only their own runs)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing.models import UsageRecord
from billing.portal.services import month_bounds
from billing.portal.usage_export import CSV_HEADER
from seedance.models import Membership, Person, Tenant
from tests.billing.factories import billable_run

pytestmark = pytest.mark.django_db
CSV_URL = reverse("billing_portal:usage-csv")


def _user(django_user_model: Any, tenant: Tenant, name: str, role: str) -> Any:
    user = django_user_model.objects.create_user(username=name, password="pw")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def _rows(client: Any) -> list[dict[str, str]]:
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    assert tuple(reader.fieldnames or ()) == CSV_HEADER
    return list(reader)


def test_csv_has_one_row_per_ledger_record_with_exact_amounts_and_utc_times(
    client: Any, tenant: Tenant, django_user_model: Any
) -> None:
    admin = _user(django_user_model, tenant, "ada", Membership.Role.ADMIN)
    run = billable_run(tenant, duration="7", resolution="480p", end_user_id="cust-1")
    record = UsageRecord.objects.get(run=run)
    client.force_login(admin)

    (row,) = _rows(client)
    assert row["run_id"] == str(run.pk)
    assert row["created"].endswith("Z")
    assert row["end_user"] == "cust-1"
    assert row["resolution"] == "480p"
    assert row["seconds"] == str(record.seconds)
    assert Decimal(row["unit_price"]) == record.unit_price
    assert Decimal(row["amount"]) == record.amount
    assert row["state"] == record.push_state
    assert b'id="usage-csv"' in client.get(reverse("billing_portal:usage")).content


def test_csv_holds_only_this_periods_rows(
    client: Any, tenant: Tenant, django_user_model: Any
) -> None:
    admin = _user(django_user_model, tenant, "ada", Membership.Role.ADMIN)
    old = billable_run(tenant)
    start, _ = month_bounds(UsageRecord.objects.get(run=old).event_timestamp)
    UsageRecord.objects.filter(run=old).update(event_timestamp=start - timedelta(hours=1))
    current = billable_run(tenant)
    client.force_login(admin)
    assert [row["run_id"] for row in _rows(client)] == [str(current.pk)]


def test_member_csv_holds_only_their_own_runs(
    client: Any, tenant: Tenant, other_tenant: Tenant, django_user_model: Any
) -> None:
    member = _user(django_user_model, tenant, "max", Membership.Role.MEMBER)
    own_id = Person.objects.get_or_create(user=member)[0].end_user_id
    own = billable_run(tenant, created_by=member, end_user_id=own_id)
    billable_run(tenant, end_user_id="cust-1")
    billable_run(other_tenant, end_user_id=own_id)
    client.force_login(member)
    assert [row["run_id"] for row in _rows(client)] == [str(own.pk)]
