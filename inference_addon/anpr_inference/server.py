"""The HTTP API (v1): an aiohttp application around a `Recognizer`, and its lifecycle.

Design points, each there for a reason:

- Inference never runs on the event loop. Decoding and `engine.recognize` run in a thread
  pool of `config.workers` threads owned by the app, so `/v1/health` and `/metrics` answer
  at once even while every worker is busy (Home Assistant polls health to show availability).
- Admission control: at most `workers + max_queue` recognitions are in flight; one more gets
  503 `overloaded` with `Retry-After` at once instead of piling up behind a slow CPU until
  every client times out. A slot is held from admission until the worker is done with the
  image, even when the client has gone, so the bound is real. While every slot is taken,
  `/v1/health` says `degraded` (busy, not down).
- Slow clients cannot take the service from others. A body is received *before* admission,
  so a client trickling its upload holds no slot; it has `body_timeout` seconds for the
  whole body and `BODY_IDLE_TIMEOUT` between two pieces of it, else 408 and the connection
  is closed. Bodies being received share a memory budget of `RECEIVING_BODIES` full-size
  bodies (503 beyond it). A connection must complete its first request's headers within
  `header_timeout` seconds, later ones within `KEEPALIVE_TIMEOUT` of the previous answer.
- Secrets never reach the log: the access log and every line written through
  `redact.RedactingFormatter` have query keys and credentials redacted.
- Every answer the API gives is JSON with the contract's error shape, including aiohttp's own
  404/405/413 and unexpected failures (500 `internal_error`, logged with the traceback, the
  message kept generic so no internals leak).
- The body size limit holds for chunked uploads as well: bodies are read in chunks and
  refused with 413 as soon as they pass the limit, never buffered whole first.
- Bodies are never decompressed (`Content-Encoding` gets 415): aiohttp would inflate each
  network read whole before any limit applies, so a 2 MB gzip body would cost hundreds of
  megabytes, and images are compressed already.
"""

from __future__ import annotations

import asyncio
import base64
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass, field, replace
import hmac
import ipaddress
import logging
import re
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Final, cast
import weakref

from aiohttp import BodyPartReader, MultipartReader, hdrs, web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from . import __version__
from .config import ConfigError
from .formats import REGIONS
from .imaging import (
    MEDIA_TYPES,
    ImageError,
    ImageTooLargeError,
    UnsupportedImageTypeError,
    decode_for_recognition,
    sniff_type,
)
from .instance import load_or_create_instance_id
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics
from .openapi import MULTIPART, OCTET_STREAM, build_openapi
from .redact import AccessLogger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from aiohttp.streams import StreamReader
    from aiohttp.web_request import BaseRequest

    from .config import ServiceConfig
    from .engine import Recognizer
    from .results import RecognitionResult

_LOGGER = logging.getLogger(__name__)

SERVICE_NAME: Final = "anpr-inference"
HEALTH_PATH: Final = "/v1/health"
RECOGNIZE_PATH: Final = "/v1/recognize"
METRICS_PATH: Final = "/metrics"
OPENAPI_PATH: Final = "/v1/openapi.json"

RETRY_AFTER_SECONDS: Final = 1
"""What 503 answers tell clients to wait: one recognition takes well under a second."""
SHUTDOWN_TIMEOUT: Final = 30.0
"""How long a graceful shutdown waits for in-flight requests (the Supervisor waits longer)."""
LINGERING_TIME: Final = 2.0
"""How long the unread rest of a refused body (413, 415, ...) is read and dropped.

Reading it lets the client see the error instead of a reset connection; aiohttp's default of
10 s is also how long a shutdown waits for such a connection when the client neither sends
nor closes (aiohttp's own client does that), which is longer than the Supervisor waits
before it kills the add-on.
"""
BODY_IDLE_TIMEOUT: Final = 10.0
"""Longest pause (seconds) between two pieces of a body, within `body_timeout` for all of it.

A client on a slow link sends something every few hundred milliseconds; one that stalls
this long is stuck or hostile, and the deadline for the whole body need not be waited out."""
KEEPALIVE_TIMEOUT: Final = 30.0
"""How long an idle kept-alive connection stays open, which also bounds the headers of every
request after the first (aiohttp closes a connection whose next request is not complete by
then). Longer than clients keep idle connections (aiohttp's client: 15 s), so the server is
not the one to close a connection a client is about to reuse."""
RECEIVING_BODIES: Final = 2
"""Bodies being received may hold this many largest bodies' worth of memory in all (503
beyond): receiving before admission must not turn the bound on memory into none. A slow
client holds only what it has sent; snapshots are far below the limit, so dozens of
ordinary uploads fit at once."""
_HEADER_SWEEP_INTERVAL: Final = 1.0
_HANDLER_ARGS: Final[dict[str, Any]] = {
    # Compressed bodies are refused, not inflated: see the module docstring.
    "auto_decompress": False,
    "lingering_time": LINGERING_TIME,
    "keepalive_timeout": KEEPALIVE_TIMEOUT,
    "access_log_class": AccessLogger,
}
"""Settings of aiohttp's connection handler, for the app and for `_Connection` alike."""
_READ_CHUNK: Final = 64 * 1024
_MAX_MULTIPART_LINES: Final = 256
"""Boundary and header lines a multipart body may have in all (real forms have a few dozen)."""
_KNOWN_METHODS: Final = frozenset(hdrs.METH_ALL)
_HTTP_ERROR_CODES: Final = {
    400: "invalid_parameter",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    503: "overloaded",
}
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BOOLEANS: Final = {"true": True, "false": False}


class ApiError(Exception):
    """An error answer in the contract's shape: status, machine code, human message."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        """Describe the answer; `headers` are added to it (`Retry-After`, ...)."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class _Load:
    """Counts admitted and running recognitions.

    Admission happens on the event loop, release in whatever thread finishes the work, hence
    the lock.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0

    def try_admit(self) -> bool:
        with self._lock:
            if self._admitted >= self.capacity:
                return False
            self._admitted += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._admitted -= 1

    def start(self) -> None:
        with self._lock:
            self._running += 1

    def finish(self) -> None:
        with self._lock:
            self._running -= 1

    @property
    def admitted(self) -> int:
        """Recognitions in flight: queued or running."""
        return self._admitted

    @property
    def saturated(self) -> bool:
        """Whether every slot is taken (the next recognition would get 503)."""
        return self._admitted >= self.capacity

    @property
    def waiting(self) -> int:
        """Recognitions admitted but not running on a worker (yet)."""
        with self._lock:
            return max(0, self._admitted - self._running)


class _BodyBudget:
    """Bytes of bodies being received, bounded (used on the event loop only)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> None:
        """Count `size` more bytes held, or refuse with 503 when the budget is spent."""
        if self.held + size > self.limit:
            raise _overloaded("too many uploads are being received at once; try again shortly")
        self.held += size

    def give(self, size: int) -> None:
        """Return bytes no longer held by a body being received."""
        self.held -= size


@dataclass(slots=True)
class _State:
    """Everything the handlers share; one per application."""

    config: ServiceConfig
    engine: Recognizer
    instance_id: str
    load: _Load
    receiving: _BodyBudget
    metrics: Metrics
    openapi: dict[str, Any]
    executor: ThreadPoolExecutor | None = None
    served: weakref.WeakSet[asyncio.BaseTransport] = field(default_factory=weakref.WeakSet)
    """Connections (their transports) whose first request's headers have arrived."""


@dataclass(frozen=True, slots=True)
class _Options:
    """The validated query of one recognition."""

    region: str | None
    min_confidence: float
    crops: bool


_STATE: Final = web.AppKey("anpr_state", _State)


def create_app(config: ServiceConfig, engine: Recognizer, *, instance_id: str) -> web.Application:
    """Build the application; its worker pool starts with it and stops at its cleanup.

    Raises ConfigError when the default region is not one the API knows, so a typo in the
    add-on options stops the service at startup instead of failing every request.
    """
    if config.default_region is not None and config.default_region not in REGIONS:
        raise ConfigError(
            f"invalid setting default_region: {config.default_region!r} is not one of "
            f"{', '.join(REGIONS)}"
        )
    load = _Load(config.workers + config.max_queue)
    metrics = Metrics(
        models=engine.models,
        version=__version__,
        in_flight=lambda: load.admitted,
        queued=lambda: load.waiting,
        degraded=lambda: float(load.saturated),
    )
    openapi = build_openapi(
        version=__version__,
        regions=REGIONS,
        auth_required=config.api_key is not None,
        max_body_bytes=config.max_body_bytes,
        max_pixels=config.max_pixels,
        max_decoded_pixels=config.max_decoded_pixels,
        default_region=config.default_region,
        default_min_confidence=config.min_confidence,
    )
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[_metrics_middleware, _error_middleware, _auth_middleware],
        handler_args=_HANDLER_ARGS,
    )
    app[_STATE] = _State(
        config=config,
        engine=engine,
        instance_id=instance_id,
        load=load,
        receiving=_BodyBudget(RECEIVING_BODIES * config.max_body_bytes),
        metrics=metrics,
        openapi=openapi,
    )
    app.cleanup_ctx.append(_worker_pool)
    app.router.add_get(HEALTH_PATH, _health)
    app.router.add_post(RECOGNIZE_PATH, _recognize)
    app.router.add_get(METRICS_PATH, _metrics)
    app.router.add_get(OPENAPI_PATH, _openapi)
    return app


async def _worker_pool(app: web.Application) -> AsyncIterator[None]:
    """Own the inference threads for the application's lifetime.

    At cleanup (after aiohttp has let in-flight requests finish) work still queued is
    cancelled and running work is waited for, off the event loop.
    """
    state = app[_STATE]
    executor = ThreadPoolExecutor(
        max_workers=state.config.workers, thread_name_prefix="anpr-worker"
    )
    state.executor = executor
    try:
        yield
    finally:
        state.executor = None
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


# --- middlewares ---------------------------------------------------------------------------


@web.middleware
async def _metrics_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count every answer by endpoint and status (outermost, so errors are counted too).

    Also notes that the connection delivered a request's headers (see `_close_slow_headers`).
    """
    started = time.perf_counter()
    if request.transport is not None:
        request.app[_STATE].served.add(request.transport)
    response = await handler(request)
    resource = request.match_info.route.resource
    endpoint = resource.canonical if resource is not None else "unmatched"
    method = request.method if request.method in _KNOWN_METHODS else "other"
    request.app[_STATE].metrics.observe_request(
        endpoint, method, response.status, time.perf_counter() - started
    )
    return response


@web.middleware
async def _error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every failure into the contract's JSON error shape."""
    try:
        return await handler(request)
    except ApiError as err:
        return _error_response(request, err.status, err.code, err.message, err.headers)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        headers: dict[str, str] = {}
        if err.status == 405 and hdrs.ALLOW in err.headers:
            headers[hdrs.ALLOW] = err.headers[hdrs.ALLOW]
        code = _HTTP_ERROR_CODES.get(err.status, "internal_error")
        return _error_response(request, err.status, code, _http_message(request, err), headers)
    except Exception:
        _LOGGER.exception("Unexpected error answering %s %s", request.method, request.path)
        return _error_response(request, 500, "internal_error", "internal server error")


@web.middleware
async def _auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Require the API key, when one is configured, everywhere but the health check."""
    key = request.app[_STATE].config.api_key
    if key is not None and request.path != HEALTH_PATH and not _authorized(request, key):
        raise ApiError(
            401,
            "unauthorized",
            "a valid API key is required (Authorization: Bearer <key>)",
            headers={hdrs.WWW_AUTHENTICATE: "Bearer"},
        )
    return await handler(request)


def _authorized(request: web.Request, key: str) -> bool:
    """Check the bearer token in constant time, so its bytes cannot be guessed by timing."""
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # aiohttp decodes header bytes with surrogateescape; encoding back the same way never
    # fails, whatever the client sent.
    given = token.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, key.encode("utf-8"))


def _http_message(request: web.Request, err: web.HTTPException) -> str:
    if err.status == 404:
        return f"no such endpoint: {request.path[:200]}"
    if err.status == 405:
        return f"method {request.method[:20]} is not allowed here"
    if err.status == 413:
        return f"the body is larger than {request.app[_STATE].config.max_body_bytes} bytes"
    return err.reason


def _error_response(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    request.app[_STATE].metrics.observe_error(code)
    response = web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )
    if status == 408:
        # The rest of a late body is not waited for: the connection closes after the answer.
        response.force_close()
    return response


# --- handlers ------------------------------------------------------------------------------


async def _health(request: web.Request) -> web.Response:
    """Who and how the service is; cheap and never behind inference."""
    state = request.app[_STATE]
    return web.json_response(
        {
            "service": SERVICE_NAME,
            # Busy is not down: Home Assistant keeps the service available, and shows why.
            "status": "degraded" if state.load.saturated else "ok",
            "version": __version__,
            "instance_id": state.instance_id,
            "models": {stage: model.as_dict() for stage, model in state.engine.models.items()},
            "workers": state.config.workers,
            "queue": {"pending": state.load.waiting, "max": state.config.max_queue},
            "auth_required": state.config.api_key is not None,
        }
    )


async def _metrics(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    return web.Response(
        body=state.metrics.render(), headers={hdrs.CONTENT_TYPE: METRICS_CONTENT_TYPE}
    )


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[_STATE].openapi)


async def _recognize(request: web.Request) -> web.Response:
    """Find and read the plates of one uploaded image.

    Checks run cheapest first (query, media type, declared length), then the body is
    received, under its deadlines and without an admission slot, and only a complete body
    asks for one: a slow client costs others nothing.
    """
    state = request.app[_STATE]
    config = state.config
    options = _parse_query(request, config)
    content_type = request.content_type.lower()
    if content_type != MULTIPART and content_type not in _RAW_TYPES:
        raise _unsupported(f"Content-Type {content_type} is not accepted")
    encoding = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
    if encoding != "identity":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Encoding {encoding[:50]} is not accepted; send the image uncompressed",
        )
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise _body_too_large(config.max_body_bytes)
    if state.executor is None:
        raise RuntimeError("the worker pool is not running")
    executor = state.executor
    data, declared = await _receive(request, state)
    _check_image_type(declared, data)
    if not state.load.try_admit():
        raise _overloaded("every worker is busy and the queue is full; try again shortly")
    try:
        future = executor.submit(_work, state, data, options)
    except BaseException:
        state.load.release()
        raise
    # The slot is freed when the work is done (or cancelled before it started), not when
    # this handler ends: a client that gives up does not stop a worker mid-image.
    future.add_done_callback(lambda _: state.load.release())
    try:
        result = await asyncio.wrap_future(future)
    except UnsupportedImageTypeError as err:
        raise _unsupported(str(err)) from err
    except ImageTooLargeError as err:
        raise ApiError(413, "image_too_large", str(err)) from err
    except ImageError as err:
        raise ApiError(400, "invalid_image", str(err)) from err

    state.metrics.observe_recognition(result.timings, len(result.plates))
    body = result.as_dict()
    if options.crops:
        for plate_json, plate in zip(body["plates"], result.plates, strict=True):
            if plate.crop_jpeg is not None:
                plate_json["crop"] = base64.b64encode(plate.crop_jpeg).decode("ascii")
    body["models"] = {stage: model.name for stage, model in state.engine.models.items()}
    _LOGGER.debug("Recognised %d plate(s) in %.1f ms", len(result.plates), result.timings.total)
    return web.json_response(body)


async def _receive(request: web.Request, state: _State) -> tuple[bytes, str | None]:
    """Receive the whole body within `body_timeout`; return the image and its declared type.

    A client that stalls (`BODY_IDLE_TIMEOUT`) or misses the deadline gets 408.
    """
    config = state.config
    stream = _GuardedStream(
        request.content,
        limit=config.max_body_bytes,
        idle=min(BODY_IDLE_TIMEOUT, config.body_timeout),
        budget=state.receiving,
    )
    try:
        async with asyncio.timeout(config.body_timeout):
            if request.content_type.lower() == MULTIPART:
                return await _read_multipart(request, stream)
            return await _read_body(stream), request.content_type.lower()
    except TimeoutError as err:
        raise _request_timeout(f"the body did not arrive within {config.body_timeout:g} s") from err
    # The client closed the connection or ended the body before its declared length: a
    # client's failure, answered (if it still listens) as such and not logged as ours.
    except (ConnectionResetError, HttpProcessingError) as err:
        raise ApiError(400, "invalid_image", "the body ended before it was complete") from err
    finally:
        state.receiving.give(stream.held)


def _work(state: _State, data: bytes, options: _Options) -> RecognitionResult:
    """Decode and recognise one image; runs on a worker thread.

    The answer describes the upload: boxes of a reduced JPEG are mapped back to its size.
    """
    state.load.start()
    try:
        started = time.perf_counter()
        decoded = decode_for_recognition(
            data,
            max_pixels=state.config.max_pixels,
            max_decoded_pixels=state.config.max_decoded_pixels,
        )
        decode_ms = (time.perf_counter() - started) * 1000.0
        result = decoded.restore(
            state.engine.recognize(
                decoded.pixels,
                region=options.region,
                min_confidence=options.min_confidence,
                crops=options.crops,
            )
        )
    finally:
        state.load.finish()
    timings = replace(result.timings, decode=decode_ms, total=decode_ms + result.timings.total)
    return replace(result, timings=timings)


# --- request parsing -----------------------------------------------------------------------

_RAW_TYPES: Final = frozenset([*MEDIA_TYPES, OCTET_STREAM])


def _parse_query(request: web.Request, config: ServiceConfig) -> _Options:
    """Validate the query strictly: a typo must not silently fall back to a default."""
    query = request.query
    for name in ("region", "min_confidence", "crops"):
        if len(query.getall(name, [])) > 1:
            raise _invalid_parameter(f"{name} is given more than once")

    region = config.default_region
    if "region" in query:
        region = query["region"]
        if region not in REGIONS:
            raise _invalid_parameter(f"region must be one of {', '.join(REGIONS)}")

    min_confidence = config.min_confidence
    if "min_confidence" in query:
        raw = query["min_confidence"]
        value = float(raw) if _JSON_NUMBER.fullmatch(raw) else None
        if value is None or not 0.0 <= value <= 1.0:
            raise _invalid_parameter("min_confidence must be a number from 0 to 1")
        min_confidence = value

    crops = False
    if "crops" in query:
        flag = _BOOLEANS.get(query["crops"])
        if flag is None:
            raise _invalid_parameter("crops must be true or false")
        crops = flag
    return _Options(region=region, min_confidence=min_confidence, crops=crops)


async def _read_body(stream: _GuardedStream) -> bytes:
    """Read a whole raw body (the stream refuses it as soon as it passes the limit)."""
    body = bytearray()
    while chunk := await stream.read(_READ_CHUNK):
        body += chunk
    return bytes(body)


async def _read_multipart(request: web.Request, stream: _GuardedStream) -> tuple[bytes, str | None]:
    """Return the `image` part of a multipart form and its declared media type.

    Parts before it are read and dropped; the limit counts every byte of the body, framing
    included, exactly like a raw upload.
    """
    try:
        reader = MultipartReader(request.headers, cast("StreamReader", stream))
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "invalid_image", "nested multipart bodies are not supported")
            keep = part.name == "image"
            data = bytearray()
            while chunk := await part.read_chunk(_READ_CHUNK):
                if keep:
                    data += chunk
            if keep:
                return bytes(data), part.headers.get(hdrs.CONTENT_TYPE)
    # aiohttp's multipart reader signals malformed framing with these (a missing boundary
    # parameter is a KeyError, a broken one a ValueError or a failed internal assertion, a
    # malformed part header an HttpProcessingError).
    except (ValueError, KeyError, AssertionError, HttpProcessingError) as err:
        reason = err.message if isinstance(err, HttpProcessingError) else err
        raise ApiError(
            400, "invalid_image", f"malformed multipart/form-data body: {reason}"[:200]
        ) from err
    raise ApiError(400, "invalid_image", "the multipart form has no `image` field")


class _GuardedStream:
    """The request body with the service's limits on size, time and memory.

    Every read must bring data within `idle` seconds (408 otherwise), the body may not pass
    `limit` bytes (413) and what is read is counted against the shared receiving budget
    (503 when it is spent); `held` is what this body took from it.

    aiohttp's multipart parser reads boundaries and part headers with `readline`, keeps every
    header line of a part in a list and handles each line in Python on the event loop:
    unchecked, a 20 MB body of short lines costs a gigabyte and blocks every other request
    (health included) for seconds, and the lines before the first boundary are never counted
    against the body limit. So lines are capped too; everything else is delegated.
    """

    def __init__(
        self, stream: StreamReader, *, limit: int, idle: float, budget: _BodyBudget
    ) -> None:
        self._stream = stream
        self._limit = limit
        self._idle = idle
        self._budget = budget
        self._lines = 0
        self.held = 0

    async def readline(self) -> bytes:
        self._lines += 1
        if self._lines > _MAX_MULTIPART_LINES:
            raise ApiError(
                400,
                "invalid_image",
                "malformed multipart/form-data body: too many boundary or header lines",
            )
        return self._checked(await self._within_idle(self._stream.readline()))

    async def read(self, n: int = -1) -> bytes:
        return self._checked(await self._within_idle(self._stream.read(n)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    async def _within_idle(self, reading: Awaitable[bytes]) -> bytes:
        try:
            async with asyncio.timeout(self._idle):
                return await reading
        except TimeoutError as err:
            raise _request_timeout(f"no part of the body arrived for {self._idle:g} s") from err

    def _checked(self, data: bytes) -> bytes:
        if self._stream.total_bytes > self._limit:
            raise _body_too_large(self._limit)
        self._budget.take(len(data))
        self.held += len(data)
        return data


def _check_image_type(declared: str | None, data: bytes) -> None:
    """Accept what says it is an image, or what is unlabelled but looks like one."""
    if not data:
        raise ApiError(400, "invalid_image", "the request has no image data")
    media_type = (declared or OCTET_STREAM).split(";", 1)[0].strip().lower()
    if media_type in MEDIA_TYPES:
        return
    if media_type == OCTET_STREAM:
        if sniff_type(data) is None:
            raise _unsupported(
                f"the {OCTET_STREAM} body is not a JPEG, PNG or WebP image; "
                "send it with its media type"
            )
        return
    raise _unsupported(f"the image's media type {media_type[:100]} is not accepted")


def _invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message)


def _unsupported(message: str) -> ApiError:
    accepted = ", ".join([*MEDIA_TYPES, OCTET_STREAM, MULTIPART])
    return ApiError(415, "unsupported_media_type", f"{message}; accepted: {accepted}")


def _body_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")


def _request_timeout(message: str) -> ApiError:
    return ApiError(408, "request_timeout", f"{message}; the connection is closed")


def _overloaded(message: str) -> ApiError:
    return ApiError(
        503, "overloaded", message, headers={hdrs.RETRY_AFTER: str(RETRY_AFTER_SECONDS)}
    )


# --- lifecycle -----------------------------------------------------------------------------


def run(
    config: ServiceConfig,
    engine: Recognizer,
    *,
    announce: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully and return.

    Prints `anpr-inference listening on http://HOST:PORT` once connections are accepted
    (with the real port when `config.port` is 0), then calls `announce(port)` if given (the
    Supervisor discovery hook; its failures are logged, never fatal). On the first signal
    the listener closes, in-flight requests get up to `SHUTDOWN_TIMEOUT` seconds to finish
    and the worker pool is shut down; a second signal during that ends the process at once.
    """
    asyncio.run(_serve(config, engine, announce))


async def _serve(
    config: ServiceConfig,
    engine: Recognizer,
    announce: Callable[[int], Awaitable[None]] | None,
) -> None:
    instance_id = load_or_create_instance_id(config.data_dir.expanduser())
    if config.api_key is None and not _is_loopback(config.host):
        _LOGGER.warning(
            "No API key is set and the service listens on %s: anyone who can reach it "
            "can use it. Set api_key unless the network is trusted",
            config.host,
        )
    app = create_app(config, engine, instance_id=instance_id)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    announcing: asyncio.Task[None] | None = None
    sweeping: asyncio.Task[None] | None = None
    listener: asyncio.Server | None = None
    try:
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        server = runner.server
        assert server is not None  # noqa: S101 - set by setup()
        listener = await loop.create_server(
            lambda: _Connection(server, loop=loop, **_HANDLER_ARGS),
            config.host,
            config.port,
            backlog=128,
        )
        port = int(listener.sockets[0].getsockname()[1])
        sys.stdout.write(f"{SERVICE_NAME} listening on http://{_url_host(config.host)}:{port}\n")
        sys.stdout.flush()
        _LOGGER.info(
            "Serving with %d worker(s), queue %d, API key %s",
            config.workers,
            config.max_queue,
            "required" if config.api_key is not None else "not required",
        )
        if announce is not None:
            announcing = asyncio.create_task(_announce(announce, port))
        sweeping = asyncio.create_task(_close_slow_headers(runner, app[_STATE]))
        await stop.wait()
        _LOGGER.info("Shutting down: finishing in-flight requests")
    finally:
        if listener is not None:
            listener.close()
        for sig in signals:
            loop.remove_signal_handler(sig)
        for task in (announcing, sweeping):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await runner.cleanup()
    _LOGGER.info("Stopped")


class _Connection(RequestHandler):
    """aiohttp's connection handler, answering malformed requests in the API's own way.

    aiohttp answers a request its parser rejects (a `Content-Length` of 10^26 or -5, a
    header line too long, ...) in plain text and logs the parser's traceback as an error:
    here the answer is the contract's JSON error and the log one line. Connections come
    from the service's own listener (`_serve`) because aiohttp offers no hook for this.
    """

    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer a malformed request with a JSON 400; leave server errors to aiohttp."""
        if status >= 500 or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        reason = (message or str(exc or "") or "malformed").strip().splitlines()[0]
        reason = reason.rstrip(":")[:200]
        # Garbage on the port (TLS, scanners) is common and says nothing: debug only.
        log = _LOGGER.debug if isinstance(exc, BadHttpMethod) else _LOGGER.info
        log("Refused a malformed request from %s: %s", request.remote, reason)
        code = _HTTP_ERROR_CODES.get(status, "invalid_parameter")
        response = web.json_response(
            {"error": {"code": code, "message": f"malformed HTTP request: {reason}"}},
            status=status,
        )
        response.force_close()
        return response


async def _close_slow_headers(runner: web.AppRunner, state: _State) -> None:
    """Close connections that have not completed a request's headers in `header_timeout`.

    aiohttp (3.11) bounds the headers of a kept-alive connection's later requests (its
    keep-alive timeout) but waits for the first forever: without this, a client that opens
    connections and trickles header bytes holds them, and their file descriptors, for good.
    Checked every `_HEADER_SWEEP_INTERVAL` seconds, which is all the precision needed.
    """
    loop = asyncio.get_running_loop()
    timeout = state.config.header_timeout
    first_seen: weakref.WeakKeyDictionary[asyncio.BaseTransport, float] = (
        weakref.WeakKeyDictionary()
    )
    while True:
        await asyncio.sleep(_HEADER_SWEEP_INTERVAL)
        server = runner.server
        if server is None:
            continue
        now = loop.time()
        closed = 0
        for connection in server.connections:
            transport = connection.transport
            if transport is None or transport in state.served:
                continue
            if now - first_seen.setdefault(transport, now) >= timeout:
                connection.force_close()
                closed += 1
        if closed:
            _LOGGER.debug(
                "Closed %d connection(s) that sent no complete request within %g s",
                closed,
                timeout,
            )


async def _announce(announce: Callable[[int], Awaitable[None]], port: int) -> None:
    try:
        await announce(port)
    except Exception:  # discovery is a convenience; serving goes on regardless
        _LOGGER.warning("Announcing the service failed; it keeps serving", exc_info=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
