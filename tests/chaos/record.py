"""The final state, from every party's own records, as the JSON ``checker.py`` reads: our
database (runs, ledger rows, charges, caps, emitted webhook events), Runflow's run list
(the sandbox's ``GET /v1/runs``), Stripe's meter events (the fake's), what the webhook
receiver saw, and ``manage.py billing_reconcile``'s verdict."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from billing.models import EndUserLimit, RunCharge, TenantBilling, UsageRecord
from seedance.models import Run, WebhookDelivery
from tests.chaos.faults import SANDBOX, STRIPE
from tests.chaos.stack import Stack


def upstream_runs() -> list[dict[str, Any]]:
    """Every run Runflow holds, page after page, with a live key as our client uses."""
    items: list[dict[str, Any]] = []
    pq: str | None = None
    while True:
        params = {"q": "", "limit": "500", **({"pq": pq} if pq else {})}
        answer = httpx.get(
            f"{SANDBOX}/v1/runs",
            params=params,
            headers={"Authorization": "Bearer rf_live_chaos"},
            timeout=30,
        )
        answer.raise_for_status()
        page = answer.json()
        items += [
            {"id": item["id"], "client_ref": item["client_ref"], "status_code": item["status_code"]}
            for item in page["items"]
        ]
        pq = page.get("next_pq")
        if not pq:
            return items


def meter_events() -> list[dict[str, Any]]:
    answer = httpx.get(f"{STRIPE}/_fake/meter_events", timeout=30)
    answer.raise_for_status()
    return [
        {
            "identifier": e["identifier"],
            "error": e["error"],
            "canceled": e["canceled"],
            "stripe_class": stripe_class(
                e["customer"],
                e["meter"],
                datetime.fromtimestamp(e["timestamp"], tz=UTC),
                e["value"],
            ),
        }
        for e in answer.json()["data"]
    ]


def stripe_class(customer: Any, meter: Any, moment: datetime, seconds: Any) -> str:
    """What Stripe can tell an event by: customer, meter, minute of its timestamp (the
    finest a summary answers) and value."""
    value = "" if seconds is None else format(Decimal(str(seconds)).normalize(), "f")
    return f"{customer}|{meter}|{moment:%Y-%m-%dT%H:%M}|{value}"


def _usage(row: UsageRecord | None, customers: dict[int, str]) -> dict[str, Any] | None:
    if row is None:
        return None
    meter = row.metered_price.meter_id if row.metered_price else None
    return {
        "identifier": row.identifier,
        "refused_identifiers": list(row.refused_identifiers),
        "push_state": row.push_state,
        "amount": str(row.amount),
        "period": row.event_timestamp.strftime("%Y-%m-01"),
        "stripe_class": stripe_class(
            customers.get(row.tenant_id), meter, row.event_timestamp, row.seconds
        ),
    }


def caps() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every spend cap (the per-end-user default applied to each end user seen) and every
    concurrency cap in force."""
    spend, concurrency = [], []
    for billing in TenantBilling.objects.select_related("tenant"):
        slug = billing.tenant.slug
        if billing.monthly_spend_cap is not None:
            spend.append({"tenant": slug, "end_user_id": "", "cap": str(billing.monthly_spend_cap)})
        if billing.end_user_monthly_spend_cap is not None:
            users = Run.objects.filter(tenant=billing.tenant).values_list("end_user_id", flat=True)
            for user in sorted(set(users)):
                cap = str(billing.end_user_monthly_spend_cap)
                spend.append({"tenant": slug, "end_user_id": user, "cap": cap})
        if billing.max_in_flight_runs is not None:
            concurrency.append({"tenant": slug, "cap": billing.max_in_flight_runs})
    for limit in EndUserLimit.objects.select_related("tenant"):
        spend = [
            c
            for c in spend
            if (c["tenant"], c["end_user_id"]) != (limit.tenant.slug, limit.end_user_id)
        ]
        spend.append(
            {
                "tenant": limit.tenant.slug,
                "end_user_id": limit.end_user_id,
                "cap": str(limit.monthly_spend_cap),
            }
        )
    return spend, concurrency


def record(
    stack: Stack, path: Path, *, submitted: list[str], received: list[str], receiver_url: str
) -> dict[str, Any]:
    rows = {row.run_id: row for row in UsageRecord.objects.select_related("metered_price")}
    customers = {
        billing.tenant_id: str(billing.stripe_customer_id)
        for billing in TenantBilling.objects.all()
    }
    runs = [
        {
            "id": str(run.pk),
            "tenant": run.tenant.slug,
            "end_user_id": run.end_user_id,
            "status": run.status,
            "usage": _usage(rows.get(run.pk), customers),
        }
        for run in Run.objects.select_related("tenant").order_by("created_at")
    ]
    charges = [
        {
            "run_id": str(charge.run_id),
            "tenant": charge.tenant.slug,
            "reserved_at": charge.created_at.isoformat(),
            "settled_at": charge.settled_at.isoformat() if charge.settled_at else None,
        }
        for charge in RunCharge.objects.select_related("tenant")
    ]
    emitted = sorted(
        set(
            WebhookDelivery.objects.filter(endpoint__url__startswith=receiver_url).values_list(
                "event_id", flat=True
            )
        )
    )
    reconcile = stack.manage("billing_reconcile", check=False)
    spend, concurrency = caps()
    state = {
        "submitted": submitted,
        "runs": runs,
        "upstream": upstream_runs(),
        "meter_events": meter_events(),
        "reconcile": {
            "exit_code": reconcile.returncode,
            "output": reconcile.stdout + reconcile.stderr,
        },
        "webhooks_emitted": emitted,
        "webhooks_received": received,
        "caps": spend,
        "concurrency": concurrency,
        "charges": charges,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1))
    return state
