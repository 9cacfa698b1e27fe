"""The Runflow section: does Runflow answer us now? One authenticated read (our balance),
no retry and a short timeout, so a Runflow outage is a line here, never a hang."""

import time
from collections.abc import Iterator

from django.core.exceptions import ImproperlyConfigured

from seedance.conf import setting
from seedance.doctor.findings import Context, Finding, Section, Severity
from seedance.exceptions import RunflowAuthError, RunflowError, RunflowOutOfCredit
from seedance.runflow.client import RunflowClient

TIMEOUT_SECONDS = 5.0

OUTAGE_TODO = (
    "Runs wait queued or in flight and the reconciler settles them once Runflow answers; "
    "nothing is lost. Check RUNFLOW_BASE_URL and the network, and Runflow's status page; "
    "`seedance_runflow_errors_total` shows since when."
)


def _reachability() -> Iterator[Finding]:
    base_url = str(setting("RUNFLOW_BASE_URL"))
    started = time.monotonic()
    try:
        with RunflowClient(timeout=TIMEOUT_SECONDS, max_attempts=1) as client:
            balance = client.balance()
    except ImproperlyConfigured as error:
        yield Finding(
            "runflow.reachable",
            Severity.PROBLEM,
            f"Runflow is not configured: {error}.",
            todo="Set RUNFLOW_BASE_URL and RUNFLOW_API_KEY in the environment.",
        )
        return
    except RunflowAuthError as error:
        yield Finding(
            "runflow.reachable",
            Severity.PROBLEM,
            f"Runflow at {base_url} refused our API key: {error}",
            todo="Check RUNFLOW_API_KEY (a current `rf_` key of our Runflow account).",
        )
        return
    except RunflowOutOfCredit as error:
        yield Finding(
            "runflow.reachable",
            Severity.PROBLEM,
            f"Runflow at {base_url} says we are out of credit: {error}",
            todo="Top up the Runflow account; runs wait queued for the reconciler meanwhile.",
        )
        return
    except RunflowError as error:
        yield Finding(
            "runflow.reachable",
            Severity.PROBLEM,
            f"Runflow at {base_url} did not answer: {error}",
            todo=OUTAGE_TODO,
        )
        return
    elapsed_ms = int((time.monotonic() - started) * 1000)
    cents = balance.get("balance_cents")
    currency = str(balance.get("currency") or "").upper()
    credit = f"; our balance is {cents / 100:.2f} {currency}" if isinstance(cents, int) else ""
    yield Finding(
        "runflow.reachable",
        Severity.OK,
        f"Runflow at {base_url} answered in {elapsed_ms} ms{credit.rstrip()}.",
        details={"elapsed_ms": elapsed_ms, "balance_cents": cents},
    )


def runflow_section(context: Context) -> Section:
    if context.offline:
        skipped = Finding(
            "runflow.reachable",
            Severity.OK,
            "Not checked (--offline).",
            details={"skipped": True},
        )
        return Section(name="runflow", title="Runflow", findings=(skipped,))
    return Section(name="runflow", title="Runflow", findings=tuple(_reachability()))
