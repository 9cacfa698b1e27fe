"""The chaos stack: every process production runs, each its own, on this harness's own
database (``seedance_chaos``), Redis db 7 and ports 18200-18203.

Wired in scripts/demo.sh's order (the Stripe fake, its ``/_fake/faults``, ``stripe_provision``,
scripts/demo_stripe_destination.py), the web server started as scripts/serve.sh starts it
(gunicorn with ``config/gunicorn.py``, WEB_BIND/WEB_WORKERS/WEB_THREADS), two qclusters and
the dispatcher beside it. Unlike scripts/serve.sh the database is made afresh and migrated
here, since serve leaves migrations to the release step.
"""

import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.processes import ROOT

WEB_PORT, STRIPE_PORT, SANDBOX_PORT, RECEIVER_PORT = 18200, 18201, 18202, 18203
PG = "postgres://postgres@127.0.0.1:5432"
DATABASE = "seedance_chaos"
REDIS_DB = 7
QCLUSTERS = 2
#: Stripe's aggregation lag in the fake, and how long our reconciliation and error-report
#: check wait for it: seconds here (an hour and minutes in production), so the final
#: reconcile compares every window and the check judges every report within the run.
SUMMARY_LAG_SECONDS = 3
SETTLE_SECONDS = 6
PY = str(ROOT / ".venv/bin/python")
WEB = [PY, "-m", "gunicorn", "--config", "python:config.gunicorn", "config.wsgi"]


def stack_env(var_dir: Path) -> dict[str, str]:
    """The environment of every process: production's knobs, tightened so a run of a few
    minutes sees the sweeps, the reconciler and the retries many times over."""
    stamp = var_dir.name
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("SEEDANCE_")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "LOG_FORMAT": "console",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECRET_KEY_FALLBACKS": "",
        "WEBHOOK_SECRET_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "Q_CLUSTER_NAME": "seedance-chaos",
        "Q_WORKERS": "3",
        "VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{WEB_PORT}",
        "WEB_BIND": f"127.0.0.1:{WEB_PORT}",
        "WEB_WORKERS": "2",
        "WEB_THREADS": "4",
        "WEB_ACCESS_LOG": str(var_dir / "access.log"),
        "RUNFLOW_BASE_URL": f"http://127.0.0.1:{SANDBOX_PORT}/v1",
        "RUNFLOW_API_KEY": "rf_live_chaos",
        "RUNFLOW_CALLBACK_SECRETS": "whsec_chaos_callbacks",
        "RUNFLOW_TIMEOUT": "2",
        "SEEDANCE_CREATE_OUTCOME_MARGIN_SECONDS": "4",
        "SEEDANCE_STATUS_SWEEP_SECONDS": "1",
        "SEEDANCE_CALLBACK_RECHECK_SECONDS": "2",
        "SEEDANCE_RECONCILE_QUEUED_AFTER": "10",
        "SEEDANCE_RECONCILE_POLL_AFTER": "10",
        "SEEDANCE_API_CREATE_RATE": "off",
        "SEEDANCE_API_READ_RATE": "off",
        "SEEDANCE_API_AUTH_FAILURE_RATE": "off",
        "SEEDANCE_OUTBOUND_LOOPBACK_HTTP": "127.0.0.1:*,localhost:*",
        "SEEDANCE_WEBHOOK_RETRY_SCHEDULE_SECONDS": "1,2,4,8,15,30,60",
        "STRIPE_API_KEY": "sk_test_chaos",
        "STRIPE_API_BASE": f"http://127.0.0.1:{STRIPE_PORT}",
        "STRIPE_WEBHOOK_SECRETS": "whsec_stripe_chaos",
        "STRIPE_EVENT_SECRETS": "whsec_stripe_events_chaos",
        "STRIPE_TIMEOUT": "1",
        "STRIPE_NAMESPACE": f"chaos-{stamp}",
        "BILLING_PAYMENT_METHOD_ALLOWANCE": "0",
        "BILLING_RECONCILE_SETTLE_SECONDS": str(SETTLE_SECONDS),
        "BILLING_SUMMARY_SETTLE_SECONDS": str(SETTLE_SECONDS),
    }


@dataclass
class Stack:
    var_dir: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
        )

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """``argv`` in its own session (so a kill reaches its children), logging to a file."""
        log = open(self.var_dir / f"{name}.log", "ab")  # noqa: SIM115  (the child keeps it)
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.procs[name]

    def stop(self, *names: str) -> None:
        """SIGTERM their process groups, SIGKILL after 10 s: nothing they forked outlives them."""
        procs = [proc for name in names if (proc := self.procs.pop(name, None)) is not None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        self.stop(*reversed(list(self.procs)))

    def start_web(self) -> None:
        self.start("web", WEB)
        wait_http(f"http://127.0.0.1:{WEB_PORT}/api/schema/", "the web server")

    def boot(self) -> None:
        """A fresh database and broker, then every service, in scripts/demo.sh's order."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        _fresh_database()
        subprocess.run(
            ["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True
        )
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        self.start(
            "stripe",
            [
                PY,
                "manage.py",
                "stripe_fake",
                "--port",
                str(STRIPE_PORT),
                "--in-memory",
                "--report-delay",
                "1",
            ],
        )
        wait_http(f"http://127.0.0.1:{STRIPE_PORT}/_fake/faults", "the Stripe fake")
        httpx.post(
            f"http://127.0.0.1:{STRIPE_PORT}/_fake/config",
            json={"retry_seconds": 1, "summary_lag_seconds": SUMMARY_LAG_SECONDS},
            timeout=5,
        ).raise_for_status()
        self.manage("stripe_provision")
        subprocess.run(
            [PY, "scripts/demo_stripe_destination.py"], cwd=ROOT, env=self.env, check=True
        )
        self.start(
            "sandbox",
            [
                PY,
                "manage.py",
                "runflow_sandbox",
                "--port",
                str(SANDBOX_PORT),
                "--queued-seconds",
                "0.5",
                "--running-seconds",
                "1.5",
                "--cache-dir",
                str(self.var_dir / "sandbox"),
            ],
        )
        for index in range(QCLUSTERS):
            self.start(f"qcluster{index + 1}", [PY, "manage.py", "qcluster"])
        self.start("dispatcher", [PY, "manage.py", "dispatcher"])
        wait_http(f"http://127.0.0.1:{SANDBOX_PORT}/v1/health", "the Runflow sandbox")
        self.start_web()


def _fresh_database() -> None:
    for argv in (
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DATABASE],
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE],
    ):
        subprocess.run(argv, check=True, capture_output=True)


def wait_http(url: str, name: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    print(f"{name} did not start within {seconds:g} s", file=sys.stderr)
    raise SystemExit(2)
