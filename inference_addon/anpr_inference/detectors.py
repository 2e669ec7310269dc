"""Plate detectors, pluggable through fast-alpr's `BaseDetector`.

Two kinds:

* `YoloPlateDetector`: a YOLOv9 end-to-end plate detector (fast-alpr's hub default, or a
  user's own export), run through open-image-models. Its boxes are plate boxes.
* `TextPlateProposer`: the PP-OCRv4 text detector shipped inside the rapidocr_onnxruntime
  wheel. It finds *text lines*, not plates, so each line box is grown to the size of a plate
  (plates have a border and often a second line of small print above the characters) and
  filtered by shape; the OCR stage then decides which proposals really are plates. This is
  what lets the service work fully offline without any downloaded model.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import TYPE_CHECKING, Any

import cv2
from fast_alpr.base import BaseDetector
import numpy as np
import numpy.typing as npt
from open_image_models.detection.core.base import BoundingBox, DetectionResult

from .fusion import cached_or_fused
from .results import Box
from .sessions import create_session, session_options

if TYPE_CHECKING:
    from pathlib import Path

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class TiltedBox:
    """A rectangle at an angle: a text line as the detector found it, not its upright bounds.

    `angle` is the direction of the text's baseline in radians, in image coordinates (y
    down: positive means the line falls to the right). Plates are seldom level in a camera's
    frame; reading one from its upright bounds hands the OCR slanted characters inside a box
    taller than the plate.
    """

    cx: float
    cy: float
    width: float
    height: float
    angle: float

    @classmethod
    def from_quad(cls, quad: npt.NDArray[np.floating[Any]]) -> TiltedBox:
        """From four corners ordered top-left, top-right, bottom-right, bottom-left."""
        tl, tr, br, bl = (quad[i].astype(np.float64) for i in range(4))
        top, bottom = tr - tl, br - bl
        return cls(
            cx=float(quad[:, 0].mean()),
            cy=float(quad[:, 1].mean()),
            width=float(np.hypot(*top) + np.hypot(*bottom)) / 2,
            height=float(np.hypot(*(bl - tl)) + np.hypot(*(br - tr))) / 2,
            angle=float(np.arctan2(top[1] + bottom[1], top[0] + bottom[0])),
        )

    def grown(self, sideways: float, up: float, down: float) -> TiltedBox:
        """Grow (or shrink, if negative) by fractions of the width and height, along the text."""
        shift = (down - up) * self.height / 2
        return TiltedBox(
            cx=self.cx - shift * math.sin(self.angle),
            cy=self.cy + shift * math.cos(self.angle),
            width=self.width * (1 + 2 * sideways),
            height=self.height * (1 + up + down),
            angle=self.angle,
        )

    def bounds(self, width: int, height: int) -> Box:
        """Return the upright box around it, inside an image of this size."""
        cos, sin = abs(math.cos(self.angle)), abs(math.sin(self.angle))
        half_w = (self.width * cos + self.height * sin) / 2
        half_h = (self.width * sin + self.height * cos) / 2
        return Box(
            max(0, round(self.cx - half_w)),
            max(0, round(self.cy - half_h)),
            min(width, round(self.cx + half_w)),
            min(height, round(self.cy + half_h)),
        )

    def crop(self, image: Image) -> Image:
        """Cut it out of `image`, levelled: one affine warp of just the output's pixels."""
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        x0, y0 = -self.width / 2, -self.height / 2
        # Maps each output pixel (u, v) back to the image: centre + rotation * (u + x0, v + y0).
        inverse = np.array(
            [
                [cos, -sin, self.cx + x0 * cos - y0 * sin],
                [sin, cos, self.cy + x0 * sin + y0 * cos],
            ]
        )
        size = (max(1, round(self.width)), max(1, round(self.height)))
        levelled = cv2.warpAffine(
            image,
            inverse,
            size,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        return np.asarray(levelled, dtype=np.uint8)


@dataclass(frozen=True)
class TextLineProposal(DetectionResult):
    """A plate proposal that also knows the text line's tilt (see `TiltedBox`)."""

    tilted: TiltedBox | None = None
    """The text line grown to plate size like `bounding_box`, but along the text."""


@dataclass(frozen=True, slots=True)
class Look:
    """One detection pass over the whole image."""

    max_pixels: int
    """The image is scaled to this many pixels before detection, down or up (at most
    `ProposalSettings.max_upscale` times): the detector's cost grows with the pixel count,
    whatever the aspect ratio. Plates are small in a driveway camera's frame, and a coarse
    look misses the smallest."""
    equalize: bool = False
    """Equalise contrast locally (CLAHE on lightness) first: a plate in shade, in glare or
    behind a dirty cover has too little contrast for the detector, and this brings it out."""


@dataclass(frozen=True, slots=True)
class ProposalSettings:
    """How PP-OCRv4 text lines become plate proposals.

    The growth factors turn a tight text-line box into the whole plate the OCR model was
    trained on: the text box clips the outer strokes of the first and last characters and
    leaves out the plate's border and the city/state line printed above (BR, US), so it grows
    by a fraction of its own size, more upwards than downwards.
    """

    looks: tuple[Look, ...] = (
        Look(960 * 544),
        Look(960 * 544, equalize=True),
        Look(1280 * 736),
        Look(1600 * 896),
    )
    """The successive looks (see `predict_pass`), each taken only when the ones before found
    no convincing plate: cheap first, then with equalised contrast (shade, glare, faded
    paint), then finer, then finer still (small plates, and text the detector responds to
    at one scale and not another). A finer look alone, first, would cost two to three times
    as much on every image; as last resorts they are cheap. On the benchmark's 337 photos
    316 took one look, 6 two, 7 three and 8 all four; the fourth read 2 more US plates."""
    max_upscale: float = 2.0
    """A look enlarges an image smaller than its budget at most this much. In a 600 x 400
    snapshot the detector splits or misses a plate whose characters are some 20 pixels
    high, and finds it at twice the size (2 more US plates on the benchmark, none lost);
    PP-OCR's own pipeline enlarges small images for the same reason. Enlarging adds no
    detail, so the cap keeps a thumbnail from costing as much as a full frame."""
    grow_x: float = 0.08
    grow_up: float = 0.42
    grow_down: float = 0.18
    min_height: int = 8
    """Text lines lower than this (pixels, original image) can't be read reliably."""
    min_aspect: float = 1.2
    max_aspect: float = 12.0
    box_threshold: float = 0.5
    pixel_threshold: float = 0.3
    unclip_ratio: float = 1.6
    max_proposals: int = 6
    """Text lines kept per look, most confident first: every one costs an OCR read, and on
    the benchmark 6, 8, 12 and 24 found the same plates."""


class TextPlateProposer(BaseDetector):  # type: ignore[misc]
    """Plate proposals from the PP-OCRv4 text detector (DB segmentation)."""

    label = "text-line"

    def __init__(
        self, model_path: Path, *, threads: int = 0, settings: ProposalSettings | None = None
    ) -> None:
        """Load the detector; `settings` tunes proposal generation."""
        # rapidocr's DB post-processing (contours, min-area boxes, polygon unclip) is the
        # reference implementation for this model; importing it lazily keeps the module
        # importable where rapidocr isn't installed and the YOLO detector is used.
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess  # noqa: PLC0415

        self.settings = settings or ProposalSettings()
        # The same graph with its affines and hard-swishes fused (a third less time), fused once
        # and stored beside the model; the original file, with a warning, if that fails.
        self._session = create_session(cached_or_fused(model_path), threads=threads)
        self._input = self._session.get_inputs()[0].name
        self._post = DBPostProcess(
            thresh=self.settings.pixel_threshold,
            box_thresh=self.settings.box_threshold,
            max_candidates=1000,
            unclip_ratio=self.settings.unclip_ratio,
            score_mode="fast",
            use_dilation=True,
        )

    def _input_size(self, frame: Image, look: Look) -> tuple[int, int]:
        """Width and height the detector sees `frame` at in `look`."""
        h, w = frame.shape[:2]
        scale = min(self.settings.max_upscale, (look.max_pixels / (h * w)) ** 0.5)
        # The network needs sides that are multiples of 32.
        return max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32)

    def _prepare(self, frame: Image, look: Look) -> npt.NDArray[np.float32]:
        resized = cv2.resize(frame, self._input_size(frame, look), interpolation=cv2.INTER_LINEAR)
        if look.equalize:
            lab = cv2.cvtColor(resized, cv2.COLOR_BGR2LAB)
            # A CLAHE object per call: OpenCV's algorithm objects are not thread-safe.
            clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
            lab[..., 0] = clahe.apply(lab[..., 0])
            resized = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
        blob = resized.astype(np.float32) * (2.0 / 255.0) - 1.0
        return np.ascontiguousarray(blob.transpose(2, 0, 1)[np.newaxis])

    @property
    def passes(self) -> int:
        """How many looks `predict_pass` can take."""
        return len(self.settings.looks)

    def predict(self, frame: Image) -> list[DetectionResult]:
        """Return plate-sized proposals of the first look, most confident first."""
        return self._proposals(frame, self.settings.looks[0])

    def predict_pass(self, frame: Image, index: int) -> list[DetectionResult] | None:
        """Take look `index`; None when it would see the same as an earlier one.

        That happens to small images, whose enlargement `max_upscale` caps at one size.
        """
        look = self.settings.looks[index]
        size = self._input_size(frame, look)
        for earlier in self.settings.looks[:index]:
            if earlier.equalize == look.equalize and self._input_size(frame, earlier) == size:
                return None
        return self._proposals(frame, look)

    def _proposals(self, frame: Image, look: Look) -> list[DetectionResult]:
        h, w = frame.shape[:2]
        pred = self._session.run(None, {self._input: self._prepare(frame, look)})[0]
        quads, scores = self._post(pred, (h, w))
        s = self.settings
        found: list[DetectionResult] = []
        for quad, score in zip(quads, scores, strict=True):
            x1, y1 = quad.min(axis=0)
            x2, y2 = quad.max(axis=0)
            bw, bh = float(x2 - x1), float(y2 - y1)
            if bh < s.min_height or not s.min_aspect <= bw / max(bh, 1.0) <= s.max_aspect:
                continue
            box = BoundingBox(
                x1=max(0, int(x1 - bw * s.grow_x)),
                y1=max(0, int(y1 - bh * s.grow_up)),
                x2=min(w, int(x2 + bw * s.grow_x)),
                y2=min(h, int(y2 + bh * s.grow_down)),
            )
            tilted = TiltedBox.from_quad(quad).grown(s.grow_x, s.grow_up, s.grow_down)
            found.append(
                TextLineProposal(
                    label=self.label, confidence=float(score), bounding_box=box, tilted=tilted
                )
            )
        found.sort(key=lambda d: d.confidence, reverse=True)
        return found[: s.max_proposals]


class YoloPlateDetector(BaseDetector):  # type: ignore[misc]
    """A YOLOv9 end-to-end plate detector from a local ONNX file."""

    def __init__(self, model_path: Path, *, threads: int = 0, conf_threshold: float = 0.3) -> None:
        """Load the detector through open-image-models with our session settings."""
        from open_image_models.detection.core.yolo_v9.inference import (  # noqa: PLC0415
            YoloV9Detector,
        )

        self._detector: Any = YoloV9Detector(
            model_path,
            class_labels=("License Plate",),
            conf_thresh=conf_threshold,
            providers=["CPUExecutionProvider"],
            sess_options=session_options(threads=threads),
        )

    def predict(self, frame: Image) -> list[DetectionResult]:
        """Return detected plates, most confident first."""
        results: list[DetectionResult] = list(self._detector.predict(frame))
        results.sort(key=lambda d: d.confidence, reverse=True)
        return results
