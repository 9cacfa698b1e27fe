"""The rules for a run's input, in one place for the REST API and the portal.

Input arrives as decoded JSON: types are checked strictly (a duration is a string, a seed
an integer, never a bool), unknown fields are refused, and every broken rule is reported
per field so a caller can fix them all at once.
"""

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from seedance.conf import setting
from seedance.exceptions import InvalidRunInput

ASPECT_RATIOS = ("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
DURATIONS = ("auto", *(str(seconds) for seconds in range(4, 16)))
RESOLUTIONS = ("480p", "720p")
SEED_LIMIT = 2**32
METADATA_MAX_DEPTH = 32
#: Portal runs carry "portal:<person uuid>"; tenant apps may not claim such an id.
PORTAL_END_USER_PREFIX = "portal:"
FIELDS = (
    "prompt",
    "aspect_ratio",
    "duration",
    "resolution",
    "generate_audio",
    "seed",
    "end_user_id",
    "metadata",
)


@dataclass(frozen=True)
class RunInput:
    prompt: str
    aspect_ratio: str = "auto"
    duration: str = "auto"
    resolution: str = "720p"
    generate_audio: bool = True
    seed: int | None = None
    end_user_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Only the Runflow-compatible surface takes these (``seedance.compat.requests``).
    client_ref: str = ""
    callback_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The run's stored fields; the compatible surface's two only when given, so an
        Idempotency-Key's digest of an /api/v1 body is what it always was."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return {name: value for name, value in values.items() if name in FIELDS or value}


def parse_run_input(data: Any) -> RunInput:
    """Return the validated input or raise InvalidRunInput with every field's errors."""
    if not isinstance(data, Mapping):
        raise InvalidRunInput({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    for name in data:
        if name not in FIELDS:
            errors[str(name)] = ["Unknown field."]

    values: dict[str, Any] = {}
    for name, check in _CHECKS.items():
        if name not in data:
            if name == "prompt":
                errors[name] = ["This field is required."]
            continue
        try:
            values[name] = check(data[name])
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise InvalidRunInput(errors)
    return RunInput(**values)


def _text(value: Any, *, max_chars: int, required: bool) -> str:
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    _check_characters(value)
    if required and not value.strip():
        raise ValueError("Must not be blank.")
    if len(value) > max_chars:
        raise ValueError(f"At most {max_chars} characters (got {len(value)}).")
    return value


def _prompt(value: Any) -> str:
    return _text(value, max_chars=int(setting("PROMPT_MAX_CHARS")), required=True)


def _end_user_id(value: Any) -> str:
    text = _text(value, max_chars=int(setting("END_USER_ID_MAX_CHARS")), required=False)
    if text.startswith(PORTAL_END_USER_PREFIX):
        raise ValueError(f"The {PORTAL_END_USER_PREFIX!r} prefix is reserved for portal users.")
    return text


def _choice(allowed: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"Must be one of: {', '.join(allowed)}.")
        return value

    return check


def _duration(value: Any) -> str:
    # The model page types duration as a string; accept a bare integer in range too,
    # since JSON callers naturally send 5, and store Runflow's spelling.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _choice(DURATIONS)(value)


def _generate_audio(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("Must be an integer.")
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"Must be between 0 and {SEED_LIMIT - 1}.")
    return value


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("Must be a JSON object.")
    for item in _json_values(value):
        if isinstance(item, str):
            _check_characters(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("Numbers must be finite (no NaN or Infinity).")
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    limit = int(setting("METADATA_MAX_BYTES"))
    size = len(encoded.encode())
    if size > limit:
        raise ValueError(f"At most {limit} bytes when encoded as JSON (got {size}).")
    return value


def _check_characters(text: str) -> None:
    """Refuse what PostgreSQL cannot store (NUL) and what is not text (lone surrogates)."""
    if "\x00" in text:
        raise ValueError("Must not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Must be valid Unicode text.") from None


def _json_values(document: dict[str, Any]) -> Iterator[Any]:
    """Every key and value in a decoded JSON document, walked without recursion."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > METADATA_MAX_DEPTH:
            raise ValueError(f"Nested at most {METADATA_MAX_DEPTH} levels deep.")
        if isinstance(value, dict):
            for key, item in value.items():
                yield str(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        else:
            yield value


_CHECKS = {
    "prompt": _prompt,
    "aspect_ratio": _choice(ASPECT_RATIOS),
    "duration": _duration,
    "resolution": _choice(RESOLUTIONS),
    "generate_audio": _generate_audio,
    "seed": _seed,
    "end_user_id": _end_user_id,
    "metadata": _metadata,
}
