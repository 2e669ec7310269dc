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
import json
from pathlib import Path
import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

from anpr_inference.cli import confidence, positive_int
from anpr_inference.formats import REGIONS
from anpr_inference.imaging import Decoded, decode_for_recognition

from .benchreport import JSON_VERSION, _pct, report_json, report_table
from .benchrun import BenchSettings, Decoder, run_benchmark
from .datasets import Dataset, DatasetError, load_dataset
from .placement import CONDITIONS, WIDTHS, run_placement, write_plot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from anpr_inference.config import ServiceConfig
    from anpr_inference.engine import Recognizer


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
    from anpr_inference.engine import create_engine  # noqa: PLC0415

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
