"""onnxruntime session construction shared by every model the service runs.

One place decides threads and graph optimisation so that `threads_per_worker` means the same
for the detector and the OCR, and so that benchmarks measure what production runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import onnxruntime as ort

if TYPE_CHECKING:
    from pathlib import Path


def session_options(*, threads: int = 0) -> Any:
    """Session options for CPU inference.

    `threads` = 0 lets onnxruntime pick (one per core), which is right for a single worker;
    with several workers each should get `cores / workers` so they don't oversubscribe.
    Inter-op parallelism stays at 1: our graphs are sequential, and extra pools only add
    contention on the small machines this runs on.

    Spinning is off. Each session owns a thread pool whose idle threads by default busy-wait
    for more work; the detector and the OCR run alternately, so each one's spinning threads
    took the cores from the other: on 2 cores the detector ran ~40% slower inside the
    pipeline than alone. Parking idle threads costs a few microseconds per run instead.

    Memory patterns are off. onnxruntime plans one allocation per input shape and keeps
    the plan and its block; every photo size and every look of the detector is a new
    shape, so the plans pile up. Off, a run over the hardest photos peaked at 448 MiB
    instead of 678 MiB, at the same speed.
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    if threads > 0:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def create_session(model: Path | bytes, *, threads: int = 0) -> Any:
    """Load an ONNX model for CPU inference with `session_options`.

    `model` is a file, or a serialized model built in memory (see `fusion`).
    """
    return ort.InferenceSession(
        model if isinstance(model, bytes) else str(model),
        sess_options=session_options(threads=threads),
        providers=["CPUExecutionProvider"],
    )
