"""Two tenants, each with one of every kind of object a tenant owns, made the way the
product makes them (services, the terminal transition, the webhook fan-out).

Every string that names a tenant's data carries the tenant's word (``aardvark`` for A,
``bumblebee`` for B) so that a page showing A's data to B is seen by a plain search.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import EndUserLimit, TenantBilling
from seedance.compat.callback_secrets import callback_secret_create
from seedance.compat.callbacks import callback_record
from seedance.models import (
    ApiKey,
    CallbackSecret,
    Invitation,
    Membership,
    Run,
    ShareLink,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from seedance.moderation import run_reject
from seedance.services.keys import api_key_issue
from seedance.services.members import invitation_create
from seedance.services.shares import share_link_create
from seedance.states import RunStatus
from seedance.webhooks.encryption import secret_encrypt
from seedance.webhooks.endpoints import webhook_endpoint_send_test
from seedance.webhooks.events import EVENT_TYPES
from seedance.webhooks.signing import new_secret
from tests.billing.factories import billable_run, new_price
from tests.factories import SYSTEM, make_person, make_run


@dataclass
class TenantWorld:
    """One tenant's rows, its people, and the strings that would show them on a page."""

    word: str
    tenant: Tenant
    admin: User
    member: User
    invitee: User
    secret: str
    key: ApiKey
    runs: dict[str, Run]
    endpoint: WebhookEndpoint
    delivery: WebhookDelivery
    membership: Membership
    invitation: Invitation
    invitation_token: str
    share_link: ShareLink
    callback_secret: CallbackSecret
    limit: EndUserLimit
    end_user_id: str
    strings: set[str] = field(default_factory=set)

    def api(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.secret}")
        return client

    def portal(self, user: User | None = None) -> Client:
        client = Client()
        client.force_login(user or self.admin)
        return client

    @property
    def run(self) -> Run:
        """The succeeded run: it has outputs, a charge, a share link and deliveries."""
        return self.runs["succeeded"]


def build(word: str) -> TenantWorld:
    """A tenant named after ``word`` with one of everything, in several run states."""
    tenant = Tenant.objects.create(slug=word, name=f"{word.title()} Ltd")
    TenantBilling.objects.filter(pk=tenant.pk).update(
        payment_method_id=f"pm_{word}", payment_method_brand="visa", payment_method_last4="4242"
    )
    admin = make_person(f"{word}-admin", f"{word}-admin@example.com", "pw-12345678")
    member = make_person(f"{word}-member", f"{word}-member@example.com", "pw-12345678")
    invitee = make_person(f"{word}-invitee", f"{word}-invitee@example.com", "pw-12345678")
    Membership.objects.create(
        user=admin, tenant=tenant, role=Membership.Role.ADMIN, last_used_at=timezone.now()
    )
    membership = Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.MEMBER)
    issued = api_key_issue(tenant=tenant, name=f"{word} key", actor=SYSTEM)
    end_user_id = f"{word}-end-user"

    def runs_of(state: str, **fields: Any) -> dict[str, Any]:
        return {"prompt": f"{word} prompt {state}", "end_user_id": end_user_id, **fields}

    succeeded = billable_run(tenant, created_by=admin, **runs_of("succeeded"))
    held = billable_run(tenant, created_by=admin, nsfw_detected=True, **runs_of("held"))
    rejected = billable_run(tenant, created_by=admin, nsfw_detected=True, **runs_of("rejected"))
    run_reject(run_id=rejected.pk, decided_by=admin, reason=f"{word} reason")
    runs = {
        "queued": make_run(tenant, created_by=admin, **runs_of("queued")),
        "running": make_run(
            tenant, created_by=admin, status=RunStatus.RUNNING, **runs_of("running")
        ),
        "succeeded": succeeded,
        "held": Run.objects.get(pk=held.pk),
        "rejected": Run.objects.get(pk=rejected.pk),
        "failed": make_run(tenant, created_by=admin, status=RunStatus.FAILED, **runs_of("failed")),
        "canceled": make_run(
            tenant, created_by=admin, status=RunStatus.CANCELED, **runs_of("canceled")
        ),
        "members": make_run(tenant, created_by=member, **runs_of("members")),
        "api": _api_run(issued.secret, idempotency_key(word), runs_of("api")),
    }
    callback_secret, _ = callback_secret_create(tenant=tenant, actor=SYSTEM)
    Run.objects.filter(pk=succeeded.pk).update(
        client_ref=f"{word}-client-ref", callback_url=f"https://hooks.example.com/{word}/cb"
    )
    callback_record(Run.objects.get(pk=succeeded.pk))
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url=f"https://hooks.example.com/{word}",
        description=f"{word} endpoint",
        events=list(EVENT_TYPES),
        secret_encrypted=secret_encrypt(new_secret()),
    )
    webhook_endpoint_send_test(endpoint)
    delivery = _delivered(endpoint)
    invited = invitation_create(
        tenant=tenant, email=invitee.email, role=Membership.Role.MEMBER, actor=SYSTEM
    )
    shared = share_link_create(run=succeeded, days=7, actor=SYSTEM)
    new_price(tenant, "720p", price_of(word))
    limit = EndUserLimit.objects.create(
        tenant=tenant, end_user_id=f"{word}-capped-user", monthly_spend_cap=Decimal("50")
    )
    world = TenantWorld(
        word=word,
        tenant=tenant,
        admin=admin,
        member=member,
        invitee=invitee,
        secret=issued.secret,
        key=issued.api_key,
        runs=runs,
        endpoint=endpoint,
        delivery=delivery,
        membership=membership,
        invitation=invited.invitation,
        invitation_token=invited.token,
        share_link=shared.link,
        callback_secret=callback_secret,
        limit=limit,
        end_user_id=end_user_id,
    )
    world.strings = _identifying_strings(world, shared.token)
    return world


def idempotency_key(word: str) -> str:
    """The Idempotency-Key ``word``'s tenant created a run with."""
    return f"{word}-idempotency-key"


def price_of(word: str) -> str:
    """The tenant's own per-second price for 720p: a number no other price has."""
    return "0.4321" if word == "aardvark" else "0.1357"


def _api_run(secret: str, key: str, body: dict[str, Any]) -> Run:
    """A run made through the API, as a tenant's app makes one, with an Idempotency-Key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post(reverse("api:runs"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    return Run.objects.get(pk=response.json()["id"])


def _delivered(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The test event's delivery, failed once then delivered, as the sender leaves it."""
    now = timezone.now()
    delivery = endpoint.deliveries.get()
    for number in (1, 2):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            sent_at=now - timedelta(minutes=3 - number),
            webhook_timestamp=int(now.timestamp()),
            status_code=503 if number == 1 else 200,
            latency_ms=20,
        )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.DELIVERED,
        attempts=2,
        last_status=200,
        delivered_at=now,
        next_attempt_at=None,
    )
    return WebhookDelivery.objects.get(pk=delivery.pk)


def _identifying_strings(world: TenantWorld, share_token: str) -> set[str]:
    """What would show this tenant's data: its word (in every name, prompt, email and
    end-user id), its run and endpoint ids, its key's prefix and its secret tokens."""
    return {
        world.word,
        world.tenant.name,
        world.end_user_id,
        world.limit.end_user_id,
        world.key.prefix,
        world.secret,
        idempotency_key(world.word),
        price_of(world.word),
        world.invitation_token,
        share_token,
        str(world.endpoint.pk),
        str(world.callback_secret.pk),
        world.callback_secret.hint,
        str(world.delivery.event_id),
        *(run.prompt for run in world.runs.values()),
        *(str(run.pk) for run in world.runs.values()),
        *(user.email for user in (world.admin, world.member, world.invitee)),
    }
