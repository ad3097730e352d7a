"""Settings: defaults < user file < workspace file < LSP options < environment < command-line flags.

Keys are camelCase as editors write them. A wrong value gives a problem naming the file (or variable)
and the setting, and that layer's value is ignored: the setting keeps what the layers below gave it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from skillway.plugins.problems import Problem, error, warning

APP = "skillway"
WORKSPACE_SETTINGS = Path(".skillway", "settings.json")


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
    problems: tuple[Problem, ...] = field(default=(), compare=False)


_KNOWN = {"pluginDirs", "contextBudget"}


def load_settings(
    workspace: Path | None,
    *,
    lsp_options: Mapping | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    problems: list[Problem] = []
    user_dirs: list[Path] = []
    workspace_dirs: list[Path] = []
    budget = Settings.context_budget

    layers: list[tuple[dict, Path, Path, bool]] = []  # (values, origin, base folder, from the workspace)
    user_file = config_dir() / "settings.json"
    layers.append((_read_file(user_file, problems), user_file, user_file.parent, False))
    if workspace is not None:
        workspace_file = workspace / WORKSPACE_SETTINGS
        layers.append((_read_file(workspace_file, problems), workspace_file, workspace, True))
    if lsp_options is not None:
        origin = Path("initializationOptions")
        layers.append((_check_keys(dict(lsp_options), origin, problems), origin, workspace or Path.cwd(), False))
    for values, origin, base, from_workspace in layers:
        (workspace_dirs if from_workspace else user_dirs).extend(_plugin_dirs(values, origin, base, problems))
        budget = _count(values, "contextBudget", origin, problems, budget)
    if environ.get("SKILLWAY_PLUGIN_DIRS"):
        user_dirs += [Path(p).expanduser() for p in environ["SKILLWAY_PLUGIN_DIRS"].split(os.pathsep) if p]
    budget = _count({"v": environ.get("SKILLWAY_CONTEXT_BUDGET")}, "v", Path("$SKILLWAY_CONTEXT_BUDGET"), problems,
                    budget, text=True)
    return Settings(tuple(user_dirs), tuple(workspace_dirs), budget, tuple(problems))


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
        if key not in _KNOWN and key != "$schema":
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


def _count(data: dict, key: str, origin: Path, problems: list[Problem], current: int, *, text: bool = False) -> int:
    """A whole number >= 0 from `data[key]`, or `current` (with a problem when the value is wrong)."""
    value = data.get(key)
    if value is None:
        return current
    if text and isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        name = key if not text else origin.name
        problems.append(error(origin, f'setting "{name}" must be a whole number >= 0, got {value!r}; it is ignored'))
        return current
    return value
