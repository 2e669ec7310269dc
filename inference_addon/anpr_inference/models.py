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

from dataclasses import dataclass
import errno
import hashlib
import http.client
import importlib.util
import json
import logging
import os
from pathlib import Path
import socket
import ssl
import tempfile
import time
from typing import TYPE_CHECKING, Any, Literal
import urllib.error
from urllib.parse import urlsplit
import urllib.request

import yaml

from . import __version__
from .results import ModelInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from .config import ServiceConfig

_LOGGER = logging.getLogger(__name__)

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
_PINNED_ONNX = {pin.onnx_file: pin for pin in PINNED_OCR_MODELS.values()}
_PINNED_CONFIGS = {pin.plate_config_file: pin for pin in PINNED_OCR_MODELS.values()}

FUSED_SEPARATOR = "+"
"""`hub_ocr_model` may name several models joined by this: their reads are fused."""

_CHUNK = 1024 * 1024
# Pause before the 2nd, 3rd, ... attempt of a download; the last value repeats.
_RETRY_DELAYS_S = (1.0, 3.0, 10.0)
_PERMANENT_HTTP_STATUSES = frozenset(range(400, 500)) - {408, 425, 429}
_NO_NETWORK_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}
)
_sleep = time.sleep  # tests replace it to skip the backoff pauses


class ModelUnavailableError(RuntimeError):
    """A model a stage needs cannot be used.

    The message names the model, where it was looked for and exactly how to provide it.
    """


class DownloadError(RuntimeError):
    """A file could not be downloaded; no partial file was left behind.

    `no_network` is set when the host could not be reached at all (name resolution failed,
    connection refused, network unreachable), which is not worth retrying.
    """

    def __init__(self, message: str, *, url: str, no_network: bool = False) -> None:
        """Store the URL and whether the network was missing altogether."""
        super().__init__(message)
        self.url = url
        self.no_network = no_network


class _RetryableError(Exception):
    """One download attempt failed in a way another attempt may fix."""


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


class _HubUnavailable(Exception):  # noqa: N818 - internal signal, not an error for callers
    """The hub model is neither cached nor downloadable; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Public entry point


def resolve_models(config: ServiceConfig) -> ResolvedModels:
    """Pick the model files of both stages, downloading hub models if needed and allowed.

    Raises `ModelUnavailableError` when a stage has no usable model (or a configured file is
    broken); the message tells the user how to fix it.
    """
    model_dir = config.model_dir.expanduser().absolute()
    _check_layout(config, model_dir)
    notes: list[str] = []
    detector = _resolve(_detector_stage(config, model_dir), notes)
    first, *others = config.hub_ocr_model.split(FUSED_SEPARATOR)
    ocr = _resolve(_ocr_stage(config, model_dir, first), notes)
    fused: list[OcrFiles] = []
    own_file = ocr.kind == "plate_ocr" and ocr.info.name != first
    if others and not own_file and config.ocr != "embedded":
        # The user's own OCR file stands alone; otherwise every named model that resolves
        # to a plate OCR model joins the fusion, and one that can't be had is left out with
        # a note (in `auto`), so the service still starts with what it has.
        for name in others:
            member = _resolve(_ocr_stage(config, model_dir, name, own_files=False), notes)
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
            path = target / _file_name(url)
            if not is_verified(path):
                effective = _effective_url(url, config.model_base_url)
                try:
                    download_file(
                        effective,
                        path,
                        timeout=config.download_timeout,
                        expected_size=pin.size if url == pin.onnx_url else None,
                        expected_sha256=pin.sha256 if url == pin.onnx_url else None,
                    )
                    _verify_download(path)
                except (DownloadError, ValueError) as err:
                    path.unlink(missing_ok=True)
                    raise ModelUnavailableError(
                        f"OCR: {name} could not be fetched from {effective}: {err}"
                    ) from None
            fetched.append(path)
    return fetched


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


# --------------------------------------------------------------------------------------------
# The source policy, the same for both stages


@dataclass(frozen=True, slots=True)
class _Stage[Files, Urls]:
    """One stage's way to each source of its model, for `_resolve`."""

    label: str
    """How messages name the stage."""
    source: str
    """The configured source: auto, hub, file or embedded."""
    hub_model: str
    fallback: str
    """What `auto` falls back to, in words, for the note saying so."""
    embedded: Callable[[], Files]
    local: Callable[[bool], Files | None]
    """The user's own file (True) or only the hub model copied by hand (False), if present."""
    no_local_message: Callable[[], str]
    hub_urls: Callable[[], Urls]
    hub: Callable[[Urls], Files]
    """The hub model, cached or downloaded; raises `_HubUnavailable`."""
    guidance: Callable[[Urls, bool], str]
    """How to provide the hub model by hand (only that, when True)."""
    auto_hub: bool = True
    """Whether `auto` takes the hub model; False: only the `hub` source does (opt-in)."""


def _resolve[Files, Urls](stage: _Stage[Files, Urls], notes: list[str]) -> Files:
    """Pick a stage's model by its configured source.

    `auto` takes the user's own file, else the hub model, else the embedded one with a note
    saying why; `hub` and `file` never fall back, so a user who asked for them learns what is
    missing instead of silently getting a weaker model.
    """
    if stage.source == "embedded":
        return stage.embedded()
    if stage.source == "file":
        found = stage.local(True)
        if found is None:
            raise ModelUnavailableError(stage.no_local_message())
        return found
    if stage.source == "hub":
        urls = stage.hub_urls()
        found = stage.local(False)
        if found is not None:
            return found
        try:
            return stage.hub(urls)
        except _HubUnavailable as err:
            raise ModelUnavailableError(
                f"{stage.label}: hub model {stage.hub_model} {err.reason}. "
                + stage.guidance(urls, True)
            ) from None

    # auto
    found = stage.local(True)
    if found is not None:
        return found
    if not stage.auto_hub:
        return stage.embedded()
    urls = stage.hub_urls()
    try:
        return stage.hub(urls)
    except _HubUnavailable as err:
        reason = err.reason
    guidance = stage.guidance(urls, False)
    try:
        embedded = stage.embedded()
    except ModelUnavailableError as err:
        raise ModelUnavailableError(
            f"{stage.label}: hub model {stage.hub_model} {reason}, and {err} {guidance}"
        ) from None
    notes.append(
        f"{stage.label}: hub model {stage.hub_model} {reason}; using {stage.fallback} {guidance}"
    )
    return embedded


# --------------------------------------------------------------------------------------------
# Detector


def _detector_stage(config: ServiceConfig, model_dir: Path) -> _Stage[DetectorFiles, str]:
    return _Stage(
        label="Detector",
        source=config.detector,
        hub_model=config.hub_detector_model,
        fallback="the embedded PP-OCRv4 text detector, which finds text rather than plates "
        "and is less accurate.",
        embedded=_embedded_detector,
        local=lambda user_files: _local_detector(config, model_dir, user_files=user_files),
        no_local_message=lambda: _no_local_detector_message(config, model_dir),
        hub_urls=lambda: _hub_detector_url(config),
        hub=lambda url: _hub_detector(config, model_dir, url),
        guidance=lambda url, hub_only: _detector_guidance(model_dir, url, hub_only=hub_only),
        # The hub's YOLOv9 detectors were never measured by this project, and their weights'
        # licence is unclear (trained with GPL-3.0 code): `detector: hub` only.
        auto_hub=False,
    )


def _local_detector(
    config: ServiceConfig, model_dir: Path, *, user_files: bool = True
) -> DetectorFiles | None:
    """Find a detector file the user provided.

    That is `detector_path`, else `<model_dir>/custom/detector.onnx`, else the configured hub
    model copied by hand into `<model_dir>/custom` (the only candidate when `user_files` is
    False, for the `hub` source).
    """
    custom = model_dir / "custom"
    candidates: list[tuple[Path, str]] = []
    if user_files:
        if config.detector_path is not None:
            path = config.detector_path.expanduser().absolute()
            _check_model_file(path, f"Detector: detector_path {path}")
            return _detector_files("yolo_v9", path, path.stem, "file")
        candidates.append(
            (custom / CUSTOM_DETECTOR_FILE, CUSTOM_DETECTOR_FILE.removesuffix(".onnx"))
        )
    url = hub_detector_models().get(config.hub_detector_model)
    if url is not None:
        # The hub model copied by hand, for machines that can't download it.
        candidates.append((custom / _file_name(url), config.hub_detector_model))
    for path, name in candidates:
        if path.exists():
            _check_model_file(path, f"Detector: {path}")
            return _detector_files("yolo_v9", path, name, "file")
    return None


def _hub_detector(config: ServiceConfig, model_dir: Path, url: str) -> DetectorFiles:
    (path,) = _hub_files(config, model_dir, [url])
    return _detector_files("yolo_v9", path, config.hub_detector_model, "hub")


def _embedded_detector() -> DetectorFiles:
    path = _embedded_file(EMBEDDED_DETECTOR_FILE)
    return _detector_files("ppocr_det", path, EMBEDDED_DETECTOR_NAME, "embedded")


def _hub_detector_url(config: ServiceConfig) -> str:
    models = hub_detector_models()
    url = models.get(config.hub_detector_model)
    if url is None:
        raise ModelUnavailableError(
            f"Detector: unknown hub model {config.hub_detector_model!r} "
            f"(hub_detector_model). Valid names: {', '.join(sorted(models))}."
        )
    return _effective_url(url, config.model_base_url)


def _detector_files(kind: DetectorKind, path: Path, name: str, source: str) -> DetectorFiles:
    return DetectorFiles(kind=kind, path=path, info=ModelInfo(name, source, str(path)))


def _detector_guidance(model_dir: Path, url: str, *, hub_only: bool) -> str:
    return (
        f"To use the plate detector offline, put {_file_name(url)} in {model_dir / 'custom'} "
        f"(download: {url}) or set detector_path{' with detector: file' if hub_only else ''}."
    )


def _no_local_detector_message(config: ServiceConfig, model_dir: Path) -> str:
    custom = model_dir / "custom"
    looked = [str(custom / CUSTOM_DETECTOR_FILE)]
    url = hub_detector_models().get(config.hub_detector_model)
    if url is not None:
        looked.append(str(custom / _file_name(url)))
    return (
        "Detector: source is 'file' but no detector model was found (detector_path is not "
        f"set; looked for {' and '.join(looked)}). Put a YOLOv9 end2end licence-plate ONNX "
        f"model at {custom / CUSTOM_DETECTOR_FILE} or set detector_path."
    )


# --------------------------------------------------------------------------------------------
# OCR


def _ocr_stage(
    config: ServiceConfig, model_dir: Path, name: str, *, own_files: bool = True
) -> _Stage[OcrFiles, tuple[str, str]]:
    """Build the stage of OCR model `name`.

    `own_files` False is a further model of a fusion: it ignores the user's own OCR file,
    and `auto` without it reads with the other models.
    """
    return _Stage(
        label="OCR",
        source=config.ocr,
        hub_model=name,
        fallback="the embedded PP-OCRv4 recogniser."
        if own_files
        else "the other OCR models without it (the fusion is off).",
        embedded=_embedded_ocr,
        local=lambda user_files: _local_ocr(
            config, model_dir, name, user_files=user_files and own_files
        ),
        no_local_message=lambda: _no_local_ocr_message(config, model_dir, name),
        hub_urls=lambda: _hub_ocr_urls(config, name),
        hub=lambda urls: _hub_ocr(config, model_dir, name, urls),
        guidance=lambda urls, hub_only: _ocr_guidance(model_dir, urls, hub_only=hub_only),
    )


def _local_ocr(
    config: ServiceConfig, model_dir: Path, hub_name: str, *, user_files: bool = True
) -> OcrFiles | None:
    """Find an OCR model the user provided, with its plate config.

    That is `ocr_path`, else `<model_dir>/custom/ocr.onnx`, else the configured hub model
    copied by hand into `<model_dir>/custom` (the only candidate when `user_files` is False,
    for the `hub` source).
    """
    custom = model_dir / "custom"
    candidates: list[tuple[Path, str, list[Path]]] = []
    if user_files:
        if config.ocr_path is not None:
            path = config.ocr_path.expanduser().absolute()
            _check_model_file(path, f"OCR: ocr_path {path}")
            return _plate_ocr_files(config, path, path.stem, model_dir, [])
        candidates.append((custom / CUSTOM_OCR_FILE, CUSTOM_OCR_FILE.removesuffix(".onnx"), []))
    urls = hub_ocr_models().get(hub_name)
    if urls is not None:
        # The hub model copied by hand, for machines that can't download it.
        candidates.append((custom / _file_name(urls[0]), hub_name, [custom / _file_name(urls[1])]))
    for path, name, extra_configs in candidates:
        if path.exists():
            _check_model_file(path, f"OCR: {path}")
            try:
                check_pin(path)
            except ValueError as err:
                raise ModelUnavailableError(
                    f"OCR: {path} carries the name of the pinned model {name} but {err}. "
                    f"Replace it with {_file_name(urls[0]) if urls else path.name} from "
                    f"{urls[0] if urls else 'its release'}, or give your own model another "
                    "name (ocr_path)."
                ) from None
            return _plate_ocr_files(config, path, name, model_dir, extra_configs)
    return None


def _plate_ocr_files(
    config: ServiceConfig, path: Path, name: str, model_dir: Path, extra_configs: list[Path]
) -> OcrFiles:
    """Pair a plate OCR ONNX file with its plate config and validate the config."""
    if config.ocr_config_path is not None:
        config_path = config.ocr_config_path.expanduser().absolute()
        if not config_path.is_file():
            raise ModelUnavailableError(
                f"OCR: ocr_config_path {config_path} does not exist or is not a file."
            )
    else:
        candidates = [
            path.with_name(path.stem + PLATE_CONFIG_SUFFIX),
            *extra_configs,
            model_dir / "custom" / CUSTOM_OCR_CONFIG_FILE,
        ]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            looked = ", ".join(str(c) for c in dict.fromkeys(candidates))
            raise ModelUnavailableError(
                f"OCR: no plate config found for {path} (looked for {looked}). Put the "
                "fast-plate-ocr plate config YAML that belongs to the model next to it as "
                f"{path.stem}{PLATE_CONFIG_SUFFIX}, or set ocr_config_path."
            )
        config_path = found
    validate_plate_config(config_path)
    return OcrFiles(
        kind="plate_ocr",
        path=path,
        config_path=config_path,
        info=ModelInfo(name, "file", str(path)),
    )


def _hub_ocr(config: ServiceConfig, model_dir: Path, name: str, urls: tuple[str, str]) -> OcrFiles:
    onnx_path, config_path = _hub_files(config, model_dir, list(urls))
    return OcrFiles(
        kind="plate_ocr",
        path=onnx_path,
        config_path=config_path,
        info=ModelInfo(name, "hub", str(onnx_path)),
    )


def _embedded_ocr() -> OcrFiles:
    path = _embedded_file(EMBEDDED_OCR_FILE)
    return OcrFiles(
        kind="ppocr_rec",
        path=path,
        config_path=None,
        info=ModelInfo(EMBEDDED_OCR_NAME, "embedded", str(path)),
    )


def _hub_ocr_urls(config: ServiceConfig, name: str) -> tuple[str, str]:
    models = hub_ocr_models()
    urls = models.get(name)
    if urls is None:
        raise ModelUnavailableError(
            f"OCR: unknown hub model {name!r} (hub_ocr_model). "
            f"Valid names: {', '.join(sorted(models))}."
        )
    return (
        _effective_url(urls[0], config.model_base_url),
        _effective_url(urls[1], config.model_base_url),
    )


def _ocr_guidance(model_dir: Path, urls: tuple[str, str], *, hub_only: bool) -> str:
    onnx, plate_config = (_file_name(u) for u in urls)
    return (
        f"To use the plate OCR model offline, put {onnx} and {plate_config} in "
        f"{model_dir / 'custom'} (download: {urls[0]} and {urls[1]}) or set ocr_path"
        f"{' with ocr: file' if hub_only else ''}."
    )


def _no_local_ocr_message(config: ServiceConfig, model_dir: Path, name: str) -> str:
    custom = model_dir / "custom"
    looked = [str(custom / CUSTOM_OCR_FILE)]
    urls = hub_ocr_models().get(name)
    if urls is not None:
        looked.append(str(custom / _file_name(urls[0])))
    return (
        "OCR: source is 'file' but no OCR model was found (ocr_path is not set; looked for "
        f"{' and '.join(looked)}). Put a fast-plate-ocr ONNX model at "
        f"{custom / CUSTOM_OCR_FILE} with its plate config at "
        f"{custom / CUSTOM_OCR_CONFIG_FILE}, or set ocr_path (and ocr_config_path)."
    )


def validate_plate_config(path: Path) -> dict[str, Any]:
    """Check that `path` is a fast-plate-ocr plate config the engine can load; return it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ModelUnavailableError(f"OCR: cannot read plate config {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ModelUnavailableError(f"OCR: plate config {path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ModelUnavailableError(
            f"OCR: plate config {path} must be a YAML mapping with the keys "
            f"{', '.join(PLATE_CONFIG_KEYS)}."
        )
    missing = [key for key in PLATE_CONFIG_KEYS if key not in data]
    if missing:
        raise ModelUnavailableError(
            f"OCR: plate config {path} lacks {', '.join(missing)}; is it a fast-plate-ocr "
            "plate config?"
        )
    for key, kind in PLATE_CONFIG_KEYS.items():
        value = data[key]
        if kind is int and not (
            isinstance(value, int) and not isinstance(value, bool) and value > 0
        ):
            raise ModelUnavailableError(
                f"OCR: plate config {path}: {key} must be a positive integer, got {value!r}."
            )
        if kind is str and not (isinstance(value, str) and value):
            raise ModelUnavailableError(
                f"OCR: plate config {path}: {key} must be a non-empty string, got {value!r}."
            )
    if len(data["pad_char"]) != 1 or data["pad_char"] not in data["alphabet"]:
        raise ModelUnavailableError(
            f"OCR: plate config {path}: pad_char must be one character of the alphabet."
        )
    # The engine loads it with fast-plate-ocr's own parser, which rejects unknown keys.
    from fast_plate_ocr.inference.config import PlateConfig  # noqa: PLC0415

    try:
        PlateConfig(**data)
    except TypeError as err:
        raise ModelUnavailableError(
            f"OCR: plate config {path} is not accepted by fast-plate-ocr: {err}"
        ) from err
    return data


# --------------------------------------------------------------------------------------------
# Files on disk


def _embedded_file(name: str) -> Path:
    path = embedded_model_dir() / name
    if not path.is_file() or path.stat().st_size == 0:
        raise ModelUnavailableError(
            f"the embedded model {path} is missing from the rapidocr_onnxruntime package; "
            f"reinstall it with: {RAPIDOCR_PIP}"
        )
    return path


def _check_model_file(path: Path, what: str) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ModelUnavailableError(f"{what} does not exist.") from None
    except OSError as err:
        raise ModelUnavailableError(f"{what} cannot be read: {err}") from err
    if not path.is_file():
        raise ModelUnavailableError(f"{what} is not a file.")
    if size == 0:
        raise ModelUnavailableError(f"{what} is empty.")


def _file_name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def _effective_url(url: str, base_url: str | None) -> str:
    """Point `url` at the configured mirror, keeping only its file name."""
    if not base_url:
        return url
    return f"{base_url.rstrip('/')}/{_file_name(url)}"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_pin(path: Path) -> None:
    """Raise ValueError when `path` is a pinned model's file (by name) but not its content."""
    pin = _PINNED_ONNX.get(path.name)
    if pin is not None:
        digest = _sha256(path)
        if digest != pin.sha256:
            raise ValueError(f"its SHA-256 is {digest}, not the {pin.sha256} pinned for {pin.name}")
    config_pin = _PINNED_CONFIGS.get(path.name)
    if config_pin is not None:
        try:
            data = validate_plate_config(path)
        except ModelUnavailableError as err:
            raise ValueError(str(err)) from err
        from fast_plate_ocr.inference.config import PlateConfig  # noqa: PLC0415

        # Compared as fast-plate-ocr reads them, its defaults included.
        loaded = PlateConfig(**data)
        wrong = {
            key: getattr(loaded, key)
            for key, value in config_pin.plate_config.items()
            if getattr(loaded, key) != value
        }
        if wrong:
            raise ValueError(
                f"its values {wrong} differ from those pinned for {config_pin.name} "
                f"({ {key: config_pin.plate_config[key] for key in wrong} })"
            )


def is_verified(path: Path) -> bool:
    """Return True when `path` can be trusted as a hub file.

    A pinned model's file must match its pin (no sidecar needed, so a read-only folder baked
    into an image works); any other hub file must match the size and SHA-256 in its download
    sidecar.
    """
    if path.name in _PINNED_ONNX or path.name in _PINNED_CONFIGS:
        try:
            check_pin(path)
        except (OSError, ValueError):
            return False
        return True
    try:
        meta = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        size = path.stat().st_size
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict) or meta.get("size") != size or size == 0:
        return False
    try:
        return bool(meta.get("sha256") == _sha256(path))
    except OSError:
        return False


def _write_sidecar(path: Path, url: str) -> None:
    meta = {"url": url, "size": path.stat().st_size, "sha256": _sha256(path)}
    _atomic_write(_sidecar(path), json.dumps(meta, indent=2).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _hub_files(config: ServiceConfig, model_dir: Path, urls: list[str]) -> list[Path]:
    """Return the hub files for `urls`, downloading the untrusted ones when allowed."""
    hub_dir = model_dir / "hub"
    # Files baked into the add-on's image at build time (`fetch-models`), read-only, serve
    # where the model folder has no trusted copy. Each file is hashed once.
    bundled = (
        config.bundled_model_dir.expanduser().absolute()
        if config.bundled_model_dir is not None
        else None
    )
    paths: list[Path] = []
    missing: list[tuple[str, Path]] = []
    for url in urls:
        path = hub_dir / _file_name(url)
        candidates = [path] if bundled is None else [path, bundled / path.name]
        trusted = next((candidate for candidate in candidates if is_verified(candidate)), None)
        paths.append(trusted or path)
        if trusted is None:
            missing.append((url, path))
    if not missing:
        return paths
    if not config.allow_download:
        names = ", ".join(path.name for _, path in missing)
        raise _HubUnavailable(
            f"is not in {hub_dir} ({names} missing) and downloads are disabled (allow_download)"
        )
    for url, path in missing:
        try:
            _sidecar(path).unlink(missing_ok=True)
            pin = _PINNED_ONNX.get(path.name)
            download_file(
                url,
                path,
                timeout=config.download_timeout,
                expected_size=pin.size if pin is not None else None,
                expected_sha256=pin.sha256 if pin is not None else None,
            )
            try:
                _verify_download(path)
            except ValueError as err:
                path.unlink(missing_ok=True)
                raise _HubUnavailable(f"was downloaded from {url} but {err}") from None
            _write_sidecar(path, url)
        except DownloadError as err:
            prefix = "no network: " if err.no_network else ""
            raise _HubUnavailable(f"could not be downloaded ({prefix}{err})") from None
        except OSError as err:
            raise _HubUnavailable(f"could not be stored in {hub_dir} ({err})") from None
    return paths


def _verify_download(path: Path) -> None:
    """Raise ValueError unless a fresh download is what it claims to be.

    A mirror or captive portal can answer 200 with an HTML page; catching that here keeps it
    out of the trusted cache. ONNX files are opened with onnxruntime (cheap compared with the
    download), plate configs are parsed.
    """
    if path.suffix == ".onnx":
        import onnxruntime as ort  # noqa: PLC0415 - heavy, only needed after a download

        try:
            ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own, untyped errors
            raise ValueError(f"it is not a valid ONNX model ({err})") from err
    elif path.suffix in {".yaml", ".yml"}:
        try:
            validate_plate_config(path)
        except ModelUnavailableError as err:
            raise ValueError(str(err)) from err
        check_pin(path)


# --------------------------------------------------------------------------------------------
# Downloads


def download_file(
    url: str,
    dest: Path,
    *,
    timeout: float,
    attempts: int = 3,
    expected_size: int | None = None,
    expected_sha256: str | None = None,
) -> Path:
    """Download `url` to `dest` atomically and return `dest`.

    The body streams into a temporary file in `dest`'s folder, its length is checked against
    Content-Length (and `expected_size`), it is fsynced, then moved over `dest` with
    `os.replace`, so `dest` is either the complete file or untouched. Network errors, short
    reads and 5xx answers are retried with backoff up to `attempts` times; 4xx answers and a
    missing network (name resolution failed, connection refused) fail at once. `timeout` is
    the longest wait for the connection or for any single read, in seconds. With
    `expected_sha256` (a pin), a body of any other content is refused before it replaces
    `dest`, and not retried: the server holds another file.

    Raises `DownloadError`; no partial file is ever left behind.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        for stale in dest.parent.glob(f".{dest.name}.*.part"):
            stale.unlink(missing_ok=True)  # left by a killed process
    except OSError as err:
        raise DownloadError(f"cannot write to {dest.parent}: {err}", url=url) from err
    attempts = max(1, attempts)
    last: _RetryableError | None = None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            delay = _RETRY_DELAYS_S[min(attempt - 2, len(_RETRY_DELAYS_S) - 1)]
            _LOGGER.warning(
                "Download of %s failed (%s); retrying in %.0f s (attempt %d of %d)",
                url,
                last,
                delay,
                attempt,
                attempts,
            )
            _sleep(delay)
        try:
            _download_once(
                url,
                dest,
                timeout=timeout,
                expected_size=expected_size,
                expected_sha256=expected_sha256,
            )
        except _RetryableError as err:
            last = err
        except DownloadError:
            raise
        except OSError as err:  # the local disk, not the network: retrying won't help
            raise DownloadError(f"cannot write {dest}: {err}", url=url) from err
        else:
            return dest
    raise DownloadError(f"{last} (gave up after {attempts} attempts)", url=url)


def _download_once(
    url: str,
    dest: Path,
    *,
    timeout: float,
    expected_size: int | None,
    expected_sha256: str | None,
) -> None:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in _open
        url, headers={"User-Agent": f"anpr-inference/{__version__}"}
    )
    with _open(request, timeout) as response:
        length = _content_length(response, url)
        if expected_size is not None and length is not None and length != expected_size:
            raise DownloadError(
                f"{url} is {length} bytes, expected {expected_size}; wrong file?", url=url
            )
        _LOGGER.info(
            "Downloading %s (%s) to %s",
            url,
            f"{length / 1e6:.1f} MB" if length is not None else "size unknown",
            dest,
        )
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as file:

                def write(chunk: bytes) -> None:
                    digest.update(chunk)
                    file.write(chunk)

                received = _copy_body(response, write, url)
                file.flush()
                os.fsync(file.fileno())
            _check_received(received, length if length is not None else expected_size)
            _check_digest(digest.hexdigest(), expected_sha256, url)
            tmp.replace(dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _LOGGER.info("Downloaded %s (%.1f MB)", dest.name, received / 1e6)


def _check_digest(digest: str, pinned: str | None, url: str) -> None:
    """Refuse a body whose SHA-256 is not the pinned one: the server holds another file."""
    if pinned is not None and digest != pinned:
        raise DownloadError(
            f"{url} has SHA-256 {digest}, not the pinned {pinned}; refused (a different "
            "file than the one measured)",
            url=url,
        )


def _check_received(received: int, want: int | None) -> None:
    if want is not None and received != want:
        raise _RetryableError(f"incomplete download: got {received} of {want} bytes")
    if received == 0:
        raise _RetryableError("the server sent an empty file")


def _open(request: urllib.request.Request, timeout: float) -> http.client.HTTPResponse:
    url = request.full_url
    if urlsplit(url).scheme not in {"http", "https"}:
        raise DownloadError(f"{url} is not an http(s) URL", url=url)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as err:
        err.close()
        message = f"HTTP {err.code} {err.reason} from {url}"
        if err.code in _PERMANENT_HTTP_STATUSES:
            raise DownloadError(message, url=url) from None
        raise _RetryableError(message) from None
    except urllib.error.URLError as err:
        raise _classify_network_error(err.reason, url) from None
    except (ConnectionError, TimeoutError, http.client.HTTPException) as err:
        raise _RetryableError(f"{type(err).__name__}: {err}") from None
    except ValueError as err:
        raise DownloadError(f"invalid URL {url}: {err}", url=url) from None
    if not isinstance(response, http.client.HTTPResponse):  # pragma: no cover - http(s) only
        raise DownloadError(f"{url} did not answer over HTTP", url=url)
    return response


def _classify_network_error(reason: object, url: str) -> Exception:
    host = urlsplit(url).hostname or url
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"cannot resolve {host} ({reason})", url=url, no_network=True)
    if isinstance(reason, OSError) and reason.errno in _NO_NETWORK_ERRNOS:
        return DownloadError(
            f"cannot connect to {host} ({reason.strerror or reason})", url=url, no_network=True
        )
    if isinstance(reason, ssl.SSLError | ssl.CertificateError):
        return DownloadError(f"TLS error talking to {host}: {reason}", url=url)
    if isinstance(reason, TimeoutError):
        return _RetryableError(f"timed out waiting for {host}")
    return _RetryableError(f"cannot reach {host}: {reason}")


def _content_length(response: http.client.HTTPResponse, url: str) -> int | None:
    raw = response.headers.get("Content-Length")
    if raw is None:
        return None
    try:
        length = int(raw)
    except ValueError:
        raise _RetryableError(f"invalid Content-Length {raw!r} from {url}") from None
    if length < 0:
        raise _RetryableError(f"invalid Content-Length {raw!r} from {url}")
    return length


def _copy_body(
    response: http.client.HTTPResponse, write: Callable[[bytes], object], url: str
) -> int:
    """Stream the body into `write`, return its size; network failures become retryable."""
    received = 0
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (ConnectionError, TimeoutError, http.client.HTTPException) as err:
            raise _RetryableError(
                f"connection lost after {received} bytes ({type(err).__name__}: {err})"
            ) from None
        if not chunk:
            return received
        write(chunk)
        received += len(chunk)
