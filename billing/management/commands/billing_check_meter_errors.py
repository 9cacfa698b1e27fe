"""Judge the error reports whose summaries have settled (the minute schedule's work, at
once); prints the rows flagged refused and the reports left for a person."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.conf import stripe_enabled
from billing.meter_error_check import meter_error_reports_check
from billing.models import MeterErrorReport
from billing.stripe_client import stripe_client


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        if not stripe_enabled():
            raise CommandError("STRIPE_API_KEY is not set: there are no error reports to check.")
        flagged = meter_error_reports_check(client=stripe_client())
        waiting = MeterErrorReport.objects.filter(checked_at__isnull=True).count()
        person = MeterErrorReport.objects.filter(needs_person=True).count()
        self.stdout.write(
            f"Meter error reports: {flagged} rows flagged refused, {waiting} not settled yet, "
            f"{person} need a person"
        )
