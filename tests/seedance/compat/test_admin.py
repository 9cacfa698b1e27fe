"""Staff read each run's callback and the tenants' callback secrets in the admin: the
record of what was sent is not editable, and a secret is never shown, only its hint."""

from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from seedance.models import CallbackDelivery, CallbackSecret, Run
from tests.factories import finish_successfully

pytestmark = pytest.mark.django_db

MODELS: list[type[Model]] = [CallbackDelivery, CallbackSecret]


@pytest.fixture
def secret(api_client: APIClient) -> str:
    made = api_client.post(reverse("runflow_compat:callback-secrets"))
    assert made.status_code == 201
    return str(made.json()["secret"])


RECEIVER = "127.0.0.1:9"


@pytest.fixture
def run(api_client: APIClient, secret: str, settings: Any) -> Run:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": [RECEIVER]}
    response = api_client.post(
        reverse("runflow_compat:model-runs"),
        {"input": {"prompt": "a fox"}, "callback_url": f"http://{RECEIVER}/cb"},
        format="json",
    )
    assert response.status_code == 201, response.content
    run = Run.objects.get(pk=response.json()["id"])
    finish_successfully(run)
    return run


def test_staff_find_a_runs_callback_by_the_run_id(admin_client: Client, run: Run) -> None:
    response = admin_client.get("/admin/seedance/callbackdelivery/", {"q": str(run.pk)})
    assert response.status_code == 200
    assert f"http://{RECEIVER}/cb" in response.content.decode()


def test_staff_see_a_secrets_hint_and_never_the_secret(
    admin_client: Client, run: Run, secret: str
) -> None:
    row = CallbackSecret.objects.get()
    for page in ("", f"{row.pk}/change/"):
        body = admin_client.get(f"/admin/seedance/callbacksecret/{page}").content.decode()
        assert row.hint in body
        assert secret not in body
        assert row.secret_encrypted not in body


@pytest.mark.parametrize("model", MODELS)
def test_each_list_is_read_only(admin_client: Client, run: Run, model: type[Model]) -> None:
    base = f"/admin/seedance/{model._meta.model_name}/"
    assert admin_client.get(f"{base}add/").status_code == 403
    row = model._default_manager.get()
    page = admin_client.get(f"{base}{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
