"""An `http` hook: the event's input JSON is POSTed to the handler's URL, and the answer is read as a
command hook's stdout (a 2xx with an empty body or a JSON object); anything else is a warning.

Header values may name environment variables (`$TOKEN`, `${TOKEN}`), filled only for those the
handler lists in `allowedEnvVars` and never with a credential skillway holds; others become empty.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

from skillway.core.processes import Completed
from skillway.core.secrets import SECRET_VARIABLES

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
MAX_RESPONSE_BYTES = 1 << 20  # an answer is a small JSON object; more is read no further


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as what it is, a 3xx: following it would send the input somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def expand_header(value: str, allowed: tuple[str, ...], environ: Mapping[str, str]) -> str:
    """`value` with the variables it names filled in: listed ones from `environ`, the rest empty."""
    def fill(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        return environ.get(name, "") if name in allowed and name not in SECRET_VARIABLES else ""
    return _VARIABLE.sub(fill, value)


async def post_hook(url: str, payload: bytes, headers: Mapping[str, str], timeout: float) -> tuple[Completed, str | None]:
    """POST `payload` to `url`: (the answer as a command's result, why it failed or None)."""
    started = time.monotonic()
    if urlsplit(url).scheme not in ("http", "https"):
        return _failed(started, f"the url must start with http:// or https://, got {url!r}")
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        **headers, "Content-Type": "application/json"})
    try:
        status, body = await asyncio.wait_for(asyncio.to_thread(_send, request, timeout), timeout)
    except TimeoutError:
        return Completed(None, "", "", True, started, time.monotonic()), None
    except urllib.error.HTTPError as exc:
        return _failed(started, f"the server answered HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return Completed(None, "", "", True, started, time.monotonic()), None
        return _failed(started, f"cannot reach {url}: {reason}")
    if not 200 <= status < 300:
        return _failed(started, f"the server answered HTTP {status}")
    text = body.decode("utf-8", errors="replace")
    if text.strip() and not text.strip().startswith("{"):
        return _failed(started, f"the server answered HTTP {status} with a body that is not a JSON object")
    return Completed(0, text, "", False, started, time.monotonic()), None


def _send(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
    with _OPENER.open(request, timeout=timeout) as response:
        return response.status, response.read(MAX_RESPONSE_BYTES)


def _failed(started: float, why: str) -> tuple[Completed, str]:
    return Completed(1, "", "", False, started, time.monotonic()), why
