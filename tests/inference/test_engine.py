"""The recognition engine with the real models on real photos.

The embedded PP-OCRv4 detector (no download) and the shared `cct_xs_v1_global` OCR model are
the offline pipeline every installation can fall back to; these tests pin what it reads.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fast_alpr import ALPR
import numpy as np
import pytest

from anpr_inference.config import ServiceConfig
from anpr_inference.detectors import ProposalSettings, TextPlateProposer
from anpr_inference.engine import (
    EngineSettings,
    RecognitionEngine,
    _shorter_than_formats,
    alternatives,
    create_engine,
)
from anpr_inference.formats import match_format, reading_rules
from anpr_inference.imaging import decode_image
from anpr_inference.models import embedded_model_dir
from anpr_inference.ocr import BatchOCR, OcrRead, PlateOCR, TextLineOCR
from anpr_inference_tools.datasets import parse_labels

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from open_image_models.detection.core.base import DetectionResult

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
"""The fast-plate-ocr models' alphabet, padding `_` last."""

# A fixed sample (the first photos of each folder, in name order) and what they show; the
# benchmark command measures the whole dataset.
SAMPLE = {
    "br/AYO9034.jpg": "AYO9034",
    "br/AZJ6991.jpg": "AZJ6991",
    "br/GWT2180.jpg": "GWT2180",
    "br/HPM9362.jpg": "HPM9362",
    "us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg": "YG9X2G",
    "us/12c6cb72-3ea3-49e7-b381-e0cdfc5e8960.jpg": "0SG719",
    "us/1e241dc8-8f18-4955-8988-03a0ab49f813.jpg": "CCLVN3",
    "us/21d8c31d-3deb-494b-9c63-c0223306fd82.jpg": "2DA044",
}


@pytest.fixture(scope="module")
def engine(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RecognitionEngine:
    """Build the offline pipeline: embedded text detector, shared plate OCR model."""
    config = ServiceConfig(
        detector="embedded",
        ocr="file",
        ocr_path=models_dir / "cct_xs_v1_global.onnx",
        model_dir=tmp_path_factory.mktemp("models"),
        allow_download=False,
    )
    built = create_engine(config)
    built.warm_up()
    return built


def _load(dataset_dir: Path, name: str) -> np.ndarray:
    return decode_image((dataset_dir / name).read_bytes(), max_pixels=40_000_000)


@pytest.mark.parametrize(("name", "plate"), SAMPLE.items())
def test_reads_the_plate(
    engine: RecognitionEngine, dataset_dir: Path, name: str, plate: str
) -> None:
    result = engine.recognize(_load(dataset_dir, name), region=name.split("/", maxsplit=1)[0])
    assert result.plates, f"no plate found in {name}"
    best = result.plates[0]
    assert best.normalized == plate
    assert (best.at_edge, best.incomplete) == (False, False)
    assert len(best.char_confidences) == len(plate)
    assert 0.5 < best.confidence <= 1.0
    assert best.box.width > 0
    assert best.box.height > 0
    assert result.timings.total >= result.timings.detect > 0


def test_models_are_reported(engine: RecognitionEngine) -> None:
    assert engine.models["detector"].source == "embedded"
    assert engine.models["ocr"].source == "file"
    assert engine.models["ocr"].name


def test_format_and_region_of_a_brazilian_plate(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    best = engine.recognize(_load(dataset_dir, "br/AYO9034.jpg"), region="br").plates[0]
    assert (best.format, best.region) == ("br_old", "br")


def test_crops_are_jpeg(engine: RecognitionEngine, dataset_dir: Path) -> None:
    result = engine.recognize(_load(dataset_dir, "br/AYO9034.jpg"), crops=True)
    crop = result.plates[0].crop_jpeg
    assert crop is not None
    assert crop.startswith(b"\xff\xd8")
    assert engine.recognize(_load(dataset_dir, "br/AYO9034.jpg")).plates[0].crop_jpeg is None


def test_min_confidence_drops_plates(engine: RecognitionEngine, dataset_dir: Path) -> None:
    image = _load(dataset_dir, "br/AYO9034.jpg")
    assert engine.recognize(image, min_confidence=0.0).plates
    assert not engine.recognize(image, min_confidence=1.01).plates


def test_blank_image_has_no_plate(engine: RecognitionEngine) -> None:
    result = engine.recognize(np.full((600, 800, 3), 200, dtype=np.uint8))
    assert result.plates == ()
    assert (result.width, result.height) == (800, 600)


@pytest.fixture(scope="module")
def proposer() -> TextPlateProposer:
    """Load the embedded detector with its default looks."""
    return TextPlateProposer(embedded_model_dir() / "ch_PP-OCRv4_det_infer.onnx")


def _hits(proposals: list[DetectionResult] | None, dataset_dir: Path, name: str) -> bool:
    """Whether a proposal is centred on the labelled plate of `name`."""
    (truth,) = parse_labels((dataset_dir / name).with_suffix(".txt").read_text())
    box = truth.box
    return any(
        box.x1 <= (p.bounding_box.x1 + p.bounding_box.x2) / 2 <= box.x2
        and box.y1 <= (p.bounding_box.y1 + p.bounding_box.y2) / 2 <= box.y2
        for p in proposals or ()
    )


def test_looks_skip_what_an_earlier_look_saw(
    proposer: TextPlateProposer, dataset_dir: Path
) -> None:
    """A look that would enlarge an image to the size an earlier look did is skipped."""
    assert proposer.passes == len(proposer.settings.looks) == 4
    tiny = np.full((240, 320, 3), 127, dtype=np.uint8)  # every look enlarges it the most
    assert proposer.predict_pass(tiny, 0) == []
    assert proposer.predict_pass(tiny, 1) == []  # equalised: a different picture
    assert proposer.predict_pass(tiny, 2) is None
    assert proposer.predict_pass(tiny, 3) is None
    small = np.full((480, 640, 3), 127, dtype=np.uint8)  # each look enlarges it more
    assert all(proposer.predict_pass(small, index) == [] for index in range(4))
    big = _load(dataset_dir, "us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg")
    assert proposer.predict_pass(big, 2)


def _settled(engine: RecognitionEngine, settings: EngineSettings) -> RecognitionEngine:
    """Return the engine's detector and OCR with other engine settings."""
    return RecognitionEngine(engine.detector, engine.ocr, engine.models, settings)


def _proposing(engine: RecognitionEngine, settings: ProposalSettings) -> RecognitionEngine:
    """Put the engine's OCR behind an embedded detector with other proposal settings."""
    detector = TextPlateProposer(
        embedded_model_dir() / "ch_PP-OCRv4_det_infer.onnx", settings=settings
    )
    return RecognitionEngine(detector, engine.ocr, engine.models)


def test_small_photo_is_enlarged_for_the_detector(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    """In a 600 x 400 snapshot the detector finds the plate only at twice the size."""
    image = _load(dataset_dir, "us/car5.jpg")
    native = _proposing(engine, ProposalSettings(max_upscale=1.0))
    assert "59CADI" not in [p.normalized for p in native.recognize(image, region="us").plates]
    assert engine.recognize(image, region="us").plates[0].normalized == "59CADI"


def test_finest_look_reads_what_the_others_miss(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    """A plate three looks can't find in a 2.3-megapixel photo, the fourth, finest one does."""
    image = _load(dataset_dir, "us/us5.jpg")
    three = _proposing(engine, ProposalSettings(looks=ProposalSettings().looks[:3]))
    assert "NEILDMND" not in [p.normalized for p in three.recognize(image, region="us").plates]
    assert engine.recognize(image, region="us").plates[0].normalized == "NEILDMND"


def test_equalised_look_finds_a_faint_plate(proposer: TextPlateProposer, dataset_dir: Path) -> None:
    """A plate in flat light that the plain look misses at the same scale, CLAHE brings out."""
    name = "us/wts-lg-000018.jpg"
    image = _load(dataset_dir, name)
    assert not _hits(proposer.predict_pass(image, 0), dataset_dir, name)
    assert _hits(proposer.predict_pass(image, 1), dataset_dir, name)


class _CountingProposer(TextPlateProposer):
    """The real detector, recording which looks the engine asks for."""

    def __init__(self, model_path: Path) -> None:
        super().__init__(model_path)
        self.taken: list[int] = []

    def predict_pass(self, frame: np.ndarray, index: int) -> list[DetectionResult] | None:
        self.taken.append(index)
        return super().predict_pass(frame, index)


def test_engine_stops_at_the_first_convincing_look(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    """An easy plate costs one look; an image without one is looked at every way there is."""
    counting = _CountingProposer(embedded_model_dir() / "ch_PP-OCRv4_det_infer.onnx")
    looking = RecognitionEngine(counting, engine.ocr, engine.models)
    result = looking.recognize(_load(dataset_dir, "br/AYO9034.jpg"), region="br")
    assert [p.normalized for p in result.plates] == ["AYO9034"]
    assert counting.taken == [0]
    counting.taken.clear()
    blank = np.full((720, 1280, 3), 90, dtype=np.uint8)
    assert looking.recognize(blank).plates == ()
    assert counting.taken == [0, 1, 2, 3]


def test_faint_plate_is_read_through_the_looks(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    """End to end: the engine reads the faint plate the first look can't see."""
    result = engine.recognize(_load(dataset_dir, "us/wts-lg-000018.jpg"), region="us")
    assert result.plates[0].normalized == "CG2H2U"


def test_second_plates_need_a_confident_read(engine: RecognitionEngine, dataset_dir: Path) -> None:
    """A weak extra read (a sign, a sticker) is not reported as a second vehicle."""
    image = _load(dataset_dir, "us/22e54a62-57a8-4a0a-88c1-4b9758f67651.jpg")
    strict = engine.recognize(image)
    lenient = _settled(
        engine, EngineSettings(second_plate_confidence=0.0, surround=(0.0, 0.0))
    ).recognize(image)
    assert [p.normalized for p in strict.plates] == ["SL7C6S"]
    assert len(lenient.plates) > 1
    assert all(p.confidence >= 0.9 for p in strict.plates[1:])


def test_text_cut_by_the_frame_does_not_end_the_search(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    """A confident read of text cut off by the frame's left edge is no reason to stop looking."""
    image = _load(dataset_dir, "us/car22.jpg")
    anywhere = _settled(engine, EngineSettings(edge_margin=0.0))
    cut_off = anywhere.recognize(image, region="us").plates[0]
    assert (cut_off.normalized, cut_off.box.x1) == ("6F1A", 0)
    assert [p.normalized for p in engine.recognize(image, region="us").plates] == ["CH0P8Y"]


def test_a_camera_timestamp_is_not_a_vehicle(engine: RecognitionEngine, dataset_dir: Path) -> None:
    """The date a CCTV camera draws in its corner neither stops the search nor gets reported."""
    image = _load(dataset_dir, "us/wts-lg-000047.jpg")  # "2014-05-09" in two corners
    anywhere = _settled(engine, EngineSettings(edge_margin=0.0))
    assert anywhere.recognize(image, region="us").plates[0].normalized == "2014050"
    assert [p.normalized for p in engine.recognize(image, region="us").plates] == ["CLT0108"]


def test_a_plate_at_the_frame_edge_is_still_read(
    engine: RecognitionEngine, dataset_dir: Path
) -> None:
    """The edge rule only stops a read from ending the search; the best read is reported."""
    image = _load(dataset_dir, "br/AYO9034.jpg")
    (truth,) = parse_labels((dataset_dir / "br/AYO9034.txt").read_text())
    cropped = np.ascontiguousarray(image[: truth.box.y2 + 2])  # the plate at the bottom edge
    best = engine.recognize(cropped, region="br").plates[0]
    assert best.normalized == "AYO9034"
    assert best.box.y2 > cropped.shape[0] * (1 - engine.settings.edge_margin)
    # Read whole here, but the frame might have cut it: the answer says so.
    assert (best.at_edge, best.incomplete) == (True, True)


def test_pluggable_into_fast_alpr(models_dir: Path, dataset_dir: Path) -> None:
    """The detector and OCR are fast-alpr BaseDetector/BaseOCR: fast_alpr.ALPR runs them."""
    alpr = ALPR(
        detector=TextPlateProposer(
            embedded_model_dir() / "ch_PP-OCRv4_det_infer.onnx", settings=ProposalSettings()
        ),
        ocr=PlateOCR(
            models_dir / "cct_xs_v1_global.onnx", models_dir / "cct_xs_v1_global_plate_config.yaml"
        ),
    )
    results = alpr.predict(_load(dataset_dir, "br/AYO9034.jpg"))
    texts = {r.ocr.text for r in results if r.ocr is not None}
    assert "AYO9034" in texts
    assert alpr.ocr.predict(np.zeros((0, 0, 3), dtype=np.uint8)) is None


def test_embedded_text_recogniser_reads_a_plate(dataset_dir: Path) -> None:
    """The fallback OCR that needs no plate model still reads a clear plate."""
    models = embedded_model_dir()
    engine = RecognitionEngine(
        TextPlateProposer(models / "ch_PP-OCRv4_det_infer.onnx"),
        TextLineOCR(models / "ch_PP-OCRv4_rec_infer.onnx"),
        {},
    )
    result = engine.recognize(_load(dataset_dir, "br/AYO9034.jpg"), region="br")
    assert result.plates[0].normalized == "AYO9034"
    assert result.plates[0].alternatives == ()  # one confidence per line, no probabilities
    assert engine.ocr.read_batch([]) == []


def test_tilted_plate_is_also_read_levelled(engine: RecognitionEngine, dataset_dir: Path) -> None:
    """A plate a few degrees off level loses its first letter read upright; levelled, it doesn't."""
    image = _load(dataset_dir, "br/PJT2905.jpg")
    upright = _settled(engine, EngineSettings(level_from=math.pi))
    assert upright.recognize(image, region="br").plates[0].normalized != "PJT2905"
    assert engine.recognize(image, region="br").plates[0].normalized == "PJT2905"


class _CountingOCR(BatchOCR):
    """The real OCR, recording how many crops each batch held."""

    def __init__(self, ocr: BatchOCR) -> None:
        self._ocr = ocr
        self.name = ocr.name
        self.batches: list[int] = []

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[OcrRead]:
        self.batches.append(len(crops))
        return self._ocr.read_batch(crops)


def test_a_certain_read_is_not_read_again(engine: RecognitionEngine, dataset_dir: Path) -> None:
    """Other crops are cut only when the best read leaves room for doubt."""
    counting = _CountingOCR(engine.ocr)
    reading = RecognitionEngine(engine.detector, counting, engine.models)
    clear = reading.recognize(_load(dataset_dir, "br/HPM9362.jpg"), region="br")
    assert clear.plates[0].normalized == "HPM9362"
    assert min(clear.plates[0].char_confidences) >= reading.settings.certain
    assert len(counting.batches) == 1
    counting.batches.clear()
    # This plate touches the frame's edge, which would take every look (`edge_margin`).
    one_look = RecognitionEngine(
        engine.detector, counting, engine.models, EngineSettings(edge_margin=0.0)
    )
    tilted = one_look.recognize(_load(dataset_dir, "br/PJT2905.jpg"), region="br")
    assert tilted.plates[0].normalized == "PJT2905"
    assert len(counting.batches) == 2


@pytest.fixture(scope="module")
def fused_engine(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RecognitionEngine:
    """Build the default pipeline: embedded detector, both pinned OCR models fused."""
    config = ServiceConfig(
        detector="embedded",
        model_dir=tmp_path_factory.mktemp("models"),
        bundled_model_dir=models_dir,
        allow_download=False,
    )
    built = create_engine(config)
    built.warm_up()
    return built


def test_default_pipeline_fuses_both_ocr_models(
    fused_engine: RecognitionEngine, dataset_dir: Path
) -> None:
    assert fused_engine.models["ocr"].name == "cct-xs-v1-global-model+cct-xs-v2-global-model"
    assert fused_engine.models["ocr"].source == "hub"
    for name, plate in SAMPLE.items():
        result = fused_engine.recognize(_load(dataset_dir, name), region=name.split("/")[0])
        best = result.plates[0]
        assert best.normalized == plate, name
        # Each character's likeliest readings, from the fused rows, best first.
        assert len(best.alternatives) == len(plate)
        for char, confidence, options in zip(
            plate, best.char_confidences, best.alternatives, strict=True
        ):
            # The reported character first; on these clear plates also the likeliest.
            assert options[0][0] == char
            probabilities = [p for _, p in options]
            assert len(options) == 3
            assert probabilities == sorted(probabilities, reverse=True)
            assert 0.0 <= sum(probabilities) <= 1.0 + 1e-5
            if name.startswith("br/"):
                assert options[0][1] == pytest.approx(confidence)
    # On US plates O is read as 0, so the two are one alternative with their summed
    # probability: the OCR read this plate's first character as O.
    us = fused_engine.recognize(
        _load(dataset_dir, "us/12c6cb72-3ea3-49e7-b381-e0cdfc5e8960.jpg"), region="us"
    ).plates[0]
    assert (us.text[0], us.normalized[0]) == ("O", "0")
    first = dict(us.alternatives[0])
    assert "O" not in first
    assert first["0"] > us.char_confidences[0] > 0.9


def _rows(text: str, **extra: dict[str, float]) -> OcrRead:
    """Make an OCR read of `text`: 0.9 on each character, or `extra["at<position>"]`."""
    probs = np.full((len(text), len(ALPHABET)), 0.0, np.float32)
    for position, char in enumerate(text):
        for symbol, p in extra.get(f"at{position}", {char: 0.9}).items():
            probs[position, ALPHABET.index(symbol)] = p
    probs[:, ALPHABET.index("_")] = 1.0 - probs.sum(axis=1)
    return OcrRead(text, tuple(float(r.max()) for r in probs), probs, ALPHABET)


def _rounded(options: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    return tuple((char, round(p, 4)) for char, p in options)


def test_alternatives_follow_the_reported_plate() -> None:
    """A format's correction leads its position's list; the image's own reading follows."""
    read = _rows("AYOO034", at3={"O": 0.6, "0": 0.3, "D": 0.05})
    match = match_format(read.text, "br", char_probs=read.char_probs, alphabet=read.alphabet)
    assert match is not None
    assert match.text == "AYO0034"
    options = alternatives(match.text, read, reading_rules("br"))
    assert [o[0][0] for o in options] == list("AYO0034")
    assert _rounded(options[3]) == (("0", 0.3), ("O", 0.6), ("D", 0.05))
    # The padding symbol is never an alternative.
    assert all(c != "_" for o in options for c, _ in o)


def test_alternatives_merge_what_the_region_reads_as_one() -> None:
    read = _rows("0SG719", at0={"O": 0.7, "0": 0.2, "D": 0.05})
    folded = alternatives("0SG719", read, reading_rules("us"))
    assert _rounded(folded[0]) == (("0", 0.9), ("D", 0.05), ("1", 0.0))
    plain = alternatives("OSG719", read, reading_rules(None))
    assert _rounded(plain[0]) == (("O", 0.7), ("0", 0.2), ("D", 0.05))


def test_alternatives_need_probabilities_that_line_up() -> None:
    assert alternatives("AB12", OcrRead("AB12", (0.9,) * 4), {}) == ()
    assert alternatives("AB123", _rows("AB12"), {}) == ()


@pytest.mark.parametrize(
    ("text", "region", "short"),
    [
        ("AYO903", "br", True),
        ("AYO9034", "br", False),
        ("ABC12", "nz", True),
        ("AB12", "us", False),
        ("AB12", "uk", False),
        ("AB12", None, False),
    ],
)
def test_reads_shorter_than_every_format_are_incomplete(
    text: str, region: str | None, short: bool
) -> None:
    assert _shorter_than_formats(text, region) is short
