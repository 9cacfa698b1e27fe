"""``manage.py runs_doctor``: what an operator should look at now, and what to do about it.

Sections are registered like the metrics' collectors (``registry.register_section``):
seedance registers its own in ``SeedanceConfig.ready()``, other apps (billing) theirs in
their own ``ready()``, so seedance never imports them.
"""
