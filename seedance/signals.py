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
