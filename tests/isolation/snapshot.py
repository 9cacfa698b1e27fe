"""Every row a tenant owns, read as plain values: equal before and after a request means
the request changed nothing of that tenant's."""

from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.db import models

from seedance.models import Tenant

#: Apps whose rows a tenant owns.
APPS = ("seedance", "billing")
#: How far a foreign-key path to the tenant is followed (OutputFile -> Run -> Tenant is 2).
DEPTH = 3


def snapshot(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """Each model's rows that reach ``tenant`` by foreign keys, and its people's accounts."""
    rows = {}
    for model in (m for app in APPS for m in apps.get_app_config(app).get_models()):
        path = tenant_path(model)
        if path is not None:
            query = model._default_manager.filter(**{path: tenant.pk}).order_by("pk")
            rows[model._meta.label] = list(query.values())
    people = User.objects.filter(memberships__tenant=tenant).order_by("pk")
    rows["auth.User"] = list(people.values())
    return rows


def tenant_path(model: type[models.Model], depth: int = DEPTH) -> str | None:
    """The shortest lookup from ``model`` to its tenant's pk (``"pk"`` for Tenant itself)."""
    if model is Tenant:
        return "pk"
    if depth == 0:
        return None
    paths = []
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.related_model is None:
            continue
        inner = tenant_path(field.related_model, depth - 1)
        if inner is not None:
            paths.append(field.name if inner == "pk" else f"{field.name}__{inner}")
    return min(paths, key=lambda path: path.count("__"), default=None)
