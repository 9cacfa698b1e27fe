"""Answers for what no API view handles: every path under ``/api/`` speaks the error shape.

An unknown path (a trailing-slash variant included) is the catch-all's JSON 404; Django's
own 400, 403, 404 and 500 handlers answer JSON under the prefix and elsewhere the portal's
pages (templates/403.html, 404.html, 500.html; the 500 one renders with no request or DB).
"""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from seedance.api.errors import error_body, too_large_body

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path == API_PREFIX.rstrip("/") or request.path.startswith(API_PREFIX)


def _not_found_body(request: HttpRequest) -> dict[str, Any]:
    other = request.path[:-1] if request.path.endswith("/") else f"{request.path}/"
    message = "No API endpoint at this path."
    try:
        match = resolve(other)
    except Resolver404:
        match = None
    if match is not None and match.func is not api_not_found:
        message = f"{message} Did you mean {other}?"
    return error_body("not_found", message)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The last route under ``/api/``: whatever the method, an unknown path is a JSON 404."""
    return JsonResponse(_not_found_body(request), status=404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(too_large_body(), status=413)
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(error_body("permission_denied", "Forbidden."), status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(_not_found_body(request), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)
