#!/usr/bin/env python3
"""PreToolUse hook (matcher `Agent|Task`) of the skillway plugin: a /ship reviewer reviews; it may
not start another agent, and no reviewer may start another reviewer.

Standard library only. A hook fired inside a sub-agent carries the sub-agent's `agent_type` (Claude
Code and skillway both send it); when that is one of the reviewers in the ship command's `fan-out`,
the call is denied with the reason, which goes back to the reviewer.
"""

import json
import os
import sys


def main() -> int:
    try:
        data = json.load(sys.stdin)
    except ValueError:
        return 0
    if not isinstance(data, dict) or data.get("tool_name") not in ("Agent", "Task") or not data.get("agent_id"):
        return 0  # the main agent may start anyone: answered before anything else is imported
    sys.dont_write_bytecode = True  # the plugin's folder may be read-only, and stays as it was installed
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    # The rules are the module skillway.ship.rules (standard library only). The folder holding the
    # `skillway` package is `server/` in a source checkout or a marketplace clone, and two folders up
    # from the plugin in an installed wheel (where the plugin is `skillway/_bundled`).
    server = os.path.join(root, "server")
    sys.path.insert(0, server if os.path.isdir(os.path.join(server, "skillway")) else os.path.dirname(os.path.dirname(root)))
    from skillway.ship import rules

    caller = rules.reviewer_name(data.get("agent_type"))
    if caller not in rules.required_reviewers(root):
        return 0  # a sub-agent that is not a reviewer
    tool_input = data.get("tool_input") if isinstance(data.get("tool_input"), dict) else {}
    wanted = rules.reviewer_name(tool_input.get("subagent_type")) or "another agent"
    reason = (f"{caller} is a /ship reviewer: reviewers only read and report, and may not start other agents "
              f"(it tried to start {wanted}). Finish your own review and end it with the findings block.")
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                             "permissionDecisionReason": reason}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
