"""Small builders for rows and Runflow payloads used across the suite."""

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from seedance.models import Run, Tenant

PAYLOADS = Path(__file__).parent / "payloads"


def make_run(tenant: Tenant, **fields: Any) -> Run:
    values: dict[str, Any] = {
        "prompt": "A lighthouse at dusk, waves breaking",
        "duration": "5",
        "resolution": "720p",
        "aspect_ratio": "16:9",
        "deadline_at": timezone.now() + timedelta(minutes=30),
    }
    values.update(fields)
    return Run.objects.create(tenant=tenant, **values)


def callback_payload(name: str, run: Run, **overrides: Any) -> dict[str, Any]:
    """A captured callback body, pointed at ``run`` (its provider id and our id)."""
    payload: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    payload["run_id"] = run.provider_run_id or str(uuid.uuid4())
    payload["metadata"] = {"seedance_run_id": str(run.pk)}
    payload.update(overrides)
    return payload


VIDEO_720P = {"url": "u", "type": "video/mp4", "width": 1280, "height": 720, "duration": 5.0}


def finish_successfully(
    run: Run,
    *,
    nsfw_detected: bool | None = False,
    output: dict[str, Any] | None = None,
    cost: str = "1.2095",
) -> Run:
    """The terminal transition of a success, as a Runflow callback would apply it."""
    from decimal import Decimal

    from seedance.states import RunStatus
    from seedance.transitions import Outcome, run_finish

    finished = run_finish(
        run.pk,
        Outcome(
            status=RunStatus.SUCCEEDED,
            outputs=[output or VIDEO_720P],
            nsfw_detected=nsfw_detected,
            cost=Decimal(cost),
            completed_at=timezone.now(),
        ),
    )
    assert finished is not None
    return finished
