"""Billing periods are UTC calendar months, at Stripe as here: subscriptions are anchored
on the 1st 00:00 UTC, so Stripe's period is the month that caps and usage already use.

Stripe still takes an event for a period during a grace hour after it ends; later, the
event must be timestamped in the next period or it bills nobody.
"""

from datetime import UTC, date, datetime, timedelta

from billing.conf import setting


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(moment: datetime) -> datetime:
    start = month_start(moment)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def period_of(moment: datetime) -> date:
    """The period holding ``moment``, as its first day."""
    return month_start(moment).date()


def still_billable(moment: datetime, *, now: datetime) -> bool:
    """Stripe will still bill an event at ``moment`` sent ``now``: its period is open, or
    ended within the grace hour (less a margin for the send itself)."""
    grace = timedelta(
        seconds=int(setting("PERIOD_GRACE_SECONDS")) - int(setting("PERIOD_GRACE_MARGIN_SECONDS"))
    )
    return moment <= now and now < next_month_start(moment) + grace


def event_timestamp_for(moment: datetime, *, now: datetime, not_before: datetime) -> datetime:
    """When an event first sent ``now`` says it happened: ``moment`` (the run's completion)
    while Stripe still bills its period, else ``now``; never before ``not_before`` (when
    the price's subscription item was added: Stripe bills an item's usage from then)."""
    chosen = moment if still_billable(moment, now=now) else now
    return max(chosen, not_before)
