"""The runs section: each kind of stuck run, flagged runs, open discrepancies and held
videos appear when their cause is in the database, and not otherwise."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from seedance.doctor.findings import Context, Section, Severity
from seedance.doctor.runs import runs_section
from seedance.models import Run, RunDiscrepancy, Tenant
from seedance.states import Attention, Delivery, RunStatus
from tests.factories import finish_successfully, make_run
from tests.seedance.doctor.helpers import finding, trouble

pytestmark = pytest.mark.django_db


def section_at(now: datetime | None = None) -> Section:
    return runs_section(Context(now=now or timezone.now()))


def make_old_run(tenant: Tenant, *, minutes: float, **fields: object) -> Run:
    """A run created ``minutes`` ago (``created_at`` is auto_now_add: set after)."""
    run = make_run(tenant, **fields)
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return Run.objects.get(pk=run.pk)


def test_a_clean_database_has_no_runs_trouble(tenant: Tenant) -> None:
    make_run(tenant)  # just made: the reconciler has not had its turn yet
    section = section_at()
    assert trouble(section) == {}
    assert finding(section, "runs.stuck").what == "No stuck runs."


def test_a_queued_run_never_submitted_for_long_is_stuck(tenant: Tenant) -> None:
    run = make_old_run(tenant, minutes=10)
    stuck = finding(section_at(), "runs.stuck.never_submitted")
    assert stuck.severity is Severity.PROBLEM
    assert stuck.items == (str(run.pk),)
    assert "qcluster" in stuck.todo
    assert "reconcile-runs" in stuck.todo


def test_a_queued_run_inside_the_reconcilers_grace_is_not_stuck(tenant: Tenant) -> None:
    make_old_run(tenant, minutes=2)
    assert "runs.stuck.never_submitted" not in trouble(section_at())


def test_a_claim_without_runflows_answer_past_its_outcome_window_is_stuck(tenant: Tenant) -> None:
    run = make_run(tenant, claimed_at=timezone.now() - timedelta(hours=1))
    assert finding(section_at(), "runs.stuck.create_unanswered").items == (str(run.pk),)


def test_a_claim_whose_last_create_attempt_is_recent_is_not_stuck(tenant: Tenant) -> None:
    make_run(
        tenant,
        claimed_at=timezone.now() - timedelta(hours=1),
        create_sent_at=timezone.now() - timedelta(seconds=10),
    )
    assert "runs.stuck.create_unanswered" not in trouble(section_at())


def test_a_run_at_runflow_with_no_news_for_long_is_stuck(tenant: Tenant) -> None:
    long_ago = timezone.now() - timedelta(minutes=30)
    run = make_run(
        tenant,
        status=RunStatus.RUNNING,
        provider_run_id="rf_quiet",
        claimed_at=long_ago,
        submitted_at=long_ago,
        last_polled_at=long_ago,
    )
    polled = make_run(
        tenant,
        status=RunStatus.RUNNING,
        provider_run_id="rf_polled",
        claimed_at=long_ago,
        submitted_at=long_ago,
        last_polled_at=timezone.now(),
    )
    items = finding(section_at(), "runs.stuck.no_news").items
    assert str(run.pk) in items
    assert str(polled.pk) not in items


def test_an_unflagged_run_past_its_deadline_is_stuck(tenant: Tenant) -> None:
    run = make_run(
        tenant,
        status=RunStatus.RUNNING,
        provider_run_id="rf_late",
        submitted_at=timezone.now(),
        last_polled_at=timezone.now(),
        deadline_at=timezone.now() - timedelta(minutes=10),
    )
    section = section_at()
    assert finding(section, "runs.stuck.past_deadline_unflagged").items == (str(run.pk),)
    assert "runs.stuck.past_hard_limit" not in trouble(section)


def test_a_run_in_flight_past_its_hard_limit_is_stuck(tenant: Tenant) -> None:
    run = make_old_run(
        tenant,
        minutes=25 * 60,
        status=RunStatus.RUNNING,
        provider_run_id="rf_ancient",
        submitted_at=timezone.now(),
        last_polled_at=timezone.now(),
        deadline_at=timezone.now() - timedelta(hours=24),
        attention=Attention.OVERDUE,
        attention_since=timezone.now() - timedelta(hours=24),
    )
    assert finding(section_at(), "runs.stuck.past_hard_limit").items == (str(run.pk),)


def test_a_succeeded_run_whose_copy_is_overdue_is_stuck(tenant: Tenant) -> None:
    run = finish_successfully(make_run(tenant), delivered=False)
    Run.objects.filter(pk=run.pk).update(next_delivery_at=timezone.now() - timedelta(hours=1))
    assert finding(section_at(), "runs.stuck.copy_overdue").items == (str(run.pk),)
    Run.objects.filter(pk=run.pk).update(delivery=Delivery.DELIVERED)
    assert trouble(section_at()) == {}


def test_a_flagged_run_in_flight_is_a_warning_not_stuck(tenant: Tenant) -> None:
    run = make_run(
        tenant,
        status=RunStatus.RUNNING,
        provider_run_id="rf_overdue",
        submitted_at=timezone.now(),
        last_polled_at=timezone.now(),
        deadline_at=timezone.now() - timedelta(minutes=10),
        attention=Attention.OVERDUE,
        attention_since=timezone.now(),
    )
    section = section_at()
    assert trouble(section) == {"runs.flagged": Severity.WARNING}
    assert finding(section, "runs.flagged").items == (str(run.pk),)


def test_runs_watched_for_a_late_success_are_counted_but_need_nobody(tenant: Tenant) -> None:
    make_run(
        tenant,
        status=RunStatus.FAILED,
        failure_code="deadline_exceeded",
        attention=Attention.OVERDUE,
        completed_at=timezone.now() - timedelta(hours=1),
    )
    section = section_at()
    assert trouble(section) == {}
    assert finding(section, "runs.watched").details == {"watched": 1}


def test_an_open_paid_not_billed_discrepancy_is_a_problem_until_resolved(tenant: Tenant) -> None:
    run = make_run(
        tenant,
        status=RunStatus.FAILED,
        failure_code="deadline_exceeded",
        completed_at=timezone.now() - timedelta(days=3),
    )
    discrepancy = RunDiscrepancy.objects.create(
        run=run,
        kind=RunDiscrepancy.Kind.PAID_NOT_BILLED,
        provider_run_id="rf_paid",
        provider_status="succeeded",
        cost=Decimal("1.25"),
    )
    found = finding(section_at(), "runs.discrepancies")
    assert found.severity is Severity.PROBLEM
    assert found.items == (str(run.pk),)
    assert found.details == {"cost_usd": "1.25"}
    assert "/admin/seedance/rundiscrepancy/?open=yes" in found.todo
    RunDiscrepancy.objects.filter(pk=discrepancy.pk).update(resolved_at=timezone.now())
    assert trouble(section_at()) == {}


def test_a_held_nsfw_video_waits_in_the_review_queue(tenant: Tenant) -> None:
    run = finish_successfully(make_run(tenant), nsfw_detected=True)
    assert run.moderation == Run.Moderation.PENDING
    held = finding(section_at(timezone.now() + timedelta(hours=2)), "runs.moderation")
    assert held.severity is Severity.WARNING
    assert held.items == (str(run.pk),)
    assert held.details["oldest_wait_seconds"] >= 2 * 3600
    assert "the oldest for 2 h" in held.what
    assert "http://testserver/admin/seedance/run/review/" in held.todo
