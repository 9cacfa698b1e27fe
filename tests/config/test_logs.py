"""The log formats: JSON lines (production) or console text (the demo), every value
redacted, a request's or task's context in each line."""

import json
import logging
import os
import subprocess
import sys

import pytest
import structlog
from django.core.exceptions import ImproperlyConfigured

from config.logs import formatter, logging_config
from tests.processes import ROOT

API_KEY = "sdk_Ab3dE9xZ_" + "k" * 40
SECRETS = [
    API_KEY,
    "whsec_c2VjcmV0LXNpZ25pbmc=",
    "sk_live_51abcDEF",
    "rk_test_9zz9",
    "rf_live_abc123",
]


def _format(log_format: str, msg: str, *args: object, **extra: object) -> str:
    record = logging.getLogger("seedance.test").makeRecord(
        "seedance.test", logging.WARNING, __file__, 1, msg, args, None, extra=extra
    )
    return formatter(log_format).format(record)


@pytest.mark.parametrize("secret", SECRETS)
def test_no_key_shaped_secret_survives_in_the_message_or_a_field(secret: str) -> None:
    for log_format in ("json", "console"):
        line = _format(log_format, "calling with %s", secret, header=f"Bearer {secret}")
        assert secret not in line, line
        assert "[redacted]" in line


def test_our_api_keys_keep_their_public_prefix() -> None:
    line = json.loads(_format("json", "key %s used", API_KEY))
    assert line["message"] == "key sdk_Ab3dE9xZ_[redacted] used"


def test_a_bearer_credential_and_a_traceback_are_redacted() -> None:
    try:
        raise ValueError("refused Authorization: Bearer opaque-token-123")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info()
        )
    line = json.loads(formatter("json").format(record))
    assert "opaque-token-123" not in line["exception"]
    assert "Bearer [redacted]" in line["exception"]


def test_json_lines_carry_the_bound_context_and_extras() -> None:
    with structlog.contextvars.bound_contextvars(request_id="r-000001", run_id="run-1"):
        line = json.loads(_format("json", "hello %s", "world", runflow_request_id="req_1"))
    assert line["message"] == "hello world"
    assert (line["request_id"], line["run_id"], line["runflow_request_id"]) == (
        "r-000001",
        "run-1",
        "req_1",
    )
    assert (line["level"], line["logger"]) == ("warning", "seedance.test")
    assert line["timestamp"].endswith("Z")


def test_console_lines_stay_readable() -> None:
    with structlog.contextvars.bound_contextvars(run_id="run-1"):
        line = _format("console", "hello %s", "world")
    assert "hello world" in line
    assert "run_id=run-1" in line
    assert not line.startswith("{")


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO", q_level="INFO")


@pytest.mark.parametrize(("debug", "expected"), [("", "json"), ("1", "console")])
def test_json_is_the_default_without_debug(debug: str, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DEBUG")}
    env.update(DEBUG=debug or "0", DJANGO_SETTINGS_MODULE="config.settings")
    done = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.LOG_FORMAT)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == expected
