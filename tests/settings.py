"""The suite's settings: the project's, with a throwaway SECRET_KEY when none is exported.

Settings refuse to load without a key when DEBUG is off (as tests run), so a bare `pytest`
gets one made for this run; subprocesses the tests start inherit it through the environment.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", f"test-only-{secrets.token_urlsafe(50)}")

from config.settings import *  # noqa: F403
