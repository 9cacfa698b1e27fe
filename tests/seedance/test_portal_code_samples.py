"""Copy-as-code: the run's exact inputs as curl, Python (httpx) and JavaScript (fetch), with
the key as a placeholder, the base URL from PUBLIC_BASE_URL and an Idempotency-Key."""

import ast
import html
import json
import re
import shlex
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from seedance.models import Membership, Tenant
from seedance.portal.code_samples import code_samples
from tests.factories import make_run

INPUTS = {
    "prompt": "It's a \"quoted\" fox — with 'apostrophes' and true/null words",
    "aspect_ratio": "16:9",
    "duration": "6",
    "resolution": "480p",
    "generate_audio": False,
    "seed": None,
}


@pytest.fixture(autouse=True)
def _base_url(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "PUBLIC_BASE_URL": "https://studio.example/"}


@pytest.fixture
def signed_in(client: Client, django_user_model: Any, tenant: Tenant) -> Client:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    client.force_login(user)
    return client


def _by_key() -> dict[str, str]:
    return {s.key: s.code for s in code_samples(INPUTS, idempotency_key="key-1")}


def test_curl_sends_the_exact_inputs_with_the_placeholder_key() -> None:
    words = shlex.split(_by_key()["curl"].replace("\\\n", " "))
    assert words[:3] == ["curl", "-X", "POST"]
    assert words[3] == "https://studio.example/api/v1/runs"
    assert "Authorization: Bearer $SEEDANCE_API_KEY" in words
    assert "Idempotency-Key: key-1" in words
    assert json.loads(words[words.index("-d") + 1]) == INPUTS


def test_python_sample_is_valid_python_sending_the_exact_inputs() -> None:
    tree = ast.parse(_by_key()["python"])
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and node.keywords)
    body = next(k.value for k in call.keywords if k.arg == "json")
    assert ast.literal_eval(body) == INPUTS
    assert "Idempotency-Key" in _by_key()["python"]
    assert "SEEDANCE_API_KEY" in _by_key()["python"]


def test_javascript_sample_stringifies_the_exact_inputs() -> None:
    code = _by_key()["javascript"]
    body = re.search(r"JSON\.stringify\((\{.*?\n  \})\)", code, re.S)
    assert body is not None
    assert json.loads(body.group(1)) == INPUTS
    assert '"Idempotency-Key": "key-1"' in code
    assert "https://studio.example/api/v1/runs" in code


def test_run_page_shows_the_runs_own_inputs(
    signed_in: Client, tenant: Tenant, django_user_model: Any
) -> None:
    ada = django_user_model.objects.get(username="ada")
    run = make_run(tenant, created_by=ada, prompt="A heron at dawn", seed=99, generate_audio=True)
    page = html.unescape(
        signed_in.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    )
    assert '"prompt": "A heron at dawn"' in page
    assert '"seed": 99' in page
    assert "$SEEDANCE_API_KEY" in page


def test_create_page_panel_follows_the_forms_current_values(signed_in: Client) -> None:
    page = signed_in.get(reverse("portal:run-create")).content.decode()
    assert f'hx-get="{reverse("portal:run-code")}"' in page
    fragment = signed_in.get(
        reverse("portal:run-code"),
        {"prompt": "A lantern", "duration": "8", "resolution": "720p", "seed": "12"},
    )
    text = html.unescape(fragment.content.decode())
    assert fragment.status_code == 200
    assert '"prompt": "A lantern"' in text
    assert '"duration": "8"' in text
    assert '"generate_audio": false' in text
    assert '"seed": 12' in text
