"""A/B of the embedded text detector: stored fused copy, fused at start, not fused.

Usage: .venv/bin/python script/fusion_ab.py [PHOTO_DIR] [--photos N] [--rounds R]

"none" is the original file with onnxruntime's own optimiser only (ORT_ENABLE_ALL, as the
service sets it), "per-start" the rewrite done in memory at start (the service before the
stored copy), "stored" the copy `anpr-inference fuse-detector` stores beside the model. The
three sessions run the same photos (960 x 544, the detector's input) in alternating order,
round after round, in one process; start is the time to have a session (hashing and loading
the stored copy, or fusing, included). The stored copy is written to a temporary folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import shutil
import statistics
import tempfile
import time
from typing import Any

import cv2
import numpy as np

from anpr_inference.fusion import fuse_model, store_fused
from anpr_inference.fusion_store import FusedCopy
from anpr_inference.models import EMBEDDED_DETECTOR_FILE, embedded_model_dir
from anpr_inference.sessions import create_session

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared/datasets/openalpr-benchmarks/br"


def _blobs(folder: Path, count: int) -> list[Any]:
    blobs = []
    for path in sorted(folder.glob("*.jpg"))[:count]:
        image = cv2.resize(cv2.imread(str(path)), (960, 544), interpolation=cv2.INTER_LINEAR)
        blob = image.astype(np.float32) * (2.0 / 255.0) - 1.0
        blobs.append(np.ascontiguousarray(blob.transpose(2, 0, 1)[np.newaxis]))
    return blobs


def _sessions(source: Path, folder: Path) -> tuple[dict[str, Any], dict[str, float]]:
    copy = folder / source.name
    shutil.copyfile(source, copy)
    store_fused(copy)
    starts: dict[str, float] = {}
    sessions: dict[str, Any] = {}
    for name in ("none", "per-start", "stored"):
        start = time.perf_counter()
        if name == "none":
            sessions[name] = create_session(source, threads=1)
        elif name == "per-start":
            sessions[name] = create_session(fuse_model(source).model, threads=1)
        else:
            sessions[name] = create_session(FusedCopy(copy).load().path, threads=1)
        starts[name] = time.perf_counter() - start
    return sessions, starts


def main() -> None:
    """Run the rounds and print one line per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos_dir", nargs="?", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    blobs = _blobs(args.photos_dir, args.photos)
    with tempfile.TemporaryDirectory() as folder:
        sessions, starts = _sessions(embedded_model_dir() / EMBEDDED_DETECTOR_FILE, Path(folder))
        names = list(sessions)
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            for name in names[round_ % 3 :] + names[: round_ % 3]:
                start = time.perf_counter()
                for blob in blobs:
                    sessions[name].run(None, {"x": blob})
                times[name].append((time.perf_counter() - start) * 1000 / len(blobs))
    base = statistics.median(times["none"])
    print(f"{len(blobs)} photos x {args.rounds} rounds, one thread, alternating")
    for name in names:
        median = statistics.median(times[name])
        print(
            f"{name:10} start {starts[name] * 1000:5.0f} ms   detector {median:6.1f} ms/photo "
            f"(median of rounds)   x{median / base:.3f} of none"
        )


if __name__ == "__main__":
    main()
