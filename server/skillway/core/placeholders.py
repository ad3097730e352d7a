"""`${CLAUDE_*}` placeholders in hook commands and in skill, agent and command text."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\$\{(CLAUDE_[A-Z_]+)\}")


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace the placeholders named in `values`; unknown ones stay as written (a shell may expand them)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def plugin_data_id(plugin_id: str) -> str:
    """The folder name of a plugin's persistent data: its id with other characters turned to `-`."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", plugin_id)
