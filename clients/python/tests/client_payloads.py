"""JSON the API answers, as the live stack does (one captured run), for the unit tests."""

from typing import Any


def error(
    code: str, message: str = "Refused.", fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def run_json(**changes: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "id": "0b9f4c1e-7a55-4d6e-9a57-2f0d3c8b1a11",
        "status": "succeeded",
        "prompt": "A barista pours latte art, close-up",
        "aspect_ratio": "16:9",
        "duration": "5",
        "resolution": "480p",
        "generate_audio": True,
        "seed": None,
        "end_user_id": "",
        "metadata": {"order": 42},
        "output": {
            "outputs": [
                {
                    "url": "http://127.0.0.1:8000/files/tok/",
                    "type": "video/mp4",
                    "width": 854,
                    "height": 480,
                    "duration": 5.0,
                    "expires_at": "2027-01-02T10:00:00Z",
                }
            ],
            "withheld": None,
            "seed": 1234,
            "nsfw_detected": False,
            "timing": {"queued_ms": 200},
        },
        "failure": None,
        "moderation": "none",
        "billable": True,
        "charge": {
            "state": "billed",
            "amount": "1.209500",
            "currency": "usd",
            "unit_price": "0.241900",
            "seconds": 5,
            "meter_event_identifier": "usage-17",
        },
        "duration_ms": 5000,
        "created_at": "2026-12-03T10:00:00.123456Z",
        "submitted_at": "2026-12-03T10:00:00.300000+00:00",
        "started_at": "2026-12-03T10:00:00.500000Z",
        "completed_at": "2026-12-03T10:00:01Z",
    }
    run.update(changes)
    return run
