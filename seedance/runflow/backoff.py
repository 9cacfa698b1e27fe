"""Exponential backoff with full jitter, bounded, honouring a server's Retry-After."""

import random

BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 8.0
#: A Retry-After longer than this is not waited out in a worker; the attempt fails.
MAX_RETRY_AFTER_SECONDS = 30.0


def delay_for(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    if retry_after is not None and retry_after >= 0:
        return retry_after
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
