"""Tenants that existed before payment methods were asked for keep creating runs without
one (exempt) until staff turn that off; each gets a billing row if it had none."""

from typing import Any

from django.db import migrations


def exempt_existing(apps: Any, schema_editor: Any) -> None:
    Tenant = apps.get_model("seedance", "Tenant")
    TenantBilling = apps.get_model("billing", "TenantBilling")
    have = set(TenantBilling.objects.values_list("tenant_id", flat=True))
    TenantBilling.objects.bulk_create(
        [
            TenantBilling(tenant_id=pk)
            for pk in Tenant.objects.values_list("pk", flat=True)
            if pk not in have
        ]
    )
    TenantBilling.objects.update(payment_method_exempt=True)


class Migration(migrations.Migration):
    dependencies = [("billing", "0013_payment_methods")]

    operations = [migrations.RunPython(exempt_existing, migrations.RunPython.noop)]
