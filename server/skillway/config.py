"""Settings: defaults < user file < workspace file < LSP options < environment < command-line flags.

Keys are camelCase as editors write them. A wrong value gives a problem naming the file (or variable)
and the setting, and that layer's value is ignored: the setting keeps what the layers below gave it.
Object-valued settings (`models`, `timeouts`, ...) merge key by key across layers.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from skillway.core import located_json
from skillway.core.located_json import LocatedJson
from skillway.core.problems import Problem, error, warning

APP = "skillway"
WORKSPACE_SETTINGS = Path(".skillway", "settings.json")
PURPOSES = ("completion", "chat", "agent")


def config_dir() -> Path:
    return Path(os.environ.get("SKILLWAY_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("SKILLWAY_DATA_DIR") or platformdirs.user_data_dir(APP))


@dataclass(frozen=True)
class Settings:
    # Plugin folders the user named (user file, LSP options, environment): trusted like the user's own.
    plugin_dirs: tuple[Path, ...] = ()
    # Plugin folders named by the workspace's own settings file: loaded as workspace plugins.
    workspace_plugin_dirs: tuple[Path, ...] = ()
    # Characters of SessionStart context injected into every model request (over it, the largest
    # contributions are cut with a note).
    context_budget: int = 12_000
    # The code API. Credentials come only from the environment (ANTHROPIC_API_KEY or
    # ANTHROPIC_AUTH_TOKEN), never from a settings file that might be committed.
    base_url: str | None = None
    models: Mapping[str, str] = field(default_factory=lambda: {
        "completion": "claude-haiku-4-5", "chat": "claude-sonnet-4-6", "agent": "claude-sonnet-4-6"})
    max_tokens: Mapping[str, int] = field(default_factory=lambda: {"completion": 256, "chat": 4096, "agent": 8192})
    # Completions: a short timeout and no retry (a late suggestion is worthless); the rest wait.
    timeouts: Mapping[str, float] = field(default_factory=lambda: {"completion": 10.0, "chat": 600.0, "agent": 600.0})
    retries: Mapping[str, int] = field(default_factory=lambda: {"completion": 0, "chat": 2, "agent": 2})
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # family or model id -> {input, output}
    quotas: Mapping[str, Mapping] = field(default_factory=dict)  # "*" or project -> {maxTokens?, maxCostUsd?, window?}
    project_id: str | None = None  # the ledger's project; default: the workspace folder
    # The editor: how long a completion waits for typing to pause, and whether to offer the
    # suggestion as a completion item too (None: only for clients without inline completion).
    completion_debounce_ms: int = 150
    completion_items: bool | None = None
    chat_pattern: str = "*.chat.md"  # files that are chat buffers
    argument_base: int = 0  # 1 for legacy plugins whose commands meant $1 as the first argument
    allowed_tools: tuple[str, ...] = ()  # permission rules for every run, e.g. "Bash(npm test:*)"
    workspace_allowed_tools: tuple[str, ...] = ()  # rules a workspace's own file adds: used once it is trusted
    # Full texts of hook output cut at the cap are saved per session; older ones are pruned to the
    # newest `keepSessions` sessions and `maxMegabytes` in all.
    hook_outputs: Mapping[str, float] = field(default_factory=lambda: {"keepSessions": 20, "maxMegabytes": 100})
    # The largest edit (characters) a code action or chat answer may apply; larger is refused with a message.
    max_edit_chars: int = 200_000
    # What the workspace's own file asks for among the settings that wait for trust (the raw values:
    # part of the trust fingerprint), and which of them were held back because it is not trusted.
    workspace_requests: Mapping[str, object] = field(default_factory=dict, compare=False)
    held_back: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=(), compare=False)


# --- value checks: each returns the value, or raises Invalid saying what is expected ---------

class Invalid(ValueError):
    """A wrong value; `key` is the nested key below the setting (models -> "chat"), if any."""

    def __init__(self, expected: str, key: tuple[str, ...] = (), value: object = None) -> None:
        super().__init__(expected)
        self.expected, self.key, self.value = expected, key, value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty string")
    return value


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid("a whole number >= 0")
    return value


def _positive_whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("a whole number > 0")
    return value


def _positive(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise Invalid("a number > 0")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("true or false")
    return value


def _base(value: object) -> int:
    if value not in (0, 1) or isinstance(value, bool):
        raise Invalid("0 or 1")
    return value


def _rules(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid('a list of rules such as "Bash(git diff:*)"')
    return tuple(value)


def _window(value: object) -> str:
    parse_duration(value)
    return value  # type: ignore[return-value]


def parse_duration(text: object) -> float:
    """Seconds in a duration like "90m", "5h", "24h" or "7d" (also "s" and "w")."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or float(match.group(1)) <= 0:
        raise Invalid('a duration like "90m", "5h", "24h" or "7d"')
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def _fields(checks: Mapping[str, Callable], expected: str) -> Callable:
    """An object whose keys are among `checks`, each checked by its own function."""
    def parse(value: object) -> tuple[dict, list[Invalid]]:
        if not isinstance(value, dict):
            raise Invalid(expected)
        good, bad = {}, []
        for key, item in value.items():
            if key not in checks:
                bad.append(Invalid(f"unknown (known: {', '.join(checks)})", (key,), item))
                continue
            try:
                good[key] = checks[key](item)
            except Invalid as exc:
                bad.append(Invalid(exc.expected, (key, *exc.key), item if not exc.key else exc.value))
        return good, bad

    return parse


def _per_purpose(check: Callable) -> Callable:
    return _fields(dict.fromkeys(PURPOSES, check), f"an object with keys among {', '.join(PURPOSES)}")


def _price(value: object) -> dict:
    good, bad = _fields({"input": _price_value, "output": _price_value}, "")(value) if isinstance(value, dict) else ({}, [])
    if not isinstance(value, dict) or bad or set(good) != {"input", "output"}:
        raise bad[0] if bad else Invalid('{"input": USD, "output": USD} per million tokens')
    return good


def _price_value(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise Invalid("a price >= 0 in USD per million tokens")
    return float(value)


def _quota(value: object) -> dict:
    good, bad = _fields({"maxTokens": _positive_whole, "maxCostUsd": _positive, "window": _window},
                        'an object like {"maxTokens": 2000000, "window": "5h"}')(value)
    if bad:
        raise bad[0]
    if not {"maxTokens", "maxCostUsd"} & set(good):
        raise Invalid('an object with "maxTokens" or "maxCostUsd"')
    return good


def _table(entry: Callable, expected: str) -> Callable:
    """An object of named entries, each checked by `entry`; a wrong entry alone is left out."""
    def parse(value: object) -> tuple[dict, list[Invalid]]:
        if not isinstance(value, dict):
            raise Invalid(expected)
        good, bad = {}, []
        for name, item in value.items():
            try:
                good[name] = entry(item)
            except Invalid as exc:
                bad.append(Invalid(exc.expected, (name, *exc.key), exc.value if exc.key else item))
        return good, bad

    return parse


_hook_outputs = _fields({"keepSessions": _whole, "maxMegabytes": _positive},
                        "an object with keys among keepSessions, maxMegabytes")

# setting key -> (Settings field, check, merged key by key across layers). A check of an object
# setting returns (the good part, what was wrong in it): one wrong entry does not lose the rest.
_SCALARS: dict[str, tuple[str, Callable, bool]] = {
    "contextBudget": ("context_budget", _whole, False),
    "baseUrl": ("base_url", _text, False),
    "projectId": ("project_id", _text, False),
    "models": ("models", _per_purpose(_text), True),
    "maxTokens": ("max_tokens", _per_purpose(_positive_whole), True),
    "timeouts": ("timeouts", _per_purpose(_positive), True),
    "retries": ("retries", _per_purpose(_whole), True),
    "prices": ("prices", _table(_price, "an object of model family or id -> prices"), True),
    "quotas": ("quotas", _table(_quota, 'an object of project name (or "*") -> quota'), True),
    "completionDebounceMs": ("completion_debounce_ms", _whole, False),
    "completionItems": ("completion_items", _flag, False),
    "chatPattern": ("chat_pattern", _text, False),
    "allowedTools": ("allowed_tools", _rules, False),
    "argumentBase": ("argument_base", _base, False),
    "hookOutputs": ("hook_outputs", _hook_outputs, True),
    "maxEditChars": ("max_edit_chars", _positive_whole, False),
}
_KNOWN = {"pluginDirs", "$schema", *_SCALARS}
# Settings a workspace's own file may set only once the workspace is trusted: they decide where
# requests and credentials go (baseUrl), what code loads (pluginDirs), what tools run unasked
# (allowedTools), and the user's own spending limits and their bookkeeping (quotas, prices, projectId).
WAITS_FOR_TRUST = ("baseUrl", "pluginDirs", "allowedTools", "quotas", "prices", "projectId")
# Environment variables that set a setting (the value is JSON when it is not a plain string).
_ENVIRONMENT = {"SKILLWAY_CONTEXT_BUDGET": "contextBudget", "ANTHROPIC_BASE_URL": "baseUrl", "SKILLWAY_PROJECT_ID": "projectId"}


@dataclass
class _Layer:
    values: dict
    origin: Path  # the file, or a pseudo-path such as "environment"
    base: Path  # relative folder paths start here
    from_workspace: bool = False
    positions: LocatedJson | None = None

    def place(self, *pointer: str) -> tuple[int, int]:
        return self.positions.position(pointer) if self.positions else (1, 1)


def load_settings(
    workspace: Path | None,
    *,
    lsp_options: Mapping | None = None,
    environ: Mapping[str, str] | None = None,
    lsp_origin: str = "initializationOptions",
    workspace_trusted: bool = False,
) -> Settings:
    """The settings of a session in `workspace`. Until the workspace is trusted, the keys in
    WAITS_FOR_TRUST are ignored in its own file (a warning names them); once trusted, its baseUrl
    still yields to one set anywhere else."""
    environ = os.environ if environ is None else environ
    problems: list[Problem] = []
    user_dirs: list[Path] = []
    workspace_dirs: list[Path] = []
    values: dict[str, Any] = {}  # Settings field -> checked value, of that field's type
    requests: dict[str, object] = {}
    held_back: list[str] = []
    workspace_base_url: str | None = None

    layers: list[_Layer] = []
    user_file = config_dir() / "settings.json"
    layers.append(_read_file(user_file, user_file.parent, problems))
    if workspace is not None:
        layers.append(_read_file(workspace / WORKSPACE_SETTINGS, workspace, problems, from_workspace=True))
    if lsp_options is not None:
        origin = Path(lsp_origin)
        layers.append(_Layer(_check_keys(dict(lsp_options), origin, problems), origin, workspace or Path.cwd()))
    environment_values = {}
    for variable, key in _ENVIRONMENT.items():
        if environ.get(variable):
            raw = environ[variable]
            environment_values[key] = int(raw) if key == "contextBudget" and raw.strip().isdigit() else raw
    layers.append(_Layer(environment_values, Path("environment"), Path.cwd()))

    for layer in layers:
        data = layer.values
        if layer.from_workspace:
            requests = {key: data[key] for key in WAITS_FOR_TRUST if key in data}
            if not workspace_trusted and requests:
                held_back = list(requests)
                line, column = layer.place(held_back[0])
                problems.append(warning(layer.origin, "workspace not trusted, so these settings are ignored until "
                                        f"you run `skillway trust`: {', '.join(held_back)}", line, column))
                data = {key: value for key, value in data.items() if key not in requests}
        (workspace_dirs if layer.from_workspace else user_dirs).extend(_plugin_dirs(layer, data, problems))
        for key, (name, check, merged) in _SCALARS.items():
            if key not in data:
                continue
            try:
                value = check(data[key])
            except Invalid as exc:
                problems.append(_invalid(layer, key, exc, data[key]))
                continue
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict):
                value, wrong = value
                problems += [_invalid(layer, key, exc, exc.value) for exc in wrong]
            if key == "allowedTools" and layer.from_workspace:
                name = "workspace_allowed_tools"  # checked again against trust where the rules are used
            if key == "baseUrl" and layer.from_workspace:
                workspace_base_url = value  # never over the user's own choice
                continue
            values[name] = {**values.get(name, getattr(Settings(), name)), **value} if merged else value
    if workspace_base_url is not None and "base_url" not in values:
        values["base_url"] = workspace_base_url
    if environ.get("SKILLWAY_PLUGIN_DIRS"):
        user_dirs += [Path(p).expanduser() for p in environ["SKILLWAY_PLUGIN_DIRS"].split(os.pathsep) if p]
    return Settings(plugin_dirs=tuple(user_dirs), workspace_plugin_dirs=tuple(workspace_dirs),
                    workspace_requests=requests, held_back=tuple(held_back), problems=tuple(problems), **values)


def _invalid(layer: _Layer, key: str, exc: Invalid, value: object) -> Problem:
    dotted = ".".join((key, *exc.key))
    line, column = layer.place(key, *exc.key)
    if exc.expected.startswith("unknown"):
        return warning(layer.origin, f'setting "{dotted}" is {exc.expected}; it is ignored', line, column)
    return error(layer.origin, f'setting "{dotted}" must be {exc.expected}, got {_shown(value)}; it is ignored',
                 line, column)


def _shown(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _read_file(path: Path, base: Path, problems: list[Problem], *, from_workspace: bool = False) -> _Layer:
    empty = _Layer({}, path, base, from_workspace)
    if not path.is_file():
        return empty
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(error(path, f"cannot read settings: {exc}"))
        return empty
    try:
        located = located_json.parse(text)
    except located_json.JsonSyntaxError as exc:
        problems.append(error(path, f"{exc.message}; the file is ignored", exc.line, exc.column))
        return empty
    except RecursionError:
        problems.append(error(path, "invalid JSON: nested too deeply; the file is ignored"))
        return empty
    if not isinstance(located.value, dict):
        problems.append(error(path, "settings must be a JSON object; the file is ignored"))
        return empty
    layer = _Layer(located.value, path, base, from_workspace, located)
    layer.values = _check_keys(located.value, path, problems, layer)
    return layer


def _check_keys(data: dict, origin: Path, problems: list[Problem], layer: _Layer | None = None) -> dict:
    # Editors often send every extension's options under one object: our section may be nested.
    nested = isinstance(data.get(APP), dict)
    if nested:
        data = data[APP]
    for key in data:
        if key not in _KNOWN:
            line, column = layer.place(*((APP,) if nested else ()), key) if layer else (1, 1)
            problems.append(warning(origin, f'unknown setting "{key}" is ignored', line, column))
    return data


def _plugin_dirs(layer: _Layer, data: dict, problems: list[Problem]) -> list[Path]:
    value = data.get("pluginDirs")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(error(layer.origin, 'setting "pluginDirs" must be a list of folder paths; it is ignored',
                              *layer.place("pluginDirs")))
        return []
    return [layer.base / Path(item).expanduser() for item in value]
