"""Secrets that travel in URLs (signed output links, invitation tokens, Checkout session ids)
are replaced before a request line reaches any log: logs are kept longer and read by more
people than the links are meant for."""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
_PATH_SECRET = re.compile(r"/(files|invitations)/[^/?#\s\"]+")
_QUERY_SECRET = re.compile(r"(?<![\w-])(token|session_id)=[^&#\s\"]*")


def redact(text: str) -> str:
    """The text with every URL-borne secret replaced by ``[redacted]``."""
    text = _PATH_SECRET.sub(rf"/\1/{REDACTED}", text)
    return _QUERY_SECRET.sub(rf"\1={REDACTED}", text)


class RedactingLogger(Logger):
    """gunicorn's access logger with every atom (request line, path, query, referer,
    headers, environ) redacted, whatever ``access_log_format`` picks."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }


class RedactingFilter(logging.Filter):
    """Redacts Django's own request logging: runserver's request lines (``django.server``)
    and the ``Not Found: /files/<token>/`` warnings of ``django.request``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
