"""Helpers for tests of payment methods: a tenant made after payment methods were asked
for (no card, not exempt), its admin, and a person's steps on the fake's hosted pages."""

import re
import time
from typing import Any

import httpx

from seedance.models import Membership, Tenant

PASSWORD = "pw-for-tests-123"


def new_tenant(slug: str = "initech") -> Tenant:
    """A tenant signed up after this change: no card on file and not exempt."""
    return Tenant.objects.create(slug=slug, name=slug.title())


def admin_of(tenant: Tenant, django_user_model: Any, username: str = "ada") -> Any:
    user = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD)
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def form_action(html: str, ends_with: str) -> str:
    found = re.search(rf'<form method="post" action="([^"]*{re.escape(ends_with)})"', html)
    assert found is not None, html
    return found.group(1)


def save_card_on_checkout_page(url: str) -> httpx.Response:
    """Open Checkout's page and press "Save test card (4242)"; the answer is its redirect."""
    page = httpx.get(url)
    assert "Save test card (4242)" in page.text, page.text
    action = form_action(page.text, url.rpartition("/")[2])
    return httpx.post(httpx.URL(url).join(action), data={"card": "4242"})


def wait_for(condition: Any, timeout: float = 10.0, what: str = "the event") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} never arrived"
        time.sleep(0.05)
