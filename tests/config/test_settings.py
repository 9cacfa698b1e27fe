"""Safe defaults: no known SECRET_KEY outside DEBUG, the production example passes
`check --deploy`, mail from one URL, and a strict CSP on every page."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from config.settings import _mailer
from seedance.checks import check_csp, check_mail_is_sent

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "production.env.example"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a fresh process with the project's settings, without the suite's key."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_debug_a_missing_secret_key_stops_check_naming_it() -> None:
    done = manage("check", DEBUG="0")
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_without_debug_a_missing_secret_key_stops_the_web_application() -> None:
    """What gunicorn imports: the WSGI application never loads, so no worker boots."""
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    done = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_an_empty_secret_key_counts_as_missing() -> None:
    done = manage("check", SECRET_KEY="")
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_rotated_keys_come_from_secret_key_fallbacks() -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    done = manage(
        "shell", "-c", code, SECRET_KEY="k" * 50, SECRET_KEY_FALLBACKS="old-one , old-two"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['old-one', 'old-two']"


def _database_settings(**env: str) -> dict[str, Any]:
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({k: settings.DATABASES['default'][k] "
        "for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')}))"
    )
    url = "postgres://seedance@db.invalid:5432/seedance"
    done = manage("shell", "-c", code, SECRET_KEY="k" * 50, DATABASE_URL=url, **env)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_postgresql_connections_persist_a_minute_and_are_checked_before_reuse() -> None:
    assert _database_settings() == {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}


def test_connection_lifetime_and_health_checks_come_from_the_environment() -> None:
    assert _database_settings(CONN_MAX_AGE="0", CONN_HEALTH_CHECKS="0") == {
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
    }


def production_check(*extra: str) -> subprocess.CompletedProcess[str]:
    """The README's acceptance command: the example's variables, then check --deploy."""
    script = (
        "set -a; . deploy/production.env.example; set +a; "
        f"{extra[0] if extra else ''} "
        f"{sys.executable} manage.py check --deploy --fail-level WARNING"
    )
    # The suite's own knobs (the browser tests allow async-unsafe calls) are not production's.
    dropped = ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_the_production_example_passes_check_deploy() -> None:
    done = production_check()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues (1 silenced)" in done.stdout


def test_the_production_example_silences_only_hsts_preload() -> None:
    assert re.findall(r"^SILENCED_SYSTEM_CHECKS=(.*)$", EXAMPLE.read_text(), re.M) == [
        "security.W021"
    ]
    done = production_check("SILENCED_SYSTEM_CHECKS=")
    assert done.returncode != 0
    assert re.findall(r"\((\w+\.\w+)\)", done.stderr + done.stdout) == ["security.W021"]


def test_the_production_example_carries_no_usable_secret_key() -> None:
    keys = [
        manage_key.stdout.strip()
        for manage_key in (
            subprocess.run(
                ["bash", "-c", "set -a; . deploy/production.env.example; echo $SECRET_KEY"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            for _ in range(2)
        )
    ]
    assert len(keys[0]) >= 50
    assert keys[0] != keys[1], "the example must not ship a fixed key"


def test_email_url_maps_smtp_with_starttls_into_a_mailer() -> None:
    assert _mailer("smtp+tls://ada%40example.com:p%2Fss@smtp.example.com:587") == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "smtp.example.com",
            "port": 587,
            "username": "ada@example.com",
            "password": "p/ss",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 10,
        },
    }


def test_email_url_smtp_ssl_uses_implicit_tls() -> None:
    options = _mailer("smtp+ssl://u:p@smtp.example.com:465")["OPTIONS"]
    assert (options["use_ssl"], options["use_tls"], options["port"]) == (True, False, 465)


def test_without_email_url_mail_goes_to_the_console_and_check_deploy_says_so(
    settings: Any,
) -> None:
    code = "import json; from django.conf import settings; print(json.dumps(settings.MAILERS))"
    done = manage("shell", "-c", code, DEBUG="1")
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    }
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    assert [m.id for m in check_mail_is_sent(None)] == ["seedance.W009"]


def test_check_deploy_warns_when_the_csp_allows_inline_scripts(settings: Any) -> None:
    settings.SECURE_CSP = {**settings.SECURE_CSP, "script-src": ["'self'", "'unsafe-inline'"]}
    assert [m.id for m in check_csp(None)] == ["seedance.W010"]


def test_check_deploy_warns_when_the_csp_lets_forms_go_anywhere(settings: Any) -> None:
    assert check_csp(None) == []
    settings.SECURE_CSP = {k: v for k, v in settings.SECURE_CSP.items() if k != "form-action"}
    assert [m.id for m in check_csp(None)] == ["seedance.W010"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/", "/admin/login/"])
def test_every_page_has_the_strict_policy(path: str) -> None:
    policy = Client().get(path, follow=True).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-src"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.django_db
def test_swagger_ui_start_up_script_is_a_file_not_inline() -> None:
    page = Client().get("/api/docs/").content.decode()
    assert "<style" not in page
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert inline == []
    script = Client().get("/api/docs/?script=")
    assert script.headers["Content-Type"].startswith("application/javascript")


TEMPLATE_DIRS = [
    ROOT / "templates",
    ROOT / "seedance" / "templates",
    ROOT / "billing" / "templates",
]
INLINE = re.compile(
    r"""\sstyle=|<style|\son[a-z]+=|<script(?![^>]*\b(src|type="application/json")=?)[^>]*>"""
)


def test_no_template_has_inline_style_script_or_event_handler() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for folder in TEMPLATE_DIRS
        for path in folder.rglob("*.html")
        for match in INLINE.finditer(path.read_text())
    ]
    assert found == []


def test_the_policy_as_configured_passes_its_own_check() -> None:
    assert check_csp(None) == []


@pytest.mark.parametrize("inherited", ["shared", "shared-gw3"])
def test_each_xdist_worker_gets_a_queue_and_cache_prefix_of_its_own(inherited: str) -> None:
    """Workers share one Redis: a shared queue let one worker's qcluster take (or purge) the
    task another worker's test was waiting on. A process a test starts keeps the name."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTEST_XDIST_WORKER": "gw3",
        "Q_CLUSTER_NAME": inherited,
        "CACHE_KEY_PREFIX": inherited,
    }
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.Q_CLUSTER['name'], settings.CACHES['default']['KEY_PREFIX'])"
    )
    printed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.split() == ["shared-gw3", "shared-gw3"]
