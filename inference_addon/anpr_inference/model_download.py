"""Downloading one model file over HTTPS: retried, checked against its pin, all or nothing.

Resolution runs synchronously before the server starts, so downloads use `urllib` from the
standard library.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
from pathlib import Path
import socket
import ssl
import tempfile
import time
from typing import TYPE_CHECKING
import urllib.error
from urllib.parse import urlsplit
import urllib.request

from . import __version__

if TYPE_CHECKING:
    from collections.abc import Callable


_LOGGER = logging.getLogger(__name__)


CHUNK = 1024 * 1024


# Pause before the 2nd, 3rd, ... attempt of a download; the last value repeats.
_RETRY_DELAYS_S = (1.0, 3.0, 10.0)


_PERMANENT_HTTP_STATUSES = frozenset(range(400, 500)) - {408, 425, 429}


_NO_NETWORK_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}
)


_sleep = time.sleep  # tests replace it to skip the backoff pauses


class DownloadError(RuntimeError):
    """A file could not be downloaded; no partial file was left behind.

    `no_network` is set when the host could not be reached at all (name resolution failed,
    connection refused, network unreachable), which is not worth retrying.
    """

    def __init__(self, message: str, *, url: str, no_network: bool = False) -> None:
        """Store the URL and whether the network was missing altogether."""
        super().__init__(message)
        self.url = url
        self.no_network = no_network


class _RetryableError(Exception):
    """One download attempt failed in a way another attempt may fix."""


def download_file(  # noqa: PLR0913  one keyword per independent check of the download
    url: str,
    dest: Path,
    *,
    timeout: float,
    attempts: int = 3,
    expected_size: int | None = None,
    expected_sha256: str | None = None,
) -> Path:
    """Download `url` to `dest` atomically and return `dest`.

    The body streams into a temporary file in `dest`'s folder, its length is checked against
    Content-Length (and `expected_size`), it is fsynced, then moved over `dest` with
    `os.replace`, so `dest` is either the complete file or untouched. Network errors, short
    reads and 5xx answers are retried with backoff up to `attempts` times; 4xx answers and a
    missing network (name resolution failed, connection refused) fail at once. `timeout` is
    the longest wait for the connection or for any single read, in seconds. With
    `expected_sha256` (a pin), a body of any other content is refused before it replaces
    `dest`, and not retried: the server holds another file.

    Raises `DownloadError`; no partial file is ever left behind.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        for stale in dest.parent.glob(f".{dest.name}.*.part"):
            stale.unlink(missing_ok=True)  # left by a killed process
    except OSError as err:
        raise DownloadError(f"cannot write to {dest.parent}: {err}", url=url) from err
    attempts = max(1, attempts)
    last: _RetryableError | None = None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            delay = _RETRY_DELAYS_S[min(attempt - 2, len(_RETRY_DELAYS_S) - 1)]
            _LOGGER.warning(
                "Download of %s failed (%s); retrying in %.0f s (attempt %d of %d)",
                url,
                last,
                delay,
                attempt,
                attempts,
            )
            _sleep(delay)
        try:
            _download_once(
                url,
                dest,
                timeout=timeout,
                expected_size=expected_size,
                expected_sha256=expected_sha256,
            )
        except _RetryableError as err:
            last = err
        except DownloadError:
            raise
        except OSError as err:  # the local disk, not the network: retrying won't help
            raise DownloadError(f"cannot write {dest}: {err}", url=url) from err
        else:
            return dest
    raise DownloadError(f"{last} (gave up after {attempts} attempts)", url=url)


def _download_once(
    url: str,
    dest: Path,
    *,
    timeout: float,
    expected_size: int | None,
    expected_sha256: str | None,
) -> None:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in _open
        url, headers={"User-Agent": f"anpr-inference/{__version__}"}
    )
    with _open(request, timeout) as response:
        length = _content_length(response, url)
        if expected_size is not None and length is not None and length != expected_size:
            raise DownloadError(
                f"{url} is {length} bytes, expected {expected_size}; wrong file?", url=url
            )
        _LOGGER.info(
            "Downloading %s (%s) to %s",
            url,
            f"{length / 1e6:.1f} MB" if length is not None else "size unknown",
            dest,
        )
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as file:

                def write(chunk: bytes) -> None:
                    digest.update(chunk)
                    file.write(chunk)

                received = _copy_body(response, write, url)
                file.flush()
                os.fsync(file.fileno())
            _check_received(received, length if length is not None else expected_size)
            _check_digest(digest.hexdigest(), expected_sha256, url)
            tmp.replace(dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _LOGGER.info("Downloaded %s (%.1f MB)", dest.name, received / 1e6)


def _check_digest(digest: str, pinned: str | None, url: str) -> None:
    """Refuse a body whose SHA-256 is not the pinned one: the server holds another file."""
    if pinned is not None and digest != pinned:
        raise DownloadError(
            f"{url} has SHA-256 {digest}, not the pinned {pinned}; refused (a different "
            "file than the one measured)",
            url=url,
        )


def _check_received(received: int, want: int | None) -> None:
    if want is not None and received != want:
        raise _RetryableError(f"incomplete download: got {received} of {want} bytes")
    if received == 0:
        raise _RetryableError("the server sent an empty file")


def _open(request: urllib.request.Request, timeout: float) -> http.client.HTTPResponse:
    url = request.full_url
    if urlsplit(url).scheme not in {"http", "https"}:
        raise DownloadError(f"{url} is not an http(s) URL", url=url)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as err:
        err.close()
        message = f"HTTP {err.code} {err.reason} from {url}"
        if err.code in _PERMANENT_HTTP_STATUSES:
            raise DownloadError(message, url=url) from None
        raise _RetryableError(message) from None
    except urllib.error.URLError as err:
        raise _classify_network_error(err.reason, url) from None
    except (ConnectionError, TimeoutError, http.client.HTTPException) as err:
        raise _RetryableError(f"{type(err).__name__}: {err}") from None
    except ValueError as err:
        raise DownloadError(f"invalid URL {url}: {err}", url=url) from None
    if not isinstance(response, http.client.HTTPResponse):  # pragma: no cover - http(s) only
        raise DownloadError(f"{url} did not answer over HTTP", url=url)
    return response


def _classify_network_error(reason: object, url: str) -> Exception:
    host = urlsplit(url).hostname or url
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"cannot resolve {host} ({reason})", url=url, no_network=True)
    if isinstance(reason, OSError) and reason.errno in _NO_NETWORK_ERRNOS:
        return DownloadError(
            f"cannot connect to {host} ({reason.strerror or reason})", url=url, no_network=True
        )
    if isinstance(reason, ssl.SSLError | ssl.CertificateError):
        return DownloadError(f"TLS error talking to {host}: {reason}", url=url)
    if isinstance(reason, TimeoutError):
        return _RetryableError(f"timed out waiting for {host}")
    return _RetryableError(f"cannot reach {host}: {reason}")


def _content_length(response: http.client.HTTPResponse, url: str) -> int | None:
    raw = response.headers.get("Content-Length")
    if raw is None:
        return None
    try:
        length = int(raw)
    except ValueError:
        raise _RetryableError(f"invalid Content-Length {raw!r} from {url}") from None
    if length < 0:
        raise _RetryableError(f"invalid Content-Length {raw!r} from {url}")
    return length


def _copy_body(
    response: http.client.HTTPResponse, write: Callable[[bytes], object], url: str
) -> int:
    """Stream the body into `write`, return its size; network failures become retryable."""
    received = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (ConnectionError, TimeoutError, http.client.HTTPException) as err:
            raise _RetryableError(
                f"connection lost after {received} bytes ({type(err).__name__}: {err})"
            ) from None
        if not chunk:
            return received
        write(chunk)
        received += len(chunk)
