"""OpenAPI 3 schema at /api/schema/ and a Swagger UI at /api/docs/ served from local assets."""

import io
import json
import re
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from seedance.run_input import ASPECT_RATIOS, DURATIONS, RESOLUTIONS

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
    assert {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}} in parameters


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
