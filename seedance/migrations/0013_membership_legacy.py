from django.db import migrations


def mark_legacy(apps, schema_editor):
    """Every membership made before invitations needed consent is marked as such: the
    tenant admin attached the account, the person never agreed."""
    Membership = apps.get_model("seedance", "Membership")
    Membership.objects.filter(joined_via__isnull=True).update(joined_via="legacy")


class Migration(migrations.Migration):
    dependencies = [
        ("seedance", "0012_membership_joined_via_add"),
    ]

    operations = [
        migrations.RunPython(mark_legacy, migrations.RunPython.noop, elidable=True),
    ]
