"""Query filters for the run list; a bad value is a field-level 400."""

import django_filters

from seedance.models import Run
from seedance.states import RunStatus


class RunFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)
    end_user_id = django_filters.CharFilter(max_length=255)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Run
        fields = ["status", "end_user_id", "created_after", "created_before"]
