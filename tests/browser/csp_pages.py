"""Every page a person can reach, read off the URLconf and the admin's registry, with the
rows that make each one show all it can (a pending email change, an open invitation, a
played video, held runs to moderate).

``PAGES`` names each page's visitor and address; ``NOT_PAGES`` says why a URL name is no
page of its own. tests/browser/test_content_security_policy.py checks the two together
cover the URLconf, so a new page must be added to one of them.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from seedance.audit import Actor
from seedance.models import (
    Membership,
    OutputFile,
    Run,
    RunDiscrepancy,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from seedance.outcomes import DEADLINE_EXCEEDED
from seedance.services.keys import api_key_issue
from seedance.services.members import invitation_create
from seedance.services.shares import share_link_create
from seedance.states import Attention, RunStatus
from seedance.webhooks.encryption import secret_encrypt
from seedance.webhooks.events import TEST_EVENT, event_record_for
from seedance.webhooks.signing import new_secret
from tests.browser.conftest import PASSWORD
from tests.conftest import totp_enrol
from tests.factories import SYSTEM, finish_successfully, make_person, make_run

#: A visitor signs in as nobody, a member as a tenant admin, staff as a superuser with TOTP.
VISITOR, MEMBER, STAFF = "visitor", "member", "staff"


@dataclass
class World:
    """The rows every page is shown with."""

    tenant: Tenant
    member: User
    staff: User
    run: Run
    held_run: Run
    invitation_token: str
    member_invitation_token: str
    unverified: EmailAddress
    staff_totp_secret: str
    webhook_endpoint: WebhookEndpoint


@dataclass(frozen=True)
class Page:
    who: str
    path: Callable[[World], str]
    #: Where the visit must end when the page redirects to itself under another address.
    lands_on: str = ""
    #: What the person does first for the page to be offered at all (page, base URL, rows).
    before: Callable[[Any, str, World], None] = lambda page, base_url, world: None


def _share_link(world: World) -> str:
    issued = share_link_create(run=world.run, days=7, actor=Actor.tenant_admin(world.member))
    return reverse("seedance:shared-video", args=[issued.token])


def _plain(name: str) -> Callable[[World], str]:
    return lambda world: reverse(name)


def _reset_key(world: World) -> str:
    key = default_token_generator.make_token(world.member)
    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(world.member), "key": key},
    )


def _reauthenticate(page: Any, base_url: str, world: World) -> None:
    """allauth changes an authenticator only after a fresh reauthentication."""
    page.goto(f"{base_url}{reverse('account_reauthenticate')}")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/reauthenticate/" not in url)


def _cancel_email_change_and_reauthenticate(page: Any, base_url: str, world: World) -> None:
    """allauth offers no authenticator while an address is unverified (account_email has
    shown the pending change)."""
    world.unverified.delete()
    _reauthenticate(page, base_url, world)


PAGES: dict[str, Page] = {
    # Signed out: allauth's entrance and recovery pages, and an emailed invitation.
    "account_login": Page(VISITOR, _plain("account_login")),
    "account_signup": Page(VISITOR, _plain("account_signup")),
    "account_reset_password": Page(VISITOR, _plain("account_reset_password")),
    "account_reset_password_done": Page(VISITOR, _plain("account_reset_password_done")),
    "account_reset_password_from_key": Page(VISITOR, _reset_key, lands_on="-set-password/"),
    "account_reset_password_from_key_done": Page(
        VISITOR, _plain("account_reset_password_from_key_done")
    ),
    "account_email_verification_sent": Page(VISITOR, _plain("account_email_verification_sent")),
    "account_confirm_email": Page(
        VISITOR,
        lambda w: reverse("account_confirm_email", args=[EmailConfirmationHMAC(w.unverified).key]),
    ),
    "account_inactive": Page(VISITOR, _plain("account_inactive")),
    "portal:invitation": Page(
        VISITOR, lambda w: reverse("portal:invitation", args=[w.invitation_token])
    ),
    "seedance:shared-video": Page(VISITOR, _share_link),
    # A tenant admin: the portal, billing's pages in it, and their own account.
    "portal:home": Page(MEMBER, _plain("portal:home"), lands_on="/runs/"),
    "portal:run-list": Page(MEMBER, _plain("portal:run-list")),
    "portal:run-create": Page(MEMBER, _plain("portal:run-create")),
    "portal:run-detail": Page(MEMBER, lambda w: reverse("portal:run-detail", args=[w.run.pk])),
    "portal:share-links": Page(MEMBER, lambda w: reverse("portal:share-links", args=[w.run.pk])),
    "portal:video-delete": Page(MEMBER, lambda w: reverse("portal:video-delete", args=[w.run.pk])),
    "portal:tenant-create": Page(MEMBER, _plain("portal:tenant-create")),
    "portal:switch-tenant": Page(MEMBER, _plain("portal:switch-tenant")),
    "portal:manage": Page(MEMBER, _plain("portal:manage")),
    "portal:keys": Page(MEMBER, _plain("portal:keys")),
    "portal:members": Page(MEMBER, _plain("portal:members")),
    "portal:tenant-settings": Page(MEMBER, _plain("portal:tenant-settings")),
    "portal:audit-log": Page(MEMBER, _plain("portal:audit-log")),
    "portal:webhooks": Page(MEMBER, _plain("portal:webhooks")),
    "portal:webhook-endpoint": Page(
        MEMBER, lambda w: reverse("portal:webhook-endpoint", args=[w.webhook_endpoint.pk])
    ),
    "billing_portal:usage": Page(MEMBER, _plain("billing_portal:usage")),
    "billing_portal:caps": Page(MEMBER, _plain("billing_portal:caps")),
    "billing_portal:billing": Page(MEMBER, _plain("billing_portal:billing")),
    "accounts:delete": Page(MEMBER, _plain("accounts:delete")),
    "account_email": Page(MEMBER, _plain("account_email")),
    "account_change_password": Page(MEMBER, _plain("account_change_password")),
    "account_set_password": Page(
        MEMBER, _plain("account_set_password"), lands_on="/accounts/password/change/"
    ),
    "account_request_reauthentication_code": Page(
        MEMBER, _plain("account_request_reauthentication_code")
    ),
    "account_logout": Page(MEMBER, _plain("account_logout")),
    "mfa_activate_totp": Page(
        MEMBER, _plain("mfa_activate_totp"), before=_cancel_email_change_and_reauthenticate
    ),
    # Invited to another tenant, the member sees the answer buttons.
    "portal:invitation#yours": Page(
        MEMBER, lambda w: reverse("portal:invitation", args=[w.member_invitation_token])
    ),
    # Staff, signed in with TOTP (allauth's 2FA step is visited on the way in).
    "mfa_index": Page(STAFF, _plain("mfa_index")),
    "mfa_reauthenticate": Page(STAFF, _plain("mfa_reauthenticate")),
    "account_reauthenticate": Page(STAFF, _plain("account_reauthenticate")),
    "mfa_deactivate_totp": Page(STAFF, _plain("mfa_deactivate_totp"), before=_reauthenticate),
    "mfa_view_recovery_codes": Page(STAFF, _plain("mfa_view_recovery_codes")),
    "mfa_generate_recovery_codes": Page(STAFF, _plain("mfa_generate_recovery_codes")),
}


#: The step of a journey a page is seen in rather than visited directly.
SEEN_ON_THE_WAY = {"mfa_authenticate": "the second step of staff's sign-in"}

NOT_PAGES: dict[str, str] = {
    "portal:run-rows": "htmx fragment of portal:run-list",
    "portal:run-status": "htmx fragment of portal:run-detail",
    "billing_portal:estimate": "htmx fragment of portal:run-create",
    "portal:run-code": "htmx fragment of portal:run-create (copy-as-code)",
    "billing_portal:usage-csv": "a CSV download of billing_portal:usage",
    "billing_portal:invoice-preview": "htmx fragment of billing_portal:usage",
    "billing_portal:run-cost": "htmx fragment of portal:run-detail",
    "billing_portal:checkout-done": "Checkout's return: redirects to billing_portal:billing",
    "seedance:output-file": "the video itself, played on portal:run-detail",
    "seedance:output-poster": "the video's poster image, shown on portal:run-detail",
    "seedance:shared-video-file": "the video itself, played on seedance:shared-video",
    "seedance:shared-video-poster": "the poster image, shown on seedance:shared-video",
    "schema": "the OpenAPI document (YAML) Swagger UI reads",
    "swagger-ui": "its own test in test_content_security_policy.py",
    "mfa_download_recovery_codes": "a text file",
    "health-live": "a probe's JSON for the orchestrator",
    "health-ready": "a probe's JSON for the orchestrator",
    "metrics": "Prometheus's text format for the scraper",
    "account_confirm_login_code": "login by code is off: with no code sent it redirects away",
    "account_confirm_reauthentication_code": "with no code sent it redirects to the request",
}


def _patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    """Every named URL pattern: its route, its namespaced name, the pattern."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        elif entry.name:
            yield prefix + str(entry.pattern), namespace + entry.name, entry


def _post_only(pattern: URLPattern) -> bool:
    """A class-based view with no GET handler: a form's target, answering GET with 405."""
    view_class = getattr(pattern.callback, "view_class", None)
    return view_class is not None and (
        "get" not in view_class.http_method_names or not hasattr(view_class, "get")
    )


def url_names_to_sweep() -> set[str]:
    """Every named URL a browser may GET, outside the admin (swept from its registry) and
    the JSON APIs (ours and the Runflow-compatible one): form targets that answer only POST
    are not pages."""
    return {
        name
        for route, name, pattern in _patterns(get_resolver())
        if not route.startswith(("admin/", "api/v1/", "v1/")) and not _post_only(pattern)
    }


def admin_paths(world: World) -> dict[str, str]:
    """The admin's index, every app's index, and for every registered model its changelist,
    add form, and its first row's change, history and delete pages."""
    paths = {"admin:index": reverse("admin:index")}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        info = f"admin:{opts.app_label}_{opts.model_name}"
        paths[f"admin:app_list:{opts.app_label}"] = reverse("admin:app_list", args=[opts.app_label])
        paths[f"{info}_changelist"] = reverse(f"{info}_changelist")
        if model_admin.has_add_permission(_staff_request(world)):
            paths[f"{info}_add"] = reverse(f"{info}_add")
        row = first_row(model)
        if row is not None:
            paths[f"{info}_change"] = reverse(f"{info}_change", args=[row.pk])
            paths[f"{info}_history"] = reverse(f"{info}_history", args=[row.pk])
            if model_admin.has_delete_permission(_staff_request(world), row):
                paths[f"{info}_delete"] = reverse(f"{info}_delete", args=[row.pk])
    paths["admin:password_change"] = reverse("admin:password_change")
    paths["admin:auth_user_password_change"] = reverse(
        "admin:auth_user_password_change", args=[world.member.pk]
    )
    return paths


def first_row(model: type[Model]) -> Model | None:
    return model._default_manager.order_by("pk").first()


def _staff_request(world: World) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = world.staff
    return request


def our_admin_actions() -> dict[type[Model], list[str]]:
    """The actions of our own apps' admins (their confirmation pages are ours): each model
    with a row gets each of its actions run from the changelist, up to its confirmation."""
    actions: dict[type[Model], list[str]] = {}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"seedance", "billing"} and model_admin.actions:
            actions[model] = [
                action if isinstance(action, str) else action.__name__
                for action in model_admin.actions
            ]
    return actions


def _webhook_endpoints(tenant: Tenant) -> WebhookEndpoint:
    """An endpoint with a delivery retried after a 500 and a disabled one beside it, made
    as rows (their made-up hosts resolve nowhere, so the outbound guard would refuse them)."""
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url="https://hooks.orbit.example/seedance",
        events=["run.succeeded", "run.failed"],
        description="Production app",
        secret_encrypted=secret_encrypt(new_secret()),
    )
    WebhookEndpoint.objects.create(
        tenant=tenant,
        url="https://old.orbit.example/hooks",
        events=["run.succeeded"],
        enabled=False,
        disabled_at=timezone.now(),
        disabled_reason="Answered 410 Gone.",
        secret_encrypted=secret_encrypt(new_secret()),
    )
    event_record_for(tenant, TEST_EVENT, [endpoint], data={"endpoint_id": str(endpoint.pk)})
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        sent_at=timezone.now(),
        webhook_timestamp=int(timezone.now().timestamp()),
        status_code=500,
        latency_ms=87,
        response_body='{"error": "database is down"}',
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=1, last_status=500)
    return endpoint


def build_world(video: Path) -> World:
    """The rows: a tenant whose admin has a played video, a pending email change and an
    invitation elsewhere, and webhook endpoints with a delivery log; a held run and an
    invitation for the staff's queue."""
    tenant = Tenant.objects.create(slug="orbit", name="Orbit Apps")
    other = Tenant.objects.create(slug="kiln", name="Kiln Films")
    stripe_provision(client=stripe_client(), tenants=[tenant])
    member = make_person("ada", "ada@example.com", PASSWORD)
    Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.ADMIN)
    unverified = EmailAddress.objects.create(
        user=member, email="ada.new@example.com", verified=False, primary=False
    )
    staff = User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    EmailAddress.objects.create(user=staff, email="staff@example.com", verified=True, primary=True)
    secret = totp_enrol(staff)
    RecoveryCodes.activate(staff)
    Group.objects.create(name="Support")
    api_key_issue(tenant=tenant, name="Production", actor=SYSTEM)
    run = finish_successfully(make_run(tenant, created_by=member, duration="4"))
    stored = OutputFile.objects.get(run=run)
    Path(stored.file.path).write_bytes(video.read_bytes())
    OutputFile.objects.filter(pk=stored.pk).update(size=video.stat().st_size)
    held = finish_successfully(make_run(tenant, created_by=member), nsfw_detected=True)
    late = make_run(
        tenant,
        status=RunStatus.FAILED,
        failure_code=DEADLINE_EXCEEDED,
        attention=Attention.OVERDUE,
        completed_at=timezone.now(),
        provider_run_id="rf-late-1",
    )
    RunDiscrepancy.objects.create(
        run=late,
        kind=RunDiscrepancy.Kind.PAID_NOT_BILLED,
        provider_run_id="rf-late-1",
        provider_status="succeeded",
        cost=Decimal("0.9676"),
    )
    invited = invitation_create(
        tenant=tenant, email="grace@example.com", role="member", actor=Actor.tenant_admin(member)
    )
    member_invited = invitation_create(
        tenant=other, email="ada@example.com", role="member", actor=SYSTEM
    )
    return World(
        webhook_endpoint=_webhook_endpoints(tenant),
        tenant=tenant,
        member=member,
        staff=staff,
        run=run,
        held_run=held,
        invitation_token=invited.token,
        member_invitation_token=member_invited.token,
        unverified=unverified,
        staff_totp_secret=secret,
    )
