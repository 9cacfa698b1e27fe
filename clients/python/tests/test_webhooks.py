"""verify_webhook accepts what the server signs (standardwebhooks) and nothing else."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from seedance_client import WebhookVerificationError, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps({"type": "webhook.test", "timestamp": "2026-12-03T10:00:00Z", "data": {}})


def signed(body: str = BODY, *, secret: str = SECRET, at: datetime | None = None) -> dict[str, str]:
    moment = at or datetime.now(UTC)
    return {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(int(moment.timestamp())),
        "Webhook-Signature": Webhook(secret).sign(msg_id="msg_1", timestamp=moment, data=body),
    }


def test_a_good_signature_gives_the_event() -> None:
    assert verify_webhook(BODY.encode(), signed(), SECRET)["type"] == "webhook.test"


def test_either_secret_verifies_during_a_rotation() -> None:
    assert verify_webhook(BODY, signed(secret=OTHER), [SECRET, OTHER])["data"] == {}


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY.replace("{}", '{"x": 1}'), signed(), SECRET)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, signed(secret=OTHER), SECRET)


def test_an_old_timestamp_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_webhook(BODY, signed(at=datetime.now(UTC) - timedelta(minutes=10)), SECRET)


def test_missing_headers_are_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, {}, SECRET)


def test_a_malformed_signature_header_is_refused() -> None:
    headers = {**signed(), "Webhook-Signature": "v1-no-comma"}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, SECRET)


def test_a_malformed_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="Not a webhook secret"):
        verify_webhook(BODY, signed(), "whsec_%%%")
