#!/usr/bin/env python3
"""SubagentStop hook of the skillway plugin: records each /ship reviewer's report.

Standard library only. When a reviewer named in the ship command's `fan-out` stops, its report, its
findings and when it ran are written to the plugin's data folder, from where the Stop gate puts them
into the ship ledger. A report that does not end with its fenced `json` findings block is sent back
once to add it.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # the plugin's folder may be read-only, and stays as it was installed
PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
# The rules are the module skillway.ship.rules (standard library only). The folder holding the
# `skillway` package is `server/` in a source checkout or a marketplace clone, and two folders up
# from the plugin in an installed wheel (where the plugin is `skillway/_bundled`).
_SERVER = os.path.join(PLUGIN_ROOT, "server")
sys.path.insert(0, _SERVER if os.path.isdir(os.path.join(_SERVER, "skillway")) else os.path.dirname(os.path.dirname(PLUGIN_ROOT)))
from skillway.ship import rules  # noqa: E402 - found from the plugin root, above


def started_at(agent_transcript: str):
    """The time of the sub-agent's first transcript line."""
    try:
        with open(agent_transcript, encoding="utf-8") as stream:
            return json.loads(stream.readline()).get("timestamp")
    except (OSError, ValueError, AttributeError):
        return None


def main() -> int:
    try:
        data = json.load(sys.stdin)
    except ValueError:
        return 0
    if not isinstance(data, dict):
        return 0
    reviewer = rules.reviewer_name(data.get("agent_type"))
    if reviewer not in rules.required_reviewers(PLUGIN_ROOT):
        return 0
    report = str(data.get("last_assistant_message") or "")
    findings = rules.findings_of(report)
    if findings is None and not data.get("stop_hook_active"):
        print("End your report with a fenced ```json block holding the findings array (severity, file, line, "
              "message), or [] when there are none. Nothing may follow that block.", file=sys.stderr)
        return 2
    plugin_data = os.environ.get("CLAUDE_PLUGIN_DATA")
    if not plugin_data:
        return 0  # run by hand, outside a plugin host: nowhere to record
    try:
        rules.write_review(plugin_data, str(data.get("session_id") or ""), {
            "reviewer": reviewer, "agent_id": data.get("agent_id"), "agent_type": data.get("agent_type"),
            "started": started_at(str(data.get("agent_transcript_path") or "")), "ended": rules.now(),
            "findings": findings, "report": report})
    except OSError as exc:
        print(f"skillway ship recorder: cannot record the {reviewer} report: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
