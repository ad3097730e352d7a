"""Settings: defaults < user file < workspace file < LSP options < environment < command-line flags.

Keys are camelCase as editors write them. A wrong value gives a problem naming the file (or variable)
and the setting, and that layer's value is ignored: the setting keeps what the layers below gave it.
Object-valued settings (`models`, `timeouts`, ...) merge key by key across layers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from skillway.plugins.problems import Problem, error, warning

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
    problems: tuple[Problem, ...] = field(default=(), compare=False)


# --- value checks: each returns the value, or raises ValueError with what is expected ----------

def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    return value


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a whole number >= 0")
    return value


def _positive_whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number > 0")
    return value


def _positive(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError("a number > 0")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _base(value: object) -> int:
    if value not in (0, 1) or isinstance(value, bool):
        raise ValueError("0 or 1")
    return value


def _rules(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError('a list of rules such as "Bash(git diff:*)"')
    return tuple(value)


def _object(value: object) -> dict:
    if not isinstance(value, dict):
        raise ValueError("an object")
    return value


def _per_purpose(check: Callable) -> Callable:
    def parse(value: object) -> dict:
        if not isinstance(value, dict) or not set(value) <= set(PURPOSES):
            raise ValueError(f"an object with keys among {', '.join(PURPOSES)}")
        return {key: check(item) for key, item in value.items()}

    return parse


def _hook_outputs(value: object) -> dict:
    checks = {"keepSessions": _whole, "maxMegabytes": _positive}
    if not isinstance(value, dict) or not set(value) <= set(checks):
        raise ValueError("an object with keys among keepSessions, maxMegabytes")
    return {key: checks[key](item) for key, item in value.items()}


def _price_table(value: object) -> dict:
    table = _object(value)
    for name, price in table.items():
        if not isinstance(price, dict) or not {"input", "output"} <= set(price) or not all(
                isinstance(price[k], (int, float)) and not isinstance(price[k], bool) and price[k] >= 0
                for k in ("input", "output")):
            raise ValueError(f'an object of {{"input": USD, "output": USD}} per million tokens (see "{name}")')
    return table


# setting key -> (Settings field, check, merged key by key across layers)
_SCALARS: dict[str, tuple[str, Callable, bool]] = {
    "contextBudget": ("context_budget", _whole, False),
    "baseUrl": ("base_url", _text, False),
    "projectId": ("project_id", _text, False),
    "models": ("models", _per_purpose(_text), True),
    "maxTokens": ("max_tokens", _per_purpose(_positive_whole), True),
    "timeouts": ("timeouts", _per_purpose(_positive), True),
    "retries": ("retries", _per_purpose(_whole), True),
    "prices": ("prices", _price_table, True),
    "quotas": ("quotas", _object, True),
    "completionDebounceMs": ("completion_debounce_ms", _whole, False),
    "completionItems": ("completion_items", _flag, False),
    "chatPattern": ("chat_pattern", _text, False),
    "allowedTools": ("allowed_tools", _rules, False),
    "argumentBase": ("argument_base", _base, False),
    "hookOutputs": ("hook_outputs", _hook_outputs, True),
    "maxEditChars": ("max_edit_chars", _positive_whole, False),
}
_KNOWN = {"pluginDirs", "$schema", *_SCALARS}
# Environment variables that set a setting (the value is JSON when it is not a plain string).
_ENVIRONMENT = {"SKILLWAY_CONTEXT_BUDGET": "contextBudget", "ANTHROPIC_BASE_URL": "baseUrl", "SKILLWAY_PROJECT_ID": "projectId"}


def load_settings(
    workspace: Path | None,
    *,
    lsp_options: Mapping | None = None,
    environ: Mapping[str, str] | None = None,
    lsp_origin: str = "initializationOptions",
) -> Settings:
    environ = os.environ if environ is None else environ
    problems: list[Problem] = []
    user_dirs: list[Path] = []
    workspace_dirs: list[Path] = []
    values: dict[str, object] = {}

    layers: list[tuple[dict, Path, Path, bool]] = []  # (values, origin, base folder, from the workspace)
    user_file = config_dir() / "settings.json"
    layers.append((_read_file(user_file, problems), user_file, user_file.parent, False))
    if workspace is not None:
        workspace_file = workspace / WORKSPACE_SETTINGS
        layers.append((_read_file(workspace_file, problems), workspace_file, workspace, True))
    if lsp_options is not None:
        origin = Path(lsp_origin)
        layers.append((_check_keys(dict(lsp_options), origin, problems), origin, workspace or Path.cwd(), False))
    environment_values = {}
    for variable, key in _ENVIRONMENT.items():
        if environ.get(variable):
            raw = environ[variable]
            environment_values[key] = int(raw) if key == "contextBudget" and raw.strip().isdigit() else raw
    layers.append((environment_values, Path("environment"), Path.cwd(), False))

    for data, origin, base, from_workspace in layers:
        (workspace_dirs if from_workspace else user_dirs).extend(_plugin_dirs(data, origin, base, problems))
        for key, (name, check, merged) in _SCALARS.items():
            if key not in data:
                continue
            try:
                value = check(data[key])
            except ValueError as exc:
                problems.append(error(origin, f'setting "{key}" must be {exc}, got {json.dumps(data[key])}; it is ignored'))
                continue
            if key == "allowedTools" and from_workspace:
                name = "workspace_allowed_tools"  # a repository must not grant itself tools before trust
            values[name] = {**values.get(name, getattr(Settings(), name)), **value} if merged else value
    if environ.get("SKILLWAY_PLUGIN_DIRS"):
        user_dirs += [Path(p).expanduser() for p in environ["SKILLWAY_PLUGIN_DIRS"].split(os.pathsep) if p]
    return Settings(plugin_dirs=tuple(user_dirs), workspace_plugin_dirs=tuple(workspace_dirs),
                    problems=tuple(problems), **values)


def _read_file(path: Path, problems: list[Problem]) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(error(path, f"cannot read settings: {exc}"))
        return {}
    except json.JSONDecodeError as exc:
        problems.append(error(path, f"invalid JSON: {exc.msg}; the file is ignored", exc.lineno, exc.colno))
        return {}
    if not isinstance(data, dict):
        problems.append(error(path, "settings must be a JSON object; the file is ignored"))
        return {}
    return _check_keys(data, path, problems)


def _check_keys(data: dict, origin: Path, problems: list[Problem]) -> dict:
    # Editors often send every extension's options under one object: our section may be nested.
    if isinstance(data.get(APP), dict):
        data = data[APP]
    for key in data:
        if key not in _KNOWN:
            problems.append(warning(origin, f'unknown setting "{key}" is ignored'))
    return data


def _plugin_dirs(data: dict, origin: Path, base: Path, problems: list[Problem]) -> list[Path]:
    value = data.get("pluginDirs")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(error(origin, 'setting "pluginDirs" must be a list of folder paths; it is ignored'))
        return []
    return [base / Path(item).expanduser() for item in value]
