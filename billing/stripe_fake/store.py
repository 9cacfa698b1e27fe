"""The fake account's state: objects by id, accepted meter events, saved idempotent answers.

One re-entrant lock guards it all; the API holds it for a whole request, so every endpoint
sees and leaves a consistent account, as Stripe's would look to one caller. Every table is
plain JSON (values as strings), so ``state.py`` can save and load it as it is.
"""

import re
import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from .forms import integer, invalid, no_such, text

ALPHABET = string.ascii_letters + string.digits
DAY = 86_400
HOUR = 3_600
MAX_LIMIT = 100
TABLES = (
    "customers",
    "products",
    "meters",
    "prices",
    "subscriptions",
    "removed_items",
    "invoices",
    "billed_until",
    "thin_events",
    "destinations",
    "webhook_endpoints",
    "v1_events",
    "checkout_sessions",
    "setup_intents",
    "payment_methods",
    "portal_configurations",
    "portal_sessions",
)
LISTS = ("events", "pending_errors", "deliveries")


@dataclass
class Config:
    """Timing of Stripe's asynchronous work; tests set 0 where Stripe would make them wait.

    ``summary_lag_seconds``: how long after receipt a meter event shows in summaries and
    previews. ``report_delay_seconds``: how long invalid events wait before their error
    report. ``retry_seconds``: the first back-off of a failed delivery (doubling after).
    ``grace_seconds``: how long after a period ends late events still count on its invoice.
    """

    summary_lag_seconds: float = 60.0
    report_delay_seconds: float = 1.5
    retry_seconds: float = 5.0
    max_attempts: int = 8
    grace_seconds: float = HOUR
    sample_errors: int = 20

    def configure(self, **settings: Any) -> None:
        """Change the named settings; each must be a number, zero or more."""
        names = {spec.name for spec in fields(self)}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise ValueError(f"unknown settings {unknown} (known: {', '.join(sorted(names))})")
        for name, value in settings.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name}: must be a number, zero or more")
            setattr(self, name, type(getattr(self, name))(value))

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Route:
    """One endpoint: ``endpoint(store, params, *path_ids)`` answers its JSON body."""

    method: str
    pattern: re.Pattern[str]
    endpoint: Callable[..., dict[str, Any]]
    schema: type | None


def route(
    method: str, path: str, endpoint: Callable[..., dict[str, Any]], schema: type | None = None
) -> Route:
    """``path`` with ``{name}`` segments; ``schema`` is the SDK's param type for that call."""
    pattern = re.compile("^" + re.sub(r"\{\w+\}", "([^/]+)", path) + "$")
    return Route(method, pattern, endpoint, schema)


def new_id(prefix: str, length: int = 14) -> str:
    """An id shaped like Stripe's (``cus_`` and 14 base62 characters)."""
    return f"{prefix}_{''.join(secrets.choice(ALPHABET) for _ in range(length))}"


@dataclass(frozen=True)
class Saved:
    """A successful POST answer, as JSON text, kept under its Idempotency-Key for replay."""

    fingerprint: str
    status: int
    body: str
    created: float
    request_id: str


class Store:
    customers: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]
    meters: dict[str, dict[str, Any]]
    prices: dict[str, dict[str, Any]]
    subscriptions: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    identifiers: dict[str, dict[str, Any]]
    idempotency: dict[tuple[str, str], Saved]
    requests: list[dict[str, Any]]
    removed_items: dict[str, list[dict[str, Any]]]
    invoices: dict[str, dict[str, Any]]
    billed_until: dict[str, int]
    thin_events: dict[str, dict[str, Any]]
    destinations: dict[str, dict[str, Any]]
    pending_errors: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    webhook_endpoints: dict[str, dict[str, Any]]
    v1_events: dict[str, dict[str, Any]]
    checkout_sessions: dict[str, dict[str, Any]]
    setup_intents: dict[str, dict[str, Any]]
    payment_methods: dict[str, dict[str, Any]]
    portal_configurations: dict[str, dict[str, Any]]
    portal_sessions: dict[str, dict[str, Any]]

    def __init__(
        self, now: Callable[[], float], config: Config | None = None, base_url: str = ""
    ) -> None:
        self.now = now
        #: Where the fake serves its hosted pages (Checkout, the Billing Portal).
        self.base_url = base_url
        self.lock = threading.RLock()
        self.config = config or Config()
        self.context: dict[str, Any] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.customers = {}
            self.products = {}
            self.meters = {}
            self.prices = {}
            self.subscriptions = {}
            self.events = []
            self.identifiers = {}
            self.idempotency = {}
            self.requests = []
            self.removed_items = {}
            self.invoices = {}
            self.billed_until = {}
            self.thin_events = {}
            self.destinations = {}
            self.pending_errors = []
            self.deliveries = []
            self.webhook_endpoints = {}
            self.v1_events = {}
            self.checkout_sessions = {}
            self.setup_intents = {}
            self.payment_methods = {}
            self.portal_configurations = {}
            self.portal_sessions = {}

    def timestamp(self) -> int:
        return int(self.now())

    def iso(self, moment: float | None = None) -> str:
        """v2's timestamps: RFC 3339 strings in UTC."""
        value = self.now() if moment is None else moment
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"

    def record(self, event: dict[str, Any]) -> None:
        """Keep an accepted meter event; its identifier is now taken for 24 hours."""
        self.events.append(event)
        self.identifiers[event["identifier"]] = event

    def identifier_taken(self, identifier: str) -> dict[str, Any] | None:
        event = self.identifiers.get(identifier)
        if event is None or self.now() - event["created"] >= DAY:
            return None
        return event

    def active_meter(self, event_name: str) -> dict[str, Any] | None:
        for meter in self.meters.values():
            if meter["event_name"] == event_name and meter["status"] == "active":
                return meter
        return None

    def log(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)


def found(
    table: Mapping[str, dict[str, Any]],
    object_id: str,
    kind: str,
    *,
    param: str = "id",
    status: int = 404,
) -> dict[str, Any]:
    obj = table.get(object_id)
    if obj is None:
        raise no_such(kind, object_id, param=param, status=status)
    return obj


def limit_of(query: Mapping[str, Any]) -> int:
    raw = query.get("limit")
    limit = integer(raw, "limit") if raw not in (None, "") else 10
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("Invalid limit: must be between 1 and 100.", param="limit")
    return limit


def page(
    objects: list[dict[str, Any]], query: Mapping[str, Any], url: str, kind: str
) -> dict[str, Any]:
    """A Stripe list: newest first, ``limit`` (1-100, default 10) and id cursors."""
    limit = limit_of(query)
    newest = objects[::-1]
    after, before = text(query, "starting_after"), text(query, "ending_before")
    ids = [obj["id"] for obj in newest]
    if after is not None:
        if after not in ids:
            raise no_such(kind, after, param="starting_after")
        window = newest[ids.index(after) + 1 :]
        data = window[:limit]
    elif before is not None:
        if before not in ids:
            raise no_such(kind, before, param="ending_before")
        window = newest[: ids.index(before)]
        data = window[-limit:]
    else:
        window = newest
        data = window[:limit]
    return {"object": "list", "data": data, "has_more": len(window) > limit, "url": url}
