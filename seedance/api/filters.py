"""Query filters for the run list; a bad value is a field-level 400."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from seedance.models import Run
from seedance.states import RunStatus


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment that also exists in UTC (year 1 at +12:00 does not)."""

    def clean(self, value: Any) -> datetime | None:
        if value == "":
            # Blank is not "no filter": ``?created_before=`` is a client's bug, not a wish.
            raise forms.ValidationError("Must not be blank; leave the parameter out instead.")
        moment: datetime | None = super().clean(value)
        if moment is not None:
            try:
                moment.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError("Out of the supported date range.") from None
        return moment


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class RunFilter(django_filters.FilterSet):
    #: The status the tenant is shown, never our internal one.
    status = django_filters.MultipleChoiceFilter(
        field_name="public_status", choices=RunStatus.choices
    )
    end_user_id = django_filters.CharFilter(max_length=255)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Run
        fields = ["status", "end_user_id", "created_after", "created_before"]
