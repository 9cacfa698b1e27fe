"""Signals that let other apps (billing) follow runs without seedance importing them."""

from django.dispatch import Signal

#: Sent inside the terminal transition's transaction, with ``run`` (the updated row).
#: Receivers write rows only and defer anything else with ``transaction.on_commit``.
run_finished = Signal()

#: Sent when Runflow's charge for a finished run becomes known (callbacks carry none), with
#: ``run_id`` and ``cost`` (Decimal). Billing keeps it beside its own amount for margins.
run_cost_recorded = Signal()

#: Sent inside a moderation decision's transaction, with ``run`` and ``decision``
#: ("approved" or "rejected"): billing releases or voids a held run's usage.
run_moderated = Signal()

#: Sent inside the transaction that marks a succeeded run delivered (every output has a
#: fetchable copy of ours), with ``run``: billing makes its usage row pushable.
run_delivered = Signal()

#: Sent inside the transaction that marks a succeeded run's outputs unavailable (the copy
#: failed for good), with ``run``: billing voids its usage row, so it is never pushed.
run_undeliverable = Signal()

#: Sent inside the transaction that makes a tenant in the portal, with ``tenant`` and
#: ``founder`` (the User who made it and is its first admin): billing may take the
#: founder's email for the tenant's Stripe customer. Receivers write rows only.
tenant_created = Signal()
