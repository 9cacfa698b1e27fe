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

from config.settings import *  # noqa: F403
