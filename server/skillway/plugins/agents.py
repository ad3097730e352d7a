"""Sub-agents ("personas"): `agents/*.md`, the body being the agent's whole system prompt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from skillway.core.paths import Found, Walk, is_file, markdown_tree
from skillway.core.problems import Problem, Severity, has_error, warning
from skillway.plugins import frontmatter
from skillway.plugins.frontmatter import as_list, as_text
from skillway.plugins.hooks_config import frontmatter_hooks
from skillway.plugins.model import Agent

SCHEMA = "agent-frontmatter.schema.json"


def load_agent(path: Path, text: str | None = None) -> tuple[Agent | None, list[Problem]]:
    """With `text`, that text is read instead of the file's content (an editor's unsaved buffer)."""
    parsed, problems = frontmatter.load(path, SCHEMA, text=text)
    if parsed is None:
        return None, problems
    if not parsed.present or any("not valid YAML" in p.message for p in problems):
        # Claude Code loads an agent whose frontmatter does not parse under its file name.
        problems = [replace(p, severity=Severity.WARNING) if "not valid YAML" in p.message else p
                    for p in problems if "not valid YAML" in p.message or not p.is_error]
        problems.append(warning(path, f'agent frontmatter could not be read; loaded as "{path.stem}"'))
        values = dict(parsed.values, name=path.stem)
        values.setdefault("description", frontmatter.first_line(parsed.body))
    elif has_error(problems):
        return None, problems
    else:
        values = parsed.values
    tools = values.get("tools")
    max_turns = values.get("maxTurns")
    hooks, hook_problems = frontmatter_hooks(path, parsed) if parsed.present else ((), [])
    problems += hook_problems
    if has_error(problems):
        return None, problems
    agent = Agent(
        name=str(values["name"]),
        path=path,
        description=str(values["description"]),
        body=parsed.body.strip(),
        tools=as_list(tools) if tools is not None else None,
        disallowed_tools=as_list(values.get("disallowedTools")),
        model=as_text(values.get("model")) or "inherit",
        skills=as_list(values.get("skills")),
        max_turns=max_turns if isinstance(max_turns, int) else None,
        color=as_text(values.get("color")),
        permission_mode=as_text(values.get("permissionMode")),
        hooks=hooks,
    )
    return agent, problems


def agent_files(target: Path, walk: Walk | None = None) -> list[Found]:
    """An agent file, or every `.md` below an agent folder except a README."""
    if is_file(target):
        return [Found(target, False)]
    return [found for found in markdown_tree(target, walk) if found.path.name.lower() != "readme.md"]
