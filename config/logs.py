"""Log lines as JSON objects (production) or as readable text (the demo), through structlog.

The code logs with the standard library; structlog's ``ProcessorFormatter`` renders each
record with what ``structlog.contextvars`` holds for the request or task at hand (request
id, tenant, run id: ``seedance.log_context``), the record's ``extra`` fields (Runflow's
request id on every Runflow call), and every value redacted (``config.access_log``).
"""

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog
from django.core.exceptions import ImproperlyConfigured

from config.access_log import redact

FORMATS = ("json", "console")
#: Fields not worth a key: structlog's own, and Django's request objects (a socket, an
#: HttpRequest), whose method and path the request line of seedance.log_context has.
_DROPPED = ("_record", "_from_structlog", "color_message", "request", "server_time")
_PLAIN = (int, float, bool, type(None))


def redact_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """Every value of a line redacted, the message and a traceback's text included; any
    object (a request, a socket) becomes its text first, so nothing reaches the renderer
    unredacted."""
    for key in _DROPPED:
        event.pop(key, None)
    return {
        key: value if isinstance(value, _PLAIN) else redact(str(value))
        for key, value in event.items()
    }


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of every handler: ``json`` (one object a line) or ``console``."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    renderers: list[Any] = (
        # "message", as log shippers (Loki, Elasticsearch, CloudWatch) expect.
        [structlog.processors.EventRenamer("message"), structlog.processors.JSONRenderer()]
        if log_format == "json"
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            *renderers,
        ],
    )


def logging_config(*, log_format: str, level: str, q_level: str) -> dict[str, Any]:
    """``LOGGING`` for settings: one redacting console handler in the chosen format."""
    if log_format not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT is one of {', '.join(FORMATS)}: {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {"()": "config.logs.formatter", "log_format": log_format},
        },
        "filters": {"redact": {"()": "config.access_log.RedactingFilter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's default runserver handler, which has no redaction.
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "httpx": {"level": "WARNING"},
            "stripe": {"level": "WARNING"},
            "django_q": {"level": q_level},
        },
    }
