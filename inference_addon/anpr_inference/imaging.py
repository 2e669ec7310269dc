"""Turn untrusted upload bytes into the BGR array the engine works on, or a clear error.

Everything a client sends is hostile until proven otherwise: the pixel count is checked from
the header *before* any pixel is decoded (a 30 KB PNG can declare 20000 x 20000 pixels and
ask for 1.2 GB of memory), only the three formats the API accepts reach a Pillow decoder, and
every way Pillow can fail on malformed data becomes an `ImageError` the HTTP layer maps to a
4xx answer instead of a 500.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Final

import cv2
import numpy as np
from PIL import Image as PILImage, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    from .engine import Image

MEDIA_TYPES: Final[dict[str, str]] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
}
"""Media types the API accepts, mapped to Pillow's format names."""

_ACCEPTED_FORMATS: Final = tuple(MEDIA_TYPES.values())
_LOGGER = logging.getLogger(__name__)


class ImageError(ValueError):
    """The upload is not an image the service can work on."""


class InvalidImageError(ImageError):
    """The data is empty, truncated or corrupt (HTTP 400 `invalid_image`)."""


class ImageTooLargeError(ImageError):
    """The image declares more pixels than allowed (HTTP 413 `image_too_large`)."""


class UnsupportedImageTypeError(ImageError):
    """The data is an image, but not JPEG, PNG or WebP (HTTP 415)."""


def sniff_type(data: bytes) -> str | None:
    """Return the media type of a JPEG, PNG or WebP from its magic bytes, else None.

    Used for uploads that do not say what they are (`application/octet-stream`, multipart
    parts without a type): the magic bytes are the only trustworthy statement about them.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_image(data: bytes, *, max_pixels: int) -> Image:
    """Decode a JPEG, PNG or WebP into an H x W x 3 BGR uint8 array, upright.

    The EXIF orientation is applied (phones and many cameras store pictures sideways and
    set a tag instead), every colour mode is brought to 8-bit RGB, and animated images give
    their first frame.

    Raises `InvalidImageError`, `ImageTooLargeError` or `UnsupportedImageTypeError`.
    """
    if not data:
        raise InvalidImageError("the image is empty")
    try:
        with PILImage.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS) as image:
            _check_size(image.size, max_pixels)
            image.load()
            _apply_orientation(image)
            return _to_bgr(image)
    except ImageError:
        raise
    # Pillow guards against decompression bombs on its own (error above twice its global
    # MAX_IMAGE_PIXELS, a warning above it, which a `-W error` run turns into an exception).
    # Both can only fire for images far over any sane `max_pixels`, so both mean "too large".
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as err:
        raise ImageTooLargeError(f"the image has too many pixels (limit {max_pixels})") from err
    except UnidentifiedImageError as err:
        raise _unidentified(data) from err
    # Pillow's decoders raise many exception types on malformed input (OSError for truncated
    # data, SyntaxError, ValueError, struct.error, EOFError, MemoryError, ...); its own fuzzers
    # treat every Exception as "bad input", and so do we: for us they all mean "not decodable".
    except Exception as err:
        raise InvalidImageError(f"the image cannot be decoded: {_reason(err)}") from err


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    """Reject an image by its declared size, before its pixels are decoded."""
    width, height = size
    if width <= 0 or height <= 0:
        raise InvalidImageError(f"the image declares an empty size ({width} x {height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the image is {width} x {height} = {width * height} pixels, "
            f"over the limit of {max_pixels}"
        )


def _apply_orientation(image: PILImage.Image) -> None:
    """Turn the image upright per its EXIF orientation tag.

    A damaged EXIF block is common in camera snapshots and says nothing about the pixels,
    so it costs the orientation, not the image.
    """
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:  # Pillow's EXIF parser raises many exception types on bad data
        _LOGGER.debug("Ignoring unreadable EXIF orientation", exc_info=True)


def _unidentified(data: bytes) -> ImageError:
    """Explain why none of the accepted decoders recognised the data.

    Only headers are parsed here (no pixel is decoded), and only to tell a GIF or TIFF sent
    by mistake (415, "send JPEG, PNG or WebP") from garbage (400).
    """
    try:
        with PILImage.open(io.BytesIO(data)) as other:
            fmt = other.format
    except Exception:  # noqa: BLE001 - any failure here means "not an image"
        fmt = None
    if fmt is None or fmt in _ACCEPTED_FORMATS:
        return InvalidImageError("the data is not a JPEG, PNG or WebP image")
    return UnsupportedImageTypeError(f"{fmt} images are not supported; send JPEG, PNG or WebP")


def _to_bgr(image: PILImage.Image) -> Image:
    """Convert any Pillow mode to a contiguous BGR uint8 array."""
    if image.mode.startswith("I;16"):
        # 16-bit greyscale: Pillow's convert() would clip everything above 255 to white.
        wide = np.asarray(image).astype(np.uint32)
        grey = (wide >> 8).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Transparent pixels keep arbitrary colour data underneath; show them as a viewer
        # would, on white, instead of letting that data leak into the picture.
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = PILImage.alpha_composite(background, rgba).convert("RGB")
    else:
        # convert() copies even when the mode is already RGB (most camera JPEGs).
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    # One SIMD pass that also yields a contiguous array, instead of a reversed view and a copy.
    return np.asarray(cv2.cvtColor(np.asarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR), np.uint8)


def _reason(err: BaseException) -> str:
    """Describe a decoder failure briefly, in words safe to show a client."""
    text = str(err).strip() or type(err).__name__
    return text[:200]
