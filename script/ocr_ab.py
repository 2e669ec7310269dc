"""A/B speed of the fused OCR against one OCR model, alternating photo by photo.

This machine's speed drifts (other processes share its cores), so two `bench` runs minutes
apart don't compare; this runs the arms in one process over the same photos, interleaved,
with the same detector object, and reports each arm's latency and its ratio to the first.
Latency is decode + recognize, as `anpr-inference bench` measures it; CPU time is the
process's (all threads) over the same span, less sensitive to other processes' load.

    .venv/bin/python script/ocr_ab.py ../shared/datasets/openalpr-benchmarks/br \
        ../shared/datasets/openalpr-benchmarks/us

Arms: `v1` (cct_xs_v1_global alone), `fused` (the default), `fused-all` (the second model
consulted on every crop). Models come from the flagless service's model folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import time

import numpy as np

from anpr_inference.config import ServiceConfig
from anpr_inference.engine import RecognitionEngine, create_engine
from anpr_inference.imaging import decode_for_recognition
from anpr_inference.ocr import FusedOCR
from anpr_inference_tools.datasets import load_dataset


def main() -> int:
    """Run the arms alternately over every photo of the folders; print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=1, help="passes over the photos")
    args = parser.parse_args()
    config = ServiceConfig()
    fused = create_engine(config)
    if not isinstance(fused.ocr, FusedOCR):
        print("error: the default OCR is not fused here (are both models linked?)")
        return 2
    arms = {
        "v1": RecognitionEngine(fused.detector, fused.ocr.models[0], fused.models),
        "fused": fused,
        "fused-all": RecognitionEngine(
            fused.detector, FusedOCR(fused.ocr.models, consult_from=0.0), fused.models
        ),
    }
    samples = [
        (s.image, folder.name) for folder in args.folders for s in load_dataset(folder).samples
    ]
    for engine in arms.values():
        engine.warm_up()
    times: dict[str, list[float]] = {name: [] for name in arms}
    cpu: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    for turn, (path, region) in enumerate(samples * args.rounds):
        data = path.read_bytes()
        order = names[turn % len(names) :] + names[: turn % len(names)]
        for name in order:
            start, start_cpu = time.perf_counter(), time.process_time()
            decoded = decode_for_recognition(
                data, max_pixels=config.max_pixels, max_decoded_pixels=config.max_decoded_pixels
            )
            arms[name].recognize(
                decoded.pixels, region=region, min_confidence=config.min_confidence
            )
            times[name].append((time.perf_counter() - start) * 1000)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
    print(f"{len(samples) * args.rounds} photos, arms interleaved (order rotating per photo)")
    _report("latency", times)
    _report("CPU time", cpu)
    return 0


def _report(what: str, series: dict[str, list[float]]) -> None:
    """Print p50, p95 and mean of each arm, and each one's ratio to the first arm's."""
    first = next(iter(series.values()))
    base = [float(np.percentile(first, 50)), float(np.percentile(first, 95)), float(np.mean(first))]
    print(what)
    for name, values in series.items():
        stats = [float(np.percentile(values, 50)), float(np.percentile(values, 95))]
        stats.append(float(np.mean(values)))
        cells = "  ".join(
            f"{label} {v:6.1f} ms ({v / b:.3f})"
            for label, v, b in zip(("p50", "p95", "mean"), stats, base, strict=True)
        )
        print(f"  {name:10} {cells}")


if __name__ == "__main__":
    sys.exit(main())
