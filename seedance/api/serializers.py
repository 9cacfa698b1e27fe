"""What the API shows of a run. Input rules live in ``seedance.run_input``, not here."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from seedance.models import Run
from seedance.run_input import ASPECT_RATIOS, DURATIONS, RESOLUTIONS, SEED_LIMIT
from seedance.states import RunStatus


class RunCreateInputSerializer(serializers.Serializer[Any]):
    """Documents the create body for OpenAPI; validation is ``parse_run_input``'s job."""

    prompt = serializers.CharField(max_length=2000)
    aspect_ratio = serializers.ChoiceField(choices=ASPECT_RATIOS, default="auto")
    duration = serializers.ChoiceField(choices=DURATIONS, default="auto")
    resolution = serializers.ChoiceField(choices=RESOLUTIONS, default="720p")
    generate_audio = serializers.BooleanField(default=True)
    seed = serializers.IntegerField(
        min_value=0, max_value=SEED_LIMIT - 1, required=False, allow_null=True
    )
    end_user_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    metadata = serializers.DictField(required=False, help_text="Your JSON, up to 16 KiB.")


class OutputFileSerializer(serializers.Serializer[Any]):
    url = serializers.URLField()
    type = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration = serializers.FloatField(allow_null=True)


class RunOutputSerializer(serializers.Serializer[Any]):
    outputs = OutputFileSerializer(many=True)
    seed = serializers.IntegerField(allow_null=True)
    nsfw_detected = serializers.BooleanField(allow_null=True)
    timing = serializers.DictField(allow_null=True)


class FailureSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class RunSerializer(serializers.ModelSerializer[Run]):
    output = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "status",
            "prompt",
            "aspect_ratio",
            "duration",
            "resolution",
            "generate_audio",
            "seed",
            "end_user_id",
            "metadata",
            "output",
            "failure",
            "moderation",
            "duration_ms",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RunOutputSerializer(allow_null=True))
    def get_output(self, run: Run) -> dict[str, Any] | None:
        if run.status != RunStatus.SUCCEEDED:
            return None
        return {
            "outputs": [
                {name: entry.get(name) for name in ("url", "type", "width", "height", "duration")}
                for entry in run.outputs
            ],
            "seed": run.result_seed,
            "nsfw_detected": run.nsfw_detected,
            "timing": run.timing,
        }

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_failure(self, run: Run) -> dict[str, str] | None:
        if not run.failure_code:
            return None
        return {"code": run.failure_code, "message": run.failure_message}


class RunPageSerializer(serializers.Serializer[Any]):
    """One page of the cursor-paginated run list (documents the answer's shape)."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunSerializer(many=True)
