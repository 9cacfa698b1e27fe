"""System checks refuse configurations that would fail later, silently."""

from decimal import Decimal
from typing import Any

import pytest

from billing.checks import check_prices
from seedance.checks import check_q_cluster, check_runflow, check_task_paths


def ids(errors: list[Any]) -> list[str]:
    return [error.id for error in errors]


def test_shipped_configuration_passes_every_check() -> None:
    assert check_runflow(None) == []
    assert check_task_paths(None) == []
    assert check_q_cluster(None) == []
    assert check_prices(None) == []


@pytest.mark.parametrize(("timeout", "retry"), [(60, 60), (120, 60)])
def test_q_cluster_timeout_not_below_retry_is_refused(
    settings: Any, timeout: int, retry: int
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": timeout, "retry": retry}
    assert ids(check_q_cluster(None)) == ["seedance.E006"]


def test_q_cluster_timeout_below_retry_passes(settings: Any) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 59, "retry": 60}
    assert check_q_cluster(None) == []


def test_resolution_without_a_price_is_refused(settings: Any) -> None:
    settings.BILLING = {**settings.BILLING, "PRICES_PER_SECOND": {"720p": Decimal("0.2419")}}
    errors = check_prices(None)
    assert ids(errors) == ["billing.E001"]
    assert "480p" in errors[0].msg


def test_float_price_is_refused(settings: Any) -> None:
    prices = {"720p": Decimal("0.2419"), "480p": 0.108}
    settings.BILLING = {**settings.BILLING, "PRICES_PER_SECOND": prices}
    assert ids(check_prices(None)) == ["billing.E002"]


def test_missing_callback_secret_is_refused(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "CALLBACK_SECRETS": []}
    assert "seedance.E003" in ids(check_runflow(None))


def test_admission_hook_that_does_not_resolve_is_refused(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "ADMISSION_HOOKS": ["billing.nowhere.hook"]}
    assert ids(check_task_paths(None)) == ["seedance.E005"]
