"""The demo's printed sign-ins work: by username or email, and staff with the TOTP secret
kept under VAR_DIR; running the setup again keeps that secret."""

import io
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.models import ApiKey
from tests.conftest import totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-123"


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def setup_demo() -> None:
    call_command("demo_setup", "--password", PASSWORD, stdout=io.StringIO())


@pytest.mark.parametrize("login", ["demo", "demo@example.com"])
def test_the_demo_person_signs_in_by_username_or_email(var_dir: Path, login: str) -> None:
    setup_demo()
    client = Client()
    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:run-list")).status_code == 200


@pytest.mark.parametrize("login", ["staff", "staff@example.com"])
def test_demo_staff_open_the_admin_with_the_kept_totp_secret(var_dir: Path, login: str) -> None:
    setup_demo()
    secret, uri = (var_dir / "demo-staff-totp.txt").read_text().splitlines()
    assert urlsplit(uri).scheme == "otpauth"
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]
    client = Client()
    first = client.post(
        reverse("account_login"), {"login": login, "password": PASSWORD, "next": "/admin/"}
    )
    assert first["Location"] == reverse("mfa_authenticate")
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_setting_up_again_keeps_the_staff_totp_secret(var_dir: Path) -> None:
    setup_demo()
    first = (var_dir / "demo-staff-totp.txt").read_text()
    setup_demo()
    assert (var_dir / "demo-staff-totp.txt").read_text() == first
    assert (var_dir / "demo-staff-totp.txt").stat().st_mode & 0o077 == 0


def _setup_key() -> str:
    out = io.StringIO()
    call_command("demo_setup", "--password", PASSWORD, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_setting_up_again_keeps_the_demo_api_key_and_adds_none(var_dir: Path) -> None:
    first = _setup_key()
    assert _setup_key() == first
    assert ApiKey.objects.filter(tenant__slug="demo").count() == 1
    assert (var_dir / "demo-api-key.txt").stat().st_mode & 0o077 == 0


def test_a_revoked_demo_key_is_replaced_on_the_next_setup(var_dir: Path) -> None:
    first = _setup_key()
    ApiKey.objects.update(revoked_at=timezone.now())
    second = _setup_key()
    assert second != first
    assert (var_dir / "demo-api-key.txt").read_text().strip() == second
