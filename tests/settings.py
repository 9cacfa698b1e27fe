"""The suite's settings: the project's, with a throwaway SECRET_KEY (and webhook secret key) when
none is exported.

Settings refuse to load without a key when DEBUG is off (as tests run), so a bare `pytest`
gets one made for this run; subprocesses the tests start inherit it through the environment.
"""

import base64
import os
import secrets

os.environ.setdefault("SECRET_KEY", f"test-only-{secrets.token_urlsafe(50)}")
# A Fernet key for tenant webhook secrets, shared with the processes the tests start.
os.environ.setdefault(
    "WEBHOOK_SECRET_KEYS", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
)

# The xdist workers share one Redis database: each gets a queue and a cache prefix of its
# own, so one worker's qcluster neither takes nor purges the tasks another's test waits on,
# nor books its status sweep. The processes a test starts inherit both (and the worker id,
# hence the guard).
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    for variable, default in (("Q_CLUSTER_NAME", "seedance"), ("CACHE_KEY_PREFIX", "seedance")):
        value = os.environ.get(variable, default)
        if not value.endswith(f"-{worker}"):
            os.environ[variable] = f"{value}-{worker}"

from config.settings import *  # noqa: F403
