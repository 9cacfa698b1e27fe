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
            on_tenant_created,
            on_tenant_saved,
        )
        from seedance.models import Tenant
        from seedance.signals import (
            run_cost_recorded,
            run_delivered,
            run_finished,
            run_moderated,
            run_undeliverable,
            tenant_created,
        )

        run_finished.connect(on_run_finished, dispatch_uid="billing.on_run_finished")
        run_cost_recorded.connect(on_run_cost_recorded, dispatch_uid="billing.on_run_cost")
        run_moderated.connect(on_run_moderated, dispatch_uid="billing.on_run_moderated")
        run_delivered.connect(on_run_delivery_settled, dispatch_uid="billing.on_run_delivered")
        run_undeliverable.connect(
            on_run_delivery_settled, dispatch_uid="billing.on_run_undeliverable"
        )
        post_save.connect(on_tenant_saved, sender=Tenant, dispatch_uid="billing.on_tenant_saved")
        tenant_created.connect(on_tenant_created, dispatch_uid="billing.on_tenant_created")
        post_save.connect(on_price_saved, sender=Price, dispatch_uid="billing.on_price_saved")
        _extend_portal()
        from billing.selectors import run_charges
        from seedance.charges import register_charge_reader

        register_charge_reader("billing", run_charges)
        from billing.metrics import register_collectors

        register_collectors()
        from billing.doctor import billing_section
        from seedance.doctor.registry import register_section

        register_section("billing", billing_section)


def _extend_portal() -> None:
    """billing's pages and panels in seedance's portal, which never names them itself."""
    from seedance.portal.extensions import NavLink, Panel, register_nav_link, register_panel

    register_nav_link(NavLink("main", "usage", "Usage", "billing_portal:usage", order=30))
    register_nav_link(NavLink("manage", "caps", "Spend caps", "billing_portal:caps", order=40))
    register_panel(Panel("run_create.estimate", "billing/panels/price_estimate.html"))
    register_panel(Panel("run_detail.aside", "billing/panels/run_cost.html"))
    register_panel(Panel("manage.home", "billing/panels/manage_caps.html", admin_only=True))
    register_nav_link(
        NavLink("manage", "billing", "Billing", "billing_portal:billing", admin_only=True, order=45)
    )
    register_panel(
        Panel("manage.home", "billing/panels/manage_billing.html", admin_only=True, order=55)
    )
    register_panel(Panel("page.notices", "billing/panels/payment_method_notice.html"))
    register_panel(
        Panel("onboarding.next_steps", "billing/panels/onboarding_payment.html", admin_only=True)
    )
