"""An admission hook refusing with PaymentRequired may say where the account is fixed: the
create form shows that link to the tenant's admins, and seedance names no page of its own."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from seedance.exceptions import PaymentRequired
from seedance.models import Membership, Run, Tenant

CREATE_URL = reverse("portal:run-create")
FORM = {
    "prompt": "A red fox running through snow",
    "aspect_ratio": "16:9",
    "duration": "6",
    "resolution": "480p",
}


def refuse_until_paid(*, run: Run) -> None:
    """An admission hook standing in for billing's payment-method rule."""
    raise PaymentRequired(
        "Add a payment method to create runs.",
        code="payment_method_required",
        action_url="/elsewhere/pay/",
        action_label="Add a card",
    )


@pytest.fixture(autouse=True)
def _refusing_hook(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "ADMISSION_HOOKS": [f"{__name__}.refuse_until_paid"],
    }


def signed_in_as(client: Client, tenant: Tenant, role: str, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user(role, f"{role}@example.com", "s3cret-pass!")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    client.force_login(user)
    return client


def test_an_admin_sees_the_refusal_with_its_link(
    client: Client, tenant: Tenant, django_user_model: Any
) -> None:
    signed_in_as(client, tenant, Membership.Role.ADMIN, django_user_model)
    html = client.post(CREATE_URL, FORM).content.decode()
    assert "Add a payment method to create runs." in html
    assert '<a href="/elsewhere/pay/" id="form-error-action">Add a card</a>' in html
    assert not Run.objects.exists()


def test_a_member_sees_the_refusal_without_the_admins_link(
    client: Client, tenant: Tenant, django_user_model: Any
) -> None:
    signed_in_as(client, tenant, Membership.Role.MEMBER, django_user_model)
    html = client.post(CREATE_URL, FORM).content.decode()
    assert "Add a payment method to create runs." in html
    assert 'id="form-error-action"' not in html


def test_the_api_answers_402_with_the_hooks_code(api_client: Any) -> None:
    answer = api_client.post("/api/v1/runs", FORM, format="json")
    assert answer.status_code == 402
    assert answer.json()["error"]["code"] == "payment_method_required"
