"""Slash commands: markdown files under `commands/`; sub-folders namespace them (`frontend:component`)."""

from __future__ import annotations

import re
from pathlib import Path

from skillway.core.paths import Found, Walk, is_file, markdown_tree
from skillway.core.problems import Problem, has_error
from skillway.plugins import frontmatter
from skillway.plugins.frontmatter import as_flag, as_hint, as_list, as_text
from skillway.plugins.model import Command

SCHEMA = "command-frontmatter.schema.json"
_ALIAS = re.compile(r"[a-z0-9][a-z0-9-]*")  # a name a command can also answer to


def load_command(path: Path, name: str, text: str | None = None) -> tuple[Command | None, list[Problem]]:
    """With `text`, that text is read instead of the file's content (an editor's unsaved buffer)."""
    parsed, problems = frontmatter.load(path, SCHEMA, text=text)
    if parsed is None or has_error(problems):
        return None, problems
    values = parsed.values
    declared = values.get("description")
    description = declared if isinstance(declared, str) else ""
    described = bool(description.strip())
    alias = values.get("name")
    command = Command(
        name=name,
        path=path,
        description=description if described else frontmatter.first_line(parsed.body),
        argument_hint=as_hint(values.get("argument-hint")),
        allowed_tools=as_list(values.get("allowed-tools")),
        model=as_text(values.get("model")),
        disable_model_invocation=as_flag(values.get("disable-model-invocation"), False),
        fan_out=as_list(values.get("fan-out")),
        body_line=parsed.body_line,
        arguments=as_list(values.get("arguments")),
        alias=alias if isinstance(alias, str) and _ALIAS.fullmatch(alias) and alias != name else None,
        described=described,
    )
    return command, problems


def command_files(target: Path, walk: Walk | None = None) -> list[Found]:
    """A command file, or every `.md` below a command folder, named by its sub-folders."""
    if is_file(target):
        return [Found(target, False, target.stem)]
    return markdown_tree(target, walk)
