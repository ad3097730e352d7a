"""Deferred MCP tools: when a session's MCP tools are many, the model is shown their names only and a
`ToolSearch` tool that loads the schemas of those it needs (as Claude Code's ToolSearch does), so a
dozen servers do not fill the context. A loaded tool is offered in full from the next request on."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skillway.mcpclient.hub import McpTool

NAME = "ToolSearch"
DEFER_OVER_TOOLS = 30  # more MCP tools than this: their schemas load on demand
DEFER_OVER_CHARS = 40_000  # or schemas longer than this, in all
MAX_RESULTS = 5


def should_defer(tools: Mapping[str, McpTool]) -> bool:
    return len(tools) > DEFER_OVER_TOOLS or sum(len(json.dumps(dict(t.input_schema))) for t in tools.values()) > DEFER_OVER_CHARS


def definition(deferred: list[McpTool]) -> dict:
    """The ToolSearch tool, listing what it can load."""
    listed = "\n".join(f"- {tool.name}: {tool.description.splitlines()[0] if tool.description else ''}".rstrip(": ")
                       for tool in deferred)
    return {"name": NAME,
            "description": "Load the full definitions of MCP tools before calling them. Query with words, or with "
                           "select:name1,name2 for exact names. These tools can be loaded:\n" + listed,
            "input_schema": {"type": "object", "properties": {"query": {"type": "string"},
                                                              "max_results": {"type": "integer"}},
                             "required": ["query"]}}


def search(tools: Mapping[str, McpTool], query: str, max_results: int = MAX_RESULTS) -> list[McpTool]:
    """The tools a query names: `select:a,b` exactly, else the best matches of its words in names and descriptions."""
    if query.startswith("select:"):
        wanted = [name.strip() for name in query.removeprefix("select:").split(",")]
        return [tools[name] for name in wanted if name in tools]
    words = [w for w in re.split(r"[^a-z0-9]+", query.lower()) if w]
    scored = []
    for tool in tools.values():
        text = f"{tool.name} {tool.description}".lower()
        score = sum(3 if word in tool.name.lower() else 1 for word in words if word in text)
        if score:
            scored.append((-score, tool.name, tool))
    return [tool for _, _, tool in sorted(scored)[:max(1, max_results)]]


def found_text(found: list[McpTool]) -> str:
    if not found:
        return "no tool matches; try other words, or select:<name>"
    return "Loaded, and callable from now on:\n" + "\n".join(
        json.dumps({"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)}) for t in found)
