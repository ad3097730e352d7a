"""A third-party plugin written for Claude Code (tests/hooks/fixtures/guardrails) works unchanged.

It has the usual mix: a SessionStart shell script printing plain text, a python3 PreToolUse guard on
Bash answering with hookSpecificOutput, a PostToolUse shell script on `Write|Edit` logging into
${CLAUDE_PLUGIN_DATA}, and a python3 Stop hook that sends the agent back once per session.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from skillway.app.session import Session
from skillway.hooks.engine import StopGuard
from skillway.plugins.discovery import discover
from skillway.settings import Settings, data_dir

FIXTURE = Path(__file__).parent / "fixtures" / "guardrails"
STATUS_TEXT = ("guardrails is active: recursive forced deletes (rm -rf) are refused.\n"
               "Edited files are logged; run the test suite before you finish.")
STOP_REASON = "Run the test suite and report the results before stopping."


@pytest.fixture
def plugin_dir(tmp_path) -> Path:
    """A copy of the plugin, as an installed plugin would be (scripts executable)."""
    root = shutil.copytree(FIXTURE, tmp_path / "installed" / "guardrails")
    for script in (root / "scripts").iterdir():
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


@pytest.fixture
def workspace(tmp_path) -> Path:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    return folder


def new_session(workspace: Path, plugin_dir: Path) -> Session:
    plugins = discover(workspace, Settings(), [plugin_dir], include_bundled=False)
    return Session(workspace, plugins, Settings())


async def pre_bash(session: Session, command: str):
    return await session.hooks.fire("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": command},
                                                   "tool_use_id": "toolu_01"}, match="Bash")


async def post_tool(session: Session, tool: str, tool_input: dict):
    return await session.hooks.fire("PostToolUse", {"tool_name": tool, "tool_input": tool_input, "tool_use_id": "toolu_02",
                                                    "tool_response": {"success": True}}, match=tool)


async def stop(session: Session, guard: StopGuard):
    outcome = await session.hooks.fire("Stop", {"stop_hook_active": guard.active, "last_assistant_message": "All done."})
    return outcome, guard.should_continue(outcome)


def edits_log() -> Path | None:
    found = list(data_dir().rglob("edits.log"))
    assert len(found) <= 1, found
    return found[0] if found else None


def test_the_plugin_loads_cleanly(workspace, plugin_dir):
    session = new_session(workspace, plugin_dir)
    [plugin] = session.plugins.plugins
    assert (plugin.name, plugin.version) == ("guardrails", "0.3.1")
    assert [p.format() for p in plugin.problems] == []
    assert [(h.event, h.matcher.source) for h in session.registry.hooks] == [
        ("SessionStart", "startup|resume|clear|compact"), ("PreToolUse", "Bash"), ("PostToolUse", "Write|Edit"),
        ("Stop", None)]
    assert session.untrusted_hooks() == []  # a --plugin-dir plugin needs no trust


@pytest.mark.parametrize("source", ["startup", "resume"])
async def test_session_start_text_is_injected(workspace, plugin_dir, source):
    session = new_session(workspace, plugin_dir)
    outcome = await session.start(source)
    assert outcome.warnings == [] and not outcome.blocked
    assert session.injected_context == (
        f"<system-reminder>\nSessionStart hook additional context: {STATUS_TEXT}\n</system-reminder>")


@pytest.mark.parametrize("command", ["rm -rf /", "rm -fr ~/project", "sudo rm -rf --no-preserve-root /",
                                     "cd build && rm -r -f ."])
async def test_rm_rf_is_denied_with_the_reason(workspace, plugin_dir, command):
    outcome = await pre_bash(new_session(workspace, plugin_dir), command)
    assert (outcome.blocked, outcome.permission) == (True, "deny")
    assert outcome.reason == f"guardrails: refusing a recursive forced delete: {command}"
    assert outcome.warnings == []


@pytest.mark.parametrize("command", ["ls", "ls -la src", "rm notes.txt", "rm -r build", "git status"])
async def test_other_commands_are_allowed(workspace, plugin_dir, command):
    outcome = await pre_bash(new_session(workspace, plugin_dir), command)
    assert (outcome.blocked, outcome.permission, outcome.reason) == (False, "allow", None)
    assert outcome.warnings == []


async def test_the_bash_guard_does_not_run_for_other_tools(workspace, plugin_dir):
    session = new_session(workspace, plugin_dir)
    outcome = await session.hooks.fire("PreToolUse", {"tool_name": "Write", "tool_input": {"file_path": "/x", "content": "rm -rf /"},
                                                      "tool_use_id": "toolu_03"}, match="Write")
    assert outcome.handlers == [] and outcome.permission is None


async def test_writes_and_edits_are_logged_in_the_plugin_data_folder(workspace, plugin_dir):
    session = new_session(workspace, plugin_dir)
    app, readme = str(workspace / "src" / "app.py"), str(workspace / "README.md")
    for tool, tool_input in [
        ("Write", {"file_path": app, "content": "print('hi')\n"}),
        ("Read", {"file_path": str(workspace / "setup.cfg")}),  # not matched: not logged
        ("Edit", {"file_path": readme, "old_string": "a", "new_string": "b"}),
        ("NotebookEdit", {"notebook_path": str(workspace / "n.ipynb"), "new_source": "x"}),  # exact names only
    ]:
        outcome = await post_tool(session, tool, tool_input)
        assert outcome.warnings == [] and not outcome.blocked
    log = edits_log()
    assert log is not None and log.read_text() == f"{app}\n{readme}\n"
    assert "guardrails" in log.parent.name  # the plugin's own data folder
    assert not log.is_relative_to(plugin_dir) and not log.is_relative_to(workspace)


async def test_stop_blocks_once_with_the_reason_then_passes(workspace, plugin_dir):
    session = new_session(workspace, plugin_dir)
    guard = StopGuard()
    first, go_on = await stop(session, guard)
    assert (first.blocked, first.reason, go_on) == (True, STOP_REASON, True)
    assert guard.active  # the next Stop tells the hook it is a continuation
    second, go_on = await stop(session, guard)
    assert (second.blocked, second.reason, go_on) == (False, None, False)
    assert second.warnings == [] and not guard.active

    # The marker is per session: a new session is reminded again.
    again, _ = await stop(new_session(workspace, plugin_dir), StopGuard())
    assert again.blocked and again.reason == STOP_REASON


async def test_a_whole_session(workspace, plugin_dir):
    session = new_session(workspace, plugin_dir)
    await session.start("startup")
    assert STATUS_TEXT in session.injected_context
    assert (await pre_bash(session, "ls")).permission == "allow"
    denied = await pre_bash(session, "rm -rf /")
    assert denied.blocked and "rm -rf /" in denied.reason
    await post_tool(session, "Write", {"file_path": str(workspace / "src" / "main.py"), "content": ""})
    guard = StopGuard()
    assert (await stop(session, guard))[1] is True
    assert (await stop(session, guard))[1] is False
    end = await session.end("prompt_input_exit")
    assert end.warnings == [] and end.handlers == []
    assert edits_log().read_text() == f"{workspace / 'src' / 'main.py'}\n"
