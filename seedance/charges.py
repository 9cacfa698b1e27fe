"""What runs cost, as the app that bills them says: seedance shows a run's charge without
knowing who keeps the ledger. billing registers its reader from ``ready()``; without it
no run has a charge."""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from uuid import UUID

#: estimate: reserved while in flight (at most this); pending: owed, not yet on an invoice;
#: billed: Stripe accepted it, so the invoice charges it; not_billed: nothing is owed.
ChargeState = Literal["estimate", "pending", "billed", "not_billed"]


@dataclass(frozen=True)
class Charge:
    state: ChargeState
    amount: Decimal
    currency: str
    unit_price: Decimal
    #: The seconds billed, once the run's ledger row exists.
    seconds: int | None = None
    #: The Stripe meter event that carries it (its ``identifier``), once there is one.
    meter_event_identifier: str | None = None


ChargeReader = Callable[[Collection[UUID]], dict[UUID, Charge]]

_readers: dict[str, ChargeReader] = {}


def register_charge_reader(name: str, reader: ChargeReader) -> None:
    """Add ``reader`` under ``name`` (again: replaced, so a reloaded ``ready()`` is harmless)."""
    _readers[name] = reader


def charges_of(run_ids: Collection[UUID]) -> dict[UUID, Charge]:
    """Each run's charge, in one read per registered reader (never one per run)."""
    charges: dict[UUID, Charge] = {}
    if not run_ids:
        return charges
    for reader in _readers.values():
        charges.update(reader(run_ids))
    return charges
