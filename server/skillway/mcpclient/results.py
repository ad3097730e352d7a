"""An MCP tool's result as a tool_result's content: text (resources and structured content as their
text), images as image blocks, the server's isError kept, and the text cut at MAX_OUTPUT_CHARS as
Claude Code cuts MCP output (MAX_MCP_OUTPUT_TOKENS, about four characters a token). And a resource a
prompt mentions, as the blocks Claude Code attaches for it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

MAX_OUTPUT_CHARS = int(os.environ.get("MAX_MCP_OUTPUT_TOKENS", "25000")) * 4


@dataclass(frozen=True)
class ToolOutput:
    content: str | list[dict[str, Any]]
    is_error: bool = False


def tool_output(result: Any) -> ToolOutput:
    """A CallToolResult (or any result the SDK gave) as what the model gets."""
    blocks: list[dict[str, Any]] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", None)
        if kind == "text":
            blocks.append({"type": "text", "text": item.text})
        elif kind == "image":
            blocks.append({"type": "image", "source": {"type": "base64", "media_type": item.mime_type, "data": item.data}})
        elif kind == "resource":
            resource = item.resource
            text = getattr(resource, "text", None)
            blocks.append({"type": "text", "text": text if text is not None else f"[binary resource {resource.uri}]"})
        elif kind == "resource_link":
            blocks.append({"type": "text", "text": f"[resource {item.uri}]"})
    structured = getattr(result, "structured_content", None)
    if not blocks and structured is not None:
        blocks.append({"type": "text", "text": json.dumps(structured)})
    is_error = bool(getattr(result, "is_error", False))
    text_only = all(block["type"] == "text" for block in blocks)
    if text_only:
        text = "\n".join(block["text"] for block in blocks) or "(no output)"
        return ToolOutput(_capped(text), is_error)
    return ToolOutput([_capped_block(block) for block in blocks], is_error)


def _capped(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + (f"\n[the MCP tool's output was cut at {MAX_OUTPUT_CHARS:,} of {len(text):,} "
                                      "characters (MAX_MCP_OUTPUT_TOKENS)]")


def _capped_block(block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "text", "text": _capped(block["text"])} if block["type"] == "text" else block


def resource_blocks(server: str, uri: str, result: Any) -> list[dict[str, Any]]:
    """A ReadResourceResult as Claude Code attaches a mentioned resource: each text with a line before
    and after it, a binary content named by its type, and a marker when there is nothing to show."""
    blocks: list[dict[str, Any]] = []
    for item in getattr(result, "contents", None) or []:
        text = getattr(item, "text", None)
        if isinstance(text, str):
            blocks += [{"type": "text", "text": "Full contents of resource:"}, {"type": "text", "text": _capped(text)},
                       {"type": "text", "text": "Do NOT read this resource again unless you think it may have changed, "
                                                "since you already have the full contents."}]
        elif getattr(item, "blob", None) is not None:
            blocks.append({"type": "text", "text": f"[Binary content: {item.mime_type or 'application/octet-stream'}]"})
    if blocks:
        return blocks
    empty = "No content" if not getattr(result, "contents", None) else "No displayable content"
    return [{"type": "text", "text": f'<mcp-resource server="{server}" uri="{uri}">({empty})</mcp-resource>'}]
