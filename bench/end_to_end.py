"""Runs per second from the API's create to the usage Stripe accepted, through the whole stack.

Usage: .venv/bin/python bench/end_to_end.py [--runs 300] [--rate 30] [--tenants 8]
       [--qclusters 2] [--workers 2] [--json out.json]
Needs DATABASE_URL (PostgreSQL; the bench makes and drops its own database beside it, named
with an ``_e2e`` suffix, so earlier benches' runs never reach this one's workers) and
REDIS_URL (its db is flushed). It boots what production runs (scripts/serve.sh: gunicorn,
``--qclusters`` django-q2 clusters on the Redis broker, the dispatcher) against the Runflow
sandbox in bench mode (``runflow_sandbox --bench``) and the Stripe fake, submits ``--runs``
creates through the API at ``--rate`` a second (``make bench`` passes the create-only rate
it measured moments before), and times each run from its create to its meter event
accepted at the fake (``UsageRecord.confirmed_at``, then checked against the fake's own
record). Lost: created (201) but not billed at the fake once the stack went quiet (the
broker's queue empty and nothing billed for ``--quiet-seconds``); must be 0. A bench that
hits ``--max-wait-seconds`` first says how many tasks were still queued.

As it goes it deletes our copies of the outputs of billed runs, and it stops the stack and
fails loudly if the disk's free space falls under ``--min-free-gb``.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, latency_ms, timed, wait_for_port  # noqa: E402

CALLBACK_SECRET = "whsec_bench_callback_secret"  # noqa: S105  (the sandbox signs, we verify)
CREATE_BODY = {"prompt": "A lighthouse at dusk", "duration": "5", "resolution": "720p"}
GB = 1024**3


class DiskLow(SystemExit):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0, help="creates offered per second")
    parser.add_argument("--tenants", type=int, default=8)
    parser.add_argument("--qclusters", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS of each cluster")
    parser.add_argument("--quiet-seconds", type=float, default=60.0)
    parser.add_argument("--max-wait-seconds", type=float, default=900.0)
    parser.add_argument("--min-free-gb", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("end_to_end: set DATABASE_URL (PostgreSQL) and REDIS_URL")
    var_dir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    result: dict[str, Any] = {}
    try:
        disk_check(var_dir, args.min_free_gb)
        result = Bench(args, var_dir, _e2e_database(base)).run()
    finally:
        # The processes' logs stay for a look when runs were lost; the media never does.
        shutil.rmtree(var_dir / "media", ignore_errors=True)
        if not result.get("lost"):
            shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if result["lost"]:
        sys.exit(f"end_to_end: {result['lost']} run(s) created but never billed; logs in {var_dir}")


def _e2e_database(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_e2e"))


def disk_check(path: Path, min_free_gb: float) -> None:
    free = shutil.disk_usage(path).free
    if free < min_free_gb * GB:
        raise DiskLow(
            f"end_to_end: only {free / GB:.1f} GB free under {path}, under the "
            f"{min_free_gb:g} GB floor: stopped"
        )


class Bench:
    def __init__(self, args: argparse.Namespace, var_dir: Path, database_url: str) -> None:
        self.args = args
        self.var_dir = var_dir
        self.database_url = database_url
        self.web_port, self.sandbox_port, self.stripe_port = free_port(), free_port(), free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SEEDANCE_", "STRIPE_"))},
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "Q_CLUSTER_NAME": f"bench-e2e-{uuid.uuid4().hex[:6]}",
            "Q_WORKERS": str(args.workers),
            "LOG_LEVEL": "WARNING",
            "Q_LOG_LEVEL": "WARNING",
            "VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "WEB_BIND": f"127.0.0.1:{self.web_port}",
            "RUNFLOW_BASE_URL": f"http://127.0.0.1:{self.sandbox_port}/v1",
            "RUNFLOW_API_KEY": "rf_live_bench",
            "RUNFLOW_CALLBACK_SECRETS": CALLBACK_SECRET,
            "SEEDANCE_API_CREATE_RATE": "off",
            "SEEDANCE_API_READ_RATE": "off",
            "SEEDANCE_OUTBOUND_LOOPBACK_HTTP": f"127.0.0.1:{self.sandbox_port}",
            "STRIPE_API_KEY": "sk_test_bench",
            "STRIPE_API_BASE": f"http://127.0.0.1:{self.stripe_port}",
            "STRIPE_WEBHOOK_SECRETS": "whsec_bench_stripe",
            "STRIPE_EVENT_SECRETS": "whsec_bench_stripe_events",
            "STRIPE_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}",
        }
        self.env.pop("DEBUG", None)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.deleted_copies = 0

    def run(self) -> dict[str, Any]:
        self._fresh_database()
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        with self.stack():
            keys = self._tenants()
            self._start_workers()
            return self._measure(keys)

    def _fresh_database(self) -> None:
        name = urlsplit(self.database_url).path.lstrip("/")
        admin = urlunsplit(urlsplit(self.database_url)._replace(path="/postgres"))
        for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
            subprocess.run(["psql", admin, "-qc", sql], check=True, capture_output=True)  # noqa: S603, S607
        redis_url = os.environ.get("REDIS_URL", "")
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()

    @contextmanager
    def stack(self) -> Iterator[None]:
        """The fake, the sandbox and gunicorn up; every process stopped on the way out."""
        try:
            self._start(
                "stripe",
                ["manage.py", "stripe_fake", "--port", str(self.stripe_port), "--in-memory"],
            )
            self._start(
                "sandbox",
                ["manage.py", "runflow_sandbox", "--bench", "--port", str(self.sandbox_port)],
            )
            self._start(
                "web", ["-m", "gunicorn", "--config", "python:config.gunicorn", "config.wsgi"]
            )
            for port, name in (
                (self.stripe_port, "stripe"),
                (self.sandbox_port, "sandbox"),
                (self.web_port, "web"),
            ):
                self._wait_up(port, name)
            yield
        finally:
            self._stop_all()

    def _wait_up(self, port: int, name: str) -> None:
        for _ in range(120):
            self._check_alive()
            with suppress(SystemExit):
                wait_for_port(port, seconds=0.5, name=name)
                return
        raise SystemExit(f"end_to_end: {name} is not up on {port}:\n{self._log(name)}")

    def _log(self, name: str) -> str:
        return (self.var_dir / f"{name}.log").read_text(errors="replace")[-3000:]

    def _start(self, name: str, argv: list[str]) -> None:
        log = open(self.var_dir / f"{name}.log", "ab")  # noqa: SIM115  (the child keeps it)
        self.procs[name] = subprocess.Popen(  # noqa: S603
            [sys.executable, *argv],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _stop_all(self) -> None:
        for proc in self.procs.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.procs.clear()

    def _tenants(self) -> list[str]:
        """Tenants exempt from caps, each with a key and a live subscription at the fake."""
        from billing.models import TenantBilling
        from billing.provisioning import stripe_provision
        from billing.stripe_client import stripe_client
        from seedance.audit import Actor
        from seedance.models import Tenant
        from seedance.services.keys import api_key_issue

        tenants, keys = [], []
        for number in range(self.args.tenants):
            tenant = Tenant.objects.create(slug=f"e2e-{uuid.uuid4().hex[:8]}", name=f"E2E {number}")
            TenantBilling.objects.update_or_create(
                tenant=tenant, defaults={"payment_method_exempt": True, "max_in_flight_runs": None}
            )
            keys.append(
                api_key_issue(tenant=tenant, name="e2e", actor=Actor.system("bench")).secret
            )
            tenants.append(tenant)
        stripe_provision(client=stripe_client(), tenants=tenants)
        return keys

    def _start_workers(self) -> None:
        for number in range(self.args.qclusters):
            self._start(f"qcluster{number + 1}", ["manage.py", "qcluster"])
        self._start("dispatcher", ["manage.py", "dispatcher"])

    def _measure(self, keys: list[str]) -> dict[str, Any]:
        import httpx

        created: dict[str, float] = {}  # run id -> when its create was sent
        refused: list[int] = []
        create_latencies: list[float] = []
        lock = threading.Lock()
        local = threading.local()

        def create(number: int) -> None:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(
                    base_url=f"http://127.0.0.1:{self.web_port}", timeout=30
                )
            key = keys[number % len(keys)]
            sent = time.time()
            answer = client.post(
                "/api/v1/runs", json=CREATE_BODY, headers={"Authorization": f"Bearer {key}"}
            )
            with lock:
                create_latencies.append(time.time() - sent)
                if answer.status_code == 201:
                    created[answer.json()["id"]] = sent
                else:
                    refused.append(answer.status_code)

        pool = ThreadPoolExecutor(max_workers=16)
        interval = 1 / self.args.rate
        with timed() as submitting:
            futures = []
            for number in range(self.args.runs):
                # An open loop at the offered rate: a slow answer does not slow the offer.
                wait = submitting.started + number * interval - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                futures.append(pool.submit(create, number))
                if number % 20 == 0:
                    disk_check(self.var_dir, self.args.min_free_gb)
            for future in futures:
                future.result()
        pool.shutdown()
        billed = self._wait_billed(set(created))
        return self._figures(created, billed, refused, create_latencies, submitting.seconds)

    def _wait_billed(self, run_ids: set[str]) -> dict[str, float]:
        """Run id -> when Stripe accepted its usage, until all are or nothing moves for a while."""
        from billing.models import UsageRecord

        billed: dict[str, float] = {}
        quiet_since = started = time.monotonic()
        while len(billed) < len(run_ids):
            disk_check(self.var_dir, self.args.min_free_gb)
            self._check_alive()
            fresh = {
                str(run_id): confirmed_at.timestamp()
                for run_id, confirmed_at in UsageRecord.objects.filter(
                    run_id__in=run_ids - billed.keys(), push_state="confirmed"
                ).values_list("run_id", "confirmed_at")
            }
            if fresh:
                billed.update(fresh)
                quiet_since = time.monotonic()
                self._delete_copies(fresh.keys())
            elif self._queued() > 0:
                quiet_since = time.monotonic()  # the workers are behind, not done
            elif time.monotonic() - quiet_since > self.args.quiet_seconds:
                break
            if time.monotonic() - started > self.args.max_wait_seconds:
                break
            time.sleep(0.25)
        return billed

    def _queued(self) -> int:
        """Tasks waiting in the broker (django-q2's Redis list for this cluster)."""
        from django_q.brokers import get_broker

        return int(get_broker().queue_size() or 0)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SystemExit(
                    f"end_to_end: {name} exited ({proc.returncode}):\n{self._log(name)}"
                )

    def _delete_copies(self, run_ids: Any) -> None:
        """Our stored copies (and posters) of billed runs: the bench keeps no media."""
        from seedance.models import OutputFile

        for record in OutputFile.objects.filter(run_id__in=list(run_ids)):
            for stored in (record.file, record.poster):
                if stored:
                    stored.storage.delete(stored.name)
                    self.deleted_copies += 1

    def _figures(
        self,
        created: dict[str, float],
        billed: dict[str, float],
        refused: list[int],
        create_latencies: list[float],
        submit_seconds: float,
    ) -> dict[str, Any]:
        import httpx

        from billing.models import UsageRecord
        from seedance.models import Run

        answer = httpx.get(f"http://127.0.0.1:{self.stripe_port}/_fake/meter_events", timeout=30)
        at_fake = {
            event["identifier"] for event in answer.json()["data"] if event.get("error") is None
        }
        identifiers = dict(
            UsageRecord.objects.filter(run_id__in=list(billed)).values_list("run_id", "identifier")
        )
        accepted = {run_id for run_id in billed if identifiers.get(uuid.UUID(run_id)) in at_fake}
        lost_ids = set(created) - accepted
        lost_states = [
            {"status": status, "delivery": delivery}
            for status, delivery in Run.objects.filter(pk__in=list(lost_ids))[:20].values_list(
                "status", "delivery"
            )
        ]
        first = min(created.values(), default=0.0)
        last = max((billed[run_id] for run_id in accepted), default=first)
        span = last - first
        return {
            "offered_rate": self.args.rate,
            "runs": self.args.runs,
            "created": len(created),
            "refused": refused,
            "billed": len(accepted),
            "lost": len(lost_ids),
            "lost_states": lost_states,
            "submit_seconds": submit_seconds,
            "create_rate": len(created) / submit_seconds if submit_seconds else 0.0,
            "create": latency_ms(create_latencies),
            "seconds": span,
            "rate": len(accepted) / span if span > 0 else 0.0,
            "to_billed": latency_ms([billed[run_id] - created[run_id] for run_id in accepted]),
            "deleted_copies": self.deleted_copies,
            "still_queued": self._queued(),
            "tenants": self.args.tenants,
            "qclusters": self.args.qclusters,
            "workers": self.args.workers,
        }


if __name__ == "__main__":
    main()
