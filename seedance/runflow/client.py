"""The one outbound door to Runflow: auth, timeouts, error mapping and the retry policy.

Reads retry on anything retryable; a create retries only refusals (429, 503), because
Runflow has no idempotency key and a resent create can mean a second, billed run.
"""

import logging
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Self
from urllib.parse import quote

import httpx
from django.core.exceptions import ImproperlyConfigured

from seedance import exceptions as exc
from seedance.conf import setting
from seedance.metrics.instruments import RUNFLOW_ERRORS
from seedance.runflow import backoff
from seedance.runflow.payloads import PayloadError, ProviderRun, create_body, parse_run

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 500
LIST_MAX_PAGES = 50
LOOKUP_INCOMPLETE = "LOOKUP_INCOMPLETE"
#: Runflow's clock and ours may disagree; list from a little before the caller's instant.
CLOCK_SKEW_MARGIN = timedelta(seconds=60)

try:
    _VERSION = version("seedance-for-tenants")
except PackageNotFoundError:
    _VERSION = "0+unknown"
USER_AGENT = f"seedance-for-tenants/{_VERSION}"

_STATUS_ERRORS: dict[int, type[exc.RunflowError]] = {
    400: exc.RunflowRejected,
    422: exc.RunflowRejected,
    401: exc.RunflowAuthError,
    403: exc.RunflowAuthError,
    402: exc.RunflowOutOfCredit,
    404: exc.RunflowNotFound,
    409: exc.RunflowConflict,
    429: exc.RunflowRateLimited,
}


def _given_or_setting(value: Any, name: str) -> Any:
    return value if value is not None else setting(name)


def _retry_read(error: exc.RunflowError) -> bool:
    return error.retryable


def _never(error: exc.RunflowError) -> bool:
    return False


def _created_after(moment: datetime) -> str:
    """``created_at>`` a little before ``moment``: Runflow's clock may run behind ours."""
    if moment.tzinfo is None:
        raise ValueError("the window's ends must be timezone-aware")
    since = (moment - CLOCK_SKEW_MARGIN).astimezone(UTC).replace(microsecond=0)
    return f"created_at>{since.isoformat()}"


def _retry_create(error: exc.RunflowError) -> bool:
    """Only a refusal before creation is safe to resend; anything else may have made a run."""
    return error.retryable and not error.outcome_unknown


class RunflowClient:
    """Runflow's HTTP API over one httpx.Client; settings are read when it is built."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base_url = _given_or_setting(base_url, "RUNFLOW_BASE_URL")
        api_key = _given_or_setting(api_key, "RUNFLOW_API_KEY")
        if not base_url:
            raise ImproperlyConfigured("SEEDANCE['RUNFLOW_BASE_URL'] is empty")
        if not api_key:
            raise ImproperlyConfigured("SEEDANCE['RUNFLOW_API_KEY'] is empty")
        self._api_key = str(api_key)
        self._max_attempts = max(1, int(_given_or_setting(max_attempts, "RUNFLOW_MAX_ATTEMPTS")))
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(float(_given_or_setting(timeout, "RUNFLOW_TIMEOUT"))),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"<RunflowClient {self._http.base_url}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create_run(
        self,
        *,
        run_input: dict[str, Any],
        client_ref: str,
        callback_url: str | None,
        model_id: str | None = None,
        before_attempt: Callable[[], None] | None = None,
    ) -> ProviderRun:
        """Submit once; on an unknown outcome the caller looks the run up by ``client_ref``.
        ``before_attempt`` runs before each attempt is sent; what it raises stops the create."""
        model = model_id or setting("RUNFLOW_MODEL_ID")
        body = create_body(run_input=run_input, client_ref=client_ref, callback_url=callback_url)
        data = self._request(
            "POST",
            f"models/{quote(model, safe='/')}/runs",
            json=body,
            retry=_retry_create,
            before_attempt=before_attempt,
        )
        return self._parse(data, outcome_unknown=True)

    def get_run(self, provider_run_id: str) -> ProviderRun:
        data = self._request("GET", f"runs/{quote(provider_run_id, safe='')}", retry=_retry_read)
        return self._parse(data, outcome_unknown=False)

    def balance(self) -> dict[str, Any]:
        """Our credit at Runflow: the cheapest authenticated read (``runs_doctor`` asks it)."""
        data = self._request("GET", "billing/balance", retry=_retry_read)
        if not isinstance(data, dict):
            raise self._bad_response("balance is not an object", outcome_unknown=False)
        return data

    def find_by_client_ref(
        self, client_ref: str, *, created_after: datetime, created_before: datetime | None = None
    ) -> ProviderRun | None:
        """Walk the runs created in a window: Runflow documents no client_ref filter.

        Bound the window on both sides: an open end grows with traffic until the walk
        can never finish.
        """
        if created_before is not None and created_before.tzinfo is None:
            raise ValueError("the window's ends must be timezone-aware")
        query = _created_after(created_after)
        if created_before is not None:
            until = (created_before + CLOCK_SKEW_MARGIN).astimezone(UTC).replace(microsecond=0)
            query += f" AND created_at<{until.isoformat()}"
        matches: list[ProviderRun] = []
        try:
            for run in self._walk(query, what=f"client_ref {client_ref}", retry=_retry_read):
                if run.client_ref == client_ref:
                    matches.append(run)
        except exc.RunflowError as error:
            if error.code != LOOKUP_INCOMPLETE or not matches:
                raise  # a walk cut short may pass over our run: "none" would be a guess
        if not matches:
            return None
        matches.sort(key=lambda run: run.created_at.timestamp() if run.created_at else math.inf)
        if len(matches) > 1:
            logger.warning(
                "Runflow has %d runs with client_ref %s (%s); using the earliest",
                len(matches),
                client_ref,
                ", ".join(run.id for run in matches),
            )
        return matches[0]

    def list_by_status(self, status_code: str, *, created_after: datetime) -> list[ProviderRun]:
        """Every run in ``status_code`` (Runflow's word) created since ``created_after``,
        asked once: a sweep repeats within seconds, so a refusal is not retried here."""
        query = f"status_code:{status_code} AND {_created_after(created_after)}"
        return list(self._walk(query, what=f"status {status_code}", retry=_never))

    def _walk(
        self, query: str, *, what: str, retry: Callable[[exc.RunflowError], bool]
    ) -> Iterator[ProviderRun]:
        """The runs ``q=query`` lists, page by page, up to ``LIST_MAX_PAGES``; a walk cut
        short raises ``LOOKUP_INCOMPLETE`` (outcome unknown) rather than pass for complete."""
        params: dict[str, Any] = {"q": query, "limit": LIST_PAGE_SIZE}
        for _ in range(LIST_MAX_PAGES):
            page = self._request("GET", "runs", params=params, retry=retry)
            items = page.get("items") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise self._bad_response("run list without items", outcome_unknown=False)
            for item in items:
                if isinstance(item, dict):
                    yield self._parse(item, outcome_unknown=False)
            cursor = page.get("next_pq")
            if not cursor:
                return
            params = {**params, "pq": cursor}
        logger.error(
            "Runflow run list for %s still had pages after %d; lookup incomplete",
            what,
            LIST_MAX_PAGES,
        )
        error = exc.RunflowError(
            f"run list longer than {LIST_MAX_PAGES} pages", code=LOOKUP_INCOMPLETE
        )
        error.outcome_unknown = True
        raise error

    def _request(
        self,
        method: str,
        path: str,
        *,
        retry: Callable[[exc.RunflowError], bool],
        json: Any = None,
        params: dict[str, Any] | None = None,
        before_attempt: Callable[[], None] | None = None,
    ) -> Any:
        """Send with backoff while ``retry`` allows it; return the decoded 2xx body."""
        attempt = 1
        while True:
            if before_attempt is not None:
                before_attempt()
            try:
                return self._send_once(method, path, json=json, params=params)
            except exc.RunflowError as error:
                if attempt >= self._max_attempts or not retry(error):
                    raise
                if (error.retry_after or 0) > backoff.MAX_RETRY_AFTER_SECONDS:
                    raise  # a long pause belongs to the reconciler, not a held worker
                delay = backoff.delay_for(attempt, error.retry_after)
                logger.warning(
                    "Runflow %s %s failed (%s); try %d in %.2fs",
                    method,
                    path,
                    error,
                    attempt + 1,
                    delay,
                )
                self._sleep(delay)
                attempt += 1

    def _send_once(
        self, method: str, path: str, *, json: Any, params: dict[str, Any] | None
    ) -> Any:
        """One HTTP exchange, logged with Runflow's request id; each failure counted."""
        operation = _operation(method, path)
        started = time.monotonic()
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.RequestError as cause:
            message = self._scrub(f"{type(cause).__name__}: {cause}")
            RUNFLOW_ERRORS.labels(operation=operation, reason="network").inc()
            _log_call(method, path, started, status=None, request_id=None, error=message)
            raise exc.RunflowTransportError(message) from cause
        request_id = _request_id(response)
        _log_call(method, path, started, status=response.status_code, request_id=request_id)
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                RUNFLOW_ERRORS.labels(operation=operation, reason="bad_response").inc()
                raise self._bad_response(
                    "2xx answer is not JSON", outcome_unknown=method != "GET"
                ) from None
        RUNFLOW_ERRORS.labels(operation=operation, reason=str(response.status_code)).inc()
        raise self._error_for(response)

    def _parse(self, data: Any, *, outcome_unknown: bool) -> ProviderRun:
        try:
            return parse_run(data)
        except PayloadError as cause:
            raise self._bad_response(str(cause), outcome_unknown=outcome_unknown) from cause

    def _bad_response(self, message: str, *, outcome_unknown: bool) -> exc.RunflowError:
        error = exc.RunflowError(f"unexpected Runflow answer: {message}", code="BAD_RESPONSE")
        error.outcome_unknown = outcome_unknown
        return error

    def _error_for(self, response: httpx.Response) -> exc.RunflowError:
        """Map a non-2xx answer to the RunflowError tree, from flat, nested or non-JSON bodies."""
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        raw_nested = body.get("error")
        nested: dict[str, Any] = raw_nested if isinstance(raw_nested, dict) else {}
        code = nested.get("code") or body.get("code")
        message = nested.get("message") or body.get("message")
        errors = nested.get("errors") or body.get("errors")
        status = response.status_code
        cls = _STATUS_ERRORS.get(status) or (
            exc.RunflowUnavailable if status >= 500 else exc.RunflowError
        )
        return cls(
            self._scrub(str(message) if message else f"HTTP {status} {response.reason_phrase}"),
            status_code=status,
            code=str(code) if code else None,
            request_id=_request_id(response) or nested.get("request_id") or body.get("request_id"),
            errors=errors if isinstance(errors, list) else None,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "[secure]")


def _operation(method: str, path: str) -> str:
    """The metric label of a call: create, get (one run), list or balance."""
    if method == "POST":
        return "create"
    if path == "billing/balance":
        return "balance"
    return "list" if path == "runs" else "get"


def _request_id(response: httpx.Response) -> str | None:
    return response.headers.get("Runflow-Request-Id") or response.headers.get("X-Request-Id")


def _log_call(
    method: str,
    path: str,
    started: float,
    *,
    status: int | None,
    request_id: str | None,
    error: str = "",
) -> None:
    """One line per Runflow exchange: what Runflow's support asks for is its request id."""
    logger.info(
        "Runflow %s %s answered %s in %.0f ms",
        method,
        path,
        status if status is not None else error,
        (time.monotonic() - started) * 1000,
        extra={"runflow_request_id": request_id, "runflow_status": status},
    )


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now, given either delta-seconds or an HTTP-date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def runflow_client() -> RunflowClient:
    """The client as configured in settings; the one place that builds it."""
    return RunflowClient()
