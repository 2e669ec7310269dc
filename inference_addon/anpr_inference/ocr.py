"""Plate OCR, pluggable through fast-alpr's `BaseOCR`, with batching and full probabilities.

fast-alpr's own `DefaultOCR` reads one crop at a time and keeps only the best character's
probability per slot. We read all proposals of an image in one batch (one onnxruntime call
instead of one per proposal) and keep the whole probability row of every slot, so the format
stage can pick the most likely *letter* where a format needs a letter instead of guessing from
a fixed look-alike table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
from fast_alpr.base import BaseOCR, OcrResult
import numpy as np
import numpy.typing as npt

from .sessions import create_session

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

Image = npt.NDArray[np.uint8]


def mean_confidence(confidences: Sequence[float]) -> float:
    """Whole-plate confidence: the mean character confidence (0 for an empty read)."""
    return float(np.mean(confidences)) if confidences else 0.0


@dataclass(frozen=True, slots=True)
class OcrRead:
    """One crop's reading.

    Text without padding, a confidence per character, and optionally the probability of every
    alphabet symbol for every character (rows align with `text`).
    """

    text: str
    char_confidences: tuple[float, ...]
    char_probs: npt.NDArray[np.float32] | None = None
    alphabet: str | None = None

    @property
    def confidence(self) -> float:
        """Whole-plate confidence (see `mean_confidence`)."""
        return mean_confidence(self.char_confidences)


class BatchOCR(BaseOCR):  # type: ignore[misc]
    """A `BaseOCR` that can also read many crops at once."""

    name: str

    def read_batch(self, crops: Sequence[Image]) -> list[OcrRead]:
        """Read every crop (BGR); one result per crop, in order."""
        raise NotImplementedError

    def predict(self, cropped_plate: Image) -> OcrResult | None:
        """fast-alpr's single-crop interface, for use inside `fast_alpr.ALPR`."""
        if cropped_plate is None or cropped_plate.size == 0:
            return None
        read = self.read_batch([cropped_plate])[0]
        return OcrResult(text=read.text, confidence=list(read.char_confidences))


class PlateOCR(BatchOCR):
    """A fast-plate-ocr model (ONNX + plate config yaml), e.g. `cct_xs_v1_global`."""

    def __init__(self, model_path: Path, config_path: Path, *, threads: int = 0) -> None:
        """Load the model and its plate config (input size, alphabet, padding)."""
        from fast_plate_ocr.inference.config import PlateConfig  # noqa: PLC0415

        self.config: Any = PlateConfig.from_yaml(config_path)
        self.name = model_path.stem
        self._session = create_session(model_path, threads=threads)
        self._input = self._session.get_inputs()[0].name
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "plate" if "plate" in outputs else outputs[0]
        self.alphabet: str = self.config.alphabet
        self.pad = self.alphabet.index(self.config.pad_char)
        self.slots = int(self.config.max_plate_slots)
        self._size = (int(self.config.img_width), int(self.config.img_height))
        self._gray = self.config.image_color_mode == "grayscale"

    def _prepare(self, crop: Image) -> npt.NDArray[np.uint8]:
        # A plain stretch to the model's size: the model was trained without keeping the
        # aspect ratio (keep_aspect_ratio: false in its config).
        resized = cv2.resize(crop, self._size, interpolation=cv2.INTER_LINEAR)
        code = cv2.COLOR_BGR2GRAY if self._gray else cv2.COLOR_BGR2RGB
        converted: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(resized, code), np.uint8)
        return converted[..., np.newaxis] if self._gray else converted

    @property
    def input_format(self) -> tuple[tuple[int, int], bool]:
        """Input size and greyscale: models that agree on it can share one prepared batch."""
        return self._size, self._gray

    def prepare(self, crops: Sequence[Image]) -> npt.NDArray[np.uint8]:
        """Build the model's input batch for `crops`."""
        return np.stack([self._prepare(c) for c in crops])

    def probabilities(
        self, crops: Sequence[Image], batch: npt.NDArray[np.uint8] | None = None
    ) -> npt.NDArray[np.float32]:
        """Every crop's (slots, alphabet) probabilities, from one onnxruntime call.

        `batch` is `prepare(crops)` when the caller has it already.
        """
        if batch is None:
            batch = self.prepare(crops)
        probs = self._session.run([self._output], {self._input: batch})[0]
        return np.asarray(probs, dtype=np.float32).reshape(
            len(crops), self.slots, len(self.alphabet)
        )

    def read_batch(self, crops: Sequence[Image]) -> list[OcrRead]:
        """Read all crops in one onnxruntime call."""
        if not crops:
            return []
        return [decode_rows(row, self.alphabet, self.pad) for row in self.probabilities(crops)]


class FusedOCR(BatchOCR):
    """Several plate OCR models reading the same crops, fused per character.

    Each model reads the whole batch in one onnxruntime call. Their probability rows are
    aligned slot by slot: every fast-plate-ocr model writes the plate from its first slot and
    pads the rest, so a model with fewer slots (cct_xs_v1_global has 9, v2 10) is extended
    with rows certain of padding. The aligned rows are averaged and decoded like one model's,
    so the fused rows also give each character's alternatives.

    Measured on the benchmark against keeping the more confident model's read per crop: the
    same plates or one fewer, with a third fewer false plates, because two models that
    disagree average to a low confidence instead of one of them winning at full confidence.
    """

    def __init__(self, models: Sequence[PlateOCR]) -> None:
        """Fuse `models`, which must share one alphabet and pad character."""
        if len(models) < 2:
            raise ValueError("fusing needs at least two OCR models")
        first = models[0]
        for model in models[1:]:
            if model.alphabet != first.alphabet or model.pad != first.pad:
                raise ValueError(
                    f"OCR models {first.name} and {model.name} use different alphabets"
                )
        self.models = tuple(models)
        self.alphabet = first.alphabet
        self.pad = first.pad
        self.slots = max(m.slots for m in models)
        self.name = "+".join(m.name for m in models)

    def read_batch(self, crops: Sequence[Image]) -> list[OcrRead]:
        """Read all crops with every model (one call each) and decode the mean rows."""
        if not crops:
            return []
        # Models with the same input format (v1 and v2: 128x64 RGB) share one prepared batch.
        batches: dict[tuple[tuple[int, int], bool], npt.NDArray[np.uint8]] = {}
        rows = []
        for model in self.models:
            key = model.input_format
            if key not in batches:
                batches[key] = model.prepare(crops)
            rows.append(_pad_slots(model.probabilities(crops, batches[key]), self.slots, self.pad))
        fused = np.mean(rows, axis=0).astype(np.float32)
        return [decode_rows(rows, self.alphabet, self.pad) for rows in fused]


def _pad_slots(probs: npt.NDArray[np.float32], slots: int, pad: int) -> npt.NDArray[np.float32]:
    """Extend (N, s, A) rows to (N, slots, A) with rows certain of the pad character."""
    missing = slots - probs.shape[1]
    if missing <= 0:
        return probs
    extra = np.zeros((probs.shape[0], missing, probs.shape[2]), np.float32)
    extra[:, :, pad] = 1.0
    return np.concatenate([probs, extra], axis=1)


def decode_rows(row: npt.NDArray[np.float32], alphabet: str, pad: int) -> OcrRead:
    """One crop's (slots, alphabet) probabilities to text, dropping padding slots."""
    best = row.argmax(axis=1)
    keep = best != pad
    text = "".join(alphabet[i] for i in best[keep])
    conf = tuple(float(p) for p in row.max(axis=1)[keep])
    return OcrRead(text, conf, row[keep], alphabet)


class TextLineOCR(BatchOCR):
    """PP-OCRv4's general text recogniser (embedded in rapidocr_onnxruntime).

    Not trained on plates, so it's the fallback when no plate OCR model is available: it reads
    any text, and only characters A-Z and 0-9 are kept. It gives one confidence per line, which
    is repeated per character.
    """

    def __init__(self, model_path: Path, *, threads: int = 0) -> None:
        """Load the recogniser through rapidocr's reference pre/post-processing."""
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer  # noqa: PLC0415

        self.name = model_path.stem
        self._rec: Any = TextRecognizer(
            {
                "model_path": str(model_path),
                "rec_batch_num": 8,
                "rec_img_shape": [3, 48, 320],
                "intra_op_num_threads": threads if threads > 0 else -1,
                "inter_op_num_threads": 1,
                "use_cuda": False,
                "use_dml": False,
            }
        )

    def read_batch(self, crops: Sequence[Image]) -> list[OcrRead]:
        """Read all crops (rapidocr batches them internally)."""
        if not crops:
            return []
        results, _ = self._rec(list(crops))
        reads: list[OcrRead] = []
        for text, score in results:
            kept = "".join(ch for ch in str(text).upper() if ch.isascii() and ch.isalnum())
            reads.append(OcrRead(kept, tuple(float(score) for _ in kept)))
        return reads
