"""Demo and development: give tenants the 4242 test card through the Stripe fake's own
Checkout page, as an admin clicking through it would (nothing is set behind Stripe's back)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.checkout import attach_test_card
from billing.exceptions import BillingError
from billing.selectors import tenant_billing
from billing.stripe_client import stripe_client
from seedance.models import Tenant


class Command(BaseCommand):
    help = "Save the 4242 test card for tenants through the Stripe fake's Checkout (fake only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="+", help="Tenant slugs.")

    def handle(self, *args: Any, **options: Any) -> None:
        for slug in options["slugs"]:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"No tenant {slug!r}.")
            billing = tenant_billing(tenant=tenant)
            if billing is not None and billing.has_payment_method:
                self.stdout.write(f"{slug}: card on file already ({billing.payment_method_last4})")
                continue
            try:
                applied = attach_test_card(tenant, client=stripe_client())
            except (BillingError, ValueError) as exc:
                raise CommandError(f"{slug}: {exc}") from exc
            if not applied:
                raise CommandError(f"{slug}: the Checkout Session did not complete")
            self.stdout.write(f"{slug}: test card 4242 on file")
