"""What the API shows of a run. Input rules live in ``seedance.run_input``, not here."""

import copy
from typing import Any, ClassVar

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from seedance.charges import Charge, charges_of
from seedance.conf import setting
from seedance.models import Run
from seedance.moderation import run_billable
from seedance.outputs import output_links
from seedance.public_status import shown
from seedance.run_input import ASPECT_RATIOS, DURATIONS, RESOLUTIONS, SEED_LIMIT
from seedance.states import RunStatus

#: Some character Python's ``str.strip()`` keeps: the run input's "not blank", in a regex
#: both JSON Schema (ECMA) and Python read alike (their ``\s`` differ).
NOT_BLANK_PATTERN = (
    r"[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


class RunCreateInputSerializer(serializers.Serializer[Any]):
    """Documents the create body for OpenAPI; validation is ``parse_run_input``'s job."""

    aspect_ratio = serializers.ChoiceField(choices=ASPECT_RATIOS, default="auto")
    duration = serializers.ChoiceField(choices=DURATIONS, default="auto")
    resolution = serializers.ChoiceField(choices=RESOLUTIONS, default="720p")
    generate_audio = serializers.BooleanField(default=True)
    seed = serializers.IntegerField(
        min_value=0, max_value=SEED_LIMIT - 1, required=False, allow_null=True
    )
    metadata = serializers.DictField(
        required=False, allow_null=True, help_text="Your JSON, up to 16 KiB; null is {}."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The documented limits are the configured ones, read when the schema is built."""
        super().__init__(*args, **kwargs)
        self.fields["prompt"] = serializers.CharField(
            max_length=int(setting("PROMPT_MAX_CHARS")),
            validators=[RegexValidator(NOT_BLANK_PATTERN)],
            help_text="What the video shows; not only whitespace.",
        )
        self.fields["end_user_id"] = serializers.CharField(
            max_length=int(setting("END_USER_ID_MAX_CHARS")),
            required=False,
            allow_blank=True,
            help_text="Your end user's id; 'portal:' is reserved.",
        )


class OutputFileSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(
        allow_null=True,
        help_text=(
            "Our signed link, valid for an hour; null only once our copy is past the "
            "tenant's retention."
        ),
    )
    type = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration = serializers.FloatField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When our copy is deleted (the tenant's retention)."
    )


class RunOutputSerializer(serializers.Serializer[Any]):
    outputs = OutputFileSerializer(many=True)
    withheld = serializers.ChoiceField(
        choices=["pending_review", "rejected"],
        allow_null=True,
        help_text="Set when the video is held for NSFW review or was rejected.",
    )
    seed = serializers.IntegerField(allow_null=True)
    nsfw_detected = serializers.BooleanField(allow_null=True)
    timing = serializers.DictField(allow_null=True)


class FailureSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class ChargeSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(
        choices=["estimate", "pending", "billed", "not_billed"],
        help_text=(
            "`estimate`: in flight, at most `amount`; `pending`: owed, not yet counted on "
            "the invoice; `billed`: on the invoice; `not_billed`: nothing is owed."
        ),
    )
    amount = serializers.DecimalField(max_digits=12, decimal_places=6)
    currency = serializers.CharField()
    unit_price = serializers.DecimalField(
        max_digits=10, decimal_places=6, help_text="Per second, frozen when the run was made."
    )
    seconds = serializers.IntegerField(allow_null=True, help_text="The seconds billed.")
    meter_event_identifier = serializers.CharField(
        allow_null=True, help_text="The Stripe meter event that carries this charge."
    )


def run_context(request: Any, runs: "list[Run] | Run") -> dict[str, Any]:
    """The serializer's context for ``runs``: their charges read at once, not per run."""
    listed = runs if isinstance(runs, list) else [runs]
    return {"request": request, "charges": charges_of([run.pk for run in listed])}


WITHHELD: dict[str, str] = {
    Run.Moderation.PENDING: "pending_review",
    Run.Moderation.REJECTED: "rejected",
}


def _absolute(request: Any, path: str | None) -> str | None:
    return request.build_absolute_uri(path) if request is not None and path else path


class RunSerializer(serializers.ModelSerializer[Run]):
    """A run as the tenant sees it: its shown status (``seedance.public_status``), so
    `succeeded` always comes with a URL to fetch, unless moderation withholds the video."""

    openapi_description = (
        "A run. `succeeded` always comes with outputs to fetch, unless moderation withholds "
        "the video (`output.withheld`)."
    )

    #: The fields as DRF builds them from the model, once per class (``get_fields``).
    _built_fields: ClassVar[dict[str, serializers.Field[Any, Any, Any, Any]] | None] = None

    status = serializers.SerializerMethodField()
    output = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField()
    billable = serializers.SerializerMethodField()
    charge = serializers.SerializerMethodField()
    #: Declared: the model's JSONField would document no type, and it is always an object.
    metadata = serializers.DictField(read_only=True, help_text="Your JSON, as you sent it.")

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
            "billable",
            "charge",
            "duration_ms",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """A copy of fields built once: DRF rebuilds a ModelSerializer's fields from the model
        for every instance, about half the cost of answering a run. Copied per instance, as
        DRF copies declared fields, since binding ties each field to its serializer."""
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return copy.deepcopy(built)

    @extend_schema_field(serializers.ChoiceField(choices=RunStatus.choices))
    def get_status(self, run: Run) -> str:
        return str(shown(run))

    @extend_schema_field(RunOutputSerializer(allow_null=True))
    def get_output(self, run: Run) -> dict[str, Any] | None:
        if shown(run) != RunStatus.SUCCEEDED:
            return None
        request = self.context.get("request")
        return {
            "outputs": [
                {**link.__dict__, "url": _absolute(request, link.url)} for link in output_links(run)
            ],
            "withheld": WITHHELD.get(str(run.moderation)),
            "seed": run.result_seed,
            "nsfw_detected": run.nsfw_detected,
            "timing": run.timing,
        }

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_billable(self, run: Run) -> bool | None:
        return run_billable(run)

    @extend_schema_field(ChargeSerializer(allow_null=True))
    def get_charge(self, run: Run) -> dict[str, Any] | None:
        charges = self.context.get("charges")
        if charges is None:
            charges = charges_of([run.pk])
        charge: Charge | None = charges.get(run.pk)
        if charge is None:
            return None
        return ChargeSerializer(charge.__dict__).data

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_failure(self, run: Run) -> dict[str, str] | None:
        code = shown(run, "public_failure_code")
        if not code:
            return None
        return {"code": code, "message": shown(run, "public_failure_message")}


class RunPageSerializer(serializers.Serializer[Any]):
    """One page of the cursor-paginated run list (documents the answer's shape)."""

    openapi_description = "One page of runs, newest first."

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunSerializer(many=True)
