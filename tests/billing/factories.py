"""Billable runs made the way production makes them: create, then the terminal transition."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing.models import Price
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


def new_price(
    tenant: Tenant | None,
    resolution: str,
    per_second: str,
    *,
    effective_from: datetime | None = None,
) -> Price:
    """A price change as production makes one: a new dated row (none is ever edited)."""
    return Price.objects.create(
        tenant=tenant,
        resolution=resolution,
        per_second=Decimal(per_second),
        effective_from=effective_from or timezone.now(),
    )
