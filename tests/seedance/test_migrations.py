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


BEFORE_JOINED_VIA = [("seedance", "0011_suspension_audit")]
AFTER_JOINED_VIA = [("seedance", "0014_invitations")]


@pytest.fixture
def before_joined_via(transactional_db: None) -> Iterator[Any]:
    """The schema before memberships recorded how they came to be; the latest afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_JOINED_VIA)
    yield executor.loader.project_state(BEFORE_JOINED_VIA).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_memberships_made_before_invitations_needed_consent_are_marked_legacy(
    before_joined_via: Any,
) -> None:
    apps = before_joined_via
    Tenant, Membership = (apps.get_model("seedance", n) for n in ("Tenant", "Membership"))
    User = apps.get_model("auth", "User")
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    old = [
        Membership.objects.create(
            tenant=tenant, user=User.objects.create(username=name), role=role
        ).pk
        for name, role in (("ada", "admin"), ("bob", "member"))
    ]

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER_JOINED_VIA)
    migrated = executor.loader.project_state(AFTER_JOINED_VIA).apps
    Migrated = migrated.get_model("seedance", "Membership")

    rows = dict(Migrated.objects.values_list("pk", "joined_via"))
    assert rows == {pk: "legacy" for pk in old}
    assert list(Migrated.objects.values_list("last_used_at", flat=True)) == [None, None]
    newcomer = Migrated.objects.create(
        tenant_id=tenant.pk,
        user_id=migrated.get_model("auth", "User").objects.create(username="cy").pk,
    )
    assert newcomer.joined_via == "staff"  # a row made outside the portal is staff's doing
