"""The fused detector stored beside its model (`fusion.cached_or_fused`, `fusion_store`).

The real embedded detector is copied into a temporary folder (never changed where it is
installed), fused once, stored, and loaded from the stored copy on the next start; every kind
of bad copy is rebuilt, never loaded.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import re
import shutil

import cv2
import numpy as np
import pytest

from anpr_inference import fusion, fusion_store
from anpr_inference.cli import main
from anpr_inference.detectors import TextPlateProposer
from anpr_inference.fusion import FusedModel, FusionError, cached_or_fused, fuse_model
from anpr_inference.fusion_store import REWRITE_VERSION, CopyMismatchError, FusedCopy
from anpr_inference.models import EMBEDDED_DETECTOR_FILE, embedded_model_dir
from anpr_inference.sessions import create_session

from .conftest import require_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fused_bytes() -> bytes:
    """Return the real detector fused in memory, as the service did at every start."""
    return fuse_model(require_path(embedded_model_dir() / EMBEDDED_DETECTOR_FILE)).model


@pytest.fixture
def detector(tmp_path: Path) -> Path:
    """Return a copy of the real embedded detector in a folder of its own."""
    path = tmp_path / EMBEDDED_DETECTOR_FILE
    shutil.copyfile(require_path(embedded_model_dir() / EMBEDDED_DETECTOR_FILE), path)
    return path


def _fuses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every call of `fuse_model` (which still runs)."""
    calls: list[Path] = []
    real = fusion.fuse_model

    def counting(path: Path) -> FusedModel:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(fusion, "fuse_model", counting)
    return calls


def test_fused_once_then_loaded_from_the_stored_copy(
    detector: Path,
    fused_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = _fuses(monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="anpr_inference.fusion"):
        first = cached_or_fused(detector)
        second = cached_or_fused(detector)
    assert first == fused_bytes  # the first start fuses, as before
    copy = FusedCopy(detector)
    assert second == copy.model == detector.with_name("ch_PP-OCRv4_det_infer.fused.onnx")
    assert copy.model.read_bytes() == fused_bytes
    assert calls == [detector]
    record = json.loads(copy.record.read_text(encoding="utf-8"))
    assert record["rewrite_version"] == REWRITE_VERSION
    assert record["report"].startswith("25 affines folded")
    assert "WARNING" not in caplog.text
    assert f"Fused {EMBEDDED_DETECTOR_FILE}: 25 affines folded" in caplog.records[-1].getMessage()
    assert sorted(p.name for p in detector.parent.iterdir()) == [  # no temporary files left
        "ch_PP-OCRv4_det_infer.fused.json",
        "ch_PP-OCRv4_det_infer.fused.onnx",
        EMBEDDED_DETECTOR_FILE,
    ]


def test_stored_copy_gives_the_same_proposals(detector: Path, dataset_dir: Path) -> None:
    frame = cv2.imread(str(require_path(dataset_dir / "br/AYO9034.jpg")))
    fused_now = TextPlateProposer(detector, threads=1).predict(frame)  # fuses and stores
    stored = TextPlateProposer(detector, threads=1).predict(frame)  # loads the copy
    assert fused_now
    assert [(p.label, p.confidence, p.bounding_box) for p in stored] == [
        (p.label, p.confidence, p.bounding_box) for p in fused_now
    ]


def _corrupt_model(copy: FusedCopy) -> None:
    data = bytearray(copy.model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.model.write_bytes(bytes(data))


def _edit_record(key: str, value: object) -> object:
    def edit(copy: FusedCopy) -> None:
        record = json.loads(copy.record.read_text(encoding="utf-8"))
        record[key] = value
        copy.record.write_text(json.dumps(record), encoding="utf-8")

    return edit


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (_corrupt_model, "fused_sha256"),
        (lambda copy: copy.model.write_bytes(copy.model.read_bytes()[:1000]), "fused_sha256"),
        (lambda copy: copy.model.unlink(), "no readable copy"),
        (lambda copy: copy.record.unlink(), "no readable copy"),
        (lambda copy: copy.record.write_text("{not json", encoding="utf-8"), "no readable copy"),
        (lambda copy: copy.record.write_text("[]", encoding="utf-8"), "not a fused copy"),
        (_edit_record("rewrite_version", REWRITE_VERSION - 1), "rewrite_version"),
        (_edit_record("source_sha256", "0" * 64), "source_sha256"),
        (_edit_record("report", None), "not a fused copy"),
    ],
    ids=[
        "flipped-byte",
        "truncated",
        "model-missing",
        "record-missing",
        "record-not-json",
        "record-not-object",
        "older-rewrite",
        "other-source",
        "no-report",
    ],
)
def test_a_bad_copy_is_rebuilt_never_loaded(
    detector: Path,
    fused_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    spoil: object,
    why: str,
) -> None:
    copy = FusedCopy(detector)
    copy.store(fused_bytes, "report")
    assert callable(spoil)
    spoil(copy)
    with pytest.raises(CopyMismatchError, match=why):
        FusedCopy(detector).load()
    calls = _fuses(monkeypatch)
    assert cached_or_fused(detector) == fused_bytes
    assert calls == [detector]
    assert cached_or_fused(detector) == copy.model  # rebuilt, then reused
    assert calls == [detector]


def test_another_source_model_is_a_miss(detector: Path, fused_bytes: bytes) -> None:
    """The copy belongs to the file it was made from: a replaced model is fused again."""
    FusedCopy(detector).store(fused_bytes, "report")
    detector.write_bytes(detector.read_bytes() + b"\0")
    with pytest.raises(CopyMismatchError, match="source_sha256"):
        FusedCopy(detector).load()


def test_unwritable_folder_fuses_in_memory_with_one_warning(
    detector: Path,
    fused_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A read-only install (simulated: the tests run as root) costs time, not the model."""

    def read_only(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Read-only file system", str(path))

    monkeypatch.setattr(fusion_store, "_write_atomically", read_only)
    with caplog.at_level(logging.WARNING, logger="anpr_inference.fusion"):
        assert cached_or_fused(detector) == fused_bytes
        assert cached_or_fused(detector) == fused_bytes
    assert len(caplog.records) == 1
    assert (
        caplog.records[0]
        .getMessage()
        .startswith(f"Cannot store the fused {EMBEDDED_DETECTOR_FILE} beside it (")
    )
    assert caplog.records[0].getMessage().endswith("fusing it at every start instead")
    assert not FusedCopy(detector).model.exists()


def test_unfusable_model_is_loaded_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="anpr_inference.fusion"):
        assert cached_or_fused(garbage) == garbage
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("Loading garbage.onnx without graph fusion: cannot rewrite")
    )
    assert not FusedCopy(garbage).record.exists()


def test_store_fused_for_an_image_build(detector: Path, fused_bytes: bytes) -> None:
    stored = fusion.store_fused(detector)
    assert stored.read_bytes() == fused_bytes
    assert fusion.store_fused(detector) == stored
    garbage = detector.with_name("garbage.onnx")
    garbage.write_bytes(b"garbage")
    with pytest.raises(FusionError):
        fusion.store_fused(garbage)


def test_fuse_detector_command(
    monkeypatch: pytest.MonkeyPatch, detector: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("anpr_inference.models.embedded_model_dir", lambda: detector.parent)
    monkeypatch.setattr("anpr_inference.cli._setup_logging", lambda level: None)
    assert main(["fuse-detector"]) == 0
    assert capsys.readouterr().out == f"{FusedCopy(detector).model}\n"
    detector.write_bytes(b"garbage")
    assert main(["fuse-detector"]) == 1
    assert capsys.readouterr().err.startswith("error: cannot store the fused detector: ")


def test_the_image_stores_the_fused_detector_when_built() -> None:
    dockerfile = (REPO / "inference_addon" / "Dockerfile").read_text(encoding="utf-8")
    steps = re.findall(r"anpr-inference [\w-]+", dockerfile)
    # After the service (and with it the embedded detector) is installed.
    assert steps.index("anpr-inference fuse-detector") > steps.index("anpr-inference --version")
    assert dockerfile.index("pip install --no-deps .") < dockerfile.index("fuse-detector")


def test_stored_file_gives_the_same_maps(detector: Path, fused_bytes: bytes) -> None:
    """Onnxruntime loads the stored file as it loaded the fused bytes: the same maps."""
    stored = fusion.store_fused(detector)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 64, 96)).astype(np.float32)
    got = create_session(stored, threads=1).run(None, {"x": x})[0]
    expected = create_session(fused_bytes, threads=1).run(None, {"x": x})[0]
    assert np.array_equal(got, expected)
