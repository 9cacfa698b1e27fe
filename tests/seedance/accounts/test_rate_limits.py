"""Failed logins (portal and admin) and reset requests are throttled across processes
(acceptance 6): two real web servers share one database and the shared cache (Redis in
the PostgreSQL run, the database cache in the SQLite run), and attempts alternate between
them. Each process alone sees fewer attempts than the limit; the limit is hit anyway."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from seedance.accounts.identity import verified_email_set
from tests.conftest import totp_enrol
from tests.seedance.accounts.servers import Server, two_servers

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Violet-Harbour-51"
TOO_MANY = "Too many failed login attempts"
WRONG = "you specified are not correct"


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    with two_servers() as pair:
        yield pair


@pytest.fixture
def maya() -> User:
    user = User.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=user, email="maya@example.com")
    return user


def signed_in(server: Server) -> bool:
    return server.client.get("/accounts/email/").status_code == 200


def test_failed_portal_logins_for_one_account_count_across_both_processes(
    servers: list[Server], maya: Any
) -> None:
    # allauth's default: 5 failures per account in 5 minutes.
    for attempt in range(5):
        server = servers[attempt % 2]  # 3 on one process, 2 on the other
        answer = server.form_post(
            "/accounts/login/", {"login": "maya@example.com", "password": f"no-{attempt}"}
        )
        assert answer.status_code == 200
        assert WRONG in answer.text
        assert TOO_MANY not in answer.text

    for server in servers:  # now even the right password is refused, on either process
        refused = server.form_post(
            "/accounts/login/", {"login": "maya@example.com", "password": PASSWORD}
        )
        assert TOO_MANY in refused.text
        assert not signed_in(server)


def test_failed_admin_logins_from_one_address_count_across_both_processes(
    servers: list[Server],
) -> None:
    staff = User.objects.create_user("sam", "sam@example.com", PASSWORD, is_staff=True)
    verified_email_set(user=staff, email="sam@example.com")
    totp_enrol(staff)
    # Ten guesses at ten different accounts: only the per-address limit (10 a minute) binds.
    for attempt in range(10):
        answer = servers[attempt % 2].form_post(
            "/admin/login/?next=/admin/", {"login": f"guess-{attempt}", "password": "x"}
        )
        assert answer.url.path == "/accounts/login/"  # the admin signs in through allauth
        assert WRONG in answer.text
        assert TOO_MANY not in answer.text

    for server in servers:
        refused = server.form_post(
            "/admin/login/?next=/admin/", {"login": "sam", "password": PASSWORD}
        )
        assert refused.url.path == "/accounts/login/"
        assert TOO_MANY in refused.text  # not the TOTP step: the password was never checked


def test_password_reset_requests_for_one_address_count_across_both_processes(
    servers: list[Server], maya: Any
) -> None:
    # allauth's default: 5 requests per address a minute.
    for attempt in range(5):
        sent = servers[attempt % 2].form_post(
            "/accounts/password/reset/", {"email": "maya@example.com"}
        )
        assert sent.status_code == 302
        assert sent.headers["location"] == "/accounts/password/reset/done/"

    for server in servers:
        refused = server.form_post("/accounts/password/reset/", {"email": "maya@example.com"})
        assert refused.status_code == 429
        assert 'id="too-many-requests"' in refused.text
