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
the original file, which onnxruntime loads as before.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    import onnx

_LOGGER = logging.getLogger(__name__)

_DEFAULT_DOMAINS = frozenset({"", "ai.onnx"})
_HARDSWISH_OPSET = 14
"""`HardSwish` exists from opset 14 of the default domain."""
_FLOATS = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))
"""Element types every op involved (Conv, Mul, Add, Clip, Div, HardSwish) accepts."""

Array = npt.NDArray[Any]


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


def _rewrite(model: onnx.ModelProto) -> tuple[onnx.ModelProto, FusionReport]:
    """Apply both rewrites to the top-level graph; return the model to serialize."""
    opset_before = _default_opset(model)
    nodes_before = len(model.graph.node)
    if opset_before is None:
        return model, FusionReport(0, 0, 0, 0, nodes_before, nodes_before, None, None)
    if opset_before < _HARDSWISH_OPSET and _Index(model.graph).find_hardswishes(set()):
        model = _with_hardswish_opset(model)
    opset = _default_opset(model)
    # Affines go into the unpadded convolutions after them first: those convolutions
    # usually carry an affine of their own, which the second pass then folds on top.
    index = _Index(model.graph)
    prescales = index.find_prescales()
    if prescales:
        _apply(model.graph, index, prescales=prescales)
        index = _Index(model.graph)
    claimed: set[int] = set()
    affines = index.find_affines(claimed)
    swishes = index.find_hardswishes(claimed) if (opset or 0) >= _HARDSWISH_OPSET else []
    channel_affines = index.find_channel_affines(claimed)
    _apply(model.graph, index, affines=affines, swishes=swishes, channel_affines=channel_affines)
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
    return next((o.version for o in model.opset_import if o.domain in _DEFAULT_DOMAINS), None)


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


@dataclass(frozen=True, slots=True)
class _Affine:
    """`conv -> mul(scale) -> add(shift)`, as node indices in the graph, and its constants."""

    conv: int
    mul: int
    add: int
    weights: Array
    bias: Array
    """The convolution's bias, zeros if it has none."""
    scale: float
    shift: float
    constants: tuple[str, ...]
    """The constants the chain read (weights, bias, scale, shift), to drop if now unused."""


@dataclass(frozen=True, slots=True)
class _ScalarAffine:
    """`mul(x, scale) -> add(shift) -> output`, as node indices in the graph, and constants."""

    x: str
    mul: int
    add: int
    output: str
    scale: Array
    """A float of rank 1 at most; `shift` has the same type."""
    shift: Array
    scale_name: str
    shift_name: str


@dataclass(frozen=True, slots=True)
class _Prescale:
    """A `_ScalarAffine` whose output only an unpadded convolution (`conv`) reads."""

    chain: _ScalarAffine
    conv: int
    weights: Array
    bias: Array
    """The convolution's bias, zeros if it has none."""
    conv_constants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _ChannelAffine:
    """A `_ScalarAffine` that a convolution reading `channels` channels reads (among others)."""

    chain: _ScalarAffine
    channels: int
    spatial_dims: int


@dataclass(frozen=True, slots=True)
class _HardSwish:
    """`add(x, 3) -> clip(0, 6) -> mul(x, .) -> div(., 6)`, as node indices in the graph."""

    x: str
    add: int
    clip: int
    mul: int
    div: int
    constants: tuple[str, ...]


class _Index:
    """Who produces and who reads each tensor of one graph, and its constant tensors."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.nodes = graph.node
        # An initializer that is also a graph input is only a default: the caller may
        # override it, so it is not a constant.
        overridable = {i.name for i in graph.input}
        self._tensors: dict[str, onnx.TensorProto] = {
            t.name: t for t in graph.initializer if t.name not in overridable
        }
        self.consumers: dict[str, list[int]] = {}
        self.names: set[str] = {t.name for t in graph.initializer}
        self.names.update(v.name for v in (*graph.input, *graph.output, *graph.value_info))
        # Graph outputs and anything a subgraph (If, Loop, Scan bodies) reads must survive.
        self.pinned: set[str] = {o.name for o in graph.output}
        for index, node in enumerate(self.nodes):
            self.names.update(node.input)
            self.names.update(node.output)
            self.names.add(node.name)
            for name in node.input:
                self.consumers.setdefault(name, []).append(index)
            for subgraph in _subgraphs(node):
                for inner in _all_nodes(subgraph):
                    self.pinned.update(inner.input)
                    self.names.update(inner.input)
                    self.names.update(inner.output)
            if (
                _is_op(node, "Constant")
                and len(node.attribute) == 1
                and node.attribute[0].name == "value"
            ):
                self._tensors[node.output[0]] = node.attribute[0].t

    def constant(self, name: str) -> Array | None:
        """Return the value of constant tensor `name`, None if it is not a constant."""
        from onnx import numpy_helper  # noqa: PLC0415 - imported by fuse_model already

        tensor = self._tensors.get(name)
        return None if tensor is None else numpy_helper.to_array(tensor)

    def is_constant(self, name: str) -> bool:
        """Tell whether `name` is an initializer or a `Constant` node's output."""
        return name in self._tensors

    def unique_name(self, base: str) -> str:
        """Return a tensor or node name not used anywhere in the graph yet, and reserve it."""
        name, suffix = base, 0
        while name in self.names:
            suffix += 1
            name = f"{base}_{suffix}"
        self.names.add(name)
        return name

    def sole_consumer(self, name: str, op_type: str) -> tuple[int, onnx.NodeProto] | None:
        """Return the only node reading `name` if it is a single-output `op_type` node.

        None when `name` is read by anything else (another node, a subgraph, the caller as
        a graph output): removing it would then change what they see.
        """
        readers = self.consumers.get(name, [])
        if name in self.pinned or len(readers) != 1:
            return None
        node = self.nodes[readers[0]]
        if not _is_op(node, op_type) or len(node.output) != 1:
            return None
        return readers[0], node

    def scalar(self, name: str, *, max_rank: int) -> Array | None:
        """Return constant `name` if it is a single float of rank `max_rank` or less.

        The rank limit keeps broadcasting from changing the other operand's shape, which a
        fused op would not reproduce.
        """
        value = self.constant(name)
        if value is None or value.size != 1 or value.ndim > max_rank or value.dtype not in _FLOATS:
            return None
        return value

    def conv_weights(self, conv: onnx.NodeProto) -> Array | None:
        """Return a single-output `Conv`'s weights if they are a float constant, else None."""
        if not _is_op(conv, "Conv") or len(conv.input) < 2 or len(conv.output) != 1:
            return None
        weights = self.constant(conv.input[1])
        if weights is None or weights.dtype not in _FLOATS or weights.ndim < 3:
            return None
        return weights

    def conv_constants(self, conv: onnx.NodeProto) -> tuple[Array, Array, list[str]] | None:
        """Return a `Conv`'s constant weights and bias (zeros if none) and their names.

        None when either is not a constant of one float type and matching shapes.
        """
        weights = self.conv_weights(conv)
        if weights is None:
            return None
        constants = [conv.input[1]]
        bias = np.zeros(weights.shape[:1], weights.dtype)
        if len(conv.input) > 2 and conv.input[2]:
            given = self.constant(conv.input[2])
            if given is None or given.dtype != weights.dtype or given.shape != bias.shape:
                return None
            bias = given
            constants.append(conv.input[2])
        return weights, bias, constants

    def find_affines(self, claimed: set[int]) -> list[_Affine]:
        """Find every `Conv -> Mul(scalar) -> Add(scalar)` chain with nothing else attached."""
        found = []
        for conv_index, conv in enumerate(self.nodes):
            parts = self.conv_constants(conv)
            if parts is None:
                continue
            weights, bias, constants = parts
            mul_step = self.sole_consumer(conv.output[0], "Mul")
            if mul_step is None:
                continue
            mul_index, mul = mul_step
            scale_name = _other_input(mul, conv.output[0])
            scale = self.scalar(scale_name, max_rank=weights.ndim)
            add_step = self.sole_consumer(mul.output[0], "Add")
            if scale is None or scale.dtype != weights.dtype or add_step is None:
                continue
            add_index, add = add_step
            shift_name = _other_input(add, mul.output[0])
            shift = self.scalar(shift_name, max_rank=weights.ndim)
            nodes = {conv_index, mul_index, add_index}
            if shift is None or shift.dtype != weights.dtype or nodes & claimed:
                continue
            claimed.update(nodes)
            found.append(
                _Affine(
                    conv=conv_index,
                    mul=mul_index,
                    add=add_index,
                    weights=weights,
                    bias=bias,
                    scale=float(scale.item()),
                    shift=float(shift.item()),
                    constants=(*constants, scale_name, shift_name),
                )
            )
        return found

    def scalar_affine(self, mul_index: int) -> _ScalarAffine | None:
        """Return the `Mul(x, scalar) -> Add(scalar)` chain starting at node `mul_index`.

        The scalars have rank 1 at most, so the chain can't raise `x`'s rank, and the `Mul`'s
        result must be read by the `Add` only. None when the node starts no such chain.
        """
        mul = self.nodes[mul_index]
        if not _is_op(mul, "Mul") or len(mul.input) != 2 or len(mul.output) != 1:
            return None
        x, scale_name = mul.input
        if self.is_constant(x):
            x, scale_name = scale_name, x
        scale = self.scalar(scale_name, max_rank=1)
        add_step = self.sole_consumer(mul.output[0], "Add")
        if self.is_constant(x) or scale is None or add_step is None:
            return None
        add_index, add = add_step
        shift_name = _other_input(add, mul.output[0])
        shift = self.scalar(shift_name, max_rank=1)
        if shift is None or shift.dtype != scale.dtype:
            return None
        return _ScalarAffine(
            x, mul_index, add_index, add.output[0], scale, shift, scale_name, shift_name
        )

    def find_prescales(self) -> list[_Prescale]:
        """Find every `Mul(x, scalar) -> Add(scalar) -> Conv` whose convolution pads nothing.

        Without padding each output reads only transformed values, so the affine
        distributes exactly over the weights. The two intermediate tensors must be read by
        the next op of the chain only.
        """
        found = []
        for mul_index in range(len(self.nodes)):
            chain = self.scalar_affine(mul_index)
            conv_step = None if chain is None else self.sole_consumer(chain.output, "Conv")
            if chain is None or conv_step is None:
                continue
            conv_index, conv = conv_step
            parts = self.conv_constants(conv)
            if parts is None or conv.input[0] != chain.output or not _unpadded(conv):
                continue
            weights, bias, constants = parts
            if chain.scale.dtype != weights.dtype:
                continue
            # No two chains can share a node: each intermediate has this one reader.
            found.append(_Prescale(chain, conv_index, weights, bias, tuple(constants)))
        return found

    def find_channel_affines(self, claimed: set[int]) -> list[_ChannelAffine]:
        """Find every `Mul(x, scalar) -> Add(scalar)` whose result a convolution reads.

        The convolution's constant weights tell the channel count (input channels per group
        times groups), which the 1x1 convolution replacing the chain needs. The `Mul`'s
        result must be read by the `Add` only; the `Add`'s may have other readers, as the
        new convolution produces the same tensor.
        """
        found = []
        for mul_index in range(len(self.nodes)):
            chain = self.scalar_affine(mul_index)
            if chain is None or {chain.mul, chain.add} & claimed:
                continue
            weights, group = self._conv_reading(chain.output)
            if weights is None or weights.dtype != chain.scale.dtype:
                continue
            claimed.update((chain.mul, chain.add))
            found.append(_ChannelAffine(chain, int(weights.shape[1]) * group, weights.ndim - 2))
        return found

    def _conv_reading(self, name: str) -> tuple[Array | None, int]:
        """Return the constant weights and group count of a convolution whose data is `name`."""
        for index in self.consumers.get(name, []):
            conv = self.nodes[index]
            weights = self.conv_weights(conv)
            if weights is not None and conv.input[0] == name:
                return weights, int(_attributes(conv).get("group", 1))
        return None, 1

    def find_hardswishes(self, claimed: set[int]) -> list[_HardSwish]:
        """Find every `x * Clip(x + 3, 0, 6) / 6` written with those four ops.

        Its constants must be rank-0 floats of the same type with exactly these values, the
        `Clip` must take them as inputs (opset 11 and later), and the three intermediate
        tensors must be read by the next op of the chain only.
        """
        found = []
        for add_index, add in enumerate(self.nodes):
            if not _is_op(add, "Add") or len(add.input) != 2 or len(add.output) != 1:
                continue
            match = self._hardswish_from(add_index, add)
            if match is None or {match.add, match.clip, match.mul, match.div} & claimed:
                continue
            claimed.update((match.add, match.clip, match.mul, match.div))
            found.append(match)
        return found

    def _hardswish_from(self, add_index: int, add: onnx.NodeProto) -> _HardSwish | None:
        x, three_name = add.input
        if self.is_constant(x):
            x, three_name = three_name, x
        three = self.scalar(three_name, max_rank=0)
        if self.is_constant(x) or three is None or three.item() != 3.0:
            return None
        clip_step = self.sole_consumer(add.output[0], "Clip")
        if clip_step is None:
            return None
        clip_index, clip = clip_step
        if len(clip.input) != 3 or clip.input[0] != add.output[0]:
            return None
        low = self.scalar(clip.input[1], max_rank=0)
        high = self.scalar(clip.input[2], max_rank=0)
        mul_step = self.sole_consumer(clip.output[0], "Mul")
        if (
            low is None
            or high is None
            or (low.item(), high.item()) != (0.0, 6.0)
            or mul_step is None
            or _other_input(mul_step[1], clip.output[0]) != x
        ):
            return None
        mul_index, mul = mul_step
        div_step = self.sole_consumer(mul.output[0], "Div")
        if div_step is None:
            return None
        div_index, div = div_step
        six = self.scalar(div.input[1], max_rank=0) if len(div.input) == 2 else None
        if div.input[0] != mul.output[0] or six is None or six.item() != 6.0:
            return None
        if len({three.dtype, low.dtype, high.dtype, six.dtype}) != 1:
            return None
        return _HardSwish(
            x=x,
            add=add_index,
            clip=clip_index,
            mul=mul_index,
            div=div_index,
            constants=(three_name, clip.input[1], clip.input[2], div.input[1]),
        )


def _apply(
    graph: onnx.GraphProto,
    index: _Index,
    *,
    affines: Sequence[_Affine] = (),
    prescales: Sequence[_Prescale] = (),
    swishes: Sequence[_HardSwish] = (),
    channel_affines: Sequence[_ChannelAffine] = (),
) -> None:
    """Rewrite the matches in place, then drop the tensors and constants they orphaned."""
    import onnx  # noqa: PLC0415 - imported by fuse_model already
    from onnx import numpy_helper  # noqa: PLC0415

    def constant(base: str, value: Array) -> str:
        """Add `value` as an initializer under a fresh name made from `base`; return it."""
        name = index.unique_name(base)
        graph.initializer.append(numpy_helper.from_array(value, name))
        return name

    nodes = graph.node
    removed: set[int] = set()
    dropped: set[str] = set()
    """Intermediate tensors that no longer exist (for value_info)."""
    touched: set[str] = set()
    """Constants some removed node read: deleted below if nothing reads them any more."""
    for affine in affines:
        conv, mul, add = nodes[affine.conv], nodes[affine.mul], nodes[affine.add]
        weights, bias = affine.weights, affine.bias
        # Computed in double precision and rounded once to the model's type.
        folded_weights = (weights.astype(np.float64) * affine.scale).astype(weights.dtype)
        folded_bias = (bias.astype(np.float64) * affine.scale + affine.shift).astype(weights.dtype)
        conv.input[:] = [
            conv.input[0],
            constant(f"{conv.input[1]}_folded", folded_weights),
            constant(f"{conv.output[0]}_folded_bias", folded_bias),
        ]
        dropped.update((conv.output[0], mul.output[0]))
        conv.output[0] = add.output[0]
        removed.update((affine.mul, affine.add))
        touched.update(affine.constants)
    for prescale in prescales:
        chain, conv = prescale.chain, nodes[prescale.conv]
        weights, bias = prescale.weights.astype(np.float64), prescale.bias.astype(np.float64)
        # Each output sums its (group's) inputs, every one of them `scale * x + shift`.
        reach = weights.sum(axis=tuple(range(1, weights.ndim)))
        folded_weights = (weights * chain.scale.item()).astype(prescale.weights.dtype)
        folded_bias = (bias + chain.shift.item() * reach).astype(prescale.weights.dtype)
        conv.input[:] = [
            chain.x,
            constant(f"{conv.input[1]}_prescaled", folded_weights),
            constant(f"{conv.output[0]}_prescaled_bias", folded_bias),
        ]
        dropped.update((nodes[chain.mul].output[0], chain.output))
        removed.update((chain.mul, chain.add))
        touched.update((*prescale.conv_constants, chain.scale_name, chain.shift_name))
    for channel_affine in channel_affines:
        chain = channel_affine.chain
        per_channel = (channel_affine.channels,)
        weights = np.full(
            per_channel + (1,) * (channel_affine.spatial_dims + 1),
            chain.scale.item(),
            chain.scale.dtype,
        )
        bias = np.full(per_channel, chain.shift.item(), chain.shift.dtype)
        names = (
            constant(f"{chain.output}_affine_weights", weights),
            constant(f"{chain.output}_affine_bias", bias),
        )
        # The Add's place in the graph comes after everything the new node reads.
        nodes[chain.add].CopyFrom(
            onnx.helper.make_node(
                "Conv",
                [chain.x, *names],
                [chain.output],
                name=index.unique_name(f"{chain.output}_affine"),
                group=channel_affine.channels,
                kernel_shape=[1] * channel_affine.spatial_dims,
            )
        )
        dropped.add(nodes[chain.mul].output[0])
        removed.add(chain.mul)
        touched.update((chain.scale_name, chain.shift_name))
    for swish in swishes:
        div = nodes[swish.div]
        dropped.update(nodes[i].output[0] for i in (swish.add, swish.clip, swish.mul))
        output = div.output[0]
        div.CopyFrom(
            onnx.helper.make_node(
                "HardSwish", [swish.x], [output], name=index.unique_name(f"{output}_hardswish")
            )
        )
        removed.update((swish.add, swish.clip, swish.mul))
        touched.update(swish.constants)
    for position in sorted(removed, reverse=True):
        del nodes[position]

    read = {o.name for o in graph.output}
    for node in _all_nodes(graph):
        read.update(node.input)
    orphans = touched - read
    for position in reversed(range(len(nodes))):
        node = nodes[position]
        if _is_op(node, "Constant") and node.output[0] in orphans:
            del nodes[position]
    for position in reversed(range(len(graph.initializer))):
        if graph.initializer[position].name in orphans:
            del graph.initializer[position]
    dropped |= orphans
    for position in reversed(range(len(graph.value_info))):
        if graph.value_info[position].name in dropped:
            del graph.value_info[position]


def _unpadded(conv: onnx.NodeProto) -> bool:
    """Whether `conv` pads nothing: explicit zero pads, or none, and no automatic padding."""
    settings = _attributes(conv)
    pads = settings.get("pads", [])
    return settings.get("auto_pad", b"NOTSET") in (b"NOTSET", b"VALID") and not any(pads)


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """Return a node's attributes by name, as Python values."""
    import onnx  # noqa: PLC0415 - imported by fuse_model already

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _is_op(node: onnx.NodeProto, op_type: str) -> bool:
    return node.op_type == op_type and node.domain in _DEFAULT_DOMAINS


def _other_input(node: onnx.NodeProto, name: str) -> str:
    """Return the input of binary `node` that is not `name`.

    "" (never a tensor: it stands for an omitted optional input) unless `name` is one of
    exactly two inputs.
    """
    others = [str(i) for i in node.input if i != name]
    return others[0] if len(others) == 1 and len(node.input) == 2 else ""


def _subgraphs(node: onnx.NodeProto) -> Iterator[onnx.GraphProto]:
    for attribute in node.attribute:
        if attribute.HasField("g"):
            yield attribute.g
        yield from attribute.graphs


def _all_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node of `graph` and of its subgraphs, recursively."""
    for node in graph.node:
        yield node
        for subgraph in _subgraphs(node):
            yield from _all_nodes(subgraph)
