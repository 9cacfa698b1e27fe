"""Delivery records: one per event with its replays; refusals counted per hour, a few kept."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from seedance.inbound.records import delivery_claim, rejection_record
from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_three(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "INBOUND_REJECTED_KEPT_PER_HOUR": 3}


def reject(source: str = "stripe", *, at: datetime = NOON, body: bytes = b"{}") -> bool:
    return rejection_record(
        source=source, reason="invalid_signature", message="Bad signature.", body=body, now=at
    )


def test_a_repeat_of_an_event_bumps_replays_on_its_first_record() -> None:
    first, is_first = delivery_claim(source="stripe", dedupe_key="evt_1", now=NOON)
    later = NOON + timedelta(minutes=5)
    again, is_again_first = delivery_claim(source="stripe", dedupe_key="evt_1", now=later)
    assert (is_first, is_again_first) == (True, False)
    assert again.pk == first.pk
    assert (again.replays, again.first_received_at, again.last_received_at) == (1, NOON, later)


def test_the_same_key_from_another_source_is_another_delivery() -> None:
    delivery_claim(source="stripe", dedupe_key="evt_1")
    _, is_first = delivery_claim(source="runflow", dedupe_key="evt_1")
    assert is_first
    assert InboundDelivery.objects.count() == 2


def test_rejections_are_counted_per_source_and_utc_hour() -> None:
    reject(at=NOON)
    reject(at=NOON + timedelta(minutes=59, seconds=59))
    reject(at=NOON + timedelta(hours=1))
    reject("runflow", at=NOON)
    counts = {(row.source, row.hour): row.count for row in RejectedDeliveryCount.objects.all()}
    assert counts == {
        ("stripe", NOON): 2,
        ("stripe", NOON + timedelta(hours=1)): 1,
        ("runflow", NOON): 1,
    }


@pytest.mark.usefixtures("keep_three")
def test_only_the_first_n_rejections_of_an_hour_keep_their_body() -> None:
    kept = [reject(at=NOON + timedelta(minutes=minute)) for minute in range(5)]
    assert kept == [True, True, True, False, False]
    assert RejectedDeliveryCount.objects.get(source="stripe", hour=NOON).count == 5
    assert reject(at=NOON + timedelta(hours=1)) is True
    assert reject("runflow", at=NOON) is True
    assert RejectedDelivery.objects.filter(source="stripe").count() == 4


def test_kept_body_is_truncated_and_storable_whatever_was_sent() -> None:
    hostile = b"\x00\xff" + b"a" * 5000
    reject(body=hostile)
    kept = RejectedDelivery.objects.get()
    assert kept.body_bytes == len(hostile)
    assert kept.body.startswith("\ufffd\ufffd")
    assert len(kept.body) == 2048
    assert (kept.reason, kept.message) == ("invalid_signature", "Bad signature.")


def run_in_threads(count: int, work: Any) -> None:
    barrier = threading.Barrier(count)

    def worker() -> None:
        barrier.wait()
        try:
            work()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("keep_three")
def test_parallel_rejections_are_all_counted_and_the_cap_on_kept_bodies_holds() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    run_in_threads(30, lambda: reject(at=NOON))
    assert RejectedDeliveryCount.objects.get(source="stripe", hour=NOON).count == 30
    assert RejectedDelivery.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_parallel_repeats_of_one_event_are_claimed_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    firsts: list[bool] = []

    def claim() -> None:
        with transaction.atomic():
            firsts.append(delivery_claim(source="stripe", dedupe_key="evt_race")[1])

    run_in_threads(20, claim)
    assert sorted(firsts) == [False] * 19 + [True]
    assert InboundDelivery.objects.get(dedupe_key="evt_race").replays == 19
