"""The only reader of ``settings.SEEDANCE``: read at call time so tests can override it."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "RUNFLOW_API_KEY": "",
    "RUNFLOW_BASE_URL": "http://127.0.0.1:8765/v1",
    "RUNFLOW_MODEL_ID": "bytedance/seedance/2.0/fast/text-to-video",
    "RUNFLOW_TIMEOUT": 10.0,
    "RUNFLOW_MAX_ATTEMPTS": 5,
    "CALLBACK_SECRETS": [],
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "PROMPT_MAX_CHARS": 2000,
    "END_USER_ID_MAX_CHARS": 255,
    "METADATA_MAX_BYTES": 16 * 1024,
    "RUN_DEADLINE_SECONDS": 30 * 60,
    "RECONCILE_QUEUED_AFTER_SECONDS": 30,
    "RECONCILE_POLL_AFTER_SECONDS": 20,
    "RECONCILE_BATCH_SIZE": 200,
    "IDEMPOTENCY_TTL_SECONDS": 24 * 3600,
    "ADMISSION_HOOKS": [],
}


def setting(name: str) -> Any:
    """Return ``SEEDANCE[name]``, falling back to the default; an unknown name is a bug."""
    configured = getattr(settings, "SEEDANCE", {})
    if name in configured:
        return configured[name]
    if name in DEFAULTS:
        return DEFAULTS[name]
    raise ImproperlyConfigured(f"SEEDANCE[{name!r}] is not a known setting")


def submit_worst_case_seconds() -> float:
    """Longest a submit can take before its outcome is known: every attempt times out.

    A queued run claimed longer ago than this has a lost task or a lost answer, and only
    then may the reconciler look it up and resubmit.
    """
    attempts = int(setting("RUNFLOW_MAX_ATTEMPTS"))
    timeout = float(setting("RUNFLOW_TIMEOUT"))
    from seedance.runflow.backoff import MAX_DELAY_SECONDS

    return attempts * timeout + (attempts - 1) * MAX_DELAY_SECONDS
