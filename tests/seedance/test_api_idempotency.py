"""Idempotency-Key on create: per tenant, kept 24 h, one run per key, never two at once."""

import hashlib
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.models import IdempotencyKey, Run, Tenant
from seedance.services.keys import IssuedKey
from tests.queue import queued_submits

RUNS_URL = "/api/v1/runs"
BODY = {"prompt": "A red fox runs through fresh snow at dawn", "duration": "5", "seed": 7}
KEY = "order-1234-attempt"
TTL_SECONDS = 24 * 3600


def post(client: APIClient, body: dict[str, Any] = BODY, key: str | None = KEY) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(RUNS_URL, body, format="json", headers=headers)


def age_keys(seconds: float) -> None:
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def authed_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_key_is_kept_24_hours_by_default() -> None:
    assert django_settings.SEEDANCE["IDEMPOTENCY_TTL_SECONDS"] == TTL_SECONDS


def test_same_key_and_body_replays_the_first_run(api_client: APIClient) -> None:
    first = post(api_client)
    second = post(api_client)
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert Run.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_replay_shows_the_run_as_it_is_now(api_client: APIClient) -> None:
    run_id = post(api_client).json()["id"]
    assert api_client.post(f"{RUNS_URL}/{run_id}/cancel").status_code == 200
    replay = post(api_client)
    assert replay.status_code == 201
    assert replay.json()["id"] == run_id
    assert replay.json()["status"] == "canceled"


@pytest.mark.parametrize(
    "same_body",
    [
        {"seed": 7, "duration": "5", "prompt": BODY["prompt"]},
        {**BODY, "duration": 5},
        {**BODY, "aspect_ratio": "auto", "resolution": "720p", "generate_audio": True},
    ],
    ids=["reordered", "integer-duration", "explicit-defaults"],
)
def test_equivalent_body_with_same_key_is_a_replay(
    api_client: APIClient, same_body: dict[str, Any]
) -> None:
    first = post(api_client)
    second = post(api_client, same_body)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert Run.objects.count() == 1


def test_replay_enqueues_no_second_submit(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = post(api_client)
        post(api_client)
        post(api_client)
    assert len(callbacks) == 1
    assert queued_submits(first.json()["id"]) == 1


@pytest.mark.parametrize(
    "other_body",
    [
        {**BODY, "prompt": "A different prompt"},
        {**BODY, "seed": 8},
        {**BODY, "duration": "6"},
        {**BODY, "end_user_id": "someone"},
        {**BODY, "metadata": {"a": 1}},
        {"prompt": BODY["prompt"]},
    ],
    ids=["prompt", "seed", "duration", "end-user", "metadata", "fewer-fields"],
)
def test_same_key_with_another_body_is_a_422_and_writes_nothing(
    api_client: APIClient,
    django_capture_on_commit_callbacks: Any,
    other_body: dict[str, Any],
) -> None:
    first = post(api_client)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(api_client, other_body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["message"]
    assert error["fields"] == {}
    assert callbacks == []
    assert [str(run_id) for run_id in Run.objects.values_list("id", flat=True)] == [
        first.json()["id"]
    ]
    # The first body still replays after the refusal.
    assert post(api_client).json()["id"] == first.json()["id"]


def test_different_keys_make_different_runs(api_client: APIClient) -> None:
    first = post(api_client, key="key-a")
    second = post(api_client, key="key-b")
    assert first.json()["id"] != second.json()["id"]
    assert Run.objects.count() == 2


def test_without_key_every_post_makes_a_run(api_client: APIClient) -> None:
    ids = {post(api_client, key=None).json()["id"] for _ in range(3)}
    assert len(ids) == 3
    assert not IdempotencyKey.objects.exists()


def test_key_is_scoped_per_tenant(
    api_client: APIClient, other_api_client: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = post(api_client)
    theirs = post(other_api_client)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert Run.objects.for_tenant(tenant).count() == 1
    assert Run.objects.for_tenant(other_tenant).count() == 1
    # Another tenant's different body under the same key is no reuse either.
    other_body = post(other_api_client, {"prompt": "theirs"}, key="second")
    assert post(api_client, key="second").status_code == 201
    assert other_body.status_code == 201


def test_key_expires_after_the_ttl(api_client: APIClient) -> None:
    first = post(api_client)
    age_keys(TTL_SECONDS + 1)
    second = post(api_client)
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    assert Run.objects.count() == 2
    assert str(IdempotencyKey.objects.get().run_id) == second.json()["id"]


def test_expired_key_may_be_reused_with_another_body(api_client: APIClient) -> None:
    post(api_client)
    age_keys(TTL_SECONDS + 1)
    response = post(api_client, {"prompt": "something else"})
    assert response.status_code == 201
    assert Run.objects.count() == 2


def test_key_still_replays_just_before_the_ttl(api_client: APIClient) -> None:
    first = post(api_client)
    age_keys(TTL_SECONDS - 60)
    second = post(api_client)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]


def test_ttl_follows_the_setting(api_client: APIClient, settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "IDEMPOTENCY_TTL_SECONDS": 60}
    first = post(api_client)
    age_keys(61)
    assert post(api_client).json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    "key", ["k" * 256, "k" * 1000, " ", "a\tb"], ids=["256", "1000", "blank", "control-char"]
)
def test_unusable_key_is_a_400_and_writes_nothing(api_client: APIClient, key: str) -> None:
    response = post(api_client, key=key)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert list(error["fields"]) == ["Idempotency-Key"]
    assert not Run.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_key_of_255_chars_is_accepted(api_client: APIClient) -> None:
    key = "k" * 255
    first = post(api_client, key=key)
    assert first.status_code == 201
    assert post(api_client, key=key).json()["id"] == first.json()["id"]


def test_refused_body_does_not_consume_the_key(api_client: APIClient) -> None:
    refused = post(api_client, {"prompt": ""})
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    accepted = post(api_client)
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted


# --- PostgreSQL: a repeat while the first is in flight ----------------------------------
# SQLite serializes writers (IMMEDIATE transactions), so these races only exist, and are
# only tested, on PostgreSQL.

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="parallel writers and the key's advisory lock need PostgreSQL",
)


def _advisory_lock_id(tenant: Tenant, key: str) -> int:
    """The lock id services.runs._lock_key_or_refuse takes for a tenant's key."""
    digest = hashlib.sha256(f"idem:{tenant.pk}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_repeat_still_blocked_after_the_wait_is_a_409(
    api_client: APIClient, tenant: Tenant, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "IDEMPOTENCY_WAIT_SECONDS": 0.2}
    held, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_advisory_lock_id(tenant, KEY)])
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert held.wait(10)
        response = post(api_client)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "idempotency_key_in_flight"
        assert not Run.objects.exists()
        # Another key of the same tenant is not blocked, and the wait left no lock timeout.
        assert post(api_client, key="another").status_code == 201
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            assert cursor.fetchone() == ("0",)
    finally:
        release.set()
        holder.join(10)
    response = post(api_client)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


_in_flight: dict[str, Any] = {}


def block_in_first_request(**kwargs: Any) -> None:
    """An admission hook that holds the first request inside its transaction."""
    if threading.current_thread() is _in_flight.get("thread"):
        _in_flight["entered"].set()
        _in_flight["release"].wait(10)


def _in_thread(target: Any) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("repeat_body", "expected"),
    [(BODY, 201), ({"prompt": "another body"}, 422)],
    ids=["same-body-replays", "other-body-is-422"],
)
def test_repeat_during_the_first_request_waits_for_its_answer(
    issued_key: IssuedKey, settings: Any, repeat_body: dict[str, Any], expected: int
) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "ADMISSION_HOOKS": [f"{__name__}.block_in_first_request"],
    }
    answers: dict[str, Any] = {}
    entered, release = threading.Event(), threading.Event()
    _in_flight.update(entered=entered, release=release)
    first = _in_thread(lambda: answers.update(first=post(authed_client(issued_key.secret))))
    _in_flight["thread"] = first
    try:
        assert entered.wait(10)
        repeat = _in_thread(
            lambda: answers.update(repeat=post(authed_client(issued_key.secret), repeat_body))
        )
        repeat.join(0.5)
        assert repeat.is_alive(), "the repeat answered before the first request committed"
    finally:
        release.set()
        first.join(10)
        repeat.join(10)
        _in_flight.clear()

    assert answers["first"].status_code == 201
    assert "Idempotent-Replayed" not in answers["first"]
    assert answers["repeat"].status_code == expected
    if expected == 201:
        assert answers["repeat"]["Idempotent-Replayed"] == "true"
        assert answers["repeat"].json()["id"] == answers["first"].json()["id"]
    else:
        assert answers["repeat"].json()["error"]["code"] == "idempotency_key_reused"
    assert Run.objects.count() == 1


def _race(issued_key: IssuedKey, bodies: list[dict[str, Any]]) -> list[Any]:
    barrier = threading.Barrier(len(bodies))
    answers: list[Any] = []
    lock = threading.Lock()

    def send(body: dict[str, Any]) -> None:
        client = authed_client(issued_key.secret)
        barrier.wait(10)
        response = post(client, body)
        with lock:
            answers.append(response)

    threads = [_in_thread(lambda body=body: send(body)) for body in bodies]
    for thread in threads:
        thread.join(60)
    assert len(answers) == len(bodies)
    return answers


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_identical_requests_make_one_run_and_all_answer_201(
    issued_key: IssuedKey,
) -> None:
    answers = _race(issued_key, [BODY] * 20)
    assert Run.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    run_id = str(Run.objects.get().pk)
    assert [response.status_code for response in answers] == [201] * 20
    assert {response.json()["id"] for response in answers} == {run_id}
    replayed = [response.get("Idempotent-Replayed") for response in answers]
    assert sorted(replayed, key=str) == [None] + ["true"] * 19


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_different_bodies_make_one_run_and_the_rest_are_422(
    issued_key: IssuedKey,
) -> None:
    bodies = [{**BODY, "seed": seed} for seed in range(12)]
    answers = _race(issued_key, bodies)
    assert Run.objects.count() == 1
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [201] + [422] * 11
    for response in answers:
        if response.status_code == 422:
            assert response.json()["error"]["code"] == "idempotency_key_reused"
            assert set(response.json()["error"]) == {"code", "message", "fields"}
    (created,) = [response for response in answers if response.status_code == 201]
    assert created.json()["id"] == str(Run.objects.get().pk)
    assert "Idempotent-Replayed" not in created


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_key_inserted_meanwhile_is_replayed_even_without_the_lock(
    issued_key: IssuedKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique key row is the last word: a loser of the insert race answers the winner."""
    monkeypatch.setattr("seedance.services.runs._lock_key_or_refuse", lambda tenant, key: None)
    answers = _race(issued_key, [BODY] * 8)
    assert [response.status_code for response in answers] == [201] * 8
    assert Run.objects.count() == 1
    assert {response.json()["id"] for response in answers} == {str(Run.objects.get().pk)}
