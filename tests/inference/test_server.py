"""The HTTP API on a real aiohttp server.

Every status and code of the contract, the limits, admission control, metrics and the
graceful shutdown of `run()`.

Most tests drive the server with `FakeEngine`, a deterministic `Recognizer`: what is under
test here is the HTTP layer, not recognition (one test at the end runs the real engine).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
import logging
import re
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

import aiohttp
import numpy as np
from PIL import Image
import pytest

from anpr_inference import __version__
from anpr_inference.config import ConfigError, ServiceConfig
from anpr_inference.engine import create_engine
from anpr_inference.results import Box, ModelInfo, PlateRead, RecognitionResult, Timings
from anpr_inference.server import _STATE, _is_loopback, create_app

from .test_imaging import encode, png_header_only

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestClient

    from anpr_inference.engine import Image as ImageArray

INSTANCE_ID = "0123456789abcdef0123456789abcdef"
API_KEY = "s3cret-test-key"
MODELS: Mapping[str, ModelInfo] = {
    "detector": ModelInfo("fake-detector", "embedded", "/models/detector.onnx"),
    "ocr": ModelInfo("fake-ocr", "file", "/models/ocr.onnx"),
}
CROP = b"\xff\xd8\xff\xe0 a fake crop"
PLATE = PlateRead(
    text="AYO-9034",
    normalized="AYO9034",
    confidence=0.91,
    char_confidences=(0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96),
    detection_confidence=0.88,
    box=Box(528, 412, 690, 464),
    format="br_old",
    region="br",
    crop_jpeg=CROP,
    # The fourth character as a format corrects it: the image said O, br_old needs a digit.
    alternatives=(
        (("A", 0.9), ("4", 0.05), ("R", 0.01)),
        (("Y", 0.91), ("V", 0.04), ("T", 0.01)),
        (("O", 0.62), ("0", 0.3), ("D", 0.05)),
        (("0", 0.31), ("O", 0.6), ("D", 0.06)),
        (("0", 0.94), ("O", 0.05)),
        (("3", 0.95), ("8", 0.03), ("B", 0.01)),
        (("4", 0.96), ("A", 0.02), ("1", 0.01)),
    ),
)
FAINT = PlateRead(
    text="XYZ1234",
    normalized="XYZ1234",
    confidence=0.3,
    char_confidences=(0.3,) * 7,
    detection_confidence=0.5,
    box=Box(10, 10, 60, 30),
    crop_jpeg=CROP,
    at_edge=True,
    incomplete=True,
)
ENGINE_TIMINGS = Timings(detect=1.25, ocr=2.5, total=4.0)


@dataclass(frozen=True)
class Call:
    """What the engine was asked."""

    shape: tuple[int, ...]
    region: str | None
    min_confidence: float
    crops: bool


class FakeEngine:
    """A deterministic `Recognizer`: two fixed plates; can block on a gate or fail."""

    def __init__(
        self, *, gate: threading.Event | None = None, error: Exception | None = None
    ) -> None:
        """Block each recognition on `gate` if given; raise `error` if given."""
        self.calls: list[Call] = []
        self.started = threading.Event()
        self.gate = gate
        self.error = error

    @property
    def models(self) -> Mapping[str, ModelInfo]:
        """Two fake models."""
        return MODELS

    def recognize(
        self,
        image: ImageArray,
        *,
        region: str | None = None,
        min_confidence: float = 0.0,
        crops: bool = False,
    ) -> RecognitionResult:
        """Record the call and answer with the fixed plates above `min_confidence`."""
        self.calls.append(Call(image.shape, region, min_confidence, crops))
        self.started.set()
        if self.gate is not None and not self.gate.wait(60):
            raise TimeoutError("the test never opened the gate")
        if self.error is not None:
            raise self.error
        plates = tuple(
            p if crops else replace(p, crop_jpeg=None)
            for p in (PLATE, FAINT)
            if p.confidence >= min_confidence
        )
        height, width = image.shape[:2]
        return RecognitionResult(plates, width, height, ENGINE_TIMINGS)

    def warm_up(self) -> None:
        """Nothing to warm up."""


MakeClient = Callable[..., Awaitable["TestClient[Any, Any]"]]


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path) -> MakeClient:
    """Start the real app on 127.0.0.1 with the given engine and settings."""

    async def make(engine: Any = None, **settings: Any) -> TestClient[Any, Any]:
        config = ServiceConfig(**{"data_dir": tmp_path, **settings})
        app = create_app(config, engine or FakeEngine(), instance_id=INSTANCE_ID)
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return make


@pytest.fixture(scope="module")
def jpeg(sample_photos: dict[str, bytes]) -> bytes:
    """Return a real 1280 x 720 car photo."""
    return sample_photos["br/AYO9034.jpg"]


async def assert_error(
    response: aiohttp.ClientResponse, status: int, code: str, *, mentions: str | None = None
) -> str:
    """Check an error answer's status and JSON shape; return its message."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message
    if mentions is not None:
        assert mentions in message
    return message


# --- health --------------------------------------------------------------------------------


async def test_health_reports_the_service(make_client: MakeClient) -> None:
    client = await make_client(workers=2, max_queue=3)
    response = await client.get("/v1/health")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {
        "service": "anpr-inference",
        "status": "ok",
        "version": __version__,
        "instance_id": INSTANCE_ID,
        "models": {
            "detector": {
                "name": "fake-detector",
                "source": "embedded",
                "path": "/models/detector.onnx",
            },
            "ocr": {"name": "fake-ocr", "source": "file", "path": "/models/ocr.onnx"},
        },
        "workers": 2,
        "queue": {"pending": 0, "max": 3},
        "auth_required": False,
    }


async def test_health_never_needs_the_key(make_client: MakeClient) -> None:
    client = await make_client(api_key=API_KEY)
    response = await client.get("/v1/health")
    assert response.status == 200
    assert (await response.json())["auth_required"] is True


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-key-123", f"Basic {API_KEY}", API_KEY, f"Bearer {API_KEY}x"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/recognize"), ("GET", "/metrics"), ("GET", "/v1/openapi.json"), ("GET", "/x")],
)
async def test_missing_or_wrong_key_is_401(
    make_client: MakeClient, jpeg: bytes, authorization: str | None, method: str, path: str
) -> None:
    client = await make_client(api_key=API_KEY)
    headers = {"Content-Type": "image/jpeg"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await client.request(method, path, data=jpeg, headers=headers)
    await assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_right_key_is_accepted_and_never_logged(
    make_client: MakeClient, jpeg: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await make_client(api_key=API_KEY)
    for scheme in ("Bearer", "bearer"):
        auth = {"Authorization": f"{scheme} {API_KEY}"}
        assert (await client.get("/metrics", headers=auth)).status == 200
        assert (await client.get("/v1/openapi.json", headers=auth)).status == 200
        response = await client.post(
            "/v1/recognize", data=jpeg, headers={**auth, "Content-Type": "image/jpeg"}
        )
        assert response.status == 200
    await client.get("/metrics", headers={"Authorization": "Bearer wrong-key-123"})
    assert API_KEY not in caplog.text


# --- recognition ---------------------------------------------------------------------------


async def test_recognize_a_real_jpeg(make_client: MakeClient, jpeg: bytes) -> None:
    engine = FakeEngine()
    client = await make_client(engine)
    response = await client.post("/v1/recognize", data=jpeg, headers={"Content-Type": "image/jpeg"})
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"plates", "image", "timings_ms", "models"}
    assert body["image"] == {"width": 1280, "height": 720}
    assert body["models"] == {"detector": "fake-detector", "ocr": "fake-ocr"}
    # The default min_confidence (0.4) drops the faint plate; no crops unless asked.
    assert body["plates"] == [PLATE.as_dict()]
    assert "crop" not in body["plates"][0]
    timings = body["timings_ms"]
    assert timings["detect"] == 1.2  # rounded by Timings.as_dict
    assert timings["ocr"] == 2.5
    assert timings["decode"] > 0
    assert timings["total"] == pytest.approx(timings["decode"] + 4.0, abs=0.11)
    assert engine.calls == [Call((720, 1280, 3), None, 0.4, False)]


async def test_plates_carry_alternatives_and_completeness(
    make_client: MakeClient, jpeg: bytes
) -> None:
    client = await make_client(FakeEngine())
    response = await client.post(
        "/v1/recognize",
        params={"min_confidence": "0"},
        data=jpeg,
        headers={"Content-Type": "image/jpeg"},
    )
    plate, faint = (await response.json())["plates"]
    assert plate["alternatives"][3] == [
        {"char": "0", "p": 0.31},
        {"char": "O", "p": 0.6},
        {"char": "D", "p": 0.06},
    ]
    assert (plate["at_edge"], plate["incomplete"]) == (False, False)
    # An OCR without probabilities gives no alternatives; a plate at the frame's edge is
    # flagged as possibly cut.
    assert (faint["alternatives"], faint["at_edge"], faint["incomplete"]) == ([], True, True)


async def test_query_options_reach_the_engine(make_client: MakeClient, jpeg: bytes) -> None:
    engine = FakeEngine()
    client = await make_client(engine)
    response = await client.post(
        "/v1/recognize",
        params={"region": "br", "min_confidence": "0.25", "crops": "true"},
        data=jpeg,
        headers={"Content-Type": "image/jpeg"},
    )
    assert response.status == 200
    plates = (await response.json())["plates"]
    assert [p["normalized"] for p in plates] == ["AYO9034", "XYZ1234"]
    assert all(base64.b64decode(p["crop"], validate=True) == CROP for p in plates)
    assert engine.calls == [Call((720, 1280, 3), "br", 0.25, True)]


async def test_defaults_come_from_the_config(make_client: MakeClient, jpeg: bytes) -> None:
    engine = FakeEngine()
    client = await make_client(engine, default_region="uk", min_confidence=0.2)
    response = await client.post(
        "/v1/recognize",
        params={"crops": "false", "min_confidence": "1e-05"},
        data=jpeg,
        headers={"Content-Type": "image/jpeg"},
    )
    assert response.status == 200
    assert engine.calls == [Call((720, 1280, 3), "uk", 1e-05, False)]
    response = await client.post("/v1/recognize", data=jpeg, headers={"Content-Type": "image/jpeg"})
    assert len((await response.json())["plates"]) == 2  # min_confidence 0.2 keeps both
    assert engine.calls[1] == Call((720, 1280, 3), "uk", 0.2, False)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_recognize_png_and_webp(make_client: MakeClient, fmt: str) -> None:
    engine = FakeEngine()
    client = await make_client(engine)
    data = encode(Image.new("RGB", (64, 48), (200, 10, 10)), fmt)
    response = await client.post(
        "/v1/recognize", data=data, headers={"Content-Type": f"image/{fmt.lower()}"}
    )
    assert response.status == 200
    assert (await response.json())["image"] == {"width": 64, "height": 48}


async def test_declared_image_type_may_differ_from_content(
    make_client: MakeClient, jpeg: bytes
) -> None:
    client = await make_client()
    response = await client.post("/v1/recognize", data=jpeg, headers={"Content-Type": "image/png"})
    assert response.status == 200


async def test_unlabelled_body_is_accepted_by_its_magic(
    make_client: MakeClient, jpeg: bytes
) -> None:
    client = await make_client()
    response = await client.post(
        "/v1/recognize", data=jpeg, headers={"Content-Type": "application/octet-stream"}
    )
    assert response.status == 200
    response = await client.post("/v1/recognize", data=jpeg, skip_auto_headers={"Content-Type"})
    assert response.status == 200


async def test_multipart_upload(make_client: MakeClient, jpeg: bytes) -> None:
    engine = FakeEngine()
    client = await make_client(engine)
    form = aiohttp.FormData()
    form.add_field("note", "front gate")
    form.add_field("image", jpeg, filename="car.jpg", content_type="image/jpeg")
    response = await client.post("/v1/recognize", data=form, params={"region": "br"})
    assert response.status == 200
    assert (await response.json())["image"] == {"width": 1280, "height": 720}
    assert engine.calls == [Call((720, 1280, 3), "br", 0.4, False)]


async def test_multipart_part_without_image_type(make_client: MakeClient, jpeg: bytes) -> None:
    client = await make_client()
    form = aiohttp.FormData()
    form.add_field("image", jpeg, filename="car.bin", content_type="application/octet-stream")
    assert (await client.post("/v1/recognize", data=form)).status == 200


async def test_multipart_without_image_field(make_client: MakeClient, jpeg: bytes) -> None:
    client = await make_client()
    form = aiohttp.FormData()
    form.add_field("picture", jpeg, filename="car.jpg", content_type="image/jpeg")
    response = await client.post("/v1/recognize", data=form)
    await assert_error(response, 400, "invalid_image", mentions="image")


async def test_multipart_with_text_part(make_client: MakeClient) -> None:
    client = await make_client()
    form = aiohttp.FormData()
    form.add_field("image", b"hello", filename="car.txt", content_type="text/plain")
    response = await client.post("/v1/recognize", data=form)
    await assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=xyz"]
)
async def test_malformed_multipart(make_client: MakeClient, content_type: str) -> None:
    client = await make_client()
    response = await client.post(
        "/v1/recognize", data=b"this is no multipart body", headers={"Content-Type": content_type}
    )
    await assert_error(response, 400, "invalid_image")


# --- 400 -----------------------------------------------------------------------------------


def _truncated(fmt: str) -> bytes:
    noisy = Image.fromarray(np.random.default_rng(7).integers(0, 255, (64, 64, 3), np.uint8))
    data = encode(noisy, fmt)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/jpeg", _truncated("JPEG")),
        ("image/png", _truncated("PNG")),
        ("image/webp", _truncated("WEBP")),
        ("image/jpeg", b"\xff\xd8\xff" + b"\x00" * 100),
        ("image/png", b"definitely not a png"),
        ("image/webp", b""),
        ("application/octet-stream", b""),
    ],
)
async def test_undecodable_images_are_400(
    make_client: MakeClient, content_type: str, data: bytes
) -> None:
    client = await make_client()
    response = await client.post("/v1/recognize", data=data, headers={"Content-Type": content_type})
    await assert_error(response, 400, "invalid_image")


async def test_truncated_real_photo_is_400(make_client: MakeClient, jpeg: bytes) -> None:
    client = await make_client()
    response = await client.post(
        "/v1/recognize", data=jpeg[: len(jpeg) // 2], headers={"Content-Type": "image/jpeg"}
    )
    await assert_error(response, 400, "invalid_image")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("region=xx", "region"),
        ("region=BR", "region"),
        ("region=", "region"),
        ("region=br&region=us", "region"),
        ("min_confidence=1.5", "min_confidence"),
        ("min_confidence=-0.1", "min_confidence"),
        ("min_confidence=abc", "min_confidence"),
        ("min_confidence=nan", "min_confidence"),
        ("min_confidence=inf", "min_confidence"),
        ("min_confidence=1e999", "min_confidence"),
        ("min_confidence=", "min_confidence"),
        ("min_confidence=0x1", "min_confidence"),
        ("crops=yes", "crops"),
        ("crops=1", "crops"),
        ("crops=True", "crops"),
    ],
)
async def test_bad_query_values_are_400(
    make_client: MakeClient, jpeg: bytes, query: str, name: str
) -> None:
    engine = FakeEngine()
    client = await make_client(engine)
    response = await client.post(
        f"/v1/recognize?{query}", data=jpeg, headers={"Content-Type": "image/jpeg"}
    )
    await assert_error(response, 400, "invalid_parameter", mentions=name)
    assert engine.calls == []


# --- 404, 405 ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v2/recognize", "/v1/health/extra", "/metrics.txt"])
async def test_unknown_path_is_404(make_client: MakeClient, path: str) -> None:
    client = await make_client()
    await assert_error(await client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/recognize", "POST"),
        ("PUT", "/v1/recognize", "POST"),
        ("POST", "/v1/health", "GET"),
        ("DELETE", "/metrics", "GET"),
    ],
)
async def test_wrong_method_is_405(
    make_client: MakeClient, method: str, path: str, allowed: str
) -> None:
    client = await make_client()
    response = await client.request(method, path)
    await assert_error(response, 405, "method_not_allowed")
    assert allowed in response.headers["Allow"]


# --- 413 -----------------------------------------------------------------------------------

LIMIT = 4096


async def test_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    engine = FakeEngine()
    client = await make_client(engine, max_body_bytes=LIMIT)
    response = await client.post(
        "/v1/recognize", data=b"\xff" * (LIMIT + 1), headers={"Content-Type": "image/jpeg"}
    )
    await assert_error(response, 413, "payload_too_large", mentions=str(LIMIT))
    # Exactly at the limit is allowed (and then fails as the garbage it is).
    response = await client.post(
        "/v1/recognize", data=b"\xff" * LIMIT, headers={"Content-Type": "image/jpeg"}
    )
    await assert_error(response, 400, "invalid_image")
    assert engine.calls == []


async def test_chunked_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    client = await make_client(max_body_bytes=LIMIT)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"\xff" * 1024

    response = await client.post(
        "/v1/recognize", data=chunks(), headers={"Content-Type": "image/jpeg"}
    )
    assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
    await assert_error(response, 413, "payload_too_large")


async def test_multipart_over_the_limit_is_413(make_client: MakeClient, jpeg: bytes) -> None:
    client = await make_client(max_body_bytes=LIMIT)
    form = aiohttp.FormData()
    form.add_field("image", jpeg, filename="car.jpg", content_type="image/jpeg")
    response = await client.post("/v1/recognize", data=form)
    await assert_error(response, 413, "payload_too_large")


async def test_pixel_bomb_is_413(make_client: MakeClient) -> None:
    engine = FakeEngine()
    client = await make_client(engine)
    bomb = png_header_only(20_000, 20_000)
    assert len(bomb) < 100
    response = await client.post("/v1/recognize", data=bomb, headers={"Content-Type": "image/png"})
    await assert_error(response, 413, "image_too_large")
    assert engine.calls == []


async def test_image_over_max_pixels_is_413(make_client: MakeClient) -> None:
    client = await make_client(max_pixels=10_000)
    data = encode(Image.new("RGB", (200, 100)), "PNG")
    response = await client.post("/v1/recognize", data=data, headers={"Content-Type": "image/png"})
    await assert_error(response, 413, "image_too_large", mentions="10000")


# --- 415 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", b"hello"),
        ("application/json", b'{"image": "..."}'),
        ("image/gif", encode(Image.new("RGB", (8, 8)), "GIF")),
        ("image/png", encode(Image.new("RGB", (8, 8)), "GIF")),  # a GIF posing as PNG
        ("image/jpeg", encode(Image.new("RGB", (8, 8)), "BMP")),
        ("application/octet-stream", b"no magic bytes here"),
    ],
)
async def test_wrong_media_type_is_415(
    make_client: MakeClient, content_type: str, data: bytes
) -> None:
    client = await make_client()
    response = await client.post("/v1/recognize", data=data, headers={"Content-Type": content_type})
    await assert_error(response, 415, "unsupported_media_type")


# --- 500 -----------------------------------------------------------------------------------


async def test_engine_failure_is_a_generic_500(
    make_client: MakeClient, jpeg: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(FakeEngine(error=RuntimeError("secret internal detail")))
    response = await client.post("/v1/recognize", data=jpeg, headers={"Content-Type": "image/jpeg"})
    message = await assert_error(response, 500, "internal_error")
    assert "secret" not in message
    assert "secret internal detail" in caplog.text
    assert "Traceback" in caplog.text
    # The server keeps serving.
    assert (await client.get("/v1/health")).status == 200


# --- 503: admission control ----------------------------------------------------------------


async def test_full_queue_is_503_and_health_still_answers(
    make_client: MakeClient, jpeg: bytes
) -> None:
    gate = threading.Event()
    engine = FakeEngine(gate=gate)
    client = await make_client(engine, workers=1, max_queue=1)
    headers = {"Content-Type": "image/jpeg"}
    running = asyncio.create_task(client.post("/v1/recognize", data=jpeg, headers=headers))
    queued: asyncio.Task[aiohttp.ClientResponse] | None = None
    try:
        assert await asyncio.to_thread(engine.started.wait, 60)
        queued = asyncio.create_task(client.post("/v1/recognize", data=jpeg, headers=headers))
        for _ in range(2000):  # until the second request is admitted and waiting
            health = await (await client.get("/v1/health")).json()
            if health["queue"]["pending"] == 1:
                break
            await asyncio.sleep(0.01)
        assert health["queue"] == {"pending": 1, "max": 1}

        response = await client.post("/v1/recognize", data=jpeg, headers=headers)
        await assert_error(response, 503, "overloaded")
        assert int(response.headers["Retry-After"]) >= 1

        # Health and metrics answer at once while every worker is busy: busy, not down.
        response = await client.get("/v1/health")
        assert response.status == 200
        assert (await response.json())["status"] == "degraded"
        metrics = await (await client.get("/metrics")).text()
        assert "anpr_requests_in_flight 2.0" in metrics
        assert "anpr_queue_depth 1.0" in metrics
        assert "anpr_degraded 1.0" in metrics
        assert 'anpr_http_errors_total{code="overloaded"} 1.0' in metrics
    finally:
        gate.set()
        first = await running
        second = await queued if queued is not None else None
    assert first.status == 200
    assert second is not None
    assert second.status == 200
    assert len(engine.calls) == 2
    health = await (await client.get("/v1/health")).json()
    assert health["queue"]["pending"] == 0
    assert health["status"] == "ok"
    assert "anpr_degraded 0.0" in await (await client.get("/metrics")).text()
    # Capacity is back: a new request is admitted.
    response = await client.post("/v1/recognize", data=jpeg, headers=headers)
    assert response.status == 200


async def test_bodies_being_received_share_a_memory_budget(make_client: MakeClient) -> None:
    # Bodies being received may hold two largest bodies' worth in all.
    client = await make_client(max_body_bytes=2048)
    receiving = client.server.app[_STATE].receiving
    assert receiving.limit == 2 * 2048
    release = asyncio.Event()
    part = b"\xff\xd8\xff" + b"\0" * 1997

    async def slow_body() -> AsyncIterator[bytes]:
        yield part
        await release.wait()

    headers = {"Content-Type": "image/jpeg"}
    slow = [
        asyncio.create_task(client.post("/v1/recognize", data=slow_body(), headers=headers))
        for _ in range(2)
    ]
    try:
        for _ in range(2000):  # until the server holds both first parts
            if receiving.held >= 2 * len(part):
                break
            await asyncio.sleep(0.01)
        assert receiving.held == 2 * len(part)
        response = await client.post("/v1/recognize", data=part[:200], headers=headers)
        await assert_error(response, 503, "overloaded", mentions="uploads")
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        release.set()
    for task in slow:
        await assert_error(await task, 400, "invalid_image")
    assert receiving.held == 0


# --- metrics and OpenAPI -------------------------------------------------------------------


async def test_metrics_expose_the_expected_series(make_client: MakeClient, jpeg: bytes) -> None:
    client = await make_client()
    headers = {"Content-Type": "image/jpeg"}
    assert (await client.post("/v1/recognize", data=jpeg, headers=headers)).status == 200
    bad = await client.post("/v1/recognize?region=xx", data=jpeg, headers=headers)
    assert bad.status == 400
    assert (await client.get("/nowhere")).status == 404
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    for series in [
        'anpr_http_requests_total{endpoint="/v1/recognize",method="POST",status="200"} 1.0',
        'anpr_http_requests_total{endpoint="/v1/recognize",method="POST",status="400"} 1.0',
        'anpr_http_requests_total{endpoint="unmatched",method="GET",status="404"} 1.0',
        'anpr_http_errors_total{code="invalid_parameter"} 1.0',
        'anpr_http_errors_total{code="not_found"} 1.0',
        'anpr_http_request_duration_seconds_count{endpoint="/v1/recognize"} 2.0',
        'anpr_recognition_stage_duration_seconds_count{stage="decode"} 1.0',
        'anpr_recognition_stage_duration_seconds_count{stage="detect"} 1.0',
        'anpr_recognition_stage_duration_seconds_count{stage="ocr"} 1.0',
        'anpr_recognition_stage_duration_seconds_count{stage="total"} 1.0',
        "anpr_plates_found_total 1.0",
        "anpr_images_recognized_total 1.0",
        "anpr_requests_in_flight 0.0",
        "anpr_queue_depth 0.0",
        'anpr_model_info{name="fake-detector",source="embedded",stage="detector"} 1.0',
        'anpr_model_info{name="fake-ocr",source="file",stage="ocr"} 1.0',
        f'anpr_build_info{{version="{__version__}"}} 1.0',
    ]:
        assert series in text, series


async def test_two_apps_keep_separate_metrics(make_client: MakeClient, jpeg: bytes) -> None:
    first = await make_client()
    second = await make_client()
    await first.post("/v1/recognize", data=jpeg, headers={"Content-Type": "image/jpeg"})
    assert "anpr_plates_found_total 1.0" in await (await first.get("/metrics")).text()
    assert "anpr_plates_found_total 0.0" in await (await second.get("/metrics")).text()


async def test_openapi_document_is_served(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.get("/v1/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/v1/health",
        "/v1/recognize",
        "/metrics",
        "/v1/openapi.json",
    }


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("nas", False)],  # noqa: S104
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback


def test_unknown_default_region_is_refused_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default_region"):
        create_app(
            ServiceConfig(data_dir=tmp_path, default_region="xx"),
            FakeEngine(),
            instance_id=INSTANCE_ID,
        )


# --- run(): the process lifecycle ----------------------------------------------------------

SERVE_SCRIPT = r"""
import logging, sys, time
from pathlib import Path

from anpr_inference import server
from anpr_inference.config import ConfigError, ServiceConfig
from anpr_inference.results import ModelInfo, RecognitionResult, Timings

data_dir, release, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]


class SlowEngine:
    models = {
        "detector": ModelInfo("slow-detector", "embedded", "-"),
        "ocr": ModelInfo("slow-ocr", "embedded", "-"),
    }

    def recognize(self, image, *, region=None, min_confidence=0.0, crops=False):
        print("recognize started", flush=True)
        while not release.exists():  # the test decides when the slow request may finish
            time.sleep(0.01)
        return RecognitionResult((), image.shape[1], image.shape[0], Timings(total=1.0))

    def warm_up(self):
        pass


async def announce(port):
    if mode == "announce-fails":
        raise ConnectionError("no supervisor here")
    print(f"announced {port}", flush=True)


logging.basicConfig(level=logging.INFO, stream=sys.stderr)
server.run(
    ServiceConfig(host="127.0.0.1", port=0, data_dir=data_dir), SlowEngine(), announce=announce
)
"""

LISTENING = re.compile(r"^anpr-inference listening on http://127\.0\.0\.1:(\d+)$")


async def _start_service(tmp_path: Path, mode: str) -> tuple[asyncio.subprocess.Process, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE_SCRIPT,
        str(tmp_path / "data"),
        str(tmp_path / "release"),
        mode,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode().strip()
    match = LISTENING.match(line)
    if match is None:
        process.kill()
        _, err = await process.communicate()
        pytest.fail(f"unexpected first line {line!r}; stderr:\n{err.decode()}")
    return process, int(match.group(1))


async def _refuses_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def test_run_shuts_down_gracefully_on_sigterm(tmp_path: Path, jpeg: bytes) -> None:
    process, port = await _start_service(tmp_path, "announce")
    assert process.stdout is not None
    try:
        assert (await process.stdout.readline()).decode().strip() == f"announced {port}"
        async with aiohttp.ClientSession() as session:
            slow = asyncio.create_task(
                session.post(
                    f"http://127.0.0.1:{port}/v1/recognize",
                    data=jpeg,
                    headers={"Content-Type": "image/jpeg"},
                )
            )
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line.decode().strip() == "recognize started"

            process.send_signal(signal.SIGTERM)
            for _ in range(2000):  # the listener closes first...
                if await _refuses_connections(port):
                    break
                await asyncio.sleep(0.01)
            assert await _refuses_connections(port)
            (tmp_path / "release").touch()  # ...then the in-flight request may finish

            response = await asyncio.wait_for(slow, 60)
            assert response.status == 200
            assert (await response.json())["image"] == {"width": 1280, "height": 720}
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "Shutting down" in err.decode()
    # The instance id was created in the data directory on the way.
    assert re.fullmatch(r"[0-9a-f]{32}\n", (tmp_path / "data" / "instance_id").read_text())


async def test_run_survives_a_failing_announce_and_stops_on_sigint(tmp_path: Path) -> None:
    process, port = await _start_service(tmp_path, "announce-fails")
    try:
        async with aiohttp.ClientSession() as session:
            response = await session.get(f"http://127.0.0.1:{port}/v1/health")
            assert response.status == 200
            assert (await response.json())["auth_required"] is False
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "Announcing the service failed" in err.decode()
    assert "no supervisor here" in err.decode()
    assert "No API key is set" not in err.decode()  # loopback only: no warning


# --- the real engine -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_engine(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Load the real pipeline: embedded PP-OCRv4 text detector + the shared plate OCR model."""
    config = ServiceConfig(
        detector="embedded",
        ocr="file",
        ocr_path=models_dir / "cct_xs_v1_global.onnx",
        ocr_config_path=models_dir / "cct_xs_v1_global_plate_config.yaml",
        model_dir=tmp_path_factory.mktemp("models"),
        allow_download=False,
    )
    return create_engine(config)


async def test_real_engine_reads_a_real_plate(
    aiohttp_client: Any, real_engine: Any, jpeg: bytes, tmp_path: Path
) -> None:
    app = create_app(ServiceConfig(data_dir=tmp_path), real_engine, instance_id=INSTANCE_ID)
    client = await aiohttp_client(app)
    response = await client.post(
        "/v1/recognize",
        params={"region": "br", "crops": "true"},
        data=jpeg,
        headers={"Content-Type": "image/jpeg"},
    )
    assert response.status == 200
    body = await response.json()
    best = body["plates"][0]
    assert best["normalized"] == "AYO9034"
    assert best["region"] == "br"
    assert len(best["char_confidences"]) == 7
    # Per character of `normalized`: that character first, then the likeliest others.
    alternatives = best["alternatives"]
    assert [options[0]["char"] for options in alternatives] == list("AYO9034")
    assert all(1 <= len(options) <= 3 for options in alternatives)
    assert [options[0]["p"] for options in alternatives] == best["char_confidences"]
    assert (best["at_edge"], best["incomplete"]) == (False, False)
    assert base64.b64decode(best["crop"]).startswith(b"\xff\xd8\xff")
    assert body["models"] == {stage: m.name for stage, m in real_engine.models.items()}
