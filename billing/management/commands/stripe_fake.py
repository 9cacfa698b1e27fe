"""Start the Stripe fake in the foreground, for the demo and for offline development.

The account is kept in a state file (``--state``, else ``$STRIPE_FAKE_STATE``, else
``VAR_DIR/stripe_fake.json``) so customers, meters, events and invoices survive a restart.
"""

import os
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from billing.stripe_fake import StripeFake
from billing.stripe_fake.store import Config

STATE_ENV = "STRIPE_FAKE_STATE"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM (and SIGINT, even where a shell ignored it) into a clean stop."""
    raise KeyboardInterrupt


def default_state_path() -> Path:
    configured = os.environ.get(STATE_ENV)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "stripe_fake.json"


class Command(BaseCommand):
    help = "Serve a loopback fake of the Stripe endpoints billing calls (with fault injection)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument(
            "--error-rate", type=float, default=0.0, help="Share of meter events that fail (0-1)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Seed for --error-rate.")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="Seconds added to every answer."
        )
        parser.add_argument(
            "--state",
            type=Path,
            default=None,
            help=f"State file (default ${STATE_ENV} or VAR_DIR/stripe_fake.json).",
        )
        parser.add_argument(
            "--in-memory", action="store_true", help="Keep no state file: start empty each time."
        )
        parser.add_argument(
            "--summary-lag",
            type=float,
            default=Config.summary_lag_seconds,
            help="Seconds before an event shows in summaries and invoice previews.",
        )
        parser.add_argument(
            "--report-delay",
            type=float,
            default=Config.report_delay_seconds,
            help="Seconds before invalid meter events are reported as thin events.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        state_path = None if options["in_memory"] else options["state"] or default_state_path()
        server = StripeFake(
            options["host"],
            options["port"],
            state_path=state_path,
            summary_lag_seconds=options["summary_lag"],
            report_delay_seconds=options["report_delay"],
        )
        server.faults.configure(
            error_rate=options["error_rate"], seed=options["seed"], latency=options["latency"]
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        kept = f"state in {state_path}" if state_path else "in memory"
        self.stdout.write(
            f"Stripe fake on {server.url} (any sk_test_ key; {kept}; controls at "
            f"{server.url}/_fake/faults, /_fake/config, /_fake/flush; Ctrl-C to stop)"
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stripe fake stopped.")
