"""One create and one callback in-process on PostgreSQL: time, round trips, and a profile.

Usage: .venv/bin/python bench/profile_requests.py [--repeat 50] [--json out.json]
       [--profiles DIR]
Needs DATABASE_URL (PostgreSQL; the bench's own database) and REDIS_URL. Each request goes
through Django's test client under bench.settings (middleware, DRF, the real view), so
what is measured is our code and its queries, not the HTTP server. The mean is over
``--repeat`` requests after a warm-up; the queries are those of the last one; pyinstrument
profiles one more of each (its text tree lands in ``--profiles``).
"""

import argparse
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import timed  # noqa: E402

CALLBACK_SECRET = "whsec_bench_callback_secret"  # noqa: S105  (the bench signs its own callbacks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profiles", type=Path, default=Path(tempfile.mkdtemp(prefix="prof-")))
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("profile_requests: set DATABASE_URL to a PostgreSQL database of the bench's own")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        RUNFLOW_CALLBACK_SECRETS=CALLBACK_SECRET,
        VAR_DIR=os.environ.get("VAR_DIR") or tempfile.mkdtemp(prefix="bench-"),
        LOG_LEVEL="WARNING",  # one line per request would bury the figures
    )
    os.environ.pop("DEBUG", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    create, callback = requests()
    args.profiles.mkdir(parents=True, exist_ok=True)
    result = {
        "create": measure("create", create, args),
        "callback": measure("callback", callback, args),
    }
    for name, figures in result.items():
        print(
            f"{name}: {figures['mean_ms']:.1f} ms mean over {args.repeat}, "
            f"{figures['queries']} queries: {', '.join(figures['statements'])}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def requests() -> tuple[Callable[[], Any], Callable[[], Any]]:
    """A create by a tenant's key, and a signed terminal callback to a fresh running run."""
    from django.test import Client
    from django.utils import timezone

    from billing.models import TenantBilling
    from seedance.audit import Actor
    from seedance.models import Run, Tenant
    from seedance.runflow.signing import sign
    from seedance.services.keys import api_key_issue

    tenant = Tenant.objects.create(slug=f"prof-{uuid.uuid4().hex[:8]}", name="Profile")
    TenantBilling.objects.update_or_create(
        tenant=tenant, defaults={"payment_method_exempt": True, "max_in_flight_runs": None}
    )
    key = api_key_issue(tenant=tenant, name="profile", actor=Actor.system("bench")).secret
    client = Client()
    body = {"prompt": "A lighthouse at dusk", "duration": "5", "resolution": "720p"}

    def create() -> Any:
        response = client.post(
            "/api/v1/runs",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert response.status_code == 201, response.content
        return response

    def callback() -> Any:
        run = Run.objects.create(
            tenant=tenant,
            prompt="profile",
            duration="5",
            status="running",
            provider_run_id=str(uuid.uuid4()),
            deadline_at=timezone.now() + timedelta(hours=1),
        )
        payload = json.dumps(
            {
                "event": "run.completed",
                "run_id": run.provider_run_id,
                "status": "succeeded",
                "completed_at": timezone.now().isoformat(),
                "metadata": {"seedance_run_id": str(run.pk)},
            }
        ).encode()
        with timed() as request:
            response = client.post(
                f"/hooks/runflow/runs/{run.pk}/",
                payload,
                content_type="application/json",
                HTTP_RUNFLOW_SIGNATURE=sign(payload, CALLBACK_SECRET),
            )
        assert response.status_code == 200, response.content
        return request.seconds

    callback.setup_queries = 1  # type: ignore[attr-defined]  # its run's INSERT
    return create, callback


def measure(name: str, send: Callable[[], Any], args: argparse.Namespace) -> dict[str, Any]:
    """Mean wall time of one request, its statements (first word, in order), a profile."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    for _ in range(5):
        send()
    total = 0.0
    for _ in range(args.repeat):
        with timed() as request:
            answered = send()
        # The callback times itself: making its run is set-up, not the request.
        total += answered if isinstance(answered, float) else request.seconds
    with CaptureQueriesContext(connection) as queries:
        send()
    skipped = getattr(send, "setup_queries", 0)
    statements = [_statement(query["sql"]) for query in queries.captured_queries[skipped:]]
    profiler = Profiler(interval=0.0005)
    with profiler:
        send()
    (args.profiles / f"{name}.txt").write_text(profiler.output_text(color=False, show_all=False))
    return {
        "mean_ms": total / args.repeat * 1000,
        "queries": len(statements),
        "statements": statements,
        "profile": str(args.profiles / f"{name}.txt"),
    }


def _statement(sql: str) -> str:
    """A query's kind and table, enough to count round trips: ``SELECT seedance_apikey``."""
    words = sql.replace('"', "").split()
    verb = words[0].upper()
    table = ""
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in (w.upper() for w in words[1:]) or verb == marker:
            index = next(i for i, w in enumerate(words) if w.upper() == marker)
            table = words[index + 1] if index + 1 < len(words) else ""
            break
    suffix = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {table}{suffix}".strip()


if __name__ == "__main__":
    main()
