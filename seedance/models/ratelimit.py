"""Fixed-window request counters, for when the shared cache is not Redis."""

from django.db import models


class RateCounter(models.Model):
    """Hits of one key (an API key, a client address) in one scope and window.

    Only seedance.ratelimit writes it, with a conditional ``UPDATE ... SET count = count + 1``:
    the database cache's ``incr`` is a read then a write, which parallel requests overrun.
    """

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "window_start"], name="rate_counter_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} from {self.window_start:%H:%M:%S}: {self.count}"
