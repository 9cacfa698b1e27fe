"""A push worker killed with SIGKILL mid-batch, then started again, loses and duplicates
nothing: the database is the truth and Stripe dedupes on each row's identifier."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.factories import billable_run

ROOT = Path(__file__).resolve().parents[2]
Pushed = UsageRecord.PushState


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def pusher(fake: StripeFake) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "STRIPE_API_KEY": "sk_test_crash",
        "STRIPE_API_BASE": fake.url,
    }
    return subprocess.Popen([sys.executable, "manage.py", "push_usage"], cwd=ROOT, env=env)


@pytest.mark.django_db(transaction=True)
def test_push_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    runs = [billable_run(tenant) for _ in range(120)]
    stripe_fake.faults.configure(latency=0.03)

    first = pusher(stripe_fake)
    deadline = time.monotonic() + 60
    while len(stripe_fake.meter_events()) < 30:
        assert time.monotonic() < deadline, "the pusher made no progress"
        assert first.poll() is None, "the pusher finished before it could be killed"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    recorded_at_kill = len(stripe_fake.meter_events())
    assert recorded_at_kill < len(runs), "killed too late to be mid-batch"
    # Stripe has events our ledger has not marked confirmed: the case that must not
    # turn into a second event.
    assert UsageRecord.objects.filter(push_state=Pushed.CONFIRMED).count() < recorded_at_kill

    # The killed worker's lease runs out (two minutes in production).
    UsageRecord.objects.filter(push_state=Pushed.PENDING).update(next_push_at=timezone.now())
    stripe_fake.faults.configure(latency=0)
    second = pusher(stripe_fake)
    assert second.wait(timeout=120) == 0

    assert Counter(UsageRecord.objects.values_list("push_state", flat=True)) == {
        Pushed.CONFIRMED: len(runs)
    }
    accepted = Counter(e["identifier"] for e in stripe_fake.meter_events() if not e["canceled"])
    assert set(accepted) == set(UsageRecord.objects.values_list("identifier", flat=True))
    assert set(accepted.values()) == {1}
