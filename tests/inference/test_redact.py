"""Secrets never reach a log line: query keys, tokens and credentials are redacted."""

from __future__ import annotations

import logging
import sys

import pytest

from anpr_inference.redact import REDACTED, RedactingFormatter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/v1/recognize?api_key=abc123", f"/v1/recognize?api_key={REDACTED}"),
        ("/x?region=br&key=abc&crops=true", f"/x?region=br&key={REDACTED}&crops=true"),
        ("/x?token=t0k3n#frag", f"/x?token={REDACTED}#frag"),
        ("/x?API_KEY=abc;other=1", f"/x?API_KEY={REDACTED};other=1"),
        ("/x?access_token=abc&x-api-key=def", f"/x?access_token={REDACTED}&x-api-key={REDACTED}"),
        ("/x?apikey=abc", f"/x?apikey={REDACTED}"),
        ('"GET /?key=abc HTTP/1.1" 401', f'"GET /?key={REDACTED} HTTP/1.1" 401'),
        ("Authorization: Bearer abc.def", f"Authorization: {REDACTED}"),
        ("{'Authorization': 'Basic dXNlcjpwYXNz'}", f"{{'Authorization': '{REDACTED}'}}"),
        ("header was bearer s3cret-key here", f"header was bearer {REDACTED} here"),
        # Nothing secret: left alone.
        ("/v1/recognize?region=br&crops=true", "/v1/recognize?region=br&crops=true"),
        ("monkey=1&keyboard=2", "monkey=1&keyboard=2"),
        ("invalid setting api_key: too short", "invalid setting api_key: too short"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def _fail() -> None:
    raise ValueError("cannot fetch http://host/?token=tb-secret")


def test_formatter_redacts_messages_arguments_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(levelname)s %(message)s")
    try:
        _fail()
    except ValueError:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "request %s with %s",
            ("/a?api_key=arg-secret", "Authorization: Bearer hdr-secret"),
            exc_info=sys.exc_info(),
        )
    line = formatter.format(record)
    for secret in ("tb-secret", "arg-secret", "hdr-secret"):
        assert secret not in line
    assert "ValueError" in line
    assert f"api_key={REDACTED}" in line
    assert f"token={REDACTED}" in line
