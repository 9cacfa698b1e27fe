from django.apps import AppConfig


class SeedanceConfig(AppConfig):
    name = "seedance"
    verbose_name = "Seedance runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from seedance import checks  # noqa: F401  (registers the system checks)
        from seedance.compat import callbacks
        from seedance.doctor.registry import register_section
        from seedance.doctor.runflow import runflow_section
        from seedance.doctor.runs import runs_section
        from seedance.doctor.tasks import tasks_section
        from seedance.doctor.webhooks import webhooks_section
        from seedance.models import ApiKey, Tenant
        from seedance.portal.extensions import NavLink, register_nav_link
        from seedance.services.key_cache import forget_changed_key, forget_changed_tenant
        from seedance.signals import run_delivered, run_finished, run_moderated, run_undeliverable
        from seedance.webhooks import events

        for link in (
            NavLink("main", "create", "Create", "portal:run-create", order=10),
            NavLink("main", "runs", "Runs", "portal:run-list", order=20),
            NavLink("main", "manage", "Manage", "portal:manage", admin_only=True, order=90),
            NavLink("manage", "home", "Overview", "portal:manage", order=10),
            NavLink("manage", "keys", "API keys", "portal:keys", order=20),
            NavLink("manage", "members", "Members", "portal:members", order=30),
            NavLink("manage", "webhooks", "Webhooks", "portal:webhooks", order=50),
            NavLink("manage", "audit", "Audit log", "portal:audit-log", order=80),
            NavLink("manage", "settings", "Settings", "portal:tenant-settings", order=90),
            NavLink("account", "email", "Email addresses", "account_email", order=10),
            NavLink("account", "password", "Password", "account_change_password", order=20),
            NavLink("account", "two-factor", "Two-factor", "mfa_index", order=30),
            NavLink("account", "delete", "Delete account", "accounts:delete", order=90),
        ):
            register_nav_link(link)

        post_save.connect(forget_changed_key, sender=ApiKey)
        post_delete.connect(forget_changed_key, sender=ApiKey)
        post_save.connect(forget_changed_tenant, sender=Tenant)

        register_section("runs", runs_section)
        register_section("tasks", tasks_section)
        register_section("webhooks", webhooks_section)
        register_section("runflow", runflow_section)

        # Tenant webhooks' outbox rows commit with the change they report.
        run_finished.connect(events.on_run_finished, dispatch_uid="seedance.webhooks.finished")
        run_delivered.connect(events.on_run_delivered, dispatch_uid="seedance.webhooks.delivered")
        run_undeliverable.connect(
            events.on_run_undeliverable, dispatch_uid="seedance.webhooks.undeliverable"
        )
        run_moderated.connect(events.on_run_moderated, dispatch_uid="seedance.webhooks.moderated")
        # Runflow-style callbacks owed to a run's callback_url, likewise.
        run_finished.connect(callbacks.on_run_finished, dispatch_uid="seedance.compat.finished")
        run_delivered.connect(
            callbacks.on_run_delivery_settled, dispatch_uid="seedance.compat.delivered"
        )
        run_undeliverable.connect(
            callbacks.on_run_delivery_settled, dispatch_uid="seedance.compat.undeliverable"
        )
        run_moderated.connect(callbacks.on_run_moderated, dispatch_uid="seedance.compat.moderated")
