"""gunicorn's settings for `make serve`, from the environment (WEB_*); gunicorn's own
GUNICORN_CMD_ARGS and FORWARDED_ALLOW_IPS still apply on top."""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# Below scripts/processes.sh's grace (8 s), so in-flight requests finish before the SIGKILL.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "6"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = os.environ.get("WEB_ERROR_LOG", "-")
logger_class = "config.access_log.RedactingLogger"
