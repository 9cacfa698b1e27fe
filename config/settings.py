"""One settings module: every knob comes from the environment, with safe local defaults.

With no environment at all this runs the zero-set-up demo: SQLite, django-q2's ORM
broker and the local Runflow sandbox.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.logs import logging_config

# Lets typed generics such as ModelAdmin[Run] work at run time, not only under mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)


def _secrets(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of secrets; "new, old" must not keep a space in " old"."""
    return [secret.strip() for secret in env.list(name, default=default) if secret.strip()]


# The key signs sessions, password resets and output links: a default known from this
# repository would let anyone forge them, so without DEBUG there is none. Rotation: the new
# key in SECRET_KEY, the old ones in SECRET_KEY_FALLBACKS until their signatures expire.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off it is required: generate one with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'` and keep it."
        )
    SECRET_KEY = "django-insecure-debug-only-key-never-used-without-debug"  # noqa: S105
SECRET_KEY_FALLBACKS = _secrets("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS in production (deploy/production.env.example); off by default for the local demo.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Probes and scrapes come from inside the network, often over plain http: no redirect.
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
# Opt-in, and only behind a proxy that sets the header itself and strips a client's copy:
# "HTTP_X_FORWARDED_PROTO,https". Trusted blindly, it lets any client claim HTTPS.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https."
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
# The operator's choice of what `check --deploy` may skip (security.W021: HSTS preload).
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# One strict policy on every page, the demo's included: scripts and styles only from our
# own origin (no inline script, style or handler), images also as data: URIs (allauth's
# TOTP QR code), videos (media-src) from our origin by default-src, no frames either way,
# no plugins. Forms post only to us; billing's page alone widens form-action to Stripe's
# hosted pages, where its forms' redirects go (billing.conf.stripe_hosted_origins).
SECURE_CSP: dict[str, Any] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_htmx",
    "seedance",
    "billing",
]

MIDDLEWARE = [
    # First: every later line of the request carries its request id (seedance/log_context.py).
    "seedance.log_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "seedance.accounts.middleware.StaffTOTPRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "seedance.portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server and worker share one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock at BEGIN (no lock upgrade deadlocks), and the
    # timeout makes a writer wait instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # Persistent connections: a new one per request cost a TCP and auth round trip each
    # time (bench/RESULTS.md). The health check pings a reused connection at each request's
    # start, so one PostgreSQL dropped is replaced, not served as an error. Django's psycopg
    # pool is not used: with gunicorn's threads one connection per thread is what a pool
    # would hold anyway, and a pool per process adds its own sizing to get wrong.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault(
        "CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "account_login"
# Every sign-in, sign-up and email confirmation lands here; the portal sends the person on
# (to their tenant, or to onboarding when they have none).
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: sign-up asks an email and a password (the username is derived); the
# address must be verified before the first sign-in, which then signs the person in.
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
# GET /accounts/logout/ shows a confirmation with a POST button: a link or an <img> elsewhere
# must not be able to sign anyone out.
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Seedance Studio: "
# Counted in the shared cache (below), so every web process sees the same attempts; the
# other actions keep allauth's defaults. "10/m/ip,5/5m/key": per address, and per account.
ACCOUNT_RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="30/m/ip"),
    "login_failed": env.str("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "signup": env.str("RATE_LIMIT_SIGNUP", default="20/m/ip"),
    "reset_password": env.str("RATE_LIMIT_RESET_PASSWORD", default="20/m/ip,5/m/key"),
}
# Behind a reverse proxy every client has the proxy's address: count the proxies that
# append to X-Forwarded-For, or the limits per address lump everyone together.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Seedance Studio")

# One cache every process shares (rate limits, throttles): Redis when configured, else a
# database table (`manage.py createcachetable` runs beside `migrate`). KEY_PREFIX keeps
# environments that share one Redis apart.
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="seedance")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
        "KEY_PREFIX": CACHE_KEY_PREFIX,
    }
}


def _mailer(url: str) -> dict[str, Any]:
    """One MAILERS entry from a URL (django-environ's email_url): smtp+tls://user:pass@host:587."""
    parsed = env.email_url_config(url)
    mailer: dict[str, Any] = {"BACKEND": parsed["EMAIL_BACKEND"]}
    if parsed["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        mailer["OPTIONS"] = {
            "host": parsed["EMAIL_HOST"],
            "port": parsed["EMAIL_PORT"],
            "username": parsed["EMAIL_HOST_USER"] or None,
            "password": parsed["EMAIL_HOST_PASSWORD"] or None,
            "use_tls": bool(parsed.get("EMAIL_USE_TLS")),
            "use_ssl": bool(parsed.get("EMAIL_USE_SSL")),
            "timeout": env.int("EMAIL_TIMEOUT", default=10),
        }
    return mailer


# The console is the demo's mailer; `check --deploy` warns when production still uses it.
MAILERS = {"default": _mailer(env.str("EMAIL_URL", default="consolemail://"))}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Seedance <noreply@localhost>")
STATICFILES_DIRS = [BASE_DIR / "static"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["seedance.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["seedance.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "seedance.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "seedance.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["seedance.api.throttling.ApiKeyThrottle"],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Seedance for tenants API",
    "DESCRIPTION": "Create and follow Seedance 2.0 Fast text-to-video runs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice labels are ours (``R16 9``); the values are the documented contract.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # The webhook event types are one enum wherever the API names one.
    "ENUM_NAME_OVERRIDES": {"WebhookEventTypeEnum": "seedance.webhooks.events.EVENT_TYPES"},
}

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
    }
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="seedance"),
    "workers": env.int("Q_WORKERS", default=2),
    # Each task bounds its own network time well below this; `retry` must exceed
    # `timeout` or a slow task is handed to a second worker while still running.
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,
    "poll": 0.2,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

RUNFLOW_BASE_URL = env.str("RUNFLOW_BASE_URL", default="http://127.0.0.1:8765/v1")
# The sandbox's well-known key and secret are defaults only while Runflow is the local
# sandbox: pointed anywhere else, a missing secret fails the system checks instead of
# quietly accepting callbacks signed with a secret committed to this repository.
USING_SANDBOX = urlsplit(RUNFLOW_BASE_URL).hostname in ("127.0.0.1", "localhost", "::1")

SEEDANCE = {
    "RUNFLOW_API_KEY": env.str(
        "RUNFLOW_API_KEY", default="rf_live_sandbox" if USING_SANDBOX else ""
    ),
    "RUNFLOW_BASE_URL": RUNFLOW_BASE_URL,
    "RUNFLOW_MODEL_ID": env.str(
        "RUNFLOW_MODEL_ID", default="bytedance/seedance/2.0/fast/text-to-video"
    ),
    "RUNFLOW_TIMEOUT": env.float("RUNFLOW_TIMEOUT", default=10.0),
    "RUNFLOW_MAX_ATTEMPTS": env.int("RUNFLOW_MAX_ATTEMPTS", default=5),
    # How long Runflow may still make a run after we gave up on its create's answer.
    "CREATE_OUTCOME_MARGIN_SECONDS": env.float(
        "SEEDANCE_CREATE_OUTCOME_MARGIN_SECONDS", default=30.0
    ),
    # The first secret signs (the sandbox uses it); every secret verifies (rotation).
    "CALLBACK_SECRETS": _secrets(
        "RUNFLOW_CALLBACK_SECRETS", default=["whsec_sandbox_dev_secret"] if USING_SANDBOX else []
    ),
    "PUBLIC_BASE_URL": env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000"),
    "PROMPT_MAX_CHARS": env.int("SEEDANCE_PROMPT_MAX_CHARS", default=2000),
    "END_USER_ID_MAX_CHARS": env.int("SEEDANCE_END_USER_ID_MAX_CHARS", default=255),
    "METADATA_MAX_BYTES": env.int("SEEDANCE_METADATA_MAX_BYTES", default=16 * 1024),
    "RUN_DEADLINE_SECONDS": env.int("SEEDANCE_RUN_DEADLINE_SECONDS", default=30 * 60),
    # Past the deadline a run Runflow still works on is flagged and kept; past the hard limit
    # it fails (Runflow may still charge us: a later success is a paid-not-billed discrepancy).
    "RUN_HARD_LIMIT_SECONDS": env.int("SEEDANCE_RUN_HARD_LIMIT_SECONDS", default=24 * 3600),
    "PAID_NOT_BILLED_WATCH_SECONDS": env.int(
        "SEEDANCE_PAID_NOT_BILLED_WATCH_SECONDS", default=2 * 24 * 3600
    ),
    "RECONCILE_QUEUED_AFTER_SECONDS": env.int("SEEDANCE_RECONCILE_QUEUED_AFTER", default=30),
    "RECONCILE_POLL_AFTER_SECONDS": env.int("SEEDANCE_RECONCILE_POLL_AFTER", default=20),
    "RECONCILE_BATCH_SIZE": env.int("SEEDANCE_RECONCILE_BATCH_SIZE", default=200),
    "IDEMPOTENCY_TTL_SECONDS": env.int("SEEDANCE_IDEMPOTENCY_TTL", default=24 * 3600),
    "IDEMPOTENCY_WAIT_SECONDS": env.float("SEEDANCE_IDEMPOTENCY_WAIT_SECONDS", default=10.0),
    # A callback is a wake-up: after a terminal one that Runflow's GET does not confirm yet,
    # the dispatcher (waking every tick) asks Runflow again this often.
    "CALLBACK_RECHECK_SECONDS": env.float("SEEDANCE_CALLBACK_RECHECK_SECONDS", default=5.0),
    "DISPATCHER_TICK_SECONDS": env.float("SEEDANCE_DISPATCHER_TICK_SECONDS", default=1.0),
    # Runflow calls back only at the end: a run's start is learnt by listing what is in
    # progress this often, for runs created within the window (older ones: the reconciler).
    "STATUS_SWEEP_SECONDS": env.float("SEEDANCE_STATUS_SWEEP_SECONDS", default=5.0),
    "STATUS_SWEEP_WINDOW_SECONDS": env.int("SEEDANCE_STATUS_SWEEP_WINDOW_SECONDS", default=30 * 60),
    # Hold videos Runflow did not check (nsfw_detected null) for review, like flagged ones.
    "HOLD_UNCHECKED": env.bool("SEEDANCE_HOLD_UNCHECKED", default=False),
    # Runflow charges for a video we reject; by default the tenant is billed for it too.
    "BILL_REJECTED": env.bool("SEEDANCE_BILL_REJECTED", default=True),
    "OUTPUT_URL_TTL_SECONDS": env.int("SEEDANCE_OUTPUT_URL_TTL", default=3600),
    # Copying an output: retried with backoff on 5xx/408/425/429/network errors, never on
    # another 4xx; the run is delivered (succeeded to tenants) only once its copy exists.
    "OUTPUT_COPY_TIMEOUT_SECONDS": env.float("SEEDANCE_OUTPUT_COPY_TIMEOUT_SECONDS", default=30.0),
    "OUTPUT_COPY_MAX_ATTEMPTS": env.int("SEEDANCE_OUTPUT_COPY_MAX_ATTEMPTS", default=8),
    "OUTPUT_COPY_RETRY_BASE_SECONDS": env.int(
        "SEEDANCE_OUTPUT_COPY_RETRY_BASE_SECONDS", default=120
    ),
    "OUTPUT_COPY_RETRY_MAX_SECONDS": env.int(
        "SEEDANCE_OUTPUT_COPY_RETRY_MAX_SECONDS", default=3600
    ),
    "OUTPUT_COPY_WINDOW_SECONDS": env.int(
        "SEEDANCE_OUTPUT_COPY_WINDOW_SECONDS", default=2 * 24 * 3600
    ),
    # Outputs (and later webhooks) are fetched only over https from public addresses on
    # these ports; the local sandbox's loopback host:port is the one plain-http exception.
    "OUTBOUND_PORTS": env.list("SEEDANCE_OUTBOUND_PORTS", cast=int, default=[443]),
    "OUTBOUND_LOOPBACK_HTTP": env.list(
        "SEEDANCE_OUTBOUND_LOOPBACK_HTTP",
        default=[urlsplit(RUNFLOW_BASE_URL).netloc] if USING_SANDBOX else [],
    ),
    "SUPPORT_EMAIL": env.str("SEEDANCE_SUPPORT_EMAIL", default=""),
    # Bearer token a Prometheus scrape of /metrics sends; unset, /metrics is open only
    # with DEBUG on (the demo) and refused otherwise.
    "METRICS_TOKEN": env.str("METRICS_TOKEN", default=""),
    # Tenant webhook secrets are stored encrypted with these Fernet keys (not SECRET_KEY):
    # the first encrypts, every one decrypts, so a new key goes first and old ones follow.
    "WEBHOOK_SECRET_KEYS": _secrets("WEBHOOK_SECRET_KEYS", default=[]),
    "WEBHOOK_SECRET_OVERLAP_SECONDS": env.int(
        "SEEDANCE_WEBHOOK_SECRET_OVERLAP_SECONDS", default=24 * 3600
    ),
    "WEBHOOK_TIMEOUT_SECONDS": env.float("SEEDANCE_WEBHOOK_TIMEOUT_SECONDS", default=15.0),
    "WEBHOOK_RETRY_SCHEDULE_SECONDS": env.list(
        "SEEDANCE_WEBHOOK_RETRY_SCHEDULE_SECONDS",
        cast=float,
        default=[5, 300, 1800, 7200, 18000, 36000, 36000],
    ),
    "WEBHOOK_RETRY_JITTER": env.float("SEEDANCE_WEBHOOK_RETRY_JITTER", default=0.1),
    "WEBHOOK_RETRY_AFTER_MAX_SECONDS": env.int(
        "SEEDANCE_WEBHOOK_RETRY_AFTER_MAX_SECONDS", default=36000
    ),
    "WEBHOOK_DISABLE_AFTER_FAILING_SECONDS": env.int(
        "SEEDANCE_WEBHOOK_DISABLE_AFTER_FAILING_SECONDS", default=5 * 24 * 3600
    ),
    "WEBHOOK_LEASE_SECONDS": env.int("SEEDANCE_WEBHOOK_LEASE_SECONDS", default=60),
    "WEBHOOK_RESPONSE_BODY_BYTES": env.int("SEEDANCE_WEBHOOK_RESPONSE_BODY_BYTES", default=4096),
    "WEBHOOK_LOG_RETENTION_DAYS": env.int("SEEDANCE_WEBHOOK_LOG_RETENTION_DAYS", default=30),
    # How long an invitation to join a tenant can be accepted.
    "INVITATION_TTL_SECONDS": env.int("SEEDANCE_INVITATION_TTL_SECONDS", default=7 * 24 * 3600),
    # Per API key, counted across processes. A burst of creates beyond the first 60 in a
    # minute is refused before anything is reserved; raise the read rate with a tenant's
    # in-flight cap (20 runs polled every 2 s are 600 reads a minute).
    "API_CREATE_RATE": env.str("SEEDANCE_API_CREATE_RATE", default="60/min"),
    "API_READ_RATE": env.str("SEEDANCE_API_READ_RATE", default="600/min"),
    # A known key's request reads it from the shared cache; revoke and suspension forget it.
    "API_KEY_CACHE_SECONDS": env.int("SEEDANCE_API_KEY_CACHE_SECONDS", default=60),
    # Requests with a bad key from one client address (behind TRUSTED_PROXY_COUNT proxies).
    "API_AUTH_FAILURE_RATE": env.str("SEEDANCE_API_AUTH_FAILURE_RATE", default="20/min"),
    "TRUSTED_PROXY_COUNT": TRUSTED_PROXY_COUNT,
    # Billing reserves each run against its tenant's caps; seedance never imports billing.
    "ADMISSION_HOOKS": env.list("SEEDANCE_ADMISSION_HOOKS", default=["billing.limits.admit_run"]),
}

BILLING = {
    # USD per output second, per resolution. 720p is Runflow's published price; 480p is
    # unpublished upstream, so this is an estimate until Runflow prices it.
    "PRICES_PER_SECOND": {
        "480p": Decimal(env.str("PRICE_480P_PER_SECOND", default="0.108")),
        "720p": Decimal(env.str("PRICE_720P_PER_SECOND", default="0.2419")),
    },
    "STRIPE_API_KEY": env.str("STRIPE_API_KEY", default=""),
    # Empty: Stripe itself. The demo and tests point it at the loopback fake.
    "STRIPE_API_BASE": env.str("STRIPE_API_BASE", default=""),
    "STRIPE_WEBHOOK_SECRETS": [
        secret.strip()
        for secret in env.list("STRIPE_WEBHOOK_SECRETS", default=[])
        if secret.strip()
    ],
    "STRIPE_TIMEOUT": env.float("STRIPE_TIMEOUT", default=10.0),
    # Stripe names and identifiers must never repeat across databases or environments.
    "NAMESPACE": env.str("STRIPE_NAMESPACE", default="seedance-dev"),
    # Secrets of the event destination for Stripe's thin events (two during a rotation).
    "STRIPE_EVENT_SECRETS": [
        secret.strip() for secret in env.list("STRIPE_EVENT_SECRETS", default=[]) if secret.strip()
    ],
    # On: a tenant whose subscription is past due, unpaid or canceled gets 402 on create.
    "ENFORCE_SUBSCRIPTION": env.bool("BILLING_ENFORCE_SUBSCRIPTION", default=False),
    # On: tenants get their Stripe customer, subscription and price items, retried on failure.
    "AUTO_PROVISION": env.bool("BILLING_AUTO_PROVISION", default=True),
    # Meter events in flight at once per push (one per customer and meter at most).
    "PUSH_CONCURRENCY": env.int("BILLING_PUSH_CONCURRENCY", default=8),
    "RECONCILE_SETTLE_SECONDS": env.int("BILLING_RECONCILE_SETTLE_SECONDS", default=3600),
    # How long after an error report's window its meter's summaries are trusted to have
    # caught up (Stripe aggregates asynchronously), before unnamed refusals are judged.
    "SUMMARY_SETTLE_SECONDS": env.int("BILLING_SUMMARY_SETTLE_SECONDS", default=300),
    # USD a tenant without a payment method may use, once, before creates answer 402
    # payment_method_required (with Stripe configured; billed like all usage).
    "PAYMENT_METHOD_ALLOWANCE": Decimal(env.str("BILLING_PAYMENT_METHOD_ALLOWANCE", default="0")),
}

# JSON lines in production, readable text for the demo; both carry the request id, tenant,
# run id and Runflow's request id, and redact every secret (config/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env.str("LOG_LEVEL", default="INFO"),
    q_level=env.str("Q_LOG_LEVEL", default="INFO"),
)
