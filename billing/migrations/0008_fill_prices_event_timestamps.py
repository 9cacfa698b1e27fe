# Tenants' own prices become dated rows in effect since before any run; every usage row's
# meter event timestamp starts as its completion time.

from datetime import UTC, datetime

from django.db import migrations
from django.db.models import F

SINCE_ALWAYS = datetime(2000, 1, 1, tzinfo=UTC)


def forward(apps, schema_editor):
    TenantPrice = apps.get_model("billing", "TenantPrice")
    Price = apps.get_model("billing", "Price")
    UsageRecord = apps.get_model("billing", "UsageRecord")
    Price.objects.bulk_create(
        Price(
            tenant_id=old.tenant_id,
            resolution=old.resolution,
            per_second=old.price_per_second,
            effective_from=SINCE_ALWAYS,
        )
        for old in TenantPrice.objects.all()
    )
    UsageRecord.objects.filter(event_timestamp__isnull=True).update(
        event_timestamp=F("completed_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0007_dated_prices_metered_prices"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
