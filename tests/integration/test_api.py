"""The API client against a real (fake) service on 127.0.0.1: parsing and error mapping."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from custom_components.anpr.api import (
    AnprAuthenticationError,
    AnprClient,
    AnprConnectionError,
    AnprError,
    AnprOverloadedError,
    AnprRequestError,
    AnprResponseError,
    Box,
    CharAlternative,
    image_content_type,
)

from .fakes import (
    API_KEY,
    CROP_JPEG,
    INSTANCE_ID,
    Answer,
    FakeAnprService,
    alternatives_of,
    error_json,
    health_json,
    plate_json,
    recognition_json,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

JPEG = b"\xff\xd8\xff\xe0 not really a photo"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """Open a plain aiohttp session, as Home Assistant would share one."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(session: aiohttp.ClientSession, anpr_service: FakeAnprService) -> AnprClient:
    """Return a client with the right key."""
    return AnprClient(session, anpr_service.url + "/", API_KEY)


async def test_health(client: AnprClient, anpr_service: FakeAnprService) -> None:
    health = await client.health()
    assert health.service == "anpr-inference"
    assert health.instance_id == INSTANCE_ID
    assert health.version == "0.1.0"
    assert health.auth_required is True
    assert health.models["ocr"].source == "file"
    assert (health.workers, health.queue_pending, health.queue_max) == (1, 0, 8)
    # Health never needs the key, but sending it does no harm; no trailing-slash doubling.
    assert anpr_service.requests[0].path == "/v1/health"
    assert client.url == anpr_service.url


async def test_check_auth(
    session: aiohttp.ClientSession, client: AnprClient, anpr_service: FakeAnprService
) -> None:
    await client.check_auth()
    with pytest.raises(AnprAuthenticationError):
        await AnprClient(session, anpr_service.url, "wrong").check_auth()
    with pytest.raises(AnprAuthenticationError):
        await AnprClient(session, anpr_service.url, None).check_auth()
    assert "Authorization" not in anpr_service.requests[-1].headers


async def test_recognize(client: AnprClient, anpr_service: FakeAnprService) -> None:
    anpr_service.default_recognition = recognition_json(
        plate_json("AYO9034", 0.97, [0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93]),
        plate_json("ABC1234", 0.6, crop=None),
    )
    result = await client.recognize(
        JPEG, "image/jpeg", region="br", min_confidence=0.25, crops=True
    )
    assert [p.normalized for p in result.plates] == ["AYO9034", "ABC1234"]
    best = result.plates[0]
    assert best.confidence == 0.97
    assert best.char_confidences[0] == 0.99
    assert best.box == Box(528, 412, 690, 464)
    assert best.crop == CROP_JPEG
    assert result.plates[1].crop is None
    assert (result.width, result.height) == (1280, 720)
    assert result.total_ms == 56.0
    assert result.models == {"detector": "fake-detector", "ocr": "fake-ocr"}

    # An answer without alternatives or completeness flags (a service before 0.3.0).
    assert best.alternatives == ()
    assert (best.at_edge, best.incomplete) == (None, None)

    request = anpr_service.recognize_requests[0]
    assert request.body == JPEG
    assert request.headers["Content-Type"] == "image/jpeg"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.query == {"region": "br", "min_confidence": "0.25", "crops": "true"}


async def test_recognize_defaults(client: AnprClient, anpr_service: FakeAnprService) -> None:
    await client.recognize(JPEG, "image/jpeg")
    assert anpr_service.recognize_requests[0].query == {"crops": "false"}


async def test_recognize_without_models(client: AnprClient, anpr_service: FakeAnprService) -> None:
    body = recognition_json(plate_json("AYO9034"))
    del body["models"]
    anpr_service.recognize_answers.append(Answer(body=body))
    assert (await client.recognize(JPEG, "image/jpeg")).models == {}


@pytest.mark.parametrize(
    ("answer", "error", "check"),
    [
        (
            Answer(401, error_json("unauthorized", "wrong key")),
            AnprAuthenticationError,
            lambda err: str(err) == "wrong key",
        ),
        (
            Answer(503, error_json("overloaded", "queue full"), {"Retry-After": "2"}),
            AnprOverloadedError,
            lambda err: err.retry_after == 2.0,
        ),
        (
            Answer(503, error_json("overloaded", "queue full")),
            AnprOverloadedError,
            lambda err: err.retry_after is None,
        ),
        (
            Answer(503, b"busy", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            AnprOverloadedError,
            lambda err: err.retry_after is None,
        ),
        (
            Answer(503, b"busy", {"Retry-After": "-5"}),
            AnprOverloadedError,
            lambda err: err.retry_after is None,
        ),
        (
            Answer(500, error_json("internal_error", "boom")),
            AnprConnectionError,
            lambda err: "internal_error" in str(err),
        ),
        (
            Answer(502, b"<html>bad gateway</html>"),
            AnprConnectionError,
            lambda err: "http_502" in str(err),
        ),
        (
            Answer(400, error_json("invalid_image", "cannot decode")),
            AnprRequestError,
            lambda err: (
                (err.status, err.code, err.message) == (400, "invalid_image", "cannot decode")
            ),
        ),
        (
            Answer(413, error_json("image_too_large", "too many pixels")),
            AnprRequestError,
            lambda err: err.code == "image_too_large",
        ),
        (
            Answer(404, b"<html>not found</html>"),
            AnprRequestError,
            lambda err: (err.code, err.message) == ("http_404", "HTTP 404"),
        ),
        (
            Answer(415, {"error": {"code": 415, "message": None}}),
            AnprRequestError,
            lambda err: err.code == "http_415",
        ),
        (
            Answer(400, {"error": "flat"}),
            AnprRequestError,
            lambda err: err.code == "http_400",
        ),
    ],
)
async def test_error_mapping(
    client: AnprClient,
    anpr_service: FakeAnprService,
    answer: Answer,
    error: type[AnprError],
    check: Callable[[Any], bool],
) -> None:
    anpr_service.recognize_answers.append(answer)
    with pytest.raises(error) as info:
        await client.recognize(JPEG, "image/jpeg")
    assert check(info.value)


async def test_timeout(session: aiohttp.ClientSession, anpr_service: FakeAnprService) -> None:
    client = AnprClient(
        session, anpr_service.url, API_KEY, request_timeout=0.05, health_timeout=0.05
    )
    anpr_service.health_answers.append(Answer(body=health_json(), delay=0.5))
    with pytest.raises(AnprConnectionError, match="timeout"):
        await client.health()
    anpr_service.recognize_answers.append(Answer(body=recognition_json(), delay=0.5))
    with pytest.raises(AnprConnectionError, match="timeout"):
        await client.recognize(JPEG, "image/jpeg")


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AnprClient(session, f"http://127.0.0.1:{port}", None)
    with pytest.raises(AnprConnectionError, match="cannot reach"):
        await client.health()


def _health_with(**changes: Any) -> dict[str, Any]:
    body = health_json()
    for key, value in changes.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>hello</html>", "did not answer with JSON"),
        (b"\xff\xfe not utf-8", "did not answer with JSON"),
        ([1, 2, 3], "not an object"),
        ({"status": "ok"}, "missing 'service'"),
        (_health_with(service="frigate"), "not an anpr inference service"),
        (_health_with(service=3), "must be a string"),
        (_health_with(instance_id="not-hex"), "32 hexadecimal"),
        (_health_with(auth_required="yes"), "true or false"),
        (_health_with(queue=[]), "health.queue must be an object"),
        (_health_with(queue={"pending": 0}), "missing 'max'"),
        (_health_with(workers=True), "must be an integer"),
        (_health_with(workers=...), "missing 'workers'"),
        (_health_with(models={"ocr": "fast"}), "health.models.ocr must be an object"),
        (_health_with(models={"ocr": {"name": "x", "source": "file"}}), "missing 'path'"),
    ],
)
async def test_junk_health(
    client: AnprClient, anpr_service: FakeAnprService, body: Any, match: str
) -> None:
    anpr_service.health_answers.append(Answer(body=body))
    with pytest.raises(AnprResponseError, match=match):
        await client.health()


async def test_health_instance_id_is_lowercased(
    client: AnprClient, anpr_service: FakeAnprService
) -> None:
    anpr_service.health_answers.append(Answer(body=_health_with(instance_id="AB" * 16)))
    assert (await client.health()).instance_id == "ab" * 16


async def test_recognize_parses_alternatives_and_flags(
    client: AnprClient, anpr_service: FakeAnprService
) -> None:
    options = alternatives_of("AYO9034", 0.9)
    options[3] = [("9", 0.5), ("8", 0.45), ("B", 0.03)]
    anpr_service.default_recognition = recognition_json(
        plate_json("AYO9034", alternatives=options, at_edge=False, incomplete=False),
        plate_json("ABC1234", alternatives=[], at_edge=True, incomplete=True),
    )
    best, cut = (await client.recognize(JPEG, "image/jpeg")).plates
    assert len(best.alternatives) == 7
    assert best.alternatives[3] == (
        CharAlternative("9", 0.5),
        CharAlternative("8", 0.45),
        CharAlternative("B", 0.03),
    )
    assert best.alternatives[0] == (CharAlternative("A", 0.9), CharAlternative("0", 0.1))
    assert (best.at_edge, best.incomplete) == (False, False)
    # No probabilities (an OCR without them) is an empty list, not an error.
    assert (cut.alternatives, cut.at_edge, cut.incomplete) == ((), True, True)


def _plate_with(**changes: Any) -> dict[str, Any]:
    plate = plate_json("AYO9034")
    for key, value in changes.items():
        if value is ...:
            del plate[key]
        else:
            plate[key] = value
    return plate


def _recognition_with(**changes: Any) -> dict[str, Any]:
    body = recognition_json(plate_json("AYO9034"))
    for key, value in changes.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (_recognition_with(plates={"a": 1}), "recognition.plates must be a list"),
        (_recognition_with(plates=["AYO9034"]), r"plates\[0\] must be an object"),
        (_recognition_with(image=...), "missing 'image'"),
        (_recognition_with(image={"width": 1.5, "height": 2}), "must be an integer"),
        (_recognition_with(timings_ms={"decode": 1.0}), "missing 'total'"),
        (_recognition_with(timings_ms={"total": "fast"}), "must be a number"),
        (_recognition_with(models={"ocr": 3}), "recognition.models.ocr must be a string"),
        (_recognition_with(models=[]), "recognition.models must be an object"),
        (recognition_json(_plate_with(normalized=None)), "'normalized' must be a string"),
        (recognition_json(_plate_with(char_confidences=[0.9])), "one char_confidence"),
        (recognition_json(_plate_with(char_confidences="high")), "must be a list"),
        (recognition_json(_plate_with(confidence=1.5)), "between 0 and 1"),
        (recognition_json(_plate_with(confidence=True)), "must be a number"),
        (recognition_json(_plate_with(detection_confidence=...)), "missing"),
        (recognition_json(_plate_with(box={"x1": 1, "y1": 2, "x2": 3})), "missing 'y2'"),
        (recognition_json(_plate_with(box=[1, 2, 3, 4])), "box must be an object"),
        (recognition_json(_plate_with(format=7)), "string or null"),
        (recognition_json(_plate_with(crop=42)), "base64 string"),
        (recognition_json(_plate_with(crop="not base64!")), "not valid base64"),
        (recognition_json(_plate_with(alternatives={"A": 1})), "alternatives must be a list"),
        (
            recognition_json(_plate_with(alternatives=[[{"char": "A", "p": 1.0}]])),
            "one alternatives list per character",
        ),
        (
            recognition_json(
                _plate_with(alternatives=[[{"char": c, "p": 0.9}] for c in "AYO9O34"])
            ),
            r"alternatives\[4\]: must start with the plate's character '0'",
        ),
        (
            recognition_json(_plate_with(alternatives=[[] for _ in "AYO9034"])),
            r"alternatives\[0\]: must start with",
        ),
        (
            recognition_json(_plate_with(alternatives=[[{"char": c}] for c in "AYO9034"])),
            "missing 'p'",
        ),
        (
            recognition_json(
                _plate_with(alternatives=[[{"char": c * 2, "p": 0.5}] for c in "AYO9034"])
            ),
            "'char' must be one character",
        ),
        (
            recognition_json(_plate_with(alternatives=[[{"char": c, "p": 2}] for c in "AYO9034"])),
            "between 0 and 1",
        ),
        (
            recognition_json(_plate_with(alternatives=[["A"] for _ in "AYO9034"])),
            "must be an object",
        ),
        (recognition_json(_plate_with(at_edge="yes")), "'at_edge' must be true or false"),
        (recognition_json(_plate_with(incomplete=1)), "'incomplete' must be true or false"),
    ],
)
async def test_junk_recognition(
    client: AnprClient, anpr_service: FakeAnprService, body: Any, match: str
) -> None:
    anpr_service.recognize_answers.append(Answer(body=body))
    with pytest.raises(AnprResponseError, match=match):
        await client.recognize(JPEG, "image/jpeg")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
        (b"<html>error</html>", None),
        (b"", None),
    ],
)
def test_image_content_type(data: bytes, expected: str | None) -> None:
    assert image_content_type(data) == expected
