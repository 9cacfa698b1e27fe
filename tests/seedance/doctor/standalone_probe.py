"""``runs_doctor --json --offline`` under settings without billing, on a fresh database.

Run as a script (test_standalone.py starts it in its own process, since an app cannot be
uninstalled from a running Django); prints the command's JSON document.
"""

import os

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.seedance.settings_without_billing"
os.environ["DATABASE_URL"] = "sqlite://:memory:"
django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
call_command("runs_doctor", "--json", "--offline")
