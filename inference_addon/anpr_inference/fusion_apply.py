"""Rewriting the matches `fusion_patterns` found, in place (see `fusion`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .fusion_graph import all_nodes, is_op

if TYPE_CHECKING:
    import onnx

    from .fusion_graph import Array
    from .fusion_patterns import (
        Affine,
        ChannelAffine,
        HardSwish,
        Matches,
        PatternIndex,
        Prescale,
    )


def apply_rewrites(graph: onnx.GraphProto, index: PatternIndex, matches: Matches) -> None:
    """Rewrite the matches in place, then drop the tensors and constants they orphaned."""
    rewrite = _Rewrite(graph, index)
    for affine in matches.affines:
        rewrite.fold_affine(affine)
    for prescale in matches.prescales:
        rewrite.fold_prescale(prescale)
    for channel_affine in matches.channel_affines:
        rewrite.channel_conv(channel_affine)
    for swish in matches.swishes:
        rewrite.fuse_hardswish(swish)
    rewrite.finish()


class _Rewrite:
    """One pass of rewrites over a graph: what it removed, dropped and left unread."""

    def __init__(self, graph: onnx.GraphProto, index: PatternIndex) -> None:
        """Start a pass; node indices stay valid until `finish` removes nodes."""
        self.graph = graph
        self.index = index
        self.nodes = graph.node
        self.removed: set[int] = set()
        self.dropped: set[str] = set()
        """Intermediate tensors that no longer exist (for value_info)."""
        self.touched: set[str] = set()
        """Constants some removed node read: deleted by `finish` if nothing reads them."""

    def constant(self, base: str, value: Array) -> str:
        """Add `value` as an initializer under a fresh name made from `base`; return it."""
        from onnx import numpy_helper  # noqa: PLC0415 - imported by fuse_model already

        name = self.index.unique_name(base)
        self.graph.initializer.append(numpy_helper.from_array(value, name))
        return name

    def fold_affine(self, affine: Affine) -> None:
        """Fold `Conv -> Mul -> Add` into the convolution's weights and bias."""
        nodes = self.nodes
        conv, mul, add = nodes[affine.conv], nodes[affine.mul], nodes[affine.add]
        weights, bias = affine.weights, affine.bias
        # Computed in double precision and rounded once to the model's type.
        folded_weights = (weights.astype(np.float64) * affine.scale).astype(weights.dtype)
        folded_bias = (bias.astype(np.float64) * affine.scale + affine.shift).astype(weights.dtype)
        conv.input[:] = [
            conv.input[0],
            self.constant(f"{conv.input[1]}_folded", folded_weights),
            self.constant(f"{conv.output[0]}_folded_bias", folded_bias),
        ]
        self.dropped.update((conv.output[0], mul.output[0]))
        conv.output[0] = add.output[0]
        self.removed.update((affine.mul, affine.add))
        self.touched.update(affine.constants)

    def fold_prescale(self, prescale: Prescale) -> None:
        """Fold `Mul -> Add -> Conv(unpadded)` into the convolution, reading the `Mul`'s input."""
        chain, conv = prescale.chain, self.nodes[prescale.conv]
        weights, bias = prescale.weights.astype(np.float64), prescale.bias.astype(np.float64)
        # Each output sums its (group's) inputs, every one of them `scale * x + shift`.
        reach = weights.sum(axis=tuple(range(1, weights.ndim)))
        folded_weights = (weights * chain.scale.item()).astype(prescale.weights.dtype)
        folded_bias = (bias + chain.shift.item() * reach).astype(prescale.weights.dtype)
        conv.input[:] = [
            chain.x,
            self.constant(f"{conv.input[1]}_prescaled", folded_weights),
            self.constant(f"{conv.output[0]}_prescaled_bias", folded_bias),
        ]
        self.dropped.update((self.nodes[chain.mul].output[0], chain.output))
        self.removed.update((chain.mul, chain.add))
        self.touched.update((*prescale.conv_constants, chain.scale_name, chain.shift_name))

    def channel_conv(self, channel_affine: ChannelAffine) -> None:
        """Replace `Mul -> Add` before a padded convolution with a per-channel 1x1 convolution."""
        import onnx  # noqa: PLC0415 - imported by fuse_model already

        chain = channel_affine.chain
        per_channel = (channel_affine.channels,)
        weights = np.full(
            per_channel + (1,) * (channel_affine.spatial_dims + 1),
            chain.scale.item(),
            chain.scale.dtype,
        )
        bias = np.full(per_channel, chain.shift.item(), chain.shift.dtype)
        names = (
            self.constant(f"{chain.output}_affine_weights", weights),
            self.constant(f"{chain.output}_affine_bias", bias),
        )
        # The Add's place in the graph comes after everything the new node reads.
        self.nodes[chain.add].CopyFrom(
            onnx.helper.make_node(
                "Conv",
                [chain.x, *names],
                [chain.output],
                name=self.index.unique_name(f"{chain.output}_affine"),
                group=channel_affine.channels,
                kernel_shape=[1] * channel_affine.spatial_dims,
            )
        )
        self.dropped.add(self.nodes[chain.mul].output[0])
        self.removed.add(chain.mul)
        self.touched.update((chain.scale_name, chain.shift_name))

    def fuse_hardswish(self, swish: HardSwish) -> None:
        """Replace the four ops of a hard-swish with one `HardSwish` in the `Div`'s place."""
        import onnx  # noqa: PLC0415 - imported by fuse_model already

        nodes = self.nodes
        div = nodes[swish.div]
        self.dropped.update(nodes[i].output[0] for i in (swish.add, swish.clip, swish.mul))
        output = div.output[0]
        div.CopyFrom(
            onnx.helper.make_node(
                "HardSwish",
                [swish.x],
                [output],
                name=self.index.unique_name(f"{output}_hardswish"),
            )
        )
        self.removed.update((swish.add, swish.clip, swish.mul))
        self.touched.update(swish.constants)

    def finish(self) -> None:
        """Remove the replaced nodes, then the constants and value_info nobody reads now."""
        graph, nodes = self.graph, self.nodes
        for position in sorted(self.removed, reverse=True):
            del nodes[position]
        read = {o.name for o in graph.output}
        for node in all_nodes(graph):
            read.update(node.input)
        orphans = self.touched - read
        for position in reversed(range(len(nodes))):
            node = nodes[position]
            if is_op(node, "Constant") and node.output[0] in orphans:
                del nodes[position]
        for position in reversed(range(len(graph.initializer))):
            if graph.initializer[position].name in orphans:
                del graph.initializer[position]
        dropped = self.dropped | orphans
        for position in reversed(range(len(graph.value_info))):
            if graph.value_info[position].name in dropped:
                del graph.value_info[position]
