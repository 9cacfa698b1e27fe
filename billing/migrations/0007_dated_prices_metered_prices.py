# Dated prices, a meter and price per (resolution, unit price), subscription items and
# what each usage row sends; the old tables go in 0007 once 0006 has copied them.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0006_drop_stripe_event_receipt'),
        ('seedance', '0010_tenant_uuid_unique'),
    ]

    operations = [
        migrations.CreateModel(
            name='MeteredPrice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('resolution', models.CharField(max_length=8)),
                ('unit_price', models.DecimalField(decimal_places=6, max_digits=10)),
                ('event_name', models.CharField(max_length=100, unique=True)),
                ('meter_id', models.CharField(max_length=64, unique=True)),
                ('price_id', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='Price',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('resolution', models.CharField(choices=[('480p', '480p'), ('720p', '720p')], max_length=8)),
                ('per_second', models.DecimalField(decimal_places=6, max_digits=10)),
                ('effective_from', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='SubscriptionItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subscription_id', models.CharField(max_length=64)),
                ('item_id', models.CharField(max_length=64, unique=True)),
                ('added_at', models.DateTimeField()),
                ('retired_at', models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.RemoveIndex(
            model_name='usagerecord',
            name='usage_tenant_completed',
        ),
        migrations.AddField(
            model_name='tenantbilling',
            name='customer_generation',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='tenantbilling',
            name='last_provision_error',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='tenantbilling',
            name='next_provision_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='tenantbilling',
            name='provision_attempts',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='tenantbilling',
            name='subscription_created_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='tenantbilling',
            name='subscription_generation',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='usagerecord',
            name='event_timestamp',
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name='usagerecord',
            name='first_sent_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='usagerecord',
            name='idempotency_key',
            field=models.CharField(blank=True, default='', max_length=120),
        ),
        migrations.AddField(
            model_name='usagerecord',
            name='refused_identifiers',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='usagerecord',
            name='push_state',
            field=models.CharField(choices=[('pending', 'Pending'), ('confirmed', 'Confirmed by Stripe'), ('held', 'Held: no Stripe subscription'), ('needs_attention', 'Needs a human'), ('waiting', 'Waiting: video held for review'), ('voided', 'Voided: video rejected, not billed'), ('refused', 'Refused by Stripe after acceptance: fix, then it is resent')], default='pending', max_length=16),
        ),
        migrations.AddConstraint(
            model_name='meteredprice',
            constraint=models.UniqueConstraint(fields=('resolution', 'unit_price'), name='metered_price_unique'),
        ),
        migrations.AddField(
            model_name='usagerecord',
            name='metered_price',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.meteredprice'),
        ),
        migrations.AddIndex(
            model_name='usagerecord',
            index=models.Index(fields=['tenant', 'event_timestamp'], name='usage_tenant_event_ts'),
        ),
        migrations.AddField(
            model_name='price',
            name='tenant',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='prices', to='seedance.tenant'),
        ),
        migrations.AddField(
            model_name='subscriptionitem',
            name='metered_price',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.meteredprice'),
        ),
        migrations.AddField(
            model_name='subscriptionitem',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='seedance.tenant'),
        ),
        migrations.AddIndex(
            model_name='price',
            index=models.Index(fields=['resolution', 'effective_from'], name='price_effective'),
        ),
        migrations.AddConstraint(
            model_name='price',
            constraint=models.UniqueConstraint(condition=models.Q(('tenant__isnull', False)), fields=('tenant', 'resolution', 'effective_from'), name='price_unique_tenant_date'),
        ),
        migrations.AddConstraint(
            model_name='price',
            constraint=models.UniqueConstraint(condition=models.Q(('tenant__isnull', True)), fields=('resolution', 'effective_from'), name='price_unique_default_date'),
        ),
        migrations.AddConstraint(
            model_name='price',
            constraint=models.CheckConstraint(condition=models.Q(('per_second__gte', 0)), name='price_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='subscriptionitem',
            constraint=models.UniqueConstraint(condition=models.Q(('retired_at__isnull', True)), fields=('subscription_id', 'metered_price'), name='subscription_item_one_live_per_price'),
        ),
    ]
