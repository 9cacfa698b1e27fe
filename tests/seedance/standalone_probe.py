"""Render every page of seedance's portal namespaces under settings without billing.

Run as a script (tests/seedance/test_standalone.py starts it in its own process, since an
app cannot be uninstalled from a running Django). Prints one JSON object: the URLconf's
namespaces and, for each portal pattern, the path requested and the status or the error.
"""

import base64
import json
import os
import secrets
import sys
import traceback
from typing import Any

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.seedance.settings_without_billing"
os.environ["DATABASE_URL"] = "sqlite://:memory:"
# A throwaway key: the probe stores a webhook endpoint's secret, encrypted.
os.environ["WEBHOOK_SECRET_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import URLPattern, URLResolver, get_resolver, reverse  # noqa: E402

from seedance.compat.callback_secrets import callback_secret_create  # noqa: E402
from seedance.models import Membership, Tenant, WebhookEndpoint  # noqa: E402
from seedance.services.keys import api_key_issue  # noqa: E402
from seedance.webhooks.encryption import secret_encrypt  # noqa: E402
from seedance.webhooks.events import TEST_EVENT, event_record_for  # noqa: E402
from seedance.webhooks.signing import new_secret  # noqa: E402
from tests.factories import SYSTEM, make_run  # noqa: E402

PORTAL_NAMESPACES = ("portal",)


def portal_patterns(patterns: list[Any], namespace: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            joined = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            found += portal_patterns(entry.url_patterns, joined)
        elif isinstance(entry, URLPattern) and entry.name and namespace in PORTAL_NAMESPACES:
            found.append((namespace, entry))
    return found


def namespaces(patterns: list[Any]) -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace:
                names.add(entry.namespace)
            names |= namespaces(entry.url_patterns)
    return names


def main() -> None:
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("ada", "ada@example.com", "pw-not-used-0")
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    membership = Membership.objects.create(tenant=tenant, user=user, role="admin")
    key = api_key_issue(tenant=tenant, name="probe", actor=SYSTEM).api_key
    run = make_run(tenant, created_by=user)
    # A row, not the service: the outbound guard would look the made-up host up.
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url="https://hooks.acme.example/",
        events=["run.succeeded"],
        secret_encrypted=secret_encrypt(new_secret()),
    )
    event_record_for(tenant, TEST_EVENT, [endpoint])
    callback_secret, _ = callback_secret_create(tenant=tenant, actor=SYSTEM)
    values = {
        "secret_id": callback_secret.pk,
        "run_id": run.pk,
        "key_id": key.pk,
        "membership_id": membership.pk,
        "endpoint_id": endpoint.pk,
        "delivery_id": endpoint.deliveries.get().pk,
    }

    client = Client(raise_request_exception=True)
    client.force_login(user)
    resolver = get_resolver()
    pages = []
    for namespace, pattern in portal_patterns(resolver.url_patterns):
        name = f"{namespace}:{pattern.name}"
        kwargs = {arg: values.get(arg, "0") for arg in pattern.pattern.regex.groupindex}
        page: dict[str, Any] = {"name": name}
        try:
            page["path"] = reverse(name, kwargs=kwargs)
            page["status"] = client.get(page["path"]).status_code
        except Exception:  # any failure is the finding
            page["error"] = traceback.format_exc(limit=-3)
        pages.append(page)
    json.dump({"namespaces": sorted(namespaces(resolver.url_patterns)), "pages": pages}, sys.stdout)


main()
