"""Data steps of seedance's migrations, run for real from the migration before them."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("seedance", "0005_resolution_labels")]
AFTER = [("seedance", "0006_run_delivery")]


@pytest.fixture
def before_delivery(transactional_db: None) -> Iterator[Any]:
    """The schema as 0005 left it; the latest again afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_run_delivery_marks_succeeded_runs_with_every_file_copied_delivered(
    before_delivery: Any,
) -> None:
    apps = before_delivery
    Tenant, Run, OutputFile = (
        apps.get_model("seedance", n) for n in ("Tenant", "Run", "OutputFile")
    )
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    now = timezone.now()

    def run(status: str, outputs: int, copied: int) -> Any:
        made = Run.objects.create(
            tenant=tenant,
            prompt="p",
            status=status,
            deadline_at=now + timedelta(minutes=30),
            completed_at=now if status != "queued" else None,
            outputs=[{"url": "u"}] * outputs,
        )
        for index in range(outputs):
            OutputFile.objects.create(
                run=made,
                index=index,
                file=f"outputs/{index}.mp4" if index < copied else "",
                copied_at=now - timedelta(minutes=index) if index < copied else None,
            )
        return made

    copied = run("succeeded", outputs=2, copied=2)
    half = run("succeeded", outputs=2, copied=1)
    never = run("succeeded", outputs=1, copied=0)
    failed = run("failed", outputs=0, copied=0)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Migrated = executor.loader.project_state(AFTER).apps.get_model("seedance", "Run")

    delivery = dict(Migrated.objects.values_list("pk", "delivery"))
    assert delivery == {
        copied.pk: "delivered",
        half.pk: "pending",
        never.pk: "pending",
        failed.pk: "pending",
    }
    assert Migrated.objects.get(pk=copied.pk).delivered_at == now
