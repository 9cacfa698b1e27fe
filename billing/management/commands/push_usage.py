"""Push pending usage rows to Stripe now, batch after batch, until none is due."""

from typing import Any

from django.core.management.base import BaseCommand

from billing.meters import PushReport, push_pending_usage


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        total = PushReport()
        while True:
            report = push_pending_usage()
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report == PushReport():
                break
        self.stdout.write(f"Usage push: {total}")
