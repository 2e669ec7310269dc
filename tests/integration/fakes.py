"""A fake anpr inference service: a real aiohttp server on 127.0.0.1 speaking API v1.

Its answers are built from the wire models of the API contract (`custom_components/anpr/
contract.py`, the integration's copy of `inference_addon/anpr_inference/contract.py`), the
ones the service answers with and the client parses with, with knobs to make it misbehave
(wrong key, queued error answers, junk JSON, slow answers, being down with 500s, or really gone:
`stop()` and `start()` again on the same port, also right after a given answer), and records
what it was sent so tests can check the integration's requests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from custom_components.anpr.contract import (
    HEALTH_PATH,
    OPENAPI_PATH,
    RECOGNIZE_PATH,
    SERVICE_NAME,
    Box,
    CharAlternative,
    Health,
    ImageSize,
    ModelInfo,
    PlateRead,
    Queue,
    Recognition,
    error_body,
)

INSTANCE_ID = "0123456789abcdef0123456789abcdef"
API_KEY = "secret-key-123"
# A tiny valid JPEG header is enough for a crop: the integration stores the bytes as they are.
CROP_JPEG = b"\xff\xd8\xff\xe0crop-of-the-plate\xff\xd9"


def plate_json(
    text: str,
    confidence: float = 0.95,
    char_confidences: list[float] | None = None,
    *,
    crop: bytes | None = CROP_JPEG,
    box: tuple[int, int, int, int] = (528, 412, 690, 464),
    alternatives: list[list[tuple[str, float]]] | None = None,
    at_edge: bool | None = None,
    incomplete: bool | None = None,
) -> dict[str, Any]:
    """Build one plate of a `/v1/recognize` answer.

    `alternatives` (per character: (char, p) pairs, the plate's character first), `at_edge`
    and `incomplete` are left out unless given, as a service before 0.3.0 answers;
    `alternatives_of` builds plain alternatives for a text.
    """
    plate = PlateRead(
        text=text,
        normalized=text,
        confidence=confidence,
        char_confidences=tuple(
            char_confidences if char_confidences is not None else [confidence] * len(text)
        ),
        detection_confidence=0.9,
        box=Box(*box),
        alternatives=tuple(
            tuple(CharAlternative(char, p) for char, p in options) for options in alternatives or ()
        ),
        at_edge=at_edge,
        incomplete=incomplete,
        crop=crop,
    ).to_json()
    given = {"alternatives": alternatives, "at_edge": at_edge, "incomplete": incomplete}
    return {key: value for key, value in plate.items() if given.get(key, True) is not None}


def alternatives_of(
    text: str, confidence: float = 0.95, runner_up: str = "0"
) -> list[list[tuple[str, float]]]:
    """Alternatives as the service gives them: each character, then `runner_up` (or `1`)."""
    rest = round(1.0 - confidence, 4)
    return [[(c, confidence), (runner_up if c != runner_up else "1", rest)] for c in text]


def recognition_json(*plates: dict[str, Any], total_ms: float = 56.0) -> dict[str, Any]:
    """Build a whole `/v1/recognize` answer (the plates as `plate_json` built them)."""
    body = Recognition(
        plates=(),
        image=ImageSize(1280, 720),
        timings_ms={"decode": 3.1, "detect": 40.2, "ocr": 12.0, "total": total_ms},
        models={"detector": "fake-detector", "ocr": "fake-ocr"},
    ).to_json()
    return body | {"plates": list(plates)}


def health_json(*, auth_required: bool = True, version: str = "0.1.0") -> dict[str, Any]:
    """Build a `/v1/health` answer."""
    return Health(
        service=SERVICE_NAME,
        status="ok",
        version=version,
        instance_id=INSTANCE_ID,
        models={
            "detector": ModelInfo("fake-detector", "embedded", "/x/det.onnx"),
            "ocr": ModelInfo("fake-ocr", "file", "/x/ocr.onnx"),
        },
        workers=1,
        queue=Queue(pending=0, max=8),
        auth_required=auth_required,
    ).to_json()


def error_json(code: str, message: str) -> dict[str, Any]:
    """Build the service's error body."""
    return error_body(code, message)


@dataclass
class Answer:
    """A scripted answer: status, body (JSON-encodable or raw bytes) and headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    then_stop: bool = False
    """Stop the server right after this answer, as if the service's process died."""


@dataclass
class Request:
    """What the fake service received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeAnprService:
    """The fake service; start with `await start()`, stop with `await close()`."""

    def __init__(self) -> None:
        """Answer like a healthy service that needs `API_KEY` and reads `AYO9034`."""
        self.api_key: str | None = API_KEY
        self.health: dict[str, Any] = health_json()
        self.health_answers: list[Answer] = []
        self.recognize_answers: list[Answer] = []
        self.default_recognition: dict[str, Any] = recognition_json(plate_json("AYO9034"))
        self.down = False
        self.requests: list[Request] = []
        self._server: TestServer | None = None
        self._port: int | None = None
        self._url: str | None = None
        self._stopping: asyncio.Task[None] | None = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(HEALTH_PATH, self._health)
        app.router.add_get(OPENAPI_PATH, self._openapi)
        app.router.add_post(RECOGNIZE_PATH, self._recognize)
        return app

    @property
    def url(self) -> str:
        """Base URL of the server (the same after a restart)."""
        assert self._url is not None, "start the service first"
        return self._url

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    @property
    def recognize_requests(self) -> list[Request]:
        """The `/v1/recognize` requests received."""
        return [r for r in self.requests if r.path == RECOGNIZE_PATH]

    async def start(self) -> None:
        """Listen on 127.0.0.1: on a free port, then on the same one again after `stop()`."""
        if self._stopping is not None:
            await self._stopping
            self._stopping = None
        self._server = TestServer(self._app(), host="127.0.0.1", port=self._port)
        await self._server.start_server()
        self._port = self._server.port
        self._url = str(self._server.make_url("")).rstrip("/")

    async def stop(self) -> None:
        """Stop listening and close every connection: the service is gone."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.close()

    async def close(self) -> None:
        """Stop for good (the end of a test)."""
        if self._stopping is not None:
            await self._stopping
        await self.stop()

    async def _record(self, request: web.Request) -> None:
        self.requests.append(
            Request(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=await request.read(),
            )
        )

    def _authorized(self, request: web.Request) -> bool:
        return self.api_key is None or (
            request.headers.get("Authorization") == f"Bearer {self.api_key}"
        )

    async def _answer(self, answer: Answer) -> web.StreamResponse:
        if answer.delay:
            await asyncio.sleep(answer.delay)
        response = (
            web.Response(status=answer.status, body=answer.body, headers=answer.headers)
            if isinstance(answer.body, bytes)
            else web.json_response(answer.body, status=answer.status, headers=answer.headers)
        )
        if answer.then_stop:
            # The listening socket closes in the stop task's first step, long before the
            # client has read this answer and sent its next request; `Connection: close`
            # keeps that request from reusing this connection.
            response.force_close()
            self._stopping = asyncio.get_running_loop().create_task(self.stop())
        return response

    def _unauthorized(self) -> web.StreamResponse:
        return web.json_response(
            error_json("unauthorized", "missing or wrong API key"),
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def _health(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if self.down:
            return web.json_response(error_json("internal_error", "down"), status=500)
        if self.health_answers:
            return await self._answer(self.health_answers.pop(0))
        return web.json_response({**self.health, "auth_required": self.api_key is not None})

    async def _openapi(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if self.down:
            return web.json_response(error_json("internal_error", "down"), status=500)
        if not self._authorized(request):
            return self._unauthorized()
        return web.json_response({"openapi": "3.1.0", "info": {"title": "anpr", "version": "1"}})

    async def _recognize(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if self.down:
            return web.json_response(error_json("internal_error", "down"), status=500)
        if not self._authorized(request):
            return self._unauthorized()
        if self.recognize_answers:
            return await self._answer(self.recognize_answers.pop(0))
        return web.json_response(self.default_recognition)
