"""Times in the portal read as a person says them: "just now" under a minute, never
"0 minutes ago"."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Tenant
from seedance.templatetags.portal_time import ago
from tests.factories import make_run

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("seconds", [0, 1, 59])
def test_under_a_minute_ago_is_just_now(seconds: int) -> None:
    assert ago(NOW - timedelta(seconds=seconds), NOW) == "just now"


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=3, seconds=20), "3 minutes ago"),
        (timedelta(days=2, hours=1), "2 days, 1 hour ago"),
    ],
)
def test_a_minute_or_more_ago_says_how_long(delta: timedelta, words: str) -> None:
    assert ago(NOW - delta, NOW).replace("\xa0", " ") == words


def test_no_moment_is_blank() -> None:
    assert ago(None, NOW) == ""


@pytest.mark.django_db
def test_a_run_made_a_moment_ago_is_listed_as_just_now(
    client: Any, django_user_model: Any, tenant: Tenant
) -> None:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    verified_email_set(user=user, email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    make_run(tenant, created_by=user)
    client.force_login(user)

    html = client.get(reverse("portal:run-list")).content.decode()

    assert "just now</time>" in html
    assert "0\xa0minutes" not in html
    assert "0 minutes" not in html
