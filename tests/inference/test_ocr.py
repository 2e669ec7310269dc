"""Plate OCR with the real models: one model alone, and two fused per character."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from anpr_inference.imaging import decode_image
from anpr_inference.ocr import FusedOCR, PlateOCR, decode_rows
from anpr_inference_tools.datasets import parse_labels

if TYPE_CHECKING:
    from pathlib import Path

# Labelled plates, read from their labelled boxes.
PLATES = ("br/AYO9034.jpg", "us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg")


@pytest.fixture(scope="module")
def v1(models_dir: Path) -> PlateOCR:
    return PlateOCR(
        models_dir / "cct_xs_v1_global.onnx", models_dir / "cct_xs_v1_global_plate_config.yaml"
    )


@pytest.fixture(scope="module")
def v2(models_dir: Path) -> PlateOCR:
    return PlateOCR(
        models_dir / "cct_xs_v2_global.onnx", models_dir / "cct_xs_v2_global_plate_config.yaml"
    )


def _crops(dataset_dir: Path) -> tuple[list[np.ndarray], list[str]]:
    crops, texts = [], []
    for name in PLATES:
        image = decode_image((dataset_dir / name).read_bytes(), max_pixels=40_000_000)
        label = (dataset_dir / name).with_suffix(".txt")
        (plate,) = parse_labels(label.read_text(encoding="utf-8"), str(label))
        b = plate.box
        crops.append(image[b.y1 : b.y2, b.x1 : b.x2])
        texts.append(plate.text)
    return crops, texts


def test_each_model_reads_alone(v1: PlateOCR, v2: PlateOCR, dataset_dir: Path) -> None:
    crops, texts = _crops(dataset_dir)
    assert (v1.slots, v2.slots) == (9, 10)
    for model in (v1, v2):
        reads = model.read_batch(crops)
        assert [r.text for r in reads] == texts
        for read in reads:
            assert read.char_probs is not None
            assert read.char_probs.shape == (len(read.text), 37)


def test_fused_rows_are_the_mean_of_aligned_slots(
    v1: PlateOCR, v2: PlateOCR, dataset_dir: Path
) -> None:
    crops, texts = _crops(dataset_dir)
    fused = FusedOCR([v1, v2])
    assert fused.name == "cct_xs_v1_global+cct_xs_v2_global"
    reads = fused.read_batch(crops)
    assert [r.text for r in reads] == texts
    p1, p2 = v1.probabilities(crops), v2.probabilities(crops)
    # v1's missing tenth slot counts as certain padding.
    pad_row = np.zeros(37, np.float32)
    pad_row[v1.pad] = 1.0
    expected = (np.concatenate([p1, np.broadcast_to(pad_row, (len(crops), 1, 37))], 1) + p2) / 2
    for read, rows in zip(reads, expected, strict=True):
        want = decode_rows(rows.astype(np.float32), v1.alphabet, v1.pad)
        assert read.text == want.text
        assert read.char_confidences == pytest.approx(want.char_confidences)
        assert read.char_probs is not None
        np.testing.assert_allclose(read.char_probs.sum(axis=1), 1.0, atol=1e-4)


def test_decode_drops_padding_anywhere() -> None:
    alphabet = "AB_"
    rows = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]], np.float32)
    read = decode_rows(rows, alphabet, 2)
    assert read.text == "AB"
    assert read.char_confidences == pytest.approx((0.9, 0.7))


def test_fusion_needs_one_alphabet(v1: PlateOCR) -> None:
    with pytest.raises(ValueError, match="at least two"):
        FusedOCR([v1])
    other = object.__new__(PlateOCR)
    other.name, other.alphabet, other.pad, other.slots = "other", "0123456789_", 10, 8
    with pytest.raises(ValueError, match="different alphabets"):
        FusedOCR([v1, other])
