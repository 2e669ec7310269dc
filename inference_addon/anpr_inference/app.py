"""The HTTP API (v1): an aiohttp application around a `Recognizer`.

Design points, each there for a reason:

- Inference never runs on the event loop. Decoding and `engine.recognize` run in a thread
  pool of `config.workers` threads owned by the app, so `/v1/health` and `/metrics` answer
  at once even while every worker is busy (Home Assistant polls health to show availability).
- Admission control (`admission`): at most `workers + max_queue` recognitions are in flight;
  one more gets 503 `overloaded` with `Retry-After` at once instead of piling up behind a
  slow CPU until every client times out. A slot is held from admission until the worker is
  done with the image, even when the client has gone, so the bound is real. While every slot
  is taken, `/v1/health` says `degraded` (busy, not down).
- Slow clients cannot take the service from others (`uploads`): a body is received *before*
  admission, under deadlines, and bodies being received share a memory budget of
  `RECEIVING_BODIES` full-size bodies (503 beyond it).
- Every answer the API gives is JSON built from the wire models of `contract` (errors in its
  error shape), including aiohttp's own 404/405/413 and unexpected failures (500
  `internal_error`, logged with the traceback, the message kept generic so no internals leak).
- Bodies are never decompressed (`Content-Encoding` gets 415, see `uploads.check_headers`).

The process around it (listening, signals, connection deadlines) is `server`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
import hmac
import logging
import time
from typing import TYPE_CHECKING, Any, Final
import weakref

from aiohttp import hdrs, web

from . import __version__
from .admission import BodyBudget, Load
from .apierrors import HTTP_ERROR_CODES, ApiError, overloaded, unsupported
from .config import ConfigError
from .contract import (
    HEALTH_PATH,
    METRICS_PATH,
    OPENAPI_PATH,
    RECOGNIZE_PATH,
    REGIONS,
    SERVICE_NAME,
    Health,
    Queue,
    error_body,
)
from .imaging import (
    ImageError,
    ImageTooLargeError,
    UnsupportedImageTypeError,
    decode_for_recognition,
)
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics
from .openapi import build_openapi
from .redact import AccessLogger
from .uploads import Options, check_headers, check_image_type, parse_query, receive

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from .config import ServiceConfig
    from .engine import Recognizer
    from .results import RecognitionResult

_LOGGER = logging.getLogger(__name__)

LINGERING_TIME: Final = 2.0
"""How long the unread rest of a refused body (413, 415, ...) is read and dropped.

Reading it lets the client see the error instead of a reset connection; aiohttp's default of
10 s is also how long a shutdown waits for such a connection when the client neither sends
nor closes (aiohttp's own client does that), which is longer than the Supervisor waits
before it kills the add-on.
"""
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
_HANDLER_ARGS: Final[dict[str, Any]] = {
    # Compressed bodies are refused, not inflated: see the module docstring.
    "auto_decompress": False,
    "lingering_time": LINGERING_TIME,
    "keepalive_timeout": KEEPALIVE_TIMEOUT,
    "access_log_class": AccessLogger,
}
"""Settings of aiohttp's connection handler, for the app and for `server._Connection` alike."""
_KNOWN_METHODS: Final = frozenset(hdrs.METH_ALL)


@dataclass(slots=True)
class State:
    """Everything the handlers share; one per application."""

    config: ServiceConfig
    engine: Recognizer
    instance_id: str
    load: Load
    receiving: BodyBudget
    metrics: Metrics
    openapi: dict[str, Any]
    executor: ThreadPoolExecutor | None = None
    served: weakref.WeakSet[asyncio.BaseTransport] = field(default_factory=weakref.WeakSet)
    """Connections (their transports) whose first request's headers have arrived."""


_STATE: Final = web.AppKey("anpr_state", State)


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
    load = Load(config.workers + config.max_queue)
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
    app[_STATE] = State(
        config=config,
        engine=engine,
        instance_id=instance_id,
        load=load,
        receiving=BodyBudget(RECEIVING_BODIES * config.max_body_bytes),
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
        code = HTTP_ERROR_CODES.get(err.status, "internal_error")
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
    response = web.json_response(error_body(code, message), status=status, headers=headers)
    if status == 408:
        # The rest of a late body is not waited for: the connection closes after the answer.
        response.force_close()
    return response


# --- handlers ------------------------------------------------------------------------------


async def _health(request: web.Request) -> web.Response:
    """Who and how the service is; cheap and never behind inference."""
    state = request.app[_STATE]
    health = Health(
        service=SERVICE_NAME,
        # Busy is not down: Home Assistant keeps the service available, and shows why.
        status="degraded" if state.load.saturated else "ok",
        version=__version__,
        instance_id=state.instance_id,
        models=state.engine.models,
        workers=state.config.workers,
        queue=Queue(pending=state.load.waiting, max=state.config.max_queue),
        auth_required=state.config.api_key is not None,
    )
    return web.json_response(health.to_json())


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
    options = parse_query(request, config)
    check_headers(request, config)
    data, declared = await receive(request, config, state.receiving)
    check_image_type(declared, data)
    result = await _recognize_admitted(state, data, options)
    state.metrics.observe_recognition(result.timings, len(result.plates))
    models = {stage: model.name for stage, model in state.engine.models.items()}
    body = result.to_wire(models, crops=options.crops).to_json()
    _LOGGER.debug("Recognised %d plate(s) in %.1f ms", len(result.plates), result.timings.total)
    return web.json_response(body)


async def _recognize_admitted(state: State, data: bytes, options: Options) -> RecognitionResult:
    """Recognise a received image on a worker, if a slot is free (503 otherwise)."""
    if state.executor is None:
        raise RuntimeError("the worker pool is not running")
    executor = state.executor
    if not state.load.try_admit():
        raise overloaded("every worker is busy and the queue is full; try again shortly")
    try:
        future = executor.submit(_work, state, data, options)
    except BaseException:
        state.load.release()
        raise
    # The slot is freed when the work is done (or cancelled before it started), not when
    # this handler ends: a client that gives up does not stop a worker mid-image.
    future.add_done_callback(lambda _: state.load.release())
    try:
        return await asyncio.wrap_future(future)
    except UnsupportedImageTypeError as err:
        raise unsupported(str(err)) from err
    except ImageTooLargeError as err:
        raise ApiError(413, "image_too_large", str(err)) from err
    except ImageError as err:
        raise ApiError(400, "invalid_image", str(err)) from err


def _work(state: State, data: bytes, options: Options) -> RecognitionResult:
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
