"""Every path under /api/ answers JSON in the error shape: unknown paths, trailing-slash
variants, methods not allowed, bodies over the size limit, even our own failures."""

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import path
from rest_framework.test import APIClient

from seedance.api import fallbacks
from seedance.models import Run
from tests.error_shape import assert_error_shape

BIG = json.dumps({"prompt": "x" * (2_621_440 + 1)})


@pytest.mark.parametrize(
    "url",
    [
        "/api",
        "/api/",
        "/api/v1",
        "/api/v2/runs",
        "/api/v1/nope",
        "/api/v1/runs/",
        "/api/v1/usage/",
        "/api/v1/runs/00000000-0000-0000-0000-000000000000/",
        "/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel/",
        "/api/schema",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_api_path_is_a_json_404_for_every_method(
    api_client: APIClient, url: str, method: str
) -> None:
    assert_error_shape(getattr(api_client, method)(url), 404, "not_found")


def test_unknown_api_path_is_a_json_404_without_credentials(db: None) -> None:
    """Not a CSRF 403 page nor APPEND_SLASH's redirect: no body is lost to a redirect."""
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/runs/", data='{"prompt": "x"}', content_type="application/json"
    )
    error = assert_error_shape(response, 404, "not_found")
    assert "/api/v1/runs?" in error["message"]
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/api/v1/runs"),
        ("put", "/api/v1/runs"),
        ("post", "/api/v1/usage"),
        ("get", "/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel"),
        ("patch", "/api/v1/runs/00000000-0000-0000-0000-000000000000"),
        ("post", "/api/v1/limits"),
    ],
)
def test_method_not_allowed_is_a_json_405(api_client: APIClient, method: str, url: str) -> None:
    assert_error_shape(getattr(api_client, method)(url), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("options", "/api/docs/"),
        ("options", "/api/docs/?script="),
        ("post", "/api/docs/"),
        ("options", "/api/schema/"),
        ("post", "/api/schema/"),
        ("delete", "/api/schema/"),
    ],
)
def test_the_schema_and_its_docs_are_get_only_and_refuse_in_the_error_shape(
    db: None, method: str, url: str
) -> None:
    response = getattr(APIClient(), method)(url)
    assert_error_shape(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


def test_an_unknown_schema_format_is_refused_in_the_error_shape(db: None) -> None:
    response = APIClient().get("/api/schema/", {"format": "xml"})
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize(
    "url", ["/api/v1/runs", "/hooks/runflow/runs/00000000-0000-0000-0000-000000000000/"]
)
def test_body_over_the_size_limit_is_a_json_413(api_client: APIClient, url: str) -> None:
    response = api_client.post(url, data=BIG, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")
    assert not Run.objects.exists()


@pytest.mark.parametrize("url", ["/hooks/stripe/", "/hooks/stripe/events/"])
def test_webhook_body_over_the_size_limit_is_a_json_413(db: None, url: str) -> None:
    response = APIClient().post(
        url, data=BIG, content_type="application/json", headers={"Stripe-Signature": "t=1,v1=x"}
    )
    assert_error_shape(response, 413, "request_too_large")


def _boom(request: Any) -> Any:
    raise RuntimeError("a bug of ours")


urlpatterns = [path("api/v1/boom", _boom), path("boom", _boom)]
#: The project's own handler, as config.urls sets it.
handler500 = fallbacks.server_error


@pytest.mark.urls(__name__)
def test_our_own_failure_under_api_is_a_json_500(db: None) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/boom")
    assert_error_shape(response, 500, "server_error")
    page = Client(raise_request_exception=False).get("/boom")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_portal_404_stays_a_page(db: None) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_project_urls_use_the_api_aware_handlers() -> None:
    from config import urls

    assert urls.handler400 is fallbacks.bad_request
    assert urls.handler403 is fallbacks.permission_denied
    assert urls.handler404 is fallbacks.page_not_found
    assert urls.handler500 is fallbacks.server_error
