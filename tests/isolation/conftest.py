"""Tenant A, whose objects are aimed at, and tenant B, who aims at them.

Both are built once per test module, inside a transaction rolled back when the module
ends; each test runs in a savepoint inside it (pytest-django's ``db``), so a test's writes,
and a write that got through to A, are undone before the next test snapshots A.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test.utils import override_settings

from tests.conftest import TEST_PASSWORD_HASHERS, seedance_test_settings
from tests.isolation.world import TenantWorld, build

#: The worlds' endpoints may be sent to (a test event, a redelivery): none listens.
LOOPBACK = {"OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9"]}


@pytest.fixture(scope="module")
def _media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("isolation-media")


@pytest.fixture(scope="module")
def _worlds(
    django_db_setup: None, django_db_blocker: Any, _media: Path
) -> Iterator[tuple[TenantWorld, TenantWorld]]:
    seedance = {**seedance_test_settings(django_settings.SEEDANCE), **LOOPBACK}
    with (
        django_db_blocker.unblock(),
        override_settings(
            SEEDANCE=seedance, MEDIA_ROOT=str(_media), PASSWORD_HASHERS=TEST_PASSWORD_HASHERS
        ),
        transaction.atomic(),
    ):
        yield build("aardvark"), build("bumblebee")
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _world_settings(settings: Any, _media: Path) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, **LOOPBACK}
    settings.MEDIA_ROOT = str(_media)


@pytest.fixture
def a(db: None, _worlds: tuple[TenantWorld, TenantWorld]) -> TenantWorld:
    return _worlds[0]


@pytest.fixture
def b(db: None, _worlds: tuple[TenantWorld, TenantWorld]) -> TenantWorld:
    return _worlds[1]
