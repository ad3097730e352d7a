"""`RunContext`: what a run (the agent loop, a slash command, /ship, a code action) needs from the
session it runs in. `skillway.app.session.Session` is the one that builds it; nothing else reaches in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # for annotations only: the session imports all of these at run time
    import asyncio

    from skillway.agent.mcp_tools import McpServers
    from skillway.agent.transcript import Transcript
    from skillway.hooks.engine import HookEngine
    from skillway.hooks.outcome import HookOutcome
    from skillway.model.client import ModelClient, ModelRequest
    from skillway.plugins.catalog import Catalog
    from skillway.settings import Purpose, Settings


class RunContext(Protocol):
    session_id: str
    data_dir: Path  # the user's data folder (plugin data, transcripts)
    settings: Settings
    hooks: HookEngine
    transcript: Transcript
    ship_lock: asyncio.Lock  # held by the session's one /ship run: a second one at the same time is refused

    @property
    def workspace(self) -> Path: ...

    @property
    def workspace_trusted(self) -> bool: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def mcp(self) -> McpServers: ...

    @property
    def model(self) -> ModelClient: ...

    def model_request(self, purpose: Purpose | str, messages: list[dict[str, Any]], *, instructions: str | None = None,
                      **options: Any) -> ModelRequest:
        """A request carrying what every request of the session carries (system prompt, injected context)."""
        ...

    async def start(self, source: str = "startup", model: str | None = None) -> HookOutcome:
        """Fire SessionStart (again, after a compaction); what its hooks add goes into every request."""
        ...
