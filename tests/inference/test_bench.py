"""The benchmark command: dataset parsing, metrics, reports and failure output."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest

from anpr_inference.config import ServiceConfig
from anpr_inference.results import Box, ModelInfo, PlateRead, RecognitionResult, Timings
from anpr_inference_tools import bench, placement
from anpr_inference_tools.benchrun import BenchSettings
from anpr_inference_tools.datasets import (
    Dataset,
    DatasetError,
    LabelledPlate,
    load_dataset,
    parse_labels,
)
from anpr_inference_tools.scoring import (
    ImageScore,
    Prediction,
    align,
    percentile,
    score_image,
    summarize,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from anpr_inference.engine import Image

BOX = Box(100, 50, 200, 100)
FAR = Box(400, 300, 500, 350)
NEAR = Box(105, 55, 205, 105)  # IoU with BOX about 0.75


# --- Datasets ---------------------------------------------------------------------------------


def test_parse_labels_tabs_spaces_and_lines() -> None:
    text = (
        "AYO9034.jpg\t528\t412\t162\t52\tAYO9034\n"
        "\n"
        "AYO9034.jpg  10 20 30 40   ab-12 cd\r\n"
        "AYO9034.jpg -3 5 30 40 x1\n"
    )
    assert parse_labels(text) == (
        LabelledPlate("AYO9034", Box(528, 412, 690, 464)),
        LabelledPlate("AB12CD", Box(10, 20, 40, 60)),
        LabelledPlate("X1", Box(-3, 5, 27, 45)),
    )
    assert parse_labels("") == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a.jpg 1 2 3 4", r"labels.txt:1: expected 'IMAGE x y w h PLATE'"),
        ("a.jpg 1 2 x 4 AB12", "must be integers"),
        ("a.jpg 1 2 0 4 AB12", "has no area"),
        ("a.jpg 1 2 3 4 --", "has no A-Z/0-9"),
    ],
)
def test_parse_labels_errors(line: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_labels(line, "labels.txt")


def write_image(path: Path, height: int, width: int = 320) -> None:
    ok, data = cv2.imencode(path.suffix, np.full((height, width, 3), 90, dtype=np.uint8))
    assert ok
    path.write_bytes(data.tobytes())


def test_load_dataset(tmp_path: Path) -> None:
    write_image(tmp_path / "b.png", 60)
    (tmp_path / "b.txt").write_text("b.png 1 2 3 4 BBB222\n")
    write_image(tmp_path / "a.jpg", 60)
    (tmp_path / "a.txt").write_text("a.jpg 1 2 3 4 AAA111\na.jpg 5 6 7 8 AAA112\n")
    write_image(tmp_path / "c.JPEG", 60)  # no label file: counted, not scored
    (tmp_path / "d.txt").write_text("d.jpg 1 2 3 4 DDD444\n")  # no image: ignored
    (tmp_path / "README.md").write_text("not a sample")
    dataset = load_dataset(tmp_path)
    assert dataset.name == tmp_path.name
    assert [s.image.name for s in dataset.samples] == ["a.jpg", "b.png"]
    assert [len(s.plates) for s in dataset.samples] == [2, 1]
    assert [p.name for p in dataset.unlabelled] == ["c.JPEG"]
    assert load_dataset(tmp_path, name="x").name == "x"


def test_load_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a folder"):
        load_dataset(tmp_path / "missing")
    write_image(tmp_path / "a.jpg", 60)
    with pytest.raises(DatasetError, match="no labelled images"):
        load_dataset(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path)


def test_real_benchmark_folders_parse(dataset_dir: Path) -> None:
    for region in ("br", "us"):
        dataset = load_dataset(dataset_dir / region)
        assert len(dataset.samples) > 100
        assert all(s.plates for s in dataset.samples)
    assert load_dataset(dataset_dir / "br").samples[0].plates[0].text == "AYO9034"


# --- Metrics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "read", "distance", "substitutions"),
    [
        ("ABC123", "ABC123", 0, ()),
        ("AB12CDE", "A812CDE", 1, (("B", "8"),)),
        ("AB12CDE", "A812CD3", 2, (("B", "8"), ("E", "3"))),
        ("ABCD", "ABD", 1, ()),  # a deletion is not a confusion
        ("ABD", "ABCD", 1, ()),
        ("AB", "", 2, ()),
        ("", "AB", 2, ()),
        ("OSG719", "0SG71", 2, (("O", "0"),)),
    ],
)
def test_align(
    expected: str, read: str, distance: int, substitutions: tuple[tuple[str, str], ...]
) -> None:
    assert align(expected, read) == (distance, substitutions)


def test_score_exact_match() -> None:
    score = score_image([LabelledPlate("ABC1234", BOX)], [Prediction("ABC1234", BOX, 0.9)])
    assert score == ImageScore(
        labelled=1,
        read_correctly=1,
        detected=1,
        reported=1,
        false_plates=0,
        characters=7,
        edit_distance=0,
        confusions=(),
    )
    assert score.correct


def test_score_one_character_wrong() -> None:
    score = score_image([LabelledPlate("ABC1234", BOX)], [Prediction("A8C1234", BOX)])
    assert (score.read_correctly, score.detected, score.false_plates) == (0, 1, 0)
    assert (score.characters, score.edit_distance) == (7, 1)
    assert score.confusions == (("B", "8"),)
    assert not score.correct


def test_score_miss() -> None:
    score = score_image([LabelledPlate("ABC1234", BOX)], [])
    assert (score.read_correctly, score.detected, score.reported) == (0, 0, 0)
    assert (score.characters, score.edit_distance, score.confusions) == (7, 7, ())


def test_score_extra_plate_is_false() -> None:
    truth = [LabelledPlate("ABC1234", BOX)]
    score = score_image(truth, [Prediction("ABC1234", BOX), Prediction("XYZ999", FAR)])
    assert (score.read_correctly, score.reported, score.false_plates) == (1, 2, 1)
    # A right text at the wrong place is not a false plate (the label box may be off).
    score = score_image(truth, [Prediction("ABC1234", FAR)])
    assert (score.read_correctly, score.detected, score.false_plates) == (1, 0, 0)


def test_score_only_best_plate_counts_for_one_label() -> None:
    truth = [LabelledPlate("ABC1234", BOX)]
    score = score_image(truth, [Prediction("XYZ999", FAR), Prediction("ABC1234", BOX)])
    assert score.read_correctly == 0
    assert score.edit_distance == 0  # the OCR did read this plate right
    assert score.false_plates == 1


def test_score_two_labels() -> None:
    truth = [LabelledPlate("ABC1234", BOX), LabelledPlate("XYZ999", FAR)]
    score = score_image(truth, [Prediction("XYZ999", FAR), Prediction("ABC1Z34", BOX)])
    assert (score.labelled, score.read_correctly, score.detected) == (2, 1, 2)
    assert score.confusions == (("2", "Z"),)


def test_score_loose_box_still_pairs_for_characters() -> None:
    loose = Box(80, 30, 260, 140)  # contains the label but IoU < 0.5
    assert 0 < loose.iou(BOX) < 0.5
    score = score_image([LabelledPlate("0SG719", BOX)], [Prediction("OSG719", loose)])
    assert (score.detected, score.false_plates, score.edit_distance) == (0, 1, 1)
    assert score.confusions == (("0", "O"),)


@pytest.mark.parametrize(
    ("predicted", "detected"),
    [
        (Box(100, 50, 200, 100), True),  # identical
        (Box(100, 50, 150, 100), True),  # half of the label: IoU exactly 0.5
        (Box(100, 50, 149, 100), False),  # just under
        (Box(0, 0, 100, 50), False),  # touching corners
    ],
)
def test_iou_threshold_edges(predicted: Box, detected: bool) -> None:
    score = score_image([LabelledPlate("ABC123", BOX)], [Prediction("XXX000", predicted)])
    assert bool(score.detected) is detected
    assert score.false_plates == (0 if detected else 1)


def test_percentile() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="0-100"):
        percentile(values, 101)


def test_summarize() -> None:
    scores = [
        score_image([LabelledPlate("ABC1234", BOX)], [Prediction("ABC1234", BOX)]),
        score_image([LabelledPlate("ABC1234", BOX)], [Prediction("A8C1Z34", BOX)]),
        score_image([LabelledPlate("XYZ99", BOX)], [Prediction("XYZ99", BOX)]),
        score_image([LabelledPlate("ZZZ1", BOX)], [Prediction("Q", FAR), Prediction("R", FAR)]),
    ]
    summary = summarize(
        scores, [10.0, 20.0, 30.0, 40.0], unlabelled=1, concurrent_seconds=0.5, concurrent_images=4
    )
    assert (summary.images, summary.labelled_plates, summary.reported_plates) == (4, 4, 5)
    assert summary.plate_accuracy == pytest.approx(0.5)
    assert summary.character_accuracy == pytest.approx(1 - (0 + 2 + 0 + 4) / (7 + 7 + 5 + 4))
    assert summary.detection_recall == pytest.approx(0.75)
    assert summary.false_plates_per_image == pytest.approx(0.5)
    assert (summary.latency_p50, summary.latency_max, summary.latency_mean) == (25.0, 40.0, 25.0)
    assert summary.sequential_ips == pytest.approx(40.0)
    assert summary.concurrent_ips == pytest.approx(8.0)
    assert summary.confusions == (("2", "Z", 1), ("B", "8", 1))
    document = summary.as_dict()
    assert document["latency_ms"] == {"p50": 25.0, "p95": 38.5, "max": 40.0, "mean": 25.0}
    assert document["confusions"][0] == {"expected": "2", "read": "Z", "count": 1}
    assert document["unlabelled_images"] == 1


def test_summarize_nothing() -> None:
    summary = summarize([], [])
    assert summary.plate_accuracy is None
    assert summary.character_accuracy is None
    assert summary.false_plates_per_image is None
    assert summary.latency_p95 is None
    assert summary.sequential_ips is None
    assert summary.concurrent_ips is None


def test_region_for() -> None:
    dataset = Dataset("br", Path("br"), ())
    assert BenchSettings(region="auto").region_for(dataset) == "br"
    assert BenchSettings(region="auto").region_for(Dataset("mine", Path(), ())) is None
    assert BenchSettings(region="uk").region_for(dataset) == "uk"
    assert BenchSettings().region_for(dataset) is None


# --- The command ------------------------------------------------------------------------------


class FakeRecognizer:
    """Answers by image height, so each generated test image gets a known reading."""

    def __init__(self, answers: Mapping[int, tuple[PlateRead, ...]]) -> None:
        """Reply `answers[height]` (no plate for other heights)."""
        self.answers = answers
        self.calls: list[tuple[int, str | None, float]] = []
        self.warmed = False

    @property
    def models(self) -> Mapping[str, ModelInfo]:
        """Two made-up models."""
        return {
            "detector": ModelInfo("fake-det", "file", "/models/det.onnx"),
            "ocr": ModelInfo("fake-ocr", "file", "/models/ocr.onnx"),
        }

    def recognize(
        self,
        image: Image,
        *,
        region: str | None = None,
        min_confidence: float = 0.0,
        crops: bool = False,
    ) -> RecognitionResult:
        """Record the call and answer by height."""
        height, width = image.shape[:2]
        self.calls.append((height, region, min_confidence))
        plates = self.answers.get(height, ())
        return RecognitionResult(plates, width, height, Timings())

    def warm_up(self) -> None:
        """Remember that it happened."""
        self.warmed = True


def plate(text: str, box: Box, confidence: float = 0.9) -> PlateRead:
    return PlateRead(text, text, confidence, (confidence,) * len(text), 0.8, box)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Build a tiny dataset named like a region: a hit, a misread, a miss, a broken file."""
    root = tmp_path / "br"
    root.mkdir()
    for name, height, label in [
        ("hit", 200, "ABC1234"),
        ("misread", 210, "ABC1234"),
        ("miss", 220, "XYZ9876"),
    ]:
        write_image(root / f"{name}.jpg", height)
        (root / f"{name}.txt").write_text(f"{name}.jpg\t100\t50\t100\t50\t{label}\n")
    (root / "zbroken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (root / "zbroken.txt").write_text("zbroken.jpg 1 1 10 10 BRK1234\n")
    return root


@pytest.fixture
def recognizer() -> FakeRecognizer:
    return FakeRecognizer(
        {
            200: (plate("ABC1234", BOX),),
            210: (plate("A8C1234", NEAR, 0.7), plate("ZZZ999", FAR, 0.5)),
        }
    )


def make_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    bench.add_parser(sub)
    return parser.parse_args(["bench", *argv])


def run_bench(
    folder: Path, recognizer: FakeRecognizer, *argv: str, config: ServiceConfig | None = None
) -> int:
    args = make_args(str(folder), *argv)
    datasets = [load_dataset(folder)]
    return bench.run_with_engine(args, config or ServiceConfig(), datasets, recognizer)


def test_parser() -> None:
    args = make_args("a", "b", "--limit", "3", "--workers", "2", "--region", "BR", "--json")
    assert args.folders == [Path("a"), Path("b")]
    assert (args.limit, args.workers, args.region, args.json) == (3, 2, "br", True)
    assert args.failures is None
    assert args.min_confidence is None
    assert args.func is bench.run


@pytest.mark.parametrize(
    "argv",
    [["--limit", "0"], ["--workers", "x"], ["--region", "mars"], ["--min-confidence", "2"]],
)
def test_parser_rejects(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        make_args("a", *argv)
    assert "error" in capsys.readouterr().err


def test_json_report(
    folder: Path, recognizer: FakeRecognizer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ServiceConfig(threads_per_worker=2, min_confidence=0.3)
    assert run_bench(folder, recognizer, "--json", "--region", "auto", config=config) == 1
    out, err = capsys.readouterr()
    document: dict[str, Any] = json.loads(out)
    assert recognizer.warmed
    assert {call[1:] for call in recognizer.calls} == {("br", 0.3)}
    assert set(document) == {"version", "models", "settings", "folders", "overall", "errors"}
    assert document["version"] == 1
    assert document["models"]["ocr"] == {
        "name": "fake-ocr",
        "source": "file",
        "path": "/models/ocr.onnx",
    }
    assert document["settings"] == {
        "region": "auto",
        "min_confidence": 0.3,
        "limit": None,
        "workers": 1,
        "threads_per_worker": 2,
        "iou_threshold": 0.5,
        "max_pixels": 40_000_000,
    }
    [entry] = document["folders"]
    assert (entry["name"], entry["path"], entry["region"]) == ("br", str(folder), "br")
    metrics = document["overall"]
    assert set(metrics) == {
        "images",
        "unlabelled_images",
        "errors",
        "labelled_plates",
        "reported_plates",
        "plate_accuracy",
        "character_accuracy",
        "detection_recall",
        "false_plates_per_image",
        "latency_ms",
        "images_per_second",
        "confusions",
    }
    assert {k: v for k, v in entry.items() if k in metrics} == metrics
    assert (metrics["images"], metrics["errors"], metrics["labelled_plates"]) == (4, 1, 4)
    assert metrics["plate_accuracy"] == 0.25
    assert metrics["detection_recall"] == 0.5
    assert metrics["false_plates_per_image"] == 0.25
    assert metrics["character_accuracy"] == round(1 - (0 + 1 + 7 + 7) / 28, 4)
    assert metrics["confusions"] == [{"expected": "B", "read": "8", "count": 1}]
    assert set(metrics["latency_ms"]) == {"p50", "p95", "max", "mean"}
    assert metrics["images_per_second"]["concurrent"] is None
    assert metrics["images_per_second"]["sequential"] > 0
    [error] = document["errors"]
    assert error["image"].endswith("zbroken.jpg")
    assert "zbroken.jpg" not in err  # with --json, errors live in the document only


def test_table_report_with_workers(
    folder: Path, recognizer: FakeRecognizer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_bench(folder, recognizer, "--workers", "3", "--limit", "3") == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["folder", "images", "plates"]
    assert "img/s x3" in lines[0]
    assert lines[2].split()[:6] == ["br", "3", "3", "33.3%", "61.9%", "66.7%"]
    assert lines[4].startswith("overall")
    assert "Top confusions (expected→read): B→8: 1" in out
    assert "Models: detector fake-det (file), ocr fake-ocr (file)" in out
    assert "Workers: 3, threads per worker: auto" in out
    assert not err  # no progress bar when not on a terminal
    # 3 sequential + 3 concurrent recognitions.
    assert len(recognizer.calls) == 6


def test_failures_written_for_misses(
    folder: Path, recognizer: FakeRecognizer, tmp_path: Path
) -> None:
    out = tmp_path / "failures"
    assert run_bench(folder, recognizer, "--failures", str(out), "--json") == 1
    with (out / "failures.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(Path(r["image"]).name, r["expected"], r["read"], r["confidence"]) for r in rows] == [
        ("misread.jpg", "ABC1234", "A8C1234", "0.7000"),
        ("miss.jpg", "XYZ9876", "", ""),
        ("zbroken.jpg", "BRK1234", "", ""),
    ]
    annotated = cv2.imread(str(out / "br" / "misread.jpg"))
    assert annotated is not None
    assert annotated.shape == (210, 320, 3)
    # The labelled box is drawn in green and the reported one in red (BGR).
    blue, green, red = (int(v) for v in annotated[75, 100])
    assert green > red + 60
    assert green > blue + 60
    blue, green, red = (int(v) for v in annotated[80, 105])
    assert red > green + 60
    assert red > blue + 60
    crop = cv2.imread(str(out / "br" / "misread_crop.jpg"))
    assert crop is not None
    assert crop.shape == (50, 100, 3)
    assert (out / "br" / "miss.jpg").is_file()
    assert not (out / "br" / "miss_crop.jpg").exists()  # nothing was reported
    assert not (out / "br" / "hit.jpg").exists()


def test_failures_folder_not_writable(
    folder: Path, recognizer: FakeRecognizer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run_bench(folder, recognizer, "--failures", str(blocker / "out")) == 2
    assert "cannot write failures" in capsys.readouterr().err


def test_bad_default_region(
    folder: Path, recognizer: FakeRecognizer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ServiceConfig(default_region="mars")
    assert run_bench(folder, recognizer, config=config) == 2
    assert "unknown region 'mars'" in capsys.readouterr().err


def test_run_reports_dataset_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = make_args(str(tmp_path / "missing"))
    assert bench.run(args, ServiceConfig()) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_unique_folder_names(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "us", tmp_path / "b" / "us"
    assert bench._unique_names([first, second, tmp_path / "br"]) == ["us", "us-2", "br"]


def test_real_engine_on_real_photos(
    tmp_path: Path, models_dir: Path, dataset_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end through the CLI's parser: real photos, the embedded detector, the plate OCR."""
    from anpr_inference.cli import build_config, make_parser

    args = make_parser().parse_args(
        [
            "bench",
            str(dataset_dir / "br"),
            "--limit",
            "2",
            "--region",
            "auto",
            "--json",
            "--detector",
            "embedded",
            "--ocr",
            "file",
            "--ocr-path",
            str(models_dir / "cct_xs_v1_global.onnx"),
            "--ocr-config-path",
            str(models_dir / "cct_xs_v1_global_plate_config.yaml"),
            "--no-download",
            "--model-dir",
            str(tmp_path / "models"),
            "--data-dir",
            str(tmp_path / "data"),
            "--threads",
            "1",
        ]
    )
    config = build_config(args, environ={})
    assert args.func(args, config) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["models"]["ocr"]["name"] == "cct_xs_v1_global"
    assert document["settings"]["threads_per_worker"] == 1
    overall = document["overall"]
    assert (overall["images"], overall["errors"], overall["labelled_plates"]) == (2, 0, 2)
    assert overall["plate_accuracy"] is not None
    assert overall["latency_ms"]["max"] > 0


# --- Camera placement -------------------------------------------------------------------------


def test_placement_shrinks_and_degrades() -> None:
    rng = np.random.default_rng(0)
    image = np.asarray(rng.integers(0, 255, (400, 600, 3)), np.uint8)
    small = placement.shrink_to(image, 150, 30)
    assert small is not None
    assert small.shape == (80, 120, 3)
    assert placement.shrink_to(image, 150, 150) is None  # never enlarged: no detail to add
    for name, degrade in placement.CONDITIONS.items():
        seen = small if degrade is None else degrade(small, rng, 30)
        assert seen.shape == small.shape, name
        assert seen.dtype == np.uint8, name
    night = placement.CONDITIONS["night IR"]
    assert night is not None
    grey = night(small, rng, 30)
    assert (grey[..., 0] == grey[..., 1]).all()
    assert grey.std() < small.std()


def test_placement_command_writes_json_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A labelled plate 100 px wide, read right at 60 px and wider (the fake reads by height)."""
    root = tmp_path / "br"
    root.mkdir()
    write_image(root / "car.jpg", 400, 600)
    (root / "car.txt").write_text("car.jpg\t100\t50\t100\t50\tABC1234\n")
    heights = {round(400 * w / 100): w for w in placement.WIDTHS if w < 100}
    recognizer = FakeRecognizer(
        {h: (plate("ABC1234", BOX),) for h, w in heights.items() if w >= 60}
    )
    out = tmp_path / "out"
    assert run_bench(root, recognizer, "--placement", str(out)) == 0
    document = json.loads((out / "placement.json").read_text())
    clear = document["conditions"]["clear"]
    assert clear["20"] == {"images": 1, "correct": 0, "plate_accuracy": 0.0}
    assert clear["60"] == {"images": 1, "correct": 1, "plate_accuracy": 1.0}
    assert clear["120"] == {"images": 0, "correct": 0, "plate_accuracy": None}
    assert document["width_for_95"]["clear"] == 60
    assert set(document["conditions"]) == set(placement.CONDITIONS)
    png = cv2.imread(str(out / "placement.png"))
    assert png is not None
    assert png.shape == (560, 900, 3)
    assert "wrote" in capsys.readouterr().out
