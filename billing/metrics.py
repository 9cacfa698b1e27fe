"""billing's metrics: Stripe's errors (recorded as they happen, in every process) and the
ledger's backlogs (computed at scrape time), registered into seedance's ``/metrics``
through ``seedance.metrics.collectors.register_collector``."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from billing.models import BillingDifference, UsageRecord

STRIPE_ERRORS = Counter(
    "seedance_stripe_errors",
    "Stripe API calls that failed: reason is the HTTP status or 'network'.",
    ["reason"],
)

#: Ledger rows not (yet) accepted by Stripe, and not voided: what is still to be billed.
BACKLOG_STATES = (
    UsageRecord.PushState.PENDING,
    UsageRecord.PushState.AWAITING_DELIVERY,
    UsageRecord.PushState.WAITING,
    UsageRecord.PushState.HELD,
    UsageRecord.PushState.REFUSED,
    UsageRecord.PushState.NEEDS_ATTENTION,
)


class UsagePushBacklog:
    name = "usage_push_backlog"

    def collect(self) -> Iterable[Metric]:
        counts = dict(
            UsageRecord.objects.order_by()
            .filter(push_state__in=BACKLOG_STATES)
            .values_list("push_state")
            .annotate(n=Count("pk"))
            .values_list("push_state", "n")
        )
        gauge = GaugeMetricFamily(
            "seedance_usage_push_backlog",
            "Ledger rows not yet accepted by Stripe, by push state.",
            labels=["state"],
        )
        for state in BACKLOG_STATES:
            gauge.add_metric([state.value], counts.get(state.value, 0))
        yield gauge


class OpenBillingDifferences:
    name = "billing_differences"

    def collect(self) -> Iterable[Metric]:
        counts = dict(
            BillingDifference.objects.order_by()
            .filter(state=BillingDifference.State.OPEN)
            .values_list("kind")
            .annotate(n=Count("pk"))
            .values_list("kind", "n")
        )
        gauge = GaugeMetricFamily(
            "seedance_billing_differences_open",
            "Reconciliation differences between Stripe and the ledger a person must act on.",
            labels=["kind"],
        )
        for kind in BillingDifference.Kind.values:
            gauge.add_metric([kind], counts.get(kind, 0))
        yield gauge


def register_collectors() -> None:
    from seedance.metrics.collectors import register_collector

    register_collector(UsagePushBacklog())
    register_collector(OpenBillingDifferences())
