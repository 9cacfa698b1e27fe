from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0008_fill_prices_event_timestamps"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='stripeprice',
            name='stripe_price_unique',
        ),
        migrations.RemoveConstraint(
            model_name='tenantprice',
            name='tenant_price_unique',
        ),
        migrations.RemoveConstraint(
            model_name='tenantprice',
            name='tenant_price_non_negative',
        ),
        migrations.RemoveField(
            model_name='stripeprice',
            name='meter',
        ),
        migrations.RemoveField(
            model_name='tenantprice',
            name='tenant',
        ),
        migrations.DeleteModel(
            name='StripeMeter',
        ),
        migrations.DeleteModel(
            name='StripePrice',
        ),
        migrations.DeleteModel(
            name='TenantPrice',
        ),
        migrations.AlterField(
            model_name="usagerecord",
            name="event_timestamp",
            field=models.DateTimeField(),
        ),
    ]
