"""``manage.py api_fuzz_tenant``: the tenant schemathesis fuzzes with has no caps to meet."""

import io
from decimal import Decimal

from django.core.management import call_command
from rest_framework.test import APIClient

from billing.models import EndUserLimit, TenantBilling
from seedance.models import Tenant
from seedance.services.tenants import tenant_get_or_create


def _run(slug: str) -> str:
    out = io.StringIO()
    call_command("api_fuzz_tenant", slug, stdout=out)
    return out.getvalue().splitlines()[-1]


def test_fuzz_tenant_has_no_caps_and_needs_no_card(db: None) -> None:
    tenant, _ = tenant_get_or_create(slug="fuzz", name="fuzz")
    TenantBilling.objects.update_or_create(
        tenant=tenant,
        defaults={
            "monthly_spend_cap": Decimal("1"),
            "max_in_flight_runs": 1,
            "end_user_monthly_spend_cap": Decimal("1"),
        },
    )
    EndUserLimit.objects.create(tenant=tenant, end_user_id="u", monthly_spend_cap=Decimal("1"))
    _run("fuzz")
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.monthly_spend_cap is None
    assert billing.max_in_flight_runs is None
    assert billing.end_user_monthly_spend_cap is None
    assert billing.payment_method_exempt
    assert not EndUserLimit.objects.filter(tenant=tenant).exists()


def test_fuzz_tenant_key_is_printed_last_and_works(db: None) -> None:
    key = _run("fuzz")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/limits").json()["max_in_flight_runs"] is None
    assert Tenant.objects.get(slug="fuzz")
