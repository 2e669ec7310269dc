"""What models exist: the embedded, pinned hub and custom files, and what resolving gives.

Part of `models` (see there for how a source is chosen); everything here is data and lookups,
nothing is downloaded or loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .results import ModelInfo


DetectorKind = Literal["yolo_v9", "ppocr_det"]


OcrKind = Literal["plate_ocr", "ppocr_rec"]


EMBEDDED_DETECTOR_FILE = "ch_PP-OCRv4_det_infer.onnx"


EMBEDDED_OCR_FILE = "ch_PP-OCRv4_rec_infer.onnx"


EMBEDDED_DETECTOR_NAME = "ppocr-v4-det"


EMBEDDED_OCR_NAME = "ppocr-v4-rec"


RAPIDOCR_PIP = "pip install --no-deps --ignore-requires-python rapidocr_onnxruntime==1.4.4"


CUSTOM_DETECTOR_FILE = "detector.onnx"


CUSTOM_OCR_FILE = "ocr.onnx"


CUSTOM_OCR_CONFIG_FILE = "ocr_plate_config.yaml"


PLATE_CONFIG_SUFFIX = "_plate_config.yaml"


# Keys fast-plate-ocr's PlateConfig cannot do without, and the type each must have.
PLATE_CONFIG_KEYS: dict[str, type] = {
    "max_plate_slots": int,
    "alphabet": str,
    "pad_char": str,
    "img_height": int,
    "img_width": int,
}


@dataclass(frozen=True, slots=True)
class PinnedOcrModel:
    """A plate OCR model this project measured, pinned to the exact files it measured.

    The ONNX file is pinned by its SHA-256: a download that doesn't match is refused before it
    is stored, and a copy on disk is used only if it matches. The plate config is pinned by
    the values the engine decodes with, not its bytes (comments and key order don't matter;
    a changed alphabet or slot count does).
    """

    name: str
    onnx_url: str
    sha256: str
    size: int
    plate_config_url: str
    plate_config: dict[str, Any]

    @property
    def onnx_file(self) -> str:
        """The ONNX file's name, the same in every folder and on every mirror."""
        return self.onnx_url.rsplit("/", 1)[-1]

    @property
    def plate_config_file(self) -> str:
        """The plate config's file name."""
        return self.plate_config_url.rsplit("/", 1)[-1]


_RELEASES = "https://github.com/ankandrew/cnn-ocr-lp/releases/download/arg-plates"


_LATIN_37 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"


def _plate_config(slots: int) -> dict[str, Any]:
    return {
        "max_plate_slots": slots,
        "alphabet": _LATIN_37,
        "pad_char": "_",
        "img_height": 64,
        "img_width": 128,
        "keep_aspect_ratio": False,
        "image_color_mode": "rgb",
    }


PINNED_OCR_MODELS: dict[str, PinnedOcrModel] = {
    pin.name: pin
    for pin in (
        PinnedOcrModel(
            name="cct-xs-v1-global-model",
            onnx_url=f"{_RELEASES}/cct_xs_v1_global.onnx",
            sha256="c1ae2ae031b10f8ab7ed6e3cdaf8d9c753477e299dbad3579c8f705a7d882134",
            size=2113942,
            plate_config_url=f"{_RELEASES}/cct_xs_v1_global_plate_config.yaml",
            plate_config=_plate_config(9),
        ),
        PinnedOcrModel(
            name="cct-xs-v2-global-model",
            onnx_url=f"{_RELEASES}/cct_xs_v2_global.onnx",
            sha256="8031afb5fdc6b4d80462c9d542f1284ebd2cfddf5dbacd62609848d7e2855f44",
            size=3344292,
            plate_config_url=f"{_RELEASES}/cct_xs_v2_global_plate_config.yaml",
            plate_config=_plate_config(10),
        ),
    )
}
"""The OCR models of the measured pipeline (fast-plate-ocr's releases, MIT licence)."""


PINNED_ONNX = {pin.onnx_file: pin for pin in PINNED_OCR_MODELS.values()}


PINNED_CONFIGS = {pin.plate_config_file: pin for pin in PINNED_OCR_MODELS.values()}


FUSED_SEPARATOR = "+"
"""`hub_ocr_model` may name several models joined by this: their reads are fused."""


class ModelUnavailableError(RuntimeError):
    """A model a stage needs cannot be used.

    The message names the model, where it was looked for and exactly how to provide it.
    """


@dataclass(frozen=True, slots=True)
class DetectorFiles:
    """The plate detector's model file and how the engine must run it."""

    kind: DetectorKind
    path: Path
    info: ModelInfo


@dataclass(frozen=True, slots=True)
class OcrFiles:
    """The OCR model file, its fast-plate-ocr plate config (plate OCR only) and its kind."""

    kind: OcrKind
    path: Path
    config_path: Path | None
    info: ModelInfo


@dataclass(frozen=True, slots=True)
class ResolvedModels:
    """Both stages' files plus the human-readable decisions taken, logged at startup."""

    detector: DetectorFiles
    ocr: OcrFiles
    notes: tuple[str, ...]
    fused_ocr: tuple[OcrFiles, ...] = ()
    """Further plate OCR models whose reads are fused with `ocr`'s (`hub_ocr_model` a+b)."""


def embedded_model_dir() -> Path:
    """Return rapidocr_onnxruntime's `models` folder (the PP-OCRv4 det/rec ONNX files).

    The package is located with `importlib.util.find_spec`, which does not import it: its
    `__init__` pulls in OpenCV and onnxruntime sessions we don't need here.
    """
    try:
        spec = importlib.util.find_spec("rapidocr_onnxruntime")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise ModelUnavailableError(
            "the embedded PP-OCRv4 models come with the rapidocr_onnxruntime package, which is "
            f"not installed; install it with: {RAPIDOCR_PIP}"
        )
    return Path(locations[0]) / "models"


def hub_detector_models() -> dict[str, str]:
    """Return open-image-models' licence-plate detectors: name -> ONNX download URL."""
    from open_image_models.detection.core.hub import DETECTION_MODELS  # noqa: PLC0415

    # The registry also holds generic COCO detectors (RF-DETR); only the YOLOv9 end2end
    # models are licence-plate detectors with the output layout the engine expects.
    return {
        str(name): str(spec.url)
        for name, spec in DETECTION_MODELS.items()
        if spec.backend == "yolo_v9"
    }


def hub_ocr_models() -> dict[str, tuple[str, str]]:
    """Return fast-plate-ocr's OCR models: name -> (ONNX URL, plate config YAML URL)."""
    from fast_plate_ocr.inference.hub import AVAILABLE_ONNX_MODELS  # noqa: PLC0415

    models = {
        str(name): (str(urls[0]), str(urls[1])) for name, urls in AVAILABLE_ONNX_MODELS.items()
    }
    # The measured models come from the URLs pinned here, whatever the installed registry says.
    models.update({p.name: (p.onnx_url, p.plate_config_url) for p in PINNED_OCR_MODELS.values()})
    return models
