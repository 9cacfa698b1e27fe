"""The chaos run's invariants, checked on a recorded final state (``record.py``'s JSON).

Pure: a state in, breaches out, nothing read from a database or the network, so a test can
hand it a state with exactly one thing wrong and see that one invariant named.

The state's keys:

- ``submitted``: run ids our API answered 201 for.
- ``runs``: our runs, ``{id, tenant, end_user_id, status, usage}``; ``usage`` is the run's
  ledger row ``{identifier, refused_identifiers, push_state, amount, period, stripe_class}``
  or null; ``stripe_class`` is what Stripe can tell the row's event by (customer, meter,
  minute of its timestamp, seconds).
- ``upstream``: Runflow's runs, ``{id, client_ref, status_code}``.
- ``meter_events``: what the Stripe fake received, ``{identifier, error, canceled,
  stripe_class}``.
- ``reconcile``: ``{exit_code, output}`` of ``manage.py billing_reconcile``.
- ``webhooks_emitted``: event ids the database says were emitted to the receiver.
- ``webhooks_received``: webhook-id headers the receiver saw (repeats included).
- ``caps``: ``{tenant, end_user_id, period, cap}`` spend caps (``end_user_id`` "" for the
  tenant's own) and ``concurrency``: ``{tenant, cap}``; ``charges``: ``{run_id, tenant,
  reserved_at, settled_at}`` (a run in flight from its reservation to its settling).
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from seedance.runflow.payloads import STATUS_MAP

State = dict[str, Any]
TERMINAL = ("succeeded", "failed", "canceled")
#: A ledger row in these states is not billed: Stripe must have no accepted event for it.
NOT_BILLED = ("voided", "waiting", "held")


@dataclass(frozen=True)
class Breach:
    invariant: str
    subject: str
    detail: str


@dataclass(frozen=True)
class Outcome:
    invariant: str
    checked: int
    breaches: list[Breach]


Check = Callable[[State], tuple[int, list[Breach]]]


def _runs(state: State) -> dict[str, dict[str, Any]]:
    return {run["id"]: run for run in state["runs"]}


def runs_terminal(state: State) -> tuple[int, list[Breach]]:
    """Every submitted run exists and has ended."""
    runs = _runs(state)
    breaches = []
    for run_id in state["submitted"]:
        run = runs.get(run_id)
        if run is None:
            breaches.append(Breach("runs_terminal", run_id, "answered 201, not in the database"))
        elif run["status"] not in TERMINAL:
            breaches.append(Breach("runs_terminal", run_id, f"still {run['status']}"))
    return len(state["submitted"]), breaches


def runs_match_runflow(state: State) -> tuple[int, list[Breach]]:
    """Each run's status is the one Runflow has for it."""
    upstream: defaultdict[str, list[str]] = defaultdict(list)
    for item in state["upstream"]:
        theirs = STATUS_MAP.get(item["status_code"], item["status_code"])
        upstream[item["client_ref"]].append(theirs)
    breaches = []
    for run in state["runs"]:
        theirs = upstream.get(run["id"], [])
        if len(theirs) == 1 and theirs[0] != run["status"]:
            detail = f"ours {run['status']}, Runflow's {theirs[0]}"
            breaches.append(Breach("runs_match_runflow", run["id"], detail))
    return len(state["runs"]), breaches


def one_upstream_run(state: State) -> tuple[int, list[Breach]]:
    """Runflow holds exactly one run per run of ours, and none that is not ours."""
    counts = Counter(item["client_ref"] for item in state["upstream"])
    ours = set(_runs(state))
    breaches = [
        Breach("one_upstream_run", run_id, f"{counts[run_id]} upstream runs")
        for run_id in sorted(ours)
        if counts[run_id] != 1
    ]
    breaches += [
        Breach("one_upstream_run", ref, "an upstream run no run of ours names")
        for ref in sorted(set(counts) - ours)
    ]
    return len(ours), breaches


def one_ledger_row(state: State) -> tuple[int, list[Breach]]:
    """A succeeded run has its one ledger row; any other run has none."""
    breaches = []
    for run in state["runs"]:
        succeeded, row = run["status"] == "succeeded", run["usage"]
        if succeeded and row is None:
            breaches.append(Breach("one_ledger_row", run["id"], "succeeded, no ledger row"))
        if not succeeded and row is not None and row["push_state"] != "voided":
            detail = f"{run['status']}, yet a {row['push_state']} ledger row"
            breaches.append(Breach("one_ledger_row", run["id"], detail))
    return len(state["runs"]), breaches


def one_meter_event(state: State) -> tuple[int, list[Breach]]:
    """Stripe accepted exactly one meter event per billed run, none for the others, and none
    under an identifier no ledger row has used, nor with other values than its row's.

    Billed rows Stripe cannot tell apart (same customer, meter, minute and seconds: its
    ``stripe_class``) are counted as a class, accepted events of the class against rows of
    it: when Stripe refuses one of them unnamed, its summaries cannot say which, and the
    product flags and resends any one of them."""
    owner: dict[str, dict[str, Any]] = {}
    for run in state["runs"]:
        if run["usage"] is not None:
            for identifier in [run["usage"]["identifier"], *run["usage"]["refused_identifiers"]]:
                owner[identifier] = run
    accepted: Counter[str] = Counter()
    breaches = []
    for event in state["meter_events"]:
        if event["error"] is not None or event["canceled"]:
            continue
        run = owner.get(event["identifier"])
        if run is None:
            detail = "accepted, no ledger row has this identifier"
            breaches.append(Breach("one_meter_event", event["identifier"], detail))
        elif event["stripe_class"] != run["usage"]["stripe_class"]:
            detail = (
                f"accepted as {event['stripe_class']}, its row is {run['usage']['stripe_class']}"
            )
            breaches.append(Breach("one_meter_event", event["identifier"], detail))
        else:
            accepted[run["id"]] += 1
    wanted = {
        run["id"]: int(run["usage"] is not None and run["usage"]["push_state"] not in NOT_BILLED)
        for run in state["runs"]
    }
    by_class: defaultdict[str, list[str]] = defaultdict(list)
    for run in state["runs"]:
        if wanted[run["id"]]:
            by_class[run["usage"]["stripe_class"]].append(run["id"])
    balanced = {
        run_id
        for run_ids in by_class.values()
        if sum(accepted[r] for r in run_ids) == len(run_ids)
        for run_id in run_ids
    }
    for run in state["runs"]:
        run_id = run["id"]
        if accepted[run_id] != wanted[run_id] and run_id not in balanced:
            detail = f"{accepted[run_id]} accepted meter events, {wanted[run_id]} billed"
            breaches.append(Breach("one_meter_event", run_id, detail))
    return sum(wanted.values()), breaches


def reconcile_clean(state: State) -> tuple[int, list[Breach]]:
    """``billing_reconcile`` finds the ledger and Stripe in agreement."""
    reconcile = state["reconcile"]
    if reconcile["exit_code"] == 0:
        return 1, []
    return 1, [Breach("reconcile_clean", "billing_reconcile", reconcile["output"].strip()[-300:])]


def webhooks_delivered(state: State) -> tuple[int, list[Breach]]:
    """Every event the database says was emitted reached the receiver at least once."""
    received = set(state["webhooks_received"])
    emitted = state["webhooks_emitted"]
    return len(emitted), [
        Breach("webhooks_delivered", event_id, "emitted, never received")
        for event_id in emitted
        if event_id not in received
    ]


def spend_caps_held(state: State) -> tuple[int, list[Breach]]:
    """No tenant's or end user's ledger total for a month passes its spend cap."""
    spent: defaultdict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for run in state["runs"]:
        row = run["usage"]
        if row is not None and row["push_state"] != "voided":
            for who in dict.fromkeys(("", run["end_user_id"])):
                spent[(run["tenant"], who, row["period"])] += Decimal(row["amount"])
    breaches = []
    for cap in state["caps"]:
        for (tenant, end_user, period), total in sorted(spent.items()):
            mine = (tenant, end_user) == (cap["tenant"], cap["end_user_id"])
            if mine and total > Decimal(cap["cap"]):
                who = f"{tenant}/{end_user or '*'} {period}"
                breaches.append(Breach("spend_caps_held", who, f"{total} over cap {cap['cap']}"))
    return len(state["caps"]), breaches


def concurrency_cap_held(state: State) -> tuple[int, list[Breach]]:
    """No tenant ever had more runs reserved at once than its in-flight cap."""
    breaches = []
    for cap in state["concurrency"]:
        moves = []
        for charge in state["charges"]:
            if charge["tenant"] == cap["tenant"]:
                moves.append((charge["reserved_at"], 1))
                moves.append((charge["settled_at"] or "9999", -1))
        in_flight = peak = 0
        for _, step in sorted(moves, key=lambda move: (move[0], move[1])):
            in_flight += step
            peak = max(peak, in_flight)
        if peak > cap["cap"]:
            detail = f"{peak} runs in flight at once, cap {cap['cap']}"
            breaches.append(Breach("concurrency_cap_held", cap["tenant"], detail))
    return len(state["concurrency"]), breaches


INVARIANTS: dict[str, Check] = {
    "runs_terminal": runs_terminal,
    "runs_match_runflow": runs_match_runflow,
    "one_upstream_run": one_upstream_run,
    "one_ledger_row": one_ledger_row,
    "one_meter_event": one_meter_event,
    "reconcile_clean": reconcile_clean,
    "webhooks_delivered": webhooks_delivered,
    "spend_caps_held": spend_caps_held,
    "concurrency_cap_held": concurrency_cap_held,
}


def check(state: State) -> list[Outcome]:
    """Every invariant's outcome on ``state``, in ``INVARIANTS`` order."""
    outcomes = []
    for name, invariant in INVARIANTS.items():
        checked, breaches = invariant(state)
        outcomes.append(Outcome(name, checked, breaches))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """The invariant table, then each breach on a line of its own."""
    lines = [f"{'invariant':<24} {'checked':>8} {'breaches':>9}  result"]
    for outcome in outcomes:
        result = "FAIL" if outcome.breaches else "PASS"
        lines.append(
            f"{outcome.invariant:<24} {outcome.checked:>8} {len(outcome.breaches):>9}  {result}"
        )
    for outcome in outcomes:
        for breach in outcome.breaches[:20]:
            lines.append(f"BREACH {breach.invariant} {breach.subject}: {breach.detail}")
    return "\n".join(lines)
