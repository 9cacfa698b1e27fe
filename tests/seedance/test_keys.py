"""API keys: shown once, stored as a SHA-256 digest, named, revocable; and `createtenant`."""

import hashlib
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.models import ApiKey, Run, Tenant
from seedance.services.keys import (
    LAST_USED_RESOLUTION_SECONDS,
    IssuedKey,
    api_key_authenticate,
    api_key_issue,
    api_key_revoke,
    digest_of,
)
from tests.factories import SYSTEM

KEY_PATTERN = re.compile(r"^sdk_[A-Za-z0-9]{8}_[A-Za-z0-9]{40}$")


def authed_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def createtenant(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("createtenant", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- issue ----------------------------------------------------------------------------


def test_issued_key_has_letters_digits_and_underscores_only(issued_key: IssuedKey) -> None:
    assert KEY_PATTERN.match(issued_key.secret)
    assert re.fullmatch(r"[A-Za-z0-9_]+", issued_key.api_key.prefix)


def test_prefix_is_the_visible_start_of_the_key(issued_key: IssuedKey) -> None:
    prefix = issued_key.api_key.prefix
    assert issued_key.secret.startswith(prefix + "_")
    assert len(issued_key.secret) > len(prefix) + 32
    assert prefix in str(issued_key.api_key)


def test_only_the_sha256_digest_is_stored(issued_key: IssuedKey) -> None:
    row = ApiKey.objects.filter(pk=issued_key.api_key.pk).values().get()
    assert row["digest"] == hashlib.sha256(issued_key.secret.encode()).hexdigest()
    assert row["digest"] == digest_of(issued_key.secret)
    assert all(issued_key.secret not in str(value) for value in row.values())


def test_issued_key_is_named_active_and_unused(issued_key: IssuedKey, tenant: Tenant) -> None:
    api_key = ApiKey.objects.get(pk=issued_key.api_key.pk)
    assert api_key.tenant == tenant
    assert api_key.name == "test"
    assert api_key.is_active
    assert api_key.revoked_at is None
    assert api_key.last_used_at is None
    assert api_key.created_at is not None


def test_every_issued_key_is_different(tenant: Tenant) -> None:
    issued = [api_key_issue(tenant=tenant, name=f"k{n}", actor=SYSTEM) for n in range(20)]
    assert len({key.secret for key in issued}) == 20
    assert len({key.api_key.prefix for key in issued}) == 20
    assert len({key.api_key.digest for key in issued}) == 20


def test_digest_is_unique_in_the_database(
    issued_key: IssuedKey, tenant: Tenant, other_tenant: Tenant
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(
            tenant=other_tenant, name="copy", prefix="sdk_x", digest=issued_key.api_key.digest
        )


# --- authenticate ---------------------------------------------------------------------


def test_issued_key_authenticates_to_its_tenant(issued_key: IssuedKey, tenant: Tenant) -> None:
    api_key = api_key_authenticate(issued_key.secret)
    assert api_key is not None
    assert api_key.pk == issued_key.api_key.pk
    assert api_key.tenant == tenant


@pytest.mark.parametrize(
    "transform",
    [
        lambda s: "",
        lambda s: s[:-1],
        lambda s: s + "x",
        lambda s: s.upper(),
        lambda s: s.split("_", 2)[0] + "_" + s.split("_", 2)[1],
        lambda s: digest_of(s),
        lambda s: s + "x" * 200,
    ],
    ids=["empty", "truncated", "extended", "uppercased", "prefix-only", "digest", "very-long"],
)
def test_anything_but_the_exact_key_is_refused(issued_key: IssuedKey, transform: Any) -> None:
    assert api_key_authenticate(transform(issued_key.secret)) is None


def test_first_use_records_last_used_time(issued_key: IssuedKey) -> None:
    before = timezone.now()
    api_key_authenticate(issued_key.secret)
    last_used = ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at
    assert last_used is not None
    assert last_used >= before


def test_last_used_time_is_rewritten_at_most_once_a_minute(issued_key: IssuedKey) -> None:
    recent = timezone.now() - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS - 10)
    ApiKey.objects.filter(pk=issued_key.api_key.pk).update(last_used_at=recent)
    api_key_authenticate(issued_key.secret)
    assert ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at == recent

    stale = timezone.now() - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS + 10)
    ApiKey.objects.filter(pk=issued_key.api_key.pk).update(last_used_at=stale)
    api_key_authenticate(issued_key.secret)
    assert ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at > stale


def test_api_call_records_last_used_time(issued_key: IssuedKey, api_client: APIClient) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    assert ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at is not None


# --- revoke ---------------------------------------------------------------------------


def test_revoked_key_no_longer_authenticates(issued_key: IssuedKey, tenant: Tenant) -> None:
    revoked = api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM)
    assert revoked.revoked_at is not None
    assert not revoked.is_active
    assert api_key_authenticate(issued_key.secret) is None


def test_revoke_is_idempotent(issued_key: IssuedKey, tenant: Tenant) -> None:
    first = api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM).revoked_at
    second = api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM).revoked_at
    assert first == second == ApiKey.objects.get(pk=issued_key.api_key.pk).revoked_at


def test_revoking_one_key_leaves_the_others(issued_key: IssuedKey, tenant: Tenant) -> None:
    spare = api_key_issue(tenant=tenant, name="spare", actor=SYSTEM)
    api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM)
    assert api_key_authenticate(spare.secret) is not None


def test_a_tenant_cannot_revoke_another_tenants_key(
    issued_key: IssuedKey, other_tenant: Tenant
) -> None:
    with pytest.raises(ApiKey.DoesNotExist):
        api_key_revoke(tenant=other_tenant, key_id=issued_key.api_key.pk, actor=SYSTEM)
    assert api_key_authenticate(issued_key.secret) is not None


# --- createtenant ---------------------------------------------------------------------


def test_createtenant_prints_a_working_key_alone_on_the_last_line(db: None) -> None:
    out, err = createtenant("newco")
    secret = out.splitlines()[-1]
    assert KEY_PATTERN.match(secret)
    assert out.endswith(secret + "\n")
    assert secret not in err

    tenant = Tenant.objects.get(slug="newco")
    assert tenant.name == "newco"
    api_key = ApiKey.objects.get(tenant=tenant)
    assert api_key.digest == digest_of(secret)
    assert api_key.prefix in err

    client = authed_client(secret)
    created = client.post("/api/v1/runs", {"prompt": "hello"}, format="json")
    assert created.status_code == 201
    assert Run.objects.get(pk=created.json()["id"]).tenant == tenant
    assert client.get("/api/v1/runs").json()["results"][0]["id"] == created.json()["id"]


def test_createtenant_reuses_the_tenant_and_adds_a_key(tenant: Tenant) -> None:
    first = createtenant(tenant.slug)[0].splitlines()[-1]
    second = createtenant(tenant.slug, "--name", "Ignored")[0].splitlines()[-1]
    assert first != second
    assert Tenant.objects.filter(slug=tenant.slug).count() == 1
    assert Tenant.objects.get(slug=tenant.slug).name == "Acme"
    assert ApiKey.objects.filter(tenant=tenant).count() == 2
    for secret in (first, second):
        authenticated = api_key_authenticate(secret)
        assert authenticated is not None
        assert authenticated.tenant == tenant


def test_createtenant_takes_a_name_and_key_name(db: None) -> None:
    secret = createtenant("initech", "--name", "Initech Inc.", "--key-name", "ci")[0]
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.name == "Initech Inc."
    assert ApiKey.objects.get(tenant=tenant).name == "ci"
    assert api_key_authenticate(secret.splitlines()[-1]) is not None


def test_createtenant_refuses_a_bad_slug(db: None) -> None:
    with pytest.raises((ValidationError, CommandError)):
        createtenant("not a slug!")
    assert not Tenant.objects.exists()
    assert not ApiKey.objects.exists()


def test_every_key_is_letters_digits_and_underscores_as_runflows_sdk_requires(
    tenant: Tenant,
) -> None:
    """Runflow's JavaScript SDK refuses a key not matching /^[a-z0-9_]+$/i: an app that
    switches to us keeps its SDK, so our keys must stay within that alphabet."""
    keys = [api_key_issue(tenant=tenant, name=f"k{n}", actor=SYSTEM).secret for n in range(50)]
    assert [key for key in keys if not re.fullmatch(r"[a-z0-9_]+", key, re.IGNORECASE)] == []
