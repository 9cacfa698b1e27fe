"""Fault rules: make the sandbox misbehave the ways Runflow can, on purpose.

Rules live in scopes: ``global``, or a key matched against a run's ``client_ref`` and
its id; a prompt may also carry ``[sandbox:name]`` / ``[sandbox:name=value]`` directives so
a person in the demo can trigger a fault. Later layers win: global, client_ref, run id,
prompt. ``create_errors``, ``get_errors``, ``list_errors`` and ``media_errors`` are
queues, consumed one answer per request (``list_errors`` in the global scope only: a list
names no run); ``media_delay`` slows the serving of a run's video. ``report_status`` makes
a run in progress report that ``status_code`` instead (one not in ``/v1/runs/statuses``,
or ``errored`` as Runflow's sample code knows it).

A lost create answer (``lose_create_answer``: ``drop``, ``500`` or ``timeout`` after
``lose_create_timeout``; ``lose_create_times`` limits how many) models Runflow's documented
"the run may exist": by default the run is made before the answer is lost, so a lookup
finds it at once. ``lose_create_materialize_seconds`` makes it appear only that long after
the request came (Runflow still finishing a request whose answer we gave up on; our
outcome window assumes under 30 s), and ``lose_create_makes_run: false`` never makes it
(the request was lost before Runflow acted on it). Simpler than Runflow: the delay is one
fixed number, not a distribution, and a late run's ``created_at`` is when it appears.
"""

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GLOBAL = "global"
LOSE_MODES = ("drop", "500", "timeout")
OUT_OF_ORDER_MODES = ("contradict", "stale")
DIRECTIVE = re.compile(r"\[sandbox:([a-z_]+)(?:=([^\]]*))?\]")
CONSUMABLE = ("create_errors", "get_errors", "list_errors", "media_errors")


class FaultError(ValueError):
    """A fault rule that cannot be applied; the control surface answers 422."""


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FaultError("must be true or false")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError("must be a number of seconds, zero or more")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FaultError("must be an integer, one or more")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FaultError("must be a non-empty string")
    return value


def _nsfw(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise FaultError("must be true, false or null")
    return value


def _statuses(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599
        for code in value
    ):
        raise FaultError("must be a list of HTTP error statuses (400-599)")
    return list(value)


def _lose(value: Any) -> str | None:
    if value is None:
        return None
    if str(value) not in LOSE_MODES:
        raise FaultError(f"must be one of {', '.join(LOSE_MODES)} or null")
    return str(value)


def _out_of_order(value: Any) -> str | None:
    if value is True:
        return "contradict"
    if value is False or value is None:
        return None
    if value not in OUT_OF_ORDER_MODES:
        raise FaultError(f"must be true, false or one of {', '.join(OUT_OF_ORDER_MODES)}")
    return str(value)


CHECKS: dict[str, Callable[[Any], Any]] = {
    "fail": _flag,
    "failure_code": _text,
    "failure_message": _text,
    "nsfw": _nsfw,
    "duplicate_callbacks": _count,
    "drop_callbacks": _flag,
    "callback_delay": _number,
    "out_of_order": _out_of_order,
    "create_errors": _statuses,
    "get_errors": _statuses,
    "list_errors": _statuses,
    "media_errors": _statuses,
    "media_delay": _number,
    "retry_after": _count,
    "lose_create_answer": _lose,
    "lose_create_timeout": _number,
    "lose_create_times": _count,
    "lose_create_materialize_seconds": _number,
    "lose_create_makes_run": _flag,
    "queued_seconds": _number,
    "running_seconds": _number,
    "report_status": _text,
}
DIRECTIVE_DEFAULTS: dict[str, Any] = {
    "fail": True,
    "nsfw": True,
    "drop_callbacks": True,
    "duplicate_callbacks": 2,
    "out_of_order": "contradict",
    "lose_create_answer": "drop",
}
DIRECTIVE_ALIASES: dict[str, tuple[str, Any]] = {"nsfw_null": ("nsfw", None)}


@dataclass(frozen=True)
class Faults:
    """The faults in force for one run, after layering every scope that matches it."""

    fail: bool = False
    failure_code: str = "GENERATION_FAILED"
    failure_message: str = "The model failed to generate a video."
    nsfw: bool | None = False
    duplicate_callbacks: int = 1
    drop_callbacks: bool = False
    callback_delay: float = 0.0
    out_of_order: str | None = None
    retry_after: int = 1
    lose_create_answer: str | None = None
    lose_create_timeout: float = 30.0
    lose_create_materialize_seconds: float = 0.0
    lose_create_makes_run: bool = True
    queued_seconds: float | None = None
    running_seconds: float | None = None
    media_delay: float = 0.0
    report_status: str | None = None


def validate(rules: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in rules.items():
        check = CHECKS.get(name)
        if check is None:
            raise FaultError(f"{name}: unknown fault (known: {', '.join(sorted(CHECKS))})")
        try:
            clean[name] = check(value)
        except FaultError as exc:
            raise FaultError(f"{name}: {exc}") from None
    return clean


def directives(prompt: str) -> dict[str, Any]:
    """Faults named in the prompt; a malformed directive is ignored, not an error."""
    found: dict[str, Any] = {}
    for name, raw in DIRECTIVE.findall(prompt):
        if name in DIRECTIVE_ALIASES:
            name, value = DIRECTIVE_ALIASES[name]
        elif raw:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        else:
            value = DIRECTIVE_DEFAULTS.get(name, True)
        if name in CONSUMABLE:
            continue
        try:
            found.update(validate({name: value}))
        except FaultError:
            continue
    return found


class FaultRules:
    """Thread-safe rule book shared by the HTTP handlers and the lifecycle ticker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scopes: dict[str, dict[str, Any]] = {}

    def set_global(self, **rules: Any) -> None:
        self.set_for(GLOBAL, **rules)

    def set_for(self, scope: str, **rules: Any) -> None:
        """Replace the rule of ``scope`` (a client_ref or a run id) with ``rules``."""
        clean = validate(rules)
        with self._lock:
            self._scopes[scope] = clean

    def clear(self, scope: str | None = None) -> None:
        with self._lock:
            if scope is None:
                self._scopes.clear()
            else:
                self._scopes.pop(scope, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {scope: dict(rules) for scope, rules in self._scopes.items()}

    def resolve(self, *, client_ref: str | None, run_id: str | None, prompt: str) -> Faults:
        merged: dict[str, Any] = {}
        with self._lock:
            for rules in self._layers(client_ref, run_id):
                merged.update(rules)
        merged.update(directives(prompt))
        for name in (*CONSUMABLE, "lose_create_times"):
            merged.pop(name, None)
        return Faults(**merged)

    def take_error(self, kind: str, *, client_ref: str | None, run_id: str | None) -> int | None:
        """Pop the next queued error status for ``kind`` (one of ``CONSUMABLE``)."""
        with self._lock:
            for rules in reversed(self._layers(client_ref, run_id)):
                queue = rules.get(kind)
                if queue:
                    return int(queue.pop(0))
        return None

    def take_lost_answer(self, *, client_ref: str | None, prompt: str) -> str | None:
        """The way to lose this create's answer, counting down ``lose_create_times``."""
        with self._lock:
            for rules in reversed(self._layers(client_ref, None)):
                mode = rules.get("lose_create_answer")
                if mode is None:
                    continue
                remaining = rules.get("lose_create_times")
                if remaining is not None:
                    if remaining <= 0:
                        continue
                    rules["lose_create_times"] = remaining - 1
                return str(mode)
        return directives(prompt).get("lose_create_answer")

    def _layers(self, client_ref: str | None, run_id: str | None) -> list[dict[str, Any]]:
        keys = [GLOBAL, client_ref, run_id]
        return [self._scopes[key] for key in keys if key is not None and key in self._scopes]
