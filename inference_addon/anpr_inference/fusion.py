"""Exact ONNX graph rewrites that make the embedded PP-OCRv4 text detector faster on CPU.

The detector (a PP-LCNetV3 backbone exported by paddle2onnx at opset 12) spends about a third
of its time in small element-wise ops onnxruntime does not fuse by itself:

* every block is `Conv -> Mul(scalar) -> Add(scalar)`, a learnable affine that can be folded
  into the convolution's weights and bias (`W' = W * s`, `B' = B * s + b`);
* the same affine after an activation cannot go into the convolution before it, but where the
  next op is a convolution that pads nothing (here the pointwise 1x1 ones) it folds into that
  one instead (`W' = W * s`, `B' = B + b * sum(W)` over each output's inputs). Before a
  padded convolution it can't be folded (the zero padding would then stand for `b` instead
  of 0 at the borders), so it becomes a per-channel 1x1 convolution of its own (weights `s`,
  bias `b`, one group per channel). As `Mul` and `Add` it cost onnxruntime two passes over
  the tensor and two layout conversions around them (its blocked NCHWc kernels don't
  broadcast a scalar); as a convolution it runs in the blocked layout in one pass;
* every hard-swish is written out as `Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6)`,
  which is exactly the `HardSwish` operator of opset 14; onnxruntime fuses `Conv + HardSwish`
  into its blocked (NCHWc) convolution kernels, so the activation costs nothing more.

The rewrites give the same outputs to float rounding (a few 1e-5) and make the detector
about 30% faster (10-15 points of that from the affines after activations). They are
generic, not tied to this model: a pattern is rewritten only when it matches exactly (scalar
constants of the right type and value, every intermediate tensor read by nothing else and
never a graph output), and everything else is left as it was, so any other model passes
through with unchanged behaviour.

`fuse_model` raises `FusionError` for any failure (onnx missing, unreadable or invalid
model, a rewrite the checker rejects); `fused_or_original` turns that into a warning and
the original file, which onnxruntime loads as before. `cached_or_fused` does the same once
per model file: it stores the rewrite beside the model (`fusion_store`) and loads that copy
at the next start; the add-on image stores it when it is built (`anpr-inference
fuse-detector`).

onnxruntime's own optimiser (ORT_ENABLE_ALL, always on) does not make these rewrites: with it
alone the detector took about 1.5 times as long (`script/fusion_ab.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING

from .fusion_apply import apply_rewrites
from .fusion_graph import DEFAULT_DOMAINS
from .fusion_patterns import Matches, PatternIndex
from .fusion_store import CopyMismatchError, FusedCopy

if TYPE_CHECKING:
    from pathlib import Path

    import onnx

_LOGGER = logging.getLogger(__name__)

_UNSTORED: set[Path] = set()
"""Models whose fused copy could not be stored, warned about once per process."""
_HARDSWISH_OPSET = 14
"""`HardSwish` exists from opset 14 of the default domain."""


class FusionError(Exception):
    """The model could not be rewritten: load the original file instead."""


@dataclass(frozen=True, slots=True)
class FusionReport:
    """What `fuse_model` changed, for a debug log and for tests."""

    affines_folded: int
    """`Conv -> Mul(scalar) -> Add(scalar)` chains folded into the convolution."""
    prescales_folded: int
    """`Mul(scalar) -> Add(scalar) -> Conv(unpadded)` chains folded into the convolution."""
    affines_as_convs: int
    """`Mul(scalar) -> Add(scalar)` chains before a padded convolution made a 1x1 convolution."""
    hardswishes_fused: int
    """Four-op hard-swishes replaced by one `HardSwish` node."""
    nodes_before: int
    nodes_after: int
    opset_before: int | None
    """The default domain's opset; None when the model does not import it."""
    opset_after: int | None

    def __str__(self) -> str:
        """Summarise the rewrite on one line."""
        return (
            f"{self.affines_folded} affines folded into convolutions, "
            f"{self.prescales_folded} into the unpadded convolutions after them, "
            f"{self.affines_as_convs} made per-channel convolutions, "
            f"{self.hardswishes_fused} hard-swishes fused, "
            f"{self.nodes_before} -> {self.nodes_after} nodes, "
            f"opset {self.opset_before} -> {self.opset_after}"
        )


@dataclass(frozen=True, slots=True)
class FusedModel:
    """A rewritten model, serialized for `onnxruntime.InferenceSession`, and its report."""

    model: bytes
    report: FusionReport


def fuse_model(path: Path) -> FusedModel:
    """Load the ONNX model at `path` and return it with every exact pattern rewritten.

    A model without any pattern comes back unchanged (re-serialized). Raises `FusionError`,
    never anything else, when onnx is not installed or the model cannot be read, checked,
    rewritten or serialized: the caller then loads the original file itself, which is always
    correct, only slower.
    """
    try:
        import onnx  # noqa: PLC0415 - optional speed-up: a missing onnx must not break imports
    except ImportError as err:
        raise FusionError(f"onnx is not available ({err})") from err
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model)
        fused, report = _rewrite(model)
        if report.nodes_after != report.nodes_before:
            onnx.checker.check_model(fused, full_check=True)
        return FusedModel(fused.SerializeToString(), report)
    except Exception as err:
        # onnx reports problems with many exception types (protobuf's DecodeError, the
        # checker's ValidationError, RuntimeError from the C++ side, OSError...): whichever
        # it is, the answer is the same, load the original file.
        raise FusionError(f"cannot rewrite {path}: {err}") from err


def fused_or_original(path: Path) -> Path | bytes:
    """Return the fused model's bytes, or `path` itself (with a warning) if fusion fails.

    Both are what `onnxruntime.InferenceSession` loads; the original file gives the same
    results, only slower, so a failed optimisation must never stop the service.
    """
    try:
        fused = fuse_model(path)
    except FusionError as err:
        _LOGGER.warning("Loading %s without graph fusion: %s", path.name, err)
        return path
    _LOGGER.debug("Fused %s: %s", path.name, fused.report)
    return fused.model


def cached_or_fused(path: Path) -> Path | bytes:
    """Return the fused copy stored beside `path`, else fuse it now and store the copy.

    Like `fused_or_original`, but the rewrite is done once per source file and rewrite
    version (see `fusion_store`), not at every start: the add-on image stores it when it is
    built. Where the folder is read-only the model is fused in memory, as before, with one
    warning per file and process; a failed fusion gives `path` itself, with a warning.
    """
    copy = FusedCopy(path)
    try:
        stored = copy.load()
    except CopyMismatchError as err:
        _LOGGER.debug("No fused copy of %s to reuse: %s", path.name, err)
    else:
        _LOGGER.debug("Fused %s: %s (stored as %s)", path.name, stored.report, stored.path.name)
        return stored.path
    try:
        fused = fuse_model(path)
    except FusionError as err:
        _LOGGER.warning("Loading %s without graph fusion: %s", path.name, err)
        return path
    _LOGGER.debug("Fused %s: %s", path.name, fused.report)
    try:
        copy.store(fused.model, str(fused.report))
    except OSError as err:
        if path not in _UNSTORED:
            _UNSTORED.add(path)
            _LOGGER.warning(
                "Cannot store the fused %s beside it (%s); fusing it at every start instead",
                path.name,
                err,
            )
    return fused.model


def store_fused(path: Path) -> Path:
    """Fuse `path` unless a matching copy is stored; return the stored copy's path.

    For building an image (`anpr-inference fuse-detector`): raises `FusionError` when the
    model can't be fused and OSError when the copy can't be written.
    """
    copy = FusedCopy(path)
    try:
        return copy.load().path
    except CopyMismatchError:
        fused = fuse_model(path)
        return copy.store(fused.model, str(fused.report))


def _rewrite(model: onnx.ModelProto) -> tuple[onnx.ModelProto, FusionReport]:
    """Apply both rewrites to the top-level graph; return the model to serialize."""
    opset_before = _default_opset(model)
    nodes_before = len(model.graph.node)
    if opset_before is None:
        return model, FusionReport(0, 0, 0, 0, nodes_before, nodes_before, None, None)
    if opset_before < _HARDSWISH_OPSET and PatternIndex(model.graph).find_hardswishes(set()):
        model = _with_hardswish_opset(model)
    opset = _default_opset(model)
    # Affines go into the unpadded convolutions after them first: those convolutions
    # usually carry an affine of their own, which the second pass then folds on top.
    index = PatternIndex(model.graph)
    prescales = index.find_prescales()
    if prescales:
        apply_rewrites(model.graph, index, Matches(prescales=tuple(prescales)))
        index = PatternIndex(model.graph)
    claimed: set[int] = set()
    affines = index.find_affines(claimed)
    swishes = index.find_hardswishes(claimed) if (opset or 0) >= _HARDSWISH_OPSET else []
    channel_affines = index.find_channel_affines(claimed)
    matches = Matches(
        affines=tuple(affines), swishes=tuple(swishes), channel_affines=tuple(channel_affines)
    )
    apply_rewrites(model.graph, index, matches)
    report = FusionReport(
        affines_folded=len(affines),
        prescales_folded=len(prescales),
        affines_as_convs=len(channel_affines),
        hardswishes_fused=len(swishes),
        nodes_before=nodes_before,
        nodes_after=len(model.graph.node),
        opset_before=opset_before,
        opset_after=opset,
    )
    return model, report


def _default_opset(model: onnx.ModelProto) -> int | None:
    return next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS), None)


def _with_hardswish_opset(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return `model` converted to opset 14, or `model` itself if onnx can't convert it.

    onnx's version converter knows, op by op, what changed between opsets (BatchNormalization,
    Clip, Resize... are adapted where needed) and refuses what it cannot convert; then the
    hard-swishes stay as they are and only the affines are folded.
    """
    import onnx  # noqa: PLC0415 - imported by fuse_model already
    from onnx import version_converter  # noqa: PLC0415

    try:
        converted = version_converter.convert_version(model, _HARDSWISH_OPSET)
    except Exception:  # any refusal means: keep the opset, leave the hard-swishes
        _LOGGER.debug("Cannot raise the opset to %d", _HARDSWISH_OPSET, exc_info=True)
        return model
    converted.ir_version = max(
        converted.ir_version, onnx.helper.find_min_ir_version_for(converted.opset_import)
    )
    return converted
