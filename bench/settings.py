"""The production settings plus the bench's bare endpoint, and no API throttles.

Only bench/ runs under this module (DJANGO_SETTINGS_MODULE=bench.settings): the bare URL
never reaches config.urls. Throttles are off so the bench measures the create, not a 429.
"""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

ROOT_URLCONF = "bench.urls"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
