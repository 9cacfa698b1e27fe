"""Meter events pushed per second to the loopback Stripe fake.

Usage: .venv/bin/python bench/meter_push.py [--rows 3000] [--pushers 1] [--latency 0]
Uses DATABASE_URL when set (PostgreSQL shows parallel pushers sharing work through
SKIP LOCKED), else a fresh SQLite file. The fake runs in its own process, as Stripe would.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--pushers", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, help="Fake's added seconds/answer.")
    args = parser.parse_args()

    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-"))
    port = free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        STRIPE_API_KEY="sk_test_bench",
        STRIPE_API_BASE=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    fake = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "stripe_fake",
            "--port",
            str(port),
            "--latency",
            str(args.latency),
            "--in-memory",  # measure the push, not the fake rewriting its state file
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        run(args, port)
    finally:
        fake.terminate()
        fake.wait()


def run(args: argparse.Namespace, port: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from billing.meters import push_pending_usage
    from billing.models import MeteredPrice, SubscriptionItem, UsageRecord
    from billing.provisioning import stripe_provision
    from billing.stripe_client import stripe_client
    from seedance.models import Run, Tenant

    call_command("migrate", verbosity=0)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    # A fresh fake knows none of an earlier run's ids.
    SubscriptionItem.objects.all().delete()
    UsageRecord.objects.filter(metered_price__isnull=False).update(metered_price=None)
    MeteredPrice.objects.all().delete()
    tenant = Tenant.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
    stripe_provision(client=stripe_client(), tenants=[tenant])
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            tenant=tenant,
            prompt="bench",
            duration="5",
            deadline_at=now,
            status="succeeded",
            completed_at=now,
        )
        for _ in range(args.rows)
    )
    UsageRecord.objects.bulk_create(
        UsageRecord(
            run=run,
            tenant=tenant,
            resolution="720p",
            seconds=5,
            unit_price=Decimal("0.2419"),
            amount=Decimal("1.2095"),
            completed_at=now - timedelta(seconds=1),
            event_timestamp=now - timedelta(seconds=1),
            identifier=f"bench:{run.pk}",
            next_push_at=now,
        )
        for run in runs
    )
    connection.close()

    def pusher() -> None:
        while push_pending_usage().accepted:
            pass
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=pusher) for _ in range(args.pushers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    confirmed = UsageRecord.objects.filter(tenant=tenant, push_state="confirmed").count()
    print(
        f"{confirmed}/{args.rows} rows accepted in {elapsed:.2f} s by {args.pushers} pusher(s) "
        f"on {connection.vendor}: {confirmed / elapsed:.0f} meter events/s"
    )


if __name__ == "__main__":
    main()
