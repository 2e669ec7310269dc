"""Fuzzing the service's input handling: hostile bytes and requests get a clear 4xx, never a 5xx.

- `decode_image` with hypothesis: random bytes, valid JPEG/PNG/WebP files of many kinds damaged
  (truncated, bytes flipped, inserted or deleted) and headers declaring any size at all. Every
  input decodes to a BGR array or raises `ImageError`; a size over the limit is refused as
  too large.
- `POST /v1/recognize` on a real aiohttp server, with hypothesis choosing the body, the
  Content-Type and Content-Encoding, the query, chunked transfer and multipart framing: every
  answer is a 200 or the contract's JSON error with a 4xx status, and the server keeps serving.
  Raw sockets send HTTP framing no client library would.
- Memory: pixel bombs of every accepted format, a gzip bomb and a multipart body of tiny
  header lines are refused by a real service process whose peak resident memory (the
  kernel's high-water mark, which no transient allocation escapes) barely moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import logging
from pathlib import Path
import re
import string
import sys
from typing import TYPE_CHECKING, Any
import zlib

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
from PIL import Image
import pytest
from yarl import URL

from anpr_inference.config import ServiceConfig
from anpr_inference.imaging import (
    ImageError,
    ImageTooLargeError,
    decode_image,
)
from anpr_inference.server import create_app
from anpr_inference_tools.loaddrive import read_proc_status

from .test_imaging import encode, png_header_only
from .test_server import INSTANCE_ID, FakeEngine

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp.test_utils import TestClient

# Hostile input makes the libraries warn on the way to refusing it: expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
    pytest.mark.filterwarnings("ignore::aiohttp.BadContentDispositionParam"),
]

MAX_PIXELS = 250_000
"""A small pixel limit keeps every decode in these tests fast."""
MAX_BODY = 64 * 1024
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ERROR_CODES = {
    400: {"invalid_image", "invalid_parameter"},
    413: {"payload_too_large", "image_too_large"},
    415: {"unsupported_media_type"},
}


# --- seeds and how they are damaged ---------------------------------------------------------


def _gradient(mode: str, size: tuple[int, int] = (40, 24)) -> Image.Image:
    rgb = Image.linear_gradient("L").resize(size).convert("RGB")
    return rgb.convert(mode)


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees
    return encode(_gradient("RGB"), "JPEG", exif=exif.tobytes())


def _animated_webp() -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue")]
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)


@functools.cache
def seeds() -> dict[str, bytes]:
    """Return valid files of the three accepted formats, in the variants cameras make."""
    palette = _gradient("P")
    palette.info["transparency"] = 0
    return {
        "jpeg": encode(_gradient("RGB"), "JPEG", quality=80),
        "jpeg-progressive": encode(_gradient("RGB"), "JPEG", progressive=True),
        "jpeg-grey": encode(_gradient("L"), "JPEG"),
        "jpeg-cmyk": encode(_gradient("CMYK"), "JPEG"),
        "jpeg-exif": _exif_rotated_jpeg(),
        "png": encode(_gradient("RGB"), "PNG"),
        "png-rgba": encode(_gradient("RGBA"), "PNG"),
        "png-palette-transparent": encode(palette, "PNG"),
        "png-16bit": encode(_gradient("L").convert("I;16"), "PNG"),
        "webp": encode(_gradient("RGB"), "WEBP", quality=70),
        "webp-lossless-alpha": encode(_gradient("RGBA"), "WEBP", lossless=True),
        "webp-animated": _animated_webp(),
    }


@st.composite
def damaged_images(draw: st.DrawFn) -> bytes:
    """Draw a valid seed with a few truncations, overwrites, insertions or deletions."""
    data = bytearray(seeds()[draw(st.sampled_from(sorted(seeds())))])
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["truncate", "overwrite", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "truncate":
            del data[at:]
        elif kind == "overwrite":
            patch = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(patch)] = patch
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    """Return a small real JPEG whose frame header (SOF) says width x height."""
    data = bytearray(seeds()["jpeg"])
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    data[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """Return a small animated WebP whose canvas (VP8X chunk) says width x height."""
    data = bytearray(seeds()["webp-animated"])
    assert data[12:16] == b"VP8X"
    data[24:27] = (width - 1).to_bytes(3, "little")
    data[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def png_zlib_bomb(width: int, height: int) -> bytes:
    """Return a complete, valid greyscale PNG of width x height black pixels (~1000:1)."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter type byte + one byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = png_header_only(width, height)
    ihdr_end = 8 + 12 + 13  # signature, then the IHDR chunk (length, type, 13 bytes, crc)
    chunk = len(idat).to_bytes(4, "big") + b"IDAT" + idat
    chunk += zlib.crc32(b"IDAT" + idat).to_bytes(4, "big")
    return header[:ihdr_end] + chunk + b"\0\0\0\0IEND\xaeB`\x82"


def assert_decoded_or_refused(data: bytes) -> None:
    """Check that decoding gives a BGR array within the limit, or an `ImageError`."""
    try:
        image = decode_image(data, max_pixels=MAX_PIXELS)
    except ImageError:
        return
    assert image.dtype == np.uint8
    assert image.ndim == 3
    assert image.shape[2] == 3
    assert image.shape[0] * image.shape[1] <= MAX_PIXELS
    assert image.flags.c_contiguous


# --- decode_image --------------------------------------------------------------------------


def test_every_seed_decodes() -> None:
    """The seeds are valid, so the damage done to them is what the fuzzers test."""
    for name, data in seeds().items():
        image = decode_image(data, max_pixels=MAX_PIXELS)
        assert image.shape[2] == 3, name


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    assert_decoded_or_refused(data)


@FUZZ
@given(data=damaged_images())
def test_damaged_images_decode_or_are_refused_cleanly(data: bytes) -> None:
    assert_decoded_or_refused(data)


@FUZZ
@given(width=st.integers(0, 2**31 - 1), height=st.integers(0, 2**31 - 1))
def test_png_declaring_any_size(width: int, height: int) -> None:
    data = png_header_only(width, height)
    if width and height and width * height > MAX_PIXELS:
        with pytest.raises(ImageTooLargeError):
            decode_image(data, max_pixels=MAX_PIXELS)
    else:
        assert_decoded_or_refused(data)


@FUZZ
@given(width=st.integers(0, 65535), height=st.integers(0, 65535))
def test_jpeg_declaring_any_size(width: int, height: int) -> None:
    data = jpeg_declaring(width, height)
    if width and height and width * height > MAX_PIXELS:
        with pytest.raises(ImageTooLargeError):
            decode_image(data, max_pixels=MAX_PIXELS)
    else:
        assert_decoded_or_refused(data)


@FUZZ
@given(width=st.integers(1, 2**24), height=st.integers(1, 2**24))
def test_webp_declaring_any_canvas(width: int, height: int) -> None:
    data = webp_declaring(width, height)
    if width * height <= MAX_PIXELS:
        assert_decoded_or_refused(data)
        return
    # Over the limit it is refused, whatever else: libwebp reserves (but does not touch) the
    # canvas when the file is opened, and itself refuses canvases smaller than the 16 x 16
    # frame, canvases of 2**32 pixels or more, and any it cannot reserve address space for.
    fits = width >= 16 and height >= 16 and width * height <= 2**26
    with pytest.raises(ImageTooLargeError if fits else ImageError):
        decode_image(data, max_pixels=MAX_PIXELS)


def test_real_zlib_bomb_is_refused_by_its_header() -> None:
    bomb = png_zlib_bomb(2000, 2000)
    assert len(bomb) < 10_000
    with pytest.raises(ImageTooLargeError, match="2000 x 2000"):
        decode_image(bomb, max_pixels=MAX_PIXELS)
    assert decode_image(bomb, max_pixels=4_000_000).shape == (2000, 2000, 3)


# --- POST /v1/recognize --------------------------------------------------------------------


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient[Any, Any]:
    """Start the real app on 127.0.0.1 with a fake engine, small limits, a roomy queue."""
    config = ServiceConfig(
        data_dir=tmp_path, max_pixels=MAX_PIXELS, max_body_bytes=MAX_BODY, max_queue=100
    )
    app = create_app(config, FakeEngine(), instance_id=INSTANCE_ID)
    test_client: TestClient[Any, Any] = await aiohttp_client(app)
    return test_client


async def assert_contract_answer(response: aiohttp.ClientResponse) -> None:
    """Check for a 200 recognition or a 4xx error in the contract's shape, nothing else."""
    text = await response.text()
    assert response.status in {200, *ERROR_CODES}, text
    assert response.content_type == "application/json", text
    body = await response.json()
    if response.status == 200:
        assert set(body) == {"plates", "image", "timings_ms", "models"}
        assert body["image"]["width"] * body["image"]["height"] <= MAX_PIXELS
    else:
        assert set(body) == {"error"}
        assert body["error"]["code"] in ERROR_CODES[response.status], text
        assert body["error"]["message"]


_TOKEN = string.ascii_letters + string.digits + "-._+"
_HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "image/jpeg",
            "image/png",
            "image/webp",
            "IMAGE/JPEG; charset=binary",
            "application/octet-stream",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/mixed; boundary=x",
            "text/plain",
            "application/json",
            "image/gif",
            "image/",
            "*/*",
            ";;;",
            "",
        ]
    ),
    _HEADER_TEXT,
)
QUERY_VALUES = st.one_of(
    st.sampled_from(
        [
            *("br", "us", "BR", "xx", "", "0", "1", "0.5", "-0", "1e-3", "1e999", "nan"),
            *("-inf", "true", "false", "True", "1", "%", "%zz", "%ff%fe", "%00", "a&b", "+"),
        ]
    ),
    st.text(max_size=12),
)


@st.composite
def raw_queries(draw: st.DrawFn) -> str:
    """Draw a query string as sent on the wire, invalid percent-escapes included."""
    names = st.one_of(
        st.sampled_from(["region", "min_confidence", "crops", "crop", "Region", ""]),
        st.text(alphabet=_TOKEN, max_size=8),
    )
    pairs = draw(st.lists(st.tuples(names, QUERY_VALUES), max_size=4))
    pieces = []
    for name, value in pairs:
        # Sent as is when it can be (visible ASCII: invalid escapes like %zz included),
        # else percent-encoded; control characters would be refused by the HTTP parser
        # before the app sees them, which the raw-socket tests below cover.
        raw = all("!" <= c <= "~" and c != "#" for c in value)
        encoded = value if raw and draw(st.booleans()) else _quote(value)
        pieces.append(f"{_quote(name)}={encoded}" if draw(st.booleans()) or value else name)
    return "&".join(pieces)


def _quote(text: str) -> str:
    return "".join(
        c if c in _TOKEN else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        for c in text
    )


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """Draw a multipart/form-data body and its Content-Type: sometimes well-formed."""
    boundary = draw(
        st.one_of(
            st.sampled_from(["b0undary", "x", "----WebKitFormBoundary7MA4YWxkTrZu0gW"]),
            st.text(alphabet=_TOKEN + "'()/:=? ", min_size=1, max_size=70),
        )
    )
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        headers = []
        name = draw(st.sampled_from(["image", "image", "note", "", None]))
        if name is not None:
            filename = draw(st.sampled_from(["", '; filename="car.jpg"', "; filename*=x"]))
            headers.append(f'Content-Disposition: form-data; name="{name}"{filename}')
        part_type = draw(
            st.sampled_from(
                [
                    *(None, "image/jpeg", "image/png", "application/octet-stream"),
                    *("text/plain", "multipart/mixed; boundary=inner", "image/gif"),
                ]
            )
        )
        if part_type is not None:
            headers.append(f"Content-Type: {part_type}")
        if draw(st.booleans()):
            headers.append(draw(_HEADER_TEXT))
        data = draw(
            st.one_of(st.sampled_from(sorted(seeds().values())), damaged_images(), st.binary())
        )
        parts.append("\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + data)
    delimiter = f"--{boundary}".encode("ascii")
    body = draw(st.sampled_from([b"", b"preamble\r\n"]))
    body += b"".join(delimiter + b"\r\n" + part + b"\r\n" for part in parts)
    body += delimiter + draw(st.sampled_from([b"--\r\n", b"--", b"", b"\r\n"]))
    if draw(st.booleans()):  # damage the framing
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from([b"", b"\r\n", b"--", delimiter])) + body[at:]
    declared = draw(st.sampled_from([boundary, f'"{boundary}"', "other"]))
    return f"multipart/form-data; boundary={declared}", body


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 1000):
        yield data[start : start + 1000]


@FUZZ
@given(
    body=st.one_of(
        st.just(b""),
        st.binary(max_size=512),
        st.sampled_from(sorted(seeds().values())),
        damaged_images(),
        st.builds(png_header_only, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
        st.builds(jpeg_declaring, st.integers(0, 65535), st.integers(0, 65535)),
        st.builds(webp_declaring, st.integers(1, 2**24), st.integers(1, 2**24)),
        st.integers(MAX_BODY - 2, MAX_BODY + 2).map(lambda n: b"\xff\xd8\xff" + b"\0" * n),
    ),
    content_type=st.one_of(st.none(), CONTENT_TYPES),
    encoding=st.sampled_from([None, None, "identity", "gzip", "deflate", "br", "x-unknown"]),
    query=raw_queries(),
    chunked=st.booleans(),
)
async def test_recognize_answers_any_raw_upload_with_a_4xx_or_200(  # noqa: PLR0917
    client: TestClient[Any, Any],
    body: bytes,
    content_type: str | None,
    encoding: str | None,
    query: str,
    chunked: bool,
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    url = URL.build(path="/v1/recognize", query_string=query, encoded=True)
    response = await client.post(
        url,
        data=_chunks(body) if chunked else body,
        headers=headers,
        skip_auto_headers=["Content-Type"],
    )
    await assert_contract_answer(response)


@FUZZ
@given(multipart=multipart_bodies(), chunked=st.booleans())
async def test_recognize_answers_any_multipart_with_a_4xx_or_200(
    client: TestClient[Any, Any], multipart: tuple[str, bytes], chunked: bool
) -> None:
    content_type, body = multipart
    response = await client.post(
        "/v1/recognize",
        data=_chunks(body) if chunked else body,
        headers={"Content-Type": content_type},
    )
    await assert_contract_answer(response)


async def test_a_fuzzed_server_still_recognises(client: TestClient[Any, Any]) -> None:
    """After garbage of every kind, images are judged as before and nothing is wedged."""
    for data in [b"", b"\xff\xd8\xff", png_header_only(50_000, 50_000), b"--x\r\n" * 100]:
        await client.post("/v1/recognize", data=data, headers={"Content-Type": "image/jpeg"})
    too_large = encode(_gradient("RGB", (600, 500)), "JPEG")  # over this suite's pixel limit
    response = await client.post(
        "/v1/recognize", data=too_large, headers={"Content-Type": "image/jpeg"}
    )
    await assert_contract_answer(response)
    assert (await response.json())["error"]["code"] == "image_too_large"
    response = await client.post(
        "/v1/recognize", data=seeds()["jpeg"], headers={"Content-Type": "image/jpeg"}
    )
    assert response.status == 200
    health = await (await client.get("/v1/health")).json()
    assert health["queue"]["pending"] == 0


def _post(headers: bytes, body: bytes = b"", target: bytes = b"/v1/recognize") -> bytes:
    return b"POST " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + body


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"\x00\xffnot http at all\r\n\r\n", id="garbage"),
        pytest.param(_post(b"Content-Length: -1\r\n"), id="negative-length"),
        pytest.param(_post(b"Content-Length: 1\r\nContent-Length: 2\r\n"), id="two-lengths"),
        pytest.param(
            _post(b"Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n", b"zz\r\n"),
            id="bad-chunk-size",
        ),
        pytest.param(
            _post(b"Transfer-Encoding: chunked\r\n", b"ffffffffffffffffff\r\n"),
            id="huge-chunk-size",
        ),
        pytest.param(_post(b"X-Long: " + b"a" * 20_000 + b"\r\n"), id="long-header"),
        pytest.param(
            _post(b"", target=b"/v1/recognize?" + b"region=br&" * 2000), id="long-request-line"
        ),
        pytest.param(
            _post(b"Content-Type: image/jpeg\r\nContent-Length: 10\r\n", b"short"),
            id="body-shorter-than-declared",
        ),
        pytest.param(
            _post(b"Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n", b"5\r\nshort\r\n"),
            id="chunked-body-without-end",
        ),
        pytest.param(
            _post(
                b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 999\r\n",
                b'--b\r\nContent-Disposition: form-data; name="image"\r\n\r\n\xff\xd8',
            ),
            id="multipart-cut-short",
        ),
    ],
)
async def test_malformed_http_framing_is_refused_and_the_server_goes_on(
    client: TestClient[Any, Any], request_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """The HTTP parser answers these (400/413/431, plain text) or closes the connection.

    Bodies that end early (the client hung up) are the client's failure: no 5xx, and no
    error logged as the service's own.
    """
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(request_bytes)
        await writer.drain()
        writer.write_eof()
        status_line = await asyncio.wait_for(reader.readline(), 30)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):  # the server may have closed it first
            await writer.wait_closed()
    if status_line:
        match = re.match(rb"HTTP/1\.[01] (\d{3}) ", status_line)
        assert match is not None, status_line
        assert 400 <= int(match.group(1)) < 500, status_line
    assert (await client.get("/v1/health")).status == 200
    metrics = await (await client.get("/metrics")).text()
    assert 'code="internal_error"' not in metrics
    # (aiohttp logs the framing errors its parser answers itself; the service logs nothing.)
    ours = [r for r in caplog.records if r.name.startswith("anpr_inference")]
    assert not [r for r in ours if r.levelno >= logging.ERROR], caplog.text


# --- memory: a real service process --------------------------------------------------------

SERVE_SCRIPT = r"""
import sys
from pathlib import Path

from anpr_inference import server
from anpr_inference.config import ServiceConfig
from anpr_inference.results import ModelInfo, RecognitionResult, Timings


class Engine:
    models = {
        "detector": ModelInfo("fake-detector", "embedded", "-"),
        "ocr": ModelInfo("fake-ocr", "embedded", "-"),
    }

    def recognize(self, image, *, region=None, min_confidence=0.0, crops=False):
        return RecognitionResult((), image.shape[1], image.shape[0], Timings(total=1.0))

    def warm_up(self):
        pass


server.run(ServiceConfig(host="127.0.0.1", port=0, data_dir=Path(sys.argv[1])), Engine())
"""
MEMORY_BOUND = 128 * 2**20
"""How much the service's peak RSS may grow while refusing every bomb below."""


def gzip_bomb(inflated_mib: int) -> bytes:
    """Return a valid gzip stream of `inflated_mib` MiB of zeros, about 1000 times smaller.

    Each MiB is compressed on its own (a full flush resets the compressor), so one compressed
    segment repeated makes the stream: building a gigabyte bomb costs a checksum, not minutes.
    """
    block = b"\0" * 2**20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, wrapped by hand
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(block, crc)
    size = inflated_mib * 2**20 % 2**32
    header = b"\x1f\x8b\x08\0\0\0\0\0\x02\xff"
    trailer = b"\x03\0" + crc.to_bytes(4, "little") + size.to_bytes(4, "little")
    return header + segment * inflated_mib + trailer


def test_gzip_bomb_is_valid_gzip() -> None:
    assert gzip.decompress(gzip_bomb(3)) == b"\0" * 3 * 2**20


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
async def test_bombs_are_refused_without_the_memory_they_ask_for(
    tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE_SCRIPT,
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        port = int(line.rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{port}/v1/recognize"
        bombs: list[tuple[str, dict[str, str], bytes, int]] = [
            # (name, headers, body, expected status)
            ("png 8000 x 8000, all its pixels", {}, png_zlib_bomb(8000, 8000), 413),
            ("png header 50000 x 50000", {}, png_header_only(50_000, 50_000), 413),
            ("jpeg header 65535 x 65535", {}, jpeg_declaring(65535, 65535), 413),
            ("jpeg header 8000 x 8000", {}, jpeg_declaring(8000, 8000), 413),
            ("webp canvas 16000 x 16000", {}, webp_declaring(16000, 16000), 413),
            ("gzip body inflating to 1 GiB", {"Content-Encoding": "gzip"}, gzip_bomb(1024), 415),
            (
                "multipart of 5M header lines",
                {"Content-Type": "multipart/form-data; boundary=b"},
                b"--b\r\n" + b"a:\r\n" * 5_000_000,
                400,
            ),
        ]
        async with aiohttp.ClientSession() as session:
            # One real photo first, so the baseline includes an ordinary decode.
            response = await session.post(
                url, data=sample_photos["br/AYO9034.jpg"], headers={"Content-Type": "image/jpeg"}
            )
            assert response.status == 200
            baseline = read_proc_status(process.pid, "VmHWM")
            assert baseline is not None
            for name, headers, body, status in bombs:
                response = await session.post(
                    url, data=body, headers={"Content-Type": "image/png", **headers}
                )
                assert response.status == status, (name, await response.text())
            peak = read_proc_status(process.pid, "VmHWM")
            assert (await session.get(f"http://127.0.0.1:{port}/v1/health")).status == 200
    finally:
        process.terminate()
        await process.wait()
    assert peak is not None
    assert peak - baseline < MEMORY_BOUND, f"peak RSS grew by {(peak - baseline) / 2**20:.0f} MiB"
