"""Recognition engine: finds plates in a decoded image and reads them.

Placeholder interface; the implementation lands with the detector/OCR work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .results import ModelInfo, RecognitionResult

Image = npt.NDArray[np.uint8]
"""A decoded image: H x W x 3, BGR channel order (OpenCV's), uint8."""


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
