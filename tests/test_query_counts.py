"""How many SQL queries each API endpoint and portal page makes, pinned in one table.

Every page is requested twice over: in a tenant with one row of everything and in one with
a full page (``FULL_PAGE`` runs with outputs, held and rejected ones, ledger rows and
charges, webhook endpoints with deliveries and their attempts, keys, members,
invitations, end-user caps, audit entries). Both must make exactly the table's number:
a page whose queries grow with its rows (an N+1) or a new query anywhere shows as a diff
of ``EXPECTED_QUERIES``.

The cache is process memory here: which cache a deployment runs (Redis, or the database
cache where there is no Redis) is not the code's query count, and would make SQLite's and
PostgreSQL's counts differ. So would an Idempotency-Key on the create: PostgreSQL takes
an advisory lock for it (seedance.services.runs), so the table's create sends none. An API key
is read from that cache once warm (seedance.services.key_cache), so the API's counts have
no key SELECT.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import EndUserLimit, TenantBilling
from seedance.compat.callback_secrets import callback_secret_create
from seedance.models import (
    CallbackSecret,
    Membership,
    Run,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from seedance.moderation import run_reject
from seedance.services.keys import api_key_issue
from seedance.services.members import invitation_create
from seedance.states import RunStatus
from seedance.webhooks.encryption import secret_encrypt
from seedance.webhooks.endpoints import webhook_endpoint_send_test
from seedance.webhooks.events import EVENT_TYPES
from seedance.webhooks.signing import new_secret
from tests.billing.factories import billable_run
from tests.factories import SYSTEM, make_person, make_run
from tests.urlwalk import TENANT_NAMESPACES, url_names

#: A webhook receiver the outbound rules allow (none listens: no test here delivers).
RECEIVER = "http://127.0.0.1:9/hooks"
#: More rows than any list shows by default, and what the API lists are asked for.
FULL_PAGE = 25

DURATIONS = ("5", "6", "8", "10")
RESOLUTIONS = ("480p", "720p")
#: In-progress runs on the full page, of four kinds: each kind's progress bars have an estimate.
MOVING_KINDS = 8

#: Pattern name (with what the request is) -> the SQL queries it makes, with one row or
#: a full page of rows alike.
EXPECTED_QUERIES: dict[str, int] = {
    "api:runs GET": 5,
    "api:run-detail GET": 5,
    "api:webhook-endpoints GET": 2,
    "api:webhook-endpoint-detail GET": 2,
    "api:webhook-endpoint-deliveries GET": 4,
    "api:webhook-event-types GET": 1,
    "billing_api:usage GET by day": 2,
    "billing_api:usage GET by end user": 2,
    "billing_api:limits GET": 4,
    "billing_api:price-estimate GET": 2,
    "portal:run-list": 10,
    "portal:run-rows": 9,
    "portal:run-detail": 8,
    "portal:run-status": 6,
    "portal:run-create": 4,
    "portal:run-code": 3,
    "portal:switch-tenant": 7,
    "portal:tenant-create": 4,
    "portal:share-links": 7,
    "portal:manage": 7,
    "portal:keys": 5,
    "portal:members": 6,
    "portal:tenant-settings": 4,
    "portal:audit-log": 6,
    "portal:webhooks": 5,
    "portal:webhook-endpoint": 8,
    "billing_portal:usage": 13,
    "billing_portal:usage-csv": 4,
    "billing_portal:estimate": 4,
    "billing_portal:invoice-preview": 5,
    "billing_portal:run-cost": 6,
    "billing_portal:caps": 6,
    "billing_portal:billing": 5,
    "api:run-cancel POST": 6,
    "api:runs POST": 9,
    "api:webhook-endpoints POST": 5,
    "api:webhook-endpoint-detail PATCH": 5,
    "api:webhook-endpoint-rotate-secret POST": 8,
    "api:webhook-endpoint-test POST": 5,
    "api:webhook-delivery-redeliver POST": 8,
    "runflow_compat:runs GET": 5,
    "runflow_compat:run-detail GET": 5,
    "runflow_compat:callback-secrets GET": 2,
    "runflow_compat:model-runs POST": 9,
    "runflow_compat:callback-secrets POST": 6,
    "runflow_compat:callback-secret-detail DELETE": 5,
}


@dataclass
class World:
    """One tenant's rows, an admin signed in to the portal and an API client with its key."""

    tenant: Tenant
    portal: Client
    api: APIClient
    run: Run
    moving: list[Run]
    endpoint: WebhookEndpoint


def populate(rows: int) -> World:
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    TenantBilling.objects.filter(pk=tenant.pk).update(
        payment_method_id="pm_test_acme", payment_method_brand="visa", payment_method_last4="4242"
    )
    admin = make_person("ada", "ada@example.com", "pw")
    Membership.objects.create(
        user=admin, tenant=tenant, role=Membership.Role.ADMIN, last_used_at=timezone.now()
    )
    secret = api_key_issue(tenant=tenant, name="key 0", actor=SYSTEM).secret
    endpoint = _endpoint(tenant, 0)
    for index in range(1, rows):
        api_key_issue(tenant=tenant, name=f"key {index}", actor=SYSTEM)
        member = make_person(f"member{index}", f"member{index}@example.com")
        Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.MEMBER)
        _endpoint(tenant, index)
        elsewhere = Tenant.objects.create(slug=f"elsewhere-{index}", name=f"Elsewhere {index}")
        Membership.objects.create(user=admin, tenant=elsewhere, role=Membership.Role.MEMBER)
    for index in range(rows):
        callback_secret_create(tenant=tenant, actor=SYSTEM)
        invitation_create(
            tenant=tenant, email=f"guest{index}@example.com", role="member", actor=SYSTEM
        )
        EndUserLimit.objects.create(
            tenant=tenant, end_user_id=f"user-{index}", monthly_spend_cap=Decimal("50")
        )
    runs = [_run_of_kind(index, tenant, admin) for index in range(rows)]
    moving = [
        make_run(
            tenant,
            created_by=admin,
            status=RunStatus.RUNNING if index % 2 else RunStatus.QUEUED,
            **_kind(index),
        )
        for index in range(min(rows, MOVING_KINDS))
    ]
    for _ in range(2):  # deliveries enough to redeliver twice, with one run
        webhook_endpoint_send_test(endpoint)
    _attempts_for_every_delivery()
    portal = Client()
    portal.force_login(admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return World(
        tenant=tenant, portal=portal, api=api, run=runs[0], moving=moving, endpoint=endpoint
    )


def _endpoint(tenant: Tenant, index: int) -> WebhookEndpoint:
    """Stored as the create service stores one (its URL check resolves hosts: not here)."""
    return WebhookEndpoint.objects.create(
        tenant=tenant,
        url=f"https://hooks.example.com/{index}",
        events=list(EVENT_TYPES),
        secret_encrypted=secret_encrypt(new_secret()),
    )


def _kind(index: int) -> dict[str, str]:
    """A duration and resolution for the index-th run: the page shows runs of many kinds."""
    return {"duration": DURATIONS[index % len(DURATIONS)], "resolution": RESOLUTIONS[index % 2]}


def _run_of_kind(index: int, tenant: Tenant, admin: Any) -> Run:
    """Succeeded and billed with its output copied; every third held for review, every
    fifth then rejected; every seventh failed."""
    end_user = {"end_user_id": f"user-{index}", **_kind(index)}
    if index % 7 == 6:
        return make_run(tenant, created_by=admin, status=RunStatus.FAILED, **end_user)
    run = billable_run(tenant, created_by=admin, nsfw_detected=index % 3 == 2, **end_user)
    if index % 5 == 4:
        run_reject(run_id=run.pk, decided_by=admin, reason="not for us")
    return run


def _attempts_for_every_delivery() -> None:
    """Two attempts each, failed then delivered."""
    now = timezone.now()
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(
            delivery=delivery,
            number=number,
            sent_at=now - timedelta(minutes=3 - number),
            webhook_timestamp=int(now.timestamp()),
            status_code=503 if number == 1 else 200,
            latency_ms=20,
        )
        for delivery in WebhookDelivery.objects.all()
        for number in (1, 2)
    )
    WebhookDelivery.objects.update(
        state=WebhookDelivery.State.DELIVERED,
        attempts=2,
        last_status=200,
        delivered_at=now,
        next_attempt_at=None,
    )


Request = Callable[[World], Any]


def _get(client: str, name: str, *args: Callable[[World], Any], **params: Any) -> Request:
    def request(world: World) -> Any:
        url = reverse(name, args=[arg(world) for arg in args])
        return getattr(world, client).get(url, params)

    return request


def _run_id(world: World) -> Any:
    return world.run.pk


def _endpoint_id(world: World) -> Any:
    return world.endpoint.pk


def _create(world: World) -> Any:
    return world.api.post(reverse("api:runs"), {"prompt": "a kite", "duration": "5"}, format="json")


def _post(client: str, name: str, *args: Callable[[World], Any], **data: Any) -> Request:
    def request(world: World) -> Any:
        url = reverse(name, args=[arg(world) for arg in args])
        return getattr(world, client).post(url, data, format="json")

    return request


def _endpoint_update(world: World) -> Any:
    url = reverse("api:webhook-endpoint-detail", args=[world.endpoint.pk])
    return world.api.patch(url, {"description": "ours"}, format="json")


def _delivery_id(world: World) -> Any:
    return world.endpoint.deliveries.filter(state=WebhookDelivery.State.DELIVERED).first().pk


def _cancel(world: World) -> Any:
    """A queued run, then (the counted request) the same run answered as it is."""
    queued = next(run for run in world.moving if run.status == RunStatus.QUEUED)
    return world.api.post(reverse("api:run-cancel", args=[queued.pk]))


def _runflow_create(world: World) -> Any:
    body = {"input": {"prompt": "a kite", "duration": "5"}, "client_ref": "kite-1"}
    return world.api.post(reverse("runflow_compat:model-runs"), body, format="json")


def _callback_secret_revoke(world: World) -> Any:
    """The tenant's active secret, revoked (a repeat answers it as it is)."""
    secret = CallbackSecret.objects.for_tenant(world.tenant).order_by("-created_at").first()
    assert secret is not None
    return world.api.delete(reverse("runflow_compat:callback-secret-detail", args=[secret.pk]))


#: What each row of the table requests. Writes come last: they add rows the reads count.
REQUESTS: dict[str, Request] = {
    "api:runs GET": _get("api", "api:runs", limit=FULL_PAGE),
    "api:run-detail GET": _get("api", "api:run-detail", _run_id),
    "api:webhook-endpoints GET": _get("api", "api:webhook-endpoints", limit=FULL_PAGE),
    "api:webhook-endpoint-detail GET": _get("api", "api:webhook-endpoint-detail", _endpoint_id),
    "api:webhook-endpoint-deliveries GET": _get(
        "api", "api:webhook-endpoint-deliveries", _endpoint_id, limit=FULL_PAGE
    ),
    "api:webhook-event-types GET": _get("api", "api:webhook-event-types"),
    "billing_api:usage GET by day": _get("api", "billing_api:usage"),
    "billing_api:usage GET by end user": _get("api", "billing_api:usage", group_by="end_user_id"),
    "billing_api:limits GET": _get("api", "billing_api:limits"),
    "billing_api:price-estimate GET": _get(
        "api", "billing_api:price-estimate", duration="5", resolution="720p"
    ),
    "portal:run-list": _get("portal", "portal:run-list"),
    "portal:run-rows": _get("portal", "portal:run-rows"),
    "portal:run-detail": _get("portal", "portal:run-detail", _run_id),
    "portal:run-status": _get("portal", "portal:run-status", _run_id),
    "portal:run-create": _get("portal", "portal:run-create"),
    "portal:run-code": _get("portal", "portal:run-code", prompt="a kite", duration="5"),
    "portal:switch-tenant": _get("portal", "portal:switch-tenant"),
    "portal:tenant-create": _get("portal", "portal:tenant-create"),
    "portal:share-links": _get("portal", "portal:share-links", _run_id),
    "portal:manage": _get("portal", "portal:manage"),
    "portal:keys": _get("portal", "portal:keys"),
    "portal:members": _get("portal", "portal:members"),
    "portal:tenant-settings": _get("portal", "portal:tenant-settings"),
    "portal:audit-log": _get("portal", "portal:audit-log"),
    "portal:webhooks": _get("portal", "portal:webhooks"),
    "portal:webhook-endpoint": _get("portal", "portal:webhook-endpoint", _endpoint_id),
    "billing_portal:usage": _get("portal", "billing_portal:usage"),
    "billing_portal:usage-csv": _get("portal", "billing_portal:usage-csv"),
    "billing_portal:estimate": _get(
        "portal", "billing_portal:estimate", duration="5", resolution="720p"
    ),
    "billing_portal:invoice-preview": _get("portal", "billing_portal:invoice-preview"),
    "billing_portal:run-cost": _get("portal", "billing_portal:run-cost", _run_id),
    "billing_portal:caps": _get("portal", "billing_portal:caps"),
    "billing_portal:billing": _get("portal", "billing_portal:billing"),
    "api:run-cancel POST": _cancel,
    "api:runs POST": _create,
    "api:webhook-endpoints POST": _post(
        "api", "api:webhook-endpoints", url=RECEIVER, events=["run.succeeded"]
    ),
    "api:webhook-endpoint-detail PATCH": _endpoint_update,
    "api:webhook-endpoint-rotate-secret POST": _post(
        "api", "api:webhook-endpoint-rotate-secret", _endpoint_id
    ),
    "api:webhook-endpoint-test POST": _post("api", "api:webhook-endpoint-test", _endpoint_id),
    "api:webhook-delivery-redeliver POST": _post(
        "api", "api:webhook-delivery-redeliver", _delivery_id
    ),
    "runflow_compat:runs GET": _get("api", "runflow_compat:runs", limit=FULL_PAGE),
    "runflow_compat:run-detail GET": _get("api", "runflow_compat:run-detail", _run_id),
    "runflow_compat:callback-secrets GET": _get("api", "runflow_compat:callback-secrets"),
    "runflow_compat:model-runs POST": _runflow_create,
    "runflow_compat:callback-secrets POST": _post("api", "runflow_compat:callback-secrets"),
    "runflow_compat:callback-secret-detail DELETE": _callback_secret_revoke,
}

#: Named URLs outside the table, and why: each is a form's POST answered by a redirect
#: (its page is pinned above), a Stripe hand-off, or needs what a tenant's page does not.
NOT_PINNED = {
    "portal:home": "a redirect to the runs list",
    "portal:invitation": "a person's own invitation link, no tenant's rows",
    "portal:invitation-accept": "a form's POST",
    "portal:invitation-decline": "a form's POST",
    "portal:invitation-revoke": "a form's POST",
    "portal:key-revoke": "a form's POST",
    "portal:member-remove": "a form's POST",
    "portal:member-role": "a form's POST",
    "portal:run-cancel": "a form's POST",
    "portal:share-revoke": "a form's POST",
    "portal:video-delete": "a form's POST",
    "portal:webhook-delivery-redeliver": "a form's POST",
    "portal:webhook-endpoint-delete": "a form's POST",
    "portal:webhook-endpoint-enabled": "a form's POST",
    "portal:webhook-endpoint-rotate": "a form's POST",
    "portal:webhook-endpoint-test": "a form's POST",
    "billing_portal:end-user-limit-add": "a form's POST",
    "billing_portal:end-user-limit-remove": "a form's POST",
    "billing_portal:checkout": "a redirect to Stripe Checkout",
    "billing_portal:checkout-done": "reads the Checkout session from Stripe",
    "billing_portal:customer-portal": "a redirect to Stripe's customer portal",
    "runflow_compat:health": "a liveness answer, no query",
    "runflow_compat:other-model-runs": "a 404 for every model but ours",
}


def _results(response: Any) -> int:
    return len(response.json()["results"])


def _items(response: Any) -> int:
    return len(response.json()["items"])


def _count(pattern: str) -> Callable[[Any], int]:
    return lambda response: len(re.findall(pattern, response.content.decode()))


UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

#: How many rows a list shows, read off its answer: proof that the full page is full.
ROWS_SHOWN: dict[str, Callable[[Any], int]] = {
    "api:runs GET": _results,
    "api:webhook-endpoints GET": _results,
    "api:webhook-endpoint-deliveries GET": _results,
    "runflow_compat:runs GET": _items,
    "billing_api:usage GET by end user": lambda response: len(response.json()["groups"]),
    "portal:run-list": _count('data-run-id="'),
    "portal:run-rows": _count('data-run-id="'),
    "portal:switch-tenant": _count(r'name="tenant" value="\d+"'),
    "portal:keys": _count(r"/manage/keys/\d+/revoke/"),
    "portal:members": _count(r"/manage/members/\d+/role/"),
    "portal:webhooks": _count(rf'href="/manage/webhooks/{UUID_PATTERN}/"'),
    "portal:webhook-endpoint": _count(r"/manage/webhooks/deliveries/\d+/redeliver/"),
    "billing_portal:caps": _count(r"/manage/caps/end-users/\d+/remove/"),
}


def queries_of(request: Request, world: World) -> tuple[int, Any]:
    """The queries of a repeat request: the first records the chosen tenant in the
    session and the key's last use, as any earlier request of a session would have."""
    request(world)
    with CaptureQueriesContext(connection) as captured:
        response = request(world)
    assert response.status_code in (200, 201, 202), (response.status_code, response.content[:300])
    return len(captured), response


@pytest.fixture(autouse=True)
def _loopback_receiver(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9"]}


@pytest.fixture(autouse=True)
def _process_cache(settings: Any) -> None:
    settings.CACHES = {
        name: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
        for name in settings.CACHES
    }


def test_the_table_pins_every_request_and_every_page_or_says_why_not() -> None:
    assert set(EXPECTED_QUERIES) == set(REQUESTS)
    pinned = {name.split(" ")[0] for name in REQUESTS}
    assert url_names(TENANT_NAMESPACES) - pinned == set(NOT_PINNED)


@pytest.mark.parametrize("rows", [1, FULL_PAGE], ids=["one row", "a full page"])
def test_queries_per_request_are_the_tables_with_one_row_or_a_full_page(
    rows: int, db: None
) -> None:
    world = populate(rows)
    counted = {}
    shown = {}
    for name, request in REQUESTS.items():
        counted[name], response = queries_of(request, world)
        if name in ROWS_SHOWN:
            shown[name] = ROWS_SHOWN[name](response)
    assert counted == EXPECTED_QUERIES
    least = 1 if rows == 1 else 20  # the portal's pages hold 20 rows, the API's asked 25
    assert {name: n for name, n in shown.items() if n < least} == {}
