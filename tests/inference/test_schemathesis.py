"""Schema-driven testing: the API answers exactly what its own OpenAPI document says.

schemathesis reads `/v1/openapi.json` from a real service and generates requests for every
operation, valid and invalid (wrong types, values out of range, unknown enum members, missing
or random bodies), then checks each answer: never a 5xx, only documented status codes and
content types, bodies and headers matching the documented schemas.

The service runs the real aiohttp app on a free loopback port, on an event loop of its own in
a background thread (schemathesis calls it synchronously), with a fake engine: the HTTP layer
is under test here, not recognition. Bodies declared as images are drawn from real small
images as well as random bytes, so successful recognitions are checked against the schema
too. It runs twice: open, and with an API key (whose 401 answers are then documented).
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web
from hypothesis import HealthCheck, assume, settings, strategies as st
from hypothesis.internal.conjecture import utils as _conjecture_utils
from hypothesis_jsonschema import _from_schema
from PIL import Image
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from anpr_inference.config import ServiceConfig
from anpr_inference.server import create_app

from .test_server import API_KEY, INSTANCE_ID, FakeEngine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from schemathesis import BaseSchema, Case

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _image(fmt: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


MAX_BODY_BYTES = 4096
MAX_PIXELS = 10_000
_IMAGES = [_image(fmt, size) for fmt in ("JPEG", "PNG", "WEBP") for size in [(32, 24), (3, 2)]]
_TOO_LARGE = [_image("PNG", (200, 100)), b"\xff\xd8\xff" + bytes(MAX_BODY_BYTES)]
# Bodies sent as an image: a real one (recognised: 200), one over a limit (413), or
# anything at all (400/415).
_IMAGE_BODIES = st.one_of(
    st.sampled_from(_IMAGES), st.sampled_from(_TOO_LARGE), st.binary(max_size=256)
)
for _media_type in ("image/jpeg", "image/png", "image/webp", "application/octet-stream"):
    schemathesis.openapi.media_type(_media_type, _IMAGE_BODIES)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _is_http_field(name: str, value: str) -> bool:
    """Whether a header field is valid HTTP (RFC 9110: a token name, no control characters)."""
    return _TOKEN.fullmatch(name) is not None and _CONTROL.search(value) is None


class _ManyWithMore:
    """hypothesis's `many()` with the `more()` method hypothesis-jsonschema 0.23.1 calls.

    hypothesis 6.170 replaced `while elements.more():` by a context manager iterated with
    `for _ in elements:`; hypothesis-jsonschema (which schemathesis generates every object
    with, query parameters included) still uses the old protocol. This drives the new one
    step by step, which is the same sequence of calls. Only installed when needed.
    """

    _END: ClassVar = object()

    def __init__(self, data: Any, **sizes: Any) -> None:
        self._many = _conjecture_utils.many(data, **sizes)
        self._many.__enter__()
        self._steps = iter(self._many)

    def more(self) -> bool:
        if next(self._steps, self._END) is self._END:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


class _ConjectureUtilsWithOldMany:
    """`hypothesis.internal.conjecture.utils` as hypothesis-jsonschema 0.23.1 expects it."""

    many = _ManyWithMore

    def __getattr__(self, name: str) -> Any:
        return getattr(_conjecture_utils, name)


@pytest.fixture(scope="module", autouse=True)
def _hypothesis_jsonschema_compatibility() -> Iterator[None]:
    """Let hypothesis-jsonschema 0.23.1 run on hypothesis 6.170 (see `_ManyWithMore`)."""
    if hasattr(_conjecture_utils.many, "more"):  # the versions agree again: nothing to do
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_from_schema, "cu", _ConjectureUtilsWithOldMany())
        yield


class ServiceThread:
    """An aiohttp application served from a thread with its own event loop."""

    def __init__(self, app: web.Application) -> None:
        """Start serving `app` on a free port of 127.0.0.1."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = web.AppRunner(app)
        self._call(self._runner.setup())
        self._call(web.TCPSite(self._runner, "127.0.0.1", 0).start())
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(60)

    def stop(self) -> None:
        """Shut the application down and end the thread."""
        self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(60)
        self._loop.close()


@pytest.fixture(scope="module", params=[None, API_KEY], ids=["open", "api-key"])
def api_key(request: pytest.FixtureRequest) -> str | None:
    """Run every operation against an open service and one that requires a key."""
    key: str | None = request.param
    return key


@pytest.fixture(scope="module")
def service_url(api_key: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the real app with a fake engine and small limits (so 413 is reachable too)."""
    data_dir: Path = tmp_path_factory.mktemp("data")
    config = ServiceConfig(
        data_dir=data_dir, api_key=api_key, max_body_bytes=MAX_BODY_BYTES, max_pixels=MAX_PIXELS
    )
    service = ServiceThread(create_app(config, FakeEngine(), instance_id=INSTANCE_ID))
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="module")
def api_schema(service_url: str, api_key: str | None) -> BaseSchema:
    """Load the OpenAPI document the service serves, as its clients would."""
    headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
    return schemathesis.openapi.from_url(f"{service_url}/v1/openapi.json", headers=headers)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_openapi_document(case: Case, api_key: str | None) -> None:
    # Header fields that are not HTTP at all are refused by aiohttp's parser before the app
    # sees them (a plain 400, tested in test_fuzz.py), not by the API this document describes.
    assume(all(_is_http_field(name, str(value)) for name, value in (case.headers or {}).items()))
    headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
