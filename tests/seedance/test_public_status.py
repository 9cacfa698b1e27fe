"""The one expression of what a tenant is shown, row by row of its rule."""

from typing import Any

import pytest

from seedance.models import Run, Tenant
from seedance.public_status import (
    OUTPUT_UNAVAILABLE,
    public_status_counts,
    shown,
    with_public_status,
    with_public_status_as_inserted,
)
from seedance.states import Delivery, RunStatus
from tests.factories import make_run

pytestmark = pytest.mark.django_db
PENDING, APPROVED, REJECTED, NONE = (
    Run.Moderation.PENDING,
    Run.Moderation.APPROVED,
    Run.Moderation.REJECTED,
    Run.Moderation.NONE,
)

RULE = [
    # (our status, delivery, moderation) -> (shown status, shown failure code)
    ((RunStatus.QUEUED, Delivery.PENDING, NONE), (RunStatus.QUEUED, "")),
    ((RunStatus.RUNNING, Delivery.PENDING, NONE), (RunStatus.RUNNING, "")),
    ((RunStatus.FAILED, Delivery.PENDING, NONE), (RunStatus.FAILED, "GENERATION_FAILED")),
    ((RunStatus.CANCELED, Delivery.PENDING, NONE), (RunStatus.CANCELED, "")),
    ((RunStatus.SUCCEEDED, Delivery.PENDING, NONE), (RunStatus.RUNNING, "")),
    ((RunStatus.SUCCEEDED, Delivery.DELIVERED, NONE), (RunStatus.SUCCEEDED, "")),
    ((RunStatus.SUCCEEDED, Delivery.UNAVAILABLE, NONE), (RunStatus.FAILED, OUTPUT_UNAVAILABLE)),
    ((RunStatus.SUCCEEDED, Delivery.PENDING, APPROVED), (RunStatus.RUNNING, "")),
    ((RunStatus.SUCCEEDED, Delivery.DELIVERED, APPROVED), (RunStatus.SUCCEEDED, "")),
    ((RunStatus.SUCCEEDED, Delivery.UNAVAILABLE, APPROVED), (RunStatus.FAILED, OUTPUT_UNAVAILABLE)),
    # A video withheld by moderation shows succeeded (with no output), copied or not.
    ((RunStatus.SUCCEEDED, Delivery.PENDING, PENDING), (RunStatus.SUCCEEDED, "")),
    ((RunStatus.SUCCEEDED, Delivery.DELIVERED, PENDING), (RunStatus.SUCCEEDED, "")),
    ((RunStatus.SUCCEEDED, Delivery.UNAVAILABLE, PENDING), (RunStatus.SUCCEEDED, "")),
    ((RunStatus.SUCCEEDED, Delivery.DELIVERED, REJECTED), (RunStatus.SUCCEEDED, "")),
    ((RunStatus.SUCCEEDED, Delivery.UNAVAILABLE, REJECTED), (RunStatus.SUCCEEDED, "")),
]


@pytest.mark.parametrize(("ours", "theirs"), RULE)
def test_shown_status_follows_the_rule(
    tenant: Tenant, ours: tuple[str, str, str], theirs: tuple[str, str]
) -> None:
    status, delivery, moderation = ours
    failure = "GENERATION_FAILED" if status == RunStatus.FAILED else ""
    run = make_run(
        tenant, status=status, delivery=delivery, moderation=moderation, failure_code=failure
    )

    read = with_public_status(Run.objects.filter(pk=run.pk)).get()

    assert (shown(read), shown(read, "public_failure_code")) == theirs
    assert read.status == status  # ours is never rewritten


def test_counts_and_filters_use_the_same_expression(tenant: Tenant, other_tenant: Tenant) -> None:
    for ours, _ in RULE:
        status, delivery, moderation = ours
        make_run(tenant, status=status, delivery=delivery, moderation=moderation)
    make_run(other_tenant, status=RunStatus.SUCCEEDED, delivery=Delivery.DELIVERED)
    runs = Run.objects.for_tenant(tenant)

    counts = public_status_counts(runs)

    expected: dict[str, int] = dict.fromkeys(RunStatus.values, 0)
    for _, (status, _code) in RULE:
        expected[status] += 1
    assert counts == expected
    for status, count in counts.items():
        assert with_public_status(runs).filter(public_status=status).count() == count


def test_a_run_not_read_through_the_expression_has_no_shown_status(tenant: Any) -> None:
    run = make_run(tenant)
    with pytest.raises(LookupError, match="with_public_status"):
        shown(run)


def test_a_run_as_inserted_shows_what_the_expression_would(tenant: Tenant) -> None:
    run = make_run(tenant, failure_code="", failure_message="")
    read = with_public_status(Run.objects.filter(pk=run.pk)).get()
    as_inserted = with_public_status_as_inserted(run)
    for field in ("public_status", "public_failure_code", "public_failure_message"):
        assert shown(as_inserted, field) == shown(read, field)


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED])
def test_only_a_queued_run_may_be_shown_as_inserted(tenant: Tenant, status: str) -> None:
    with pytest.raises(ValueError, match="not as inserted"):
        with_public_status_as_inserted(make_run(tenant, status=status))
