# Django's three steps for a unique field on existing rows: add it nullable, fill, enforce.

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("seedance", "0007_inbound_deliveries"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, null=True),
        ),
    ]
