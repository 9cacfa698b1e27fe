"""Start the Runflow sandbox in the foreground, for the demo and for offline development."""

import signal
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from seedance.sandbox import SandboxServer


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM (and SIGINT, even where a shell ignored it) into a clean stop."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve a local stand-in for Runflow (real MP4s, signed callbacks, fault injection)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--queued-seconds", type=float, default=1.0)
        parser.add_argument("--running-seconds", type=float, default=2.0)
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
        server = SandboxServer(
            options["host"],
            options["port"],
            signing_secret=secret,
            api_keys=options["api_keys"],
            queued_seconds=options["queued_seconds"],
            running_seconds=options["running_seconds"],
            callback_backoff_scale=options["callback_backoff_scale"],
            cache_dir=cache_dir,
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        self.stdout.write(f"Runflow sandbox on {server.base_url} (Ctrl-C to stop)")
        if secret is None:
            self.stdout.write("Callbacks are unsigned: no signing secret configured.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Runflow sandbox stopped.")
