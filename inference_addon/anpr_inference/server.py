"""The inference service's process: listen, serve the app of `app`, shut down gracefully.

- Slow clients cannot hold connections: a connection must complete its first request's
  headers within `header_timeout` seconds (aiohttp waits forever for those), later ones
  within `app.KEEPALIVE_TIMEOUT` of the previous answer.
- Malformed requests get the contract's JSON error and one log line, not aiohttp's plain
  text and traceback.
- Secrets never reach the log: the access log and every line written through
  `redact.RedactingFormatter` have query keys and credentials redacted.

The names other modules and tests know the service by (`create_app`, the paths, the error
codes of HTTP statuses) are re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import sys
from typing import TYPE_CHECKING, Final
import weakref

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod
from aiohttp.web_protocol import RequestHandler

from .apierrors import HTTP_ERROR_CODES
from .app import _HANDLER_ARGS, _STATE, State, create_app
from .contract import HEALTH_PATH, RECOGNIZE_PATH, SERVICE_NAME, error_body
from .instance import load_or_create_instance_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp.web_request import BaseRequest

    from .config import ServiceConfig
    from .engine import Recognizer

__all__ = ["HEALTH_PATH", "RECOGNIZE_PATH", "SHUTDOWN_TIMEOUT", "_STATE", "create_app", "run"]

_LOGGER = logging.getLogger(__name__)
_HTTP_ERROR_CODES: Final = HTTP_ERROR_CODES

SHUTDOWN_TIMEOUT: Final = 30.0
"""How long a graceful shutdown waits for in-flight requests (the Supervisor waits longer)."""
_HEADER_SWEEP_INTERVAL: Final = 1.0


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
        code = HTTP_ERROR_CODES.get(status, "invalid_parameter")
        response = web.json_response(
            error_body(code, f"malformed HTTP request: {reason}"), status=status
        )
        response.force_close()
        return response


async def _close_slow_headers(runner: web.AppRunner, state: State) -> None:
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
