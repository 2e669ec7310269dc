"""The graph view the fusion rewrites match on: who produces and reads each tensor, constants.

Part of `fusion` (see there for what is rewritten and why); the patterns are in
`fusion_patterns`, the rewriting in `fusion_apply`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Iterator

    import onnx

DEFAULT_DOMAINS = frozenset({"", "ai.onnx"})
FLOATS = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))
"""Element types every op involved (Conv, Mul, Add, Clip, Div, HardSwish) accepts."""

Array = npt.NDArray[Any]


class GraphIndex:
    """Who produces and who reads each tensor of one graph, and its constant tensors."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        """Index `graph`'s top level; subgraphs only pin the tensors they read."""
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
            for subgraph in subgraphs(node):
                for inner in all_nodes(subgraph):
                    self.pinned.update(inner.input)
                    self.names.update(inner.input)
                    self.names.update(inner.output)
            if (
                is_op(node, "Constant")
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
        if not is_op(node, op_type) or len(node.output) != 1:
            return None
        return readers[0], node

    def scalar(self, name: str, *, max_rank: int) -> Array | None:
        """Return constant `name` if it is a single float of rank `max_rank` or less.

        The rank limit keeps broadcasting from changing the other operand's shape, which a
        fused op would not reproduce.
        """
        value = self.constant(name)
        if value is None or value.size != 1 or value.ndim > max_rank or value.dtype not in FLOATS:
            return None
        return value

    def conv_weights(self, conv: onnx.NodeProto) -> Array | None:
        """Return a single-output `Conv`'s weights if they are a float constant, else None."""
        if not is_op(conv, "Conv") or len(conv.input) < 2 or len(conv.output) != 1:
            return None
        weights = self.constant(conv.input[1])
        if weights is None or weights.dtype not in FLOATS or weights.ndim < 3:
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


def unpadded(conv: onnx.NodeProto) -> bool:
    """Whether `conv` pads nothing: explicit zero pads, or none, and no automatic padding."""
    settings = attributes(conv)
    pads = settings.get("pads", [])
    return settings.get("auto_pad", b"NOTSET") in (b"NOTSET", b"VALID") and not any(pads)


def attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """Return a node's attributes by name, as Python values."""
    import onnx  # noqa: PLC0415 - imported by fuse_model already

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def is_op(node: onnx.NodeProto, op_type: str) -> bool:
    """Whether `node` is the default domain's `op_type` (a custom domain's op may differ)."""
    return node.op_type == op_type and node.domain in DEFAULT_DOMAINS


def other_input(node: onnx.NodeProto, name: str) -> str:
    """Return the input of binary `node` that is not `name`.

    "" (never a tensor: it stands for an omitted optional input) unless `name` is one of
    exactly two inputs.
    """
    others = [str(i) for i in node.input if i != name]
    return others[0] if len(others) == 1 and len(node.input) == 2 else ""


def subgraphs(node: onnx.NodeProto) -> Iterator[onnx.GraphProto]:
    """Yield the graphs `node`'s attributes hold (If branches, Loop and Scan bodies)."""
    for attribute in node.attribute:
        if attribute.HasField("g"):
            yield attribute.g
        yield from attribute.graphs


def all_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node of `graph` and of its subgraphs, recursively."""
    for node in graph.node:
        yield node
        for subgraph in subgraphs(node):
            yield from all_nodes(subgraph)
