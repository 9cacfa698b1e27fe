"""Meter event summaries: Stripe's alignment rules, exact sums, and an eventual view."""

import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import EVENT, Account, Clock, send

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

HOUR = 3_600


def day_start(clock: Clock) -> int:
    return int(clock.now) // 86_400 * 86_400


def summaries(client: stripe.StripeClient, account: Account, start: int, end: int, **more: str):  # type: ignore[no-untyped-def]
    params = {"customer": account.customer, "start_time": start, "end_time": end, **more}
    return client.v1.billing.meters.event_summaries.list(account.meter, params=params)  # type: ignore[arg-type]


def test_summary_sums_decimal_values_exactly_by_their_timestamp(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    start = day_start(clock)
    clock.now = start + 2 * HOUR
    for n, value in enumerate(["0.1", "0.2", "1.5"]):
        send(client, account, identifier=f"e{n}", value=value, timestamp=start + HOUR + n)
    send(client, account, identifier="outside", value="9", timestamp=start - 1)

    [summary] = summaries(client, account, start, start + 2 * HOUR).data
    assert summary.aggregated_value == 1.8
    assert (summary.start_time, summary.end_time) == (start, start + 2 * HOUR)


def test_hourly_grouping_gives_one_summary_per_hour(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    start = day_start(clock)
    clock.now = start + 3 * HOUR
    send(client, account, identifier="a", value="2", timestamp=start + 10)
    send(client, account, identifier="b", value="3", timestamp=start + 2 * HOUR + 10)

    found = summaries(client, account, start, start + 3 * HOUR, value_grouping_window="hour")
    assert sorted((s.start_time - start, s.aggregated_value) for s in found.data) == [
        (0, 2.0),
        (HOUR, 0.0),
        (2 * HOUR, 3.0),
    ]


@pytest.mark.parametrize(("offset", "window"), [(30, None), (60, "hour"), (HOUR, "day")])
def test_times_must_align_with_the_grouping_window(
    client: stripe.StripeClient, account: Account, clock: Clock, offset: int, window: str | None
) -> None:
    start = day_start(clock) + offset
    more = {"value_grouping_window": window} if window else {}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        summaries(client, account, start, start + 86_400 * 2, **more)
    assert exc.value.param == "start_time"


def test_canceled_and_invalid_events_are_not_summed(
    client: stripe.StripeClient, account: Account, clock: Clock
) -> None:
    start = day_start(clock)
    clock.now = start + HOUR
    send(client, account, identifier="kept", value="4", timestamp=start + 5)
    send(client, account, identifier="canceled", value="5", timestamp=start + 5)
    send(client, account, identifier="bad", value="x", timestamp=start + 5)
    client.v1.billing.meter_event_adjustments.create(
        params={"event_name": EVENT, "type": "cancel", "cancel": {"identifier": "canceled"}}
    )

    [summary] = summaries(client, account, start, start + HOUR).data
    assert summary.aggregated_value == 4.0


def test_event_shows_in_summaries_only_after_the_lag(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    fake.config.configure(summary_lag_seconds=60)
    start = day_start(clock)
    clock.now = start + HOUR
    send(client, account, value="7", timestamp=start + 5)

    assert summaries(client, account, start, start + HOUR).data[0].aggregated_value == 0.0
    clock.now += 60
    assert summaries(client, account, start, start + HOUR).data[0].aggregated_value == 7.0
