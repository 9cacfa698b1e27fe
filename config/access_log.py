"""Secrets never reach a log line: the ones that travel in URLs (signed output links,
invitation tokens, Checkout session ids) and the ones shaped like keys (our API keys,
Runflow and Stripe keys, ``whsec_`` signing secrets, Bearer credentials). Logs are kept
longer and read by more people than any of these are meant for. One ``redact()`` serves
gunicorn's access log, Django's request logging and every application log line."""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from seedance.key_format import KEY_PREFIX, PREFIX_RANDOM_CHARS

REDACTED = "[redacted]"
_PATH_SECRET = re.compile(r"/(files|invitations)/[^/?#\s\"]+")
_QUERY_SECRET = re.compile(r"(?<![\w-])(token|session_id)=[^&#\s\"]*")
#: Our API keys keep their public prefix (it names the key in the portal), never the rest.
_API_KEY = re.compile(rf"\b({KEY_PREFIX}_[A-Za-z0-9]{{{PREFIX_RANDOM_CHARS}}}_)[A-Za-z0-9]+")
#: Stripe secret and restricted keys, Runflow keys and Standard Webhooks / Stripe secrets.
_KEY_SHAPED = re.compile(
    r"\b((?:sk|rk)_(?:live|test)_|rf_(?:live|svc)_|whsec_)[A-Za-z0-9+/=_-]{4,}"
)
_BEARER = re.compile(r"\b(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with every URL-borne or key-shaped secret replaced by ``[redacted]``."""
    text = _PATH_SECRET.sub(rf"/\1/{REDACTED}", text)
    text = _QUERY_SECRET.sub(rf"\1={REDACTED}", text)
    text = _API_KEY.sub(rf"\1{REDACTED}", text)
    text = _KEY_SHAPED.sub(rf"\1{REDACTED}", text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


class RedactingLogger(Logger):
    """gunicorn's access logger with every atom (request line, path, query, referer,
    headers, environ) redacted, whatever ``access_log_format`` picks."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }


class RedactingFilter(logging.Filter):
    """Redacts a record's message before any handler formats it: runserver's request lines
    (``django.server``), ``Not Found: /files/<token>/`` warnings, and any line that
    formats a key into its text (structured fields are redacted by ``config.logs``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
