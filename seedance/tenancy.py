"""The one place tenant data is scoped: every tenant query goes through ``for_tenant``."""

from typing import TYPE_CHECKING, Any, Self

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest

if TYPE_CHECKING:
    from seedance.models import Membership, Tenant


class TenantQuerySet(models.QuerySet[Any]):
    def for_tenant(self, tenant: "Tenant") -> Self:
        """Rows of ``tenant`` only; a model reached through a parent names the path to the
        tenant in ``tenant_lookup`` (e.g. ``"run__tenant"``)."""
        if tenant is None or tenant.pk is None:
            raise ValueError("for_tenant() needs a saved tenant")
        lookup = getattr(self.model, "tenant_lookup", "tenant")
        return self.filter(**{lookup: tenant})


SESSION_TENANT_KEY = "seedance_tenant_id"


def current_membership(request: HttpRequest) -> "Membership":
    """The signed-in person's membership in the tenant they are working in.

    Checked on every request: the tenant chosen in the session must still be one the
    person belongs to; otherwise their first membership is used. No membership at all is
    PermissionDenied (a 403), never another tenant's data.
    """
    from seedance.models import Membership

    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    memberships = Membership.objects.select_related("tenant").filter(user=user)
    chosen = request.session.get(SESSION_TENANT_KEY)
    membership = (chosen and memberships.filter(tenant_id=chosen).first()) or memberships.order_by(
        "tenant__name"
    ).first()
    if membership is None:
        raise PermissionDenied("You are not a member of any tenant.")
    if chosen != membership.tenant_id:  # no session write on every (polled) request
        request.session[SESSION_TENANT_KEY] = membership.tenant_id
    return membership


def switch_tenant(request: HttpRequest, tenant_id: int) -> "Membership":
    """Make ``tenant_id`` the session's tenant, if the person belongs to it."""
    from seedance.models import Membership

    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    membership = Membership.objects.select_related("tenant").get(
        user=request.user, tenant_id=tenant_id
    )
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    return membership
