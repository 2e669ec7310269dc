"""Safe image decoding: real photos, every colour mode, orientation, and hostile input."""

from __future__ import annotations

import io
import struct
from typing import Any
import warnings
import zlib

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
from PIL import Image, ImageOps
import pytest

from anpr_inference.detectors import ProposalSettings
from anpr_inference.imaging import (
    DETAIL_PIXELS,
    ImageError,
    ImageTooLargeError,
    InvalidImageError,
    UnsupportedImageTypeError,
    decode_for_recognition,
    decode_image,
    sniff_type,
)
from anpr_inference.results import Box, PlateRead, RecognitionResult, Timings

MAX_PIXELS = 40_000_000
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    """Save a Pillow image to bytes."""
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """Build a tiny, valid-looking PNG that declares `width` x `height` pixels (a pixel bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def two_colour(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def dominant(pixel: np.ndarray) -> str:
    """Name the strongest channel of a BGR pixel (lossy formats shift colours a little)."""
    return ("blue", "green", "red")[int(np.argmax(pixel))]


# --- sniffing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", None)],
)
def test_sniff_type_recognises_accepted_formats(fmt: str, expected: str | None) -> None:
    assert sniff_type(encode(two_colour(), fmt)) == expected


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"RIFF\0\0\0\0WEB", b"<html>", b"GIF89a"])
def test_sniff_type_rejects_other_data(data: bytes) -> None:
    assert sniff_type(data) is None


# --- decoding ------------------------------------------------------------------------------


def test_decodes_real_photo_as_bgr(sample_photos: dict[str, bytes]) -> None:
    data = sample_photos["br/AYO9034.jpg"]
    image = decode_image(data, max_pixels=MAX_PIXELS)
    with Image.open(io.BytesIO(data)) as reference:
        expected = np.asarray(reference.convert("RGB"))[:, :, ::-1]
    assert image.shape == (720, 1280, 3)
    assert image.dtype == np.uint8
    assert image.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(image, expected)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_channel_order_is_bgr(fmt: str) -> None:
    image = decode_image(encode(two_colour(), fmt, quality=95), max_pixels=MAX_PIXELS)
    assert image.shape == (20, 40, 3)
    assert dominant(image[10, 5]) == "red"
    assert dominant(image[10, 35]) == "blue"
    if fmt == "PNG":
        assert image[10, 5].tolist() == [0, 0, 255]


def test_applies_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    data = encode(two_colour(), "JPEG", exif=exif.tobytes(), quality=95)
    image = decode_image(data, max_pixels=MAX_PIXELS)
    assert image.shape == (40, 20, 3)
    assert dominant(image[5, 10]) == "red"  # the left half is on top now
    assert dominant(image[35, 10]) == "blue"


@pytest.mark.parametrize(
    "exif",
    [
        b"Exif\x00\x00garbage",
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff",  # entry count past the end
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00\x00\x00",
    ],
)
def test_corrupt_exif_keeps_the_image(exif: bytes) -> None:
    data = encode(two_colour(), "JPEG", exif=exif, quality=95)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow's "Corrupt EXIF data"
        image = decode_image(data, max_pixels=MAX_PIXELS)
    assert image.shape == (20, 40, 3)


def test_exif_parser_failure_costs_only_the_orientation(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pillow tolerates every broken EXIF we could build; its parser has raised on others in
    # the past, which must not cost the picture.
    def broken(image: Image.Image, *, in_place: bool = False) -> None:
        raise SyntaxError("bad EXIF")

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)
    image = decode_image(encode(two_colour(), "PNG"), max_pixels=MAX_PIXELS)
    assert image.shape == (20, 40, 3)


@pytest.mark.parametrize(
    ("mode", "colour", "expected_bgr"),
    [
        ("L", 77, [77, 77, 77]),
        ("1", 1, [255, 255, 255]),
        ("RGB", (10, 20, 30), [30, 20, 10]),
        ("RGBA", (10, 20, 30, 255), [30, 20, 10]),
        ("RGBA", (10, 20, 30, 0), [255, 255, 255]),  # transparent: shown on white
        ("LA", (50, 0), [255, 255, 255]),
    ],
)
def test_converts_colour_modes(mode: str, colour: Any, expected_bgr: list[int]) -> None:
    data = encode(Image.new(mode, (8, 8), colour), "PNG")
    image = decode_image(data, max_pixels=MAX_PIXELS)
    assert image.shape == (8, 8, 3)
    assert image[4, 4].tolist() == expected_bgr


def test_converts_palette_with_transparency() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([200, 100, 50] + [0, 0, 0] * 255)
    image.putpixel((0, 0), 1)
    decoded = decode_image(encode(image, "PNG", transparency=1), max_pixels=MAX_PIXELS)
    assert decoded[0, 0].tolist() == [255, 255, 255]
    assert decoded[4, 4].tolist() == [50, 100, 200]


def test_scales_16_bit_greyscale() -> None:
    wide = np.array([[0, 256 * 100, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(wide), "PNG")
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode.startswith("I;16")
    decoded = decode_image(data, max_pixels=MAX_PIXELS)
    assert decoded[0, :, 0].tolist() == [0, 100, 255]


def test_converts_cmyk_jpeg() -> None:
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    assert dominant(decode_image(data, max_pixels=MAX_PIXELS)[8, 8]) == "red"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_images_give_their_first_frame(fmt: str) -> None:
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert dominant(decode_image(data, max_pixels=MAX_PIXELS)[8, 8]) == "red"


# --- hostile and broken input ---------------------------------------------------------------


def test_errors_are_value_errors() -> None:
    for error in (InvalidImageError, ImageTooLargeError, UnsupportedImageTypeError):
        assert issubclass(error, ImageError)
    assert issubclass(ImageError, ValueError)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_invalid(fmt: str) -> None:
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8))
    data = encode(noisy, fmt)
    with pytest.raises(InvalidImageError):
        decode_image(data[: len(data) // 2], max_pixels=MAX_PIXELS)


def test_truncated_real_photo_is_invalid(sample_photos: dict[str, bytes]) -> None:
    data = sample_photos["br/AYO9034.jpg"]
    with pytest.raises(InvalidImageError):
        decode_image(data[: len(data) // 3], max_pixels=MAX_PIXELS)


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", b"\xff\xd8\xff" + b"\0" * 64, b"\x89PNG\r\n\x1a\n"]
)
def test_garbage_is_invalid(data: bytes) -> None:
    with pytest.raises(InvalidImageError):
        decode_image(data, max_pixels=MAX_PIXELS)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    with pytest.raises(UnsupportedImageTypeError, match=fmt):
        decode_image(encode(two_colour(), fmt), max_pixels=MAX_PIXELS)


def test_rejects_images_over_max_pixels_before_decoding() -> None:
    data = encode(Image.new("RGB", (200, 100)), "PNG")
    assert decode_image(data, max_pixels=20_000).shape == (100, 200, 3)
    with pytest.raises(ImageTooLargeError, match="20000 pixels"):
        decode_image(data, max_pixels=19_999)


def test_rejects_pixel_bomb_by_its_header() -> None:
    # 400 megapixels declared in a few dozen bytes: refused from the header alone, and by us
    # even though Pillow's own guard fires first.
    with pytest.raises(ImageTooLargeError):
        decode_image(png_header_only(20_000, 20_000), max_pixels=MAX_PIXELS)


def test_our_limit_applies_below_pillows_own() -> None:
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        decode_image(png_header_only(8000, 6000), max_pixels=MAX_PIXELS)


def test_pillow_bomb_warning_as_error_is_too_large() -> None:
    # Above Pillow's MAX_IMAGE_PIXELS it warns; a process running with -W error turns that
    # into an exception, which must still read as "too large", not "invalid".
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(ImageTooLargeError):
            decode_image(png_header_only(10_000, 10_000), max_pixels=200_000_000)


def test_empty_declared_size_is_invalid() -> None:
    with pytest.raises(InvalidImageError):
        decode_image(png_header_only(0, 10), max_pixels=MAX_PIXELS)


_SEEDS = {
    fmt: encode(two_colour((24, 16)), fmt, **({"quality": 80} if fmt != "PNG" else {}))
    for fmt in ("JPEG", "PNG", "WEBP")
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(sorted(_SEEDS)),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    cut=st.integers(min_value=0),
)
def test_mutated_images_never_escape_as_other_errors(
    fmt: str, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(_SEEDS[fmt])
    for position, value in edits:
        data[position % len(data)] = value
    data = data[: max(1, len(data) - cut % len(data))]
    try:
        image = decode_image(bytes(data), max_pixels=100_000)
    except ImageError:
        return
    assert image.ndim == 3
    assert image.shape[2] == 3
    assert image.dtype == np.uint8


# --- reduced decoding and the decoded-pixels bound -----------------------------------------


def test_large_jpeg_is_decoded_at_the_smallest_scale_keeping_the_detail() -> None:
    data = encode(two_colour((4000, 3000)), "JPEG", quality=90)
    decoded = decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=MAX_PIXELS)
    # 1/2 keeps 3 MP (over DETAIL_PIXELS); 1/4 would keep 0.75 MP.
    assert decoded.pixels.shape == (1500, 2000, 3)
    assert (decoded.width, decoded.height) == (4000, 3000)
    assert decoded.reduced
    assert DETAIL_PIXELS <= 1500 * 2000
    assert dominant(decoded.pixels[750, 10]) == "red"
    assert dominant(decoded.pixels[750, 1990]) == "blue"
    # The full decode is still there for whoever needs every pixel.
    assert decode_image(data, max_pixels=MAX_PIXELS).shape == (3000, 4000, 3)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_images_the_detector_can_use_whole_are_not_reduced(fmt: str) -> None:
    data = encode(two_colour((1920, 1080)), fmt)
    decoded = decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=MAX_PIXELS)
    assert decoded.pixels.shape == (1080, 1920, 3)
    assert not decoded.reduced


def test_detail_keeps_the_finest_look_twice() -> None:
    finest = max(look.max_pixels for look in ProposalSettings().looks)
    assert 2 * finest <= DETAIL_PIXELS


def test_reduced_sideways_jpeg_reports_its_upright_size() -> None:
    image = two_colour((4000, 3000))
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to show
    data = encode(image, "JPEG", exif=exif.tobytes())
    decoded = decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=MAX_PIXELS)
    assert decoded.pixels.shape == (2000, 1500, 3)
    assert (decoded.width, decoded.height) == (3000, 4000)


def test_restore_maps_boxes_to_the_upload() -> None:
    data = encode(two_colour((4000, 3000)), "JPEG")
    decoded = decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=MAX_PIXELS)
    plate = PlateRead("AB1234", "AB1234", 0.9, (0.9,) * 6, 0.8, Box(100, 50, 1999, 1500))
    found = RecognitionResult((plate,), 2000, 1500, Timings(total=1.0))
    restored = decoded.restore(found)
    assert (restored.width, restored.height) == (4000, 3000)
    assert restored.plates[0].box == Box(200, 100, 3998, 3000)
    assert restored.plates[0].normalized == "AB1234"
    assert restored.timings == found.timings


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_over_the_decoded_pixels_bound_are_too_large(fmt: str) -> None:
    data = encode(Image.new("RGB", (400, 300)), fmt)
    with pytest.raises(ImageTooLargeError, match=f"{fmt} images are decoded whole"):
        decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=119_999)
    decoded = decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=120_000)
    assert decoded.pixels.shape == (300, 400, 3)


def test_jpeg_over_the_decoded_pixels_bound_is_reduced_to_fit() -> None:
    data = encode(two_colour((1600, 1200)), "JPEG")
    decoded = decode_for_recognition(data, max_pixels=MAX_PIXELS, max_decoded_pixels=500_000)
    assert decoded.pixels.shape == (600, 800, 3)
    assert (decoded.width, decoded.height) == (1600, 1200)


def test_the_bgr_copy_is_exact_across_strips() -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (3001, 1999, 3), dtype=np.uint8)
    decoded = decode_image(encode(Image.fromarray(rgb), "PNG"), max_pixels=MAX_PIXELS)
    assert np.array_equal(decoded, rgb[:, :, ::-1])
