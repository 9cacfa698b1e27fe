"""Wake every second and enqueue what is due (``seedance.dispatcher``); run beside qcluster."""

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from seedance.dispatcher import dispatch_forever


class Command(BaseCommand):
    help = "Enqueue work due within seconds (callback rechecks, later sweeps and retries)."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.stdout.write("Dispatcher running; SIGTERM or Ctrl-C stops it.")
        self.stdout.flush()
        dispatch_forever(stop)
        self.stdout.write("Dispatcher stopped.")
        self.stdout.flush()
