"""What every log line of a request or a task says it belongs to: a request id, the
tenant, the run. Bound in ``structlog.contextvars`` (per thread and per task), merged
into each line by ``config.logs``, so a run's lines are found by its id across the web
tier and the workers.
"""

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
#: An incoming id is kept only when it is short and plain: it is echoed and logged.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
#: URL keywords that name a run (the API's, the callbacks').
_RUN_KWARGS = ("run_id",)
#: Probes and scrapes, every few seconds from every replica: no request line for them.
_QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})

request_logger = logging.getLogger("seedance.request")


def request_id_for(request: HttpRequest) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def bind_tenant(tenant: Any) -> None:
    """Once a request is known to act for a tenant (its API key, the portal's choice)."""
    structlog.contextvars.bind_contextvars(tenant=tenant.slug, tenant_id=tenant.pk)


def bind_run(run_id: Any) -> None:
    structlog.contextvars.bind_contextvars(run_id=str(run_id))


def bound_to_run[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Bind the run named by the first argument for the call (a task, a service a task or
    the reconciler calls), and put back what was bound before."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        run_id = args[0] if args else kwargs.get("run_id")
        with structlog.contextvars.bound_contextvars(run_id=str(run_id)):
            return func(*args, **kwargs)

    return wrapper


class RequestContextMiddleware:
    """First in the stack: a request id (the caller's ``X-Request-ID`` when sane, else a
    new one), echoed on the response; the run a URL names; one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        structlog.contextvars.clear_contextvars()
        request_id = request_id_for(request)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if request.path in _QUIET_PATHS:
                return response
            request_logger.info(
                "request finished",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]
    ) -> None:
        for name in _RUN_KWARGS:
            if kwargs.get(name):
                bind_run(kwargs[name])
