"""The README's demo command, for real: processes, SQLite, ORM broker, sandbox, curl."""

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import totp_code
from tests.media import probe_mp4
from tests.processes import (
    Proc,
    descendants,
    enqueue_sleep,
    free_port,
    terminate_and_time,
    wait_for_line,
)
from tests.seedance.accounts.servers import Server
from tests.seedance.compat.runflow_sdk import RunflowSdk
from tests.seedance.webhooks.conftest import ReceiverServer

ROOT = Path(__file__).resolve().parent.parent
READY_LINE = "Ctrl-C stops everything."


def demo_environment(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no outside database or Redis, free ports, a scratch VAR_DIR."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")
        and not key.startswith("PYTEST")
    }
    env.update(
        VAR_DIR=str(tmp_path),
        DEMO_PORT=str(free_port()),
        SANDBOX_PORT=str(free_port()),
        STRIPE_FAKE_PORT=str(free_port()),
    )
    return env


@dataclass(frozen=True)
class Demo:
    banner: str
    var_dir: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """scripts/demo.sh in a clean environment, up once for the tests that only use it."""
    var_dir = tmp_path_factory.mktemp("demo")
    env = demo_environment(var_dir)
    process = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    banner: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        for line in process.stdout:
            banner.append(line)
            if READY_LINE in line or time.monotonic() > deadline:
                break
        assert READY_LINE in "".join(banner), "".join(banner)
        yield Demo(banner="".join(banner), var_dir=var_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_printed_curl_creates_a_run_that_succeeds_with_the_requested_video(
    demo: Demo, tmp_path: Path
) -> None:
    curl = demo.banner.split("Create a run:", 1)[1].split("Follow it:", 1)[0].strip()
    key = re.search(r"API key:\s+(\S+)", demo.banner)
    base = re.search(r"Portal:\s+(\S+)", demo.banner)
    assert key, demo.banner
    assert base, demo.banner
    created = subprocess.run(
        ["bash", "-c", curl],
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(created.stdout)
    assert run["status"] == "queued", run

    deadline = time.monotonic() + 30
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    with httpx.Client(base_url=base.group(1), headers=headers) as api:
        while run["status"] != "succeeded" or not run["output"]["outputs"][0]["url"]:
            assert run["status"] in ("queued", "running", "succeeded"), run
            assert time.monotonic() < deadline, f"not succeeded within 30 s: {run}"
            time.sleep(0.25)
            run = api.get(f"/api/v1/runs/{run['id']}").json()

    output = run["output"]["outputs"][0]
    video = tmp_path / "output.mp4"
    video.write_bytes(httpx.get(output["url"]).raise_for_status().content)
    media = probe_mp4(video)
    assert abs(media.duration - int(run["duration"])) < 0.1
    assert run["aspect_ratio"] == "16:9"
    assert abs(media.width / media.height - 16 / 9) < 0.01
    assert (media.width, media.height) == (output["width"], output["height"])

    stripe = re.search(r"Stripe:\s+curl -sS (\S+)", demo.banner)
    assert stripe, demo.banner
    billed: list[dict[str, str]] = []
    while not billed:
        assert time.monotonic() < deadline + 60, "the run's usage never reached Stripe"
        time.sleep(0.5)
        sent = httpx.get(stripe.group(1)).json()["data"]
        billed = [event for event in sent if event["identifier"].endswith(run["id"])]
    assert [Decimal(event["value"]) for event in billed] == [int(run["duration"])]


def test_printed_sign_ins_work_and_staff_open_the_admin_with_the_printed_totp_secret(
    demo: Demo,
) -> None:
    banner = demo.banner
    base = re.search(r"Portal:\s+(\S+)\s+user: demo \(or (\S+)\)\s+password: (\S+)", banner)
    admin = re.search(r"Admin:\s+\S+\s+user: (\S+) \(or \S+\)\s+password: (\S+)", banner)
    totp = re.search(r"Staff TOTP:\s+(\S+)\s+\(kept in (\S+);.*\n\s+(otpauth://\S+)", banner)
    assert base, banner
    assert admin, banner
    assert totp, banner
    secret, kept_in, uri = totp.groups()
    assert Path(kept_in) == demo.var_dir / "demo-staff-totp.txt"
    assert Path(kept_in).read_text().splitlines() == [secret, uri]
    # The demo made its own key and keeps it beside its database, readable by its owner only.
    key_file = demo.var_dir / "secret_key"
    assert len(key_file.read_text().strip()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0

    url = base.group(1).rstrip("/")
    person = Server(url, host=urlsplit(url).netloc)
    signed_in = person.form_post(
        "/accounts/login/", {"login": base.group(2), "password": base.group(3)}
    )
    assert signed_in.headers["location"] == "/"
    assert person.client.get("/runs/").status_code == 200

    staff = Server(url, host=urlsplit(url).netloc)
    step = staff.form_post(
        "/admin/login/?next=/admin/", {"login": admin.group(1), "password": admin.group(2)}
    )
    assert step.headers["location"] == "/accounts/2fa/authenticate/"
    done = staff.form_post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done.headers["location"] == "/admin/"
    assert staff.client.get("/admin/").status_code == 200


def test_a_run_polled_every_half_second_shows_running_with_started_at_before_succeeded(
    demo: Demo,
) -> None:
    """The status sweep at work: Runflow calls back only at the end."""
    key = re.search(r"API key:\s+(\S+)", demo.banner)
    base = re.search(r"Portal:\s+(\S+)", demo.banner)
    assert key, demo.banner
    assert base, demo.banner
    seen: list[tuple[str, str | None]] = []
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    with httpx.Client(base_url=base.group(1), headers=headers) as api:
        run = api.post(
            "/api/v1/runs",
            json={"prompt": "Rain on a tin roof, close-up", "duration": "5", "resolution": "480p"},
        ).json()
        deadline = time.monotonic() + 30
        while run["status"] != "succeeded":
            assert time.monotonic() < deadline, f"not succeeded within 30 s: {seen}"
            time.sleep(0.5)
            run = api.get(f"/api/v1/runs/{run['id']}").json()
            seen.append((run["status"], run["started_at"]))

    running = [started for status, started in seen if status == "running"]
    assert running, seen
    assert all(running), seen
    assert seen[-1] == ("succeeded", running[0]), seen


def test_a_webhook_endpoint_on_a_local_port_is_told_of_a_run_succeeding_within_seconds(
    demo: Demo,
) -> None:
    """The README's webhook walk-through: a receiver of one's own on 127.0.0.1, verifying
    with the standardwebhooks library, hears ``run.succeeded`` with a fetchable video."""
    key = re.search(r"API key:\s+(\S+)", demo.banner)
    base = re.search(r"Portal:\s+(\S+)", demo.banner)
    assert key, demo.banner
    assert base, demo.banner
    receiver = ReceiverServer()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    try:
        with httpx.Client(base_url=base.group(1), headers=headers) as api:
            made = api.post(
                "/api/v1/webhooks/endpoints",
                json={"url": receiver.url, "events": ["run.succeeded"]},
            )
            assert made.status_code == 201, made.text
            receiver.secrets.append(made.json()["secret"])
            run = api.post(
                "/api/v1/runs",
                json={"prompt": "A heron lands on a pier", "duration": "5", "resolution": "480p"},
            ).json()
            deadline = time.monotonic() + 30
            while not receiver.verified():
                assert time.monotonic() < deadline, f"no webhook within 30 s: {receiver.received}"
                time.sleep(0.1)
            heard_after = time.monotonic() - (deadline - 30)
    finally:
        receiver.shutdown()
        receiver.server_close()

    (told,) = receiver.verified()
    assert told.payload["type"] == "run.succeeded"
    assert told.payload["data"]["id"] == run["id"]
    assert told.payload["data"]["status"] == "succeeded"
    video = httpx.get(told.payload["data"]["output"]["outputs"][0]["url"])
    assert video.raise_for_status().content[4:8] == b"ftyp"
    # queued 1 s and running 3 s at the sandbox, then the copy: the rest is our latency.
    assert heard_after < 15, heard_after


def start_make_demo(env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    """``make demo`` itself, as a person runs it: the signal goes to make, which passes it on."""
    with out.open("wb") as log:
        return subprocess.Popen(
            ["make", "-s", "demo"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def sign_in(banner: str) -> Server:
    portal = re.search(r"Portal:\s+(\S+)\s+user: demo \(or (\S+)\)\s+password: (\S+)", banner)
    assert portal, banner
    url = portal.group(1).rstrip("/")
    person = Server(url, host=urlsplit(url).netloc)
    signed_in = person.form_post(
        "/accounts/login/", {"login": portal.group(2), "password": portal.group(3)}
    )
    assert signed_in.headers["location"] == "/"
    return person


def api_key(banner: str) -> str:
    printed = re.search(r"API key:\s+(\S+)", banner)
    assert printed, banner
    return printed.group(1)


def test_make_demo_stops_every_process_within_ten_seconds_of_sigterm_and_a_restart_keeps_sessions(
    tmp_path: Path,
) -> None:
    env = demo_environment(tmp_path)
    banner = tmp_path / "banner.txt"
    make = start_make_demo(env, banner)
    tree: set[Proc] = set()
    try:
        wait_for_line(banner, READY_LINE, seconds=120)
        person = sign_in(banner.read_text())
        wait_for_line(tmp_path / "log" / "worker.log", "Q Cluster", "running", seconds=30)
        # Tasks are signed with the demo's own key, which it made in its VAR_DIR.
        demo_key = (tmp_path / "secret_key").read_text().strip()
        enqueue_sleep({**env, "SECRET_KEY": demo_key}, 60)
        wait_for_line(tmp_path / "log" / "worker.log", "processing", "time.sleep", seconds=20)
        web_log = (tmp_path / "log" / "web.log").read_bytes()
        second = start_make_demo(env, tmp_path / "banner-second.txt")
        assert second.wait(timeout=60) != 0
        said = (tmp_path / "banner-second.txt").read_text()
        assert "already running" in said, said
        assert (tmp_path / "log" / "web.log").read_bytes().startswith(web_log)
        assert (tmp_path / "demo.pid").read_text().strip()
        assert person.client.get("/runs/").status_code == 200, "the running demo was disturbed"
        tree = descendants(make.pid)
        commands = " ".join(proc.cmdline for proc in tree)
        for started in ("stripe_fake", "runflow_sandbox", "qcluster", "dispatcher", "runserver"):
            assert started in commands, commands
    finally:
        elapsed, left = terminate_and_time(make, tree | descendants(make.pid))

    assert not left, left
    assert elapsed < 10, elapsed

    again = start_make_demo(env, tmp_path / "banner-again.txt")
    try:
        wait_for_line(tmp_path / "banner-again.txt", READY_LINE, seconds=120)
        assert (tmp_path / "secret_key").read_text().strip() == demo_key
        assert person.client.get("/runs/").status_code == 200, "the session did not survive"
        assert api_key(banner.read_text()) == api_key((tmp_path / "banner-again.txt").read_text())
    finally:
        terminate_and_time(again, descendants(again.pid))


def test_printed_runflow_curl_makes_a_run_runflows_sdk_follows_to_succeeded(demo: Demo) -> None:
    block = demo.banner.split("As Runflow:", 1)[1].split("Stripe:", 1)[0]
    curl = block[block.index("curl ") :].strip()
    key = re.search(r"API key:\s+(\S+)", demo.banner)
    base = re.search(r"As Runflow: base URL (\S+)", demo.banner)
    assert key, demo.banner
    assert base, demo.banner
    created = json.loads(
        subprocess.run(["bash", "-c", curl], capture_output=True, text=True, check=True).stdout
    )
    assert created["status_code"] == "queued", created
    run = RunflowSdk(base_url=base.group(1), api_key=key.group(1)).wait(created["id"], timeout=60)
    assert run["status_code"] == "succeeded", run
    assert httpx.get(run["output"]["outputs"][0]["url"]).raise_for_status().content
