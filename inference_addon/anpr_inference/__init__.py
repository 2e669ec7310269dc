"""anpr-inference: licence-plate detection and OCR served over HTTP for Home Assistant."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("anpr-inference")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
    __version__ = "0.0.0"
