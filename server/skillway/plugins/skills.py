"""Skills: `skills/<name>/SKILL.md`. Only the frontmatter is read at load; the body when invoked."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from skillway.core.paths import Found, Walk, files_in_subfolders, is_file
from skillway.core.problems import Problem, has_error, warning
from skillway.plugins import frontmatter, schema
from skillway.plugins.frontmatter import as_flag, as_hint, as_list, as_text
from skillway.plugins.hooks_config import frontmatter_hooks
from skillway.plugins.model import Skill

SCHEMA = "skill-frontmatter.schema.json"
_NAME = re.compile(r"[a-z0-9-]+")  # what can name a skill; other text is a label
SKILL_FILE = "SKILL.md"


def load_skill(path: Path, *, head_only: bool = True, text: str | None = None) -> tuple[Skill | None, list[Problem]]:
    """With `text`, that text is read instead of the file's content (an editor's unsaved buffer)."""
    if text is not None:
        head_only = False  # the whole text is at hand already
    parsed, problems = frontmatter.load(path, SCHEMA, head_only=head_only, text=text)
    if parsed is None:
        return None, problems
    values = parsed.values
    folder = path.parent.name
    name = values.get("name")
    alias = None
    if name is None:
        # The folder name stands in, and must follow the same rules.
        problems += [replace(p, message=p.message.replace('"name"', f'the folder name "{folder}"', 1))
                     for p in schema.check({"name": folder}, SCHEMA, path, lambda pointer: (1, 1))]
        name = folder
    elif isinstance(name, str) and not _NAME.fullmatch(name):
        # A display label ("My Fancy Skill"): Claude Code names such a skill after its folder, and so do we.
        if name != folder:
            problems.append(warning(path, f'the skill is named after its folder, "{folder}": "name" is a label here',
                                    parsed.line_of("name")))
        name = folder
    elif isinstance(name, str) and name != folder and not (path.parent / ".claude-plugin").is_dir():
        # Claude Code names a skill after its folder; its frontmatter name is another name it answers to.
        # (A plugin that is one SKILL.md at its root has no folder of the skill's own: the name stands.)
        alias, name = name, folder
    declared = values.get("description")
    description = declared if isinstance(declared, str) else ""
    described = bool(description.strip())
    if not described:
        if "description" not in values:
            problems.append(warning(path, 'missing "description": the model cannot tell when to use this skill'))
        whole = frontmatter.load(path, SCHEMA)[0] if head_only else parsed  # the body is needed after all
        description = frontmatter.first_line(whole.body) if whole else ""
    hooks, hook_problems = frontmatter_hooks(path, parsed)
    problems += hook_problems
    if has_error(problems):
        return None, problems
    skill = Skill(
        name=str(name),
        path=path,
        description=description,
        when_to_use=as_text(values.get("when_to_use")),
        argument_hint=as_hint(values.get("argument-hint")),
        allowed_tools=as_list(values.get("allowed-tools")),
        model=as_text(values.get("model")),
        disable_model_invocation=as_flag(values.get("disable-model-invocation"), False),
        user_invocable=as_flag(values.get("user-invocable"), True),
        context=as_text(values.get("context")),
        agent=as_text(values.get("agent")),
        arguments=as_list(values.get("arguments")),
        alias=alias,
        described=described,
        disallowed_tools=as_list(values.get("disallowed-tools", values.get("disallowedTools"))),
        effort=as_text(values.get("effort")),
        hooks=hooks,
    )
    return skill, problems


def skill_files(target: Path, walk: Walk | None = None) -> list[Found]:
    """SKILL.md files for a declared skills path: a SKILL.md, a skill folder, or a folder of skills."""
    if is_file(target):
        return [Found(target, False)] if target.name == SKILL_FILE else []
    if is_file(target / SKILL_FILE):
        return [Found(target / SKILL_FILE, False)]
    return files_in_subfolders(target, SKILL_FILE, walk)
