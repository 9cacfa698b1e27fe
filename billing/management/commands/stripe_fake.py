"""Start the Stripe fake in the foreground, for the demo and for offline development."""

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing.stripe_fake import StripeFake


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM (and SIGINT, even where a shell ignored it) into a clean stop."""
    raise KeyboardInterrupt


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

    def handle(self, *args: Any, **options: Any) -> None:
        server = StripeFake(options["host"], options["port"])
        server.faults.configure(
            error_rate=options["error_rate"], seed=options["seed"], latency=options["latency"]
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        self.stdout.write(
            f"Stripe fake on {server.url} (any sk_test_ key; faults at {server.url}/_fake/faults;"
            " Ctrl-C to stop)"
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stripe fake stopped.")
