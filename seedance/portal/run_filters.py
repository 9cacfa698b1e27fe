"""The runs list's history filters (dates, prompt search, end user) over the rows a person
may see: django-filter turns the query string into a validated form, so a bad value is a
field error on the page and never a 500."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from seedance.models import Membership, Run

PROMPT_SEARCH_MAX_CHARS = 200
#: The query-string names the filters read (the status links carry them along).
FILTER_PARAMS = ("q", "created_after", "created_before", "end_user")


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


class RunHistoryForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_after"), data.get("created_before")
        if start and end and start > end:
            self.add_error("created_before", "Pick a day on or after From.")
        return data


class RunHistoryFilter(django_filters.FilterSet):
    """Dates are UTC days, both ends included; the end user filter is for tenant admins."""

    q = django_filters.CharFilter(
        field_name="prompt",
        lookup_expr="icontains",
        label="Prompt contains",
        max_length=PROMPT_SEARCH_MAX_CHARS,
    )
    created_after = django_filters.DateFilter(
        label="From", method="filter_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = django_filters.DateFilter(
        label="To", method="filter_to", widget=forms.DateInput(attrs={"type": "date"})
    )
    end_user = django_filters.CharFilter(
        field_name="end_user_id", lookup_expr="exact", label="End user", max_length=255
    )

    class Meta:
        model = Run
        fields: list[str] = []
        form = RunHistoryForm

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if membership.role != Membership.Role.ADMIN:
            del self.filters["end_user"]

    def filter_from(self, runs: "QuerySet[Run]", name: str, value: date) -> "QuerySet[Run]":
        return runs.filter(created_at__gte=_day_start(value))

    def filter_to(self, runs: "QuerySet[Run]", name: str, value: date) -> "QuerySet[Run]":
        return runs.filter(created_at__lt=_day_start(value + timedelta(days=1)))
