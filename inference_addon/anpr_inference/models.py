"""Decide which model files the detector and the OCR stage use, downloading them when allowed.

Each stage is resolved on its own from `ServiceConfig` (`auto`, `hub`, `file` or `embedded`):

- `file`: the user's own ONNX files, from an explicit path or `<model_dir>/custom/`.
- `hub`: fast-alpr's default models (open-image-models' YOLOv9 plate detector and
  fast-plate-ocr's plate OCR), kept in `<model_dir>/hub/` next to a sidecar `<file>.json`
  holding the size and SHA-256 recorded after a verified download. A file without a matching
  sidecar is never trusted, so an interrupted or corrupted download is fetched again rather
  than crashing the engine later.
- `embedded`: the PP-OCRv4 text detector and recogniser that ship inside the
  `rapidocr_onnxruntime` package, so the service works with no network and no user files.
- `auto`: the user's files if present, else the hub files already downloaded, else a hub
  download (when `allow_download`), else the embedded models; every fallback is explained in
  `ResolvedModels.notes` together with how to get the better model.

Resolution runs synchronously before the server starts, so downloads use `urllib` from the
standard library. Nothing here loads a model for inference; that is the engine's job.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .model_catalog import (
    CUSTOM_DETECTOR_FILE,
    CUSTOM_OCR_CONFIG_FILE,
    CUSTOM_OCR_FILE,
    EMBEDDED_DETECTOR_FILE,
    EMBEDDED_OCR_FILE,
    FUSED_SEPARATOR,
    PINNED_OCR_MODELS,
    PLATE_CONFIG_SUFFIX,
    DetectorFiles,
    ModelUnavailableError,
    OcrFiles,
    ResolvedModels,
    embedded_model_dir,
    hub_detector_models,
    hub_ocr_models,
)
from .model_download import DownloadError, download_file
from .model_files import (
    check_pin,
    effective_url,
    file_name,
    is_verified,
    validate_plate_config,
    verify_download,
)
from .model_sources import detector_stage, ocr_stage, resolve

if TYPE_CHECKING:
    from pathlib import Path

    from .config import ServiceConfig

__all__ = [
    "EMBEDDED_DETECTOR_FILE",
    "EMBEDDED_OCR_FILE",
    "PINNED_OCR_MODELS",
    "DetectorFiles",
    "DownloadError",
    "ModelUnavailableError",
    "OcrFiles",
    "ResolvedModels",
    "check_pin",
    "download_file",
    "embedded_model_dir",
    "fetch_pinned_models",
    "hub_detector_models",
    "hub_ocr_models",
    "is_verified",
    "resolve_models",
    "validate_plate_config",
]
"""What the rest of the service uses; the parts live in `model_catalog` (what exists),
`model_sources` (the policy), `model_files` (files on disk) and `model_download`."""

_LOGGER = logging.getLogger(__name__)


def resolve_models(config: ServiceConfig) -> ResolvedModels:
    """Pick the model files of both stages, downloading hub models if needed and allowed.

    Raises `ModelUnavailableError` when a stage has no usable model (or a configured file is
    broken); the message tells the user how to fix it.
    """
    model_dir = config.model_dir.expanduser().absolute()
    _check_layout(config, model_dir)
    notes: list[str] = []
    detector = resolve(detector_stage(config, model_dir), notes)
    first, *others = config.hub_ocr_model.split(FUSED_SEPARATOR)
    ocr = resolve(ocr_stage(config, model_dir, first), notes)
    fused: list[OcrFiles] = []
    own_file = ocr.kind == "plate_ocr" and ocr.info.name != first
    if others and not own_file and config.ocr != "embedded":
        # The user's own OCR file stands alone; otherwise every named model that resolves
        # to a plate OCR model joins the fusion, and one that can't be had is left out with
        # a note (in `auto`), so the service still starts with what it has.
        for name in others:
            member = resolve(ocr_stage(config, model_dir, name, own_files=False), notes)
            if member.kind != "plate_ocr":
                continue
            if ocr.kind != "plate_ocr":
                ocr = member
            else:
                fused.append(member)
    for note in notes:
        _LOGGER.debug("model resolution: %s", note)
    return ResolvedModels(detector=detector, ocr=ocr, notes=tuple(notes), fused_ocr=tuple(fused))


def _check_layout(config: ServiceConfig, model_dir: Path) -> None:
    """Refuse a model folder holding ONNX files at its top, where none are ever looked for.

    Otherwise a user who pointed `model_dir` at their model files would silently get the
    default models, or the embedded fallback. Files named by `detector_path` or `ocr_path`
    are in use wherever they lie.
    """
    named = {
        p.expanduser().absolute() for p in (config.detector_path, config.ocr_path) if p is not None
    }
    try:
        stray = sorted(p.name for p in model_dir.glob("*.onnx") if p.absolute() not in named)
    except OSError:
        return
    if stray:
        raise ModelUnavailableError(
            f"model_dir {model_dir} holds {', '.join(stray)} at its top, where no model is "
            f"looked for. The layout is: {model_dir / 'custom'}/ for your own files "
            f"({CUSTOM_DETECTOR_FILE}; {CUSTOM_OCR_FILE} with {CUSTOM_OCR_CONFIG_FILE}; or a "
            f"hub model's own file names, such as cct_xs_v1_global.onnx with "
            f"cct_xs_v1_global{PLATE_CONFIG_SUFFIX}), and {model_dir / 'hub'}/ for "
            "downloads. Move the files into custom/, or set detector_path / ocr_path."
        )


def fetch_pinned_models(config: ServiceConfig, into: Path) -> list[Path]:
    """Download the configured pinned OCR models into `into`, checked against their pins.

    For building an image that works with no network: the add-on's Dockerfile runs this (as
    `anpr-inference fetch-models`) into the folder its `bundled_model_dir` names. Files already
    there and matching their pin are kept. Raises `ModelUnavailableError` for a name that is
    not pinned (only measured models are baked in) or a download that fails or mismatches.
    """
    names = config.hub_ocr_model.split(FUSED_SEPARATOR)
    unpinned = [name for name in names if name not in PINNED_OCR_MODELS]
    if unpinned:
        raise ModelUnavailableError(
            f"OCR: {', '.join(unpinned)} is not pinned; only the measured models can be "
            f"fetched ahead ({', '.join(PINNED_OCR_MODELS)})."
        )
    target = into.expanduser().absolute()
    fetched: list[Path] = []
    for name in names:
        pin = PINNED_OCR_MODELS[name]
        for url in (pin.onnx_url, pin.plate_config_url):
            path = target / file_name(url)
            if not is_verified(path):
                effective = effective_url(url, config.model_base_url)
                try:
                    download_file(
                        effective,
                        path,
                        timeout=config.download_timeout,
                        expected_size=pin.size if url == pin.onnx_url else None,
                        expected_sha256=pin.sha256 if url == pin.onnx_url else None,
                    )
                    verify_download(path)
                except (DownloadError, ValueError) as err:
                    path.unlink(missing_ok=True)
                    raise ModelUnavailableError(
                        f"OCR: {name} could not be fetched from {effective}: {err}"
                    ) from None
            fetched.append(path)
    return fetched
