"""The shape of a webhook endpoint body: a JSON object of the documented fields, none null.

What the values must be (a URL we may send to, known event types, lengths) is the endpoint
services' rule; this only keeps ``None`` from reading as "unchanged" and a stray field or a
string ``"false"`` from passing unnoticed.
"""

from collections.abc import Collection, Mapping
from typing import Any

from seedance.exceptions import InvalidWebhookEndpoint

CREATE_FIELDS = ("url", "events", "description")
CREATE_REQUIRED = ("url", "events")
UPDATE_FIELDS = ("url", "events", "description", "enabled")


def endpoint_input(
    data: Any, *, fields: Collection[str], required: Collection[str] = ()
) -> dict[str, Any]:
    """The body's values by field name, or InvalidWebhookEndpoint naming each bad field."""
    if not isinstance(data, Mapping):
        raise InvalidWebhookEndpoint({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {
        str(name): ["Unknown field."] for name in data if name not in fields
    }
    for name in required:
        if name not in data:
            errors[name] = ["This field is required."]
    for name in fields:
        if name in data and data[name] is None:
            errors[name] = ["Must not be null."]
    if "enabled" in data and not isinstance(data["enabled"], bool | None):
        errors["enabled"] = ["Must be true or false."]
    if errors:
        raise InvalidWebhookEndpoint(errors)
    return {name: data[name] for name in fields if name in data}
