"""The usage chart's axes: round ticks that cover the highest bar, and day labels that
never crowd one another."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from billing.portal.services import usd
from billing.portal.svg import MIN_LABEL_GAP_DAYS, daily_bar_chart, day_labels, round_ticks

ROUND_MANTISSAS = {Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)}


def _month(first: date, length: int) -> list[date]:
    return [first + timedelta(days=offset) for offset in range(length)]


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (Decimal("0.97"), ["0", "0.25", "0.5", "0.75", "1"]),
        (Decimal("3.3"), ["0", "1", "2", "3", "4"]),
        (Decimal("12.4"), ["0", "5", "10", "15"]),
        (Decimal("0.0242"), ["0", "0.01", "0.02", "0.03"]),
        (Decimal("100"), ["0", "25", "50", "75", "100"]),
    ],
)
def test_chart_ticks_are_round_numbers_covering_the_top_bar(
    top: Decimal, expected: list[str]
) -> None:
    ticks = round_ticks(top)

    assert ticks == [Decimal(tick) for tick in expected]
    assert ticks[-1] >= top
    step = ticks[1]
    assert step.scaleb(-step.adjusted()).normalize() in ROUND_MANTISSAS


def test_chart_ticks_for_no_usage_are_zero_and_one() -> None:
    assert round_ticks(Decimal(0)) == [Decimal(0), Decimal(1)]


@pytest.mark.parametrize("length", [28, 29, 30, 31])
def test_day_labels_never_sit_closer_than_the_gap(length: int) -> None:
    labels = day_labels(_month(date(2026, 2 if length < 30 else 1, 1), length))

    assert labels[0] == 0
    assert labels[-1] == length - 1
    assert all(b - a >= MIN_LABEL_GAP_DAYS for a, b in pairwise(labels))


def test_chart_labels_its_axis_with_the_round_ticks() -> None:
    days = _month(date(2026, 1, 1), 31)
    html = daily_bar_chart(
        chart_id="usage-chart",
        days=days,
        values={days[2]: Decimal("0.97"), days[9]: Decimal("0.12")},
        title="Amount per day",
        description="Two days",
        value_label=usd,
    )

    for label in ("$0.00", "$0.25", "$0.50", "$0.75", "$1.00"):
        assert f">{label}</text>" in html
    assert "$0.97</text>" not in html
    assert 'class="chart-label x-label"' in html
    assert ">31</text>" in html
    assert ">30</text>" not in html
