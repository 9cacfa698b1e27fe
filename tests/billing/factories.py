"""Billable runs made the way production makes them: create, then the terminal transition."""

from decimal import Decimal
from typing import Any

from django.utils import timezone

from seedance.models import Run, Tenant
from seedance.run_input import RunInput
from seedance.services.runs import run_create
from seedance.states import RunStatus
from seedance.transitions import Outcome, run_finish


def billable_run(tenant: Tenant, *, created_by: Any = None, **fields: Any) -> Run:
    values = {"prompt": "a lantern on a lake", "duration": "5", "resolution": "720p", **fields}
    run, _ = run_create(tenant=tenant, run_input=RunInput(**values), created_by=created_by)
    output = {"url": "u", "type": "video/mp4", "width": 1280, "height": 720, "duration": 5.0}
    finished = run_finish(
        run.pk,
        Outcome(
            status=RunStatus.SUCCEEDED,
            outputs=[output],
            cost=Decimal("1.2095"),
            completed_at=timezone.now(),
        ),
    )
    assert finished is not None
    return finished
