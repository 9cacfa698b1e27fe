"""TEMPORARY while the portal is being built in parallel; removed before the work lands."""

from django.http import HttpRequest, HttpResponse


def not_built_yet(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("Not built yet.", status=501)
