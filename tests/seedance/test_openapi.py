"""OpenAPI 3 schema at /api/schema/ and a Swagger UI at /api/docs/ served from local assets."""

import inspect
import io
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from billing.api import prices, serializers, views
from seedance.api import base, errors, webhook_input, webhook_serializers, webhook_views
from seedance.api import schema as api_schema
from seedance.api import serializers as run_serializers
from seedance.api import views as run_views
from seedance.api.serializers import NOT_BLANK_PATTERN
from seedance.run_input import ASPECT_RATIOS, DURATIONS, RESOLUTIONS
from seedance.webhooks.events import EVENT_TYPES
from tests.seedance.accounts.servers import two_servers

RUN_PATHS = ("/api/v1/runs", "/api/v1/runs/{run_id}", "/api/v1/runs/{run_id}/cancel")


@pytest.fixture
def schema(db: None) -> dict[str, Any]:
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    loaded: dict[str, Any] = yaml.safe_load(response.content)
    return loaded


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` (or a one-element ``allOf`` around one) to its component."""
    if "allOf" in node and len(node["allOf"]) == 1:
        node = node["allOf"][0]
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return resolve(schema, schema["components"]["schemas"][name])
    return node


def test_schema_is_openapi_3_without_credentials(schema: dict[str, Any]) -> None:
    assert str(schema["openapi"]).startswith("3.")
    assert schema["info"]["title"]


def test_schema_is_also_served_as_json(db: None) -> None:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["openapi"].startswith("3.")
    assert set(RUN_PATHS) <= set(body["paths"])


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [
        ("/api/v1/runs", "post", "runs_create"),
        ("/api/v1/runs", "get", "runs_list"),
        ("/api/v1/runs/{run_id}", "get", "runs_retrieve"),
        ("/api/v1/runs/{run_id}/cancel", "post", "runs_cancel"),
    ],
)
def test_schema_documents_every_run_operation_behind_the_bearer_key(
    schema: dict[str, Any], path: str, method: str, operation_id: str
) -> None:
    operation = schema["paths"][path][method]
    assert operation["operationId"] == operation_id
    assert operation["security"] == [{"ApiKey": []}]


def test_schema_declares_the_bearer_scheme(schema: dict[str, Any]) -> None:
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A tenant API key.",
    }


def test_create_documents_the_idempotency_key_header(schema: dict[str, Any]) -> None:
    parameters = schema["paths"]["/api/v1/runs"]["post"]["parameters"]
    (header,) = [p for p in parameters if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert not header.get("required")
    assert header["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": NOT_BLANK_PATTERN,
    }


def test_create_body_documents_the_input_rules(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/v1/runs"]["post"]
    body = resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    properties = body["properties"]
    assert body["required"] == ["prompt"]
    assert set(properties) == {
        "prompt",
        "aspect_ratio",
        "duration",
        "resolution",
        "generate_audio",
        "seed",
        "end_user_id",
        "metadata",
    }
    assert properties["prompt"]["maxLength"] == 2000
    assert resolve(schema, properties["aspect_ratio"])["enum"] == list(ASPECT_RATIOS)
    assert resolve(schema, properties["duration"])["enum"] == list(DURATIONS)
    assert resolve(schema, properties["resolution"])["enum"] == list(RESOLUTIONS)
    assert properties["seed"]["minimum"] == 0
    assert properties["seed"]["maximum"] == 2**32 - 1
    assert properties["end_user_id"]["maxLength"] == 255
    assert properties["metadata"]["type"] == "object"


def test_list_documents_its_filters_and_cursor(schema: dict[str, Any]) -> None:
    names = {p["name"] for p in schema["paths"]["/api/v1/runs"]["get"]["parameters"]}
    assert names >= {"status", "end_user_id", "created_after", "created_before", "limit", "cursor"}


def test_run_schema_lists_the_fields_the_api_returns(schema: dict[str, Any]) -> None:
    run = schema["components"]["schemas"]["Run"]
    assert set(run["properties"]) == {
        "id",
        "status",
        "prompt",
        "aspect_ratio",
        "duration",
        "resolution",
        "generate_audio",
        "seed",
        "end_user_id",
        "metadata",
        "output",
        "failure",
        "moderation",
        "billable",
        "charge",
        "duration_ms",
        "created_at",
        "submitted_at",
        "started_at",
        "completed_at",
    }


def test_list_response_schema_is_the_cursor_page(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/api/v1/runs"]["get"]["responses"]["200"]["content"]
    page = resolve(schema, content["application/json"]["schema"])
    assert page["type"] == "object"
    assert {"next", "previous", "results"} <= set(page["properties"])


def test_schema_generates_without_warnings(db: None) -> None:
    out = io.StringIO()
    call_command("spectacular", "--fail-on-warn", stdout=out)
    assert yaml.safe_load(out.getvalue())["openapi"].startswith("3.")


# --- Errors, summaries and descriptions ------------------------------------------------

WEBHOOK_ENDPOINT = "/api/v1/webhooks/endpoints/{endpoint_id}"
WEBHOOK_OPERATIONS = (
    ("/api/v1/webhooks/endpoints", "post"),
    ("/api/v1/webhooks/endpoints", "get"),
    (WEBHOOK_ENDPOINT, "get"),
    (WEBHOOK_ENDPOINT, "patch"),
    (WEBHOOK_ENDPOINT, "delete"),
    (f"{WEBHOOK_ENDPOINT}/rotate-secret", "post"),
    (f"{WEBHOOK_ENDPOINT}/test", "post"),
    (f"{WEBHOOK_ENDPOINT}/deliveries", "get"),
    ("/api/v1/webhooks/deliveries/{delivery_id}/redeliver", "post"),
    ("/api/v1/webhooks/event-types", "get"),
)

OPERATIONS = (
    ("/api/v1/runs", "post"),
    ("/api/v1/runs", "get"),
    ("/api/v1/runs/{run_id}", "get"),
    ("/api/v1/runs/{run_id}/cancel", "post"),
    ("/api/v1/usage", "get"),
    ("/api/v1/prices/estimate", "get"),
    ("/api/v1/limits", "get"),
    *WEBHOOK_OPERATIONS,
)
#: What each operation can answer besides its success (seedance.api.schema).
ERRORS = {
    ("/api/v1/runs", "post"): {400, 401, 402, 403, 406, 409, 413, 415, 422, 429},
    ("/api/v1/runs", "get"): {400, 401, 403, 406, 429},
    ("/api/v1/runs/{run_id}", "get"): {400, 401, 403, 404, 406, 429},
    ("/api/v1/runs/{run_id}/cancel", "post"): {400, 401, 403, 404, 406, 409, 429},
    ("/api/v1/usage", "get"): {400, 401, 403, 406, 429},
    ("/api/v1/prices/estimate", "get"): {400, 401, 403, 406, 429},
    ("/api/v1/limits", "get"): {400, 401, 403, 406, 429},
    ("/api/v1/webhooks/endpoints", "post"): {400, 401, 403, 406, 413, 415, 429},
    ("/api/v1/webhooks/endpoints", "get"): {400, 401, 403, 406, 429},
    (WEBHOOK_ENDPOINT, "get"): {400, 401, 403, 404, 406, 429},
    (WEBHOOK_ENDPOINT, "patch"): {400, 401, 403, 404, 406, 413, 415, 429},
    (WEBHOOK_ENDPOINT, "delete"): {400, 401, 403, 404, 406, 429},
    (f"{WEBHOOK_ENDPOINT}/rotate-secret", "post"): {400, 401, 403, 404, 406, 429},
    (f"{WEBHOOK_ENDPOINT}/test", "post"): {400, 401, 403, 404, 406, 409, 429},
    (f"{WEBHOOK_ENDPOINT}/deliveries", "get"): {400, 401, 403, 404, 406, 429},
    ("/api/v1/webhooks/deliveries/{delivery_id}/redeliver", "post"): {
        400,
        401,
        403,
        404,
        406,
        409,
        429,
    },
    ("/api/v1/webhooks/event-types", "get"): {400, 401, 403, 406, 429},
}


def test_schema_documents_exactly_the_api_operations(schema: dict[str, Any]) -> None:
    documented = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_operation_documents_each_error_it_can_answer(
    schema: dict[str, Any], path: str, method: str
) -> None:
    responses = schema["paths"][path][method]["responses"]
    errors = {int(code) for code in responses if not code.startswith("2")}
    assert errors == ERRORS[(path, method)]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_error_response_is_the_one_error_schema(
    schema: dict[str, Any], path: str, method: str
) -> None:
    for code, response in schema["paths"][path][method]["responses"].items():
        if code.startswith("2"):
            continue
        assert response["description"], code
        assert response["content"] == {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        }, code


def test_error_schema_is_the_handlers_shape(schema: dict[str, Any]) -> None:
    error = resolve(schema, schema["components"]["schemas"]["Error"]["properties"]["error"])
    assert set(error["properties"]) == {"code", "message", "fields"}
    assert set(error["required"]) == {"code", "message", "fields"}
    assert error["properties"]["fields"]["additionalProperties"]["type"] == "array"


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_429_documents_retry_after_and_401_the_bearer_challenge(
    schema: dict[str, Any], path: str, method: str
) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert responses["429"]["headers"]["Retry-After"]["required"] is True
    assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_operation_has_a_summary_and_a_tenant_facing_description(
    schema: dict[str, Any], path: str, method: str
) -> None:
    operation = schema["paths"][path][method]
    assert operation["summary"]
    assert len(operation["description"]) > len(operation["summary"])


def _texts(node: Any) -> list[str]:
    """Every description and summary in the document, however deep."""
    if isinstance(node, dict):
        found = [
            v for k, v in node.items() if k in ("description", "summary") and isinstance(v, str)
        ]
        return found + [text for value in node.values() for text in _texts(value)]
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


def _our_docstrings() -> list[str]:
    """The first line of every docstring in the API's modules: notes to us, not to tenants."""
    modules = [
        prices,
        serializers,
        views,
        base,
        errors,
        api_schema,
        run_views,
        run_serializers,
        webhook_input,
        webhook_serializers,
        webhook_views,
    ]
    lines = []
    for module in modules:
        for _, obj in inspect.getmembers(module):
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            members = [obj, *vars(obj).values()] if inspect.isclass(obj) else [obj]
            for member in members:
                doc = inspect.getdoc(member) if callable(member) else None
                if doc and doc is not inspect.getdoc(type(member)):
                    lines.append(doc.splitlines()[0].strip())
    return [line for line in lines if len(line) > 15]


def test_schema_has_none_of_our_internal_notes(schema: dict[str, Any]) -> None:
    texts = _texts(schema)
    assert texts, "the schema describes its operations"
    docstrings = _our_docstrings()
    assert len(docstrings) > 10, "the check reads our docstrings"
    for text in texts:
        for doc in docstrings:
            assert doc not in text, f"a docstring leaks into the schema: {doc!r}"
        for marker in ("``", "seedance.", "billing.", "OpenAPI", "parse_run_input", "selector"):
            assert marker not in text, f"{marker!r} in {text!r}"


def test_create_body_refuses_fields_it_does_not_document(schema: dict[str, Any]) -> None:
    body = schema["components"]["schemas"]["RunCreateInput"]
    assert body["additionalProperties"] is False


def test_webhook_bodies_refuse_fields_they_do_not_document(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["WebhookEndpointCreateInput"]["additionalProperties"] is False
    assert components["PatchedWebhookEndpointUpdateInput"]["additionalProperties"] is False


def test_only_create_and_rotate_document_a_secret(schema: dict[str, Any]) -> None:
    def answer(path: str, method: str, code: str) -> dict[str, Any]:
        content = schema["paths"][path][method]["responses"][code]["content"]
        return resolve(schema, content["application/json"]["schema"])

    assert "secret" in answer("/api/v1/webhooks/endpoints", "post", "201")["properties"]
    rotated = answer(f"{WEBHOOK_ENDPOINT}/rotate-secret", "post", "200")["properties"]
    assert {"secret", "previous_secret_expires_at"} <= set(rotated)
    page = answer("/api/v1/webhooks/endpoints", "get", "200")
    listed = resolve(schema, page["properties"]["results"]["items"])
    assert "secret" not in listed["properties"]
    assert "secret" not in answer(WEBHOOK_ENDPOINT, "get", "200")["properties"]
    assert "secret" not in answer(WEBHOOK_ENDPOINT, "patch", "200")["properties"]


def test_webhook_event_types_are_one_enum_of_the_registry(schema: dict[str, Any]) -> None:
    assert schema["components"]["schemas"]["WebhookEventTypeEnum"]["enum"] == list(EVENT_TYPES)


def test_prompt_pattern_is_pythons_not_blank() -> None:
    """JSON Schema's ``\\s`` is not Python's: the pattern lists what ``str.strip()`` drops."""
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        assert (re.search(NOT_BLANK_PATTERN, character) is None) == character.isspace(), hex(code)


# --- Swagger UI ------------------------------------------------------------------------


@pytest.fixture
def docs_html(db: None) -> str:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_swagger_ui_points_at_the_schema(docs_html: str) -> None:
    """The start-up script is a file of its own (the CSP allows no inline script)."""
    assert '<script src="/api/docs/?script="></script>' in docs_html
    script = Client().get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    assert "SwaggerUIBundle" in script.content.decode()


def test_swagger_ui_loads_nothing_from_a_cdn(docs_html: str) -> None:
    lowered = docs_html.lower()
    for cdn in ("cdn", "unpkg", "jsdelivr", "cdnjs", "googleapis"):
        assert cdn not in lowered
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", lowered)


def test_swagger_ui_assets_are_local_static_files(docs_html: str) -> None:
    scripts = re.findall(r"""<script[^>]*\bsrc\s*=\s*["']([^"']+)""", docs_html)
    links = re.findall(r"""<link[^>]*\bhref\s*=\s*["']([^"']+)""", docs_html)
    assert scripts, "Swagger UI needs its bundle"
    assert scripts.pop() == "/api/docs/?script=", "the start-up script comes last, from the view"
    for url in scripts + links:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a local static file"


@pytest.mark.django_db(transaction=True)
def test_a_cold_server_answers_concurrent_schema_requests_all_200() -> None:
    """drf-spectacular loads its extensions on the first generation, not thread-safely: a
    fresh process's first requests arrive together in production (a burst after a deploy)."""
    with two_servers() as servers, ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda n: servers[n % 2].client.get("/api/schema/"), range(16)))
    assert [a.status_code for a in answers] == [200] * 16
