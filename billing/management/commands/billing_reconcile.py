"""Compare the ledger with Stripe's meter event summaries and invoice lines; store and
print every difference. Exits 1 when any difference is open (for cron and CI)."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.conf import stripe_enabled
from billing.reconcile import billing_reconcile
from billing.stripe_client import stripe_client
from seedance.models import Tenant


def period(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--period takes YYYY-MM, not {value!r}") from None


def plain(value: Decimal) -> str:
    """10.000000 -> "10", 4.5 -> "4.5" (never "1E+1")."""
    return format(value.normalize(), "f")


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", action="append", help="Only these tenant slugs.")
        parser.add_argument(
            "--period", action="append", type=period, help="YYYY-MM (default: last and this month)."
        )

    def handle(
        self, *args: Any, tenant: list[str] | None, period: list[date] | None, **options: Any
    ) -> None:
        if not stripe_enabled():
            raise CommandError("STRIPE_API_KEY is not set: there is no Stripe to compare with.")
        tenants = list(Tenant.objects.filter(slug__in=tenant)) if tenant else None
        if tenant and len(tenants or []) != len(set(tenant)):
            raise CommandError(f"Unknown tenant among {', '.join(tenant)}")
        report = billing_reconcile(client=stripe_client(), tenants=tenants, periods=period)
        for difference in report.differences:
            self.stdout.write(
                f"DIFFERENCE {difference.tenant.slug} {difference.period:%Y-%m} "
                f"{difference.get_kind_display()} {difference.metered_price}: ledger "
                f"{plain(difference.ledger_value)} vs Stripe "
                f"{plain(difference.stripe_value)}. {difference.action}"
            )
        self.stdout.write(
            f"Reconciled: {report.matched} matched, {len(report.differences)} different, "
            f"{report.resent} resent, {report.counted} rows counted, {report.unsettled} unsettled"
        )
        if not report.clean:
            raise SystemExit(1)
