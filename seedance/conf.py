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
    #: How long Runflow may still take to make a run whose create answer we gave up on:
    #: the tail of every outcome window (``create_outcome_window_seconds``).
    "CREATE_OUTCOME_MARGIN_SECONDS": 30.0,
    "CALLBACK_SECRETS": [],
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "PROMPT_MAX_CHARS": 2000,
    "END_USER_ID_MAX_CHARS": 255,
    "METADATA_MAX_BYTES": 16 * 1024,
    "RUN_DEADLINE_SECONDS": 30 * 60,
    #: From a run's creation: past it, a run Runflow still reports in progress (or cannot
    #: be asked about) fails ``deadline_exceeded`` and its reservation is released.
    "RUN_HARD_LIMIT_SECONDS": 24 * 3600,
    #: How long after we failed a run ourselves, while Runflow might still make it, the
    #: reconciler keeps asking Runflow whether it succeeded after all (paid, not billed).
    "PAID_NOT_BILLED_WATCH_SECONDS": 2 * 24 * 3600,
    "RECONCILE_QUEUED_AFTER_SECONDS": 30,
    "RECONCILE_POLL_AFTER_SECONDS": 20,
    "RECONCILE_BATCH_SIZE": 200,
    #: After a terminal callback that Runflow's GET does not confirm yet, ask again this often.
    "CALLBACK_RECHECK_SECONDS": 5.0,
    #: How often ``manage.py dispatcher`` wakes to enqueue what is due.
    "DISPATCHER_TICK_SECONDS": 1.0,
    #: How often the status sweep lists Runflow's in-progress runs (0: never), and how far
    #: back: runs created earlier are left to the reconciler's per-run polls.
    "STATUS_SWEEP_SECONDS": 5.0,
    "STATUS_SWEEP_WINDOW_SECONDS": 30 * 60,
    "IDEMPOTENCY_TTL_SECONDS": 24 * 3600,
    #: How long a repeat waits for the first request with its key before a 409.
    "IDEMPOTENCY_WAIT_SECONDS": 10.0,
    "ADMISSION_HOOKS": [],
    "HOLD_UNCHECKED": False,
    "BILL_REJECTED": True,
    "OUTPUT_URL_TTL_SECONDS": 3600,
    "OUTPUT_MAX_BYTES": 512 * 1024 * 1024,
    "INBOUND_REJECTED_KEPT_PER_HOUR": 20,
    "INBOUND_REJECTED_BODY_BYTES": 2048,
    "OUTPUT_COPY_TIMEOUT_SECONDS": 30.0,
    "OUTPUT_COPY_MAX_ATTEMPTS": 8,
    "OUTPUT_COPY_RETRY_BASE_SECONDS": 120,
    "OUTPUT_COPY_RETRY_MAX_SECONDS": 3600,
    "OUTPUT_COPY_WINDOW_SECONDS": 2 * 24 * 3600,
    #: Ports a URL someone else chose may name (seedance.outbound); https only.
    "OUTBOUND_PORTS": [443],
    #: Loopback "host:port" endpoints fetched over plain http too (the sandbox); none in
    #: production.
    "OUTBOUND_LOOPBACK_HTTP": [],
    "INVITATION_TTL_SECONDS": 7 * 24 * 3600,
    #: Per API key ("60/min", "20/5m"; "off": none): creates, and every other request.
    "API_CREATE_RATE": "60/min",
    "API_READ_RATE": "600/min",
    #: How long the shared cache keeps an API key with its tenant (0: off); a revoke or a
    #: suspension forgets it at once (seedance.services.key_cache).
    "API_KEY_CACHE_SECONDS": 60,
    #: Requests with a bad key per client address before they answer 429.
    "API_AUTH_FAILURE_RATE": "20/min",
    #: Proxies that append to X-Forwarded-For in front of the web server.
    "TRUSTED_PROXY_COUNT": 0,
    #: Shown to a suspended tenant's members as whom to ask; empty: "the platform's support".
    "SUPPORT_EMAIL": "",
    #: Bearer token for /metrics; empty: open only with DEBUG on.
    "METRICS_TOKEN": "",
    #: Fernet keys that encrypt tenant webhook secrets: the first encrypts, all decrypt.
    "WEBHOOK_SECRET_KEYS": [],
    #: After a rotation the old secret signs beside the new one this long.
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 24 * 3600,
    #: The whole of one attempt: connect, send, and read the answer.
    "WEBHOOK_TIMEOUT_SECONDS": 15.0,
    #: Waits before each retry after a failed attempt (Svix's schedule); then it gives up.
    "WEBHOOK_RETRY_SCHEDULE_SECONDS": [5, 300, 1800, 7200, 18000, 36000, 36000],
    #: Each wait is stretched or shrunk by up to this fraction, so retries do not stampede.
    "WEBHOOK_RETRY_JITTER": 0.1,
    #: A receiver's Retry-After is honoured up to this long.
    "WEBHOOK_RETRY_AFTER_MAX_SECONDS": 36000,
    #: An endpoint failing without a success for this long is disabled.
    "WEBHOOK_DISABLE_AFTER_FAILING_SECONDS": 5 * 24 * 3600,
    #: How long a task enqueued by the dispatcher has to start before it is enqueued again.
    "WEBHOOK_LEASE_SECONDS": 60,
    "WEBHOOK_RESPONSE_BODY_BYTES": 4096,
    "WEBHOOK_LOG_RETENTION_DAYS": 30,
}


def setting(name: str) -> Any:
    """Return ``SEEDANCE[name]``, falling back to the default; an unknown name is a bug."""
    configured = getattr(settings, "SEEDANCE", {})
    if name in configured:
        return configured[name]
    if name in DEFAULTS:
        return DEFAULTS[name]
    raise ImproperlyConfigured(f"SEEDANCE[{name!r}] is not a known setting")


def create_outcome_window_seconds() -> float:
    """How long after a create attempt is sent Runflow may still make its run: httpx bounds
    each phase (connect, send, the answer) by ``RUNFLOW_TIMEOUT``, and Runflow may still be
    processing a request we gave up on. A claimed run with no answer whose last attempt is
    older than this may be looked up and, if Runflow has none, sent again."""
    return 3 * float(setting("RUNFLOW_TIMEOUT")) + _create_outcome_margin()


def submit_worst_case_seconds() -> float:
    """Longest a submit can take before its outcome is known.

    Every attempt may time out after waiting out a Retry-After, and httpx's timeout bounds
    each phase of a request, not the whole: the hard bound is the worker being killed at
    django-q2's ``timeout``. A queued run claimed longer ago than this (plus a margin for
    Runflow still processing a request we gave up on) may be looked up and resubmitted.
    """
    from seedance.runflow.backoff import MAX_RETRY_AFTER_SECONDS

    attempts = int(setting("RUNFLOW_MAX_ATTEMPTS"))
    client_bound = attempts * float(setting("RUNFLOW_TIMEOUT")) + (attempts - 1) * float(
        MAX_RETRY_AFTER_SECONDS
    )
    worker_bound = float(getattr(settings, "Q_CLUSTER", {}).get("timeout") or 0)
    return max(client_bound, worker_bound) + _create_outcome_margin()


def _create_outcome_margin() -> float:
    return float(setting("CREATE_OUTCOME_MARGIN_SECONDS"))
