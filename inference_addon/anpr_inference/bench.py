"""The `anpr-inference bench` command: accuracy and speed on labelled photo folders.

Folders use the OpenALPR benchmark layout: `NAME.jpg` (or `.jpeg`/`.png`) beside `NAME.txt`
holding one line per plate, `NAME.jpg x y w h PLATE`, separated by tabs or spaces. Every image
is read from disk as encoded bytes, then decoded (large JPEGs reduced) and recognised, which is
exactly the work the HTTP service does per request, and the reads are scored against the labels.

Metrics (per folder and overall; a fraction is null when its denominator is 0):

- `plate_accuracy`: labelled plates read exactly, over labelled plates. In an image with k
  labelled plates, a label counts when one of the k best reported plates has its normalised
  text, so with one label only the best plate counts (it is the one an automation acts on).
- `character_accuracy`: 1 - sum of edit distances / sum of label lengths (micro average over
  characters; each plate's distance is capped at its length). A label is compared with the
  reported plate having its exact text, else the one whose box overlaps it most if that IoU
  is >= 0.5, else the best-ranked one overlapping it at all, else with nothing (all its
  characters count as missed). `confusions` lists the substitutions of the Levenshtein
  alignments as `expected` -> `read` counts.
- `detection_recall`: labelled plates with a reported box at IoU >= 0.5, over labelled plates.
- `false_plates_per_image`: reported plates matching no label (neither its text nor IoU >= 0.5),
  over images.
- `latency_ms` (`p50`, `p95`, `max`, `mean`): decode + recognise per image, measured one image
  at a time; `images_per_second.sequential` is images over the summed latencies and
  `images_per_second.concurrent` (with `--workers N`, N > 1) images over the wall-clock time of
  N threads working through the folder together.

`--json` prints one document with stable keys:

    {"version": 1,
     "models": {"detector": {"name", "source", "path"}, "ocr": {...}},
     "settings": {"region", "min_confidence", "limit", "workers", "threads_per_worker",
                  "iou_threshold", "max_pixels"},
     "folders": [{"name", "path", "region", **METRICS}],
     "overall": METRICS,
     "errors": [{"image", "error"}]}

    METRICS = {"images", "unlabelled_images", "errors", "labelled_plates", "reported_plates",
               "plate_accuracy", "character_accuracy", "detection_recall",
               "false_plates_per_image", "latency_ms": {"p50", "p95", "max", "mean"},
               "images_per_second": {"sequential", "concurrent"},
               "confusions": [{"expected", "read", "count"}]}
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
import csv
from dataclasses import dataclass, field
import json
import math
from pathlib import Path
import sys
import time
from typing import TYPE_CHECKING, Any, Final

import cv2
import numpy as np
from tqdm import tqdm

from .cli import confidence, positive_int
from .formats import REGIONS, normalize_plate
from .imaging import Decoded, ImageError, decode_for_recognition, decode_image
from .results import Box, PlateRead

if TYPE_CHECKING:
    from .config import ServiceConfig
    from .engine import Image, Recognizer

IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png"})
IOU_THRESHOLD: Final = 0.5
JSON_VERSION: Final = 1
TOP_CONFUSIONS: Final = 10

Decoder = Callable[[bytes], Decoded]


class DatasetError(ValueError):
    """A benchmark folder or label file cannot be used; the message says where and why."""


# --- Datasets ---------------------------------------------------------------------------------


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


# --- Metrics (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the metrics need of a reported plate."""

    text: str
    box: Box
    confidence: float = 0.0

    @classmethod
    def from_read(cls, plate: PlateRead) -> Prediction:
        """Take the engine's normalised (format-corrected) text."""
        return cls(plate.normalized, plate.box, plate.confidence)


def align(expected: str, read: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """Levenshtein distance and the substitutions of one optimal alignment.

    Backtracking prefers the diagonal, so `B` read as `8` shows as a substitution rather than a
    deletion plus an insertion of equal cost.
    """
    rows, cols = len(expected) + 1, len(read) + 1
    dist = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        dist[i][0] = i
    for j in range(cols):
        dist[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if expected[i - 1] == read[j - 1] else 1
            dist[i][j] = min(dist[i - 1][j] + 1, dist[i][j - 1] + 1, dist[i - 1][j - 1] + cost)
    substitutions: list[tuple[str, str]] = []
    i, j = rows - 1, cols - 1
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            cost = 0 if expected[i - 1] == read[j - 1] else 1
            if dist[i][j] == dist[i - 1][j - 1] + cost:
                if cost:
                    substitutions.append((expected[i - 1], read[j - 1]))
                i, j = i - 1, j - 1
                continue
        if i > 0 and dist[i][j] == dist[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return dist[-1][-1], tuple(reversed(substitutions))


@dataclass(frozen=True, slots=True)
class ImageScore:
    """How the reports of one image compare with its labels (counts, to be summed)."""

    labelled: int
    read_correctly: int
    detected: int
    reported: int
    false_plates: int
    characters: int
    edit_distance: int
    confusions: tuple[tuple[str, str], ...] = ()

    @property
    def correct(self) -> bool:
        """Every labelled plate was read exactly (and an unlabelled image reported nothing)."""
        return self.read_correctly == self.labelled and (self.labelled > 0 or not self.reported)


def score_image(
    truth: Sequence[LabelledPlate],
    predictions: Sequence[Prediction],
    *,
    iou_threshold: float = IOU_THRESHOLD,
) -> ImageScore:
    """Score one image's reported plates (best first) against its labels."""
    top = Counter(p.text for p in predictions[: len(truth)])
    wanted = Counter(t.text for t in truth)
    read_correctly = sum(min(n, top[text]) for text, n in wanted.items())

    detected = 0
    characters = 0
    edit_distance = 0
    confusions: list[tuple[str, str]] = []
    for label in truth:
        overlaps = [(p.box.iou(label.box), p) for p in predictions]
        if any(iou >= iou_threshold for iou, _ in overlaps):
            detected += 1
        read = next((p.text for p in predictions if p.text == label.text), None)
        if read is None:
            best = max(overlaps, key=lambda item: item[0], default=None)
            if best is not None and best[0] >= iou_threshold:
                read = best[1].text
            else:
                # A box much larger or smaller than the label (a loose detection, a tight
                # text line) still shows what the OCR made of this plate.
                read = next((p.text for iou, p in overlaps if iou > 0), "")
        distance, substitutions = align(label.text, read)
        characters += len(label.text)
        edit_distance += min(distance, len(label.text))
        confusions.extend(substitutions)

    false_plates = sum(
        1
        for p in predictions
        if not any(p.text == t.text or p.box.iou(t.box) >= iou_threshold for t in truth)
    )
    return ImageScore(
        labelled=len(truth),
        read_correctly=read_correctly,
        detected=detected,
        reported=len(predictions),
        false_plates=false_plates,
        characters=characters,
        edit_distance=edit_distance,
        confusions=tuple(confusions),
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile (0-100), interpolating linearly between ranks; None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q, method="linear"))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Summary:
    """Metrics of a set of images (a folder, or everything)."""

    images: int
    unlabelled_images: int
    errors: int
    labelled_plates: int
    reported_plates: int
    plate_accuracy: float | None
    character_accuracy: float | None
    detection_recall: float | None
    false_plates_per_image: float | None
    latency_p50: float | None
    latency_p95: float | None
    latency_max: float | None
    latency_mean: float | None
    sequential_ips: float | None
    concurrent_ips: float | None
    confusions: tuple[tuple[str, str, int], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form (see the module docstring)."""
        return {
            "images": self.images,
            "unlabelled_images": self.unlabelled_images,
            "errors": self.errors,
            "labelled_plates": self.labelled_plates,
            "reported_plates": self.reported_plates,
            "plate_accuracy": _round(self.plate_accuracy, 4),
            "character_accuracy": _round(self.character_accuracy, 4),
            "detection_recall": _round(self.detection_recall, 4),
            "false_plates_per_image": _round(self.false_plates_per_image, 4),
            "latency_ms": {
                "p50": _round(self.latency_p50, 1),
                "p95": _round(self.latency_p95, 1),
                "max": _round(self.latency_max, 1),
                "mean": _round(self.latency_mean, 1),
            },
            "images_per_second": {
                "sequential": _round(self.sequential_ips, 2),
                "concurrent": _round(self.concurrent_ips, 2),
            },
            "confusions": [
                {"expected": exp, "read": got, "count": n} for exp, got, n in self.confusions
            ],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def summarize(
    scores: Sequence[ImageScore],
    latencies_ms: Sequence[float],
    *,
    unlabelled: int = 0,
    errors: int = 0,
    concurrent_seconds: float | None = None,
    concurrent_images: int = 0,
) -> Summary:
    """Sum per-image scores into rates; `latencies_ms` holds the successful images' times."""
    labelled = sum(s.labelled for s in scores)
    characters = sum(s.characters for s in scores)
    confusions = Counter(pair for s in scores for pair in s.confusions)
    total_ms = math.fsum(latencies_ms)
    return Summary(
        images=len(scores),
        unlabelled_images=unlabelled,
        errors=errors,
        labelled_plates=labelled,
        reported_plates=sum(s.reported for s in scores),
        plate_accuracy=_ratio(sum(s.read_correctly for s in scores), labelled),
        character_accuracy=(
            1 - sum(s.edit_distance for s in scores) / characters if characters else None
        ),
        detection_recall=_ratio(sum(s.detected for s in scores), labelled),
        false_plates_per_image=_ratio(sum(s.false_plates for s in scores), len(scores)),
        latency_p50=percentile(latencies_ms, 50),
        latency_p95=percentile(latencies_ms, 95),
        latency_max=max(latencies_ms, default=None),
        latency_mean=_ratio(total_ms, len(latencies_ms)),
        sequential_ips=_ratio(len(latencies_ms) * 1000, total_ms),
        concurrent_ips=(
            _ratio(concurrent_images, concurrent_seconds) if concurrent_seconds else None
        ),
        confusions=tuple(
            (exp, got, n)
            for (exp, got), n in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
    )


# --- Running ----------------------------------------------------------------------------------


@dataclass(slots=True)
class FolderRun:
    """Everything measured on one folder."""

    dataset: Dataset
    region: str | None
    scores: list[ImageScore] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)
    concurrent_seconds: float | None = None
    concurrent_images: int = 0

    def summary(self) -> Summary:
        """Sum up this folder."""
        return summarize(
            self.scores,
            self.latencies_ms,
            unlabelled=len(self.dataset.unlabelled),
            errors=len(self.errors),
            concurrent_seconds=self.concurrent_seconds,
            concurrent_images=self.concurrent_images,
        )


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """How to run the benchmark."""

    region: str | None = None
    """A region, `auto` (the folder's name when it is a region) or None."""
    min_confidence: float = 0.0
    workers: int = 1
    threads_per_worker: int = 0
    limit: int | None = None
    failures: Path | None = None
    iou_threshold: float = IOU_THRESHOLD
    max_pixels: int = 40_000_000

    def region_for(self, dataset: Dataset) -> str | None:
        """Return the region hint passed to the engine for this folder."""
        if self.region == "auto":
            return dataset.name.lower() if dataset.name.lower() in REGIONS else None
        return self.region


class _Failures:
    """Writes annotated images, best-plate crops and `failures.csv` for every miss."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._csv = (folder / "failures.csv").open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._csv)
        self._writer.writerow(["image", "expected", "read", "confidence"])

    def close(self) -> None:
        self._csv.close()

    def record(
        self, dataset: str, sample: Sample, image: Image | None, plates: Sequence[PlateRead]
    ) -> None:
        expected = " ".join(p.text for p in sample.plates)
        best = plates[: max(1, len(sample.plates))]
        read = " ".join(p.normalized for p in best)
        confidence = f"{plates[0].confidence:.4f}" if plates else ""
        self._writer.writerow([str(sample.image), expected, read, confidence])
        self._csv.flush()
        if image is None:
            return
        out = self.folder / dataset
        out.mkdir(exist_ok=True)
        _write_jpeg(out / f"{sample.image.stem}.jpg", annotate(image, sample.plates, plates))
        if plates:
            b = plates[0].box
            crop = image[max(0, b.y1) : b.y2, max(0, b.x1) : b.x2]
            if crop.size:
                _write_jpeg(out / f"{sample.image.stem}_crop.jpg", crop)


def _write_jpeg(path: Path, image: Image) -> None:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:  # pragma: no cover - encoding a valid uint8 BGR array does not fail
        raise OSError(f"cannot encode {path}")
    path.write_bytes(buffer.tobytes())


def annotate(image: Image, truth: Iterable[LabelledPlate], plates: Iterable[PlateRead]) -> Image:
    """Draw labelled boxes in green and reported ones in red with text, on a copy."""
    canvas = image.copy()
    scale = max(1, round(max(canvas.shape[:2]) / 800))
    green, red = (0, 200, 0), (0, 0, 255)
    for label in truth:
        b = label.box
        cv2.rectangle(canvas, (b.x1, b.y1), (b.x2, b.y2), green, 2 * scale)
        cv2.putText(
            canvas,
            label.text,
            (b.x1, b.y2 + 22 * scale),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7 * scale,
            green,
            2 * scale,
        )
    for plate in plates:
        b = plate.box
        cv2.rectangle(canvas, (b.x1, b.y1), (b.x2, b.y2), red, 2 * scale)
        cv2.putText(
            canvas,
            f"{plate.normalized} {plate.confidence:.2f}",
            (b.x1, max(12 * scale, b.y1 - 6 * scale)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7 * scale,
            red,
            2 * scale,
        )
    return canvas


def run_benchmark(
    datasets: Sequence[Dataset],
    engine: Recognizer,
    decode: Decoder,
    settings: BenchSettings,
    *,
    progress: bool = False,
) -> list[FolderRun]:
    """Recognise every image, score it and time it; optionally measure concurrency too."""
    limited = [
        Dataset(d.name, d.path, d.samples[: settings.limit], d.unlabelled)
        if settings.limit is not None
        else d
        for d in datasets
    ]
    total = sum(len(d.samples) for d in limited)
    if settings.workers > 1:
        total *= 2
    failures = _Failures(settings.failures) if settings.failures is not None else None
    runs: list[FolderRun] = []
    try:
        with tqdm(total=total, unit="img", disable=not progress, file=sys.stderr) as bar:
            for dataset in limited:
                run = FolderRun(dataset, settings.region_for(dataset))
                runs.append(run)
                bar.set_description(dataset.name)
                for sample in dataset.samples:
                    _run_one(run, sample, engine, decode, settings=settings, failures=failures)
                    bar.update()
                if settings.workers > 1:
                    _run_concurrently(run, engine, decode, settings, bar.update)
    finally:
        if failures is not None:
            failures.close()
    return runs


def _run_one(
    run: FolderRun,
    sample: Sample,
    engine: Recognizer,
    decode: Decoder,
    *,
    settings: BenchSettings,
    failures: _Failures | None,
) -> None:
    image: Image | None = None
    plates: tuple[PlateRead, ...] = ()
    try:
        data = sample.image.read_bytes()
        start = time.perf_counter()
        decoded = decode(data)
        result = engine.recognize(
            decoded.pixels, region=run.region, min_confidence=settings.min_confidence
        )
        result = decoded.restore(result)
        run.latencies_ms.append((time.perf_counter() - start) * 1000)
        plates = result.plates
        # Failures are drawn in the photo's own coordinates, like its labels.
        image = (
            decode_image(data, max_pixels=settings.max_pixels)
            if decoded.reduced and failures is not None
            else decoded.pixels
        )
    except (OSError, ImageError) as err:
        run.errors.append((sample.image, str(err)))
    score = score_image(
        sample.plates,
        [Prediction.from_read(p) for p in plates],
        iou_threshold=settings.iou_threshold,
    )
    run.scores.append(score)
    if failures is not None and not score.correct:
        failures.record(run.dataset.name, sample, image, plates)


def _run_concurrently(
    run: FolderRun,
    engine: Recognizer,
    decode: Decoder,
    settings: BenchSettings,
    advance: Callable[[], object],
) -> None:
    """Time `workers` threads recognising the folder's images together (throughput only)."""

    def one(path: Path) -> bool:
        try:
            decoded = decode(path.read_bytes())
        except (OSError, ImageError):
            return False
        engine.recognize(decoded.pixels, region=run.region, min_confidence=settings.min_confidence)
        return True

    start = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(settings.workers, thread_name_prefix="bench") as pool:
        for ok in pool.map(one, [s.image for s in run.dataset.samples]):
            done += ok
            advance()
    run.concurrent_seconds = time.perf_counter() - start
    run.concurrent_images = done


# --- Reporting --------------------------------------------------------------------------------


def overall(runs: Sequence[FolderRun]) -> Summary:
    """Metrics over every folder together."""
    seconds = [r.concurrent_seconds for r in runs if r.concurrent_seconds is not None]
    return summarize(
        [s for r in runs for s in r.scores],
        [ms for r in runs for ms in r.latencies_ms],
        unlabelled=sum(len(r.dataset.unlabelled) for r in runs),
        errors=sum(len(r.errors) for r in runs),
        concurrent_seconds=math.fsum(seconds) if seconds else None,
        concurrent_images=sum(r.concurrent_images for r in runs),
    )


def report_json(
    runs: Sequence[FolderRun], engine: Recognizer, settings: BenchSettings
) -> dict[str, Any]:
    """Build the `--json` document (see the module docstring)."""
    return {
        "version": JSON_VERSION,
        "models": {key: info.as_dict() for key, info in engine.models.items()},
        "settings": {
            "region": settings.region,
            "min_confidence": settings.min_confidence,
            "limit": settings.limit,
            "workers": settings.workers,
            "threads_per_worker": settings.threads_per_worker,
            "iou_threshold": settings.iou_threshold,
            "max_pixels": settings.max_pixels,
        },
        "folders": [
            {
                "name": r.dataset.name,
                "path": str(r.dataset.path),
                "region": r.region,
                **r.summary().as_dict(),
            }
            for r in runs
        ],
        "overall": overall(runs).as_dict(),
        "errors": [{"image": str(path), "error": err} for r in runs for path, err in r.errors],
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report_table(runs: Sequence[FolderRun], engine: Recognizer, settings: BenchSettings) -> str:
    """Format the report: one row per folder, then overall, confusions and models."""
    concurrent = settings.workers > 1
    header = [
        "folder",
        "images",
        "plates",
        "plate acc",
        "char acc",
        "det recall",
        "false/img",
        "p50 ms",
        "p95 ms",
        "max ms",
        "img/s",
    ]
    if concurrent:
        header.append(f"img/s x{settings.workers}")
    rows: list[list[str]] = [header]
    for name, summary in [
        *((r.dataset.name, r.summary()) for r in runs),
        ("overall", overall(runs)),
    ]:
        row = [
            name,
            str(summary.images),
            str(summary.labelled_plates),
            _pct(summary.plate_accuracy),
            _pct(summary.character_accuracy),
            _pct(summary.detection_recall),
            _num(summary.false_plates_per_image, ".2f"),
            _num(summary.latency_p50, ".0f"),
            _num(summary.latency_p95, ".0f"),
            _num(summary.latency_max, ".0f"),
            _num(summary.sequential_ips, ".2f"),
        ]
        if concurrent:
            row.append(_num(summary.concurrent_ips, ".2f"))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))

    total = overall(runs)
    confusions = ", ".join(f"{e}→{r}: {n}" for e, r, n in total.confusions[:TOP_CONFUSIONS])
    lines.append("")
    lines.append(f"Top confusions (expected→read): {confusions or 'none'}")
    models = ", ".join(
        f"{key} {info.name} ({info.source})" for key, info in sorted(engine.models.items())
    )
    lines.append(f"Models: {models}")
    threads = settings.threads_per_worker or "auto"
    lines.append(
        f"Workers: {settings.workers}, threads per worker: {threads}, "
        f"region: {settings.region or 'none'}, min confidence: {settings.min_confidence:g}"
    )
    if total.errors or total.unlabelled_images:
        lines.append(
            f"Skipped: {total.errors} unreadable image(s), "
            f"{total.unlabelled_images} image(s) without labels"
        )
    return "\n".join(lines)


# --- Command line -----------------------------------------------------------------------------


def _region(value: str) -> str:
    key = value.strip().lower()
    if key not in ("auto", "none") and key not in REGIONS:
        raise argparse.ArgumentTypeError(
            f"unknown region {value!r}; use auto, none or one of {', '.join(REGIONS)}"
        )
    return key


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register `bench` (the CLI adds the model flags to the returned parser)."""
    parser = subparsers.add_parser(
        "bench",
        help="measure accuracy and speed on labelled image folders",
        description=(
            "Recognise every labelled image of OpenALPR-benchmark-style folders "
            "(NAME.jpg + NAME.txt with 'NAME.jpg x y w h PLATE' lines) and report accuracy, "
            "detection recall, false plates, latency and throughput."
        ),
    )
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="dataset folders")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--failures",
        type=Path,
        metavar="OUT",
        help="write annotated images, crops and failures.csv for every miss into OUT",
    )
    parser.add_argument(
        "--limit", type=positive_int, metavar="N", help="at most N images from each folder"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="also time N threads recognising concurrently (default: the workers setting)",
    )
    parser.add_argument(
        "--region",
        type=_region,
        help="plate region hint (br, eu, in, nz, uk, us); none; or auto: each folder's "
        "name when it is a region, as a user sets the region of their cameras (default: the "
        "default_region setting, else auto)",
    )
    parser.add_argument(
        "--min-confidence",
        type=confidence,
        help="drop plates below this confidence (default: the min_confidence setting)",
    )
    parser.add_argument(
        "--placement",
        type=Path,
        metavar="OUT",
        help="instead, measure accuracy against plate width (20-120 px) clear and degraded "
        "(JPEG q30, motion blur, night IR); write OUT/placement.json and OUT/placement.png",
    )
    parser.set_defaults(func=run)
    return parser


def _placement(
    out: Path,
    datasets: Sequence[Dataset],
    engine: Recognizer,
    decode: Decoder,
    settings: BenchSettings,
    *,
    progress: bool,
) -> int:
    """Run `--placement`: write the JSON and the plot, print where a plate reaches 95%."""
    from .placement import CONDITIONS, WIDTHS, run_placement, write_plot  # noqa: PLC0415

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"error: cannot write to {out}: {err}", file=sys.stderr)
        return 2
    total = (
        sum(min(len(d.samples), settings.limit or len(d.samples)) for d in datasets)
        * len(WIDTHS)
        * len(CONDITIONS)
    )
    with tqdm(total=total, unit="img", disable=not progress, file=sys.stderr) as bar:
        result = run_placement(
            datasets,
            engine,
            decode,
            region_for=settings.region_for,
            min_confidence=settings.min_confidence,
            limit=settings.limit,
            advance=bar.update,
        )
    names = "+".join(d.name for d in datasets)
    document = {
        "version": JSON_VERSION,
        "datasets": [d.name for d in datasets],
        "models": {key: info.as_dict() for key, info in engine.models.items()},
        **result.as_dict(),
        "width_for_95": {name: result.width_for(0.95, name) for name in result.cells},
    }
    (out / "placement.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    write_plot(result, out / "placement.png", title=f"Plate accuracy by plate width ({names})")
    for name, row in result.cells.items():
        cells = "  ".join(f"{width}px {_pct(cell.accuracy)}" for width, cell in sorted(row.items()))
        print(f"{name:12} {cells}")
    print(f"wrote {out / 'placement.json'} and {out / 'placement.png'}")
    return 0


def _unique_names(folders: Sequence[Path]) -> list[str]:
    names: list[str] = []
    for folder in folders:
        base = folder.resolve().name or str(folder)
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names


def run(args: argparse.Namespace, config: ServiceConfig) -> int:
    """Entry point of `anpr-inference bench`: load the engine, run, print the report."""
    from .engine import create_engine  # noqa: PLC0415

    try:
        datasets = [
            load_dataset(folder, name=name)
            for folder, name in zip(args.folders, _unique_names(args.folders), strict=True)
        ]
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    engine = create_engine(config)
    return run_with_engine(args, config, datasets, engine)


def run_with_engine(
    args: argparse.Namespace,
    config: ServiceConfig,
    datasets: Sequence[Dataset],
    engine: Recognizer,
) -> int:
    """Run the benchmark with a ready engine and print the report (the testable part of `run`).

    Returns 0, 1 when some images could not be read, 2 when `--failures` cannot be written.
    """
    region = args.region if args.region is not None else (config.default_region or "auto")
    if region == "none":
        region = None
    if region is not None and region != "auto" and region not in REGIONS:
        print(f"error: unknown region {region!r}; use one of {', '.join(REGIONS)}", file=sys.stderr)
        return 2
    settings = BenchSettings(
        region=region,
        min_confidence=(
            args.min_confidence if args.min_confidence is not None else config.min_confidence
        ),
        workers=args.workers if args.workers is not None else config.workers,
        threads_per_worker=config.threads_per_worker,
        limit=args.limit,
        failures=args.failures,
        max_pixels=config.max_pixels,
    )

    def decode(data: bytes) -> Decoded:
        return decode_for_recognition(
            data, max_pixels=settings.max_pixels, max_decoded_pixels=config.max_decoded_pixels
        )

    interactive = not args.json and sys.stdout.isatty() and sys.stderr.isatty()
    engine.warm_up()
    if getattr(args, "placement", None) is not None:
        return _placement(args.placement, datasets, engine, decode, settings, progress=interactive)
    try:
        runs = run_benchmark(datasets, engine, decode, settings, progress=interactive)
    except OSError as err:
        if settings.failures is None:
            raise
        print(f"error: cannot write failures to {settings.failures}: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_json(runs, engine, settings), indent=2))
    else:
        print(report_table(runs, engine, settings))
        for r in runs:
            for path, message in r.errors:
                print(f"{path}: error: {message}", file=sys.stderr)
    return 1 if any(r.errors for r in runs) else 0
