"""MCP resources a prompt @-mentions (`@server:uri`, as Claude Code offers them), read from their
servers into the content blocks that go before the prompt's text, as Claude Code attaches them."""

from __future__ import annotations

import re

from skillway.agent.mcp_tools import McpServers

# `@` at the start or after a space, the mention optionally quoted; no server is asked before one
# such word holds a colon.
_MENTION = re.compile(r'(?:^|(?<=\s))@"?([^\s"]+:[^\s"]+)"?')


async def resource_attachments(mcp: McpServers, text: str) -> tuple[list[dict], list[str]]:
    """(the blocks of every resource `text` mentions, what to tell about mentions of a running server
    that came to nothing). A mention naming no running server is plain text and says nothing."""
    mentions = list(dict.fromkeys(match.group(1) for match in _MENTION.finditer(text)))
    if not mentions:
        return [], []
    listed = await mcp.resources()
    servers = {resource.server for resource in listed} | {row["name"] for row in mcp.status() if row["status"] == "connected"}
    blocks: list[dict] = []
    told: list[str] = []
    for mention in mentions:
        server, _, uri = mention.partition(":")
        if server not in servers:
            continue
        try:
            blocks += await mcp.read_resource(server, uri)
        except ValueError as exc:
            told.append(f"@{mention} is not attached: {exc}")
    return blocks, told
