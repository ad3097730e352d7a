"""What the agent needs of a session's MCP servers (`McpServers`: their tools, prompts and resources,
a call, closing), and `MissingMcp`, what stands in when the `mcp` extra is not installed: no tools,
and one message saying which servers need it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the SDK is imported where the servers start
    from skillway.mcpclient.hub import McpPrompt, McpResource, McpTool
    from skillway.mcpclient.results import ToolOutput
    from skillway.plugins.mcp_config import McpServerSpec

MCP_PREFIX = "mcp__"


class McpServers(Protocol):
    problems: list[str]  # what failed to start, to be told once

    async def tools(self) -> list[McpTool]: ...

    async def call(self, name: str, arguments: dict) -> ToolOutput: ...

    async def close(self) -> None: ...

    async def prompt_text(self, name: str, words: list[str]) -> str:
        """A server's prompt typed as `/mcp__<server>__<prompt> words`; ValueError saying why not."""
        ...

    async def call_for_hook(self, server: str, tool: str, arguments: dict, timeout: float) -> tuple[str | None, str]:
        """An mcp_tool hook's call: (the tool's text, or None and why there is no usable answer)."""
        ...

    async def resources(self) -> list[McpResource]: ...

    def warm(self) -> None:
        """Start the servers in the background, if nothing has yet."""
        ...

    def running_prompts(self) -> list[McpPrompt]:
        """The prompts of the servers running now (none is waited for)."""
        ...

    async def read_resource(self, server: str, uri: str) -> list[dict]:
        """A resource a prompt @-mentions, as the content blocks it carries; ValueError saying why not."""
        ...

    def status(self) -> list[dict]:
        """Each server: name, plugin, transport, status, tools (a count), tool_names, error, log, origin."""
        ...


class MissingMcp:
    def __init__(self, servers: list[McpServerSpec]) -> None:
        self.servers = servers
        self.problems: list[str] = []
        self._told = False

    async def tools(self) -> list[McpTool]:
        if self.servers and not self._told:
            self._told = True
            names = ", ".join(sorted({server.name for server in self.servers}))
            self.problems.append(f"MCP servers {names} need the MCP SDK: pip install 'skillway[mcp]'")
        return []

    async def call(self, name: str, arguments: dict) -> ToolOutput:
        from skillway.mcpclient.results import ToolOutput  # no SDK import: results.py is plain Python

        return ToolOutput(f"{name}: the MCP SDK is not installed (pip install 'skillway[mcp]')", True)

    async def close(self) -> None:
        pass

    async def call_for_hook(self, server: str, tool: str, arguments: dict, timeout: float) -> tuple[str | None, str]:
        return None, f"MCP server '{server}' not connected (the MCP SDK is not installed)"

    async def prompt_text(self, name: str, words: list[str]) -> str:
        await self.tools()
        raise ValueError(self.problems[0] if self.problems else f'no MCP prompt named "{name}"')

    async def resources(self) -> list[McpResource]:
        await self.tools()
        return []

    def warm(self) -> None:
        pass

    def running_prompts(self) -> list[McpPrompt]:
        return []

    async def read_resource(self, server: str, uri: str) -> list[dict]:
        await self.tools()
        raise ValueError(self.problems[0] if self.problems else f"no MCP server named {server} is running")

    def status(self) -> list[dict]:
        return [{"name": s.name, "plugin": s.plugin, "transport": s.transport, "status": "failed", "tools": 0, "tool_names": [],
                 "error": "needs the MCP SDK: pip install 'skillway[mcp]'", "log": None,
                 "origin": str(s.origin) if s.origin else None} for s in self.servers]
