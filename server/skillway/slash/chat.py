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


def render_conversation(messages: list[dict]) -> str:
    """A stored conversation as a chat buffer holds one: each prompt under `## You`, each answer's
    text under `## skillway` (a tool it used as a line saying so), and a `## You` to write the next
    message under. Tool results are left out, as the buffer shows answers, not the work behind them."""
    sections: list[tuple[str, str]] = []
    for message in messages:
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        if any(block.get("type") == "tool_result" for block in blocks):
            continue
        lines = [block["text"].strip() if block.get("type") == "text" else f"_[used {block.get('name')}]_"
                 for block in blocks if block.get("type") in ("text", "tool_use") and (block.get("text") or block.get("name"))]
        text = "\n\n".join(line for line in lines if line)
        if not text:
            continue
        heading = USER_HEADING if message.get("role") == "user" else ASSISTANT_HEADING
        if sections and sections[-1][0] == heading:
            sections[-1] = (heading, f"{sections[-1][1]}\n\n{text}")
        else:
            sections.append((heading, text))
    return "".join(f"{heading}\n\n{text}\n\n" for heading, text in sections) + f"{USER_HEADING}\n\n"
