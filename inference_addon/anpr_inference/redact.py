"""Keep secrets out of every log line the service writes.

A client may put its key where it does not belong (`?api_key=...` in the URL, a `Referer`
that carries one) and the key must still never reach a log: logs end up in bug reports and
in Home Assistant's add-on log page. Two layers use the one definition below:

- the access log writes the request line with secret query values already replaced, so the
  service is safe whatever logging setup embeds it;
- `RedactingFormatter` rewrites every formatted line (message, arguments, traceback) before
  it is written, so a secret quoted in an error message or by a library is caught too.

A query value is a secret when its name is `api_key`, `key`, `token` or ends in `_key`,
`-key`, `_token`, `-token` (`access_token`, `x-api-key`, ...), in any case; every value of an
`Authorization` header, and any `Bearer`/`Basic` credential, is one too.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Final

from aiohttp.abc import AbstractAccessLogger

if TYPE_CHECKING:
    from aiohttp.web_request import BaseRequest
    from aiohttp.web_response import StreamResponse

REDACTED: Final = "REDACTED"
_NAME: Final = r"(?:[\w.-]*[_-])?(?:api_?key|key|token)"
_QUERY_SECRET: Final = re.compile(rf"(?i)(?<![\w.-])({_NAME}=)[^&\s\"'#;,]*")
"""`name=value` of a secret query parameter, wherever it appears (URL, Referer, message)."""
_AUTHORIZATION: Final = re.compile(
    r"(?i)((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+"
)
_CREDENTIAL: Final = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{2,}")


def redact(text: str) -> str:
    """Return `text` with every secret query value and credential replaced by REDACTED."""
    text = _QUERY_SECRET.sub(rf"\g<1>{REDACTED}", text)
    text = _AUTHORIZATION.sub(rf"\g<1>{REDACTED}", text)
    return _CREDENTIAL.sub(rf"\g<1>\g<2>{REDACTED}", text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (traceback included) has its secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then redact."""
        return redact(super().format(record))


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log line (Apache combined format), secrets redacted.

    aiohttp's own logger writes the request line verbatim, key in the query included.
    """

    @property
    def enabled(self) -> bool:
        """Whether the lines would be written at all (they are INFO)."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write one line per answered request."""
        version = request.version
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d "%s" "%s" %.3fs',
            request.remote or "-",
            request.method,
            redact(request.path_qs),
            version.major,
            version.minor,
            response.status,
            response.body_length,
            redact(request.headers.get("Referer", "-")),
            request.headers.get("User-Agent", "-"),
            time,
        )
