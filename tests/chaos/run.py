"""The chaos run end to end: boot the stack, make the tenants, submit the runs while the
faults fly, wait for the system to settle, record the final state.

The harness reads and writes the chaos database itself (Django set up on the stack's
environment) only where a person would: making tenants, keys, caps and webhook endpoints
through the project's services and commands, and resending refused usage rows once the
meter is fixed (the admin's "Resend refused rows" action, ``usage_resend_refused``).
"""

import os
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

from tests.chaos import faults
from tests.chaos.load import Client, Submitted, submit_all
from tests.chaos.receiver import Receiver
from tests.chaos.stack import (
    DATABASE,
    RECEIVER_PORT,
    SETTLE_SECONDS,
    SUMMARY_LAG_SECONDS,
    Stack,
    stack_env,
)
from tests.processes import ROOT

SEED = 20261203
#: (slug, end users, caps per run submitted: tenant monthly USD, per end user USD, runs in
#: flight at once); most runs are admitted, and each cap is reached partway through.
TENANTS: list[tuple[str, tuple[str, ...], tuple[str | None, str | None, str | None]]] = [
    ("acme", ("ann", "bob"), ("0.12", None, None)),
    ("globex", ("cy", "dee", "eve"), (None, "0.04", None)),
    ("initech", ("fay", "gus"), (None, None, "0.04")),
]
PERSON_PAUSE_SECONDS = 5


def chaos_run(*, runs: int, record_to: Path, seed: int = SEED) -> None:
    var_dir = ROOT / "var" / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    env = stack_env(var_dir)
    os.environ.update(env, LOG_LEVEL="WARNING", Q_LOG_LEVEL="WARNING")  # the harness's own
    stack = Stack(var_dir, env)
    receiver = Receiver(RECEIVER_PORT)
    started = time.monotonic()
    try:
        stack.boot()
        django.setup()
        receiver.start()
        clients = _tenants(stack, receiver, runs)
        faults.stripe_faults(0.33, seed)
        _say(started, f"stack up, {len(clients)} tenants; submitting {runs} runs")
        chaos = Chaos(stack, runs, random.Random(seed))
        submitted = submit_all(
            clients,
            runs,
            seed=seed,
            pace=0.4 if runs <= 200 else 0.25,
            on_progress=chaos.at,
            on_created=chaos.created,
        )
        chaos.join()
        _say(started, f"submitted: {_summary(submitted)}; chaos: {', '.join(chaos.done)}")
        quiet = settle(stack, timeout=150 + runs * 0.3)
        _say(started, f"settled: {quiet}; Stripe faults injected {faults.stripe_injected()}")
        from tests.chaos.record import record

        record(
            stack,
            record_to,
            submitted=list(submitted.run_ids),
            received=list(receiver.received),
            receiver_url=receiver.url,
        )
        _say(started, f"recorded to {record_to} (logs in {var_dir})")
    finally:
        receiver.stop()
        stack.stop_all()


def _say(started: float, text: str) -> None:
    print(f"[chaos {time.monotonic() - started:6.1f}s] {text}", flush=True)


def _summary(submitted: Submitted) -> str:
    refused = ", ".join(f"{code}: {n}" for code, n in sorted(submitted.refused.items()))
    return f"{len(submitted.run_ids)} created, {submitted.retries} retries, refused {{{refused}}}"


def _tenants(stack: Stack, receiver: Receiver, runs: int) -> list[Client]:
    """Each tenant made by ``createtenant`` (its key on the last line), its caps and its
    webhook endpoint through the portal's services, its card through ``billing_test_card``
    once Stripe has provisioned it (before the Stripe faults: provisioning backs off for
    minutes, longer than a run)."""
    from billing.portal.services import tenant_caps_update
    from seedance.audit import Actor
    from seedance.models import Tenant
    from seedance.webhooks.endpoints import webhook_endpoint_create
    from seedance.webhooks.events import EVENT_TYPES

    actor = Actor.system("chaos")
    clients = []
    for slug, users, (tenant_cap, user_cap, in_flight) in TENANTS:
        key = stack.manage("createtenant", slug).stdout.strip().splitlines()[-1]
        tenant = Tenant.objects.get(slug=slug)
        tenant_caps_update(
            tenant=tenant,
            monthly_spend_cap=Decimal(tenant_cap) * runs if tenant_cap else None,
            max_in_flight_runs=max(2, round(Decimal(in_flight) * runs)) if in_flight else None,
            end_user_monthly_spend_cap=Decimal(user_cap) * runs if user_cap else None,
            actor=actor,
            reason="chaos run",
        )
        webhook_endpoint_create(
            tenant=tenant, url=f"{receiver.url}/{slug}", events=list(EVENT_TYPES), actor=actor
        )
        clients.append(Client(slug, key, users))
    _await_provisioned([slug for slug, _, _ in TENANTS])
    for slug, _, _ in TENANTS:
        stack.manage("billing_test_card", slug)
    return clients


def _await_provisioned(slugs: list[str], seconds: float = 120) -> None:
    from billing.models import TenantBilling

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = TenantBilling.objects.filter(tenant__slug__in=slugs).exclude(
            stripe_subscription_id=""
        )
        if ready.count() == len(slugs):
            return
        time.sleep(1)
    raise RuntimeError("tenants were not provisioned at Stripe in time")


class Chaos:
    """The faults, by how far the submissions have got; slow ones on threads, so requests
    keep coming while the web tier is down or a person is at work."""

    def __init__(self, stack: Stack, runs: int, rng: random.Random) -> None:
        self.stack, self.runs, self.rng = stack, runs, rng
        self.done: list[str] = []
        self.threads: list[threading.Thread] = []
        self.plan: list[tuple[float, str, Callable[[], Any]]] = [
            (0.10, "qcluster1 worker SIGKILLed", lambda: self._kill_worker("qcluster1")),
            (0.15, "gunicorn worker SIGKILLed", lambda: faults.kill_web_worker(stack)),
            (0.20, "meters deactivated", lambda: faults.meters("deactivate")),
            (0.30, "web tier down 10 s", lambda: self._later(self._web_down)),
            (0.45, "meters fixed, refused rows resent", lambda: self._later(self._fix_meters)),
            (0.50, "qcluster2 worker SIGKILLed", lambda: self._kill_worker("qcluster2")),
            (0.55, "database connections terminated", self._terminate_connections),
            (0.65, "gunicorn worker SIGKILLed", lambda: faults.kill_web_worker(stack)),
            (0.75, "qcluster1 worker SIGKILLed", lambda: self._kill_worker("qcluster1")),
            (0.85, "gunicorn worker SIGKILLed", lambda: faults.kill_web_worker(stack)),
        ]

    def at(self, submitted: int) -> None:
        faults.rearm_create_faults(self.rng)
        while self.plan and self.plan[0][0] * self.runs <= submitted:
            _, name, act = self.plan.pop(0)
            outcome = act()
            self.done.append(name if outcome is None else f"{name} ({outcome})")

    def created(self, run_id: str) -> None:
        if self.rng.random() < 0.1:
            faults.refuse_lookups(run_id)

    def join(self) -> None:
        while self.plan:  # a short run may end before the last threshold
            self.at(self.runs)
        for thread in self.threads:
            thread.join()

    def _later(self, job: Callable[[], None]) -> str:
        thread = threading.Thread(target=job, daemon=True)
        self.threads.append(thread)
        thread.start()
        return "on a thread"

    def _kill_worker(self, name: str) -> str:
        for _ in range(20):  # catch one mid-request to the sandbox if we can
            pid = faults.kill_one_talking_to(self.stack.procs[name].pid, faults.SANDBOX_PORT)
            if pid is not None:
                return f"pid {pid}, mid-request"
            time.sleep(0.1)
        return f"pid {faults.kill_qcluster_worker(self.stack, name)}"

    def _web_down(self) -> None:
        self.stack.stop("web")
        time.sleep(10)
        self.stack.start_web()

    def _fix_meters(self) -> None:
        """The person's documented fix: the meter active again, then, once Stripe's error
        reports have flagged the rows it refused, those rows resent under new identifiers."""
        from django.db import connection

        faults.meters("reactivate")
        time.sleep(PERSON_PAUSE_SECONDS)
        resend_refused()
        connection.close()

    def _terminate_connections(self) -> str:
        from django.db import connections

        killed = faults.terminate_database_connections(DATABASE)
        connections.close_all()
        return f"{killed} backends"


def resend_refused() -> int:
    from billing.meter_errors import usage_resend_refused
    from billing.models import UsageRecord

    return usage_resend_refused(UsageRecord.objects.all())


def settle(stack: Stack, *, timeout: float) -> str:
    """Faults off (the storm is over; what it broke must now mend), then wait until no run
    is in progress, no usage row or webhook delivery is waiting, Stripe's summaries have
    caught up with every row (so its error reports have come and the final reconcile
    compares every window), every error report is checked (``billing_check_meter_errors``,
    the minute schedule's work, run at once), refused rows are resent and confirmed, and
    the run reconciler has run since (enqueued then, on the stack's own workers)."""
    from datetime import timedelta

    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone
    from django_q.models import Success
    from django_q.tasks import async_task

    from billing.models import MeterErrorReport, UsageRecord
    from seedance.models import Run, WebhookDelivery
    from seedance.queue import RECONCILE_RUNS
    from seedance.states import RunStatus

    faults.sandbox_clear()
    faults.stripe_calm()
    deadline = time.monotonic() + timeout
    quiet_since: datetime | None = None
    busy, said = "", time.monotonic()
    while time.monotonic() < deadline:
        connection.close()
        resend_refused()
        caught_up = timezone.now() - timedelta(seconds=SETTLE_SECONDS + SUMMARY_LAG_SECONDS + 2)
        unchecked = MeterErrorReport.objects.filter(checked_at__isnull=True)
        if unchecked.exists():
            stack.manage("billing_check_meter_errors", check=False)
        counts = {
            "in progress": Run.objects.filter(status__in=RunStatus.in_progress()).count(),
            "usage unsent": UsageRecord.objects.filter(
                push_state__in=("pending", "awaiting_copy", "refused")
            ).count(),
            "usage not summed yet": UsageRecord.objects.filter(
                Q(confirmed_at__gt=caught_up) | Q(event_timestamp__gt=caught_up)
            ).count(),
            "error reports unchecked": unchecked.count(),
            "webhooks pending": WebhookDelivery.objects.filter(state="pending").count(),
        }
        busy = ", ".join(f"{name} {n}" for name, n in counts.items() if n)
        if busy and time.monotonic() - said > 15:
            print(f"[chaos] settling: {busy}", flush=True)
            said = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = timezone.now()
            async_task(RECONCILE_RUNS)  # its minute schedule would come; this is sooner
        elif Success.objects.filter(func=RECONCILE_RUNS, stopped__gt=quiet_since).exists():
            person = MeterErrorReport.objects.filter(needs_person=True).count()
            return (
                f"quiet since {quiet_since:%H:%M:%S}, reconciler ran since; "
                f"{MeterErrorReport.objects.count()} error reports, {person} for a person"
            )
        time.sleep(2)
    return f"not quiet after {timeout:g} s: {busy or 'reconciler did not run'}"
