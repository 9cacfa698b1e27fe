"""Runflow's create body (``input``, ``callback_url``, ``metadata``, ``client_ref``) read
into our run input by the very rules ``/api/v1`` applies; a field at fault is named by its
path in Runflow's body (``input.prompt``)."""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from seedance.exceptions import InvalidRunInput, OutboundRefused
from seedance.outbound import check_url
from seedance.run_input import RunInput, parse_run_input

BODY_FIELDS = ("input", "callback_url", "metadata", "client_ref")
CLIENT_REF_MAX_CHARS = 255
CALLBACK_URL_MAX_CHARS = 2000


def parse_create_body(data: Any) -> RunInput:
    """The validated input, or InvalidRunInput naming every field at fault."""
    if not isinstance(data, Mapping):
        raise InvalidRunInput({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {
        str(name): ["Unknown field."] for name in data if name not in BODY_FIELDS
    }
    parsed = _model_input(data, errors)
    client_ref = _client_ref(data.get("client_ref"), errors)
    callback_url = _callback_url(data.get("callback_url"), errors)
    if errors or parsed is None:
        raise InvalidRunInput(errors)
    return replace(parsed, client_ref=client_ref, callback_url=callback_url)


def _model_input(data: Mapping[str, Any], errors: dict[str, list[str]]) -> RunInput | None:
    model_input = data.get("input")
    if not isinstance(model_input, Mapping):
        errors["input"] = ["Required: a JSON object with the model's input."]
        return None
    if "metadata" in model_input:
        errors["input.metadata"] = ["Unknown field: metadata goes beside input."]
    candidate = {name: value for name, value in model_input.items() if name != "metadata"}
    if "metadata" in data:
        candidate["metadata"] = data["metadata"]
    try:
        return parse_run_input(candidate)
    except InvalidRunInput as exc:
        for name, messages in exc.fields.items():
            errors[name if name in ("metadata", "non_field_errors") else f"input.{name}"] = messages
        return None


def _client_ref(value: Any, errors: dict[str, list[str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > CLIENT_REF_MAX_CHARS:
        errors["client_ref"] = [f"A string of at most {CLIENT_REF_MAX_CHARS} characters."]
    elif "\x00" in value or not value.isprintable():
        errors["client_ref"] = ["Printable characters only."]
    else:
        return value
    return ""


def _callback_url(value: Any, errors: dict[str, list[str]]) -> str:
    """Checked now as every outbound URL is (``seedance.outbound``), and again when sent."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > CALLBACK_URL_MAX_CHARS:
        errors["callback_url"] = [f"A URL of at most {CALLBACK_URL_MAX_CHARS} characters."]
        return ""
    try:
        check_url(value)
    except OutboundRefused as exc:
        errors["callback_url"] = [f"This URL cannot receive callbacks: {exc.message}."]
        return ""
    return value
