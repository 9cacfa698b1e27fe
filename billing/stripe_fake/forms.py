"""Stripe's request grammar: bracket-notation forms, typed params and the error they earn.

Every refusal is an ``ApiError`` carrying Stripe's status and error shape, so the real SDK
raises the same exception class it would against Stripe.
"""

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from stripe._request_options import RequestOptions

KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
KEY_PART = re.compile(r"\[([^\[\]]*)\]")
WHOLE = re.compile(r"^\d+$")
SIGNED_WHOLE = re.compile(r"^-?\d+$")
OPTIONS = RequestOptions.__required_keys__ | RequestOptions.__optional_keys__
METADATA_KEYS = 50


class ApiError(Exception):
    """An answer in Stripe's error shape; raising it anywhere ends the request."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        error = {"type": type, "code": code, "message": message, "param": param}
        self.body = {"error": {key: value for key, value in error.items() if value is not None}}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing(param: str) -> ApiError:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def no_such(kind: str, object_id: str, *, param: str, status: int = 400) -> ApiError:
    """Stripe answers 404 for the object in the URL, 400 for one named in the params."""
    return ApiError(status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``a[b][0]=v`` pairs into dicts; ``[]`` appends, lists stay index-keyed dicts."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = KEY.match(key)
        if match is None:
            raise invalid(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *KEY_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part or str(len(node)), {})
            if not isinstance(child, dict):
                raise invalid("Invalid hash", param=_name(parts[: depth + 1]))
            node = child
        last = parts[-1] or str(len(node))
        if isinstance(node.get(last), dict):
            raise invalid("Invalid hash", param=_name(parts))
        node[last] = value
    return root


def _name(parts: list[str]) -> str:
    return parts[0] + "".join(f"[{part}]" for part in parts[1:])


def known(params: Mapping[str, Any], schema: type | None) -> None:
    """Refuse a parameter Stripe would not know; the names come from the SDK's own types."""
    if schema is None:
        return
    allowed = (schema.__required_keys__ | schema.__optional_keys__) - OPTIONS  # type: ignore[attr-defined]
    for name in params:
        if name not in allowed:
            raise invalid(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )


def text(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {name} must be a string, not a hash.", param=name)
    return value


def choice(params: Mapping[str, Any], name: str, options: tuple[str, ...], default: str) -> str:
    value = text(params, name) or default
    if value not in options:
        raise invalid(f"Invalid {name}: must be one of {', '.join(options)}", param=name)
    return value


def integer(value: Any, param: str, *, signed: bool = False) -> int:
    pattern = SIGNED_WHOLE if signed else WHOLE
    if not isinstance(value, str) or not pattern.match(value):
        raise invalid(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    return int(value)


def flag(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", param=name)
    return value == "true"


def decimal(value: Any, param: str) -> str:
    """Validate a decimal string and return it untouched: money never passes through float."""
    refusal = invalid(f"Invalid decimal: {value}", param=param)
    if not isinstance(value, str):
        raise refusal
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise refusal from None
    exponent = number.as_tuple().exponent
    if not number.is_finite() or number < 0 or (isinstance(exponent, int) and exponent < -12):
        raise refusal
    return value


def hash_(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name, {})
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param=name)
    return value


def as_list(params: Mapping[str, Any], name: str) -> list[Any]:
    """An array param, sent by the SDK as ``name[0]=..`` and by hand as ``name[]=..``."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not all(key.isdigit() for key in value):
        raise invalid("Invalid array", param=name)
    return [value[key] for key in sorted(value, key=int)]


def metadata(params: Mapping[str, Any]) -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; "" unsets."""
    raw = hash_(params, "metadata")
    if len(raw) > METADATA_KEYS:
        raise invalid("Metadata can have at most 50 keys.", param="metadata")
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid("Invalid metadata: values must be strings.", param=f"metadata[{key}]")
        if len(key) > 40 or len(value) > 500:
            raise invalid(
                "Metadata keys are at most 40 characters and values at most 500.",
                param=f"metadata[{key}]",
            )
        if value:
            clean[key] = value
    return clean
