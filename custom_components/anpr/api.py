"""HTTP client for the anpr inference service (API v1).

Deliberately free of Home Assistant imports: it is the integration's only contact with the
wire, so it can be tested against a real (fake) server on its own and could be published as a
library later. Every answer is parsed strictly into frozen dataclasses; anything that does not
match the contract raises `AnprResponseError` instead of leaking half-parsed JSON into Home
Assistant.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
import json
import re
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from yarl import URL

if TYPE_CHECKING:
    from collections.abc import Mapping

SERVICE_NAME: Final = "anpr-inference"
REGIONS: Final = ("br", "eu", "in", "nz", "uk", "us")
ACCEPTED_CONTENT_TYPES: Final = ("image/jpeg", "image/png", "image/webp")
DEFAULT_REQUEST_TIMEOUT: Final = 30.0
DEFAULT_HEALTH_TIMEOUT: Final = 10.0

_INSTANCE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


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


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model the service runs."""

    name: str
    source: str
    path: str


@dataclass(frozen=True, slots=True)
class Health:
    """The service's answer to `GET /v1/health`."""

    service: str
    status: str
    version: str
    instance_id: str
    models: Mapping[str, ModelInfo]
    workers: int
    queue_pending: int
    queue_max: int
    auth_required: bool


@dataclass(frozen=True, slots=True)
class Box:
    """Where a plate is in the image, in pixels (x2/y2 exclusive)."""

    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True, slots=True)
class CharAlternative:
    """One character a plate position could be, with the OCR's probability for it."""

    char: str
    p: float


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One plate the service found in one image.

    `alternatives` has one tuple per character of `normalized`: that character first, then
    the OCR's likeliest others (empty from services before 0.3.0 and OCRs without
    probabilities). `at_edge` and `incomplete` are None where the service doesn't say
    (before 0.3.0). None of the three decides access yet.
    """

    text: str
    normalized: str
    confidence: float
    char_confidences: tuple[float, ...]
    detection_confidence: float
    box: Box
    format: str | None = None
    region: str | None = None
    crop: bytes | None = field(default=None, repr=False)
    alternatives: tuple[tuple[CharAlternative, ...], ...] = field(default=(), repr=False)
    at_edge: bool | None = None
    incomplete: bool | None = None


@dataclass(frozen=True, slots=True)
class Recognition:
    """The service's answer to `POST /v1/recognize`: every plate, best first."""

    plates: tuple[PlateRead, ...]
    width: int
    height: int
    timings_ms: Mapping[str, float]
    models: Mapping[str, str]

    @property
    def total_ms(self) -> float:
        """Time the service spent on the image."""
        return self.timings_ms["total"]


def image_content_type(data: bytes) -> str | None:
    """Return the media type of an image the service accepts, from its magic bytes.

    Cameras sometimes answer with an HTML error page or an empty body and still claim to be a
    JPEG; sniffing the bytes catches that before a round trip to the service.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


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
        return _parse_health(data)

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
            body=image,
            content_type=content_type,
        )
        return _parse_recognition(data)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        client_timeout: aiohttp.ClientTimeout,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """Send one request and return its JSON object, mapping every failure to our errors.

        The API key goes in the `Authorization` header of requests to the configured URL and
        nowhere else: never in a URL (logs and error messages show URLs), and redirects are
        not followed, because the service never redirects; an answer that does is something
        else (a proxy's login page, a captive portal) that must not get the key or a camera
        image.
        """
        headers: dict[str, str] = {"Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if content_type is not None:
            headers["Content-Type"] = content_type
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
        error = json.loads(raw)["error"]
        code, message = error["code"], error["message"]
    except (ValueError, TypeError, KeyError):
        return f"http_{status}", f"HTTP {status}"
    if isinstance(code, str) and isinstance(message, str):
        return code, message
    return f"http_{status}", f"HTTP {status}"


def _retry_after(value: str | None) -> float | None:
    """Parse a `Retry-After` header given in seconds (the only form the service sends)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


# --- strict JSON parsing -------------------------------------------------------------------


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise AnprResponseError(f"{where}: missing {key!r}")
    return data[key]


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _field(data, key, where)
    if not isinstance(value, str):
        raise AnprResponseError(f"{where}: {key!r} must be a string")
    return value


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise AnprResponseError(f"{where}: {key!r} must be a string or null")
    return value


def _int(data: Mapping[str, Any], key: str, where: str) -> int:
    value = _field(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnprResponseError(f"{where}: {key!r} must be an integer")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnprResponseError(f"{what} must be a number")
    return float(value)


def _confidence(value: Any, what: str) -> float:
    number = _number(value, what)
    if not 0.0 <= number <= 1.0:
        raise AnprResponseError(f"{what} must be between 0 and 1")
    return number


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise AnprResponseError(f"{what} must be an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise AnprResponseError(f"{what} must be a list")
    return value


def _parse_health(data: Mapping[str, Any]) -> Health:
    where = "health"
    service = _str(data, "service", where)
    if service != SERVICE_NAME:
        raise AnprResponseError(f"not an anpr inference service (service={service!r})")
    instance_id = _str(data, "instance_id", where)
    if not _INSTANCE_ID.match(instance_id):
        raise AnprResponseError("health: 'instance_id' must be 32 hexadecimal characters")
    auth_required = _field(data, "auth_required", where)
    if not isinstance(auth_required, bool):
        raise AnprResponseError("health: 'auth_required' must be true or false")
    queue = _object(_field(data, "queue", where), "health.queue")
    models: dict[str, ModelInfo] = {}
    for stage, raw_model in _object(_field(data, "models", where), "health.models").items():
        model_where = f"health.models.{stage}"
        model = _object(raw_model, model_where)
        models[str(stage)] = ModelInfo(
            name=_str(model, "name", model_where),
            source=_str(model, "source", model_where),
            path=_str(model, "path", model_where),
        )
    return Health(
        service=service,
        status=_str(data, "status", where),
        version=_str(data, "version", where),
        instance_id=instance_id.lower(),
        models=models,
        workers=_int(data, "workers", where),
        queue_pending=_int(queue, "pending", "health.queue"),
        queue_max=_int(queue, "max", "health.queue"),
        auth_required=auth_required,
    )


def _opt_bool(data: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise AnprResponseError(f"{where}: {key!r} must be true or false")
    return value


def _parse_alternatives(
    plate: Mapping[str, Any], normalized: str, where: str
) -> tuple[tuple[CharAlternative, ...], ...]:
    """Parse the optional per-character alternatives (absent before service 0.3.0).

    The contract puts the reported character first at every position; an answer that
    contradicts its own plate is refused rather than half believed.
    """
    raw = plate.get("alternatives")
    if raw is None:
        return ()
    positions = _list(raw, f"{where}.alternatives")
    if positions and len(positions) != len(normalized):
        raise AnprResponseError(f"{where}: one alternatives list per character of 'normalized'")
    parsed: list[tuple[CharAlternative, ...]] = []
    for i, (char, raw_options) in enumerate(zip(normalized, positions, strict=False)):
        at = f"{where}.alternatives[{i}]"
        options = []
        for j, raw_option in enumerate(_list(raw_options, at)):
            option = _object(raw_option, f"{at}[{j}]")
            candidate = _str(option, "char", f"{at}[{j}]")
            if len(candidate) != 1:
                raise AnprResponseError(f"{at}[{j}]: 'char' must be one character")
            p = _confidence(_field(option, "p", f"{at}[{j}]"), f"{at}[{j}].p")
            options.append(CharAlternative(candidate, p))
        if not options or options[0].char != char:
            raise AnprResponseError(f"{at}: must start with the plate's character {char!r}")
        parsed.append(tuple(options))
    return tuple(parsed)


def _parse_plate(raw: Any, index: int) -> PlateRead:
    where = f"plates[{index}]"
    plate = _object(raw, where)
    normalized = _str(plate, "normalized", where)
    char_confidences = tuple(
        _confidence(value, f"{where}.char_confidences[{i}]")
        for i, value in enumerate(
            _list(_field(plate, "char_confidences", where), f"{where}.char_confidences")
        )
    )
    if len(char_confidences) != len(normalized):
        raise AnprResponseError(f"{where}: one char_confidence per character of 'normalized'")
    box = _object(_field(plate, "box", where), f"{where}.box")
    crop: bytes | None = None
    if (raw_crop := plate.get("crop")) is not None:
        if not isinstance(raw_crop, str):
            raise AnprResponseError(f"{where}: 'crop' must be a base64 string")
        try:
            crop = base64.b64decode(raw_crop, validate=True)
        except (binascii.Error, ValueError) as err:
            raise AnprResponseError(f"{where}: 'crop' is not valid base64") from err
    return PlateRead(
        text=_str(plate, "text", where),
        normalized=normalized,
        confidence=_confidence(_field(plate, "confidence", where), f"{where}.confidence"),
        char_confidences=char_confidences,
        detection_confidence=_confidence(
            _field(plate, "detection_confidence", where), f"{where}.detection_confidence"
        ),
        box=Box(
            x1=_int(box, "x1", f"{where}.box"),
            y1=_int(box, "y1", f"{where}.box"),
            x2=_int(box, "x2", f"{where}.box"),
            y2=_int(box, "y2", f"{where}.box"),
        ),
        format=_opt_str(plate, "format", where),
        region=_opt_str(plate, "region", where),
        crop=crop,
        alternatives=_parse_alternatives(plate, normalized, where),
        at_edge=_opt_bool(plate, "at_edge", where),
        incomplete=_opt_bool(plate, "incomplete", where),
    )


def _parse_recognition(data: Mapping[str, Any]) -> Recognition:
    where = "recognition"
    plates = tuple(
        _parse_plate(raw, i)
        for i, raw in enumerate(_list(_field(data, "plates", where), "recognition.plates"))
    )
    image = _object(_field(data, "image", where), "recognition.image")
    raw_timings = _object(_field(data, "timings_ms", where), "recognition.timings_ms")
    timings = {
        str(stage): _number(value, f"recognition.timings_ms.{stage}")
        for stage, value in raw_timings.items()
    }
    if "total" not in timings:
        raise AnprResponseError("recognition.timings_ms: missing 'total'")
    raw_models = _object(data.get("models", {}), "recognition.models")
    models: dict[str, str] = {}
    for stage, name in raw_models.items():
        if not isinstance(name, str):
            raise AnprResponseError(f"recognition.models.{stage} must be a string")
        models[str(stage)] = name
    return Recognition(
        plates=plates,
        width=_int(image, "width", "recognition.image"),
        height=_int(image, "height", "recognition.image"),
        timings_ms=timings,
        models=models,
    )
