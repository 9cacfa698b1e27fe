import uuid

from django.db import migrations


def fill(apps, schema_editor):
    Tenant = apps.get_model("seedance", "Tenant")
    for tenant in Tenant.objects.filter(uuid__isnull=True).only("pk"):
        Tenant.objects.filter(pk=tenant.pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("seedance", "0008_tenant_uuid_add"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
