"""Camera placement: plate accuracy against the plate's width in pixels, clear and degraded.

A user choosing where to mount a camera, and how far to zoom, needs one number: how wide a
plate must appear in the snapshot to be read. `anpr-inference bench --placement OUT` answers
it from labelled photos: each photo is shrunk so that its labelled plate is 20, 30, 40, 60,
80 and 120 pixels wide (a photo whose plate is already narrower is left out at that width:
enlarging adds no detail), optionally degraded the way cameras degrade it (JPEG quality 30,
motion blur of 3% of the plate's width, night infrared: greyscale, low contrast, noise), and
recognised. The result is JSON and a PNG plot with one line per condition, drawn with OpenCV
so that no plotting library is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import itertools
import math
from typing import TYPE_CHECKING, Any, Final

import cv2
import numpy as np

from .scoring import Prediction, score_image

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from anpr_inference.engine import Image, Recognizer

    from .benchrun import Decoder
    from .datasets import Dataset

WIDTHS: Final = (20, 30, 40, 60, 80, 120)
"""Plate widths in pixels, in the snapshot the service receives."""

_MOTION_BLUR: Final = 0.03
"""Length of the horizontal blur as a share of the plate's width: a car rolling up to a gate
at 1.5 m/s travels 1.5 cm during a 1/100 s exposure (a camera's daytime shutter), 3% of a
52 cm plate. As a share of the plate, the blur is the same whatever the camera's zoom. At
8% (2 m/s, 1/50 s) almost nothing was read below 80 px: a gate camera wants a short
shutter."""
_IR_CONTRAST: Final = 0.45
_IR_NOISE_SIGMA: Final = 10.0
_SEED: Final = 1234


def _jpeg(image: Image, _rng: np.random.Generator, _width: int) -> Image:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 30])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise ValueError("JPEG encoding failed")
    decoded: Image = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)
    return decoded


def _motion_blur(image: Image, _rng: np.random.Generator, width: int) -> Image:
    length = max(2, round(width * _MOTION_BLUR))
    kernel = np.full((1, length), 1.0 / length, np.float32)
    blurred: Image = np.asarray(cv2.filter2D(image, -1, kernel), np.uint8)
    return blurred


def _night_ir(image: Image, rng: np.random.Generator, _width: int) -> Image:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    flat = grey.mean() + (grey - grey.mean()) * _IR_CONTRAST
    noisy = flat + rng.normal(0.0, _IR_NOISE_SIGMA, flat.shape)
    out = np.clip(noisy, 0, 255).astype(np.uint8)
    result: Image = np.asarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR), np.uint8)
    return result


CONDITIONS: Final[dict[str, Callable[[Image, np.random.Generator, int], Image] | None]] = {
    "clear": None,
    "jpeg q30": _jpeg,
    "motion blur": _motion_blur,
    "night IR": _night_ir,
}
"""Each condition's degradation, applied after shrinking (as the camera would)."""


@dataclass(slots=True)
class Cell:
    """One condition at one plate width."""

    images: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        """Share of the photos read right; None without photos."""
        return self.correct / self.images if self.images else None


@dataclass(slots=True)
class PlacementResult:
    """Accuracy per condition and width, over photos with exactly one labelled plate."""

    widths: tuple[int, ...]
    cells: dict[str, dict[int, Cell]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form: `{"widths": [...], "conditions": {name: {width: {...}}}}`."""
        return {
            "widths": list(self.widths),
            "conditions": {
                name: {
                    str(width): {
                        "images": cell.images,
                        "correct": cell.correct,
                        "plate_accuracy": None
                        if cell.accuracy is None
                        else round(cell.accuracy, 4),
                    }
                    for width, cell in row.items()
                }
                for name, row in self.cells.items()
            },
        }

    def width_for(self, accuracy: float, condition: str = "clear") -> int | None:
        """Return the narrowest width from which `condition` reaches `accuracy` from then on."""
        found: int | None = None
        for width in sorted(self.widths, reverse=True):
            value = self.cells[condition][width].accuracy
            if value is None:
                continue  # no photo has a plate that wide
            if value < accuracy:
                break
            found = width
        return found


def shrink_to(image: Image, plate_width: float, width: int) -> Image | None:
    """Shrink `image` so a plate `plate_width` pixels wide becomes `width`; None to enlarge."""
    if width >= plate_width:
        return None
    scale = width / plate_width
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    shrunk: Image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    return shrunk


def run_placement(
    datasets: Sequence[Dataset],
    engine: Recognizer,
    decode: Decoder,
    *,
    region_for: Callable[[Dataset], str | None],
    min_confidence: float,
    limit: int | None = None,
    widths: Sequence[int] = WIDTHS,
    advance: Callable[[], object] = lambda: None,
) -> PlacementResult:
    """Recognise every single-plate photo at every width and condition; count the right reads."""
    result = PlacementResult(
        tuple(widths), {name: {w: Cell() for w in widths} for name in CONDITIONS}
    )
    rng = np.random.default_rng(_SEED)
    for dataset in datasets:
        region = region_for(dataset)
        samples = [s for s in dataset.samples if len(s.plates) == 1][:limit]
        for sample in samples:
            decoded = decode(sample.image.read_bytes())
            # A large JPEG may come decoded at a reduced scale; the label is in its own pixels.
            plate_width = sample.plates[0].box.width * decoded.pixels.shape[1] / decoded.width
            for width in widths:
                small = shrink_to(decoded.pixels, plate_width, width)
                if small is None:
                    continue
                for name, degrade in CONDITIONS.items():
                    seen = small if degrade is None else degrade(small, rng, width)
                    plates = engine.recognize(
                        seen, region=region, min_confidence=min_confidence
                    ).plates
                    score = score_image(sample.plates, [Prediction.from_read(p) for p in plates])
                    cell = result.cells[name][width]
                    cell.images += 1
                    cell.correct += score.correct
                    advance()
    return result


_COLOURS: Final = ((180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214))
"""BGR: the first four colours of matplotlib's default cycle, one per condition."""


def write_plot(result: PlacementResult, path: Path, *, title: str) -> None:
    """Draw accuracy (0-100%) against plate width (log scale), one line per condition."""
    w, h = 900, 560
    left, right, top, bottom = 80, 200, 50, 70
    canvas = np.full((h, w, 3), 255, np.uint8)
    lo, hi = math.log(min(result.widths)), math.log(max(result.widths))

    def x_of(width: int) -> int:
        return round(left + (math.log(width) - lo) / (hi - lo) * (w - left - right))

    def y_of(accuracy: float) -> int:
        return round(top + (1.0 - accuracy) * (h - top - bottom))

    font, grey, black = cv2.FONT_HERSHEY_SIMPLEX, (200, 200, 200), (0, 0, 0)
    for pct in range(0, 101, 10):
        y = y_of(pct / 100)
        cv2.line(canvas, (left, y), (w - right, y), grey, 1)
        cv2.putText(canvas, f"{pct}%", (left - 55, y + 5), font, 0.45, black, 1, cv2.LINE_AA)
    for width in result.widths:
        x = x_of(width)
        cv2.line(canvas, (x, top), (x, h - bottom), grey, 1)
        cv2.putText(canvas, str(width), (x - 12, h - bottom + 22), font, 0.5, black, 1, cv2.LINE_AA)
    cv2.rectangle(canvas, (left, top), (w - right, h - bottom), black, 1)
    cv2.putText(
        canvas,
        "plate width in the snapshot (pixels)",
        (left + 150, h - 20),
        font,
        0.55,
        black,
        1,
        cv2.LINE_AA,
    )
    cv2.putText(canvas, title, (left, 30), font, 0.6, black, 1, cv2.LINE_AA)
    for index, (name, row) in enumerate(result.cells.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        points = [
            (x_of(width), y_of(cell.accuracy))
            for width, cell in sorted(row.items())
            if cell.accuracy is not None
        ]
        for a, b in itertools.pairwise(points):
            cv2.line(canvas, a, b, colour, 2, cv2.LINE_AA)
        for point in points:
            cv2.circle(canvas, point, 4, colour, -1, cv2.LINE_AA)
        ly = top + 20 + 28 * index
        cv2.line(canvas, (w - right + 15, ly), (w - right + 45, ly), colour, 2, cv2.LINE_AA)
        cv2.putText(canvas, name, (w - right + 52, ly + 5), font, 0.5, black, 1, cv2.LINE_AA)
    if not cv2.imwrite(str(path), canvas):
        raise OSError(f"cannot write {path}")
