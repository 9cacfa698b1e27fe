"""``/health/live`` and ``/health/ready`` for load balancers and orchestrators.

Live says the process answers (no I/O). Ready says it can serve: the database answers a
trivial query and django-q2's broker its ``ping()`` (Redis with ``REDIS_URL``, else the
ORM broker's table). Runflow and Stripe are left out on purpose: their outage must not take
the API down, so they are metrics (``seedance_runflow_errors_total``,
``seedance_stripe_errors_total``), not readiness. Plain views: no auth, CSRF or throttle.
"""

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    broker = get_broker()
    if broker.ping() is False:
        raise ConnectionError("the broker's ping answered False")
    if isinstance(broker, ORM):
        broker.queue_size()  # the ORM broker's ping is a no-op: touch its table


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "broker": _broker}


@csrf_exempt
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 when every check passes; 503 naming the failed ones (the error's kind only: the
    details, which may name hosts, go to the log)."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            logger.warning("Readiness check %s failed: %s", name, error)
            results[name] = type(error).__name__
        else:
            results[name] = "ok"
    failed = [name for name, result in results.items() if result != "ok"]
    return JsonResponse(
        {"status": "unavailable" if failed else "ok", "failed": failed, "checks": results},
        status=503 if failed else 200,
    )
