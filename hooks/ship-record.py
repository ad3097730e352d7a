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
from pathlib import Path

sys.dont_write_bytecode = True  # the plugin's folder may be read-only, and stays as it was installed
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ship_rules as rules  # noqa: E402 - beside this script, in the plugin


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
    if reviewer not in rules.required_reviewers():
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
