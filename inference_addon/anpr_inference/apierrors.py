"""Error answers in the contract's shape: status, machine code, human message.

Raised anywhere in the HTTP layer and turned into the JSON body of `contract.error_body` by
the app's error middleware; the helpers keep each code's wording in one place.
"""

from __future__ import annotations

from typing import Final

from aiohttp import hdrs

from .contract import MEDIA_TYPES, MULTIPART, OCTET_STREAM

RETRY_AFTER_SECONDS: Final = 1
"""What 503 answers tell clients to wait: one recognition takes well under a second."""
HTTP_ERROR_CODES: Final = {
    400: "invalid_parameter",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    503: "overloaded",
}
"""The error code of each HTTP status aiohttp itself may answer with."""


class ApiError(Exception):
    """An error answer in the contract's shape: status, machine code, human message."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        """Describe the answer; `headers` are added to it (`Retry-After`, ...)."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid_parameter(message: str) -> ApiError:
    """Return a 400 for a query parameter."""
    return ApiError(400, "invalid_parameter", message)


def unsupported(message: str) -> ApiError:
    """Return a 415 that lists what is accepted."""
    accepted = ", ".join([*MEDIA_TYPES, OCTET_STREAM, MULTIPART])
    return ApiError(415, "unsupported_media_type", f"{message}; accepted: {accepted}")


def body_too_large(limit: int) -> ApiError:
    """Return a 413 for a body over `limit` bytes."""
    return ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")


def request_timeout(message: str) -> ApiError:
    """Return a 408 (the connection is closed after it)."""
    return ApiError(408, "request_timeout", f"{message}; the connection is closed")


def overloaded(message: str) -> ApiError:
    """Return a 503 with `Retry-After`."""
    return ApiError(
        503, "overloaded", message, headers={hdrs.RETRY_AFTER: str(RETRY_AFTER_SECONDS)}
    )
