"""MCP server declarations, read into `McpServerSpec`s with Claude Code's expansions
(`${CLAUDE_PLUGIN_ROOT}`, `${VAR}`, `${VAR:-default}`, `${user_config.KEY}`): a plugin's `.mcp.json`
and manifest `mcpServers`; the user's (`~/.claude.json`: its `mcpServers`, and the workspace's entry
under `projects`); the workspace's `.mcp.json`, each server approved as Claude Code approves them
(`enableAllProjectMcpServers`, `enabledMcpjsonServers`, `disabledMcpjsonServers`); `--mcp-config`."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from skillway.core.paths import resolve_declared
from skillway.core.problems import Problem, error, warning
from skillway.core.secrets import SECRET_VARIABLES
from skillway.plugins import files
from skillway.settings.edits import local_settings, read_object, write_object

MCP_FILE = ".mcp.json"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_OPTION = re.compile(r"\$\{user_config\.([A-Za-z0-9_-]+)\}")


@dataclass(frozen=True)
class McpServerSpec:
    name: str  # as declared
    plugin: str | None  # the plugin declaring it; None for the user's or the workspace's own
    transport: str  # stdio | http | sse
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    headers_helper: str | None = None  # a command printing a JSON object of headers, over `headers`
    helper_cwd: Path | None = None  # where that command runs: the plugin's root, else the declaring file's folder
    origin: Path | None = None  # the file that declared it

    @property
    def registered_name(self) -> str:
        """The name Claude Code registers it under (what an mcp_tool hook's `server` names)."""
        return f"plugin:{self.plugin}:{self.name}" if self.plugin else self.name

    @property
    def tool_prefix(self) -> str:
        """What its tools' names start with, as Claude Code names them: `mcp__plugin_<plugin>_<server>__`
        for a plugin's server, `mcp__<server>__` otherwise."""
        base = f"plugin_{self.plugin}_{self.name}" if self.plugin else self.name
        return f"mcp__{re.sub(r'[^A-Za-z0-9_-]', '_', base)}__"


def plugin_servers(root: Path, manifest: Mapping[str, object], plugin: str,
                   options: Mapping[str, str] | None = None) -> tuple[list[McpServerSpec], list[Problem]]:
    """The servers a plugin declares: `.mcp.json` at its root, then its manifest's `mcpServers`."""
    servers: list[McpServerSpec] = []
    problems: list[Problem] = []
    sources: list[tuple[object, Path]] = []
    if (root / MCP_FILE).is_file():
        sources.append((None, root / MCP_FILE))
    declared = manifest.get("mcpServers")
    manifest_path = root / ".claude-plugin" / "plugin.json"
    if isinstance(declared, dict):
        sources.append((declared, manifest_path))
    elif isinstance(declared, str | list):
        for text in [declared] if isinstance(declared, str) else declared:
            path, refused = resolve_declared(root, str(text))
            if path is None:
                problems.append(error(manifest_path, refused or f'"mcpServers" path "{text}" is not usable'))
            else:
                sources.append((None, path))
    variables = {"CLAUDE_PLUGIN_ROOT": str(root)}
    for inline, path in sources:
        found, more = read_servers(path, inline, plugin, variables, options or {})
        servers += [s for s in found if s.name not in {known.name for known in servers}]
        problems += more
    return servers, problems


def read_servers(path: Path, inline: object, plugin: str | None, variables: Mapping[str, str],
                 options: Mapping[str, str]) -> tuple[list[McpServerSpec], list[Problem]]:
    """The servers of one `.mcp.json`-shaped file (or of `inline`, an object found in a manifest)."""
    if inline is None:
        located, problems = files.read_json(path)
        if located is None:
            return [], problems
        data = located.value
        inline = data.get("mcpServers", data) if isinstance(data, dict) else None
    else:
        problems = []
    if not isinstance(inline, dict):
        return [], problems + [error(path, '"mcpServers" must be an object of servers')]
    servers = []
    for name, raw in inline.items():
        spec, problem = _server(path, str(name), raw, plugin, variables, options)
        if spec is not None:
            servers.append(spec)
        if problem is not None:
            problems.append(problem)
    return servers, problems


def _server(path: Path, name: str, raw: object, plugin: str | None, variables: Mapping[str, str],
            options: Mapping[str, str]) -> tuple[McpServerSpec | None, Problem | None]:
    if not isinstance(raw, dict):
        return None, error(path, f'MCP server "{name}" must be an object')
    def expand(value: object) -> str:
        return expand_text(str(value), variables, options)
    kind = raw.get("type") or ("http" if "url" in raw and "command" not in raw else "stdio")
    if kind in ("http", "sse", "streamable-http"):
        if not isinstance(raw.get("url"), str):
            return None, error(path, f'MCP server "{name}" needs a "url"')
        declared = raw.get("headers")
        headers = declared if isinstance(declared, dict) else {}
        helper = raw.get("headersHelper")
        if helper is not None and not isinstance(helper, str):
            return None, error(path, f'MCP server "{name}": "headersHelper" must be a command (a string)')
        return McpServerSpec(name, plugin, "sse" if kind == "sse" else "http", url=expand(raw["url"]),
                             headers={str(k): expand(v) for k, v in headers.items()}, headers_helper=helper or None,
                             helper_cwd=Path(variables.get("CLAUDE_PLUGIN_ROOT") or path.parent), origin=path), None
    if kind != "stdio":
        return None, warning(path, f'MCP server "{name}": transport "{kind}" is not supported; it is skipped')
    if not isinstance(raw.get("command"), str) or not raw["command"]:
        return None, error(path, f'MCP server "{name}" needs a "command"')
    declared_args, declared_env = raw.get("args"), raw.get("env")
    args = declared_args if isinstance(declared_args, list) else []
    env = declared_env if isinstance(declared_env, dict) else {}
    cwd = raw.get("cwd")
    return McpServerSpec(name, plugin, "stdio", command=expand(raw["command"]), args=tuple(expand(a) for a in args),
                         env={str(k): expand(v) for k, v in env.items()}, cwd=Path(expand(cwd)) if isinstance(cwd, str) else None,
                         origin=path), None


def expand_text(text: str, variables: Mapping[str, str], options: Mapping[str, str],
                environ: Mapping[str, str] | None = None) -> str:
    """`${VAR}` and `${VAR:-default}` from `variables` then the environment (never skillway's
    credentials), `${user_config.KEY}` from the plugin's options (unset: empty), as Claude Code expands them."""
    environ = os.environ if environ is None else environ

    def variable(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = variables.get(name, environ.get(name) if name not in SECRET_VARIABLES else None)
        return value if value else (default if default is not None else "")

    return _VARIABLE.sub(variable, _OPTION.sub(lambda m: options.get(m.group(1), ""), text))


def user_servers(config_file: Path, workspace: Path | None) -> tuple[list[McpServerSpec], list[McpServerSpec], list[Problem]]:
    """The user's own servers in Claude Code's `~/.claude.json`: (the workspace's, under
    `projects[path]`; everyone's, `mcpServers`; problems)."""
    located, problems = files.read_json(config_file) if config_file.is_file() else (None, [])
    data = located.value if located is not None and isinstance(located.value, dict) else {}
    everyone, more = read_servers(config_file, data.get("mcpServers") or {}, None, {}, {})
    declared = data.get("projects")
    projects: dict = declared if isinstance(declared, dict) else {}
    project = projects.get(str(workspace)) if workspace is not None else None
    local, most = read_servers(config_file, (project.get("mcpServers") if isinstance(project, dict) else None) or {},
                               None, {}, {})
    return local, everyone, problems + more + most


def workspace_servers(workspace: Path, approvals: Mapping[str, object]) -> tuple[list[McpServerSpec], list[Problem]]:
    """The workspace's `.mcp.json` servers that `approvals` (the settings' keys) let start: all with
    `enableAllProjectMcpServers`, else those in `enabledMcpjsonServers`; never one in `disabledMcpjsonServers`."""
    path = workspace / MCP_FILE
    if not path.is_file():
        return [], []
    servers, problems = read_servers(path, None, None, {}, {})
    enabled, disabled = approvals.get("enabledMcpjsonServers"), approvals.get("disabledMcpjsonServers")
    allowed = {str(n) for n in enabled} if isinstance(enabled, list) else set()
    refused = {str(n) for n in disabled} if isinstance(disabled, list) else set()
    everything = approvals.get("enableAllProjectMcpServers") is True
    return [s for s in servers if s.name not in refused and (everything or s.name in allowed)], problems


def pending_servers(workspace: Path, approvals: Mapping[str, object]) -> list[str]:
    """The workspace's `.mcp.json` servers nobody has approved or refused yet: what Claude Code asks about."""
    path = workspace / MCP_FILE
    if not path.is_file() or approvals.get("enableAllProjectMcpServers") is True:
        return []
    servers, _ = read_servers(path, None, None, {}, {})
    decided = {str(name) for key in ("enabledMcpjsonServers", "disabledMcpjsonServers")
               for name in _names(approvals.get(key))}
    return [server.name for server in servers if server.name not in decided]


APPROVE_ALL, APPROVE, REFUSE = "all", "approve", "refuse"


def _names(value: object) -> list:
    return list(value) if isinstance(value, list) else []


def record_approval(workspace: Path, name: str, answer: str) -> None:
    """A person's answer about one `.mcp.json` server, kept where Claude Code keeps it: the workspace's
    `.claude/settings.local.json` (`enabledMcpjsonServers`, `disabledMcpjsonServers`, and for
    APPROVE_ALL `enableAllProjectMcpServers`). ValueError when that file cannot be kept."""
    path = local_settings(workspace)
    data = read_object(path)
    key = "disabledMcpjsonServers" if answer == REFUSE else "enabledMcpjsonServers"
    names = _names(data.get(key))
    data[key] = [*names, name] if name not in names else names
    if answer == APPROVE_ALL:
        data["enableAllProjectMcpServers"] = True
    write_object(path, data)


def _merged(high: list[McpServerSpec], low: list[McpServerSpec]) -> list[McpServerSpec]:
    return high + [server for server in low if server.name not in {s.name for s in high}]


def merged(*layers: list[McpServerSpec]) -> list[McpServerSpec]:
    """Servers of several sources, the first source's winning a name they share."""
    result: list[McpServerSpec] = []
    for layer in layers:
        result = _merged(result, layer)
    return result


APPROVAL_KEYS = ("enableAllProjectMcpServers", "enabledMcpjsonServers", "disabledMcpjsonServers")


def mcp_approvals(user_dir: Path | None, workspace: Path) -> dict[str, object]:
    """The approval keys of the user's and the workspace's Claude Code settings, the later file winning
    (the workspace's count only once it is trusted, as the whole `.mcp.json` does)."""
    found: dict[str, object] = {}
    for path in ([user_dir / "settings.json"] if user_dir else []) + [workspace / ".claude" / "settings.json",
                                                                    workspace / ".claude" / "settings.local.json"]:
        located, _ = files.read_json(path) if path.is_file() else (None, [])
        if located is not None and isinstance(located.value, dict):
            found |= {key: located.value[key] for key in APPROVAL_KEYS if key in located.value}
    return found


def config_servers(value: str) -> tuple[list[McpServerSpec], list[Problem]]:
    """`--mcp-config FILE|JSON`: the servers of a file, or of the JSON given in its place."""
    if value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
        except ValueError as exc:
            return [], [error(Path("--mcp-config"), f"not valid JSON: {exc}")]
        inline = data.get("mcpServers", data) if isinstance(data, dict) else None
        return read_servers(Path("--mcp-config"), inline, None, {}, {})
    return read_servers(Path(value).expanduser(), None, None, {}, {})


def save_server(path: Path, name: str, entry: dict | None, *, project: Path | None = None) -> bool:
    """Add `name` (or with `entry` None, remove it) in a Claude Code MCP file, `~/.claude.json` (under
    `projects[project]` with `project`) or a `.mcp.json`, keeping everything else; written whole, at
    once. Returns whether anything changed. A file that is not a JSON object is refused (ValueError)."""
    data = read_object(path)
    holder = data
    if project is not None:
        holder = data.setdefault("projects", {}).setdefault(str(project), {})
    servers = holder.setdefault("mcpServers", {})
    if entry is None:
        if name not in servers:
            return False
        del servers[name]
    else:
        servers[name] = entry
    write_object(path, data)
    return True
