"""Field types every billing model shares."""

from typing import Any

from django.db import models


def money(**options: Any) -> "models.DecimalField[Any, Any]":
    """USD with sub-cent precision: per-second prices like 0.2419 multiply exactly."""
    return models.DecimalField(max_digits=14, decimal_places=6, **options)
