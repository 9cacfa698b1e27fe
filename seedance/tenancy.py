"""The one place tenant data is scoped: every tenant query goes through ``for_tenant``.

Which tenant a signed-in person works in is the portal's concern (seedance.portal.access).
"""

from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from seedance.models import Tenant


class TenantQuerySet(models.QuerySet[Any]):
    def for_tenant(self, tenant: "Tenant") -> Self:
        """Rows of ``tenant`` only; a model reached through a parent names the path to the
        tenant in ``tenant_lookup`` (e.g. ``"run__tenant"``)."""
        if tenant is None or tenant.pk is None:
            raise ValueError("for_tenant() needs a saved tenant")
        lookup = getattr(self.model, "tenant_lookup", "tenant")
        return self.filter(**{lookup: tenant})
