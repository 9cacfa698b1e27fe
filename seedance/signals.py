"""Signals that let other apps (billing) follow runs without seedance importing them."""

from django.dispatch import Signal

#: Sent inside the terminal transition's transaction, with ``run`` (the updated row).
#: Receivers write rows only and defer anything else with ``transaction.on_commit``.
run_finished = Signal()
