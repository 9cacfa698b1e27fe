"""Small builders for rows and Runflow payloads used across the suite."""

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from seedance.audit import Actor
from seedance.models import OutputFile, Run, Tenant

PAYLOADS = Path(__file__).parent / "payloads"
#: Who the suite's set-up acts as when a service asks for an actor.
SYSTEM = Actor.system("tests")


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


#: The first bytes of an MP4: enough for a stored copy a test may serve.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def finish_successfully(
    run: Run,
    *,
    nsfw_detected: bool | None = False,
    output: dict[str, Any] | None = None,
    cost: str = "1.2095",
    delivered: bool = True,
) -> Run:
    """The terminal transition of a success, as a Runflow callback would apply it, then
    (unless ``delivered=False``) our copy of its output and the delivery it makes."""
    from decimal import Decimal

    from seedance.outcomes import Outcome
    from seedance.states import RunStatus
    from seedance.transitions import run_finish

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
    return deliver(finished) if delivered else finished


def deliver(run: Run) -> Run:
    """Store a copy of every output as the copy task does, then mark the run delivered."""
    from seedance.transitions import run_mark_delivered

    store_copies(run)
    assert run_mark_delivered(run.pk)
    return Run.objects.get(pk=run.pk)


def store_copies(run: Run) -> None:
    """Our copy of every output, stored and recorded as the copy task leaves it."""
    now = timezone.now()
    for index, entry in enumerate(run.outputs):
        record = OutputFile.objects.create(
            run=run,
            index=index,
            width=entry.get("width"),
            height=entry.get("height"),
            duration=entry.get("duration"),
        )
        name = record.file.storage.save(f"outputs/{run.pk}-{index}.mp4", ContentFile(MP4_BYTES))
        OutputFile.objects.filter(pk=record.pk).update(
            file=name, size=len(MP4_BYTES), copied_at=now
        )


def make_person(username: str, email: str, password: str | None = None) -> Any:
    """An account as allauth leaves it after sign-up and confirmation: its address verified."""
    from django.contrib.auth.models import User

    from seedance.accounts.identity import verified_email_set

    user = User.objects.create_user(username, email, password)
    verified_email_set(user=user, email=email)
    return user
