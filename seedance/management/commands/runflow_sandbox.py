"""Start the Runflow sandbox in the foreground, for the demo and for offline development."""

import signal
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from seedance.sandbox import SandboxServer

#: ``--bench``: each run queued and running this long, and credit for a long bench.
BENCH_QUEUED_SECONDS = 0.05
BENCH_RUNNING_SECONDS = 0.1
BENCH_BALANCE_CENTS = 10**12


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM (and SIGINT, even where a shell ignored it) into a clean stop."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve a local stand-in for Runflow (real MP4s, signed callbacks, fault injection)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--queued-seconds", type=float, default=None, help="default 1")
        parser.add_argument("--running-seconds", type=float, default=None, help="default 2")
        parser.add_argument(
            "--bench",
            action="store_true",
            help=(
                "Bench mode (bench/end_to_end.py): one tiny clip rendered at start and served "
                f"for every run, {BENCH_QUEUED_SECONDS:g} s queued and "
                f"{BENCH_RUNNING_SECONDS:g} s running unless given, credit without end."
            ),
        )
        parser.add_argument(
            "--signing-secret",
            default=None,
            help="Secret that signs callbacks (default: the first SEEDANCE CALLBACK_SECRETS).",
        )
        parser.add_argument(
            "--cache-dir",
            default=None,
            help="Where rendered MP4s are kept and reused (default: VAR_DIR/sandbox-media).",
        )
        parser.add_argument(
            "--api-key",
            action="append",
            dest="api_keys",
            help="Accept only this key (repeatable); default: any rf_live_/rf_svc_ key.",
        )
        parser.add_argument(
            "--callback-backoff-scale",
            type=float,
            default=1.0,
            help="Multiplies the 1 s / 2 s callback retry schedule.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secret = options["signing_secret"]
        if secret is None:
            secrets = getattr(settings, "SEEDANCE", {}).get("CALLBACK_SECRETS") or []
            secret = secrets[0] if secrets else None
        cache_dir = options["cache_dir"]
        if cache_dir is None and getattr(settings, "VAR_DIR", None):
            cache_dir = Path(settings.VAR_DIR) / "sandbox-media"
        bench = options["bench"]
        queued, running = options["queued_seconds"], options["running_seconds"]
        extra = {"balance_cents": BENCH_BALANCE_CENTS} if bench else {}
        server = SandboxServer(
            options["host"],
            options["port"],
            signing_secret=secret,
            api_keys=options["api_keys"],
            queued_seconds=queued
            if queued is not None
            else (BENCH_QUEUED_SECONDS if bench else 1.0),
            running_seconds=(
                running if running is not None else (BENCH_RUNNING_SECONDS if bench else 2.0)
            ),
            callback_backoff_scale=options["callback_backoff_scale"],
            cache_dir=cache_dir,
            one_clip=bench,
            **extra,
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        mode = " in bench mode (one clip for every run)" if bench else ""
        self.stdout.write(f"Runflow sandbox on {server.base_url}{mode} (Ctrl-C to stop)")
        if secret is None:
            self.stdout.write("Callbacks are unsigned: no signing secret configured.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Runflow sandbox stopped.")
