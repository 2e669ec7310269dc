"""The anpr inference HTTP API (v1) contract: one definition both sides use.

The service builds its answers from these models, its OpenAPI document is generated from
them, the Home Assistant integration parses answers with them and the integration's tests
fake the service with them. Each wire field is declared once, with its spec: the spec
dumps the value to JSON, renders the field's JSON Schema, and checks it when parsing.

This file is canonical in `inference_addon/anpr_inference/`; `custom_components/anpr/` holds
a byte-for-byte copy (the integration ships alone via HACS, the add-on image is built from
`inference_addon/` alone). Edit this one, then run `script/sync-contract`; a test fails while
the copies differ. It imports only the standard library and `wire` (its field machinery,
copied the same way), so the client can use it without the service's dependencies.

Parsing (`from_json`) is strict where a wrong value would mislead (types, presence,
confidences in 0..1, characters that contradict their plate) and lenient where a newer
service may grow: unknown keys are ignored, enums, patterns and integer bounds are the
document's promise rather than a refusal, and fields added after 0.1.0 may be absent
(they get their `absent` value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from .wire import (
    Base64,
    Char,
    Choice,
    Const,
    ContractError,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Matching,
    Model,
    Nested,
    Number,
    Text,
    wire,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

SERVICE_NAME: Final = "anpr-inference"
DEFAULT_PORT: Final = 8756
DISCOVERY_SERVICE: Final = "anpr"
"""The name the add-on announces itself under to Supervisor discovery."""
HEALTH_PATH: Final = "/v1/health"
RECOGNIZE_PATH: Final = "/v1/recognize"
OPENAPI_PATH: Final = "/v1/openapi.json"
METRICS_PATH: Final = "/metrics"
REGIONS: Final[tuple[str, ...]] = ("br", "eu", "in", "nz", "uk", "us")
"""Plate regions whose formats the service knows (`region` query and plate field)."""
MEDIA_TYPES: Final = ("image/jpeg", "image/png", "image/webp")
"""Image media types the service accepts."""
OCTET_STREAM: Final = "application/octet-stream"
MULTIPART: Final = "multipart/form-data"
MODEL_SOURCES: Final = ("hub", "file", "embedded")
STAGES: Final = ("detector", "ocr")
TIMING_STAGES: Final = ("decode", "detect", "ocr", "total")
MAX_ALTERNATIVES: Final = 3
ERROR_CODES: Final = (
    "invalid_image",
    "invalid_parameter",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "request_timeout",
    "payload_too_large",
    "image_too_large",
    "unsupported_media_type",
    "overloaded",
    "internal_error",
)
"""Every `error.code` the API can answer with."""


def sniff_image_type(data: bytes) -> str | None:
    """Return the media type of a JPEG, PNG or WebP from its magic bytes, else None.

    The bytes are the only trustworthy statement about an image: uploads sent as
    `application/octet-stream`, or cameras that answer an HTML error page as `image/jpeg`.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def error_body(code: str, message: str) -> dict[str, Any]:
    """Return the JSON body of every error answer."""
    return {"error": {"code": code, "message": message}}


_CONFIDENCE: Final = {"minimum": 0, "maximum": 1}
_MS: Final = {"minimum": 0}


def _confidence() -> Number:
    return Number(_CONFIDENCE, bounded=True)


@dataclass(frozen=True, slots=True)
class ErrorDetail(Model):
    """The `error` object of every error answer."""

    code: str = wire(Text({"enum": list(ERROR_CODES)}))
    message: str = wire(Text())


@dataclass(frozen=True, slots=True)
class ErrorAnswer(Model):
    """The body of every error answer (4xx and 5xx)."""

    SCHEMA_NAME: ClassVar[str] = "Error"
    error: ErrorDetail = wire(Nested(model=ErrorDetail, inline=True))  # noqa: RUF009


@dataclass(frozen=True, slots=True)
class ModelInfo(Model):
    """Which model a stage uses and where it came from (`hub`, `file` or `embedded`)."""

    SCHEMA_NAME: ClassVar[str] = "Model"
    name: str = wire(Text())
    source: str = wire(Text({"enum": list(MODEL_SOURCES)}))
    path: str = wire(Text())


@dataclass(frozen=True, slots=True)
class Queue(Model):
    """Admission state: requests waiting for a worker, and how many may wait."""

    pending: int = wire(Integer({"minimum": 0}))
    max: int = wire(Integer({"minimum": 0}))


@dataclass(frozen=True, slots=True)
class Health(Model):
    """The answer to `GET /v1/health`."""

    SCHEMA_NAME: ClassVar[str] = "Health"
    service: str = wire(
        Const(value=SERVICE_NAME, refusal="not an anpr inference service (service={!r})")
    )
    status: str = wire(
        Text({"enum": ["ok", "degraded"]}),
        "`degraded` while every worker is busy and the queue is full (recognitions get 503 "
        "until one finishes): busy, not down.",
    )
    version: str = wire(Text())
    instance_id: str = wire(Matching(pattern="^[0-9a-f]{32}$", meaning="32 hexadecimal characters"))
    models: Mapping[str, ModelInfo] = wire(MapOf(item=Nested(model=ModelInfo), keys=STAGES))
    workers: int = wire(Integer({"minimum": 1}))
    queue: Queue = wire(  # noqa: RUF009 - wire() returns a dataclasses.field
        Nested(model=Queue, inline=True),
        "`pending`: admitted requests not running on a worker yet; `max`: how many may wait "
        "before new ones get 503.",
    )
    auth_required: bool = wire(Flag())

    @property
    def queue_pending(self) -> int:
        """Admitted requests not running on a worker yet."""
        return self.queue.pending

    @property
    def queue_max(self) -> int:
        """How many requests may wait before new ones get 503."""
        return self.queue.max


@dataclass(frozen=True, slots=True)
class Box(Model):
    """Where a plate is in the image, in pixels (x2/y2 exclusive)."""

    SCHEMA_NAME: ClassVar[str] = "Box"
    DESCRIPTION: ClassVar[str | None] = "Pixels of the (upright) image; x2 and y2 are exclusive."
    x1: int = wire(Integer())
    y1: int = wire(Integer())
    x2: int = wire(Integer())
    y2: int = wire(Integer())


@dataclass(frozen=True, slots=True)
class CharAlternative(Model):
    """One character a plate position could be, with the OCR's probability for it."""

    SCHEMA_NAME: ClassVar[str] = "CharAlternative"
    DESCRIPTION: ClassVar[str | None] = (
        "One character a plate position could be, with its probability."
    )
    char: str = wire(Char())
    p: float = wire(_confidence())


_ALTERNATIVES_DOC: Final = (
    "One list per character of `normalized`, at most 3 entries: first that character (always "
    "`normalized[i]`), then the OCR's likeliest other characters at that position, most "
    "probable first. `p` is the OCR's probability (the mean of the fused models'). The first "
    "entry is usually the most probable; where the region's format corrected the character (a "
    "digit where a `br_old` plate needs one and the OCR saw a letter), a later one can be more "
    "probable: the format, not the image, decided it. Characters the region reads as one are "
    "one entry with their summed probability (on `us`, O is 0). What the list leaves of 1 is "
    "on other characters or on no character at that position. Empty when the OCR gives no "
    "probabilities (the embedded text-line OCR)."
)


@dataclass(frozen=True, slots=True)
class PlateRead(Model):
    """One plate found in one image.

    `alternatives` has one tuple per character of `normalized`: that character first, then
    the OCR's likeliest others (empty from services before 0.3.0 and OCRs without
    probabilities). `at_edge` and `incomplete` are None where the service doesn't say
    (before 0.3.0). `crop` is only sent on request.
    """

    SCHEMA_NAME: ClassVar[str] = "Plate"
    text: str = wire(Text(), "As the OCR read it.")
    normalized: str = wire(Text(), "Upper case, no spaces or dashes, format-corrected.")
    confidence: float = wire(_confidence())
    char_confidences: tuple[float, ...] = wire(
        ListOf(item=_confidence()), "One per character of `normalized`."
    )
    detection_confidence: float = wire(_confidence())
    box: Box = wire(Nested(model=Box))  # noqa: RUF009
    format: str | None = wire(Text(nullable=True), absent=None)
    region: str | None = wire(Choice(values=(*REGIONS, None)), absent=None)
    alternatives: tuple[tuple[CharAlternative, ...], ...] = wire(
        ListOf(
            item=ListOf(
                {"minItems": 1, "maxItems": MAX_ALTERNATIVES},
                item=Nested(model=CharAlternative),
            ),
        ),
        _ALTERNATIVES_DOC,
        absent=(),
        repr=False,
    )
    at_edge: bool | None = wire(
        Flag(),
        "The plate's detected box comes within 1% of the image's edge: the frame may cut "
        "the plate.",
        absent=None,
    )
    incomplete: bool | None = wire(
        Flag(),
        "The read is likely missing characters: `at_edge`, or shorter than every plate "
        "format of the requested region (`br` 7, `nz` 6, `in` 8 characters). `false` means "
        "no sign of it, not a guarantee.",
        absent=None,
    )
    crop: bytes | None = wire(
        Base64({"contentMediaType": "image/jpeg"}),
        "Only with `crops=true`.",
        absent=None,
        required=False,
        repr=False,
    )

    def check(self, what: str) -> None:
        """One confidence and (when given) one alternatives list per character."""
        if len(self.char_confidences) != len(self.normalized):
            raise ContractError(f"{what}: one char_confidence per character of 'normalized'")
        if not self.alternatives:
            return
        if len(self.alternatives) != len(self.normalized):
            raise ContractError(f"{what}: one alternatives list per character of 'normalized'")
        for i, (char, options) in enumerate(zip(self.normalized, self.alternatives, strict=True)):
            if not options or options[0].char != char:
                raise ContractError(
                    f"{what}.alternatives[{i}]: must start with the plate's character {char!r}"
                )


@dataclass(frozen=True, slots=True)
class ImageSize(Model):
    """The uploaded image's size in pixels."""

    width: int = wire(Integer({"minimum": 1}))
    height: int = wire(Integer({"minimum": 1}))


@dataclass(frozen=True, slots=True)
class Recognition(Model):
    """The answer to `POST /v1/recognize`: every plate, best first."""

    SCHEMA_NAME: ClassVar[str] = "Recognition"
    plates: tuple[PlateRead, ...] = wire(ListOf(item=Nested(model=PlateRead)))
    image: ImageSize = wire(Nested(model=ImageSize, inline=True))  # noqa: RUF009
    timings_ms: Mapping[str, float] = wire(
        MapOf(item=Number(_MS), keys=TIMING_STAGES, needed=("total",))
    )
    models: Mapping[str, str] = wire(MapOf(item=Text(), keys=STAGES), absent={})

    @property
    def width(self) -> int:
        """Width of the image in pixels."""
        return self.image.width

    @property
    def height(self) -> int:
        """Height of the image in pixels."""
        return self.image.height

    @property
    def total_ms(self) -> float:
        """Time the service spent on the image."""
        return self.timings_ms["total"]


SCHEMAS: Final[tuple[type[Model], ...]] = (
    ErrorAnswer,
    ModelInfo,
    Health,
    Box,
    PlateRead,
    CharAlternative,
    Recognition,
)
"""The models the OpenAPI document lists under `components.schemas`."""
