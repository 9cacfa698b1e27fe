"""``?format=csv``: the usage groups as a spreadsheet-safe CSV attachment."""

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rest_framework.renderers import BaseRenderer

HEADER = ("key", "runs", "seconds", "amount")
#: A cell starting with one of these is a formula to spreadsheets; end user ids are input.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class UsageCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for group in data["groups"]:
            writer.writerow(
                [_safe_cell(group["key"]), group["runs"], group["seconds"], group["amount"]]
            )
        response = (renderer_context or {}).get("response")
        if response is not None:
            name = f"usage-{_stamp(data['from'])}-{_stamp(data['to'])}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return out.getvalue().encode(self.charset)


def _safe_cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _stamp(iso: str) -> str:
    """ISO 8601 basic format (20261127T000000Z): no colons, which file systems refuse."""
    return datetime.fromisoformat(iso).strftime("%Y%m%dT%H%M%SZ")
