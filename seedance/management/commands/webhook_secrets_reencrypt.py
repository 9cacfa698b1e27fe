"""Re-encrypt every stored webhook secret under the first key of WEBHOOK_SECRET_KEYS.

Run it after putting a new key first; once it reports nothing left, the old key can go.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from seedance.webhooks.endpoints import webhook_secrets_reencrypt


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            counts = webhook_secrets_reencrypt(batch_size=batch_size)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{counts.reencrypted} of {counts.endpoints} endpoints re-encrypted under the "
            "first key; every stored secret now opens with it alone."
        )
