"""HTTP client for the anpr inference service (API v1).

Deliberately free of Home Assistant imports: it is the integration's only contact with the
wire, so it can be tested against a real (fake) server on its own and could be published as a
library later. Every answer is parsed strictly into the frozen wire models of `contract` (the
service's own definition of the API, copied here); anything that does not match the contract
raises `AnprResponseError` instead of leaking half-parsed JSON into Home Assistant.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from yarl import URL

from .contract import (
    MEDIA_TYPES,
    REGIONS,
    SERVICE_NAME,
    Box,
    CharAlternative,
    ErrorAnswer,
    Health,
    ModelInfo,
    PlateRead,
    Recognition,
    sniff_image_type,
)
from .wire import ContractError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .wire import Model

__all__ = [
    "REGIONS",
    "SERVICE_NAME",
    "Box",
    "CharAlternative",
    "Health",
    "ModelInfo",
    "PlateRead",
    "Recognition",
]

ACCEPTED_CONTENT_TYPES: Final = MEDIA_TYPES
DEFAULT_REQUEST_TIMEOUT: Final = 30.0
DEFAULT_HEALTH_TIMEOUT: Final = 10.0

image_content_type: Final = sniff_image_type
"""The media type of an image the service accepts, from its magic bytes (else None).

Cameras sometimes answer with an HTML error page or an empty body and still claim to be a
JPEG; sniffing the bytes catches that before a round trip to the service."""


class AnprError(Exception):
    """Base class of every error the client raises."""


class AnprConnectionError(AnprError):
    """The service could not be reached or failed on its side (network, timeout, 5xx)."""


class AnprOverloadedError(AnprConnectionError):
    """The service's queue is full (503); retry after `retry_after` seconds if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the server's hint on when to try again."""
        super().__init__(message)
        self.retry_after = retry_after


class AnprAuthenticationError(AnprError):
    """The API key is missing or wrong (401)."""


class AnprRequestError(AnprError):
    """The service rejected the request (a 4xx other than 401); carries its error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep the HTTP status and the service's machine-readable code."""
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class AnprResponseError(AnprError):
    """The answer is not what an anpr inference service sends (junk or foreign JSON)."""


def _parse[M: Model](model: type[M], data: Any, what: str) -> M:
    """Parse an answer with the contract's validating constructor, in the client's terms."""
    try:
        return model.from_json(data, what)
    except ContractError as err:
        raise AnprResponseError(str(err)) from err


class AnprClient:
    """Talks to one anpr inference service."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        api_key: str | None = None,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        health_timeout: float = DEFAULT_HEALTH_TIMEOUT,
    ) -> None:
        """Use `session` (shared, not owned) to reach the service at `url`."""
        self._session = session
        self._url = URL(url.rstrip("/"))
        self._api_key = api_key or None
        self._request_timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._health_timeout = aiohttp.ClientTimeout(total=health_timeout)

    @property
    def url(self) -> str:
        """The service's base URL."""
        return str(self._url)

    async def health(self) -> Health:
        """Ask the service how it is; never needs the API key."""
        data = await self._request("GET", "/v1/health", client_timeout=self._health_timeout)
        return _parse(Health, data, "health")

    async def check_auth(self) -> None:
        """Prove the API key is accepted, by fetching a document that needs it.

        `/v1/health` never asks for the key, so a wrong key would only show on the first
        recognition; the OpenAPI document is small and guarded like `/v1/recognize`.
        """
        await self._request("GET", "/v1/openapi.json", client_timeout=self._health_timeout)

    async def recognize(
        self,
        image: bytes,
        content_type: str,
        *,
        region: str | None = None,
        min_confidence: float | None = None,
        crops: bool = False,
    ) -> Recognition:
        """Find and read every plate in one image."""
        params: dict[str, str] = {"crops": "true" if crops else "false"}
        if region is not None:
            params["region"] = region
        if min_confidence is not None:
            params["min_confidence"] = f"{min_confidence:g}"
        data = await self._request(
            "POST",
            "/v1/recognize",
            client_timeout=self._request_timeout,
            params=params,
            upload=(image, content_type),
        )
        return _parse(Recognition, data, "recognition")

    async def _request(
        self,
        method: str,
        path: str,
        *,
        client_timeout: aiohttp.ClientTimeout,
        params: Mapping[str, str] | None = None,
        upload: tuple[bytes, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request and return its JSON object, mapping every failure to our errors.

        `upload` is a body and its media type.

        The API key goes in the `Authorization` header of requests to the configured URL and
        nowhere else: never in a URL (logs and error messages show URLs), and redirects are
        not followed, because the service never redirects; an answer that does is something
        else (a proxy's login page, a captive portal) that must not get the key or a camera
        image.
        """
        headers: dict[str, str] = {"Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        body: bytes | None = None
        if upload is not None:
            body, headers["Content-Type"] = upload
        url = self._url.with_path(self._url.path.rstrip("/") + path)
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                data=body,
                headers=headers,
                timeout=client_timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    _raise_for_status(response.status, response.headers, raw)
                if response.status >= 300:
                    raise AnprResponseError(
                        f"{path} answered with a redirect ({response.status}), which an anpr "
                        "inference service never sends: check the URL"
                    )
                try:
                    data = json.loads(raw)
                except ValueError as err:
                    raise AnprResponseError(f"{path} did not answer with JSON") from err
        except TimeoutError as err:
            raise AnprConnectionError(f"timeout talking to {self._url}") from err
        except aiohttp.ClientError as err:
            raise AnprConnectionError(f"cannot reach {self._url}: {err}") from err
        if not isinstance(data, dict):
            raise AnprResponseError(f"{path} answered with JSON that is not an object")
        return data


def _raise_for_status(status: int, headers: Mapping[str, str], raw: bytes) -> None:
    """Raise the error that matches an HTTP error status and the service's error body."""
    code, message = _error_body(status, raw)
    if status == 401:
        raise AnprAuthenticationError(message)
    if status == 503:
        raise AnprOverloadedError(message, _retry_after(headers.get("Retry-After")))
    if status >= 500:
        raise AnprConnectionError(f"service error {status} {code}: {message}")
    raise AnprRequestError(status, code, message)


def _error_body(status: int, raw: bytes) -> tuple[str, str]:
    """Return the service's error code and message, or generic ones for foreign bodies."""
    try:
        answer = ErrorAnswer.from_json(json.loads(raw), "error")
    except ValueError:  # not JSON (ContractError is a ValueError too)
        return f"http_{status}", f"HTTP {status}"
    return answer.error.code, answer.error.message


def _retry_after(value: str | None) -> float | None:
    """Parse a `Retry-After` header given in seconds (the only form the service sends)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
