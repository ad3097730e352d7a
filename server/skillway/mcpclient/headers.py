"""An HTTP server's headers: those it declares, overlaid by what its `headersHelper` prints (a JSON
object of strings), as Claude Code runs that command: through a shell, from the plugin's root or the
declaring file's folder, told the server's name and URL, without skillway's credentials."""

from __future__ import annotations

import json

from skillway.core import processes
from skillway.core.secrets import child_environment, redact
from skillway.plugins.mcp_config import McpServerSpec

HELPER_TIMEOUT = 10.0  # seconds


async def server_headers(spec: McpServerSpec) -> tuple[dict[str, str], str | None]:
    """(the headers to send, why the helper's were left out or None). A helper that fails leaves
    the declared headers alone, as Claude Code connects without what it would have added."""
    headers = dict(spec.headers)
    if not spec.headers_helper:
        return headers, None
    extra = {"CLAUDE_CODE_MCP_SERVER_NAME": spec.name, "CLAUDE_CODE_MCP_SERVER_URL": spec.url or ""}
    if spec.plugin and spec.helper_cwd:
        extra["CLAUDE_PLUGIN_ROOT"] = str(spec.helper_cwd)
    failed = f"headersHelper for MCP server '{spec.name}'"
    try:
        done = await processes.run(["/bin/sh", "-c", spec.headers_helper], env=child_environment(extra),
                                   cwd=spec.helper_cwd, timeout=HELPER_TIMEOUT)
    except OSError as exc:
        return headers, f"{failed} could not start: {exc}"
    if done.timed_out:
        return headers, f"{failed} did not finish within {HELPER_TIMEOUT:g} s"
    if done.exit_code != 0 or not done.stdout.strip():
        tail = redact(done.stderr.strip().splitlines()[-1]) if done.stderr.strip() else ""
        return headers, f"{failed} did not return a valid value" + (f": {tail}" if tail else "")
    try:
        printed = json.loads(done.stdout)
    except ValueError:
        return headers, f"{failed} did not return valid JSON"
    if not isinstance(printed, dict):
        return headers, f"{failed} must return a JSON object with string key-value pairs"
    if not all(isinstance(value, str) for value in printed.values()):
        return headers, f"{failed} returned a non-string header value"
    return headers | printed, None
