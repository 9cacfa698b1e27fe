"""Staff read deliveries and refusals in the admin; nobody edits the record of what was sent."""

import pytest
from django.db.models import Model
from django.test import Client

from seedance.inbound.records import delivery_claim, rejection_record
from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount

pytestmark = pytest.mark.django_db

LISTS: list[tuple[type[Model], str]] = [
    (InboundDelivery, "invoice.paid"),
    (RejectedDeliveryCount, "runflow"),
    (RejectedDelivery, "invalid_signature"),
]


@pytest.fixture(autouse=True)
def _records() -> None:
    delivery_claim(source="stripe", dedupe_key="evt_1", event_type="invoice.paid")
    rejection_record(source="runflow", reason="invalid_signature", message="Bad.", body=b"{}")


@pytest.mark.parametrize(("model", "shown"), LISTS)
def test_staff_see_each_list(admin_client: Client, model: type[Model], shown: str) -> None:
    response = admin_client.get(f"/admin/seedance/{model._meta.model_name}/")
    assert response.status_code == 200
    assert shown in response.content.decode()


@pytest.mark.parametrize(("model", "shown"), LISTS)
def test_each_list_is_read_only(admin_client: Client, model: type[Model], shown: str) -> None:
    base = f"/admin/seedance/{model._meta.model_name}/"
    assert admin_client.get(f"{base}add/").status_code == 403
    row = model._default_manager.get()
    page = admin_client.get(f"{base}{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
