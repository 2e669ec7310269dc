"""Benchmark datasets: labelled photo folders in the OpenALPR benchmark layout.

`NAME.jpg` (or `.jpeg`/`.png`) beside `NAME.txt` holding one line per plate,
`NAME.jpg x y w h PLATE`, separated by tabs or spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from anpr_inference.formats import normalize_plate
from anpr_inference.results import Box

if TYPE_CHECKING:
    from pathlib import Path

IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png"})


class DatasetError(ValueError):
    """A benchmark folder or label file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class LabelledPlate:
    """One ground-truth plate: normalised text and box."""

    text: str
    box: Box


@dataclass(frozen=True, slots=True)
class Sample:
    """One image and its labelled plates."""

    image: Path
    plates: tuple[LabelledPlate, ...]


@dataclass(frozen=True, slots=True)
class Dataset:
    """The labelled images of one folder; images without a label file are only counted."""

    name: str
    path: Path
    samples: tuple[Sample, ...]
    unlabelled: tuple[Path, ...] = ()


def parse_labels(text: str, source: str = "<labels>") -> tuple[LabelledPlate, ...]:
    """Parse OpenALPR label lines `NAME x y w h PLATE` (tabs or spaces; blank lines skipped).

    The plate may itself contain spaces (`AB 123`); it is normalised like the engine's reads.
    """
    plates: list[LabelledPlate] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{source}:{number}"
        if len(fields) < 6:
            raise DatasetError(f"{where}: expected 'IMAGE x y w h PLATE', got {line.strip()!r}")
        try:
            x, y, w, h = (int(v) for v in fields[1:5])
        except ValueError:
            raise DatasetError(f"{where}: x y w h must be integers, got {fields[1:5]}") from None
        # x and y may be slightly negative: hand-drawn boxes can start past the image edge.
        if w <= 0 or h <= 0:
            raise DatasetError(f"{where}: the box {x} {y} {w} {h} has no area")
        plate = normalize_plate("".join(fields[5:]))
        if not plate:
            raise DatasetError(f"{where}: the plate {' '.join(fields[5:])!r} has no A-Z/0-9")
        plates.append(LabelledPlate(plate, Box(x, y, x + w, y + h)))
    return tuple(plates)


def load_dataset(folder: Path, *, name: str | None = None) -> Dataset:
    """Collect a folder's images (sorted by name) with their labels."""
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder")
    samples: list[Sample] = []
    unlabelled: list[Path] = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES or not image.is_file():
            continue
        label_file = image.with_suffix(".txt")
        if not label_file.is_file():
            unlabelled.append(image)
            continue
        try:
            text = label_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DatasetError(f"cannot read {label_file}: {err}") from err
        samples.append(Sample(image, parse_labels(text, str(label_file))))
    if not samples:
        raise DatasetError(f"{folder} has no labelled images (NAME.jpg with NAME.txt)")
    return Dataset(name or folder.name, folder, tuple(samples), tuple(unlabelled))
