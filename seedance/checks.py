"""Startup checks: configuration that would fail later, silently or at 3 a.m., fails now."""

from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http.request import validate_host
from django.utils.module_loading import import_string

from seedance.conf import setting
from seedance.queue import TASK_PATHS
from seedance.webhooks.encryption import keys_problem

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SANDBOX_SECRET = "whsec_sandbox_dev_secret"  # noqa: S105 - public by design: the sandbox's


@register()
def check_runflow(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    if not setting("RUNFLOW_API_KEY"):
        errors.append(Error("RUNFLOW_API_KEY is empty.", id="seedance.E001"))
    if urlsplit(str(setting("RUNFLOW_BASE_URL"))).scheme not in ("http", "https"):
        errors.append(Error("RUNFLOW_BASE_URL must be an http(s) URL.", id="seedance.E002"))
    if not [secret for secret in setting("CALLBACK_SECRETS") if secret]:
        errors.append(
            Error(
                "No Runflow callback signing secret: callbacks could not be verified.",
                hint="Set RUNFLOW_CALLBACK_SECRETS (comma-separated; first one current).",
                id="seedance.E003",
            )
        )
    loopback = urlsplit(str(setting("RUNFLOW_BASE_URL"))).hostname in LOOPBACK_HOSTS
    if not loopback and SANDBOX_SECRET in setting("CALLBACK_SECRETS"):
        errors.append(
            Error(
                "The sandbox's callback secret is configured for a real Runflow: anyone who "
                "reads this repository could sign callbacks.",
                id="seedance.E007",
            )
        )
    if urlsplit(str(setting("PUBLIC_BASE_URL"))).scheme not in ("http", "https"):
        errors.append(Error("PUBLIC_BASE_URL must be an http(s) URL.", id="seedance.E004"))
    if _serves(str(setting("RUNFLOW_BASE_URL"))):
        errors.append(
            Error(
                "RUNFLOW_BASE_URL points at this deployment's own Runflow-compatible API: "
                "every run would be submitted to ourselves, forever.",
                hint="Set it to Runflow (https://api.runflow.io/v1) or the sandbox.",
                id="seedance.E014",
            )
        )
    return errors


def _serves(url: str) -> bool:
    """Whether ``url`` is this deployment: PUBLIC_BASE_URL's host and port, or a host the
    web server answers (ALLOWED_HOSTS, its ``*`` aside) that is not a loopback one."""
    theirs, ours = urlsplit(url), urlsplit(str(setting("PUBLIC_BASE_URL")))
    if theirs.hostname is None:
        return False
    if (theirs.hostname, _port(theirs)) == (ours.hostname, _port(ours)):
        return True
    allowed = [host for host in settings.ALLOWED_HOSTS if host != "*"]
    return theirs.hostname not in LOOPBACK_HOSTS and validate_host(theirs.hostname, allowed)


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


@register()
def check_task_paths(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    for path in (*TASK_PATHS, *setting("ADMISSION_HOOKS")):
        try:
            import_string(path)
        except ImportError:
            errors.append(Error(f"{path!r} does not resolve to a callable.", id="seedance.E005"))
    return errors


@register()
def check_q_cluster(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """django-q2 hands a task to another worker after ``retry`` seconds: if the first is
    still running (``timeout`` not below ``retry``), the task runs twice at once."""
    conf = getattr(settings, "Q_CLUSTER", {})
    timeout, retry = conf.get("timeout"), conf.get("retry", 60)
    if timeout is None:
        return [Warning("Q_CLUSTER has no 'timeout': tasks may run forever.", id="seedance.W006")]
    if timeout >= retry:
        return [
            Error(
                f"Q_CLUSTER timeout ({timeout}) must be below retry ({retry}), "
                "or a slow task is run twice at once.",
                id="seedance.E006",
            )
        ]
    return []


PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register()
def check_shared_cache(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """Sign-in rate limits and used TOTP codes live in the default cache: one per process
    lets every extra web process multiply the attempts an attacker gets."""
    backend = getattr(settings, "CACHES", {}).get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            Warning(
                f"The default cache ({backend.rsplit('.', 1)[-1]}) is per process: rate "
                "limits and throttles count in each process separately.",
                hint="Use Redis (REDIS_URL) or django.core.cache.backends.db.DatabaseCache.",
                id="seedance.W008",
            )
        ]
    return []


@register()
def check_run_limits(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """The hard limit releases what the deadline keeps: it cannot come first."""
    deadline, hard_limit = setting("RUN_DEADLINE_SECONDS"), setting("RUN_HARD_LIMIT_SECONDS")
    if int(hard_limit) < int(deadline):
        return [
            Error(
                f"RUN_HARD_LIMIT_SECONDS ({hard_limit}) is below RUN_DEADLINE_SECONDS "
                f"({deadline}).",
                hint="The hard limit fails runs Runflow still works on; keep it at or after "
                "the deadline (default 24 h).",
                id="seedance.E012",
            )
        ]
    return []


LOCAL_MAILERS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
)


@register(Tags.security, deploy=True)
def check_mail_is_sent(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """Sign-up, invitations and password resets need real mail: the console is the demo's."""
    backend = getattr(settings, "MAILERS", {}).get("default", {}).get("BACKEND", "")
    if backend in LOCAL_MAILERS:
        return [
            Warning(
                f"Mail is not sent: the default mailer is {backend.rsplit('.', 2)[-2]}.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587.",
                id="seedance.W009",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_csp(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """The templates are written for a strict Content Security Policy; keep it enforced,
    form-action included (default-src does not cover where forms may go)."""
    policy = getattr(settings, "SECURE_CSP", {})
    if (
        "django.middleware.csp.ContentSecurityPolicyMiddleware" not in settings.MIDDLEWARE
        or not policy.get("default-src")
        or not policy.get("form-action")
        or any("unsafe-inline" in str(value) for value in policy.get("script-src", []))
    ):
        return [
            Warning(
                "No strict Content Security Policy is enforced.",
                hint="Keep ContentSecurityPolicyMiddleware and SECURE_CSP as config/settings.py "
                "sets them.",
                id="seedance.W010",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_metrics_token(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """Without DEBUG, /metrics answers only a scrape bearing METRICS_TOKEN: unset, it is shut."""
    if not settings.DEBUG and not setting("METRICS_TOKEN"):
        return [
            Warning(
                "METRICS_TOKEN is not set: /metrics refuses every scrape.",
                hint="Set METRICS_TOKEN to a long random value and give it to Prometheus "
                "(authorization: credentials).",
                id="seedance.W011",
            )
        ]
    return []


@register()
def check_webhook_secret_keys(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """Tenant webhook secrets are stored encrypted with these keys; without them (or with a
    key Fernet refuses) no endpoint can be made or signed for. The demo makes one."""
    problem = keys_problem()
    if not problem or (settings.DEBUG and not setting("WEBHOOK_SECRET_KEYS")):
        return []
    return [
        Error(
            problem,
            hint="Set WEBHOOK_SECRET_KEYS to a Fernet key (comma-separated for rotation, new "
            "first): python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'",
            id="seedance.E011",
        )
    ]


@register()
def check_loopback_wildcard(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Any]:
    """``host:*`` in OUTBOUND_LOOPBACK_HTTP lets a tenant point a webhook at any local port
    (the database's, the admin's): the demo's convenience, never production's."""
    wildcards = [str(e) for e in setting("OUTBOUND_LOOPBACK_HTTP") if str(e).endswith(":*")]
    if settings.DEBUG or not wildcards:
        return []
    return [
        Error(
            f"OUTBOUND_LOOPBACK_HTTP allows every port of {', '.join(wildcards)} with DEBUG off.",
            hint="List exact loopback host:port pairs (the sandbox's), or none in production.",
            id="seedance.E013",
        )
    ]
