"""The one error shape every API answer and signed-webhook refusal has."""

from typing import Any


def assert_error_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """``{"error": {"code", "message", "fields"}}`` in JSON with ``status``; the error."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code
    return error
