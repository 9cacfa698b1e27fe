"""The portal's people: their end-user namespace is theirs, their tenant switch is safe."""

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from seedance.models import Membership

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def member(tenant: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("mia", "mia@example.com", PASSWORD)
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def test_tenant_apps_cannot_claim_a_portal_persons_end_user_id(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/runs",
        {"prompt": "x", "end_user_id": "portal:3f1a5e9e-0c4b-4e43-9a38-2f6b3d7f1c11"},
        format="json",
    )
    assert response.status_code == 400
    assert "end_user_id" in response.json()["error"]["fields"]


def test_switching_to_an_absurd_tenant_id_is_a_404(member: Any, client: Any) -> None:
    client.force_login(member)
    response = client.post(reverse("portal:switch-tenant"), {"tenant": str(2**70)})
    assert response.status_code == 404


def test_a_person_gets_one_public_identity(member: Any) -> None:
    from seedance.models import Person
    from seedance.services.tenants import person_for

    first, again = person_for(member), person_for(member)
    assert first.public_id == again.public_id
    assert Person.objects.filter(user=member).count() == 1
    assert first.end_user_id == f"portal:{first.public_id}"
