"""The isolation matrix: every named URL a tenant reaches, read off the resolver, with how
to point it at tenant A's objects and what tenant B must get back.

A URL kwarg is filled from ``KWARG_IDS`` (each kwarg name to A's objects of that kind); a
URL with no kwargs is a tenant's own page or list, on ``NO_OBJECT``; a URL reached by
something other than a tenant's key or session is on ``PUBLIC``. A URL that is none of
these fails ``test_resolver_complete``: a new URL cannot slip by.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.test import Client

from tests.isolation.world import TenantWorld
from tests.urlwalk import TENANT_NAMESPACES, NamedUrl, named_urls

#: The tenant namespaces, and the other namespaces of config/urls.py (whose URLs are all public).
NAMESPACES = (*TENANT_NAMESPACES, "seedance", "billing", "accounts")
#: Namespaces answered with an API key; the others with a signed-in member's session.
API_NAMESPACES = ("api", "billing_api", "runflow_compat")

#: A URL kwarg -> the ids of A's objects it names (the first is the one a mixed case uses).
KWARG_IDS: dict[str, Callable[[TenantWorld], list[Any]]] = {
    "run_id": lambda world: [run.pk for run in (world.run, *world.runs.values())],
    "endpoint_id": lambda world: [world.endpoint.pk],
    "delivery_id": lambda world: [world.delivery.pk],
    "key_id": lambda world: [world.key.pk],
    "membership_id": lambda world: [world.membership.pk],
    "invitation_id": lambda world: [world.invitation.pk],
    "link_id": lambda world: [world.share_link.pk],
    "limit_id": lambda world: [world.limit.pk],
    "secret_id": lambda world: [world.callback_secret.pk],
}

#: Pages that take an object's id in the query string rather than the path:
#: name -> (method, parameter, the kwarg kind whose ids it takes).
QUERY_IDS: dict[str, tuple[str, str, str]] = {
    "portal:run-create": ("GET", "from", "run_id"),  # "make again" from a run
}

#: A tenant's own pages and lists (no object id): B's answer shows none of A's rows and
#: B's writes change none of them (test_lists).
NO_OBJECT: dict[str, str] = {
    "api:runs": "the key's tenant's runs; POST creates one for that tenant",
    "api:webhook-endpoints": "the key's tenant's endpoints; POST creates one",
    "api:webhook-event-types": "the event catalogue, the same for every tenant",
    "billing_api:usage": "the key's tenant's usage",
    "billing_api:price-estimate": "the key's tenant's prices",
    "billing_api:limits": "the key's tenant's caps",
    "runflow_compat:model-runs": "a run for the key's tenant, as Runflow makes one",
    "runflow_compat:runs": "the key's tenant's runs, in Runflow's shape",
    "runflow_compat:callback-secrets": "the key's tenant's callback secrets; POST makes one",
    "portal:home": "a redirect to the chosen tenant's runs",
    "portal:run-list": "the chosen tenant's runs",
    "portal:run-rows": "the chosen tenant's runs, as a fragment",
    "portal:run-create": "a run for the chosen tenant (its 'from' id is in QUERY_IDS)",
    "portal:run-code": "code samples built from the form's fields",
    "portal:tenant-create": "a new tenant of the person's own",
    "portal:switch-tenant": "the person's own memberships; POST names a tenant id",
    "portal:manage": "the chosen tenant's hub",
    "portal:keys": "the chosen tenant's keys; POST issues one",
    "portal:members": "the chosen tenant's members; POST invites",
    "portal:tenant-settings": "the chosen tenant's settings",
    "portal:audit-log": "the chosen tenant's audit entries",
    "portal:webhooks": "the chosen tenant's endpoints; POST adds one",
    "billing_portal:usage": "the chosen tenant's usage",
    "billing_portal:usage-csv": "the chosen tenant's usage, as CSV",
    "billing_portal:estimate": "a price for the chosen tenant",
    "billing_portal:invoice-preview": "the chosen tenant's upcoming invoice",
    "billing_portal:caps": "the chosen tenant's caps; POST sets them",
    "billing_portal:billing": "the chosen tenant's billing page",
    "billing_portal:checkout": "a Checkout session for the chosen tenant",
    "billing_portal:checkout-done": (
        "the chosen tenant's Checkout return; another tenant's session id is refused "
        "(test_payment_methods, test_another_tenants_completed_checkout_is_refused_...)"
    ),
    "billing_portal:customer-portal": "a Stripe portal session for the chosen tenant",
    "billing_portal:end-user-limit-add": "a cap for the chosen tenant",
}

#: URLs not reached with a tenant's key or session, and where their rule is tested.
PUBLIC: dict[str, str] = {
    "portal:invitation": "the emailed link: its token is the capability (test_invitations)",
    "seedance:runflow-callback": "Runflow's callback, signed with our secret (test_callbacks)",
    "seedance:output-file": "a signed, expiring file link (test_files)",
    "seedance:output-poster": "a signed, expiring file link (test_files)",
    "seedance:shared-video": "a share link: its token is the capability (test_shares)",
    "seedance:shared-video-file": "a share link: its token is the capability (test_shares)",
    "seedance:shared-video-poster": "a share link: its token is the capability (test_shares)",
    "billing:stripe-webhook": "Stripe's webhook, signed with Stripe's secret",
    "billing:stripe-thin-events": "Stripe's event destination, signed with Stripe's secret",
    "accounts:delete": "the signed-in person's own account, no tenant's object",
    "runflow_compat:health": "Runflow's liveness probe: no key, no tenant's data",
    "runflow_compat:other-model-runs": (
        "every model but ours is MODEL_NOT_FOUND to every key: the id names no tenant's "
        "object (test_runflow_surface)"
    ),
}

#: What B sends to a write on A's object: a request that would change it if it got through.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("api:webhook-endpoint-detail", "PATCH"): {"description": "taken", "enabled": False},
    ("portal:member-role", "POST"): {"role": "admin"},
    ("portal:webhook-endpoint", "POST"): {
        "url": "https://hooks.example.com/taken",
        "events": ["run.succeeded"],
        "description": "taken",
    },
    ("portal:webhook-endpoint-enabled", "POST"): {"enabled": "false"},
    ("portal:share-links", "POST"): {"days": "30"},
    ("portal:video-delete", "POST"): {"confirm": "on"},
}


def urls() -> list[NamedUrl]:
    return named_urls(NAMESPACES)


def by_id_urls() -> list[NamedUrl]:
    """The URLs whose path names a tenant's object."""
    return [url for url in urls() if url.kwargs and url.name not in PUBLIC]


def no_object_urls() -> list[NamedUrl]:
    return [url for url in urls() if url.name in NO_OBJECT]


def unplaced(found: list[NamedUrl]) -> dict[str, str]:
    """The URLs the matrix cannot aim at and no list explains, each with what it lacks."""
    missing_ids = {
        url.name: f"no KWARG_IDS for {sorted(set(url.kwargs) - set(KWARG_IDS))}"
        for url in found
        if url.name not in PUBLIC and set(url.kwargs) - set(KWARG_IDS)
    }
    unlisted = {
        url.name: "no id, and on neither NO_OBJECT nor PUBLIC"
        for url in found
        if not url.kwargs and url.name not in NO_OBJECT and url.name not in PUBLIC
    }
    return {**missing_ids, **unlisted}


def kwarg_cases(url: NamedUrl, a: TenantWorld, b: TenantWorld) -> list[dict[str, Any]]:
    """Every one of A's objects in each kwarg (the rest A's first), then, for a URL of
    several kwargs, each of A's beside B's own others (B's run with A's share link)."""
    first = {name: KWARG_IDS[name](a)[0] for name in url.kwargs}
    cases = [{**first, name: value} for name in url.kwargs for value in KWARG_IDS[name](a)]
    if len(url.kwargs) > 1:
        for name in url.kwargs:
            cases.append({**{k: KWARG_IDS[k](b)[0] for k in url.kwargs}, name: first[name]})
    unique = {tuple(sorted(case.items())): case for case in cases}
    if url.namespace in API_NAMESPACES:  # the API's ids are case-blind strings
        for case in list(unique.values()):
            upper = {k: str(v).upper() for k, v in case.items()}
            unique[tuple(sorted(upper.items()))] = upper
    return list(unique.values())


def missing(value: Any) -> Any:
    """An id of the same kind as ``value`` that names nothing."""
    return (
        2_000_000_000
        if isinstance(value, int)
        else uuid.UUID("00000000-0000-4000-8000-000000000000")
    )


def send(client: Client, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """``method`` to ``path``; the API's bodies as JSON, the portal's as a form."""
    data = data or {}
    call = getattr(client, method.lower())
    if path.startswith(("/api/", "/v1/")):
        return call(path, data, format="json")
    if method in ("GET", "POST"):
        return call(path, data)
    return call(path)


def client_for(url: NamedUrl, world: TenantWorld, user: Any = None) -> Client:
    return world.api() if url.namespace in API_NAMESPACES else world.portal(user)


def leaked(response: HttpResponse, world: TenantWorld, sent: str = "") -> set[str]:
    """Which of ``world``'s identifying strings the response shows (body or Location),
    other than those the request itself sent (a 404 page may name the path asked for)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    seen = (body + response.get("Location", "").encode()).decode(errors="replace").lower()
    return {
        text for text in world.strings if text.lower() in seen and text.lower() not in sent.lower()
    }
