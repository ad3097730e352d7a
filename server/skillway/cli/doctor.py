"""`skillway doctor`: what a person needs to see when something does not load or behave."""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
from pathlib import Path

from skillway import __version__
from skillway.app.session import Session
from skillway.model.client import DEFAULT_BASE_URL
from skillway.plugins.bundled import bundled_plugin_root
from skillway.plugins.report import listing_text
from skillway.settings import config_dir, data_dir


def doctor_report(workspace: Path, plugin_dirs: list[Path]) -> tuple[str, bool]:
    """The report, and whether it shows an error (a broken file or setting, a missing SDK)."""

    session = Session.open(workspace, plugin_dirs)
    plugins, settings = session.plugins, session.settings
    has_sdk = importlib.util.find_spec("anthropic") is not None
    credential = next((name for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN") if os.environ.get(name)), None)
    base_url = settings.base_url  # the environment's ANTHROPIC_BASE_URL is one of its layers
    if credential:
        credentials = f"set ({credential})"
    elif base_url and base_url.rstrip("/") != DEFAULT_BASE_URL:
        credentials = "none needed (baseUrl is set)"
    else:
        credentials = "not set (ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN)"
    lines = [
        f"skillway {__version__} on Python {platform.python_version()} ({sys.executable})",
        f"workspace:       {workspace}",
        f"bundled plugin:  {bundled_plugin_root()}",
        f"settings folder: {config_dir()}",
        f"data folder:     {data_dir()}",
        f"anthropic SDK:   {'installed' if has_sdk else 'MISSING'}",
        f"API credentials: {credentials}",
        f"API base URL:    {base_url or f'default ({DEFAULT_BASE_URL})'}",
        f"workspace trust: {_trust_line(session)}",
        f"memory:          {_memory_line(session)}",
        f"MCP servers:     {_mcp_line(session)}",
        "",
        listing_text(plugins),
    ]
    lines += [problem.format() for problem in session.memory().problems]
    return "\n".join(lines), not has_sdk or any(p.is_error for p in plugins.all_problems())


def _trust_line(session) -> str:
    if session.workspace_trusted:
        return "trusted"
    waiting = [f"{len(session.untrusted_hooks())} hook(s)"] if session.untrusted_hooks() else []
    waiting += [f".mcp.json servers {', '.join(session.untrusted_mcp_servers())}"] if session.untrusted_mcp_servers() else []
    waiting += [f"settings {', '.join(session.held_back())}"] if session.held_back() else []
    return f"not trusted; waiting: {', '.join(waiting)} (`skillway trust`)" if waiting else "not trusted (nothing waits for it)"


def _mcp_line(session) -> str:
    """The plugins' MCP servers and the SDK they need, without starting any (`skillway mcp list` does)."""
    servers = [f"{plugin.name}:{server.name}" for plugin in session.plugins.plugins if plugin.loaded
               for server in plugin.mcp_servers]
    if not servers:
        return "none in the plugins"
    sdk = "" if importlib.util.find_spec("mcp") is not None else "; the MCP SDK is MISSING: pip install 'skillway[mcp]'"
    return f"{len(servers)} in the plugins ({', '.join(servers)}){sdk}; `skillway mcp list` starts and checks them"


def _memory_line(session) -> str:
    """The CLAUDE.md files (and what they import) that every agent and chat request carries."""
    files = session.memory().files
    if not files:
        return "no CLAUDE.md files"
    chars = sum(len(file.text) for file in files)
    return f"{len(files)} file(s), {chars:,} characters: " + ", ".join(str(file.path) for file in files)


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    report, has_error = doctor_report(workspace, plugin_dirs)
    print(report)
    return 1 if has_error else 0
