"""Recognition engine: finds plates in a decoded image and reads them.

The pipeline is fast-alpr's (a `BaseDetector` proposes plate boxes, a `BaseOCR` reads each
crop), with three additions that matter for a gate: all crops of an image are read in one OCR
batch, each read is checked against the plate formats of the requested region (correcting
look-alike characters where the format is certain), and overlapping or duplicate proposals are
merged so one physical plate is reported once, with its best reading.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from .crops import CropSpec, cut_crops
from .engine_settings import EngineSettings
from .reads import Candidate, candidate, plate_read, score
from .results import ModelInfo, PlateRead, RecognitionResult, Timings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from fast_alpr.base import BaseDetector
    from open_image_models.detection.core.base import DetectionResult

    from .config import ServiceConfig
    from .detectors import TiltedBox
    from .ocr import BatchOCR
    from .results import Box

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
        candidates: list[Candidate] = []
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
            self._plate(c, image, region, crop=crops)
            for c in chosen
            if c.confidence >= min_confidence
        )
        total_ms = (time.perf_counter() - start) * 1000
        timings = Timings(detect=detect_ms, ocr=total_ms - detect_ms, total=total_ms)
        return RecognitionResult(plates=plates, width=width, height=height, timings=timings)

    def _read_proposals(
        self, image: Image, detections: Sequence[DetectionResult], region: str | None
    ) -> list[Candidate]:
        """Read every proposal, then other crops of the best few (`crop_variants`, levelled).

        The other crops are skipped when the best read is already `certain`.
        """
        base, extra = self.settings.crop_variants[0], self.settings.crop_variants[1:]
        candidates = self._read(image, [CropSpec(d, base) for d in detections], region)
        best = sorted(candidates, key=score, reverse=True)[: self.settings.refine_top]
        if best and best[0].fmt is not None and min(best[0].confidences) >= self.settings.certain:
            return candidates
        again = [CropSpec(c.proposal, v) for c in best for v in extra]
        again += [
            CropSpec(c.proposal, base, tilted)
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

    def _read(self, image: Image, specs: Sequence[CropSpec], region: str | None) -> list[Candidate]:
        """OCR every crop of `specs` in one batch; keep the plausible candidates."""
        cuts = cut_crops(image, specs)
        reads = self.ocr.read_batch([c.pixels for c in cuts])
        lengths = (self.settings.min_length, self.settings.max_length)
        return [
            cand
            for c, read in zip(cuts, reads, strict=True)
            if (cand := candidate(read, c.box, c.proposal, region, lengths)) is not None
        ]

    def _at_edge(self, cand: Candidate, width: int, height: int) -> bool:
        """Whether `cand`'s proposal comes within `edge_margin` of the frame's edge."""
        bb = cand.proposal.bounding_box
        mx, my = width * self.settings.edge_margin, height * self.settings.edge_margin
        return bb.x1 < mx or bb.y1 < my or bb.x2 > width - mx or bb.y2 > height - my

    def _merge(self, candidates: Sequence[Candidate], width: int, height: int) -> list[Candidate]:
        """Best first; drop candidates that overlap a better one or repeat its text.

        Beside a better plate, weak reads and reads at the frame's edge are dropped too.
        """
        kept: list[Candidate] = []
        for cand in sorted(candidates, key=score, reverse=True):
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

    def _plate(self, cand: Candidate, image: Image, region: str | None, *, crop: bool) -> PlateRead:
        crop_jpeg: bytes | None = None
        if crop:
            b = cand.box
            ok, buf = cv2.imencode(
                ".jpg", image[b.y1 : b.y2, b.x1 : b.x2], [cv2.IMWRITE_JPEG_QUALITY, 90]
            )
            crop_jpeg = buf.tobytes() if ok else None
        height, width = image.shape[:2]
        at_edge = self._at_edge(cand, width, height)
        return plate_read(cand, region, at_edge=at_edge, crop_jpeg=crop_jpeg)


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
