"""``Authorization: Bearer <api key>`` → the key's tenant, on ``request.auth``.

A bad key counts against its client address (seedance.api.throttling): past the limit the
answer is 429 instead of 401, while valid keys from that address are still served.

A suspended tenant's key is still identified (and its use recorded), then refused with
403 ``tenant_suspended``, so its app can tell a suspension from a wrong or revoked key.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from seedance.api.throttling import auth_failure_record
from seedance.audit import Actor
from seedance.exceptions import TenantSuspended
from seedance.log_context import bind_tenant
from seedance.models import ApiKey, Tenant
from seedance.services.keys import api_key_authenticate_cached

SUSPENDED_MESSAGE = (
    "This tenant is suspended by the platform: its API keys are refused until it is resumed. "
    "Runs already in generation still finish."
)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        try:
            return self._authenticate(request)
        except exceptions.AuthenticationFailed:
            auth_failure_record(request)
            raise

    def _authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].decode(errors="replace").lower() != self.keyword.lower() or len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        api_key = api_key_authenticate_cached(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        bind_tenant(api_key.tenant)
        if api_key.tenant.is_suspended:
            raise TenantSuspended(SUSPENDED_MESSAGE)
        return TenantPrincipal(api_key.tenant), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TenantPrincipal:
    """``request.user`` for an API call: the tenant app, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def __str__(self) -> str:
        return f"tenant:{self.tenant.slug}"


def tenant_of(request: Request) -> Tenant:
    """The tenant every API query is scoped to."""
    principal = request.user
    if not isinstance(principal, TenantPrincipal):
        raise exceptions.NotAuthenticated()
    return principal.tenant


def actor_of(request: Request) -> Actor:
    """Who the audit log names for an API call: the key it came with."""
    if not isinstance(request.auth, ApiKey):
        raise exceptions.NotAuthenticated()
    return Actor.api_key(request.auth)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular (and so Swagger UI) that the API takes a bearer key."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A tenant API key."}
