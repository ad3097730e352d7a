"""Skills: `skills/<name>/SKILL.md`. Only the frontmatter is read at load; the body when invoked."""

from __future__ import annotations

from pathlib import Path

from skillway.plugins import frontmatter
from skillway.plugins.frontmatter import as_flag, as_list, as_text
from skillway.plugins.model import Skill
from skillway.plugins.problems import Problem, has_error, warning

SCHEMA = "skill-frontmatter.schema.json"
SKILL_FILE = "SKILL.md"


def load_skill(path: Path, *, head_only: bool = True) -> tuple[Skill | None, list[Problem]]:
    parsed, problems = frontmatter.load(path, SCHEMA, head_only=head_only)
    if parsed is None:
        return None, problems
    values = parsed.values
    folder = path.parent.name
    name = values.get("name")
    if name is None:
        # The folder name stands in, and must follow the same rules.
        problems += frontmatter.schema_check_value({"name": folder}, SCHEMA, path)
        name = folder
    elif isinstance(name, str) and name != folder:
        problems.append(warning(path, f'skill name "{name}" differs from its folder "{folder}"', parsed.line_of("name")))
    description = values.get("description")
    if not isinstance(description, str) or not description.strip():
        if "description" not in values:
            problems.append(warning(path, 'missing "description": the model cannot tell when to use this skill'))
        description = frontmatter.first_line(parsed.body)
    if has_error(problems):
        return None, problems
    skill = Skill(
        name=str(name),
        path=path,
        description=description,
        when_to_use=as_text(values.get("when_to_use")),
        argument_hint=as_text(values.get("argument-hint")),
        allowed_tools=as_list(values.get("allowed-tools")),
        model=as_text(values.get("model")),
        disable_model_invocation=as_flag(values.get("disable-model-invocation"), False),
        user_invocable=as_flag(values.get("user-invocable"), True),
        context=as_text(values.get("context")),
        agent=as_text(values.get("agent")),
    )
    return skill, problems


def skill_files(target: Path) -> list[Path]:
    """SKILL.md files for a declared skills path: a SKILL.md, a skill folder, or a folder of skills."""
    if target.is_file():
        return [target] if target.name == SKILL_FILE else []
    if (target / SKILL_FILE).is_file():
        return [target / SKILL_FILE]
    return sorted(p for p in target.glob(f"*/{SKILL_FILE}") if p.is_file())
