from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from billing import checks  # noqa: F401  (registers the system checks)
        from billing.models import Price
        from billing.receivers import (
            on_price_saved,
            on_run_cost_recorded,
            on_run_delivery_settled,
            on_run_finished,
            on_run_moderated,
            on_tenant_saved,
        )
        from seedance.models import Tenant
        from seedance.signals import (
            run_cost_recorded,
            run_delivered,
            run_finished,
            run_moderated,
            run_undeliverable,
        )

        run_finished.connect(on_run_finished, dispatch_uid="billing.on_run_finished")
        run_cost_recorded.connect(on_run_cost_recorded, dispatch_uid="billing.on_run_cost")
        run_moderated.connect(on_run_moderated, dispatch_uid="billing.on_run_moderated")
        run_delivered.connect(on_run_delivery_settled, dispatch_uid="billing.on_run_delivered")
        run_undeliverable.connect(
            on_run_delivery_settled, dispatch_uid="billing.on_run_undeliverable"
        )
        post_save.connect(on_tenant_saved, sender=Tenant, dispatch_uid="billing.on_tenant_saved")
        post_save.connect(on_price_saved, sender=Price, dispatch_uid="billing.on_price_saved")
