"""``GET /metrics``: Prometheus' text format, behind ``Authorization: Bearer $METRICS_TOKEN``.

Without a token configured it is open only with ``DEBUG`` on (the demo); otherwise it
refuses, and ``check --deploy`` warns (seedance.W011). A plain Django view: no session,
no API key, no throttle, so a scrape costs the collectors' queries and nothing else.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from seedance.api.errors import error_body
from seedance.conf import setting
from seedance.metrics.collectors import scrape_registry


def _refusal(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def _refused(request: HttpRequest) -> JsonResponse | None:
    token = str(setting("METRICS_TOKEN") or "")
    if not token:
        if settings.DEBUG:
            return None
        return _refusal(403, "metrics_disabled", "Set METRICS_TOKEN to scrape metrics.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _refusal(401, "not_authenticated", "Use 'Authorization: Bearer <metrics token>'.")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _refusal(403, "invalid_token", "Invalid metrics token.")
    return None


@csrf_exempt
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refused(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
