"""The client against the OpenAPI document the live server serves: nothing missing either way.

Every operation has a method (``OPERATIONS``), and every object a 2xx answer can hold has
a model whose fields are its properties, no more and no fewer, but for the documented
exceptions below.
"""

import dataclasses
import inspect
from typing import Any

import httpx
import pytest
from conftest import BASE_URL

from seedance_client import OPERATIONS, AsyncSeedanceClient, SeedanceClient, models

pytestmark = pytest.mark.live

#: Component -> model. Each page component is the one generic ``Page``.
MODELS: dict[str, type[Any]] = {
    "Run": models.Run,
    "RunOutput": models.RunOutput,
    "OutputFile": models.OutputFile,
    "Failure": models.Failure,
    "Charge": models.Charge,
    "RunPage": models.Page,
    "Usage": models.Usage,
    "UsageTotals": models.UsageTotals,
    "UsageGroup": models.UsageGroup,
    "Limits": models.Limits,
    "Spend": models.Spend,
    "Estimate": models.PriceEstimate,
    "WebhookEndpoint": models.WebhookEndpoint,
    "WebhookEndpointCreated": models.WebhookEndpointCreated,
    "WebhookEndpointRotated": models.WebhookEndpointRotated,
    "WebhookEndpointPage": models.Page,
    "WebhookDelivery": models.WebhookDelivery,
    "WebhookDeliveryPage": models.Page,
    "WebhookAttempt": models.WebhookAttempt,
    "WebhookTestEvent": models.WebhookTestEvent,
    "EventType": models.EventType,
}
#: Components the client answers otherwise: the event type list as its ``results``.
UNWRAPPED = {"EventTypeList": "results"}
#: Field names that differ from the JSON's: ``from`` is a Python keyword.
RENAMED = {("Usage", "from"): "from_"}
#: Fields read from an answer's headers, not its body: (component, field) -> (operation,
#: header).
FROM_HEADERS = {("Run", "replayed"): ("runs_create", "Idempotent-Replayed")}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    answer = httpx.get(f"{BASE_URL}/api/schema/", params={"format": "json"}, timeout=20)
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_operation_has_a_method_on_both_clients(schema: dict[str, Any]) -> None:
    served = {operation["operationId"] for _, _, operation in operations(schema)}
    assert served == set(OPERATIONS)
    for method in OPERATIONS.values():
        assert callable(getattr(SeedanceClient, method))
        assert inspect.iscoroutinefunction(getattr(AsyncSeedanceClient, method))


def test_every_parameter_is_an_argument(schema: dict[str, Any]) -> None:
    """Path and query names as they are (``from`` as ``from_``), headers in snake case;
    ``format`` is chosen by the method (``get_usage_csv``)."""
    for _, _, operation in operations(schema):
        method = getattr(SeedanceClient, OPERATIONS[operation["operationId"]])
        arguments = set(inspect.signature(method).parameters)
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "header":
                name = name.lower().replace("-", "_")
            if name != "format":
                where = (operation["operationId"], name)
                assert name in arguments or f"{name}_" in arguments, where


def test_every_answer_object_is_a_model_with_its_exact_fields(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    answered = set()
    for _, _, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for content in response.get("content", {}).values():
                    answered |= _objects(content["schema"], components)
    assert answered - set(UNWRAPPED) == set(MODELS)
    for name, model in MODELS.items():
        properties = {RENAMED.get((name, prop), prop) for prop in components[name]["properties"]}
        properties |= {field for component, field in FROM_HEADERS if component == name}
        assert {field.name for field in dataclasses.fields(model)} == properties, name


def test_every_field_read_from_a_header_is_a_documented_answer_header(
    schema: dict[str, Any],
) -> None:
    by_id = {operation["operationId"]: operation for _, _, operation in operations(schema)}
    for operation_id, header in FROM_HEADERS.values():
        answers = by_id[operation_id]["responses"]
        assert any(header in answer.get("headers", {}) for answer in answers.values()), header


def _objects(node: Any, components: dict[str, Any], seen: set[str] | None = None) -> set[str]:
    """The names of every component an answer's schema reaches that is an object."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                _objects(components[name], components, seen)
        for value in node.values():
            _objects(value, components, seen)
    elif isinstance(node, list):
        for value in node:
            _objects(value, components, seen)
    return {name for name in seen if components[name].get("type") == "object"}
