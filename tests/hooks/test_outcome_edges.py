"""Edges of the contract found while reviewing: settings hooks, exit 2 with continue:false."""

import json

from tests.conftest import write_tree
from tests.hooks.hookkit import command, emits, fire, group, make_plugin, open_session, sh


async def test_exit_2_with_continue_false_still_stops_the_turn(tmp_path):
    hook = emits(tmp_path / "hook.sh", {"continue": False, "stopReason": "Out of budget"}, code=2, stderr="no")
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "p", "p", {"Stop": [group(command(hook))]}))
    outcome = await fire(session, "Stop")
    assert (outcome.blocked, outcome.stop, outcome.stop_reason) == (True, True, "Out of budget")


async def test_settings_hooks_get_no_plugin_variables(tmp_path):
    env_file = tmp_path / "env.json"
    script = sh(tmp_path / "env.sh", f"python3 -c 'import json, os; print(json.dumps(dict(os.environ)))' > {env_file}")
    workspace = write_tree(tmp_path / "ws", {".claude/settings.json": json.dumps(
        {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": script}]}]}})})
    session = open_session(workspace)
    session.trust_workspace()
    await fire(session, "Stop")
    env = json.loads(env_file.read_text())
    assert env["CLAUDE_PROJECT_DIR"] == str(workspace)
    assert "CLAUDE_PLUGIN_ROOT" not in env and "CLAUDE_PLUGIN_DATA" not in env
