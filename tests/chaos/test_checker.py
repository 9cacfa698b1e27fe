"""The chaos checker: a clean recorded state passes; one breach of any invariant fails the
run (exit 1) and the table names that invariant, and only that one."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.__main__ import main
from tests.chaos.checker import INVARIANTS, check

NS = "seedance"
#: What Stripe can tell r1's and r2's events by (customer, meter, minute, seconds).
ACME_4S = "cus_acme|mtr_480p|2026-12-03T10:00|4"


def _run(
    run_id: str, status: str, *, tenant: str = "acme", end_user: str = "u1", billed: bool = True
) -> dict[str, Any]:
    usage = None
    if status == "succeeded":
        usage = {
            "identifier": f"{NS}:{run_id}",
            "refused_identifiers": [],
            "push_state": "confirmed" if billed else "waiting",
            "amount": "1.50",
            "period": "2026-12-01",
            "stripe_class": ACME_4S
            if tenant == "acme"
            else "cus_globex|mtr_480p|2026-12-03T10:00|4",
        }
    return {
        "id": run_id,
        "tenant": tenant,
        "end_user_id": end_user,
        "status": status,
        "usage": usage,
    }


def _event(identifier: str, *, error: str | None = None) -> dict[str, Any]:
    return {"identifier": identifier, "error": error, "canceled": False, "stripe_class": ACME_4S}


def clean_state() -> dict[str, Any]:
    """Four runs: billed, billed after one refusal and resend, failed, held for review."""
    runs = [
        _run("r1", "succeeded"),
        _run("r2", "succeeded", end_user="u2"),
        _run("r3", "failed"),
        _run("r4", "succeeded", tenant="globex", billed=False),
    ]
    runs[1]["usage"]["refused_identifiers"] = [f"{NS}:r2"]
    runs[1]["usage"]["identifier"] = f"{NS}:r2:2"
    return {
        "submitted": ["r1", "r2", "r3", "r4"],
        "runs": runs,
        "upstream": [
            {"id": "rf1", "client_ref": "r1", "status_code": "succeeded"},
            {"id": "rf2", "client_ref": "r2", "status_code": "succeeded"},
            {"id": "rf3", "client_ref": "r3", "status_code": "failed"},
            {"id": "rf4", "client_ref": "r4", "status_code": "succeeded"},
        ],
        "meter_events": [
            _event(f"{NS}:r1"),
            _event(f"{NS}:r2", error="archived_meter"),
            _event(f"{NS}:r2:2"),
        ],
        "reconcile": {"exit_code": 0, "output": "Reconciled: 2 matched, 0 different"},
        "webhooks_emitted": ["evt_1", "evt_2"],
        "webhooks_received": ["evt_1", "evt_2", "evt_2"],
        "caps": [
            {"tenant": "acme", "end_user_id": "", "cap": "3.00"},
            {"tenant": "acme", "end_user_id": "u1", "cap": "1.50"},
        ],
        "concurrency": [{"tenant": "acme", "cap": 2}],
        "charges": [
            {"run_id": "r1", "tenant": "acme", "reserved_at": "T01", "settled_at": "T03"},
            {"run_id": "r2", "tenant": "acme", "reserved_at": "T02", "settled_at": "T04"},
            {"run_id": "r3", "tenant": "acme", "reserved_at": "T04", "settled_at": "T05"},
        ],
    }


def _still_running(state: dict[str, Any]) -> None:
    state["runs"][2]["status"] = "running"
    state["upstream"][2]["status_code"] = "running"


def _status_differs(state: dict[str, Any]) -> None:
    state["upstream"][2]["status_code"] = "succeeded"


def _second_upstream_run(state: dict[str, Any]) -> None:
    state["upstream"].append({"id": "rf5", "client_ref": "r3", "status_code": "failed"})


def _ledger_row_missing(state: dict[str, Any]) -> None:
    state["runs"][0]["usage"] = None
    state["meter_events"].pop(0)


def _second_meter_event(state: dict[str, Any]) -> None:
    state["meter_events"].append(_event(f"{NS}:r1"))


def _reconcile_differs(state: dict[str, Any]) -> None:
    state["reconcile"] = {"exit_code": 1, "output": "DIFFERENCE acme 2026-12 ..."}


def _webhook_lost(state: dict[str, Any]) -> None:
    state["webhooks_received"] = ["evt_1"]


def _spend_over_cap(state: dict[str, Any]) -> None:
    state["caps"][1]["cap"] = "1.00"


def _too_many_in_flight(state: dict[str, Any]) -> None:
    state["concurrency"][0]["cap"] = 1


BREACHES: dict[str, Callable[[dict[str, Any]], None]] = {
    "runs_terminal": _still_running,
    "runs_match_runflow": _status_differs,
    "one_upstream_run": _second_upstream_run,
    "one_ledger_row": _ledger_row_missing,
    "one_meter_event": _second_meter_event,
    "reconcile_clean": _reconcile_differs,
    "webhooks_delivered": _webhook_lost,
    "spend_caps_held": _spend_over_cap,
    "concurrency_cap_held": _too_many_in_flight,
}


def _main_on(state: dict[str, Any], tmp_path: Path) -> int:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    return main(["--check", str(path)])


def test_every_invariant_has_a_breach_case() -> None:
    assert set(BREACHES) == set(INVARIANTS)


def test_a_clean_state_passes_every_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main_on(clean_state(), tmp_path) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    for outcome in check(clean_state()):
        assert outcome.checked > 0, outcome.invariant
        assert f"{outcome.invariant} " in out


@pytest.mark.parametrize("invariant", list(BREACHES))
def test_one_breach_fails_the_run_and_names_its_invariant(
    invariant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = copy.deepcopy(clean_state())
    BREACHES[invariant](state)

    assert _main_on(state, tmp_path) == 1
    out = capsys.readouterr().out
    failed = [line.split()[0] for line in out.splitlines() if line.endswith("FAIL")]
    assert failed == [invariant]
    assert f"BREACH {invariant} " in out
    assert [len(o.breaches) for o in check(state) if o.invariant == invariant] == [1]


def _swapped_within_a_class(state: dict[str, Any]) -> None:
    """Stripe refused r1's event unnamed; r2 (same customer, meter, minute, seconds) was
    flagged for it and resent: r2 has two accepted events, r1 none, the class two of two."""
    state["meter_events"] = [
        _event(f"{NS}:r1", error="archived_meter"),
        _event(f"{NS}:r2"),
        _event(f"{NS}:r2:2"),
    ]


def test_rows_stripe_cannot_tell_apart_are_counted_as_a_class() -> None:
    state = copy.deepcopy(clean_state())
    _swapped_within_a_class(state)
    assert all(not outcome.breaches for outcome in check(state))


@pytest.mark.parametrize(
    ("change", "breached"),
    [
        ("one too many", ["r1", "r2"]),  # r2 has three accepted events: three of two
        ("one too few", ["r1"]),  # r2's resend refused as well: the class one of two
    ],
)
def test_a_class_with_one_event_too_many_or_too_few_is_a_breach(
    change: str, breached: list[str]
) -> None:
    """An unbalanced class names each of its rows whose own count is off."""
    state = copy.deepcopy(clean_state())
    _swapped_within_a_class(state)
    if change == "one too many":
        state["meter_events"].append(_event(f"{NS}:r2:2"))
    else:
        state["meter_events"][2]["error"] = "archived_meter"
    (outcome,) = [o for o in check(state) if o.invariant == "one_meter_event"]
    assert [breach.subject for breach in outcome.breaches] == breached


def test_an_event_with_other_values_than_its_row_is_a_breach() -> None:
    state = copy.deepcopy(clean_state())
    state["meter_events"][0]["stripe_class"] = "cus_acme|mtr_480p|2026-12-03T10:00|8"
    (outcome,) = [o for o in check(state) if o.invariant == "one_meter_event"]
    assert [breach.subject for breach in outcome.breaches] == [f"{NS}:r1", "r1"]


def test_a_row_not_billed_is_never_balanced_by_its_class() -> None:
    """A held row's event accepted while a billed twin has none is two breaches."""
    state = copy.deepcopy(clean_state())
    state["runs"][3]["usage"]["stripe_class"] = ACME_4S
    state["meter_events"] = [
        _event(f"{NS}:r4"),
        _event(f"{NS}:r2", error="archived_meter"),
        _event(f"{NS}:r2:2"),
    ]
    (outcome,) = [o for o in check(state) if o.invariant == "one_meter_event"]
    assert sorted(breach.subject for breach in outcome.breaches) == ["r1", "r4"]
