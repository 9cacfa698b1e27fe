"""Runflow's status words, read as ours: terminal ones end a run, unknown ones never do."""

import pytest

from seedance.runflow.payloads import parse_run
from seedance.states import RunStatus


def run_with(status: str) -> dict[str, object]:
    return {"id": "r-1", "status_code": status, "output": None}


def test_errored_is_a_failure_as_runflows_sample_code_treats_it() -> None:
    run = parse_run(run_with("errored"))
    assert run.status == RunStatus.FAILED
    assert run.is_terminal


@pytest.mark.parametrize("status", ["warming_up", "PAUSED", "retrying"])
def test_an_unknown_status_is_in_progress_never_terminal(status: str) -> None:
    run = parse_run(run_with(status))
    assert run.status == RunStatus.RUNNING
    assert not run.is_terminal
    assert run.raw_status == status
