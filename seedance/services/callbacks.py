"""Applying a verified Runflow callback to the one run it belongs to.

Runflow signs only the body, so a captured callback could be replayed to another run's
URL: it is applied only when the payload names the provider run stored on this run (or,
before the create's answer arrived, when it carries this run's own id in its metadata).
"""

import hashlib
import logging
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction

from seedance.models import InboundDelivery, Run
from seedance.runflow.payloads import ProviderRun
from seedance.services.submission import run_attach_provider
from seedance.transitions import run_apply_provider

logger = logging.getLogger(__name__)

Outcome = InboundDelivery.Outcome


@dataclass(frozen=True)
class CallbackResult:
    run: Run
    outcome: str


def callback_dedupe_key(*, run_id: UUID, body: bytes) -> str:
    """Runflow callbacks carry no event id: the same body to the same run is a repeat."""
    return f"{run_id}:{hashlib.sha256(body).hexdigest()}"


def callback_receive(*, run_id: UUID, provider_run: ProviderRun) -> CallbackResult:
    """Raises Run.DoesNotExist for an unknown run; a mismatch is reported, never applied."""
    with transaction.atomic():
        run = Run.objects.get(pk=run_id)
        if _belongs_to(run, provider_run):
            if run.provider_run_id is None:
                changed = run_attach_provider(run.pk, provider_run)
            else:
                changed = run_apply_provider(run.pk, provider_run)
            outcome = Outcome.APPLIED if changed else Outcome.DUPLICATE
        else:
            logger.warning(
                "Callback for Runflow run %s posted to run %s (provider id %s): ignored",
                provider_run.id,
                run.pk,
                run.provider_run_id,
            )
            outcome = Outcome.MISMATCH
        run.refresh_from_db()
    return CallbackResult(run=run, outcome=outcome)


def _belongs_to(run: Run, provider_run: ProviderRun) -> bool:
    if run.provider_run_id is not None:
        return run.provider_run_id == provider_run.id
    return provider_run.our_run_id == str(run.pk)
