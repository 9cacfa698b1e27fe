"""Meter events pushed per second to the loopback Stripe fake.

Usage: .venv/bin/python bench/meter_push.py [--rows 3000] [--tenants 1] [--pushers 1]
       [--latency 0] [--concurrency N] [--profile tree.txt]
Uses DATABASE_URL when set (PostgreSQL shows parallel pushers sharing work through
SKIP LOCKED), else a fresh SQLite file. The fake runs in its own process, as Stripe would.
Rows are spread over ``--tenants`` customers: Stripe takes one call at a time per customer
and meter, so one tenant's events go out one after another whatever the push does.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, timed, wait_for_port  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--pushers", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, help="Fake's added seconds/answer.")
    parser.add_argument(
        "--concurrency", type=int, help="BILLING_PUSH_CONCURRENCY (default: the setting's)"
    )
    parser.add_argument("--profile", type=Path, help="pyinstrument's tree of the push, here.")
    args = parser.parse_args()

    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-"))
    port = free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        STRIPE_API_KEY="sk_test_bench",
        STRIPE_API_BASE=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    if args.concurrency is not None:
        os.environ["BILLING_PUSH_CONCURRENCY"] = str(args.concurrency)
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
    wait_for_port(port, name="Stripe fake")
    # A fresh fake knows none of an earlier run's ids.
    SubscriptionItem.objects.all().delete()
    UsageRecord.objects.filter(metered_price__isnull=False).update(metered_price=None)
    MeteredPrice.objects.all().delete()
    tenants = [
        Tenant.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name=f"Bench {number}")
        for number in range(args.tenants)
    ]
    stripe_provision(client=stripe_client(), tenants=tenants)
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            tenant=tenants[number % len(tenants)],
            prompt="bench",
            duration="5",
            deadline_at=now,
            status="succeeded",
            completed_at=now,
        )
        for number in range(args.rows)
    )
    UsageRecord.objects.bulk_create(
        UsageRecord(
            run=run,
            tenant_id=run.tenant_id,
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

    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001) if args.profile else None
    if profiler is not None:
        profiler.start()
    with timed() as elapsed:
        # One pusher runs on this thread: pyinstrument samples only the thread it started on.
        threads = [threading.Thread(target=pusher) for _ in range(args.pushers - 1)]
        for thread in threads:
            thread.start()
        pusher()
        for thread in threads:
            thread.join()
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(color=False, show_all=False))
    confirmed = UsageRecord.objects.filter(tenant__in=tenants, push_state="confirmed").count()
    print(
        f"{confirmed}/{args.rows} rows of {args.tenants} tenant(s) accepted in "
        f"{elapsed.seconds:.2f} s by {args.pushers} pusher(s) on {connection.vendor}: "
        f"{confirmed / elapsed.seconds:.0f} meter events/s"
    )


if __name__ == "__main__":
    main()
