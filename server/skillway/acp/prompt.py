"""What a client hands over, as skillway takes it: a `session/prompt`'s content blocks as the typed
text (a slash command stays at its start), and `session/new`'s MCP servers as server specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from acp.schema import (
    EmbeddedResourceContentBlock,
    HttpMcpServer,
    McpServerStdio,
    ResourceContentBlock,
    SseMcpServer,
    TextContentBlock,
    TextResourceContents,
)

from skillway.plugins.mcp_config import McpServerSpec


def typed_text(blocks: list[Any], workspace: Path) -> str:
    """The prompt's text; a linked file becomes an `@path` mention (the agent reads it when it needs
    it), an embedded text resource follows as context, quoted with its URI; images and audio are
    not taken (the capabilities say so)."""
    parts: list[str] = []
    context: list[str] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, ResourceContentBlock):
            parts.append(_mention(block.uri, workspace))
        elif isinstance(block, EmbeddedResourceContentBlock) and isinstance(block.resource, TextResourceContents):
            context.append(f'<context uri="{block.resource.uri}">\n{block.resource.text}\n</context>')
    typed = " ".join(part.strip() for part in parts if part.strip())
    return "\n\n".join(filter(None, [typed, *context]))


def _mention(uri: str, workspace: Path) -> str:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = Path(unquote(parsed.path))
    try:
        return "@" + str(path.relative_to(workspace))
    except ValueError:
        return "@" + str(path)


def client_servers(servers: list[Any], workspace: Path) -> tuple[list[McpServerSpec], list[str]]:
    """The editor's MCP servers (its user's own: they run as the user's servers do, in the
    workspace); an ACP-transport server, which skillway cannot reach, is named in a problem."""
    specs: list[McpServerSpec] = []
    problems: list[str] = []
    for server in servers:
        if isinstance(server, McpServerStdio):
            specs.append(McpServerSpec(server.name, None, "stdio", command=server.command, args=tuple(server.args),
                                       env={v.name: v.value for v in server.env}, cwd=workspace))
        elif isinstance(server, (HttpMcpServer, SseMcpServer)):
            specs.append(McpServerSpec(server.name, None, server.type, url=server.url,
                                       headers={h.name: h.value for h in server.headers}))
        else:
            problems.append(f"the MCP server {getattr(server, 'name', '?')} of the editor uses a transport "
                            "skillway does not speak (stdio, http and sse only); it is left out")
    return specs, problems
