"""Permission rules such as `Bash(git diff:*)`, `Bash(git *)`, `Read`, `Edit(src/**)`, as Claude Code
writes them: in allowed-tools, and in a hook handler's `if` (which tool calls start the handler)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

_RULE = re.compile(r"^(?P<tool>[A-Za-z_][\w*-]*)(?:\((?P<spec>.*)\))?$")
# The tool whose rules also cover this one.
_FAMILY = {"Task": "Agent", "Agent": "Task", "Write": "Edit", "Glob": "Read", "Grep": "Read"}
# Where a shell command line holds several commands, and the `VAR=value` words that may lead one.
_COMMAND_SEPARATORS = re.compile(r"&&|\|\||[;|\n]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*\s+")


@dataclass(frozen=True)
class Rule:
    tool: str
    spec: str | None  # None: every use of the tool

    @classmethod
    def parse(cls, text: str) -> Rule | None:
        match = _RULE.match(text.strip())
        return cls(match["tool"], match["spec"]) if match else None

    def allows(self, tool: str, subject: str | None) -> bool:
        """`subject`: the command for Bash, the path for file tools, None when the tool has none.
        As in Claude Code, an Edit rule covers every tool that changes files and a Read rule every
        one that reads them."""
        if self.tool not in (tool, _FAMILY.get(tool)) and not _names_mcp_tool(self.tool, tool):
            return False
        if self.spec is None or self.spec in ("", "*"):
            return True
        if subject is None:
            return False
        if tool == "Bash":
            if self.spec.endswith(":*"):  # a command prefix: `git diff:*` allows `git diff --stat`
                prefix = self.spec[:-2]
                return subject == prefix or subject.startswith(prefix + " ")
            if "*" in self.spec:  # `git *`: a wildcard stands for any text
                return fnmatch.fnmatchcase(subject.strip(), self.spec.strip())
            return subject.strip() == self.spec.strip()
        spec = self.spec.removeprefix("./")
        return fnmatch.fnmatchcase(subject, spec) or fnmatch.fnmatchcase(subject, spec.rstrip("/") + "/**")

    def covers_call(self, tool: str, tool_input: dict) -> bool:
        """Whether a tool call is one this rule names: a hook's `if`. A shell command line matches
        when one of its commands does (`ls && git commit -m x` is a `git commit`), with leading
        `VAR=value` words set aside, as Claude Code matches them."""
        subject = subject_of(tool, tool_input)
        if tool != "Bash" or subject is None:
            return self.allows(tool, subject)
        return any(self.allows(tool, _without_assignments(part))
                   for part in _COMMAND_SEPARATORS.split(subject) if part.strip())


def _without_assignments(command: str) -> str:
    command = command.strip()
    while (found := _ASSIGNMENT.match(command)) is not None:
        command = command[found.end():]
    return command


def subject_of(tool: str, tool_input: dict) -> str | None:
    """What a permission rule is matched against: the command, the path or the pattern."""
    for key in ("command", "file_path", "path", "pattern", "skill", "subagent_type"):
        if isinstance(tool_input.get(key), str):
            return tool_input[key]
    return None


def parse_rules(entries: tuple[str, ...] | list[str]) -> list[Rule]:
    return [rule for rule in (Rule.parse(entry) for entry in entries) if rule is not None]


def allowed(rules: list[Rule], tool: str, subject: str | None = None) -> bool:
    return any(rule.allows(tool, subject) for rule in rules)


def matching_rule(rules: list[Rule], tool: str, subject: str | None = None) -> str | None:
    """The first of `rules` that names this call, as written, or None."""
    for rule in rules:
        if rule.allows(tool, subject):
            return f"{rule.tool}({rule.spec})" if rule.spec is not None else rule.tool
    return None


def workspace_path(workspace: Path, path: str) -> str:
    """A file tool's path as rules name it: relative to the workspace when inside it, else absolute."""
    resolved = (workspace / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
    root = workspace.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.as_posix()


def _names_mcp_tool(pattern: str, tool: str) -> bool:
    """`mcp__github` names every tool of that server, and `mcp__github__*` too (as Claude Code reads them)."""
    if not pattern.startswith("mcp__") or not tool.startswith("mcp__"):
        return False
    return tool.startswith(pattern + "__") or ("*" in pattern and fnmatch.fnmatchcase(tool, pattern))
