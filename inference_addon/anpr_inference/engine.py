"""Recognition engine: finds plates in a decoded image and reads them.

The pipeline is fast-alpr's (a `BaseDetector` proposes plate boxes, a `BaseOCR` reads each
crop), with three additions that matter for a gate: all crops of an image are read in one OCR
batch, each read is checked against the plate formats of the requested region (correcting
look-alike characters where the format is certain), and overlapping or duplicate proposals are
merged so one physical plate is reported once, with its best reading.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import math
import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from .formats import (
    DIGITS,
    LETTERS,
    formats_for,
    match_format,
    normalize_plate,
    reading_rules,
)
from .ocr import BatchOCR, OcrRead, mean_confidence
from .results import Box, ModelInfo, PlateRead, RecognitionResult, Timings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from fast_alpr.base import BaseDetector
    from open_image_models.detection.core.base import DetectionResult

    from .config import ServiceConfig
    from .detectors import TiltedBox

    Crop = tuple[DetectionResult, tuple[float, float, float], TiltedBox | None]
    """A proposal, the crop variant to cut around it, and its tilted box if levelled."""

_LOGGER = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
"""A decoded image: H x W x 3, BGR channel order (OpenCV's), uint8."""


@runtime_checkable
class MultiLookDetector(Protocol):
    """A detector that can look at an image more than once, each look costlier than the last.

    The engine takes the looks in order and stops at the first that yields a convincing
    plate (`EngineSettings.convincing`), so easy images cost one look and only hard ones
    pay for more.
    """

    @property
    def passes(self) -> int:
        """How many looks there are."""

    def predict_pass(self, frame: Image, index: int) -> list[DetectionResult] | None:
        """Proposals of look `index`, best first; None when it can't add to the earlier ones."""


class Recognizer(Protocol):
    """What the HTTP layer, the CLI and the benchmark need from an engine.

    `recognize` is called from worker threads, several at once; implementations must be
    thread-safe (onnxruntime sessions are).
    """

    @property
    def models(self) -> Mapping[str, ModelInfo]:
        """The active models, keyed `detector` and `ocr`."""

    def recognize(
        self,
        image: Image,
        *,
        region: str | None = None,
        min_confidence: float = 0.0,
        crops: bool = False,
    ) -> RecognitionResult:
        """Find and read every plate; best first. `timings.decode` is left at 0."""

    def warm_up(self) -> None:
        """Run once on a blank image so the first real request is not slow."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Plate-level filters applied after OCR."""

    min_length: int = 4
    """Shorter reads are almost always stray text (stickers, badges), not plates."""
    max_length: int = 10
    overlap_iou: float = 0.3
    """Proposals overlapping more than this are the same plate; the best read wins."""
    second_plate_confidence: float = 0.95
    """A second (third...) plate in the same image must be read at least this confidently:
    the best read is the answer, and a weak extra is nearly always a sign, a sticker or a
    badge — each would become an "unknown vehicle" in Home Assistant. Tuned for the fused
    OCR (`FusedOCR`), whose confidences are lower where its models disagree: 0.95 instead of
    0.9 halved the false plates on both benchmark sets and lost no plate."""
    surround: tuple[float, float] = (0.25, 1.0)
    """Text centred within this margin (fractions of a kept plate's width, height) around a
    better plate is that plate's surround: a dealer's frame, the city line of a Brazilian
    plate, a state name. It is never a second car's plate, which can't be that close."""
    crop_variants: tuple[tuple[float, float, float], ...] = (
        (0.0, 0.0, 0.0),
        (-0.035, -0.105, -0.05),
        (0.05, 0.11, 0.075),
    )
    """The most promising proposals are read again from other crops (sideways, upward and
    downward growth as a fraction of the box's width/height; negative shrinks) and the best
    reading is kept: a box a few pixels off clips a character or takes in a frame's
    lettering, and another crop usually doesn't. The first variant is the detector's box."""
    refine_top: int = 2
    """How many proposals, best first, get the extra crops (each crop costs one OCR read)."""
    certain: float = 0.99
    """A best read that fits a format with every character at least this confident is final:
    no other crops are read. Other crops mend reads the OCR was unsure of; they can't improve
    a certain one, only add stray text to outrank it. On the benchmark every value from 0.98
    to 0.999 read the same plates (one more US plate than without), and more than half the
    images save one OCR batch (a fifth of their time)."""
    level_from: float = math.radians(2.0)
    """The best proposals whose text line is tilted at least this much (radians; only
    detectors that report a tilt, see `TiltedBox`) are also read from a levelled crop. A
    tilted plate read from its upright bounds gives the OCR slanted characters in a box
    taller than the plate; the levelled crop alone read 1 more plate on `br` and 3 fewer on
    `us` (the upright box's extra height helps some reads), both together 1 more on each."""
    edge_margin: float = 0.01
    """A read whose proposal comes closer than this to the frame's edge (a fraction of the
    frame's width or height) may be cut off by the frame, or be the camera's own overlay:
    the timestamp and camera name that CCTV cameras draw in the corners, which the OCR reads
    as confidently as a plate. Such a read never ends the search for a plate (see
    `convincing`) and is never reported beside a better one; it can still be the best read.
    On the benchmark: 2 more US plates, a third fewer false plates; a plate that really
    touches the edge costs every look. 0 turns this off."""
    convincing: float = 0.9
    """A format-valid read at least this confident ends the search; below it, a detector
    with several looks (`MultiLookDetector`) takes its next one. Higher finds a few more
    plates on hard images, at the cost of taking every look on many more of them: on the
    benchmark 0.95 read 3 more US plates and 1 fewer Brazilian one, but made the slowest 5% of
    images about 35% slower."""


@dataclass(slots=True)
class _Candidate:
    read: OcrRead
    text: str
    confidences: tuple[float, ...]
    fmt: str | None
    region: str | None
    box: Box
    proposal: DetectionResult
    """The detector's proposal this crop was cut around."""

    @property
    def detection_confidence(self) -> float:
        return float(self.proposal.confidence)

    @property
    def confidence(self) -> float:
        return mean_confidence(self.confidences)


def _score(c: _Candidate) -> float:
    """Rank candidates.

    A read that fits a plate format is far more likely a plate than stray text of the same
    confidence.
    """
    return c.confidence * (1.0 if c.fmt is not None else 0.85)


class RecognitionEngine:
    """A detector and an OCR model put together; thread-safe."""

    def __init__(
        self,
        detector: BaseDetector,
        ocr: BatchOCR,
        models: Mapping[str, ModelInfo],
        settings: EngineSettings | None = None,
    ) -> None:
        """Wrap ready-made detector and OCR objects; `models` describes them for /v1/health."""
        self.detector = detector
        self.ocr = ocr
        self._models = dict(models)
        self.settings = settings or EngineSettings()
        # Decided once: a runtime protocol check costs microseconds on every request.
        self._looks = detector if isinstance(detector, MultiLookDetector) else None

    @property
    def models(self) -> Mapping[str, ModelInfo]:
        """The active models, keyed `detector` and `ocr`."""
        return self._models

    def warm_up(self) -> None:
        """Run the detector and the OCR once, so lazy initialisation happens at startup."""
        blank = np.full((480, 640, 3), 127, dtype=np.uint8)
        self.detector.predict(blank)
        self.ocr.read_batch([blank[:64, :128]])

    def recognize(
        self,
        image: Image,
        *,
        region: str | None = None,
        min_confidence: float = 0.0,
        crops: bool = False,
    ) -> RecognitionResult:
        """Find and read every plate in a BGR image; best first."""
        start = time.perf_counter()
        height, width = image.shape[:2]
        candidates: list[_Candidate] = []
        detect_ms = 0.0
        looks = self._looks
        for index in range(looks.passes if looks is not None else 1):
            began = time.perf_counter()
            if looks is None:
                detections: list[DetectionResult] | None = self.detector.predict(image)
            else:
                detections = looks.predict_pass(image, index)
            detect_ms += (time.perf_counter() - began) * 1000
            if detections is None:
                continue
            candidates += self._read_proposals(image, detections, region)
            if any(
                c.fmt is not None
                and c.confidence >= self.settings.convincing
                and not self._at_edge(c, width, height)
                for c in candidates
            ):
                break
        chosen = self._merge(candidates, width, height)
        plates = tuple(
            self._plate(c, image if crops else None, region, width, height)
            for c in chosen
            if c.confidence >= min_confidence
        )
        total_ms = (time.perf_counter() - start) * 1000
        timings = Timings(detect=detect_ms, ocr=total_ms - detect_ms, total=total_ms)
        return RecognitionResult(plates=plates, width=width, height=height, timings=timings)

    def _read_proposals(
        self, image: Image, detections: Sequence[DetectionResult], region: str | None
    ) -> list[_Candidate]:
        """Read every proposal, then other crops of the best few (`crop_variants`, levelled).

        The other crops are skipped when the best read is already `certain`.
        """
        base, extra = self.settings.crop_variants[0], self.settings.crop_variants[1:]
        candidates = self._read(image, [(d, base, None) for d in detections], region)
        best = sorted(candidates, key=_score, reverse=True)[: self.settings.refine_top]
        if best and best[0].fmt is not None and min(best[0].confidences) >= self.settings.certain:
            return candidates
        again: list[Crop] = [(c.proposal, v, None) for c in best for v in extra]
        again += [
            (c.proposal, base, tilted)
            for c in best
            if (tilted := self._levelled(c.proposal)) is not None
        ]
        candidates += self._read(image, again, region)
        return candidates

    def _levelled(self, proposal: DetectionResult) -> TiltedBox | None:
        """Return the proposal's tilted box if it leans enough for a levelled crop to differ."""
        tilted: TiltedBox | None = getattr(proposal, "tilted", None)
        if tilted is None or abs(tilted.angle) < self.settings.level_from:
            return None
        return tilted

    def _read(
        self,
        image: Image,
        crops: Sequence[Crop],
        region: str | None,
    ) -> list[_Candidate]:
        """OCR one crop per (proposal, variant) in one batch; keep plausible candidates.

        A crop with a tilted box is cut along it, levelled; the others from the proposal's
        upright box.
        """
        height, width = image.shape[:2]
        cut: list[tuple[Box, DetectionResult, Image]] = []
        for proposal, (grow_x, grow_up, grow_down), tilted in crops:
            grown = tilted.grown(grow_x, grow_up, grow_down) if tilted is not None else None
            if grown is not None:
                box = grown.bounds(width, height)
            else:
                bb = proposal.bounding_box
                dx, bh = (bb.x2 - bb.x1) * grow_x, bb.y2 - bb.y1
                box = Box(
                    max(0, round(bb.x1 - dx)),
                    max(0, round(bb.y1 - bh * grow_up)),
                    min(width, round(bb.x2 + dx)),
                    min(height, round(bb.y2 + bh * grow_down)),
                )
            if box.width < 4 or box.height < 4:
                continue
            crop = (
                grown.crop(image) if grown is not None else image[box.y1 : box.y2, box.x1 : box.x2]
            )
            cut.append((box, proposal, crop))
        reads = self.ocr.read_batch([crop for _, _, crop in cut])
        return [
            cand
            for (box, proposal, _), read in zip(cut, reads, strict=True)
            if (cand := self._candidate(read, box, proposal, region)) is not None
        ]

    def _candidate(
        self, read: OcrRead, box: Box, proposal: DetectionResult, region: str | None
    ) -> _Candidate | None:
        text = normalize_plate(read.text)
        if len(text) != len(read.text):
            # The OCR produced characters outside A-Z0-9 (text-line OCR): per-character
            # data no longer lines up, so keep only the line-level confidence.
            read = OcrRead(text, tuple(read.confidence for _ in text))
        if not self.settings.min_length <= len(text) <= self.settings.max_length:
            return None
        match = match_format(
            text,
            region,
            char_confidences=read.char_confidences,
            char_probs=read.char_probs,
            alphabet=read.alphabet,
        )
        if match is not None:
            return _Candidate(
                read,
                match.text,
                match.char_confidences,
                match.format,
                match.region,
                box,
                proposal,
            )
        return _Candidate(read, text, read.char_confidences, None, None, box, proposal)

    def _at_edge(self, cand: _Candidate, width: int, height: int) -> bool:
        """Whether `cand`'s proposal comes within `edge_margin` of the frame's edge."""
        bb = cand.proposal.bounding_box
        mx, my = width * self.settings.edge_margin, height * self.settings.edge_margin
        return bb.x1 < mx or bb.y1 < my or bb.x2 > width - mx or bb.y2 > height - my

    def _merge(self, candidates: Sequence[_Candidate], width: int, height: int) -> list[_Candidate]:
        """Best first; drop candidates that overlap a better one or repeat its text.

        Beside a better plate, weak reads and reads at the frame's edge are dropped too.
        """
        kept: list[_Candidate] = []
        for cand in sorted(candidates, key=_score, reverse=True):
            if kept and (
                cand.confidence < self.settings.second_plate_confidence
                or self._at_edge(cand, width, height)
            ):
                continue
            if any(
                cand.text == k.text
                or cand.box.iou(k.box) > self.settings.overlap_iou
                or self._surrounds(k.box, cand.box)
                for k in kept
            ):
                continue
            kept.append(cand)
        return kept

    def _surrounds(self, plate: Box, other: Box) -> bool:
        """Whether `other` lies in the surround of `plate` (see `EngineSettings.surround`)."""
        mx, my = plate.width * self.settings.surround[0], plate.height * self.settings.surround[1]
        cx, cy = (other.x1 + other.x2) / 2, (other.y1 + other.y2) / 2
        return plate.x1 - mx <= cx <= plate.x2 + mx and plate.y1 - my <= cy <= plate.y2 + my

    def _plate(
        self, cand: _Candidate, image: Image | None, region: str | None, width: int, height: int
    ) -> PlateRead:
        crop_jpeg: bytes | None = None
        if image is not None:
            b = cand.box
            ok, buf = cv2.imencode(
                ".jpg", image[b.y1 : b.y2, b.x1 : b.x2], [cv2.IMWRITE_JPEG_QUALITY, 90]
            )
            crop_jpeg = buf.tobytes() if ok else None
        at_edge = self._at_edge(cand, width, height)
        # The region's reading rules were applied only where a format matched (`_candidate`).
        rules = reading_rules(region) if cand.fmt is not None else {}
        return PlateRead(
            alternatives=alternatives(cand.text, cand.read, rules),
            at_edge=at_edge,
            incomplete=at_edge or _shorter_than_formats(cand.text, region),
            text=cand.read.text,
            normalized=cand.text,
            confidence=cand.confidence,
            char_confidences=cand.confidences,
            detection_confidence=cand.detection_confidence,
            box=cand.box,
            format=cand.fmt,
            region=cand.region,
            crop_jpeg=crop_jpeg,
        )


ALTERNATIVES = 3
"""How many characters `PlateRead.alternatives` lists per position."""


def alternatives(
    text: str, read: OcrRead, rules: Mapping[str, str]
) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Each position of `text` (the reported plate): its character, then the likeliest others.

    Probabilities are the OCR's own (`read`'s rows, which align with `text` when their lengths
    agree). The reported character always comes first, so the list never contradicts the
    plate; it can be less probable than the next where the region's format corrected it (a
    digit where the OCR saw a letter): that character's certainty came from the format, not
    the image, and a reader of the list can see so. Characters the region's reading `rules`
    take as one (US: O is read as 0) are one entry with their summed probability, as they are
    one character on those plates. The padding symbol is left out: the probability the list
    leaves unaccounted for is on other characters or on no character at that position.
    Empty when the OCR gives no probabilities.
    """
    probs, alphabet = read.char_probs, read.alphabet
    if probs is None or alphabet is None or len(probs) != len(text):
        return ()
    symbols = [rules.get(s, s) for s in alphabet.upper()]
    positions = []
    for reported, row in zip(text, probs, strict=True):
        merged: dict[str, float] = {}
        for symbol, p in zip(symbols, row, strict=True):
            if symbol in LETTERS or symbol in DIGITS:
                merged[symbol] = merged.get(symbol, 0.0) + float(p)
        others = sorted((c for c in merged if c != reported), key=merged.__getitem__, reverse=True)
        positions.append(
            tuple(
                (char, min(1.0, merged.get(char, 0.0)))
                for char in (reported, *others[: ALTERNATIVES - 1])
            )
        )
    return tuple(positions)


def _shorter_than_formats(text: str, region: str | None) -> bool:
    """Whether `text` is shorter than every plate format of `region` (a partial read).

    Only says something for regions whose plates all have more characters than the shortest
    read kept (`EngineSettings.min_length`, 4): `br` 7, `in` 8, `nz` 6. `eu`, `uk` and `us`
    have formats of 4 characters or fewer and never flag.
    """
    if region is None:
        return False
    return len(text) < min(len(f.pattern) for f in formats_for(region))


def fused_info(parts: Sequence[ModelInfo]) -> ModelInfo:
    """Describe fused OCR models as one: names and paths joined.

    The source stays one of the API's values: `file` when any part is a file on disk the user
    put there, else the parts' common source.
    """
    sources = {p.source for p in parts}
    return ModelInfo(
        "+".join(p.name for p in parts),
        "file" if "file" in sources else parts[0].source,
        " ".join(p.path for p in parts),
    )


def create_engine(config: ServiceConfig) -> RecognitionEngine:
    """Resolve the configured model sources and load them (may download; blocking)."""
    from .detectors import TextPlateProposer, YoloPlateDetector  # noqa: PLC0415
    from .models import resolve_models  # noqa: PLC0415
    from .ocr import FusedOCR, PlateOCR, TextLineOCR  # noqa: PLC0415

    resolved = resolve_models(config)
    for note in resolved.notes:
        _LOGGER.warning("%s", note)
    threads = config.threads_per_worker
    detector: BaseDetector
    if resolved.detector.kind == "yolo_v9":
        detector = YoloPlateDetector(resolved.detector.path, threads=threads)
    else:
        detector = TextPlateProposer(resolved.detector.path, threads=threads)
    ocr: BatchOCR
    ocr_info = resolved.ocr.info
    if resolved.ocr.kind == "plate_ocr" and resolved.ocr.config_path is not None:
        readers = [
            PlateOCR(files.path, files.config_path, threads=threads)
            for files in (resolved.ocr, *resolved.fused_ocr)
            if files.config_path is not None
        ]
        ocr = FusedOCR(readers) if len(readers) > 1 else readers[0]
        if resolved.fused_ocr:
            ocr_info = fused_info((resolved.ocr.info, *(f.info for f in resolved.fused_ocr)))
    else:
        ocr = TextLineOCR(resolved.ocr.path, threads=threads)
    _LOGGER.info(
        "Detector %s (%s), OCR %s (%s)",
        resolved.detector.info.name,
        resolved.detector.info.source,
        ocr_info.name,
        ocr_info.source,
    )
    return RecognitionEngine(detector, ocr, {"detector": resolved.detector.info, "ocr": ocr_info})
