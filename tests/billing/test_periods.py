"""Periods are UTC months; an event is dated inside a period Stripe still bills."""

from datetime import UTC, datetime, timedelta

from billing.periods import event_timestamp_for, month_start, next_month_start, still_billable

END = datetime(2027, 2, 1, tzinfo=UTC)
LAST_SECONDS = END - timedelta(seconds=30)


def test_months_are_utc_calendar_months_across_a_year_end() -> None:
    moment = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert month_start(moment) == datetime(2026, 12, 1, tzinfo=UTC)
    assert next_month_start(moment) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_late_event_keeps_its_time_within_the_grace_hour_less_a_margin() -> None:
    sent = END + timedelta(minutes=5)
    assert still_billable(LAST_SECONDS, now=sent)
    assert event_timestamp_for(LAST_SECONDS, now=sent, not_before=LAST_SECONDS) == LAST_SECONDS


def test_after_the_grace_hour_an_event_is_dated_into_the_open_period() -> None:
    sent = END + timedelta(minutes=55)  # the grace hour, less the 10-minute margin, is over
    assert not still_billable(LAST_SECONDS, now=sent)
    assert event_timestamp_for(LAST_SECONDS, now=sent, not_before=LAST_SECONDS) == sent


def test_an_event_is_never_dated_before_its_prices_item_existed() -> None:
    added = LAST_SECONDS + timedelta(seconds=10)
    assert event_timestamp_for(LAST_SECONDS, now=END, not_before=added) == added
