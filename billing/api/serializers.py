"""The usage query (a bad value is a field-level 400) and the shape of its answer."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.selectors import GROUP_BY_CHOICES

#: A longer range is refused: a year (leap day included) bounds the query's cost.
MAX_RANGE = timedelta(days=366)


@extend_schema_field({"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]})
class IsoMomentField(serializers.Field[datetime, str, str, Any]):
    """An ISO date (midnight UTC) or datetime; a naive one is taken as UTC."""

    default_error_messages = {
        "invalid": "Use an ISO date (YYYY-MM-DD) or datetime (YYYY-MM-DDTHH:MM:SS±HH:MM).",
        "out_of_range": "Out of the supported range (years 1 to 9999 in UTC).",
    }

    def to_internal_value(self, data: Any) -> datetime:
        try:
            moment = parse_datetime(data.strip()) if isinstance(data, str) else None
        except ValueError:
            moment = None
        if moment is None:
            self.fail("invalid")
        if timezone.is_naive(moment):
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            self.fail("out_of_range")

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class UsageQuerySerializer(serializers.Serializer[Any]):
    """Validates to the selector's keyword arguments: start, end, group_by, end_user_id."""

    to = IsoMomentField(
        required=False,
        help_text="Exclusive end, ISO date or datetime (naive is UTC); default: now.",
    )
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES, default="day")
    end_user_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Only this end user's runs."
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # ``from`` is a Python keyword, so it can't be declared as a class attribute.
        return {
            "from": IsoMomentField(
                required=False,
                help_text="Inclusive start, ISO date or datetime (naive is UTC); "
                "default: the first day of this UTC month.",
            ),
            **super().get_fields(),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        now = timezone.now()
        start = attrs.get("from") or now.astimezone(UTC).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        end = attrs.get("to") or now
        if start >= end:
            raise serializers.ValidationError({"to": ["Must be later than from."]})
        if end - start > MAX_RANGE:
            raise serializers.ValidationError(
                {"to": [f"Must be at most {MAX_RANGE.days} days after from."]}
            )
        return {
            "start": start,
            "end": end,
            "group_by": attrs["group_by"],
            "end_user_id": attrs.get("end_user_id") or None,
        }


class UsageTotalsSerializer(serializers.Serializer[Any]):
    runs = serializers.IntegerField()
    seconds = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=None, decimal_places=6)


class UsageGroupSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="The UTC day (YYYY-MM-DD), resolution or end user id.")
    runs = serializers.IntegerField()
    seconds = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=None, decimal_places=6)


class UsageSerializer(serializers.Serializer[Any]):
    to = serializers.DateTimeField(source="end")
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES)
    currency = serializers.CharField()
    totals = UsageTotalsSerializer()
    groups = UsageGroupSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {"from": serializers.DateTimeField(source="start"), **super().get_fields()}
