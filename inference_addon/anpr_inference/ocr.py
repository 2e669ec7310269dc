"""Plate OCR, pluggable through fast-alpr's `BaseOCR`, with batching and full probabilities.

fast-alpr's own `DefaultOCR` reads one crop at a time and keeps only the best character's
probability per slot. We read all proposals of an image in one batch (one onnxruntime call
instead of one per proposal) and keep the whole probability row of every slot, so the format
stage can pick the most likely *letter* where a format needs a letter instead of guessing from
a fixed look-alike table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

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


FUSION_WEIGHTS: Final[dict[str, float]] = {"cct_xs_v1_global": 0.7, "cct_xs_v2_global": 0.3}
"""Each known plate OCR model's share of the fused rows, by model name (its file's stem).

v2 alone reads more of the labelled US plates than v1 but is the more confident of the two
where it is wrong: it alone reports twice v1's false plates at the same thresholds, and in
an even average its confident misreads outvote v1's right reads (A read as 4, 4 as A).
Measured end to end on both benchmark sets (v1's share 0.5 to 0.9): 0.65 to 0.75 all read
2 more US plates than the even average with fewer false plates (0.036-0.039 per image
against 0.045), the Brazilian plates unchanged; 0.8 and more lose plates v2 reads better.
"""


CONSULT_FROM: Final = 0.5
"""The other models read only the crops the first reads with at least this confidence.

Below it the first model finds no plate-like text in the crop (most proposals are other
text: stickers, signs, a dealer's frame), and as it carries 0.7 of the fused rows, the fused
read would stay unsure too: far from convincing (`EngineSettings.convincing`, 0.9) or a
second plate (0.95), where the engine acts on a read. Measured on both benchmark sets at
0.0 to 0.5: the same plates and false plates; at 0.5 the other model reads a third fewer
crops.
"""

CERTAIN_FROM: Final = 0.99
"""Nor do they read the crops the first model is certain of: every slot (padding too) at
least this probable, as the engine's `EngineSettings.certain`.

With the first model's share of 0.7, a character it gives more than 0.72 keeps the largest
share of the fused row whatever the others say, so they could not change such a read's
text, only lower its confidence. Measured on both benchmark sets, on top of `CONSULT_FROM`:
at 0.95 to 0.999 one more US plate than without (211 of 222: a full read the second model
was less sure of no longer loses to a clipped one), the same false plates, and the other
model reads a quarter fewer crops again (0.99: half the crops in all); at 0.9 that plate is
lost again.
"""


def fusion_weights(names: Sequence[str]) -> tuple[float, ...]:
    """Return the models' shares of the fused rows: `FUSION_WEIGHTS` if it knows them all.

    Models it doesn't know (a user's own pair) are averaged evenly: no weighting was measured
    for them.
    """
    if all(name in FUSION_WEIGHTS for name in names):
        weights = [FUSION_WEIGHTS[name] for name in names]
    else:
        weights = [1.0] * len(names)
    total = sum(weights)
    return tuple(w / total for w in weights)


class FusedOCR(BatchOCR):
    """Several plate OCR models reading the same crops, fused per character.

    Each model reads the whole batch in one onnxruntime call. Their probability rows are
    aligned slot by slot: every fast-plate-ocr model writes the plate from its first slot and
    pads the rest, so a model with fewer slots (cct_xs_v1_global has 9, v2 10) is extended
    with rows certain of padding. The aligned rows are averaged, weighted by
    `fusion_weights`, and decoded like one model's, so the fused rows also give each
    character's alternatives. The first model reads every crop, the others only those it
    reads with some confidence (`CONSULT_FROM`) but is not certain of (`CERTAIN_FROM`).

    Measured on the benchmark against keeping the more confident model's read per crop: the
    same plates or one fewer, with a third fewer false plates, because two models that
    disagree average to a low confidence instead of one of them winning at full confidence.
    """

    def __init__(
        self,
        models: Sequence[PlateOCR],
        weights: Sequence[float] | None = None,
        *,
        consult_from: float = CONSULT_FROM,
        certain_from: float = CERTAIN_FROM,
    ) -> None:
        """Fuse `models`, which must share one alphabet and pad character.

        `weights` are the models' shares of the fused rows (normalised to sum to 1);
        `fusion_weights` of their names when not given. The others read only the crops the
        first reads from `consult_from` (`CONSULT_FROM`) and below `certain_from`
        (`CERTAIN_FROM`).
        """
        if len(models) < 2:
            raise ValueError("fusing needs at least two OCR models")
        first = models[0]
        for model in models[1:]:
            if model.alphabet != first.alphabet or model.pad != first.pad:
                raise ValueError(
                    f"OCR models {first.name} and {model.name} use different alphabets"
                )
        if weights is None:
            weights = fusion_weights([m.name for m in models])
        if len(weights) != len(models) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("fusion weights must be one non-negative share per model")
        self.models = tuple(models)
        self.weights = tuple(float(w) / sum(weights) for w in weights)
        self.alphabet = first.alphabet
        self.pad = first.pad
        self.slots = max(m.slots for m in models)
        self.name = "+".join(m.name for m in models)
        self.consult_from = consult_from
        self.certain_from = certain_from

    def read_batch(self, crops: Sequence[Image]) -> list[OcrRead]:
        """Read all crops with the first model, those it may have read with all of them.

        Each model reads in one call. A crop the first model reads below `consult_from`, or
        is certain of, is its read alone; the others get the weighted mean of every model's
        rows.
        """
        if not crops:
            return []
        lead = self.models[0]
        # Models with the same input format (v1 and v2: 128x64 RGB) share one prepared batch.
        batches = {lead.input_format: lead.prepare(crops)}
        lead_rows = _pad_slots(
            lead.probabilities(crops, batches[lead.input_format]), self.slots, self.pad
        )
        reads = [decode_rows(rows, self.alphabet, self.pad) for rows in lead_rows]
        certain = lead_rows.max(axis=2).min(axis=1) >= self.certain_from
        consult = [
            i
            for i, read in enumerate(reads)
            if read.confidence >= self.consult_from and not certain[i]
        ]
        if not consult:
            return reads
        chosen = [crops[i] for i in consult]
        fused = np.float32(self.weights[0]) * lead_rows[consult]
        for model, weight in zip(self.models[1:], self.weights[1:], strict=True):
            key = model.input_format
            if key not in batches:
                batches[key] = model.prepare(crops)
            probs = model.probabilities(chosen, batches[key][consult])
            fused += np.float32(weight) * _pad_slots(probs, self.slots, self.pad)
        for i, rows in zip(consult, fused, strict=True):
            reads[i] = decode_rows(rows, self.alphabet, self.pad)
        return reads


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
