"""A run event's data is the run as the API shows it when the attempt is sent."""

from typing import Any

from rest_framework.test import APIClient

from seedance.models import WebhookEvent
from seedance.webhooks.endpoints import webhook_endpoint_create
from seedance.webhooks.events import EVENT_TYPES
from seedance.webhooks.payloads import event_data
from tests.factories import finish_successfully, make_run


def without_links(run: dict[str, Any]) -> dict[str, Any]:
    """Signed links carry the second they were made; everything else must match."""
    shown = {**run}
    if shown.get("output"):
        shown["output"] = {
            **shown["output"],
            "outputs": [{**o, "url": bool(o["url"])} for o in shown["output"]["outputs"]],
        }
    return shown


def test_the_data_is_the_api_representation_at_send_time(
    tenant: Any, api_client: APIClient, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9"]}
    webhook_endpoint_create(tenant=tenant, url="http://127.0.0.1:9/", events=list(EVENT_TYPES))
    run = finish_successfully(make_run(tenant, metadata={"k": "v"}, end_user_id="eu-9"))
    event = WebhookEvent.objects.get()

    shown_by_api = api_client.get(f"/api/v1/runs/{run.pk}").json()
    data = event_data(event)

    assert without_links(data) == without_links(shown_by_api)
    assert data["output"]["outputs"][0]["url"].startswith("http://testserver/")
