"""Running the benchmark: recognise, time and score every image; record the misses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
import csv
from dataclasses import dataclass, field
import math
import sys
import time
from typing import TYPE_CHECKING

import cv2
from tqdm import tqdm

from anpr_inference.formats import REGIONS
from anpr_inference.imaging import Decoded, ImageError, decode_image

from .datasets import Dataset, LabelledPlate, Sample
from .scoring import IOU_THRESHOLD, ImageScore, Prediction, Summary, score_image, summarize

if TYPE_CHECKING:
    from pathlib import Path

    from anpr_inference.engine import Image, Recognizer
    from anpr_inference.results import PlateRead

Decoder = Callable[[bytes], Decoded]


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
