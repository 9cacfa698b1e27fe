"""Runs submitted through the public API, as tenants' code would: each create carries an
``Idempotency-Key`` and is sent again (same key, same body) when the answer is lost, a 5xx,
a 409 (the same key still in flight) or a rate limit, so a web tier that dies mid-request
makes no run twice. A cap's refusal is final."""

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

import httpx

from tests.chaos.faults import prompt_faults
from tests.chaos.stack import WEB_PORT

API = f"http://127.0.0.1:{WEB_PORT}/api/v1/runs"
GIVE_UP_SECONDS = 120
#: Refusals by a cap are final: the tenant's code would give up (or wait minutes).
CAPS = ("spend_cap", "concurrency_cap")


@dataclass(frozen=True)
class Client:
    tenant: str
    api_key: str
    end_users: tuple[str, ...]


@dataclass
class Submitted:
    """What the load saw: run ids answered 201, and every other final answer by code."""

    run_ids: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    lock: Lock = field(default_factory=Lock)


def submit_one(client: Client, body: dict[str, Any], submitted: Submitted) -> str | None:
    headers = {"Authorization": f"Bearer {client.api_key}", "Idempotency-Key": str(uuid.uuid4())}
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while time.monotonic() < deadline:
        try:
            answer = httpx.post(API, json=body, headers=headers, timeout=10)
        except httpx.HTTPError:
            answer = None
        if answer is not None and answer.status_code == 201:
            with submitted.lock:
                submitted.run_ids.append(answer.json()["id"])
            return str(answer.json()["id"])
        retry = answer is None or answer.status_code >= 500 or answer.status_code in (409, 429)
        code = "no answer" if answer is None else _code(answer)
        if not retry or code.endswith(CAPS):
            with submitted.lock:
                submitted.refused[code] += 1
            return None
        with submitted.lock:
            submitted.retries += 1
        time.sleep(0.5)
    with submitted.lock:
        submitted.refused["gave up"] += 1
    return None


def _code(answer: httpx.Response) -> str:
    try:
        return f"{answer.status_code} {answer.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return str(answer.status_code)


def submit_all(
    clients: list[Client],
    runs: int,
    *,
    seed: int,
    pace: float,
    on_progress: Callable[[int], None],
    on_created: Callable[[str], None],
) -> Submitted:
    """``runs`` creates over the clients and their end users, four at a time, in batches of
    ten started ``10 * pace`` seconds apart; ``on_progress(done)`` after each batch lets the
    chaos act as the run goes."""
    rng = random.Random(seed)
    submitted = Submitted()
    plans = []
    for index in range(runs):
        client = clients[index % len(clients)]
        prompt = f"chaos run {index}: a lighthouse at dusk {prompt_faults(rng)}"
        body = {
            "prompt": prompt.strip(),
            "duration": "4",
            "resolution": "480p",
            "aspect_ratio": "16:9",
            "end_user_id": rng.choice(client.end_users),
        }
        plans.append((client, body))

    def one(plan: tuple[Client, dict[str, Any]]) -> None:
        run_id = submit_one(*plan, submitted)
        if run_id is not None:
            on_created(run_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for start in range(0, runs, 10):
            began = time.monotonic()
            batch = [pool.submit(one, plan) for plan in plans[start : start + 10]]
            for future in batch:
                future.result()
            on_progress(min(start + 10, runs))
            time.sleep(max(0.0, 10 * pace - (time.monotonic() - began)))
    return submitted
