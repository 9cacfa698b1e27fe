"""API create and callback ingest against the bare endpoint, interleaved on one gunicorn.

Usage: .venv/bin/python bench/http_bench.py [--rounds 3] [--seconds 8] [--connections 16]
       [--tenants 8] [--port 18101] [--json out.json]
Needs DATABASE_URL (PostgreSQL, a database of its own: the bench adds tenants, runs and a
table) and REDIS_URL (the broker and the cache; its db is flushed). gunicorn runs with
config/gunicorn.py (WEB_WORKERS, WEB_THREADS) under bench.settings: production's settings,
the bare URL added, throttles off. The load comes from wrk (C, so the generator takes
little of the CPU the server needs) with bench/requests.lua.

Each round measures bare, create over N tenants, create by one tenant and callbacks, in
turn, so every figure has a bare figure taken moments before it on the same noisy machine.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import wait_for_port  # noqa: E402

CREATE_BODY = json.dumps({"prompt": "A lighthouse at dusk", "duration": "5", "resolution": "720p"})
CALLBACK_SECRET = "whsec_bench_callback_secret"  # noqa: S105  (the bench signs its own callbacks)
SCENARIOS = ("bare", "create_tenants", "create_one_tenant", "callback")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tenants", type=int, default=8)
    parser.add_argument("--port", type=int, default=18101)
    parser.add_argument("--json", type=Path, help="Write the figures here too.")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("http_bench: set DATABASE_URL to a PostgreSQL database of the bench's own")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        RUNFLOW_CALLBACK_SECRETS=CALLBACK_SECRET,
        VAR_DIR=os.environ.get("VAR_DIR") or tempfile.mkdtemp(prefix="bench-"),
    )
    os.environ.pop("DEBUG", None)
    import django

    django.setup()
    keys = prepare(args.tenants)
    work = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    lines = {
        "bare": [("/bench/bare", "Authorization", f"Bearer {key}", CREATE_BODY) for key in keys],
        "create_tenants": [
            ("/api/v1/runs", "Authorization", f"Bearer {key}", CREATE_BODY) for key in keys
        ],
        "create_one_tenant": [("/api/v1/runs", "Authorization", f"Bearer {keys[0]}", CREATE_BODY)]
        * len(keys),
    }
    server = gunicorn(args.port)
    try:
        rounds = []
        for number in range(args.rounds):
            lines["callback"] = callback_lines(count=args.seconds * 1500)
            figures = {}
            for scenario in SCENARIOS:
                path = work / f"{scenario}.tsv"
                path.write_text("".join("\t".join(line) + "\n" for line in lines[scenario]))
                figures[scenario] = wrk(args, path)
            figures["callback"]["recorded"] = callbacks_recorded()
            rounds.append(figures)
            print(f"round {number + 1}: " + summary_line(figures), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=15)
    result = {"connections": args.connections, "tenants": args.tenants, "rounds": rounds}
    result["ratios"] = ratios(rounds)
    print(json.dumps(result["ratios"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def prepare(tenant_count: int) -> list[str]:
    """A fresh schema state: migrations, the bare table, tenants with a key each."""
    import redis
    from django.conf import settings
    from django.core.management import call_command

    from bench.bare import bare_table_create
    from billing.models import TenantBilling
    from seedance.audit import Actor
    from seedance.models import Tenant
    from seedance.services.keys import api_key_issue

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    call_command("migrate", verbosity=0)
    bare_table_create()
    keys = []
    for number in range(tenant_count):
        tenant = Tenant.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name=f"Bench {number}")
        TenantBilling.objects.update_or_create(
            tenant=tenant, defaults={"payment_method_exempt": True, "max_in_flight_runs": None}
        )
        keys.append(api_key_issue(tenant=tenant, name="bench", actor=Actor.system("bench")).secret)
    return keys


def callback_lines(count: int) -> list[tuple[str, str, str, str]]:
    """``count`` running runs, each with one signed terminal callback (never a replay)."""
    from django.utils import timezone

    from seedance.models import Run, Tenant
    from seedance.runflow.signing import sign

    tenant = Tenant.objects.filter(slug__startswith="bench-").first()
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            tenant=tenant,
            prompt="bench",
            duration="5",
            resolution="720p",
            status="running",
            provider_run_id=str(uuid.uuid4()),
            deadline_at=now + timedelta(hours=1),
        )
        for _ in range(count)
    )
    lines = []
    for run in runs:
        body = json.dumps(
            {
                "event": "run.completed",
                "run_id": run.provider_run_id,
                "status": "succeeded",
                "completed_at": now.isoformat(),
                "metadata": {"seedance_run_id": str(run.pk)},
            }
        )
        path = f"/hooks/runflow/runs/{run.pk}/"
        lines.append((path, "Runflow-Signature", sign(body.encode(), CALLBACK_SECRET), body))
    return lines


def callbacks_recorded() -> dict[str, int]:
    """What the database kept of the round's callbacks: deliveries recorded as wake-ups."""
    from seedance.models import InboundDelivery

    recorded = InboundDelivery.objects.filter(source="runflow")
    counts = {"woke": recorded.filter(outcome="woke").count(), "all": recorded.count()}
    recorded.delete()
    return counts


def gunicorn(port: int) -> subprocess.Popen[bytes]:
    """scripts/serve.sh's gunicorn line, on our port, its output discarded."""
    env = {**os.environ, "WEB_BIND": f"127.0.0.1:{port}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:config.gunicorn", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, seconds=10, name="gunicorn")
    time.sleep(1)  # both workers up
    return server


def wrk(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    threads = 2
    done = subprocess.run(  # noqa: S603
        [  # noqa: S607  (wrk from PATH, like the README's apt-get install)
            "wrk",
            f"-t{threads}",
            f"-c{args.connections}",
            f"-d{args.seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "requests.lua"),
            f"http://127.0.0.1:{args.port}",
            "--",
            str(path),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    ok = sum(seen for status, seen in figures["statuses"].items() if status.startswith("2"))
    figures["ok"] = ok
    figures["rate"] = ok / figures["seconds"]
    return figures


def summary_line(figures: dict[str, Any]) -> str:
    return ", ".join(
        f"{name} {f['rate']:.0f}/s p50 {f['p50_ms']:.0f} p99 {f['p99_ms']:.0f} ms {f['statuses']}"
        for name, f in figures.items()
    )


def ratios(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure against the same round's bare figure; the median over rounds."""
    out: dict[str, Any] = {}
    for scenario in SCENARIOS:
        out[scenario] = {
            "rate": median(r[scenario]["rate"] for r in rounds),
            "p50_ms": median(r[scenario]["p50_ms"] for r in rounds),
            "p99_ms": median(r[scenario]["p99_ms"] for r in rounds),
            "rate_ratio": median(r[scenario]["rate"] / r["bare"]["rate"] for r in rounds),
            "p99_ratio": median(r[scenario]["p99_ms"] / r["bare"]["p99_ms"] for r in rounds),
        }
    return out


if __name__ == "__main__":
    main()
