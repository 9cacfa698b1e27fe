"""Django's own request logging, as configured, never writes a URL-borne secret."""

import logging

import pytest

from config.access_log import redact


def _through_handlers(logger_name: str, msg: str, *args: object) -> list[str]:
    """What each configured handler the logger writes to would print (pytest's own
    capturing handlers left out)."""
    logger = logging.getLogger(logger_name)
    handlers = [
        handler
        for handler in (logger.handlers if not logger.propagate else logging.getLogger().handlers)
        if not type(handler).__module__.startswith("_pytest")
    ]
    assert handlers, f"{logger_name} writes nowhere"
    printed = []
    for handler in handlers:
        record = logger.makeRecord(logger_name, logging.INFO, __file__, 1, msg, args, None)
        assert handler.filter(record)
        printed.append(handler.format(record))
    return printed


def test_runserver_request_lines_show_signed_links_redacted() -> None:
    printed = _through_handlers(
        "django.server", '"%s" %s %s', "GET /files/abc.def.ghi/ HTTP/1.1", "404", "179"
    )
    assert all("abc.def.ghi" not in line for line in printed), printed
    # The line is a JSON object (or console text): its quotes may come escaped.
    assert all("GET /files/[redacted]/ HTTP/1.1" in line for line in printed), printed


def test_not_found_warnings_show_invitation_tokens_redacted() -> None:
    printed = _through_handlers("django.request", "Not Found: %s", "/portal/invitations/s3cret/")
    assert all("s3cret" not in line for line in printed), printed
    assert all("/invitations/[redacted]/" in line for line in printed), printed


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/billing/done?session_id=cs_1&x=2", "/billing/done?session_id=[redacted]&x=2"),
        ("/x?token=abc", "/x?token=[redacted]"),
        ("/x?csrf_token=abc", "/x?csrf_token=abc"),
        ("/files/tok", "/files/[redacted]"),
        ("/profiles/me/", "/profiles/me/"),
    ],
)
def test_redact_replaces_secrets_and_leaves_other_parameters(line: str, expected: str) -> None:
    assert redact(line) == expected
