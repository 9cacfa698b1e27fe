"""Names of what we make at Stripe. Event names, lookup keys and idempotency keys are
unique per Stripe account, which several deployments may share, so each carries this
deployment's namespace; metadata ties every object to one tenant's UUID, never its pk."""

from decimal import Decimal
from typing import Any

from billing.conf import setting
from seedance.models import Tenant

NAMESPACE_KEY = "seedance_namespace"
TENANT_KEY = "seedance_tenant"


def namespace() -> str:
    return str(setting("NAMESPACE"))


def price_text(unit_price: Decimal) -> str:
    """0.2419 -> "0.2419"; 0.30 -> "0.3": the same price always reads the same."""
    return format(unit_price.normalize(), "f")


def meter_event_name(resolution: str, unit_price: Decimal) -> str:
    """``<ns>_seconds_720p_0_2419``: a meter per (resolution, unit price)."""
    return f"{namespace()}_seconds_{resolution}_{price_text(unit_price).replace('.', '_')}"


def metered_price_label(resolution: str, unit_price: Decimal) -> str:
    """What the invoice line reads: "Seedance 720p seconds @ $0.2419"."""
    return f"Seedance {resolution} seconds @ ${price_text(unit_price)}"


def object_metadata(tenant: Tenant | None = None) -> dict[str, str]:
    metadata = {NAMESPACE_KEY: namespace()}
    if tenant is not None:
        metadata[TENANT_KEY] = str(tenant.uuid)
        metadata["seedance_tenant_slug"] = tenant.slug
    return metadata


def plain_metadata(metadata: Any) -> dict[str, Any]:
    """The SDK's StripeObject, or a webhook body's dict, as a plain dict."""
    if hasattr(metadata, "to_dict"):
        metadata = metadata.to_dict()
    return metadata if isinstance(metadata, dict) else {}


def is_ours(metadata: Any, tenant: Tenant | None = None) -> bool:
    """Made by this deployment (and for this tenant, when given)."""
    values = plain_metadata(metadata)
    if values.get(NAMESPACE_KEY) != namespace():
        return False
    return tenant is None or values.get(TENANT_KEY) == str(tenant.uuid)


def idempotency_key(*parts: object) -> str:
    """Namespaced, so another deployment's request on the same account never replays ours."""
    return ":".join([namespace(), *(str(part) for part in parts)])


def meter_identifier(run_id: object, generation: int = 1) -> str:
    """``<ns>:<run uuid>``, then ``<ns>:<run uuid>:<n>`` after Stripe refused the previous."""
    base = f"{namespace()}:{run_id}"
    return base if generation <= 1 else f"{base}:{generation}"


#: Bump when the portal configuration's features change: a new key makes a new one.
PORTAL_CONFIGURATION_VERSION = 1


def portal_configuration_key() -> str:
    return idempotency_key("billing-portal-configuration", PORTAL_CONFIGURATION_VERSION)
