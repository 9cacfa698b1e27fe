"""What the API answers, as frozen dataclasses: times are aware datetimes, money is Decimal.

Each ``from_json`` reads the fields it knows and ignores the rest, so a server that adds
a field never breaks an older client. Field names follow the API's JSON, except
``Usage.from_`` (``from`` is a Python keyword).
"""

from seedance_client.models._parse import Json, parse_datetime
from seedance_client.models.billing import (
    Limits,
    PriceEstimate,
    Spend,
    Usage,
    UsageGroup,
    UsageTotals,
)
from seedance_client.models.pages import Page
from seedance_client.models.runs import (
    TERMINAL_STATUSES,
    Charge,
    Failure,
    OutputFile,
    Run,
    RunOutput,
)
from seedance_client.models.webhooks import (
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookEndpointRotated,
    WebhookTestEvent,
)

RunPage = Page[Run]

__all__ = [
    "TERMINAL_STATUSES",
    "Charge",
    "EventType",
    "Failure",
    "Json",
    "Limits",
    "OutputFile",
    "Page",
    "PriceEstimate",
    "Run",
    "RunOutput",
    "RunPage",
    "Spend",
    "Usage",
    "UsageGroup",
    "UsageTotals",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointCreated",
    "WebhookEndpointRotated",
    "WebhookTestEvent",
    "parse_datetime",
]
