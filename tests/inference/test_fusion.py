"""Graph fusion (`anpr_inference.fusion`): exact rewrites, and nothing but exact rewrites.

The real embedded PP-OCRv4 detector is fused and compared with the original on real photos;
small hand-built graphs pin what is rewritten (the exact patterns) and what is not (every
near miss), and that every failure ends in `FusionError`, which the detector turns into the
original file and a warning.
"""

from __future__ import annotations

from collections import Counter
import logging
import shutil
import sys
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper
import pytest

from anpr_inference import fusion
from anpr_inference.detectors import TextPlateProposer
from anpr_inference.fusion import FusedModel, FusionError, fuse_model, fused_or_original
from anpr_inference.models import EMBEDDED_DETECTOR_FILE, embedded_model_dir
from anpr_inference.sessions import create_session

from .conftest import require_path

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

Array = npt.NDArray[Any]

PHOTOS = (
    "us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg",
    "us/12c6cb72-3ea3-49e7-b381-e0cdfc5e8960.jpg",
)
"""Two real car photos of the openalpr benchmark, relative to `dataset_dir`."""

INPUT_SHAPE = (1, 2, 5, 5)
"""The hand-built graphs' input: 2 channels of 5 x 5, convolved to 3 channels."""
ANY_4D = ("n", "c", "h", "w")
"""The declared shape of their outputs (the checker wants one)."""


@pytest.fixture(scope="module")
def detector_path() -> Path:
    """Return the embedded PP-OCRv4 text detector inside the rapidocr wheel."""
    return require_path(embedded_model_dir() / EMBEDDED_DETECTOR_FILE)


@pytest.fixture(scope="module")
def fused_detector(detector_path: Path) -> FusedModel:
    """Fuse the real detector once for the module."""
    return fuse_model(detector_path)


@pytest.fixture(scope="module")
def photo_blobs(dataset_dir: Path) -> list[Array]:
    """Return the photos as the detector's input: 960 x 544, scaled to [-1, 1], NCHW."""
    blobs = []
    for name in PHOTOS:
        image = cv2.imread(str(require_path(dataset_dir / name)))
        resized = cv2.resize(image, (960, 544), interpolation=cv2.INTER_LINEAR)
        blob = resized.astype(np.float32) * (2.0 / 255.0) - 1.0
        blobs.append(np.ascontiguousarray(blob.transpose(2, 0, 1)[np.newaxis]))
    return blobs


def test_real_detector_is_fused(fused_detector: FusedModel) -> None:
    report = fused_detector.report
    # 13 of the 38 affines go into the convolution after them; the 13 before a padded
    # depthwise convolution become 1x1 convolutions; 1, read by a squeeze-excitation, stays.
    assert report.affines_folded == 25
    assert report.prescales_folded == 13
    assert report.affines_as_convs == 13
    assert report.hardswishes_fused == 24
    assert (report.nodes_before, report.nodes_after) == (672, 261)
    assert (report.opset_before, report.opset_after) == (12, 14)
    assert str(report) == (
        "25 affines folded into convolutions, 13 into the unpadded convolutions after them, "
        "13 made per-channel convolutions, 24 hard-swishes fused, 672 -> 261 nodes, "
        "opset 12 -> 14"
    )
    model = onnx.load_from_string(fused_detector.model)
    ops = Counter(node.op_type for node in model.graph.node)
    assert ops["HardSwish"] == 24
    assert ops["Clip"] == 0
    assert ops["Div"] == 0
    assert ops["Conv"] == 62 + 13


def test_real_detector_gives_the_same_maps(
    detector_path: Path, fused_detector: FusedModel, photo_blobs: list[Array]
) -> None:
    original = create_session(detector_path, threads=1)
    fused = create_session(fused_detector.model, threads=1)
    for blob in photo_blobs:
        expected = original.run(None, {"x": blob})[0]
        got = fused.run(None, {"x": blob})[0]
        assert got.shape == expected.shape
        assert float(np.abs(got - expected).max()) < 1e-3


def test_proposer_loads_the_fused_detector(
    detector_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="anpr_inference.fusion"):
        TextPlateProposer(detector_path, threads=1)
    assert f"Fused {EMBEDDED_DETECTOR_FILE}: 25 affines folded" in caplog.text
    assert "WARNING" not in caplog.text


def test_proposer_falls_back_to_the_original_file(
    detector_path: Path,
    dataset_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed fusion costs speed, never the detector: same proposals from the original."""
    frame = cv2.imread(str(require_path(dataset_dir / PHOTOS[0])))
    fused = TextPlateProposer(detector_path, threads=1).predict(frame)

    def fail(path: Path) -> FusedModel:
        raise FusionError(f"simulated failure for {path.name}")

    # A copy without a stored rewrite beside it, so that the proposer has to fuse it.
    unfused = tmp_path / EMBEDDED_DETECTOR_FILE
    shutil.copyfile(detector_path, unfused)
    monkeypatch.setattr(fusion, "fuse_model", fail)
    with caplog.at_level(logging.WARNING, logger="anpr_inference.fusion"):
        original = TextPlateProposer(unfused, threads=1).predict(frame)
    assert caplog.record_tuples == [
        (
            "anpr_inference.fusion",
            logging.WARNING,
            (
                f"Loading {EMBEDDED_DETECTOR_FILE} without graph fusion: "
                f"simulated failure for {EMBEDDED_DETECTOR_FILE}"
            ),
        )
    ]
    assert original
    assert len(fused) == len(original)
    for a, b in zip(fused, original, strict=True):
        assert abs(a.confidence - b.confidence) < 1e-3
        box_a, box_b = a.bounding_box, b.bounding_box
        corners_a = (box_a.x1, box_a.y1, box_a.x2, box_a.y2)
        corners_b = (box_b.x1, box_b.y1, box_b.x2, box_b.y2)
        assert max(abs(p - q) for p, q in zip(corners_a, corners_b, strict=True)) <= 2


# Hand-built graphs: x -> Conv(w, b) -> c -> Mul(scale) -> m -> Add(shift) -> a, then the
# hard-swish a -> Add(3) -> p -> Clip(0, 6) -> q -> Mul(a, q) -> r -> Div(6) -> y.


def _floats(value: float | list[Any], shape: tuple[int, ...] = ()) -> Array:
    return np.asarray(value, np.float32).reshape(shape)


def _block(*, bias: bool = True, constant_nodes: bool = False, opset: int = 12) -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    constants = {
        "w": rng.normal(size=(3, 2, 3, 3)).astype(np.float32),
        "scale": _floats([1.7], (1,)),
        "shift": _floats([-0.4], (1,)),
        "three": _floats(3.0),
        "low": _floats(0.0),
        "high": _floats(6.0),
        "six": _floats(6.0),
    }
    if bias:
        constants["b"] = rng.normal(size=(3,)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"] if bias else ["x", "w"], ["c"], pads=[1] * 4),
        helper.make_node("Mul", ["scale", "c"], ["m"]),
        helper.make_node("Add", ["m", "shift"], ["a"]),
        helper.make_node("Add", ["a", "three"], ["p"]),
        helper.make_node("Clip", ["p", "low", "high"], ["q"]),
        helper.make_node("Mul", ["a", "q"], ["r"]),
        helper.make_node("Div", ["r", "six"], ["y"]),
    ]
    tensors = [numpy_helper.from_array(value, name) for name, value in constants.items()]
    if constant_nodes:
        nodes[:0] = [helper.make_node("Constant", [], [t.name], value=t) for t in tensors]
        tensors = []
    graph = helper.make_graph(
        nodes,
        "block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, INPUT_SHAPE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ANY_4D)],
        initializer=tensors,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _save(model: onnx.ModelProto, tmp_path: Path) -> Path:
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    return path


def _run(model: Path | bytes) -> list[Array]:
    x = np.random.default_rng(3).normal(scale=3.0, size=INPUT_SHAPE).astype(np.float32)
    outputs: list[Array] = create_session(model, threads=1).run(None, {"x": x})
    return outputs


def _assert_same_outputs(original: Path, fused: FusedModel) -> None:
    for expected, got in zip(_run(original), _run(fused.model), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _set(model: onnx.ModelProto, name: str, value: Array) -> None:
    for position, tensor in enumerate(model.graph.initializer):
        if tensor.name == name:
            model.graph.initializer[position].CopyFrom(numpy_helper.from_array(value, name))


def _node(model: onnx.ModelProto, output: str) -> onnx.NodeProto:
    return next(node for node in model.graph.node if output in node.output)


def _add_output(model: onnx.ModelProto, name: str) -> None:
    model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ANY_4D))


def _read_twice(model: onnx.ModelProto, name: str) -> None:
    model.graph.node.append(helper.make_node("Relu", [name], [f"{name}_relu"]))
    _add_output(model, f"{name}_relu")


def _broadcast_to_rank_5(model: onnx.ModelProto) -> None:
    """Make the scale a size-1 tensor of rank 5, so that `Mul` broadcasts to rank 5."""
    _set(model, "scale", _floats(1.7, (1,) * 5))
    model.graph.output[0].CopyFrom(
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ("n", *ANY_4D))
    )


def _read_in_subgraph(model: onnx.ModelProto) -> None:
    """Add an `If` whose branches read the hard-swish's `p`, which must then stay."""
    model.graph.initializer.append(numpy_helper.from_array(np.array(True), "cond"))
    branches = [
        helper.make_graph(
            [helper.make_node("Identity", ["p"], [f"{branch}_out"])],
            branch,
            [],
            [helper.make_tensor_value_info(f"{branch}_out", TensorProto.FLOAT, ANY_4D)],
        )
        for branch in ("then", "else")
    ]
    model.graph.node.append(
        helper.make_node("If", ["cond"], ["z"], then_branch=branches[0], else_branch=branches[1])
    )
    _add_output(model, "z")


@pytest.mark.parametrize("opset", [12, 14, 17])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("constant_nodes", [False, True], ids=["initializers", "constants"])
def test_exact_pattern_is_rewritten(
    tmp_path: Path, opset: int, bias: bool, constant_nodes: bool
) -> None:
    path = _save(_block(bias=bias, constant_nodes=constant_nodes, opset=opset), tmp_path)
    fused = fuse_model(path)
    report = fused.report
    assert (report.affines_folded, report.hardswishes_fused) == (1, 1)
    assert (report.opset_before, report.opset_after) == (opset, max(opset, 14))
    assert report.nodes_after == 2
    model = onnx.load_from_string(fused.model)
    assert [node.op_type for node in model.graph.node] == ["Conv", "HardSwish"]
    # Only the folded weights and bias are left: every constant the rewrite orphaned is gone.
    assert [tensor.name for tensor in model.graph.initializer] == ["w_folded", "c_folded_bias"]
    assert model.graph.node[0].output[0] == "a"
    assert list(model.graph.node[1].input) == ["a"]
    _assert_same_outputs(path, fused)


def test_new_names_do_not_collide(tmp_path: Path) -> None:
    model = _block()
    model.graph.node.append(helper.make_node("Identity", ["y"], ["w_folded"]))
    model.graph.output[0].name = "w_folded"
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    names = [tensor.name for tensor in onnx.load_from_string(fused.model).graph.initializer]
    assert names == ["w_folded_1", "c_folded_bias"]
    _assert_same_outputs(path, fused)


def test_intermediate_tensor_types_are_dropped(tmp_path: Path) -> None:
    """value_info of the removed tensors goes; that of the kept ones stays."""
    model = _block()
    model = onnx.shape_inference.infer_shapes(model)
    assert {v.name for v in model.graph.value_info} >= {"c", "m", "a", "p", "q", "r"}
    fused = fuse_model(_save(model, tmp_path))
    assert {v.name for v in onnx.load_from_string(fused.model).graph.value_info} == {"a"}


NEAR_MISSES: dict[str, tuple[Callable[[onnx.ModelProto], None], int, int]] = {
    # name: (change to the exact pattern, affines folded, hard-swishes fused)
    "hardswish-adds-2.9": (lambda m: _set(m, "three", _floats(2.9)), 1, 0),
    "hardswish-divides-by-5": (lambda m: _set(m, "six", _floats(5.0)), 1, 0),
    "clip-max-5": (lambda m: _set(m, "high", _floats(5.0)), 1, 0),
    "clip-min-minus-1": (lambda m: _set(m, "low", _floats(-1.0)), 1, 0),
    "hardswish-constant-of-rank-1": (lambda m: _set(m, "three", _floats([3.0], (1,))), 1, 0),
    "clip-without-max": (lambda m: _node(m, "q").input.pop(), 1, 0),
    "hardswish-squares-the-clip": (lambda m: _node(m, "r").input.__setitem__(0, "q"), 1, 0),
    "hardswish-multiplies-by-6": (lambda m: _node(m, "y").__setattr__("op_type", "Mul"), 1, 0),
    "hardswish-tensor-read-twice": (lambda m: _read_twice(m, "q"), 1, 0),
    "hardswish-tensor-read-in-subgraph": (_read_in_subgraph, 1, 0),
    "per-channel-mul": (lambda m: _set(m, "scale", _floats([1.0, 2.0, 3.0], (3, 1, 1))), 0, 1),
    "per-channel-add": (lambda m: _set(m, "shift", _floats([1.0, 2.0, 3.0], (3, 1, 1))), 0, 1),
    "mul-that-broadcasts-to-rank-5": (_broadcast_to_rank_5, 0, 1),
    "conv-output-read-twice": (lambda m: _read_twice(m, "c"), 0, 1),
    "conv-output-is-a-graph-output": (lambda m: _add_output(m, "c"), 0, 1),
    "mul-output-read-twice": (lambda m: _read_twice(m, "m"), 0, 1),
    "conv-weights-overridable": (
        lambda m: m.graph.input.append(
            helper.make_tensor_value_info("w", TensorProto.FLOAT, (3, 2, 3, 3))
        ),
        0,
        1,
    ),
    "conv-bias-not-constant": (
        lambda m: m.graph.input.append(helper.make_tensor_value_info("b", TensorProto.FLOAT, (3,))),
        0,
        1,
    ),
    "conv-then-max": (lambda m: _node(m, "m").__setattr__("op_type", "Max"), 0, 1),
    "mul-then-sub": (lambda m: _node(m, "a").__setattr__("op_type", "Sub"), 0, 1),
}


@pytest.mark.parametrize(("change", "affines", "swishes"), NEAR_MISSES.values(), ids=NEAR_MISSES)
def test_near_misses_are_left_alone(
    tmp_path: Path,
    change: Callable[[onnx.ModelProto], None],
    affines: int,
    swishes: int,
) -> None:
    model = _block()
    change(model)
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert (fused.report.affines_folded, fused.report.hardswishes_fused) == (affines, swishes)
    assert fused.report.opset_after == (14 if swishes else 12)
    _assert_same_outputs(path, fused)


# Hand-built graphs for the affine before a convolution:
# x -> Mul(scale) -> m -> Add(shift) -> a -> Conv(w, b) -> y.


def _prescaled(
    *, kernel: int = 1, group: int = 1, bias: bool = True, **conv: Any
) -> onnx.ModelProto:
    rng = np.random.default_rng(11)
    constants = {
        "scale": _floats([0.6], (1,)),
        "shift": _floats([-1.3], (1,)),
        "w": rng.normal(size=(4, 2 // group, kernel, kernel)).astype(np.float32),
    }
    if bias:
        constants["b"] = rng.normal(size=(4,)).astype(np.float32)
    nodes = [
        helper.make_node("Mul", ["x", "scale"], ["m"]),
        helper.make_node("Add", ["shift", "m"], ["a"]),
        helper.make_node(
            "Conv", ["a", "w", "b"] if bias else ["a", "w"], ["y"], group=group, **conv
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "prescaled",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, INPUT_SHAPE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ANY_4D)],
        initializer=[numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)


UNPADDED: dict[str, dict[str, Any]] = {
    "pointwise": {},
    "pointwise-no-bias": {"bias": False},
    "pointwise-grouped": {"group": 2},
    "pointwise-strided": {"strides": [2, 2]},
    "3x3-valid": {"kernel": 3, "auto_pad": "VALID"},
    "3x3-zero-pads": {"kernel": 3, "pads": [0] * 4},
}


@pytest.mark.parametrize("settings", UNPADDED.values(), ids=UNPADDED)
def test_affine_before_an_unpadded_conv_is_folded(tmp_path: Path, settings: dict[str, Any]) -> None:
    path = _save(_prescaled(**settings), tmp_path)
    fused = fuse_model(path)
    assert fused.report.prescales_folded == 1
    assert fused.report.nodes_after == 1
    model = onnx.load_from_string(fused.model)
    (conv,) = model.graph.node
    assert conv.input[0] == "x"
    assert [tensor.name for tensor in model.graph.initializer] == [
        "w_prescaled",
        "y_prescaled_bias",
    ]
    _assert_same_outputs(path, fused)


def _chain_into_affine(model: onnx.ModelProto) -> None:
    """Give the convolution an affine of its own after it: `Conv -> Mul -> Add -> z`."""
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(_floats([2.5], (1,)), "scale_after"),
            numpy_helper.from_array(_floats([0.25], (1,)), "shift_after"),
        ]
    )
    model.graph.node.extend(
        [
            helper.make_node("Mul", ["y", "scale_after"], ["y_scaled"]),
            helper.make_node("Add", ["y_scaled", "shift_after"], ["z"]),
        ]
    )
    model.graph.output[0].name = "z"


def test_affines_on_both_sides_of_a_conv_are_folded(tmp_path: Path) -> None:
    model = _prescaled()
    _chain_into_affine(model)
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert (fused.report.prescales_folded, fused.report.affines_folded) == (1, 1)
    assert [node.op_type for node in onnx.load_from_string(fused.model).graph.node] == ["Conv"]
    _assert_same_outputs(path, fused)


PRESCALE_MISSES: dict[str, tuple[Callable[[onnx.ModelProto], None], int]] = {
    # name: (change to the exact pattern, affines made per-channel convolutions)
    "padded-conv": (
        lambda m: _node(m, "y").attribute.append(helper.make_attribute("pads", [1] * 4)),
        1,
    ),
    "same-padded-conv": (
        lambda m: _node(m, "y").attribute.append(helper.make_attribute("auto_pad", "SAME_UPPER")),
        1,
    ),
    "add-output-read-twice": (lambda m: _read_twice(m, "a"), 1),
    "add-output-is-a-graph-output": (lambda m: _add_output(m, "a"), 1),
    "per-channel-scale": (lambda m: _set(m, "scale", _floats([1.0, 2.0], (2, 1, 1))), 0),
    "per-channel-shift": (lambda m: _set(m, "shift", _floats([1.0, 2.0], (2, 1, 1))), 0),
    "scale-of-rank-2": (lambda m: _set(m, "scale", _floats([0.6], (1, 1))), 0),
    "mul-output-read-twice": (lambda m: _read_twice(m, "m"), 0),
    "conv-weights-overridable": (
        lambda m: m.graph.input.append(
            helper.make_tensor_value_info("w", TensorProto.FLOAT, (4, 2, 1, 1))
        ),
        0,
    ),
    "mul-by-two-tensors": (
        lambda m: m.graph.input.append(
            helper.make_tensor_value_info("scale", TensorProto.FLOAT, (1,))
        ),
        0,
    ),
    "add-then-relu": (
        lambda m: _node(m, "y").CopyFrom(helper.make_node("Relu", ["a"], ["y"])),
        0,
    ),
    "add-as-conv-weights": (
        lambda m: _node(m, "y").CopyFrom(helper.make_node("Conv", ["w4d", "a"], ["y"])),
        0,
    ),
}


@pytest.mark.parametrize(("change", "convs"), PRESCALE_MISSES.values(), ids=PRESCALE_MISSES)
def test_affine_before_a_conv_that_pads_is_not_folded(
    tmp_path: Path, change: Callable[[onnx.ModelProto], None], convs: int
) -> None:
    """No fold into a padded convolution, or one that isn't there.

    At most the affine becomes a 1x1 convolution of its own.
    """
    model = _prescaled()
    model.graph.initializer.append(
        numpy_helper.from_array(np.ones((1, 2, 5, 5), np.float32), "w4d")
    )
    change(model)
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert fused.report.prescales_folded == 0
    assert fused.report.affines_as_convs == convs
    if not convs:
        assert onnx.load_from_string(fused.model) == model
    _assert_same_outputs(path, fused)


@pytest.mark.parametrize(("group", "spatial"), [(1, 2), (2, 2), (1, 1), (1, 3)])
def test_affine_before_a_padded_conv_becomes_a_channel_conv(
    tmp_path: Path, group: int, spatial: int
) -> None:
    """One weight and one bias per channel, one group per channel, any number of dimensions."""
    shape = (1, 2) + (5,) * spatial
    rng = np.random.default_rng(5)
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["scale", "x"], ["m"]),
            helper.make_node("Add", ["m", "shift"], ["a"]),
            helper.make_node("Conv", ["a", "w"], ["y"], group=group, pads=[1] * (2 * spatial)),
        ],
        "channel_affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ("n", "c", *"dhw"[-spatial:]))],
        initializer=[
            numpy_helper.from_array(_floats([0.6], (1,)), "scale"),
            numpy_helper.from_array(_floats(-1.3), "shift"),
            numpy_helper.from_array(
                rng.normal(size=(4, 2 // group) + (3,) * spatial).astype(np.float32), "w"
            ),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert fused.report.affines_as_convs == 1
    rewritten = onnx.load_from_string(fused.model)
    affine, conv = rewritten.graph.node
    assert (affine.op_type, affine.input[0], conv.input[0]) == ("Conv", "x", "a")
    settings = {a.name: helper.get_attribute_value(a) for a in affine.attribute}
    assert settings["group"] == 2
    assert settings["kernel_shape"] == [1] * spatial
    weights = {t.name: numpy_helper.to_array(t) for t in rewritten.graph.initializer}
    np.testing.assert_array_equal(
        weights[affine.input[1]], np.full((2,) + (1,) * (spatial + 1), 0.6, np.float32)
    )
    np.testing.assert_array_equal(weights[affine.input[2]], np.full((2,), -1.3, np.float32))
    x = np.random.default_rng(3).normal(scale=3.0, size=shape).astype(np.float32)
    expected = create_session(path, threads=1).run(None, {"x": x})[0]
    got = create_session(fused.model, threads=1).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pads", [0, 1])
@pytest.mark.parametrize("types", [(np.float32, np.float16), (np.float16, np.float16)])
def test_affine_of_another_type_than_the_conv_is_left_alone(
    tmp_path: Path, pads: int, types: tuple[type[np.floating[Any]], ...]
) -> None:
    """An invalid graph stays as invalid as it was (onnxruntime rejects it as before)."""
    model = _prescaled()
    _set(model, "scale", np.asarray([0.6], types[0]))
    _set(model, "shift", np.asarray([-1.3], types[1]))
    model.graph.node[2].attribute.append(helper.make_attribute("pads", [pads] * 4))
    fused = fuse_model(_save(model, tmp_path))
    assert (fused.report.prescales_folded, fused.report.affines_as_convs) == (0, 0)
    assert onnx.load_from_string(fused.model) == model


def _swap(model: onnx.ModelProto, output: str) -> None:
    _node(model, output).input.reverse()


@pytest.mark.parametrize("output", ["m", "a", "p", "r"])
def test_operand_order_does_not_matter(tmp_path: Path, output: str) -> None:
    """`Mul(c, scale)` is `Mul(scale, c)`: commutative ops match either way round."""
    model = _block()
    _swap(model, output)
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert (fused.report.affines_folded, fused.report.hardswishes_fused) == (1, 1)
    _assert_same_outputs(path, fused)


def test_hardswish_constants_of_mixed_types_are_left_alone(tmp_path: Path) -> None:
    """An invalid graph stays as invalid as it was (onnxruntime rejects it as before)."""
    model = _block()
    _set(model, "scale", _floats([1.0, 2.0, 3.0], (3, 1, 1)))
    _set(model, "six", np.asarray(6.0, np.float16))
    fused = fuse_model(_save(model, tmp_path))
    assert (fused.report.affines_folded, fused.report.hardswishes_fused) == (0, 0)
    assert onnx.load_from_string(fused.model) == model


def test_model_without_pattern_passes_through(tmp_path: Path) -> None:
    model = _block()
    del model.graph.node[1:]
    model.graph.node.append(helper.make_node("Relu", ["c"], ["y"]))
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert (fused.report.affines_folded, fused.report.hardswishes_fused) == (0, 0)
    assert fused.report.nodes_before == fused.report.nodes_after == 2
    assert (fused.report.opset_before, fused.report.opset_after) == (12, 12)
    assert onnx.load_from_string(fused.model) == onnx.load(path)
    _assert_same_outputs(path, fused)


def test_model_without_default_domain_passes_through(tmp_path: Path) -> None:
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph(
        [node],
        "custom",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, INPUT_SHAPE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ANY_4D)],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("com.example", 1)], ir_version=8
    )
    path = _save(model, tmp_path)
    fused = fuse_model(path)
    assert (fused.report.opset_before, fused.report.opset_after) == (None, None)
    assert onnx.load_from_string(fused.model) == model


def test_hardswishes_stay_when_the_opset_cannot_be_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(model: onnx.ModelProto, target_version: int) -> onnx.ModelProto:
        raise RuntimeError(f"no adapter to opset {target_version}")

    monkeypatch.setattr(onnx.version_converter, "convert_version", refuse)
    path = _save(_block(), tmp_path)
    fused = fuse_model(path)
    assert (fused.report.affines_folded, fused.report.hardswishes_fused) == (1, 0)
    assert fused.report.opset_after == 12
    _assert_same_outputs(path, fused)


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not an ONNX model", bytes(range(256))],
    ids=["empty", "text", "binary"],
)
def test_unreadable_model_raises_fusion_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.onnx"
    path.write_bytes(content)
    with pytest.raises(FusionError, match=r"cannot rewrite .*garbage\.onnx"):
        fuse_model(path)


def test_missing_file_raises_fusion_error(tmp_path: Path) -> None:
    with pytest.raises(FusionError, match="cannot rewrite"):
        fuse_model(tmp_path / "missing.onnx")


def test_missing_onnx_raises_fusion_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(_block(), tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(FusionError, match="onnx is not available"):
        fuse_model(path)


def test_fused_or_original(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _save(_block(), tmp_path)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"garbage")
    with caplog.at_level(logging.DEBUG, logger="anpr_inference.fusion"):
        fused = fused_or_original(path)
        original = fused_or_original(garbage)
    assert isinstance(fused, bytes)
    assert onnx.load_from_string(fused).graph.node[1].op_type == "HardSwish"
    assert original == garbage
    assert [record.levelname for record in caplog.records] == ["DEBUG", "WARNING"]
    assert "Fused model.onnx: 1 affines folded" in caplog.records[0].getMessage()
    assert (
        caplog.records[1]
        .getMessage()
        .startswith("Loading garbage.onnx without graph fusion: cannot rewrite")
    )
