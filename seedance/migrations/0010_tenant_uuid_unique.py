import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("seedance", "0009_tenant_uuid_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tenant",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
