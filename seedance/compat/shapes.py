"""Our run as Runflow's run object, and the status a Runflow client is shown.

The mapping (README, "Switch from Runflow"): a run is shown as ``/api/v1`` shows it
(``seedance.public_status``), except that a video held for review stays ``running`` until
a reviewer decides, and a rejected one is ``failed`` with ``CONTENT_REJECTED``: Runflow
has no withheld success, and its SDK treats only succeeded, failed and canceled as final.
"""

from typing import Any

from django.db.models import Case, CharField, Q, QuerySet, Value, When

from seedance import selectors
from seedance.charges import Charge
from seedance.compat import MODEL_ID
from seedance.models import Run, Tenant
from seedance.outputs import output_links
from seedance.public_status import public_status, shown
from seedance.states import RunStatus

CONTENT_REJECTED = "CONTENT_REJECTED"
CONTENT_REJECTED_MESSAGE = "The video was rejected by content review and is never shown."
CANCELED = "CANCELED"
TERMINAL = frozenset(RunStatus.terminal())

_HELD = Q(status=RunStatus.SUCCEEDED, moderation=Run.Moderation.PENDING)
_REJECTED = Q(status=RunStatus.SUCCEEDED, moderation=Run.Moderation.REJECTED)


def runflow_status() -> Case:
    """The status a Runflow client is shown, as one SQL expression (read and filtered)."""
    return Case(
        When(_HELD, then=Value(RunStatus.RUNNING)),
        When(_REJECTED, then=Value(RunStatus.FAILED)),
        default=public_status(),
        output_field=CharField(),
    )


def runflow_runs(*, tenant: Tenant) -> "QuerySet[Run]":
    """The tenant's runs, each with ``runflow_status`` beside the shown status."""
    return selectors.run_list(tenant=tenant).annotate(runflow_status=runflow_status())


def as_inserted(run: Run) -> Run:
    """A run this request just inserted (queued), shown without reading it back."""
    run.runflow_status = RunStatus.QUEUED  # type: ignore[attr-defined]
    return run


def run_error(run: Run) -> dict[str, str] | None:
    """Runflow's ``error`` on a failed or canceled run: where its SDK reads the reason."""
    status = run.runflow_status  # type: ignore[attr-defined]
    if status == RunStatus.CANCELED:
        return {"code": CANCELED, "message": run.failure_message or "The run was canceled."}
    if status != RunStatus.FAILED:
        return None
    if run.moderation == Run.Moderation.REJECTED:
        return {"code": CONTENT_REJECTED, "message": CONTENT_REJECTED_MESSAGE}
    code = str(shown(run, "public_failure_code") or "failed").upper()
    return {"code": code, "message": shown(run, "public_failure_message") or "The run failed."}


def run_object(run: Run, *, tenant: Tenant, request: Any, charge: Charge | None) -> dict[str, Any]:
    """Runflow's run object; ``cost`` is our charge to the tenant, not Runflow's to us,
    and ``cost_breakdown`` its detail (an in-flight run's estimate included)."""
    status = run.runflow_status  # type: ignore[attr-defined]
    error = run_error(run)
    return {
        "id": str(run.pk),
        "model_id": MODEL_ID,
        "org_id": tenant.slug,
        "status_code": status,
        "input": run.input,
        "output": _output(run, request) if status == RunStatus.SUCCEEDED else None,
        "duration_ms": run.duration_ms,
        "cost": _cost(charge),
        "cost_breakdown": None if charge is None else _cost_breakdown(charge),
        "client_ref": run.client_ref or None,
        "request_id": None,
        "created_at": _moment(run.created_at),
        "started_at": _moment(run.started_at),
        "completed_at": _moment(run.completed_at) if status in TERMINAL else None,
        "callback_url": run.callback_url or None,
        "metadata": run.metadata,
        "failure_code": error["code"] if error else None,
        "failure_message": error["message"] if error else None,
        "failure_stage_code": None,
        "error": error,
    }


def _output(run: Run, request: Any) -> dict[str, Any]:
    return {
        "outputs": [
            {**link.__dict__, "url": _absolute(request, link.url)} for link in output_links(run)
        ],
        "seed": run.result_seed,
        "nsfw_detected": run.nsfw_detected,
        "timing": run.timing,
    }


def _cost(charge: Charge | None) -> str | None:
    """Settled money only, as Runflow's ``cost`` is: a run in flight has an estimate."""
    if charge is None or charge.state == "estimate":
        return None
    return str(charge.amount)


def _cost_breakdown(charge: Charge) -> dict[str, Any]:
    return {
        "state": charge.state,
        "amount": str(charge.amount),
        "currency": charge.currency,
        "unit_price": str(charge.unit_price),
        "seconds": charge.seconds,
        "meter_event_identifier": charge.meter_event_identifier,
    }


def _absolute(request: Any, path: str | None) -> str | None:
    return request.build_absolute_uri(path) if request is not None and path else path


def _moment(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
