"""Log lines as the production handler writes them: JSON, redacted, context merged."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config.access_log import RedactingFilter
from config.logs import formatter


class JsonLines(io.StringIO):
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines()]


@contextmanager
def json_lines() -> Iterator[JsonLines]:
    """Every logger's INFO lines and up, formatted when they are emitted (as in production,
    so the request's or task's bound context is in them)."""
    stream = JsonLines()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
