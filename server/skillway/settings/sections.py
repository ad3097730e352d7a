"""The settings, typed: one attrs class per section, camelCase keys on the wire.

A field's type says what a right value is (`Whole`, `Text`, ... from `skillway.settings.converter`);
fields marked `wire=False` are not read from a settings file: the loader fills them in. Object-valued
fields take a section (or a table of entries) or the same thing as on the wire, e.g.
`Settings(timeouts={"chat": 30})`: the keys left out keep their defaults.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import attrs

from skillway.core.problems import Problem
from skillway.settings.claude_permissions import ToolPermissions
from skillway.settings.converter import (
    ArgumentBase,
    Duration,
    Flag,
    Invalid,
    Positive,
    PositiveWhole,
    Rules,
    Text,
    UsdPerMillion,
    Whole,
    parse_duration,
    structure,
)

T = TypeVar("T")
S = TypeVar("S")


class Purpose(enum.StrEnum):
    """What a model request is for: each has its own model, token limit, timeout and retries."""

    COMPLETION = "completion"
    CHAT = "chat"
    AGENT = "agent"


PURPOSES: tuple[Purpose, ...] = tuple(Purpose)

_LOADER_ONLY = {"wire": False}  # a field the loader fills in, never read from a settings file


class PerPurpose(Generic[T]):
    """A section with one value per purpose (`completion`, `chat`, `agent`)."""

    completion: T
    chat: T
    agent: T

    def for_purpose(self, purpose: Purpose | str) -> T:
        return cast(T, getattr(self, Purpose(purpose).value))


@attrs.frozen
class Models(PerPurpose[str]):
    completion: Text = "claude-haiku-4-5"
    chat: Text = "claude-sonnet-4-6"
    agent: Text = "claude-sonnet-4-6"


@attrs.frozen
class MaxTokens(PerPurpose[int]):
    completion: PositiveWhole = 256
    chat: PositiveWhole = 4096
    agent: PositiveWhole = 8192


@attrs.frozen
class Timeouts(PerPurpose[float]):
    """Seconds. Completions: a short timeout (a late suggestion is worthless); the rest wait."""

    completion: Positive = 10.0
    chat: Positive = 600.0
    agent: Positive = 600.0


@attrs.frozen
class Retries(PerPurpose[int]):
    completion: Whole = 0  # no retry: by then the user has typed on
    chat: Whole = 2
    agent: Whole = 2


@attrs.frozen
class HookOutputs:
    """Full texts of hook output cut at the cap are saved per session; older ones are pruned to the
    newest `keepSessions` sessions and `maxMegabytes` in all."""

    keep_sessions: Whole = 20
    max_megabytes: Positive = 100.0


@attrs.frozen
class ModelPrice:
    """USD per million tokens, for a model family ("sonnet") or a model id."""

    EXPECTED: ClassVar[str] = '{"input": USD, "output": USD} per million tokens'
    TABLE_EXPECTED: ClassVar[str] = "an object of model family or id -> prices"

    input: UsdPerMillion
    output: UsdPerMillion


@attrs.frozen
class QuotaSetting:
    """A cap on tokens and/or estimated cost per rolling `window`, for one project or "*" (all)."""

    EXPECTED: ClassVar[str] = 'an object like {"maxTokens": 2000000, "window": "5h"}'
    TABLE_EXPECTED: ClassVar[str] = 'an object of project name (or "*") -> quota'

    max_tokens: PositiveWhole | None = None
    max_cost_usd: Positive | None = None
    window: Duration = "5h"

    def __attrs_post_init__(self) -> None:
        if self.max_tokens is None and self.max_cost_usd is None:
            raise Invalid('an object with "maxTokens" or "maxCostUsd"')

    @property
    def window_seconds(self) -> float:
        return parse_duration(self.window)


def _wire(value: Any, kind: type[S]) -> S:
    return value if isinstance(value, kind) else structure(value, kind)


def _models(value: Models | Mapping[str, Any]) -> Models:
    return _wire(value, Models)


def _max_tokens(value: MaxTokens | Mapping[str, Any]) -> MaxTokens:
    return _wire(value, MaxTokens)


def _timeouts(value: Timeouts | Mapping[str, Any]) -> Timeouts:
    return _wire(value, Timeouts)


def _retries(value: Retries | Mapping[str, Any]) -> Retries:
    return _wire(value, Retries)


def _hook_outputs(value: HookOutputs | Mapping[str, Any]) -> HookOutputs:
    return _wire(value, HookOutputs)


def _prices(value: Mapping[str, ModelPrice | Mapping[str, Any]]) -> Mapping[str, ModelPrice]:
    return {name: _wire(entry, ModelPrice) for name, entry in value.items()}


def _quotas(value: Mapping[str, QuotaSetting | Mapping[str, Any]]) -> Mapping[str, QuotaSetting]:
    return {name: _wire(entry, QuotaSetting) for name, entry in value.items()}


@attrs.frozen
class Settings:
    """Everything a session is set up with. The wire keys are the camelCase field names."""

    # Plugin folders the user named (user file, LSP options, environment): trusted like the user's own.
    plugin_dirs: tuple[Path, ...] = attrs.field(default=(), metadata=_LOADER_ONLY)
    # Plugin folders named by the workspace's own settings file: loaded as workspace plugins.
    workspace_plugin_dirs: tuple[Path, ...] = attrs.field(default=(), metadata=_LOADER_ONLY)
    # Characters of SessionStart context injected into every model request (over it, the largest
    # contributions are cut with a note).
    context_budget: Whole = 12_000
    # A session whose last request carried this many tokens is compacted before its next turn (its
    # older turns summed up in one message); 0: never on its own (/compact still does it).
    auto_compact_tokens: Whole = 150_000
    # The code API. Credentials come only from the environment (ANTHROPIC_API_KEY or
    # ANTHROPIC_AUTH_TOKEN), never from a settings file that might be committed.
    base_url: Text | None = None
    models: Models = attrs.field(factory=Models, converter=_models)
    max_tokens: MaxTokens = attrs.field(factory=MaxTokens, converter=_max_tokens)
    timeouts: Timeouts = attrs.field(factory=Timeouts, converter=_timeouts)
    retries: Retries = attrs.field(factory=Retries, converter=_retries)
    prices: Mapping[str, ModelPrice] = attrs.field(factory=dict, converter=_prices)  # family or model id
    quotas: Mapping[str, QuotaSetting] = attrs.field(factory=dict, converter=_quotas)  # "*" or project
    project_id: Text | None = None  # the ledger's project; default: the workspace folder
    # A team's shared ledger (postgresql://...); None: the SQLite file in the data folder. Its rows
    # carry `team`, whose caps they count against.
    ledger_url: Text | None = None
    team: Text | None = None
    # The editor: how long a completion waits for typing to pause, and whether to offer the
    # suggestion as a completion item too (None: only for clients without inline completion).
    completion_debounce_ms: Whole = 150
    completion_items: Flag | None = None
    chat_pattern: Text = "*.chat.md"  # files that are chat buffers
    argument_base: ArgumentBase = 0  # 1 for legacy plugins whose commands meant $1 as the first argument
    allowed_tools: Rules = ()  # permission rules for every run, e.g. "Bash(npm test:*)"
    # Rules a workspace's own file adds: used once it is trusted.
    workspace_allowed_tools: tuple[str, ...] = attrs.field(default=(), metadata=_LOADER_ONLY)
    # The permissions of the workspace's Claude Code settings files (their allow rules: once it is trusted).
    tool_permissions: ToolPermissions = attrs.field(factory=ToolPermissions, metadata=_LOADER_ONLY)
    hook_outputs: HookOutputs = attrs.field(factory=HookOutputs, converter=_hook_outputs)
    # The largest edit (characters) a code action or chat answer may apply; larger is refused with a message.
    max_edit_chars: PositiveWhole = 200_000
    # What the workspace's own file asks for among the settings that wait for trust (the raw values:
    # part of the trust fingerprint), and which of them were held back because it is not trusted.
    workspace_requests: Mapping[str, object] = attrs.field(factory=dict, eq=False, metadata=_LOADER_ONLY)
    held_back: tuple[str, ...] = attrs.field(default=(), metadata=_LOADER_ONLY)
    problems: tuple[Problem, ...] = attrs.field(default=(), eq=False, metadata=_LOADER_ONLY)
