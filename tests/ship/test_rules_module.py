"""The rules of /ship are one module, `skillway.ship.rules`, standard library only: the bundled hook
scripts import it from the plugin's `server/` folder, with no site-packages at all (as under Claude
Code, where skillway is not installed), and skillway imports the same file."""

import json
import subprocess
import sys

from skillway.ship import rules
from tests.conftest import REPO_ROOT
from tests.ship.test_gate import ledger, run_turn, ship_repo, write

HOOKS = REPO_ROOT / "hooks"
# -I: no PYTHONPATH, no user site, not even the script's own folder; -S: no site-packages, so
# neither the editable install of skillway nor any third-party package can be imported.
BARE_PYTHON = [sys.executable, "-I", "-S"]


def bare(args: list[str], data: dict | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BARE_PYTHON, *args], input=json.dumps(data or {}), capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", **env})


def test_the_rules_import_only_the_standard_library():
    code = (f"import sys; sys.path.insert(0, {str(REPO_ROOT / 'server')!r}); import skillway.ship.rules; "
            "print(sorted(name for name in sys.modules if name.startswith('skillway')))")
    result = bare(["-c", code])
    assert (result.returncode, result.stdout.strip()) == (0, "['skillway', 'skillway.ship', 'skillway.ship.rules']"), result.stderr


def test_skillway_and_the_hook_scripts_use_the_same_file():
    assert rules.__file__ == str(REPO_ROOT / "server" / "skillway" / "ship" / "rules.py")
    assert not list(HOOKS.glob("*rules*"))  # no second copy beside the scripts


def test_the_delegation_check_runs_without_site_packages():
    result = bare([str(HOOKS / "ship-delegation.py")], {
        "hook_event_name": "PreToolUse", "tool_name": "Agent", "agent_id": "a1", "agent_type": "skillway:code-reviewer",
        "tool_input": {"prompt": "x", "subagent_type": "security-auditor"}})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_the_recorder_runs_without_site_packages(tmp_path):
    result = bare([str(HOOKS / "ship-record.py")], {
        "hook_event_name": "SubagentStop", "session_id": "s-1", "agent_id": "ag1", "agent_type": "test-engineer",
        "last_assistant_message": "Fine.\n```json\n[]\n```"}, CLAUDE_PLUGIN_DATA=str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "data/ship-reviews/s-1/ag1.json").read_text())["findings"] == []


def test_the_gate_runs_without_site_packages_and_records_the_decision(tmp_path):
    repo = ship_repo(tmp_path)
    transcript = write(tmp_path, run_turn(), "skillway")
    result = bare([str(HOOKS / "ship-gate.py")], {
        "hook_event_name": "Stop", "transcript_path": str(transcript), "cwd": str(repo), "session_id": "s-1"})
    assert result.returncode == 0, result.stderr
    assert [(r["decision"], r["complete"]) for r in ledger(repo)] == [("GO", True)]
