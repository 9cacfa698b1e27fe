"""What goes wrong during the chaos run, on purpose.

- Runflow (the sandbox's ``/_sandbox/faults``): create answers refused (429, 500, 503) or
  lost (dropped, 500 after making the run, timed out; the run made at once, late or never)
  and refused run lists, re-armed in the global scope as the run goes; refused lookups of
  one run in its ``client_ref`` scope; and each run's outcome and callbacks (failed, NSFW,
  duplicated, dropped, late, stale or contradicting) named in its prompt, so they hold from
  the create on.
- Stripe (the fake's ``/_fake/faults``): a third of meter event, customer and subscription
  calls fail every way the fake knows; for a while the meter is deactivated, so events are
  accepted and refused later in an error report, until the "person" reactivates it and
  resends the refused rows (billing/meter_errors.py, the admin's action).
- Processes: a qcluster worker SIGKILLed mid-request to the sandbox, a gunicorn worker
  SIGKILLed, the web tier down for 10 s, the database's connections terminated.
"""

import os
import random
import signal
from typing import Any

import httpx
import psycopg

from tests.chaos.stack import PG, SANDBOX_PORT, STRIPE_PORT, Stack
from tests.processes import descendants, kill_one_talking_to

SANDBOX = f"http://127.0.0.1:{SANDBOX_PORT}"
STRIPE = f"http://127.0.0.1:{STRIPE_PORT}"
STRIPE_KEY = ("sk_test_chaos", "")
STRIPE_FAULT_PATHS = [
    "/v1/billing/meter_events",
    "/v1/customers",
    "/v1/subscriptions",
    "/v1/subscription_items",
    "/v1/customers/search",
    "/v1/subscriptions/search",
]

#: Share of runs given each outcome fault (independent draws), in the run's prompt.
PROMPT_FAULTS: list[tuple[float, str]] = [
    (0.30, "[sandbox:duplicate_callbacks=2]"),
    (0.10, "[sandbox:drop_callbacks]"),
    (0.05, "[sandbox:out_of_order=stale]"),
    (0.05, "[sandbox:out_of_order=contradict]"),
    (0.10, "[sandbox:callback_delay=4]"),
    (0.10, "[sandbox:fail]"),
    (0.05, "[sandbox:nsfw]"),
]


def prompt_faults(rng: random.Random) -> str:
    return " ".join(directive for share, directive in PROMPT_FAULTS if rng.random() < share)


def sandbox_rules(scope: str, **rules: Any) -> None:
    httpx.post(
        f"{SANDBOX}/_sandbox/faults", json={"scope": scope, **rules}, timeout=5
    ).raise_for_status()


def sandbox_clear() -> None:
    httpx.delete(f"{SANDBOX}/_sandbox/faults", timeout=5).raise_for_status()


def rearm_create_faults(rng: random.Random) -> None:
    """The global scope's next few create answers refused or lost, and a run list refused:
    consumed by whichever creates come next, so every run may meet them."""
    lost = rng.choice(["drop", "500", "timeout"])
    rules: dict[str, Any] = {
        "create_errors": [rng.choice([429, 500, 503]) for _ in range(rng.randint(1, 3))],
        "list_errors": [503],
        "retry_after": 1,
        "lose_create_answer": lost,
        "lose_create_times": rng.randint(1, 2),
        "lose_create_timeout": 3,
        "lose_create_makes_run": rng.random() < 0.7,
    }
    if rules["lose_create_makes_run"] and rng.random() < 0.4:
        rules["lose_create_materialize_seconds"] = 2.5
    sandbox_rules("global", **rules)


def refuse_lookups(run_id: str) -> None:
    sandbox_rules(run_id, get_errors=[500, 503])


def stripe_faults(error_rate: float, seed: int) -> None:
    body = {"error_rate": error_rate, "seed": seed, "paths": STRIPE_FAULT_PATHS}
    httpx.post(f"{STRIPE}/_fake/faults", json=body, timeout=5).raise_for_status()


def stripe_calm() -> None:
    httpx.delete(f"{STRIPE}/_fake/faults", timeout=5).raise_for_status()


def stripe_injected() -> dict[str, int]:
    return dict(httpx.get(f"{STRIPE}/_fake/faults", timeout=5).json()["injected"])


def meters(action: str) -> list[str]:
    """Deactivate or reactivate every meter (Stripe's own API); their ids."""
    listed = httpx.get(f"{STRIPE}/v1/billing/meters", auth=STRIPE_KEY, timeout=5)
    listed.raise_for_status()
    ids = [meter["id"] for meter in listed.json()["data"]]
    for meter_id in ids:
        httpx.post(
            f"{STRIPE}/v1/billing/meters/{meter_id}/{action}", auth=STRIPE_KEY, timeout=5
        ).raise_for_status()
    return ids


def kill_qcluster_worker(stack: Stack, name: str) -> int | None:
    """A worker of ``name`` caught talking to the sandbox, else any of its workers."""
    root = stack.procs[name].pid
    pid = kill_one_talking_to(root, SANDBOX_PORT)
    if pid is None:
        children = sorted(descendants(root), key=lambda proc: proc.pid)
        if children:
            pid = children[-1].pid
            os.kill(pid, signal.SIGKILL)
    return pid


def kill_web_worker(stack: Stack) -> int | None:
    """One gunicorn worker; the arbiter starts another."""
    workers = sorted(descendants(stack.procs["web"].pid), key=lambda proc: proc.pid)
    if not workers:
        return None
    os.kill(workers[0].pid, signal.SIGKILL)
    return workers[0].pid


def terminate_database_connections(database: str) -> int:
    """pg_terminate_backend on every other backend of ``database``; how many."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    return sum(1 for (done,) in rows if done)
