""" "Cancel" is offered only while cancel can work (before a submit task claims the run),
and what the page says when it can't names no provider."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Run, Tenant
from seedance.services.runs import NOT_CANCELABLE_MESSAGE, run_cancelable
from seedance.states import RunStatus
from tests.factories import make_run


@pytest.fixture
def person(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    verified_email_set(user=user, email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def signed_in(client: Client, person: Any) -> Client:
    client.force_login(person)
    return client


def test_unclaimed_queued_run_offers_cancel(signed_in: Client, person: Any, tenant: Tenant) -> None:
    run = make_run(tenant, created_by=person)
    assert run_cancelable(run)
    assert b'id="run-cancel"' in signed_in.get(reverse("portal:run-detail", args=[run.pk])).content


@pytest.mark.parametrize(
    "fields",
    [
        {"claimed_at": timezone.now()},
        {"claimed_at": timezone.now(), "provider_run_id": "rf_1", "status": RunStatus.RUNNING},
    ],
)
def test_claimed_run_offers_no_cancel(
    signed_in: Client, person: Any, tenant: Tenant, fields: dict[str, Any]
) -> None:
    run = make_run(tenant, created_by=person, **fields)
    assert not run_cancelable(run)
    page = signed_in.get(reverse("portal:run-detail", args=[run.pk])).content
    assert b'id="run-cancel"' not in page


def test_cancel_of_a_claimed_run_refuses_in_words_that_name_no_provider(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(tenant, created_by=person, claimed_at=timezone.now())
    response = signed_in.post(reverse("portal:run-cancel", args=[run.pk]), follow=True)
    html = response.content.decode()
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
    assert NOT_CANCELABLE_MESSAGE.replace("'", "&#x27;") in html
    assert "runflow" not in NOT_CANCELABLE_MESSAGE.lower()
