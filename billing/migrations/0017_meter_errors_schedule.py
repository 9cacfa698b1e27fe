from django.db import migrations


def create_schedules(apps, schema_editor):
    from billing.schedules import ensure_schedules

    ensure_schedules(apps.get_model("django_q", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0016_meter_error_report_check"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
