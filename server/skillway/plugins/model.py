"""What a loaded plugin is made of. Plain data: loaders build it, everything else reads it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillway.core.permission_rules import Rule
from skillway.core.problems import Problem
from skillway.plugins import files, frontmatter
from skillway.plugins.user_config import PluginOptions

if TYPE_CHECKING:
    from skillway.plugins.mcp_config import McpServerSpec


class HookEvent(enum.StrEnum):
    """The events a hook may be declared for (the names hooks.json uses). An unknown name in a
    hooks file is accepted and kept as a plain string: it never fires."""

    SESSION_START = "SessionStart"
    SESSION_END = "SessionEnd"
    USER_PROMPT_SUBMIT = "UserPromptSubmit"
    PRE_TOOL_USE = "PreToolUse"
    PERMISSION_REQUEST = "PermissionRequest"
    POST_TOOL_USE = "PostToolUse"
    POST_TOOL_USE_FAILURE = "PostToolUseFailure"
    NOTIFICATION = "Notification"
    STOP = "Stop"
    STOP_FAILURE = "StopFailure"
    SUBAGENT_START = "SubagentStart"
    SUBAGENT_STOP = "SubagentStop"
    PRE_COMPACT = "PreCompact"
    POST_COMPACT = "PostCompact"

    @classmethod
    def named(cls, name: str) -> HookEvent | str:
        """The event called `name`, or `name` itself when no event is called that."""
        try:
            return cls(name)
        except ValueError:
            return name


class Source(str, enum.Enum):
    """Where a plugin came from; decides whether its hooks may run before the workspace is trusted."""

    BUNDLED = "bundled"
    USER = "user"  # plugin folders from the user's settings
    PLUGIN_DIR = "plugin-dir"  # --plugin-dir
    WORKSPACE = "workspace"  # the workspace's .claude/, .claude-plugin/ and its marketplace
    COMMAND_LINE = "command-line"  # print mode's --settings hooks and --agents: typed by the user

    @property
    def trusted_by_default(self) -> bool:
        return self is not Source.WORKSPACE


@dataclass(frozen=True)
class Command:
    name: str  # local name inside the plugin, sub-folders joined with ':' (frontend:component)
    path: Path
    description: str
    argument_hint: str | None = None
    allowed_tools: tuple[str, ...] = ()
    model: str | None = None
    disable_model_invocation: bool = False
    fan_out: tuple[str, ...] = ()
    body_line: int = 1
    arguments: tuple[str, ...] = ()  # names for the arguments, in order: `$name` in the body
    alias: str | None = None  # the frontmatter's `name`, when it differs: another name it answers to
    described: bool = True  # False: no frontmatter description, so it is not listed to the model


@dataclass(frozen=True)
class Skill:
    name: str
    path: Path  # the SKILL.md file
    description: str
    when_to_use: str | None = None
    argument_hint: str | None = None
    allowed_tools: tuple[str, ...] = ()
    model: str | None = None
    disable_model_invocation: bool = False
    user_invocable: bool = True
    context: str | None = None
    agent: str | None = None
    arguments: tuple[str, ...] = ()
    alias: str | None = None  # the frontmatter's `name`, when it differs from the folder's
    described: bool = True
    disallowed_tools: tuple[str, ...] = ()  # refused for the rest of the turn once invoked
    effort: str | None = None  # read, not sent: the Messages API has no effort setting
    hooks: tuple[HookGroup, ...] = ()  # registered for the rest of the session once invoked

    @property
    def directory(self) -> Path:
        return self.path.parent

    def read_body(self) -> str:
        """The instructions, read only when the skill is invoked (progressive disclosure)."""
        text, problems = files.read_text(self.path)
        if text is None:
            raise OSError(problems[0].message)
        return frontmatter.parse(self.path, text)[0].body


@dataclass(frozen=True)
class Agent:
    name: str
    path: Path
    description: str
    body: str
    tools: tuple[str, ...] | None = None  # None: every tool
    disallowed_tools: tuple[str, ...] = ()
    model: str = "inherit"
    skills: tuple[str, ...] = ()
    max_turns: int | None = None
    color: str | None = None
    permission_mode: str | None = None  # project and user agents only, as in Claude Code
    hooks: tuple[HookGroup, ...] = ()  # project and user agents only: active while it runs


@dataclass(frozen=True)
class HookHandler:
    type: str
    # `if`: a permission rule (`Bash(git commit:*)`); the handler starts only for tool calls it names.
    condition: Rule | None = None
    command: str | None = None
    args: tuple[str, ...] | None = None
    timeout: float | None = None
    run_async: bool = False
    shell: str | None = None
    status_message: str | None = None
    once: bool = False
    prompt: str | None = None  # prompt and agent hooks: what the model is asked ($ARGUMENTS: the input)
    model: str | None = None
    url: str | None = None  # http hooks
    headers: tuple[tuple[str, str], ...] = ()
    allowed_env_vars: tuple[str, ...] = ()  # the variables header values may name
    async_rewake: bool = False  # in the background; exit 2 wakes the model with the hook's message
    server: str | None = None  # mcp_tool hooks: the server as Claude Code registers it (plugin:<plugin>:<name>)
    tool: str | None = None
    input_json: str | None = None  # the tool's arguments, `${path}` placeholders filled from the hook input
    on_failure_blocks: bool = False  # onFailure other than "continue": no usable answer blocks


@dataclass(frozen=True)
class HookGroup:
    event: HookEvent | str  # a plain string: an unknown event, which never fires
    matcher: str | None
    handlers: tuple[HookHandler, ...]
    path: Path  # the file the group was declared in
    line: int = 1


@dataclass(frozen=True)
class MarketplaceEntry:
    name: str
    marketplace: str
    source: str | dict
    description: str | None = None
    version: str | None = None
    installed: bool = False  # local sources load; remote ones are listed only
    definition: dict | None = None  # the entry itself, when it is the whole definition (strict: false)

    @property
    def install_id(self) -> str:
        return f"{self.name}@{self.marketplace}"


@dataclass
class Plugin:
    name: str
    root: Path
    source: Source
    manifest_path: Path | None = None
    manifest: dict = field(default_factory=dict)
    namespaced: bool = True  # the workspace's own .claude/ components have bare names
    marketplace: str | None = None
    commit: str | None = None  # the commit an installed plugin is pinned at
    loaded: bool = True  # False when the manifest has an error: the plugin contributes nothing
    commands: list[Command] = field(default_factory=list)
    skills: list[Skill] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    hooks: list[HookGroup] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    options: PluginOptions = field(default_factory=lambda: PluginOptions())  # its userConfig values
    mcp_servers: list[McpServerSpec] = field(default_factory=list)  # from .mcp.json and mcpServers

    @property
    def version(self) -> str | None:
        version = self.manifest.get("version")
        return version if isinstance(version, str) else None

    @property
    def description(self) -> str | None:
        text = self.manifest.get("description")
        return text if isinstance(text, str) else None

    @property
    def hook_handler_count(self) -> int:
        return sum(len(group.handlers) for group in self.hooks)

    def qualified(self, local_name: str) -> str:
        return f"{self.name}:{local_name}" if self.namespaced else local_name
