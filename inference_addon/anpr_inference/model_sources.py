"""The source policy of each stage (`auto`, `hub`, `file`, `embedded`) and its explanations.

Part of `models` (see there for the policy); the detector and the OCR stage each build a
`Stage` that `resolve` walks the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model_catalog import (
    CUSTOM_DETECTOR_FILE,
    CUSTOM_OCR_CONFIG_FILE,
    CUSTOM_OCR_FILE,
    EMBEDDED_DETECTOR_FILE,
    EMBEDDED_DETECTOR_NAME,
    EMBEDDED_OCR_FILE,
    EMBEDDED_OCR_NAME,
    PLATE_CONFIG_SUFFIX,
    DetectorFiles,
    DetectorKind,
    ModelUnavailableError,
    OcrFiles,
    hub_detector_models,
    hub_ocr_models,
)
from .model_files import (
    HubUnavailable,
    check_model_file,
    check_pin,
    effective_url,
    embedded_file,
    file_name,
    hub_files,
    validate_plate_config,
)
from .results import ModelInfo

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from .config import ServiceConfig


@dataclass(frozen=True, slots=True)
class Stage[Files, Urls]:
    """One stage's way to each source of its model, for `resolve`."""

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
    """The hub model, cached or downloaded; raises `HubUnavailable`."""
    guidance: Callable[[Urls, bool], str]
    """How to provide the hub model by hand (only that, when True)."""
    auto_hub: bool = True
    """Whether `auto` takes the hub model; False: only the `hub` source does (opt-in)."""


def resolve[Files, Urls](stage: Stage[Files, Urls], notes: list[str]) -> Files:
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
        return _from_hub(stage)
    return _automatic(stage, notes)


def _from_hub[Files, Urls](stage: Stage[Files, Urls]) -> Files:
    """Resolve the `hub` source: a hub file copied by hand, else the hub model, else fail."""
    urls = stage.hub_urls()
    found = stage.local(False)
    if found is not None:
        return found
    try:
        return stage.hub(urls)
    except HubUnavailable as err:
        raise ModelUnavailableError(
            f"{stage.label}: hub model {stage.hub_model} {err.reason}. "
            + stage.guidance(urls, True)
        ) from None


def _automatic[Files, Urls](stage: Stage[Files, Urls], notes: list[str]) -> Files:
    """Resolve `auto`: own file, else the hub model, else the embedded one with a note."""
    found = stage.local(True)
    if found is not None:
        return found
    if not stage.auto_hub:
        return stage.embedded()
    urls = stage.hub_urls()
    try:
        return stage.hub(urls)
    except HubUnavailable as err:
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


def detector_stage(config: ServiceConfig, model_dir: Path) -> Stage[DetectorFiles, str]:
    """Return how the detector's sources are tried (see `resolve`)."""
    return Stage(
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
            check_model_file(path, f"Detector: detector_path {path}")
            return _detector_files("yolo_v9", path, path.stem, "file")
        candidates.append(
            (custom / CUSTOM_DETECTOR_FILE, CUSTOM_DETECTOR_FILE.removesuffix(".onnx"))
        )
    url = hub_detector_models().get(config.hub_detector_model)
    if url is not None:
        # The hub model copied by hand, for machines that can't download it.
        candidates.append((custom / file_name(url), config.hub_detector_model))
    for path, name in candidates:
        if path.exists():
            check_model_file(path, f"Detector: {path}")
            return _detector_files("yolo_v9", path, name, "file")
    return None


def _hub_detector(config: ServiceConfig, model_dir: Path, url: str) -> DetectorFiles:
    (path,) = hub_files(config, model_dir, [url])
    return _detector_files("yolo_v9", path, config.hub_detector_model, "hub")


def _embedded_detector() -> DetectorFiles:
    path = embedded_file(EMBEDDED_DETECTOR_FILE)
    return _detector_files("ppocr_det", path, EMBEDDED_DETECTOR_NAME, "embedded")


def _hub_detector_url(config: ServiceConfig) -> str:
    models = hub_detector_models()
    url = models.get(config.hub_detector_model)
    if url is None:
        raise ModelUnavailableError(
            f"Detector: unknown hub model {config.hub_detector_model!r} "
            f"(hub_detector_model). Valid names: {', '.join(sorted(models))}."
        )
    return effective_url(url, config.model_base_url)


def _detector_files(kind: DetectorKind, path: Path, name: str, source: str) -> DetectorFiles:
    return DetectorFiles(kind=kind, path=path, info=ModelInfo(name, source, str(path)))


def _detector_guidance(model_dir: Path, url: str, *, hub_only: bool) -> str:
    return (
        f"To use the plate detector offline, put {file_name(url)} in {model_dir / 'custom'} "
        f"(download: {url}) or set detector_path{' with detector: file' if hub_only else ''}."
    )


def _no_local_detector_message(config: ServiceConfig, model_dir: Path) -> str:
    custom = model_dir / "custom"
    looked = [str(custom / CUSTOM_DETECTOR_FILE)]
    url = hub_detector_models().get(config.hub_detector_model)
    if url is not None:
        looked.append(str(custom / file_name(url)))
    return (
        "Detector: source is 'file' but no detector model was found (detector_path is not "
        f"set; looked for {' and '.join(looked)}). Put a YOLOv9 end2end licence-plate ONNX "
        f"model at {custom / CUSTOM_DETECTOR_FILE} or set detector_path."
    )


def ocr_stage(
    config: ServiceConfig, model_dir: Path, name: str, *, own_files: bool = True
) -> Stage[OcrFiles, tuple[str, str]]:
    """Build the stage of OCR model `name`.

    `own_files` False is a further model of a fusion: it ignores the user's own OCR file,
    and `auto` without it reads with the other models.
    """
    return Stage(
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
            check_model_file(path, f"OCR: ocr_path {path}")
            return _plate_ocr_files(config, path, path.stem, model_dir, [])
        candidates.append((custom / CUSTOM_OCR_FILE, CUSTOM_OCR_FILE.removesuffix(".onnx"), []))
    urls = hub_ocr_models().get(hub_name)
    if urls is not None:
        # The hub model copied by hand, for machines that can't download it.
        candidates.append((custom / file_name(urls[0]), hub_name, [custom / file_name(urls[1])]))
    for path, name, extra_configs in candidates:
        if path.exists():
            check_model_file(path, f"OCR: {path}")
            try:
                check_pin(path)
            except ValueError as err:
                raise ModelUnavailableError(
                    f"OCR: {path} carries the name of the pinned model {name} but {err}. "
                    f"Replace it with {file_name(urls[0]) if urls else path.name} from "
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
    onnx_path, config_path = hub_files(config, model_dir, list(urls))
    return OcrFiles(
        kind="plate_ocr",
        path=onnx_path,
        config_path=config_path,
        info=ModelInfo(name, "hub", str(onnx_path)),
    )


def _embedded_ocr() -> OcrFiles:
    path = embedded_file(EMBEDDED_OCR_FILE)
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
        effective_url(urls[0], config.model_base_url),
        effective_url(urls[1], config.model_base_url),
    )


def _ocr_guidance(model_dir: Path, urls: tuple[str, str], *, hub_only: bool) -> str:
    onnx, plate_config = (file_name(u) for u in urls)
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
        looked.append(str(custom / file_name(urls[0])))
    return (
        "OCR: source is 'file' but no OCR model was found (ocr_path is not set; looked for "
        f"{' and '.join(looked)}). Put a fast-plate-ocr ONNX model at "
        f"{custom / CUSTOM_OCR_FILE} with its plate config at "
        f"{custom / CUSTOM_OCR_CONFIG_FILE}, or set ocr_path (and ocr_config_path)."
    )
