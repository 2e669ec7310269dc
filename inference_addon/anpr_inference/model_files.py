"""Model files on disk: the embedded ones, plate configs, and verified hub downloads.

A hub file is trusted only next to a sidecar `<file>.json` recording the size and SHA-256 of
a verified download (see `models`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from .model_catalog import (
    PINNED_CONFIGS,
    PINNED_ONNX,
    PLATE_CONFIG_KEYS,
    RAPIDOCR_PIP,
    ModelUnavailableError,
    embedded_model_dir,
)
from .model_download import CHUNK, DownloadError, download_file

if TYPE_CHECKING:
    from .config import ServiceConfig


class HubUnavailable(Exception):  # noqa: N818 - internal signal, not an error for callers
    """The hub model is neither cached nor downloadable; `reason` says why."""

    def __init__(self, reason: str) -> None:
        """Keep `reason` for the note that explains the fallback."""
        super().__init__(reason)
        self.reason = reason


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


def embedded_file(name: str) -> Path:
    """Return the embedded model file `name`; raise `ModelUnavailableError` saying how to fix."""
    path = embedded_model_dir() / name
    if not path.is_file() or path.stat().st_size == 0:
        raise ModelUnavailableError(
            f"the embedded model {path} is missing from the rapidocr_onnxruntime package; "
            f"reinstall it with: {RAPIDOCR_PIP}"
        )
    return path


def check_model_file(path: Path, what: str) -> None:
    """Raise `ModelUnavailableError` unless `path` is a readable, non-empty file."""
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


def file_name(url: str) -> str:
    """Return the file name a download URL ends with."""
    return urlsplit(url).path.rsplit("/", 1)[-1]


def effective_url(url: str, base_url: str | None) -> str:
    """Point `url` at the configured mirror, keeping only its file name."""
    if not base_url:
        return url
    return f"{base_url.rstrip('/')}/{file_name(url)}"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_pin(path: Path) -> None:
    """Raise ValueError when `path` is a pinned model's file (by name) but not its content."""
    pin = PINNED_ONNX.get(path.name)
    if pin is not None:
        digest = _sha256(path)
        if digest != pin.sha256:
            raise ValueError(f"its SHA-256 is {digest}, not the {pin.sha256} pinned for {pin.name}")
    config_pin = PINNED_CONFIGS.get(path.name)
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
    if path.name in PINNED_ONNX or path.name in PINNED_CONFIGS:
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


def hub_files(config: ServiceConfig, model_dir: Path, urls: list[str]) -> list[Path]:
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
        path = hub_dir / file_name(url)
        candidates = [path] if bundled is None else [path, bundled / path.name]
        trusted = next((candidate for candidate in candidates if is_verified(candidate)), None)
        paths.append(trusted or path)
        if trusted is None:
            missing.append((url, path))
    if not missing:
        return paths
    if not config.allow_download:
        names = ", ".join(path.name for _, path in missing)
        raise HubUnavailable(
            f"is not in {hub_dir} ({names} missing) and downloads are disabled (allow_download)"
        )
    for url, path in missing:
        try:
            _sidecar(path).unlink(missing_ok=True)
            pin = PINNED_ONNX.get(path.name)
            download_file(
                url,
                path,
                timeout=config.download_timeout,
                expected_size=pin.size if pin is not None else None,
                expected_sha256=pin.sha256 if pin is not None else None,
            )
            try:
                verify_download(path)
            except ValueError as err:
                path.unlink(missing_ok=True)
                raise HubUnavailable(f"was downloaded from {url} but {err}") from None
            _write_sidecar(path, url)
        except DownloadError as err:
            prefix = "no network: " if err.no_network else ""
            raise HubUnavailable(f"could not be downloaded ({prefix}{err})") from None
        except OSError as err:
            raise HubUnavailable(f"could not be stored in {hub_dir} ({err})") from None
    return paths


def verify_download(path: Path) -> None:
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
