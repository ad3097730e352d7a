"""`skillway hooks list|run` and `skillway trust` as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, write_tree


@pytest.fixture
def run(isolated_user_dirs):
    env = {k: v for k, v in os.environ.items() if k not in ("SKILLWAY_PLUGIN_DIRS", "ANTHROPIC_API_KEY")}
    env.update(SKILLWAY_CONFIG_DIR=str(isolated_user_dirs / "config"), SKILLWAY_DATA_DIR=str(isolated_user_dirs / "data"))

    def run(*args, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "skillway", *map(str, args)], cwd=cwd, env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    return run


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {
        ".claude/settings.json": """
            {"hooks": {
              "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command",
                 "command": "python3 -c \\"import json,sys; d=json.load(sys.stdin); sys.exit(2 if 'rm' in d['tool_input']['command'] else 0)\\" 2>/dev/null || { echo 'rm is not allowed here' >&2; exit 2; }"}]}],
              "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "echo remember the style guide"}]}]
            }}
        """,
    })


def test_hooks_run_session_start_in_this_repository_shows_the_workspace_brief(run):
    result = run("hooks", "run", "SessionStart", "--json", cwd=REPO_ROOT)
    outcome = json.loads(result.stdout)
    assert result.returncode == 0
    assert (outcome["blocked"], outcome["warnings"], outcome["handlers"][0]["exit_code"]) == (False, [], 0)
    brief = outcome["additional_context"][0]
    assert brief.startswith(f"Workspace: {REPO_ROOT.name}\nGit branch: ")
    assert "Languages: Python" in brief and "Test command: python -m pytest" in brief
    assert len(brief) <= 1500


def test_hooks_list_marks_untrusted_workspace_hooks(run, workspace):
    rows = json.loads(run("hooks", "list", "--json", cwd=workspace).stdout)
    assert [(r["event"], r["plugin"], r["source"], r["trusted"]) for r in rows] == [
        ("SessionStart", "skillway", "bundled", True),
        ("PreToolUse", "skillway", "bundled", True),
        ("SubagentStop", "skillway", "bundled", True),
        ("Stop", "skillway", "bundled", True),
        ("PreToolUse", "project", "workspace", False),
        ("UserPromptSubmit", "project", "workspace", False),
    ]


def test_untrusted_workspace_hooks_are_reported_not_run(run, workspace):
    result = run("hooks", "run", "UserPromptSubmit", "--json", cwd=workspace)
    outcome = json.loads(result.stdout)
    assert (result.returncode, outcome["additional_context"], outcome["handlers"]) == (0, [], [])
    assert outcome["warnings"] == ["1 hook not run: workspace not trusted (run `skillway trust` in it to allow them)"]


def test_trust_then_hooks_run_and_a_block_exits_2(run, workspace):
    trusted = run("trust", cwd=workspace)
    assert trusted.returncode == 0 and f"{workspace}: trusted; its 2 hook(s) may run:" in trusted.stdout
    allowed = run("hooks", "run", "PreToolUse", "--input", '{"tool_name": "Bash", "tool_input": {"command": "ls"}}', cwd=workspace)
    blocked = run("hooks", "run", "PreToolUse", "--json", "--input", "-", cwd=workspace,
                  stdin='{"tool_name": "Bash", "tool_input": {"command": "rm -rf build"}}')
    assert allowed.returncode == 0
    assert blocked.returncode == 2
    assert json.loads(blocked.stdout)["permission_decision"] == "deny"


def test_matcher_value_overrides_the_input(run, workspace):
    run("trust", cwd=workspace)
    result = run("hooks", "run", "PreToolUse", "--json", "--matcher-value", "Read",
                 "--input", '{"tool_name": "Bash", "tool_input": {"command": "rm x"}}', cwd=workspace)
    assert (result.returncode, json.loads(result.stdout)["handlers"]) == (0, [])


def test_changed_hooks_need_trust_again(run, workspace):
    run("trust", cwd=workspace)
    settings = workspace / ".claude/settings.json"
    settings.write_text(settings.read_text().replace("remember the style guide", "something else"))
    outcome = json.loads(run("hooks", "run", "UserPromptSubmit", "--json", cwd=workspace).stdout)
    assert outcome["additional_context"] == []
    assert outcome["warnings"][0].startswith("1 hook not run: workspace not trusted")


def test_trust_list_and_revoke(run, workspace):
    run("trust", cwd=workspace)
    assert str(workspace) in run("trust", "--list", cwd=workspace).stdout
    assert run("trust", "--revoke", cwd=workspace).stdout.strip() == f"{workspace}: no longer trusted"
    assert run("trust", "--list", cwd=workspace).stdout == ""


def test_invalid_input_json_is_a_clear_error(run, workspace):
    result = run("hooks", "run", "Stop", "--input", "{oops", cwd=workspace)
    assert (result.returncode, result.stderr.strip()) == (
        1, "skillway: --input is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)")
