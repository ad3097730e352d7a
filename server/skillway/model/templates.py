"""The one place prompt text is rendered: Jinja2 templates in `model/prompts/`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS = Path(__file__).parent / "prompts"


@cache
def _environment():
    import jinja2  # only when a prompt is rendered: keeps it off the path to the editor's first answer

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS),
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty string in a prompt
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **values) -> str:
    return _environment().get_template(name).render(**values).strip()
