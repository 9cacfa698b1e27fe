"""Every request's lines carry one request id (the caller's when sane), echoed back."""

import logging
import re
from typing import Any

import pytest

from seedance.log_context import bound_to_run
from tests.factories import make_run
from tests.logs import json_lines

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize(
    "incoming", ["abcdef12-3456-7890-abcd-ef1234567890", "lb.req:00000042", "X" * 128]
)
def test_a_sane_incoming_request_id_is_kept_and_echoed(client: Any, incoming: str) -> None:
    response = client.get("/health/live", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "short",
        "has spaces in it",
        "x" * 129,
        "<script>alert(1)</script>",
        "a\tb12345",
        "abcdefgh\n",
    ],
)
def test_an_odd_incoming_request_id_is_replaced(client: Any, incoming: str) -> None:
    response = client.get("/health/live", headers={"X-Request-ID": incoming})
    assert GENERATED.match(response["X-Request-ID"])


def test_every_answer_carries_a_request_id_errors_included(client: Any) -> None:
    assert GENERATED.match(client.get("/api/v1/runs")["X-Request-ID"])  # 401
    assert GENERATED.match(client.get("/no/such/page/")["X-Request-ID"])  # 404
    first, second = client.get("/health/live"), client.get("/health/live")
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_request_line_names_the_request_the_tenant_and_the_run(
    api_client: Any, tenant: Any
) -> None:
    run = make_run(tenant)
    with json_lines() as captured:
        response = api_client.get(f"/api/v1/runs/{run.pk}", headers={"X-Request-ID": "trace-0042"})
    assert response.status_code == 200
    [line] = [line for line in captured.records() if line["logger"] == "seedance.request"]
    assert line["request_id"] == "trace-0042"
    assert (line["tenant"], line["tenant_id"], line["run_id"]) == (
        tenant.slug,
        tenant.pk,
        str(run.pk),
    )
    assert (line["method"], line["path"], line["status"]) == ("GET", f"/api/v1/runs/{run.pk}", 200)


def test_a_tasks_lines_carry_its_run_and_the_next_tasks_do_not(tenant: Any) -> None:
    """A worker runs task after task in one process: a run id never leaks into the next."""
    logger = logging.getLogger("seedance.test")

    @bound_to_run
    def task(run_id: str) -> None:
        logger.info("inside")

    run = make_run(tenant)
    with json_lines() as captured:
        task(str(run.pk))
        logger.info("after")
    inside, after = captured.records()
    assert inside["run_id"] == str(run.pk)
    assert "run_id" not in after
