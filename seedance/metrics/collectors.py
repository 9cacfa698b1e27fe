"""What the database and the broker say at scrape time, and the registry a scrape reads.

Counts computed here add up across processes for free: every web worker answers the same
number. Other apps add theirs with ``register_collector`` (billing does, in its
``ready()``): seedance never imports them.
"""

import logging
import os
from collections.abc import Iterable, Iterator
from typing import Protocol

from django.db.models import Count
from django_q.brokers import get_broker
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from seedance.models import Run, WebhookDelivery, WebhookEndpoint
from seedance.states import RunStatus

logger = logging.getLogger(__name__)


class Collector(Protocol):
    """prometheus-client's custom collector: a name for its up/down gauge, and metrics."""

    name: str

    def collect(self) -> Iterable[Metric]: ...


_COLLECTORS: dict[str, Collector] = {}


def register_collector(collector: Collector) -> None:
    """Add a scrape-time collector (idempotent by name: ``ready()`` may run twice)."""
    _COLLECTORS[collector.name] = collector


class RunsByStatus:
    name = "runs"

    def collect(self) -> Iterable[Metric]:
        counts = dict(
            Run.objects.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        gauge = GaugeMetricFamily(
            "seedance_runs", "Runs in the database, by status.", labels=["status"]
        )
        for status in RunStatus.values:
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge


class QueueDepth:
    name = "queue"

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "seedance_queue_depth",
            "Tasks waiting in django-q2's broker (not yet taken by a worker).",
            value=get_broker().queue_size() or 0,
        )


class WebhookFailures:
    """Tenant webhooks in trouble: deliveries retrying after a failed attempt or given up,
    and endpoints disabled (410 or a failure streak)."""

    name = "webhooks"

    def collect(self) -> Iterable[Metric]:
        deliveries = WebhookDelivery.objects.order_by()
        retrying = deliveries.filter(state=WebhookDelivery.State.PENDING, attempts__gt=0)
        gauge = GaugeMetricFamily(
            "seedance_webhook_deliveries_failing",
            "Tenant webhook deliveries whose last attempt failed: retrying, or failed (given up).",
            labels=["state"],
        )
        gauge.add_metric(["retrying"], retrying.count())
        gauge.add_metric(["failed"], deliveries.filter(state=WebhookDelivery.State.FAILED).count())
        yield gauge
        yield GaugeMetricFamily(
            "seedance_webhook_endpoints_disabled",
            "Tenant webhook endpoints disabled by a 410 or a failure streak.",
            value=WebhookEndpoint.objects.filter(enabled=False).count(),
        )


class _Guarded:
    """One collector's failure (a table missing, the broker down) costs its own metrics,
    not the scrape: ``seedance_metrics_collector_up`` says which one failed."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "seedance_metrics_collector_up",
            "1 when a scrape-time collector answered, 0 when it failed (see the log).",
            labels=["collector"],
        )
        for collector in self.collectors:
            try:
                metrics = list(collector.collect())
            except Exception:
                logger.exception("Metrics collector %s failed", collector.name)
                up.add_metric([collector.name], 0)
                continue
            up.add_metric([collector.name], 1)
            yield from metrics
        yield up


class _ThisProcess:
    """The default registry's metrics, for a single process (no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: every process's recorded values, then the database's."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_Guarded(_COLLECTORS.values()))
    return registry


register_collector(RunsByStatus())
register_collector(QueueDepth())
register_collector(WebhookFailures())
