"""Receiving one upload: the validated query, the body under its limits, the image type.

A body is received *before* admission, so a client trickling its upload holds no slot; it
has `body_timeout` seconds for the whole body and `BODY_IDLE_TIMEOUT` between two pieces of
it, else 408 and the connection is closed. The body size limit holds for chunked uploads as
well: bodies are read in chunks and refused with 413 as soon as they pass the limit, never
buffered whole first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import re
from typing import TYPE_CHECKING, Any, Final, cast

from aiohttp import BodyPartReader, MultipartReader, hdrs
from aiohttp.http_exceptions import HttpProcessingError

from .apierrors import (
    ApiError,
    body_too_large,
    invalid_parameter,
    request_timeout,
    unsupported,
)
from .contract import MEDIA_TYPES, MULTIPART, OCTET_STREAM, REGIONS, sniff_image_type

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from aiohttp import web
    from aiohttp.streams import StreamReader

    from .admission import BodyBudget
    from .config import ServiceConfig

BODY_IDLE_TIMEOUT: Final = 10.0
"""Longest pause (seconds) between two pieces of a body, within `body_timeout` for all of it.

A client on a slow link sends something every few hundred milliseconds; one that stalls
this long is stuck or hostile, and the deadline for the whole body need not be waited out."""
RAW_TYPES: Final = frozenset([*MEDIA_TYPES, OCTET_STREAM])
"""Media types of a raw (not multipart) upload."""
_READ_CHUNK: Final = 64 * 1024
_MAX_MULTIPART_LINES: Final = 256
"""Boundary and header lines a multipart body may have in all (real forms have a few dozen)."""
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BOOLEANS: Final = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class Options:
    """The validated query of one recognition."""

    region: str | None
    min_confidence: float
    crops: bool


def check_headers(request: web.Request, config: ServiceConfig) -> None:
    """Refuse what the headers already show to be unacceptable, before any body is read.

    Bodies are never decompressed (`Content-Encoding` gets 415): aiohttp would inflate each
    network read whole before any limit applies, so a 2 MB gzip body would cost hundreds of
    megabytes, and images are compressed already.
    """
    content_type = request.content_type.lower()
    if content_type != MULTIPART and content_type not in RAW_TYPES:
        raise unsupported(f"Content-Type {content_type} is not accepted")
    encoding = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
    if encoding != "identity":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Encoding {encoding[:50]} is not accepted; send the image uncompressed",
        )
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise body_too_large(config.max_body_bytes)


async def receive(
    request: web.Request, config: ServiceConfig, budget: BodyBudget
) -> tuple[bytes, str | None]:
    """Receive the whole body within `body_timeout`; return the image and its declared type.

    A client that stalls (`BODY_IDLE_TIMEOUT`) or misses the deadline gets 408.
    """
    stream = GuardedStream(
        request.content,
        limit=config.max_body_bytes,
        idle=min(BODY_IDLE_TIMEOUT, config.body_timeout),
        budget=budget,
    )
    try:
        async with asyncio.timeout(config.body_timeout):
            if request.content_type.lower() == MULTIPART:
                return await read_multipart(request, stream)
            return await read_body(stream), request.content_type.lower()
    except TimeoutError as err:
        raise request_timeout(f"the body did not arrive within {config.body_timeout:g} s") from err
    # The client closed the connection or ended the body before its declared length: a
    # client's failure, answered (if it still listens) as such and not logged as ours.
    except (ConnectionResetError, HttpProcessingError) as err:
        raise ApiError(400, "invalid_image", "the body ended before it was complete") from err
    finally:
        budget.give(stream.held)


def parse_query(request: web.Request, config: ServiceConfig) -> Options:
    """Validate the query strictly: a typo must not silently fall back to a default."""
    query = request.query
    for name in ("region", "min_confidence", "crops"):
        if len(query.getall(name, [])) > 1:
            raise invalid_parameter(f"{name} is given more than once")

    region = config.default_region
    if "region" in query:
        region = query["region"]
        if region not in REGIONS:
            raise invalid_parameter(f"region must be one of {', '.join(REGIONS)}")

    min_confidence = config.min_confidence
    if "min_confidence" in query:
        raw = query["min_confidence"]
        value = float(raw) if _JSON_NUMBER.fullmatch(raw) else None
        if value is None or not 0.0 <= value <= 1.0:
            raise invalid_parameter("min_confidence must be a number from 0 to 1")
        min_confidence = value

    crops = False
    if "crops" in query:
        flag = _BOOLEANS.get(query["crops"])
        if flag is None:
            raise invalid_parameter("crops must be true or false")
        crops = flag
    return Options(region=region, min_confidence=min_confidence, crops=crops)


async def read_body(stream: GuardedStream) -> bytes:
    """Read a whole raw body (the stream refuses it as soon as it passes the limit)."""
    body = bytearray()
    while chunk := await stream.read(_READ_CHUNK):
        body += chunk
    return bytes(body)


async def read_multipart(request: web.Request, stream: GuardedStream) -> tuple[bytes, str | None]:
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


class GuardedStream:
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
        self, stream: StreamReader, *, limit: int, idle: float, budget: BodyBudget
    ) -> None:
        """Guard `stream` with the limits and the shared budget."""
        self._stream = stream
        self._limit = limit
        self._idle = idle
        self._budget = budget
        self._lines = 0
        self.held = 0

    async def readline(self) -> bytes:
        """Read one line (multipart framing), counting lines."""
        self._lines += 1
        if self._lines > _MAX_MULTIPART_LINES:
            raise ApiError(
                400,
                "invalid_image",
                "malformed multipart/form-data body: too many boundary or header lines",
            )
        return self._checked(await self._within_idle(self._stream.readline()))

    async def read(self, n: int = -1) -> bytes:
        """Read up to `n` bytes."""
        return self._checked(await self._within_idle(self._stream.read(n)))

    def __getattr__(self, name: str) -> Any:
        """Delegate everything else to the stream."""
        return getattr(self._stream, name)

    async def _within_idle(self, reading: Awaitable[bytes]) -> bytes:
        try:
            async with asyncio.timeout(self._idle):
                return await reading
        except TimeoutError as err:
            raise request_timeout(f"no part of the body arrived for {self._idle:g} s") from err

    def _checked(self, data: bytes) -> bytes:
        if self._stream.total_bytes > self._limit:
            raise body_too_large(self._limit)
        self._budget.take(len(data))
        self.held += len(data)
        return data


def check_image_type(declared: str | None, data: bytes) -> None:
    """Accept what says it is an image, or what is unlabelled but looks like one."""
    if not data:
        raise ApiError(400, "invalid_image", "the request has no image data")
    media_type = (declared or OCTET_STREAM).split(";", 1)[0].strip().lower()
    if media_type in MEDIA_TYPES:
        return
    if media_type == OCTET_STREAM:
        if sniff_image_type(data) is None:
            raise unsupported(
                f"the {OCTET_STREAM} body is not a JPEG, PNG or WebP image; "
                "send it with its media type"
            )
        return
    raise unsupported(f"the image's media type {media_type[:100]} is not accepted")
