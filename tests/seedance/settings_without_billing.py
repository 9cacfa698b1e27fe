"""The project's settings with billing left out, as a deployment of seedance alone would be."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, SEEDANCE

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "billing"]
SEEDANCE = {**SEEDANCE, "ADMISSION_HOOKS": []}
