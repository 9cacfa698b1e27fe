from django.db import migrations, models


class Migration(migrations.Migration):
    """How each membership came to be, and when it was last used; 0013 fills the old rows."""

    dependencies = [
        ("seedance", "0011_suspension_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="joined_via",
            field=models.CharField(
                choices=[
                    ("founder", "Created the tenant"),
                    ("invitation", "Accepted an invitation"),
                    ("staff", "Added by platform staff"),
                    ("legacy", "Added before invitations needed consent"),
                ],
                max_length=16,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
