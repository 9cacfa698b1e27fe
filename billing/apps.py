from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing import checks  # noqa: F401  (registers the system checks)
        from billing.receivers import on_run_cost_recorded, on_run_finished, on_run_moderated
        from seedance.signals import run_cost_recorded, run_finished, run_moderated

        run_finished.connect(on_run_finished, dispatch_uid="billing.on_run_finished")
        run_cost_recorded.connect(on_run_cost_recorded, dispatch_uid="billing.on_run_cost")
        run_moderated.connect(on_run_moderated, dispatch_uid="billing.on_run_moderated")
