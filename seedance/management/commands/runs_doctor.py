"""What needs an operator now: stuck runs, flagged runs, failed tasks, tenant webhooks in
trouble, Runflow's reachability, and every section other apps add (billing: held money,
reconciliation differences, the usage push, Stripe). Each finding says what to do.

Exits 1 when any finding is a problem, 0 otherwise (warnings alone need a look, not a page).
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from seedance.doctor.registry import run_doctor
from seedance.doctor.text import report_text


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="One JSON document on stdout."
        )
        parser.add_argument(
            "--offline", action="store_true", help="Skip the calls to Runflow and Stripe."
        )

    def handle(self, *args: Any, as_json: bool, offline: bool, **options: Any) -> None:
        report = run_doctor(offline=offline)
        if as_json:
            self.stdout.write(json.dumps(report.as_json(), indent=2, default=str))
        else:
            self.stdout.write(report_text(report))
        if report.exit_code:
            raise SystemExit(report.exit_code)
