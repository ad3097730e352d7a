"""Settings: defaults < user file < workspace file < LSP options < environment < command-line flags.

Keys are camelCase as editors write them. Each layer is checked on its own: a wrong value gives a
problem naming the file (or variable) and the setting by its full key path (`timeouts.chat`,
`quotas.web.maxTokens`), and only that value is ignored: the setting keeps what the layers below
gave it (a table's entry with a wrong value is left out whole). Sections (`models`, `timeouts`, ...)
and tables (`prices`, `quotas`) merge key by key across layers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs

from skillway.core import located_json
from skillway.core.located_json import LocatedJson
from skillway.core.problems import Problem, error, warning
from skillway.settings.claude_permissions import ToolPermissions, workspace_permissions
from skillway.settings.converter import Rules, Text, Wrong, check, field_kind, structure, without
from skillway.settings.dirs import APP, config_dir
from skillway.settings.sections import Settings

WORKSPACE_SETTINGS = Path(".skillway", "settings.json")
# Keys read by the loader itself, not by a section: folders are relative to the layer's base.
_LOADER_KEYS = ("pluginDirs", "$schema")
# Settings a workspace's own file may set only once the workspace is trusted: they decide where
# requests and credentials go (baseUrl), what code loads (pluginDirs), what tools run unasked
# (allowedTools), and the user's own spending limits and their bookkeeping (quotas, prices, projectId).
WAITS_FOR_TRUST = ("baseUrl", "pluginDirs", "allowedTools", "quotas", "prices", "projectId", "ledgerUrl", "team")
# Environment variables that set a setting (the value is JSON when it is not a plain string).
_ENVIRONMENT = {"SKILLWAY_CONTEXT_BUDGET": "contextBudget", "ANTHROPIC_BASE_URL": "baseUrl", "SKILLWAY_PROJECT_ID": "projectId",
                "SKILLWAY_LEDGER_URL": "ledgerUrl", "SKILLWAY_TEAM": "team"}


@dataclass
class _Layer:
    values: dict[str, Any]
    origin: Path  # the file, or a pseudo-path such as "environment"
    base: Path  # relative folder paths start here
    from_workspace: bool = False
    positions: LocatedJson | None = None
    prefix: tuple[str, ...] = ()  # where our section sits in the file ("skillway", when nested)

    def place(self, *pointer: str) -> tuple[int, int]:
        return self.positions.position((*self.prefix, *pointer)) if self.positions else (1, 1)


def load_settings(
    workspace: Path | None,
    *,
    lsp_options: Mapping[str, Any] | None = None,
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
    merged: dict[str, Any] = {}  # the right values of every layer so far, camelCase, as on the wire
    requests: dict[str, object] = {}
    held_back: list[str] = []
    workspace_base_url: str | None = None
    workspace_rules: tuple[str, ...] = ()

    layers: list[_Layer] = []
    user_file = config_dir() / "settings.json"
    layers.append(_read_file(user_file, user_file.parent, problems))
    if workspace is not None:
        layers.append(_read_file(workspace / WORKSPACE_SETTINGS, workspace, problems, from_workspace=True))
    if lsp_options is not None:
        layers.append(_section(_Layer(dict(lsp_options), Path(lsp_origin), workspace or Path.cwd())))
    environment_values: dict[str, Any] = {}
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
        values = {key: value for key, value in data.items() if key not in _LOADER_KEYS}
        wrongs = check(values, Settings)
        problems += [_problem(layer, wrong) for wrong in wrongs]
        values = without(values, wrongs, Settings)
        if layer.from_workspace:
            if "allowedTools" in values:  # checked again against trust where the rules are used
                workspace_rules = structure(values.pop("allowedTools"), Rules)
            if "baseUrl" in values:  # never over the user's own choice
                workspace_base_url = structure(values.pop("baseUrl"), Text)
        merged = _overlay(merged, values, Settings)
    if workspace_base_url is not None and "baseUrl" not in merged:
        merged["baseUrl"] = workspace_base_url
    permissions = workspace_permissions(workspace) if workspace is not None else ToolPermissions()
    problems += permissions.problems
    if permissions.allow:  # trusting the workspace covers the rules it would let run unasked
        requests["permissions.allow"] = list(permissions.allow)
        if not workspace_trusted:
            held_back.append("permissions.allow")
            problems.append(permissions.held_back_warning())
    if environ.get("SKILLWAY_PLUGIN_DIRS"):
        user_dirs += [Path(p).expanduser() for p in environ["SKILLWAY_PLUGIN_DIRS"].split(os.pathsep) if p]
    return attrs.evolve(structure(merged, Settings), plugin_dirs=tuple(user_dirs), workspace_plugin_dirs=tuple(workspace_dirs),
                        workspace_allowed_tools=workspace_rules, tool_permissions=permissions, workspace_requests=requests,
                        held_back=tuple(held_back), problems=tuple(problems))


def _overlay(low: dict[str, Any], high: dict[str, Any], kind: type) -> dict[str, Any]:
    """`high` over `low` (both right values of settings class `kind`): a section merges field by
    field, a table entry by entry (an entry is replaced whole), any other value is replaced."""
    merged = dict(low)
    for key, value in high.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            inner = field_kind(kind, key)
            merged[key] = _overlay(below, value, inner) if attrs.has(inner) else {**below, **value}
        else:
            merged[key] = value
    return merged


def _problem(layer: _Layer, wrong: Wrong) -> Problem:
    dotted = ".".join(wrong.path)
    line, column = layer.place(*wrong.path)
    if wrong.expected is None and len(wrong.path) == 1:
        return warning(layer.origin, f'unknown setting "{dotted}" is ignored', line, column)
    if wrong.expected is None:
        return warning(layer.origin, f'setting "{dotted}" is unknown (known: {", ".join(wrong.known)}); it is ignored',
                       line, column)
    return error(layer.origin, f'setting "{dotted}" must be {wrong.expected}, got {_shown(wrong.value)}; it is ignored',
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
    return _section(_Layer(located.value, path, base, from_workspace, located))


def _section(layer: _Layer) -> _Layer:
    """Editors often send every extension's options under one object: our section may be nested."""
    if isinstance(layer.values.get(APP), dict):
        layer.values, layer.prefix = layer.values[APP], (APP,)
    return layer


def _plugin_dirs(layer: _Layer, data: dict[str, Any], problems: list[Problem]) -> list[Path]:
    value = data.get("pluginDirs")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(error(layer.origin, 'setting "pluginDirs" must be a list of folder paths; it is ignored',
                              *layer.place("pluginDirs")))
        return []
    return [layer.base / Path(item).expanduser() for item in value]
