"""Create (or find) Stripe meters, metered prices, customers and subscriptions. Idempotent."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.conf import stripe_enabled
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from seedance.models import Tenant


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", action="append", help="Only these tenant slugs.")
        parser.add_argument(
            "--resubscribe",
            action="store_true",
            help="Give tenants whose subscription ended a new one (they will be billed).",
        )

    def handle(
        self, *args: Any, tenant: list[str] | None, resubscribe: bool, **options: Any
    ) -> None:
        if not stripe_enabled():
            raise CommandError("STRIPE_API_KEY is not set: there is no Stripe to provision.")
        tenants = list(Tenant.objects.filter(slug__in=tenant)) if tenant else None
        report = stripe_provision(client=stripe_client(), tenants=tenants, resubscribe=resubscribe)
        created = {
            "meters": report.meters,
            "prices": report.prices,
            "customers": report.customers,
            "subscriptions": report.subscriptions,
            "items": report.items,
        }
        self.stdout.write(
            "Created: " + "; ".join(f"{kind} {ids or 'none'}" for kind, ids in created.items())
        )
