"""Models read the API's JSON: aware datetimes, Decimal money, unknown fields ignored."""

from datetime import UTC, datetime
from decimal import Decimal

from client_payloads import run_json
from seedance_client import Limits, Page, Run, Usage


def test_run_parses_times_as_aware_and_nested_objects() -> None:
    run = Run.from_json(run_json())
    assert run.created_at == datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=UTC)
    assert all(
        moment is not None and moment.tzinfo is not None
        for moment in (run.created_at, run.submitted_at, run.started_at, run.completed_at)
    )
    assert run.is_terminal
    assert run.outputs[0].width == 854
    assert run.output is not None
    assert run.output.seed == 1234


def test_a_run_s_charge_is_decimal_and_may_be_absent() -> None:
    run = Run.from_json(run_json())
    assert run.charge is not None
    assert run.charge.amount == Decimal("1.2095")
    older = run_json()
    del older["charge"]
    assert Run.from_json(older).charge is None


def test_unknown_fields_are_ignored() -> None:
    run = Run.from_json(run_json(shiny_new_field={"x": 1}))
    assert run.prompt.startswith("A barista")


def test_a_queued_run_has_no_output() -> None:
    run = Run.from_json(run_json(status="queued", output=None, completed_at=None))
    assert not run.is_terminal
    assert run.outputs == ()
    assert run.completed_at is None


def test_money_is_decimal() -> None:
    limits = Limits.from_json(
        {
            "month": {"spent": "1.250000", "cap": "100.000000", "remaining": "98.750000"},
            "end_user": None,
            "max_in_flight_runs": None,
            "subscription_status": "none",
        }
    )
    assert limits.month.remaining == Decimal("98.75")
    usage = Usage.from_json(
        {
            "from": "2026-12-01T00:00:00Z",
            "to": "2026-12-03T10:00:00+00:00",
            "group_by": "day",
            "currency": "usd",
            "totals": {"runs": 1, "seconds": 5, "amount": "0.500000"},
            "groups": [{"key": "2026-12-03", "runs": 1, "seconds": 5, "amount": "0.500000"}],
        }
    )
    assert usage.totals.amount == Decimal("0.5")
    assert usage.from_.tzinfo is not None


def test_page_cursor_comes_from_the_next_link() -> None:
    page = Page.from_json(
        {"next": "http://x/api/v1/runs?cursor=abc%3D&limit=2", "previous": None, "results": []},
        Run.from_json,
    )
    assert page.next_cursor == "abc="
    assert page.previous_cursor is None
