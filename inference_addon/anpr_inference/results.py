"""Plain data types shared by the engine, the HTTP layer, the CLI and the benchmark.

They carry the engine's view (crops as bytes, unrounded numbers, box arithmetic); the HTTP
answer is built from them as the wire models of `contract` (`to_wire`), which the OpenAPI
document and the integration's parser are made from too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import contract

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box in pixels of the original image (x2/y2 exclusive)."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.y2 - self.y1

    def iou(self, other: Box) -> float:
        """Intersection over union, 0.0 for disjoint or empty boxes."""
        ix = max(0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0

    def scaled(self, fx: float, fy: float, width: int, height: int) -> Box:
        """Return the box with x scaled by `fx`, y by `fy`, kept within `width` x `height`."""
        return Box(
            min(width, max(0, round(self.x1 * fx))),
            min(height, max(0, round(self.y1 * fy))),
            min(width, max(0, round(self.x2 * fx))),
            min(height, max(0, round(self.y2 * fy))),
        )

    def to_wire(self) -> contract.Box:
        """Return the box as the API sends it."""
        return contract.Box(self.x1, self.y1, self.x2, self.y2)

    def as_dict(self) -> dict[str, int]:
        """JSON form."""
        return self.to_wire().to_json()


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One plate found in an image.

    `text` is what the OCR read (padding removed); `normalized` is the plate after
    normalisation and, when a region format matched, look-alike correction. `char_confidences`
    has one entry per character of `normalized`.

    `at_edge`: the detector's box comes within the engine's edge margin of the frame, so the
    plate may be cut off by it. `incomplete`: the read is likely missing characters, by what
    the engine can tell: `at_edge`, or shorter than every format of the requested region.
    False means no sign of it, not a guarantee.
    """

    text: str
    normalized: str
    confidence: float
    char_confidences: tuple[float, ...]
    detection_confidence: float
    box: Box
    format: str | None = None
    region: str | None = None
    crop_jpeg: bytes | None = field(default=None, repr=False)
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = field(default=(), repr=False)
    """Per character of `normalized`, that character first, then the OCR's likeliest other
    characters, each with the OCR's probability (from the fused rows when several OCR models
    read); empty when the OCR gives no probabilities. See `engine.alternatives`."""
    at_edge: bool = False
    incomplete: bool = False

    def to_wire(self, *, crop: bool = False) -> contract.PlateRead:
        """Return the plate as the API sends it (numbers rounded; the crop only when asked)."""
        return contract.PlateRead(
            text=self.text,
            normalized=self.normalized,
            confidence=round(self.confidence, 4),
            char_confidences=tuple(round(c, 4) for c in self.char_confidences),
            detection_confidence=round(self.detection_confidence, 4),
            box=self.box.to_wire(),
            format=self.format,
            region=self.region,
            alternatives=tuple(
                tuple(contract.CharAlternative(char, round(p, 4)) for char, p in options)
                for options in self.alternatives
            ),
            at_edge=self.at_edge,
            incomplete=self.incomplete,
            crop=self.crop_jpeg if crop else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form (without the crop, which the HTTP layer adds on request)."""
        return self.to_wire().to_json()


@dataclass(frozen=True, slots=True)
class Timings:
    """Milliseconds spent in each stage of one recognition."""

    decode: float = 0.0
    detect: float = 0.0
    ocr: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """JSON form, rounded to 0.1 ms."""
        return {
            "decode": round(self.decode, 1),
            "detect": round(self.detect, 1),
            "ocr": round(self.ocr, 1),
            "total": round(self.total, 1),
        }


@dataclass(frozen=True, slots=True)
class RecognitionResult:
    """Everything one image produced, best plate first."""

    plates: tuple[PlateRead, ...]
    width: int
    height: int
    timings: Timings

    def rescaled(self, width: int, height: int) -> RecognitionResult:
        """Return the result for the same picture at `width` x `height` (boxes scaled).

        For images decoded reduced: the answer describes the upload, not the decoded copy.
        """
        if (width, height) == (self.width, self.height):
            return self
        fx, fy = width / self.width, height / self.height
        plates = tuple(
            replace(plate, box=plate.box.scaled(fx, fy, width, height)) for plate in self.plates
        )
        return replace(self, plates=plates, width=width, height=height)

    def to_wire(self, models: Mapping[str, str], *, crops: bool = False) -> contract.Recognition:
        """Return the body of `POST /v1/recognize`; `models` names each stage's model."""
        return contract.Recognition(
            plates=tuple(plate.to_wire(crop=crops) for plate in self.plates),
            image=contract.ImageSize(self.width, self.height),
            timings_ms=self.timings.as_dict(),
            models=models,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the body of `POST /v1/recognize` without crops and model names."""
        body = self.to_wire({}).to_json()
        del body["models"]
        return body


@dataclass(frozen=True, slots=True)
class ModelInfo(contract.ModelInfo):
    """Which model a stage uses and where it came from (`hub`, `file` or `embedded`)."""

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return self.to_json()
