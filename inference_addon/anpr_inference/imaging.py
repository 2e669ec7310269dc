"""Turn untrusted upload bytes into the BGR array the engine works on, or a clear error.

Everything a client sends is hostile until proven otherwise: the pixel count is checked from
the header *before* any pixel is decoded (a 30 KB PNG can declare 20000 x 20000 pixels and
ask for 1.2 GB of memory), only the three formats the API accepts reach a Pillow decoder, and
every way Pillow can fail on malformed data becomes an `ImageError` the HTTP layer maps to a
4xx answer instead of a 500.

Memory is bounded twice: by the declared size (`max_pixels`), and by what is actually decoded
(`max_decoded_pixels`). JPEGs larger than the detector can use are decoded at 1/2, 1/4 or 1/8
scale by libjpeg itself (Pillow's draft mode: cheaper than a full decode, not dearer), so a
24 MP photo costs what a 6 MP one does; PNG and WebP have no such mode and are decoded whole,
so for them the second limit is the real one. `Decoded.restore` maps what the engine found in
a reduced image back to the upload's own pixel coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import logging
from typing import TYPE_CHECKING, Final

import cv2
import numpy as np
from PIL import Image as PILImage, ImageOps, UnidentifiedImageError

from .contract import sniff_image_type

if TYPE_CHECKING:
    from .engine import Image
    from .results import RecognitionResult

_ACCEPTED_FORMATS: Final = ("JPEG", "PNG", "WEBP")
"""Pillow's names of the formats of `contract.MEDIA_TYPES`, the only ones decoded."""
_STRIP_BYTES: Final = 4 * 1024 * 1024
DETAIL_PIXELS: Final = 2 * 1600 * 896
"""A JPEG is reduced only while it keeps at least this many pixels: twice the detector's
finest look (1600 x 896, `detectors.ProposalSettings.looks`), so every look sees what it saw
in the full image and the OCR's plate crops keep some 1.4 times that look's resolution.
A 12 MP photo is decoded at 1/2 (3 MP), a 24 MP one at 1/2 (6 MP), a 48 MP one at 1/4."""
_LOGGER = logging.getLogger(__name__)


class ImageError(ValueError):
    """The upload is not an image the service can work on."""


class InvalidImageError(ImageError):
    """The data is empty, truncated or corrupt (HTTP 400 `invalid_image`)."""


class ImageTooLargeError(ImageError):
    """The image declares more pixels than allowed (HTTP 413 `image_too_large`)."""


class UnsupportedImageTypeError(ImageError):
    """The data is an image, but not JPEG, PNG or WebP (HTTP 415)."""


sniff_type: Final = sniff_image_type
"""The media type of a JPEG, PNG or WebP from its magic bytes, else None (`contract`).

Used for uploads that do not say what they are (`application/octet-stream`, multipart
parts without a type): the magic bytes are the only trustworthy statement about them."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """An upload decoded for recognition: its pixels, perhaps reduced, and its own size."""

    pixels: Image
    """H x W x 3 BGR uint8, upright; smaller than `width` x `height` when reduced."""
    width: int
    """Width of the upload itself, upright."""
    height: int

    @property
    def reduced(self) -> bool:
        """Whether `pixels` is smaller than the upload."""
        return self.pixels.shape[:2] != (self.height, self.width)

    def restore(self, result: RecognitionResult) -> RecognitionResult:
        """Return `result` (found in `pixels`) in the upload's own coordinates and size."""
        return result.rescaled(self.width, self.height)


def decode_image(data: bytes, *, max_pixels: int, max_decoded_pixels: int | None = None) -> Image:
    """Decode a JPEG, PNG or WebP into an H x W x 3 BGR uint8 array, upright, at full size.

    The EXIF orientation is applied (phones and many cameras store pictures sideways and
    set a tag instead), every colour mode is brought to 8-bit RGB, and animated images give
    their first frame. `max_decoded_pixels` defaults to `max_pixels`.

    Raises `InvalidImageError`, `ImageTooLargeError` or `UnsupportedImageTypeError`.
    """
    limit = max_pixels if max_decoded_pixels is None else max_decoded_pixels
    return _decode(data, max_pixels, limit, detail_pixels=None).pixels


def decode_for_recognition(
    data: bytes,
    *,
    max_pixels: int,
    max_decoded_pixels: int,
    detail_pixels: int = DETAIL_PIXELS,
) -> Decoded:
    """Decode like `decode_image`, a JPEG reduced to no fewer than `detail_pixels` pixels.

    Reduction halves the image's sides up to three times (libjpeg's 1/2, 1/4 and 1/8 scales)
    while at least `detail_pixels` remain; PNG and WebP are always decoded whole.
    """
    return _decode(data, max_pixels, max_decoded_pixels, detail_pixels=detail_pixels)


def _decode(
    data: bytes, max_pixels: int, max_decoded_pixels: int, *, detail_pixels: int | None
) -> Decoded:
    if not data:
        raise InvalidImageError("the image is empty")
    try:
        with PILImage.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS) as image:
            _check_size(image.size, max_pixels)
            width, height = image.size
            if detail_pixels is not None and image.format == "JPEG":
                _reduce(image, detail_pixels, max_decoded_pixels)
            _check_decoded_size(image, max_decoded_pixels)
            image.load()
            stored = image.size
            _apply_orientation(image)
            if image.size != stored:  # turned a quarter: the upload's sides swap too
                width, height = height, width
            return Decoded(_to_bgr(image), width, height)
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


def _reduce(image: PILImage.Image, detail_pixels: int, max_decoded_pixels: int) -> None:
    """Ask libjpeg for the smallest of 1/2, 1/4, 1/8 scale keeping `detail_pixels` pixels.

    Or a smaller one still when that would exceed `max_decoded_pixels`: a JPEG is reduced
    to fit rather than refused.
    """
    width, height = image.size
    chosen = 1
    for scale in (2, 4, 8):
        pixels = (width // scale) * (height // scale)
        if pixels >= detail_pixels or chosen * chosen * max_decoded_pixels < width * height:
            chosen = scale
    if chosen > 1:
        image.draft(None, (width // chosen, height // chosen))


def _check_decoded_size(image: PILImage.Image, max_decoded_pixels: int) -> None:
    """Refuse an image whose pixels, as they would be decoded, exceed the memory bound."""
    width, height = image.size
    if width * height > max_decoded_pixels:
        whole = "" if image.format == "JPEG" else f"{image.format} images are decoded whole; "
        raise ImageTooLargeError(
            f"the image is {width} x {height} = {width * height} pixels; {whole}"
            f"the service decodes at most {max_decoded_pixels}"
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
        # Pasted through their own alpha onto white: two buffers fewer than compositing
        # RGBA over RGBA and converting, which matters for the largest PNGs.
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        rgb = PILImage.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
        del rgba
    else:
        # convert() copies even when the mode is already RGB (most camera JPEGs).
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    return _bgr_array(rgb)


def _bgr_array(rgb: PILImage.Image) -> Image:
    """Copy an RGB image into a new BGR array, with no full-size buffer in between.

    `np.asarray(image)` goes through `tobytes()`, which holds the pixels twice more while it
    joins its chunks: for a 16 MP image that is some 100 MB of peak memory for nothing.
    Strips of `_STRIP_BYTES` are converted one by one into the result instead.
    """
    width, height = rgb.size
    out = np.empty((height, width, 3), np.uint8)
    rows = max(1, _STRIP_BYTES // (3 * width))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = np.asarray(rgb.crop((0, top, width, bottom)), np.uint8)
        cv2.cvtColor(strip, cv2.COLOR_RGB2BGR, dst=out[top:bottom])
    return out


def _reason(err: BaseException) -> str:
    """Describe a decoder failure briefly, in words safe to show a client."""
    text = str(err).strip() or type(err).__name__
    return text[:200]
