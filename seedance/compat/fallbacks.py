"""Whatever the method, a path under ``/v1/`` no view serves is Runflow's JSON 404."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from seedance.compat.errors import runflow_error_body


@csrf_exempt
def runflow_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return JsonResponse(runflow_error_body("NOT_FOUND", "No endpoint at this path."), status=404)
