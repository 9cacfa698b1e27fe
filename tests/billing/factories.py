"""Billable runs made the way production makes them: create, then the terminal transition."""

from typing import Any

from seedance.models import Run, Tenant
from seedance.run_input import RunInput
from seedance.services.runs import run_create
from tests.factories import finish_successfully


def billable_run(
    tenant: Tenant, *, created_by: Any = None, nsfw_detected: bool | None = False, **fields: Any
) -> Run:
    values = {"prompt": "a lantern on a lake", "duration": "5", "resolution": "720p", **fields}
    run, _ = run_create(tenant=tenant, run_input=RunInput(**values), created_by=created_by)
    return finish_successfully(run, nsfw_detected=nsfw_detected)
