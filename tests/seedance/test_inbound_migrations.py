"""Moving to one delivery record keeps the audit trail and the dedupe of past events."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from seedance.models import InboundDelivery

BEFORE = [("seedance", "0005_resolution_labels"), ("billing", "0004_resolution_labels")]
AFTER = [("seedance", "0007_inbound_deliveries"), ("billing", "0006_drop_stripe_event_receipt")]
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_receipts_become_deliveries_with_repeats_counted_as_replays() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    tenant = old.get_model("seedance", "Tenant").objects.create(slug="acme", name="Acme")
    run = old.get_model("seedance", "Run").objects.create(
        tenant=tenant, prompt="a tram", deadline_at=T0 + timedelta(hours=1)
    )
    receipts = old.get_model("seedance", "CallbackReceipt").objects
    for minutes, sha, outcome in [(0, "a" * 64, "applied"), (1, "a" * 64, "duplicate")]:
        receipt = receipts.create(
            run=run,
            request_id=f"req_{minutes}",
            body_sha256=sha,
            provider_run_id="rf_1",
            status="succeeded",
            outcome=outcome,
        )
        receipts.filter(pk=receipt.pk).update(received_at=T0 + timedelta(minutes=minutes))
    old.get_model("billing", "StripeEventReceipt").objects.create(
        event_id="evt_seen", event_type="invoice.paid", created=T0
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    callback = InboundDelivery.objects.get(source="runflow")
    assert callback.dedupe_key == f"{run.pk}:{'a' * 64}"
    assert (callback.outcome, callback.replays, callback.request_id) == ("applied", 1, "req_0")
    assert (callback.first_received_at, callback.last_received_at) == (
        T0,
        T0 + timedelta(minutes=1),
    )
    assert (callback.subject, callback.object_id) == (str(run.pk), "rf_1")
    stripe = InboundDelivery.objects.get(source="stripe")
    assert (stripe.dedupe_key, stripe.event_type, stripe.outcome) == (
        "evt_seen",
        "invoice.paid",
        "processed",
    )
