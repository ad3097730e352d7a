"""Chat buffers: a markdown file holding a conversation under `## You` and `## skillway` headings."""

from __future__ import annotations

import re

USER_HEADING = "## You"
ASSISTANT_HEADING = "## skillway"
CANCELLED_MARK = "_[cancelled]_"
_HEADING = re.compile(r"^(## You|## skillway)[ \t]*$", re.MULTILINE)


def parse_conversation(text: str) -> list[dict]:
    """The messages written in the buffer, oldest first. Text before the first heading is the user's."""
    messages = []
    pieces = _HEADING.split(text)
    first, rest = pieces[0], pieces[1:]
    if first.strip():
        messages.append({"role": "user", "content": first.strip()})
    for heading, body in zip(rest[0::2], rest[1::2]):
        content = body.replace(CANCELLED_MARK, "").strip()
        if not content:
            continue
        role = "user" if heading == USER_HEADING else "assistant"
        if messages and messages[-1]["role"] == role:  # two sections in a row by one side: one message
            messages[-1]["content"] += "\n\n" + content
        else:
            messages.append({"role": role, "content": content})
    while messages and messages[0]["role"] == "assistant":  # the API wants the user first
        messages.pop(0)
    return messages
