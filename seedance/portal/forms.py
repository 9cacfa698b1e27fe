"""The create form only turns the browser's strings into JSON types.

Every rule lives in ``seedance.run_input.parse_run_input`` (the API's too); the view maps
its per-field errors back onto this form so they show inline.
"""

from typing import Any

from django import forms

from seedance.conf import setting
from seedance.exceptions import InvalidRunInput
from seedance.run_input import ASPECT_RATIOS, DURATIONS, RESOLUTIONS

ASPECT_RATIO_LABELS = {"auto": "Auto (model decides)"}
DURATION_LABELS = {"auto": "Auto (model decides)"}


def _choices(values: tuple[str, ...], labels: dict[str, str], suffix: str = "") -> list[Any]:
    return [(value, labels.get(value, f"{value}{suffix}")) for value in values]


class RunForm(forms.Form):
    # CharFields with select widgets, on purpose: a value outside the list is reported by
    # parse_run_input with the same message the API gives, not by a second validator.
    prompt = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"id": "run-prompt", "rows": 6, "placeholder": "Describe the video…"}
        ),
    )
    aspect_ratio = forms.CharField(
        initial="auto",
        required=False,
        widget=forms.Select(
            choices=_choices(ASPECT_RATIOS, ASPECT_RATIO_LABELS), attrs={"id": "run-aspect-ratio"}
        ),
    )
    duration = forms.CharField(
        initial="auto",
        required=False,
        widget=forms.Select(
            choices=_choices(DURATIONS, DURATION_LABELS, " seconds"), attrs={"id": "run-duration"}
        ),
    )
    resolution = forms.CharField(
        initial="720p",
        required=False,
        widget=forms.Select(choices=_choices(RESOLUTIONS, {}), attrs={"id": "run-resolution"}),
    )
    generate_audio = forms.BooleanField(
        initial=True,
        required=False,
        label="Generate audio",
        widget=forms.CheckboxInput(attrs={"id": "run-generate-audio"}),
    )
    seed = forms.CharField(
        required=False,
        label="Seed (optional)",
        widget=forms.NumberInput(
            attrs={"id": "run-seed", "placeholder": "random", "min": 0, "step": 1}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_chars = int(setting("PROMPT_MAX_CHARS"))
        self.prompt_max_chars = max_chars
        self.fields["prompt"].widget.attrs["data-max-chars"] = str(max_chars)

    def run_input_data(self) -> dict[str, Any]:
        """The cleaned strings as the JSON a tenant app would send."""
        data = self.cleaned_data
        return {
            "prompt": data["prompt"],
            "aspect_ratio": data["aspect_ratio"],
            "duration": data["duration"],
            "resolution": data["resolution"],
            "generate_audio": bool(data["generate_audio"]),
            "seed": _seed(data["seed"]),
        }

    def draft_input_data(self) -> dict[str, Any]:
        """The inputs as typed so far, unvalidated, shaped as ``run_input_data`` (the
        copy-as-code panel follows the form while it is filled in)."""
        data = self.data
        return {
            "prompt": data.get("prompt", ""),
            "aspect_ratio": data.get("aspect_ratio", ""),
            "duration": data.get("duration", ""),
            "resolution": data.get("resolution", ""),
            "generate_audio": bool(data.get("generate_audio")),
            "seed": _seed(data.get("seed", "")),
        }

    def add_input_errors(self, exc: InvalidRunInput) -> None:
        for name, messages in exc.fields.items():
            self.add_error(name if name in self.fields else None, list(messages))


def _seed(text: str) -> object:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # parse_run_input reports it: "Must be an integer."


class TenantCreateForm(forms.Form):
    name = forms.CharField(
        label="Tenant name",
        max_length=200,
        help_text="Your company or project; you can rename it later.",
        widget=forms.TextInput(attrs={"id": "tenant-name", "autocomplete": "organization"}),
    )
    #: One per form shown: a reload that resubmits it makes no second tenant.
    nonce = forms.CharField(max_length=64, widget=forms.HiddenInput)
