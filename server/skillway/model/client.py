"""The one place skillway talks to the code API: a thin async layer over the official SDK.

Every call streams (so the time to the first token is known), is cancellable end to end (cancelling
the caller's task closes the HTTP connection), passes the rate-limit gate and the usage quotas
first, and leaves one row in the usage ledger whatever its outcome. `anthropic` is imported on
first use or by `warm_up()`: it is too slow to import on the way to an editor's first answer.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import json
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from skillway.core.secrets import REDACTED, redact
from skillway.model import errors
from skillway.model.errors import Kind, ModelError
from skillway.model.ledger import UsageRecord, identity
from skillway.model.prices import estimate_cost
from skillway.model.quotas import check, quotas_of
from skillway.model.ratelimits import RateLimitBook, account_key, retry_at
from skillway.settings import Purpose, Settings

if TYPE_CHECKING:  # the SDK is imported on first use: it is slow to load
    from anthropic import AsyncAnthropic

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.anthropic.com"
CACHE = {"type": "ephemeral"}
MODEL_ALIASES = {"opus": "claude-opus-4-6", "sonnet": "claude-sonnet-4-6", "haiku": "claude-haiku-4-5"}


@dataclass(frozen=True)
class ModelRequest:
    purpose: Purpose  # picks model, timeout, retries and max tokens (a plain "chat" is taken too)
    messages: list[dict]
    system: str | None = None  # stable instructions (cached)
    context: str | None = None  # the session's injected context (cached)
    tools: list[dict] | None = None  # tool definitions (cached)
    model: str | None = None  # an id or an alias (opus, sonnet, haiku, inherit)
    max_tokens: int | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = None
    ledger_purpose: str | None = None  # what the ledger calls it (e.g. "action"); default: purpose
    requires_text: bool = False  # an answer without text is incomplete (an edit, a chat answer)
    # Another model to answer on when this one is overloaded (529, after the retries) or not found (404).
    fallback_model: str | None = None
    raw_events: bool = False  # also yield each streaming event of the API as it came (RawEvent)

    def __post_init__(self) -> None:
        object.__setattr__(self, "purpose", Purpose(self.purpose))  # a wrong purpose fails here, by its name


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


@dataclass
class ModelResponse:
    id: str = ""
    model: str = ""
    content: list[dict] = field(default_factory=list)
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    first_token_ms: float | None = None
    total_ms: float | None = None

    @property
    def text(self) -> str:
        return "".join(block.get("text", "") for block in self.content if block.get("type") == "text")

    @property
    def tool_uses(self) -> list[dict]:
        return [block for block in self.content if block.get("type") == "tool_use"]

    def as_message(self) -> dict:
        """The answer as the transcript keeps it (the API gets its role and content back)."""
        usage = {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens,
                 "cache_creation_input_tokens": self.usage.cache_write_tokens,
                 "cache_read_input_tokens": self.usage.cache_read_tokens}
        return {"id": self.id, "role": "assistant", "model": self.model, "content": self.content, "usage": usage}


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolUse:
    block: dict  # {type: tool_use, id, name, input}


@dataclass(frozen=True)
class Restart:
    """The stream failed midway and starts over: drop what arrived so far (never half-apply)."""

    reason: str


@dataclass(frozen=True)
class Done:
    response: ModelResponse


@dataclass(frozen=True)
class RawEvent:
    """One streaming event of the API as it arrived (message_start, content_block_delta, ...)."""

    data: dict


@dataclass(frozen=True)
class Fallback:
    """The model could not answer (`trigger`: overloaded, model_not_found); the request goes to
    `fallback_model` instead. What streamed before this is dropped, as after a Restart."""

    trigger: str
    original_model: str
    fallback_model: str
    reason: str  # the error the original model gave


StreamEvent = TextDelta | ToolUse | Restart | Done | RawEvent | Fallback
FALLBACK_TRIGGERS = {Kind.OVERLOADED: "overloaded", Kind.NOT_FOUND: "model_not_found"}

# HTTP requests sent for the call running in this task: the SDK retries inside one call, and each try
# passes the HTTP client's request hook, which counts it here.
_http_attempts: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("skillway_http_attempts", default=None)


async def _count_attempt(request) -> None:
    counter = _http_attempts.get()
    if counter is not None:
        counter[0] += 1


def preload() -> None:
    """For a process that forks runs (print mode's warm process): what every request needs loaded
    once, the SDK and the HTTP stack it sends with, without sending anything."""
    import anthropic

    anthropic.AsyncAnthropic(api_key="preload", base_url="http://127.0.0.1:9")  # builds its transport (and TLS setup)
    for name in ("httpcore2", "h11", "anyio._backends._asyncio", "truststore", "opentelemetry.propagate"):
        with contextlib.suppress(ImportError):  # the SDK's own dependencies, loaded at its first request
            importlib.import_module(name)


def warm_up() -> threading.Thread:
    """Import the SDK in the background, so the first request does not pay for it."""
    thread = threading.Thread(target=importlib.import_module, args=("anthropic",), name="skillway-sdk-warm-up", daemon=True)
    thread.start()
    return thread


class ModelClient:
    def __init__(
        self,
        settings: Settings,
        *,
        project: str,
        ledger=None,
        rate_limits: RateLimitBook | None = None,
        environ: Mapping[str, str] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.project = project
        self.ledger = ledger
        self.rate_limits = rate_limits or RateLimitBook()
        self.environ = os.environ if environ is None else environ
        self.notify = notify or (lambda message: None)
        self.base_url = (settings.base_url or self.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.user, self.machine = identity(self.environ)  # whose usage it is, in the ledger
        self._sdk = None
        self._per_purpose: dict[Purpose, AsyncAnthropic] = {}  # SDK clients with each purpose's timeout and retries
        self._warned_level: str | None = None

    # --- set-up ----------------------------------------------------------------------------------

    def credential_problem(self) -> str | None:
        """Why no request could be sent (no key, no local server), or None."""
        try:
            self._credential()
        except errors.ModelError as exc:
            return exc.message
        return None

    def _credential(self) -> tuple[str, dict]:
        key = self.environ.get("ANTHROPIC_API_KEY")
        token = self.environ.get("ANTHROPIC_AUTH_TOKEN")
        if key:
            return key, {"api_key": key}
        if token:
            return token, {"auth_token": token}
        if self.base_url != DEFAULT_BASE_URL:
            return "none", {"api_key": "none"}  # a local server (llama-server, Ollama) wants no key
        raise errors.no_credentials()

    def _client(self):
        if self._sdk is None:
            import anthropic  # slow (about a second): loaded on the first call, never before `initialize` is answered

            _, credential = self._credential()
            http_client = anthropic.DefaultAsyncHttpxClient(event_hooks={"request": [_count_attempt]})
            self._sdk = anthropic.AsyncAnthropic(base_url=self.base_url, http_client=http_client, **credential)
        return self._sdk

    def model_for(self, request: ModelRequest) -> str:
        chosen = request.model if request.model and request.model != "inherit" else None
        name = chosen or self.settings.models.for_purpose(request.purpose)
        return MODEL_ALIASES.get(name, name)

    def params(self, request: ModelRequest) -> dict:
        """The request body: stable blocks (system, injected context, tools) carry cache_control."""
        system = [{"type": "text", "text": text, "cache_control": CACHE} for text in (request.system, request.context) if text]
        params: dict = {
            "model": self.model_for(request),
            "max_tokens": request.max_tokens or self.settings.max_tokens.for_purpose(request.purpose),
            "messages": request.messages,
        }
        if system:
            params["system"] = system
        if request.tools:
            params["tools"] = [*request.tools[:-1], {**request.tools[-1], "cache_control": CACHE}]
        if request.stop_sequences:
            params["stop_sequences"] = request.stop_sequences
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    # --- calls -----------------------------------------------------------------------------------

    async def create(self, request: ModelRequest) -> ModelResponse:
        """The whole answer (a stream collected); a failed attempt's partial output is dropped."""
        async with contextlib.aclosing(self.stream(request)) as events:
            async for event in events:
                if isinstance(event, Done):
                    return event.response
        raise AssertionError("a stream ends with Done or an error")  # pragma: no cover

    async def stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        """Text deltas and finished tool_use blocks as they arrive, then Done. A request with a
        `fallback_model` whose model is overloaded (after the retries) or unknown says so (Fallback)
        and goes on with the fallback model."""
        fallback = request.fallback_model
        if fallback is None:
            async for event in self._stream(request):
                yield event
            return
        try:
            async for event in self._stream(replace(request, fallback_model=None)):
                yield event
        except ModelError as exc:
            original, other = self.model_for(request), self.model_for(replace(request, model=fallback))
            trigger = FALLBACK_TRIGGERS.get(exc.kind)
            if trigger is None or other == original:
                raise
            log.info("falling back from %s to %s: %s", original, other, exc.message)
            yield Fallback(trigger, original, other, exc.message)
            async for event in self._stream(replace(request, model=other, fallback_model=None)):
                yield event

    async def _stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        credential, _ = self._credential()
        account = account_key(self.base_url, credential)
        timeout = self.settings.timeouts.for_purpose(request.purpose)
        self._check_quota(request)
        await self.rate_limits.admit(account, request.purpose, max_wait=timeout)
        # An error event after HTTP 200 is not covered by the SDK's retries: commands try once more.
        attempts = 1 if request.purpose is Purpose.COMPLETION else 2
        for attempt in range(attempts):
            try:
                async for event in self._attempt(request, account, timeout):
                    yield event
                return
            except ModelError as exc:
                if len(credential) >= 8:  # the environment's key is redacted already; this may be another
                    exc.message = exc.message.replace(credential, REDACTED)
                if exc.kind in (Kind.STREAM, Kind.INCOMPLETE) and attempt + 1 < attempts:
                    log.info("retrying after a stream error: %s", exc.message)
                    yield Restart(exc.message)
                    continue
                raise

    async def count_tokens(self, request: ModelRequest) -> int:
        params = self.params(request)
        params.pop("max_tokens")
        try:
            result = await self._client().messages.count_tokens(**params)
        except Exception as exc:
            raise self._translate(exc, self.settings.timeouts.for_purpose(request.purpose)) from None
        if not isinstance(getattr(result, "input_tokens", None), int):
            raise errors.incomplete("the token count came back without input_tokens")
        return result.input_tokens

    async def _attempt(self, request: ModelRequest, account: tuple[str, str], timeout: float) -> AsyncIterator[StreamEvent]:
        response = ModelResponse(model=self.model_for(request))
        sdk = self._per_purpose.get(request.purpose)
        if sdk is None:
            sdk = self._per_purpose[request.purpose] = self._client().with_options(
                timeout=timeout, max_retries=self.settings.retries.for_purpose(request.purpose))
        started = time.monotonic()  # after the SDK is loaded: latency is the API's, not our import's
        outcome, error_kind = "cancelled", None
        blocks: dict[int, dict] = {}
        partial_json: dict[int, list[str]] = {}
        stream = None
        http_attempts = [0]
        _http_attempts.set(http_attempts)
        stopped = False  # message_stop arrived: only then is the answer whole
        try:
            try:
                raw = await sdk.messages.with_raw_response.create(**self.params(request), stream=True)
            except Exception as exc:
                headers = getattr(getattr(exc, "response", None), "headers", None)
                if headers is not None:
                    self.rate_limits.update(account, headers)
                raise self._translate(exc, timeout, attempts=http_attempts[0], started=started) from None
            self.rate_limits.update(account, raw.headers)
            stream = await raw.parse()
            try:
                async for event in stream:
                    kind = event.type
                    if request.raw_events:
                        yield RawEvent(event.to_dict(mode="json"))
                    if kind == "message_start":
                        response.id, response.model = event.message.id, event.message.model
                        _add_usage(response.usage, event.message.usage)
                    elif kind == "content_block_start":
                        blocks[event.index] = event.content_block.model_dump(exclude_none=True)
                        if blocks[event.index].get("type") == "tool_use":
                            partial_json[event.index] = []
                    elif kind == "content_block_delta":
                        if response.first_token_ms is None:
                            response.first_token_ms = (time.monotonic() - started) * 1000
                        delta = event.delta
                        if delta.type == "text_delta":
                            blocks[event.index]["text"] = blocks[event.index].get("text", "") + delta.text
                            yield TextDelta(delta.text)
                        elif delta.type == "input_json_delta":
                            partial_json[event.index].append(delta.partial_json)
                    elif kind == "content_block_stop" and event.index in partial_json:
                        text = "".join(partial_json.pop(event.index))
                        try:
                            blocks[event.index]["input"] = json.loads(text) if text.strip() else {}
                        except json.JSONDecodeError:
                            raise errors.incomplete("a tool call's input was not valid JSON") from None
                        yield ToolUse(blocks[event.index])
                    elif kind == "message_delta":
                        response.stop_reason = event.delta.stop_reason
                        if event.usage is not None:
                            response.usage.output_tokens = event.usage.output_tokens or response.usage.output_tokens
                    elif kind == "message_stop":
                        stopped = True
                    # ping and event types this code does not know are ignored
            except ModelError:
                raise
            except Exception as exc:
                raise self._translate(exc, timeout, mid_stream=True) from None
            if not stopped:  # the connection closed cleanly, or the body was not a stream at all
                raise errors.incomplete("the stream ended before the API said the answer was complete")
            response.content = [blocks[index] for index in sorted(blocks)]
            if request.requires_text and not response.text.strip() and not response.tool_uses:
                raise errors.incomplete("the answer had no text")
            response.total_ms = (time.monotonic() - started) * 1000
            outcome = "ok"
        except ModelError as exc:
            outcome, error_kind = "error", exc.kind.value
            raise
        finally:
            _http_attempts.set(None)
            if stream is not None:
                await stream.close()  # on cancel too: this is what aborts the HTTP request
            self._record(request, response, started, outcome, error_kind, max(1, http_attempts[0]))
        yield Done(response)  # after the row is written: a caller may stop reading at Done

    # --- errors, quotas, ledger ----------------------------------------------------------------

    def _translate(self, exc: Exception, timeout: float, *, mid_stream: bool = False, attempts: int = 1,
                   started: float | None = None) -> ModelError:
        import anthropic  # loaded already by the call that failed: this only names its exception types

        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, anthropic.APIStatusError):
            headers = exc.response.headers if exc.response is not None else {}
            status = exc.status_code if not mid_stream else 200
            return errors.from_status(status, exc.body, retry_at(headers, time.time()),
                                      mid_stream=mid_stream or exc.status_code == 200)
        if isinstance(exc, anthropic.APITimeoutError):
            return errors.timeout(timeout, attempts, None if started is None else time.monotonic() - started)
        if isinstance(exc, anthropic.APIConnectionError):
            cause = exc.__cause__ or exc
            reason = "connection refused" if "refused" in str(cause).lower() or isinstance(cause, ConnectionRefusedError) \
                else redact(str(cause) or type(cause).__name__)
            if mid_stream:
                return ModelError(Kind.STREAM, f"The connection to the API dropped midway ({reason}); nothing was applied.")
            return errors.connection(self.base_url, reason)
        if mid_stream and type(exc).__module__.startswith(("httpx", "httpcore")):  # the HTTP transport: a lost connection
            return ModelError(Kind.STREAM, f"The connection to the API dropped midway ({redact(str(exc))}); nothing was applied.")
        if mid_stream:
            return ModelError(Kind.STREAM, f"The API stream failed midway ({type(exc).__name__}: {redact(str(exc))}); "
                                           "nothing was applied.")
        log.exception("unexpected error from the SDK")
        return ModelError(Kind.SERVER, f"The API call failed unexpectedly ({type(exc).__name__}).")

    def _check_quota(self, request: ModelRequest) -> None:
        if self.ledger is None or not self.settings.quotas:
            return
        quotas = quotas_of(self.settings.quotas)
        if not quotas:
            return
        now = time.time()
        since = now - max(q.window_seconds for q in quotas)
        state = check(self.ledger.records(since), quotas, now, self.project)
        if state is None or state.level == "ok":
            self._warned_level = None
            return
        if state.level == "exceeded":
            raise ModelError(Kind.QUOTA, state.message, retry_at=state.frees_at)
        if self._warned_level != state.level:
            self._warned_level = state.level
            self.notify(state.message)

    def _record(self, request: ModelRequest, response: ModelResponse, started: float, outcome: str,
                error_kind: str | None, attempts: int = 1) -> None:
        if self.ledger is None:
            return
        usage = response.usage
        try:
            self.ledger.record(UsageRecord(
                time=time.time(), project=self.project, purpose=request.ledger_purpose or request.purpose.value,
                model=response.model, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                cache_write_tokens=usage.cache_write_tokens, cache_read_tokens=usage.cache_read_tokens,
                cost_usd=estimate_cost(response.model, usage.input_tokens, usage.output_tokens,
                                       usage.cache_write_tokens, usage.cache_read_tokens, self.settings.prices),
                first_token_ms=response.first_token_ms, total_ms=(time.monotonic() - started) * 1000,
                outcome=outcome, error_kind=error_kind, attempts=attempts, user=self.user, machine=self.machine,
                team=self.settings.team or ""))
        except Exception:
            log.exception("could not record usage")

    # --- before a run of calls -----------------------------------------------------------------

    def preflight(self, purpose: Purpose | str) -> None:
        """Raise the ModelError any `purpose` call would fail with before it is sent (no credentials,
        a quota used up), without sending a request: a run of many calls can fail once, up front."""
        self._credential()
        self._check_quota(ModelRequest(Purpose(purpose), []))


def _add_usage(usage: Usage, reported) -> None:
    if reported is None:
        return
    usage.input_tokens = reported.input_tokens or 0
    usage.output_tokens = getattr(reported, "output_tokens", 0) or 0
    usage.cache_write_tokens = getattr(reported, "cache_creation_input_tokens", 0) or 0
    usage.cache_read_tokens = getattr(reported, "cache_read_input_tokens", 0) or 0


def project_name(settings: Settings, workspace: Path) -> str:
    """The ledger's project: the configured id, else the workspace folder."""
    return settings.project_id or str(workspace)
