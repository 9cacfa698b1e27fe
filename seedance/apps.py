from django.apps import AppConfig


class SeedanceConfig(AppConfig):
    name = "seedance"
    verbose_name = "Seedance runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from seedance import checks  # noqa: F401  (registers the system checks)
