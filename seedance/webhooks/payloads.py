"""The body of one attempt, built when it is sent (never stored): Standard Webhooks'
``{"type", "timestamp", "data"}``, where a run event's data is the run exactly as the API
shows it at that moment (fresh signed links, ``metadata`` and ``end_user_id``) and any
other event's data is what was recorded with it."""

import json
from typing import Any
from urllib.parse import urljoin

from django.core.serializers.json import DjangoJSONEncoder

from seedance import selectors
from seedance.conf import setting
from seedance.models import WebhookEvent


class PublicBaseRequest:
    """Stands in for the request the serializer makes absolute links with: outside a
    request, our links start at ``PUBLIC_BASE_URL``."""

    def build_absolute_uri(self, location: str | None = None) -> str:
        base = str(setting("PUBLIC_BASE_URL")).rstrip("/") + "/"
        return urljoin(base, location or "")


def event_data(event: WebhookEvent) -> dict[str, Any]:
    if event.run_id is not None:
        # Imported here: the API's serializers pull in DRF and drf-spectacular, which every
        # management command would otherwise load through the task-path check.
        from seedance.api.serializers import RunSerializer

        run = selectors.run_get(tenant=event.tenant, run_id=event.run_id)
        return dict(RunSerializer(run, context={"request": PublicBaseRequest()}).data)
    return dict(event.data)


def event_body(event: WebhookEvent) -> str:
    """The JSON text that is signed and sent."""
    payload = {
        "type": event.type,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event_data(event),
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
