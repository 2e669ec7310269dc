"""The exact patterns `fusion` rewrites, and how each is found in a graph (see `fusion`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

from .fusion_graph import Array, GraphIndex, attributes, is_op, other_input, unpadded


@dataclass(frozen=True, slots=True)
class Affine:
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
class ScalarAffine:
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
class Prescale:
    """A `ScalarAffine` whose output only an unpadded convolution (`conv`) reads."""

    chain: ScalarAffine
    conv: int
    weights: Array
    bias: Array
    """The convolution's bias, zeros if it has none."""
    conv_constants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChannelAffine:
    """A `ScalarAffine` that a convolution reading `channels` channels reads (among others)."""

    chain: ScalarAffine
    channels: int
    spatial_dims: int


@dataclass(frozen=True, slots=True)
class HardSwish:
    """`add(x, 3) -> clip(0, 6) -> mul(x, .) -> div(., 6)`, as node indices in the graph."""

    x: str
    add: int
    clip: int
    mul: int
    div: int
    constants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Matches:
    """What one pass of `fusion_apply.apply_rewrites` rewrites; no two share a node."""

    affines: tuple[Affine, ...] = ()
    prescales: tuple[Prescale, ...] = ()
    swishes: tuple[HardSwish, ...] = ()
    channel_affines: tuple[ChannelAffine, ...] = ()


class PatternIndex(GraphIndex):
    """A `GraphIndex` that finds the patterns; each match is a set of node indices."""

    def find_affines(self, claimed: set[int]) -> list[Affine]:
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
            scale_name = other_input(mul, conv.output[0])
            scale = self.scalar(scale_name, max_rank=weights.ndim)
            add_step = self.sole_consumer(mul.output[0], "Add")
            if scale is None or scale.dtype != weights.dtype or add_step is None:
                continue
            add_index, add = add_step
            shift_name = other_input(add, mul.output[0])
            shift = self.scalar(shift_name, max_rank=weights.ndim)
            nodes = {conv_index, mul_index, add_index}
            if shift is None or shift.dtype != weights.dtype or nodes & claimed:
                continue
            claimed.update(nodes)
            found.append(
                Affine(
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

    def scalar_affine(self, mul_index: int) -> ScalarAffine | None:
        """Return the `Mul(x, scalar) -> Add(scalar)` chain starting at node `mul_index`.

        The scalars have rank 1 at most, so the chain can't raise `x`'s rank, and the `Mul`'s
        result must be read by the `Add` only. None when the node starts no such chain.
        """
        mul = self.nodes[mul_index]
        if not is_op(mul, "Mul") or len(mul.input) != 2 or len(mul.output) != 1:
            return None
        x, scale_name = mul.input
        if self.is_constant(x):
            x, scale_name = scale_name, x
        scale = self.scalar(scale_name, max_rank=1)
        add_step = self.sole_consumer(mul.output[0], "Add")
        if self.is_constant(x) or scale is None or add_step is None:
            return None
        add_index, add = add_step
        shift_name = other_input(add, mul.output[0])
        shift = self.scalar(shift_name, max_rank=1)
        if shift is None or shift.dtype != scale.dtype:
            return None
        return ScalarAffine(
            x, mul_index, add_index, add.output[0], scale, shift, scale_name, shift_name
        )

    def find_prescales(self) -> list[Prescale]:
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
            if parts is None or conv.input[0] != chain.output or not unpadded(conv):
                continue
            weights, bias, constants = parts
            if chain.scale.dtype != weights.dtype:
                continue
            # No two chains can share a node: each intermediate has this one reader.
            found.append(Prescale(chain, conv_index, weights, bias, tuple(constants)))
        return found

    def find_channel_affines(self, claimed: set[int]) -> list[ChannelAffine]:
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
            found.append(ChannelAffine(chain, int(weights.shape[1]) * group, weights.ndim - 2))
        return found

    def _conv_reading(self, name: str) -> tuple[Array | None, int]:
        """Return the constant weights and group count of a convolution whose data is `name`."""
        for index in self.consumers.get(name, []):
            conv = self.nodes[index]
            weights = self.conv_weights(conv)
            if weights is not None and conv.input[0] == name:
                return weights, int(attributes(conv).get("group", 1))
        return None, 1

    def find_hardswishes(self, claimed: set[int]) -> list[HardSwish]:
        """Find every `x * Clip(x + 3, 0, 6) / 6` written with those four ops.

        Its constants must be rank-0 floats of the same type with exactly these values, the
        `Clip` must take them as inputs (opset 11 and later), and the three intermediate
        tensors must be read by the next op of the chain only.
        """
        found = []
        for add_index, add in enumerate(self.nodes):
            if not is_op(add, "Add") or len(add.input) != 2 or len(add.output) != 1:
                continue
            match = self._hardswish_from(add_index, add)
            if match is None or {match.add, match.clip, match.mul, match.div} & claimed:
                continue
            claimed.update((match.add, match.clip, match.mul, match.div))
            found.append(match)
        return found

    def _hardswish_from(self, add_index: int, add: onnx.NodeProto) -> HardSwish | None:
        head = self._hardswish_head(add)
        if head is None:
            return None
        x, three_name, three, clip_index, clip = head
        low = self.scalar(clip.input[1], max_rank=0)
        high = self.scalar(clip.input[2], max_rank=0)
        mul_step = self.sole_consumer(clip.output[0], "Mul")
        if (
            low is None
            or high is None
            or (low.item(), high.item()) != (0.0, 6.0)
            or mul_step is None
            or other_input(mul_step[1], clip.output[0]) != x
        ):
            return None
        mul_index, mul = mul_step
        div_step = self.sole_consumer(mul.output[0], "Div")
        if div_step is None:
            return None
        div_index, div = div_step
        six = self.scalar(div.input[1], max_rank=0) if len(div.input) == 2 else None
        if (
            div.input[0] != mul.output[0]
            or six is None
            or six.item() != 6.0
            or len({three.dtype, low.dtype, high.dtype, six.dtype}) != 1
        ):
            return None
        return HardSwish(
            x=x,
            add=add_index,
            clip=clip_index,
            mul=mul_index,
            div=div_index,
            constants=(three_name, clip.input[1], clip.input[2], div.input[1]),
        )

    def _hardswish_head(
        self, add: onnx.NodeProto
    ) -> tuple[str, str, Array, int, onnx.NodeProto] | None:
        """Match `Add(x, 3) -> Clip(., low, high)`: x, the 3's name and value, the clip."""
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
        return x, three_name, three, clip_index, clip
