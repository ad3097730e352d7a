"""Every way a model call can fail, as one ModelError kind with a message a person understands.

SDK exceptions are translated here and nowhere else; no traceback reaches the user, and no
message carries the API key.
"""

from __future__ import annotations

import enum
import time
from datetime import datetime

from skillway.core.secrets import redact


class Kind(str, enum.Enum):
    NO_CREDENTIALS = "no_credentials"
    AUTHENTICATION = "authentication"  # 401
    PERMISSION = "permission"  # 403
    BILLING = "billing"  # 402
    NOT_FOUND = "not_found"  # 404: usually an unknown model
    TOO_LARGE = "too_large"  # 413
    INVALID_REQUEST = "invalid_request"  # 400 and other 4xx
    RATE_LIMITED = "rate_limited"  # 429 with a time it clears, or our own rate-limit gate
    SPEND_CAP = "spend_cap"  # 429 without retry-after: waiting does not help
    OVERLOADED = "overloaded"  # 529
    SERVER = "server"  # 5xx
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    STREAM = "stream"  # an error event after HTTP 200, in the middle of a stream
    QUOTA = "quota"  # one of our own usage caps
    INCOMPLETE = "incomplete"  # HTTP 200, but the answer never finished (or had no text where text was needed)


class ModelError(Exception):
    def __init__(self, kind: Kind, message: str, *, retry_at: float | None = None, status: int | None = None) -> None:
        super().__init__(redact(message))
        self.kind = kind
        self.message = redact(message)
        self.retry_at = retry_at  # unix time when trying again makes sense
        self.status = status

    def __str__(self) -> str:
        return self.message


def clock(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


def no_credentials() -> ModelError:
    return ModelError(Kind.NO_CREDENTIALS,
                      "No API credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), or set ANTHROPIC_BASE_URL "
                      "(the baseUrl setting) to a local server that needs no key.")


def rate_limited(retry_at: float, *, own_gate: bool = False) -> ModelError:
    wait = max(0, round(retry_at - time.time()))
    where = "The API's rate limit is used up" if own_gate else "Rate limited by the API (429)"
    return ModelError(Kind.RATE_LIMITED, f"{where}; it clears at {clock(retry_at)} (in {wait} s).", retry_at=retry_at, status=429)


_STATUS_KINDS = {401: Kind.AUTHENTICATION, 402: Kind.BILLING, 403: Kind.PERMISSION, 404: Kind.NOT_FOUND,
                 413: Kind.TOO_LARGE, 529: Kind.OVERLOADED}
_TYPE_KINDS = {"authentication_error": Kind.AUTHENTICATION, "billing_error": Kind.BILLING,
               "permission_error": Kind.PERMISSION, "not_found_error": Kind.NOT_FOUND,
               "request_too_large": Kind.TOO_LARGE, "rate_limit_error": Kind.RATE_LIMITED,
               "overloaded_error": Kind.OVERLOADED, "api_error": Kind.SERVER, "timeout_error": Kind.TIMEOUT,
               "invalid_request_error": Kind.INVALID_REQUEST}


def error_detail(body: object) -> tuple[str | None, str]:
    """(error type, message) from an API error body."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error.get("type"), str(error.get("message") or "")
    if isinstance(body, dict) and "type" in body and "message" in body:  # the SDK sometimes unwraps it
        return body.get("type"), str(body.get("message") or "")
    return None, ""


def from_status(status: int, body: object, retry_at: float | None, *, mid_stream: bool = False) -> ModelError:
    kind_name, detail = error_detail(body)
    detail = f": {detail}" if detail else ""
    if mid_stream:
        return ModelError(Kind.STREAM, f"The API stream failed midway ({kind_name or 'error'}{detail}); nothing was applied.")
    kind = _STATUS_KINDS.get(status) or _TYPE_KINDS.get(kind_name or "") or (
        Kind.SERVER if status >= 500 else Kind.RATE_LIMITED if status == 429 else Kind.INVALID_REQUEST)
    if status == 429:
        if retry_at is None:
            return ModelError(Kind.SPEND_CAP, f"The API refused the request: a spend limit was reached (429{detail}). "
                                              "Waiting will not help; raise the limit in the console.", status=429)
        return rate_limited(retry_at)
    messages = {
        Kind.AUTHENTICATION: f"The API rejected the credentials (401{detail}); check ANTHROPIC_API_KEY.",
        Kind.PERMISSION: f"The API key may not do this (403{detail}).",
        Kind.BILLING: f"The API account has a billing problem (402{detail}); check the plan or credit balance.",
        Kind.NOT_FOUND: f"The API does not know this (404{detail}); check the model name in the settings.",
        Kind.TOO_LARGE: f"The request is too large for the API (413{detail}); send less context.",
        Kind.OVERLOADED: f"The API is overloaded for everyone right now (529{detail}); try again shortly.",
        Kind.SERVER: f"The API failed (HTTP {status}{detail}); try again.",
    }
    return ModelError(kind, messages.get(kind, f"The API refused the request (HTTP {status}{detail})."), status=status)


def timeout(seconds: float, attempts: int = 1, elapsed: float | None = None) -> ModelError:
    if attempts <= 1:
        return ModelError(Kind.TIMEOUT, f"The API did not answer within {seconds:g} s.")
    waited = f" ({elapsed:.0f} s)" if elapsed is not None else ""
    return ModelError(Kind.TIMEOUT, f"The API did not answer: no answer after {attempts} tries of {seconds:g} s{waited}.")


def incomplete(why: str) -> ModelError:
    return ModelError(Kind.INCOMPLETE, f"The answer was cut off ({why}); nothing was applied.")


def connection(base_url: str, reason: str) -> ModelError:
    return ModelError(Kind.CONNECTION, f"Cannot reach the API at {base_url}: {reason}.")
