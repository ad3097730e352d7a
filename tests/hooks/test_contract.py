"""The hook contract (shared/reference/hooks-contract.md), row by row, with real hook scripts.

Every test writes a real plugin folder (`.claude-plugin/plugin.json`, `hooks/hooks.json`) with real
sh / python3 hook scripts, loads it the way a session does and fires events through the engine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from pathlib import Path

import pytest

from skillway.hooks.engine import StopGuard
from skillway.hooks.registry import HookRegistry
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.hooks.hookkit import (
    ABSENT,
    EVENT_FIELDS,
    NOTHING,
    command,
    emits,
    fire,
    group,
    make_plugin,
    open_session,
    py,
    sh,
    summary,
    wait_gone,
)

EVENTS = ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SubagentStop", "SessionStart", "SessionEnd"]
PRE = "PreToolUse"


def specific(event: str, **fields) -> dict:
    return {"hookSpecificOutput": {"hookEventName": event, **fields}}


async def one_hook(tmp_path: Path, event: str, cmd: str, *, matcher=ABSENT, name: str = "p",
                   fields: dict | None = None, match=ABSENT, **handler):
    """Fire `event` in a session whose only hook is `cmd`; return (outcome, session)."""
    plugin = make_plugin(tmp_path / "plugins" / name, name, {event: [group(command(cmd, **handler), matcher=matcher)]})
    session = open_session(tmp_path / "ws", plugin)
    return await fire(session, event, fields, match), session


def check_warnings(outcome, expected: list[list[str]] | None) -> None:
    """`expected`: for each warning, the parts it must contain. None: not checked."""
    if expected is None:
        return
    assert len(outcome.warnings) == len(expected), outcome.warnings
    for warning, parts in zip(outcome.warnings, expected):
        for part in parts:
            assert part in warning, (part, warning)


# --- exit codes ----------------------------------------------------------------------------------

# Exit 2: (blocked, reason, system_messages, permission). SessionStart and SessionEnd cannot block:
# stderr is shown to the user only.
EXIT_2 = {
    "PreToolUse": (True, "err-text", [], "deny"),
    "PostToolUse": (True, "err-text", [], None),  # stderr shown to the model
    "UserPromptSubmit": (True, "err-text", [], None),
    "Stop": (True, "err-text", [], None),  # stderr is the agent's next instruction
    "SubagentStop": (True, "err-text", [], None),
    "SessionStart": (False, None, ["err-text"], None),
    "SessionEnd": (False, None, ["err-text"], None),
}
PLAIN_TEXT_CONTEXT = {"SessionStart", "UserPromptSubmit"}
MISSING_PROGRAM = "missing-program-3f9c --with-args"


def exit_code_rows():
    for event in EVENTS:
        blocked, reason, messages, permission = EXIT_2[event]
        yield pytest.param(event, 0, {"additional_context": ["out-text"] if event in PLAIN_TEXT_CONTEXT else []}, [],
                           id=f"{event}-exit0")
        yield pytest.param(event, 2, {"blocked": blocked, "reason": reason, "system_messages": messages,
                                      "permission": permission}, [], id=f"{event}-exit2")
        yield pytest.param(event, 1, {}, [["exited with code 1", "err-text"]], id=f"{event}-exit1")
        yield pytest.param(event, 127, {}, [["command not found", "missing-program-3f9c"]], id=f"{event}-exit127")


@pytest.mark.parametrize(("event", "code", "expected", "warnings"), list(exit_code_rows()))
async def test_exit_code(tmp_path, event, code, expected, warnings):
    if code == 127:
        cmd = MISSING_PROGRAM
    else:
        cmd = sh(tmp_path / "hook.sh", f"echo out-text\necho err-text >&2\nexit {code}")
    outcome, _ = await one_hook(tmp_path, event, cmd)
    assert summary(outcome) == {**NOTHING, **expected}
    check_warnings(outcome, [[f"p: {cmd}", *parts] for parts in warnings])  # the warning names the hook
    assert [h.exit_code for h in outcome.handlers] == [code]


async def test_exec_form_with_a_missing_program_is_a_warning(tmp_path):
    outcome, _ = await one_hook(tmp_path, PRE, "/nonexistent/bin/guard", args=["--check"])
    assert summary(outcome) == NOTHING
    check_warnings(outcome, [["command not found", "/nonexistent/bin/guard"]])
    assert outcome.handlers[0].exit_code == 127


# --- JSON output ---------------------------------------------------------------------------------

BLOCK = {"decision": "block", "reason": "Fix the lint errors first"}
BLOCKED = {"blocked": True, "reason": "Fix the lint errors first"}

# (id, event, stdout JSON, exit code, stderr, expected outcome fields, warnings: parts each must contain
# or None when not checked)
JSON_ROWS = [
    ("continue-false", PRE, {"continue": False, "stopReason": "Build is broken"}, 0, "",
     {"stop": True, "stop_reason": "Build is broken"}, []),
    ("continue-false-prompt", "UserPromptSubmit", {"continue": False, "stopReason": "Quota reached"}, 0, "",
     {"stop": True, "stop_reason": "Quota reached"}, []),
    ("continue-false-stop", "Stop", {"continue": False, "stopReason": "Enough"}, 0, "",
     {"stop": True, "stop_reason": "Enough"}, []),
    ("systemMessage", PRE, {"systemMessage": "Careful: this is production"}, 0, "",
     {"system_messages": ["Careful: this is production"]}, []),
    ("systemMessage-session-end", "SessionEnd", {"systemMessage": "Saved your notes"}, 0, "",
     {"system_messages": ["Saved your notes"]}, []),
    ("suppressOutput", PRE, {"suppressOutput": True}, 0, "", {}, []),
    ("suppressOutput-keeps-context", "SessionStart",
     {"suppressOutput": True, **specific("SessionStart", additionalContext="ctx")}, 0, "",
     {"additional_context": ["ctx"]}, []),
    ("block-UserPromptSubmit", "UserPromptSubmit", BLOCK, 0, "", BLOCKED, []),
    ("block-PostToolUse", "PostToolUse", BLOCK, 0, "", BLOCKED, []),
    ("block-Stop", "Stop", BLOCK, 0, "", BLOCKED, []),
    ("block-SubagentStop", "SubagentStop", BLOCK, 0, "", BLOCKED, []),
    ("legacy-approve", PRE, {"decision": "approve", "reason": "read-only"}, 0, "",
     {"permission": "allow"}, [["legacy"]]),
    ("legacy-block", PRE, {"decision": "block", "reason": "Not on main"}, 0, "",
     {"blocked": True, "reason": "Not on main", "permission": "deny"}, [["legacy"]]),
    ("allow", PRE, specific(PRE, permissionDecision="allow", permissionDecisionReason="read-only command"), 0, "",
     {"permission": "allow"}, []),
    ("deny", PRE, specific(PRE, permissionDecision="deny", permissionDecisionReason="Destructive command"), 0, "",
     {"blocked": True, "reason": "Destructive command", "permission": "deny"}, []),
    ("ask", PRE, specific(PRE, permissionDecision="ask", permissionDecisionReason="Touches the network"), 0, "",
     {"permission": "ask", "ask_reason": "Touches the network"}, []),
    ("updatedInput", PRE, specific(PRE, permissionDecision="allow", updatedInput={"command": "ls -la"}), 0, "",
     {"permission": "allow", "updated_input": {"command": "ls -la"}}, []),
    ("additionalContext-PreToolUse", PRE, specific(PRE, additionalContext="Bash runs in a sandbox"), 0, "",
     {"additional_context": ["Bash runs in a sandbox"]}, []),
    *[(f"additionalContext-{event}", event, specific(event, additionalContext=f"note for {event}"), 0, "",
       {"additional_context": [f"note for {event}"]}, [])
      for event in ("PostToolUse", "UserPromptSubmit", "Stop", "SubagentStop", "SessionStart")],
    ("wrong-hookEventName", PRE,
     {"hookSpecificOutput": {"hookEventName": "PostToolUse", "permissionDecision": "deny",
                             "permissionDecisionReason": "x", "additionalContext": "y"}}, 0, "",
     {}, [["hookEventName"]]),
    ("missing-hookEventName", PRE, {"hookSpecificOutput": {"permissionDecision": "deny"}}, 0, "",
     {}, [["hookEventName"]]),
    # Exit 2 blocks even if the JSON says allow; its reason is the JSON reason if given, else stderr.
    ("exit2-over-json-allow", PRE, specific(PRE, permissionDecision="allow"), 2, "Blocked by policy",
     {"blocked": True, "reason": "Blocked by policy", "permission": "deny"}, []),
    ("exit2-over-json-approve-stop", "Stop", {"decision": "approve"}, 2, "Keep working",
     {"blocked": True, "reason": "Keep working"}, []),
    ("exit2-json-reason", "Stop", {"reason": "JSON reason"}, 2, "stderr reason",
     {"blocked": True, "reason": "JSON reason"}, []),
    # Any other exit: a valid JSON object on stdout still decides.
    ("exit1-json-block", "Stop", BLOCK, 1, "oops", BLOCKED, None),
    ("exit1-json-deny", PRE, specific(PRE, permissionDecision="deny", permissionDecisionReason="No"), 1, "",
     {"blocked": True, "reason": "No", "permission": "deny"}, None),
    ("exit3-json-context", "SessionStart", specific("SessionStart", additionalContext="still used"), 3, "",
     {"additional_context": ["still used"]}, None),
]


@pytest.mark.parametrize(("event", "output", "code", "stderr", "expected", "warnings"),
                         [pytest.param(*row[1:], id=row[0]) for row in JSON_ROWS])
async def test_json_output(tmp_path, event, output, code, stderr, expected, warnings):
    outcome, _ = await one_hook(tmp_path, event, emits(tmp_path / "hook.sh", output, code=code, stderr=stderr))
    assert summary(outcome) == {**NOTHING, **expected}
    check_warnings(outcome, warnings)


def permission_hooks(tmp_path: Path, decisions) -> dict:
    handlers = [command(emits(tmp_path / f"{i}-{d}.sh", specific(PRE, permissionDecision=d, permissionDecisionReason=f"{d} because")))
                for i, d in enumerate(decisions)]
    return {PRE: [group(*handlers, matcher="Bash")]}


@pytest.mark.parametrize("order", list(itertools.permutations(["allow", "ask", "deny"])), ids="-".join)
async def test_deny_beats_ask_beats_allow_across_hooks(tmp_path, order):
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", permission_hooks(tmp_path, order)))
    outcome = await fire(session, PRE)
    assert (outcome.permission, outcome.blocked) == ("deny", True)
    assert "deny because" in outcome.reason
    assert len(outcome.handlers) == 3


@pytest.mark.parametrize(("decisions", "expected"), [
    (["allow", "ask"], "ask"), (["ask", "allow"], "ask"), (["allow", "allow"], "allow"), (["ask", "ask"], "ask"),
])
async def test_ask_beats_allow(tmp_path, decisions, expected):
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", permission_hooks(tmp_path, decisions)))
    outcome = await fire(session, PRE)
    assert (outcome.permission, outcome.blocked) == (expected, False)


# --- plain stdout --------------------------------------------------------------------------------

@pytest.mark.parametrize(("event", "is_context"), [
    ("SessionStart", True), ("UserPromptSubmit", True), ("PreToolUse", False), ("Stop", False), ("PostToolUse", False),
    ("SessionEnd", False),
])
async def test_plain_stdout_is_context_only_for_session_start_and_prompts(tmp_path, event, is_context):
    text = "This project uses pnpm.\nRun the tests with `make test`."
    outcome, _ = await one_hook(tmp_path, event, emits(tmp_path / "hook.sh", text))
    assert summary(outcome) == {**NOTHING, "additional_context": [text] if is_context else []}
    assert outcome.warnings == []


# --- legacy shapes and broken JSON ---------------------------------------------------------------

@pytest.mark.parametrize("event", ["SessionStart", "UserPromptSubmit"])
@pytest.mark.parametrize("output", [
    {"additionalContext": "Remember the style guide"},
    {"additional_context": "Remember the style guide"},
    {"priority": "high", "message": "Remember the style guide"},
], ids=["additionalContext", "additional_context", "priority-message"])
async def test_legacy_shapes_are_used_with_a_warning_naming_the_plugin(tmp_path, event, output):
    outcome, _ = await one_hook(tmp_path, event, emits(tmp_path / "hook.sh", output), name="old-style")
    assert summary(outcome) == {**NOTHING, "additional_context": ["Remember the style guide"]}
    check_warnings(outcome, [['plugin "old-style"']])


async def test_legacy_shape_reaches_the_injected_context(tmp_path):
    plugin = make_plugin(tmp_path / "plug", "old-style", {"SessionStart": [group(command(
        emits(tmp_path / "hook.sh", {"priority": "high", "message": "Use tabs"})))]})
    session = open_session(tmp_path / "ws", plugin)
    await session.start()
    assert session.injected_context == "<system-reminder>\nSessionStart hook additional context: Use tabs\n</system-reminder>"


@pytest.mark.parametrize("event", ["SessionStart", "PreToolUse", "Stop"])
@pytest.mark.parametrize("broken", ['{"hookSpecificOutput": {"hookEventName": "SessionStart",', "{not json at all}"])
async def test_broken_json_is_a_warning_and_is_ignored(tmp_path, event, broken):
    outcome, _ = await one_hook(tmp_path, event, emits(tmp_path / "hook.sh", broken))
    assert summary(outcome) == NOTHING
    check_warnings(outcome, [["JSON"]])


# --- the output cap ------------------------------------------------------------------------------

FULL_TEXT = "".join(f"{i:05d}|" for i in range(2500))  # 15,000 characters, every slice tells where it is


@pytest.mark.parametrize(("event", "shape", "field"), [
    ("SessionStart", "plain", "additional_context"),
    ("UserPromptSubmit", "additionalContext", "additional_context"),
    ("PreToolUse", "systemMessage", "system_messages"),
])
async def test_long_output_is_capped_with_a_note_naming_the_full_text(tmp_path, event, shape, field):
    assert len(FULL_TEXT) == 15_000
    cmd = py(tmp_path / "long.py", f"""
import json
text = "".join(f"{{i:05d}}|" for i in range(2500))
shape = {shape!r}
if shape == "plain":
    print(text)
elif shape == "systemMessage":
    print(json.dumps({{"systemMessage": text}}))
else:
    print(json.dumps({{"hookSpecificOutput": {{"hookEventName": {event!r}, "additionalContext": text}}}}))
""")
    outcome, _ = await one_hook(tmp_path, event, cmd)
    [item] = getattr(outcome, field)
    assert item[:10_000] == FULL_TEXT[:10_000]
    note = item[10_000:]
    assert note and FULL_TEXT[10_000:10_012] not in note and len(note) < 400
    named = [Path(p) for p in re.findall(r"(/[^\s\]]+)", note) if Path(p).is_file()]
    assert len(named) == 1, note
    assert named[0].read_text(encoding="utf-8") == FULL_TEXT


async def test_output_at_the_cap_is_whole(tmp_path):
    cmd = py(tmp_path / "exact.py", 'print("y" * 10_000)')
    outcome, _ = await one_hook(tmp_path, "SessionStart", cmd)
    assert outcome.additional_context == ["y" * 10_000]


# --- timeouts and leftover processes -------------------------------------------------------------

async def test_a_timed_out_hook_is_killed_with_its_grandchildren_and_decides_nothing(tmp_path):
    pids, pgid_file = tmp_path / "pids", tmp_path / "pgid"
    cmd = sh(tmp_path / "slow-hook.sh", f"""
read -r _ _ _ _ pgid _ < /proc/$$/stat
echo "$pgid" > {pgid_file}
echo $$ > {pids}
echo '{json.dumps(specific(PRE, permissionDecision="deny", permissionDecisionReason="too late"))}'
echo "blocked" >&2
sleep 30 &
echo $! >> {pids}
sleep 30
touch {tmp_path / "finished"}
exit 2
""")
    outcome, _ = await one_hook(tmp_path, PRE, cmd, timeout=1)
    assert not (tmp_path / "finished").exists()  # killed by the timeout, not left to finish its sleeps
    assert outcome.handlers[0].duration >= 0.9  # and not before the 1 s timeout
    assert summary(outcome) == NOTHING  # output discarded, no decision taken: it does not block
    check_warnings(outcome, [["timed out"]])
    assert (outcome.handlers[0].timed_out, outcome.handlers[0].exit_code) == (True, None)
    recorded = [int(line) for line in pids.read_text().split()]
    assert len(recorded) == 2
    assert wait_gone(recorded, int(pgid_file.read_text())) == []


async def test_a_background_grandchild_holding_stdout_does_not_hold_the_caller(tmp_path):
    pids, pgid_file = tmp_path / "pids", tmp_path / "pgid"
    cmd = sh(tmp_path / "forks.sh", f"""
read -r _ _ _ _ pgid _ < /proc/$$/stat
echo "$pgid" > {pgid_file}
echo $$ > {pids}
sleep 30 &
echo $! >> {pids}
echo "context from a hook that forked"
exit 0
""")
    started = time.monotonic()
    outcome, _ = await one_hook(tmp_path, "SessionStart", cmd)  # default timeout: 600 s
    assert time.monotonic() - started < 20  # wide margin: the grandchild sleeps 30 s, the timeout is 600 s
    assert summary(outcome) == {**NOTHING, "additional_context": ["context from a hook that forked"]}
    assert outcome.warnings == []
    assert outcome.handlers[0].exit_code == 0
    assert wait_gone([int(line) for line in pids.read_text().split()], int(pgid_file.read_text())) == []


# --- parallelism and deduplication ---------------------------------------------------------------

async def test_handlers_run_in_parallel(tmp_path):
    handlers = [command(sh(tmp_path / f"sleep{i}.sh", f"sleep 1\necho {i}")) for i in range(5)]
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {PRE: [group(*handlers, matcher="Bash")]}))
    started = time.monotonic()
    outcome = await fire(session, PRE)
    assert time.monotonic() - started < 2
    assert len(outcome.handlers) == 5 and all(h.exit_code == 0 for h in outcome.handlers)
    assert max(h.started for h in outcome.handlers) < min(h.ended for h in outcome.handlers)


async def test_the_same_handler_twice_in_one_file_runs_once(tmp_path):
    count = tmp_path / "count"
    script = sh(tmp_path / "shared" / "count.sh", f"echo run >> {count}")
    hooks = {PRE: [group(command(script), matcher="Bash"), group(command(script), matcher="*"),
                   group(command(script), matcher="Bash|Read")]}
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", hooks))
    outcome = await fire(session, PRE)
    assert count.read_text().splitlines() == ["run"]
    assert len(outcome.handlers) == 1


async def test_the_same_command_in_two_plugins_runs_twice(tmp_path):
    count = tmp_path / "count"
    script = sh(tmp_path / "shared" / "count.sh", f"echo run >> {count}")
    plugins = [make_plugin(tmp_path / name, name, {PRE: [group(command(script), matcher="Bash")]}) for name in ("one", "two")]
    session = open_session(tmp_path / "ws", *plugins)
    outcome = await fire(session, PRE)
    assert count.read_text().splitlines() == ["run", "run"]
    assert sorted(h.plugin for h in outcome.handlers) == ["one", "two"]


# --- matchers ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("matcher", "event", "value", "runs"), [
    ("*", PRE, "Bash", True),
    ("", PRE, "Bash", True),
    (ABSENT, PRE, "Bash", True),
    ("Bash", PRE, "Bash", True),
    ("Bash", PRE, "BashOutput", False),
    ("Write|Edit", PRE, "Edit", True),
    ("Write|Edit", "PostToolUse", "Write", True),
    ("Write|Edit", PRE, "NotebookEdit", False),
    ("Write|Edit", PRE, "Read", False),
    ("Edit.*", PRE, "NotebookEdit", True),
    ("Edit.*", PRE, "Edit", True),
    ("Edit.*", PRE, "Write", False),
    ("mcp__github__.*", PRE, "mcp__github__create_issue", True),
    ("Bash", "UserPromptSubmit", None, True),  # no matcher for UserPromptSubmit: ignored
    ("Bash", "UserPromptSubmit", "anything", True),
    ("Bash", "Stop", None, True),  # nor for Stop
    ("startup", "SessionStart", "startup", True),
    ("startup", "SessionStart", "resume", False),
    ("resume|compact", "SessionStart", "compact", True),
    ("Explore", "SubagentStop", "Explore", True),
    ("Explore", "SubagentStop", "general-purpose", False),
    ("logout", "SessionEnd", "logout", True),
    ("logout", "SessionEnd", "other", False),
], ids=lambda v: "absent" if v is ABSENT else None)
async def test_matchers(tmp_path, matcher, event, value, runs):
    ran = tmp_path / "ran"
    outcome, _ = await one_hook(tmp_path, event, f"touch {ran}", matcher=matcher, match=value)
    assert ran.exists() is runs
    assert len(outcome.handlers) == (1 if runs else 0)


# --- placeholders, environment and stdin ---------------------------------------------------------

def reporter(path: Path, out: Path) -> str:
    """A python3 hook that saves its argv, environment, working folder and stdin to `out`."""
    return py(path, f"""
import json, os, sys
json.dump({{"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(), "stdin": json.load(sys.stdin)}},
          open({str(out)!r}, "w"))
""")


async def test_placeholders_in_the_shell_command(tmp_path):
    out = tmp_path / "seen.json"
    plugin = tmp_path / "plug"
    reporter(plugin / "hooks" / "report.py", out)
    # Single quotes keep the shell from expanding anything: only skillway's substitution can fill them.
    cmd = "python3 '${CLAUDE_PLUGIN_ROOT}/hooks/report.py' '${CLAUDE_PLUGIN_ROOT}' '${CLAUDE_PLUGIN_DATA}' '${CLAUDE_PROJECT_DIR}'"
    make_plugin(plugin, "p", {PRE: [group(command(cmd), matcher="Bash")]})
    session = open_session(tmp_path / "ws", plugin)
    outcome = await fire(session, PRE)
    assert outcome.warnings == []
    seen = json.loads(out.read_text())
    env = seen["env"]
    assert seen["argv"][1:] == [str(plugin.resolve()), env["CLAUDE_PLUGIN_DATA"], str((tmp_path / "ws").resolve())]


async def test_placeholders_in_exec_form_args(tmp_path):
    out = tmp_path / "seen.json"
    plugin = tmp_path / "plug"
    reporter(plugin / "hooks" / "report.py", out)
    handler = command("${CLAUDE_PLUGIN_ROOT}/hooks/report.py",
                      args=["${CLAUDE_PLUGIN_ROOT}", "${CLAUDE_PLUGIN_DATA}/x", "${CLAUDE_PROJECT_DIR}", "$HOME", "a b"])
    make_plugin(plugin, "p", {PRE: [group(handler, matcher="Bash")]})
    session = open_session(tmp_path / "ws", plugin)
    outcome = await fire(session, PRE)
    assert outcome.warnings == []
    seen = json.loads(out.read_text())
    assert seen["argv"][0] == str(plugin.resolve() / "hooks" / "report.py")
    # No shell in exec form: `$HOME` stays as written, "a b" stays one argument.
    assert seen["argv"][1:] == [str(plugin.resolve()), seen["env"]["CLAUDE_PLUGIN_DATA"] + "/x",
                                str((tmp_path / "ws").resolve()), "$HOME", "a b"]


async def test_environment_has_the_claude_variables_and_the_users_minus_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-secret-value-123456")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "auth-token-secret-value-654321")
    monkeypatch.setenv("SKILLWAY_TEST_CUSTOM", "custom value 42")
    out = tmp_path / "seen.json"
    plugin = tmp_path / "plug"
    cmd = reporter(plugin / "hooks" / "report.py", out)
    make_plugin(plugin, "p", {PRE: [group(command(cmd), matcher="Bash")]})
    session = open_session(tmp_path / "ws", plugin)
    await fire(session, PRE)
    env = json.loads(out.read_text())["env"]
    assert env["CLAUDE_PROJECT_DIR"] == str((tmp_path / "ws").resolve())
    assert env["CLAUDE_PLUGIN_ROOT"] == str(plugin.resolve())
    assert Path(env["CLAUDE_PLUGIN_DATA"]).is_dir()
    assert env["SKILLWAY_TEST_CUSTOM"] == "custom value 42"
    assert "PATH" in env
    assert "ANTHROPIC_API_KEY" not in env and "ANTHROPIC_AUTH_TOKEN" not in env
    assert not [k for k, v in env.items() if "secret-value" in v]


async def test_plugin_data_folder_persists_across_sessions_and_differs_per_plugin(tmp_path):
    outs = {name: tmp_path / f"{name}.json" for name in ("one", "two")}
    plugins = []
    for name, out in outs.items():
        cmd = reporter(tmp_path / name / "hooks" / "report.py", out)
        plugins.append(make_plugin(tmp_path / name, name, {PRE: [group(command(cmd))]}))
    first = open_session(tmp_path / "ws", *plugins)
    await fire(first, PRE)
    data = {name: json.loads(out.read_text())["env"]["CLAUDE_PLUGIN_DATA"] for name, out in outs.items()}
    assert data["one"] != data["two"]
    second = open_session(tmp_path / "ws", *plugins)
    await fire(second, PRE)
    assert {name: json.loads(out.read_text())["env"]["CLAUDE_PLUGIN_DATA"] for name, out in outs.items()} == data


@pytest.mark.parametrize("event", EVENTS)
async def test_stdin_carries_the_common_and_the_event_fields(tmp_path, event):
    out = tmp_path / "seen.json"
    outcome, session = await one_hook(tmp_path, event, reporter(tmp_path / "report.py", out))
    assert outcome.warnings == []
    seen = json.loads(out.read_text())
    stdin = seen["stdin"]
    workspace = str((tmp_path / "ws").resolve())
    # As in Claude Code 2.1.328: no permission_mode where no tool or turn is in question.
    mode = {} if event in ("SessionStart", "SessionEnd") else {"permission_mode": "default"}
    assert {k: stdin[k] for k in ("session_id", "cwd", "hook_event_name", "permission_mode") if k in stdin} == {
        "session_id": session.session_id, "cwd": workspace, "hook_event_name": event, **mode}
    assert Path(stdin["transcript_path"]).is_file() and stdin["transcript_path"].endswith(".jsonl")
    fields, _ = EVENT_FIELDS[event]
    assert {k: stdin.get(k) for k in fields} == fields
    assert seen["cwd"] == workspace  # the hook runs in the project folder


# --- async hooks ---------------------------------------------------------------------------------

async def test_async_hook_does_not_delay_or_block_and_session_end_drains_it(tmp_path):
    done = tmp_path / "async-done"
    cmd = sh(tmp_path / "bg.sh", f"""
sleep 2
echo finished > {done}
echo '{json.dumps(specific(PRE, permissionDecision="deny", permissionDecisionReason="async deny"))}'
echo "async says no" >&2
exit 2
""")
    plugin = make_plugin(tmp_path / "plug", "p", {PRE: [group(command(cmd, **{"async": True}), matcher="Bash")]})
    session = open_session(tmp_path / "ws", plugin)
    started = time.monotonic()
    outcome = await fire(session, PRE)
    assert time.monotonic() - started < 1
    assert summary(outcome) == NOTHING and outcome.warnings == []
    assert not done.exists()
    await session.end()
    assert done.read_text() == "finished\n"
    assert not session.hooks.background


# --- the Stop loop guard -------------------------------------------------------------------------

def stop_hook(tmp_path: Path, log: Path, allow: Path) -> str:
    """Blocks (decision: block) unless `allow` exists; logs the stop_hook_active it was given."""
    return py(tmp_path / "stop.py", f"""
import json, os, sys
data = json.load(sys.stdin)
with open({str(log)!r}, "a") as f:
    f.write(json.dumps(data["stop_hook_active"]) + "\\n")
if not os.path.exists({str(allow)!r}):
    print(json.dumps({{"decision": "block", "reason": "Tests are failing; fix them."}}))
""")


async def test_stop_guard_lets_a_stop_hook_block_8_times_in_a_row(tmp_path):
    log, allow = tmp_path / "log", tmp_path / "allow"
    plugin = make_plugin(tmp_path / "plug", "p", {"Stop": [group(command(stop_hook(tmp_path, log, allow)))]})
    session = open_session(tmp_path / "ws", plugin)
    guard = StopGuard()
    decisions, actives = [], []
    for _ in range(9):
        actives.append(guard.active)
        outcome = await fire(session, "Stop", {"stop_hook_active": guard.active})
        assert (outcome.blocked, outcome.reason) == (True, "Tests are failing; fix them.")
        decisions.append(guard.should_continue(outcome))
    assert decisions == [True] * 8 + [False]
    check_warnings(outcome, [["8 times"]])
    assert actives == [False] + [True] * 8
    assert [json.loads(line) for line in log.read_text().splitlines()] == actives  # what the hook saw
    assert guard.active is False  # the turn ended: the next Stop is a fresh one


async def test_stop_guard_resets_on_a_non_blocking_outcome(tmp_path):
    log, allow = tmp_path / "log", tmp_path / "allow"
    plugin = make_plugin(tmp_path / "plug", "p", {"Stop": [group(command(stop_hook(tmp_path, log, allow)))]})
    session = open_session(tmp_path / "ws", plugin)
    guard = StopGuard()

    async def stop():
        return guard.should_continue(await fire(session, "Stop", {"stop_hook_active": guard.active}))

    assert [await stop() for _ in range(3)] == [True] * 3
    assert guard.active is True
    allow.touch()
    assert await stop() is False
    assert guard.active is False
    allow.unlink()
    assert [await stop() for _ in range(9)] == [True] * 8 + [False]


async def test_stop_guard_never_continues_after_continue_false(tmp_path):
    outcome, _ = await one_hook(tmp_path, "Stop", emits(tmp_path / "h.sh", {"continue": False, **BLOCK}))
    assert outcome.blocked and outcome.stop
    guard = StopGuard()
    assert guard.should_continue(outcome) is False and guard.active is False


# --- trust ---------------------------------------------------------------------------------------

def settings_hooks(workspace: Path, marker: Path) -> None:
    (workspace / ".claude").mkdir(parents=True, exist_ok=True)
    (workspace / ".claude" / "settings.json").write_text(json.dumps({
        "permissions": {"allow": ["Bash(ls:*)"]},
        "hooks": {PRE: [{"matcher": "Bash", "hooks": [{"type": "command", "command": f"touch {marker}"}]}]},
    }), encoding="utf-8")


async def test_workspace_settings_hooks_run_only_once_trusted(tmp_path):
    workspace, marker = tmp_path / "ws", tmp_path / "ran"
    settings_hooks(workspace, marker)
    session = open_session(workspace)
    outcome = await fire(session, PRE)
    assert not marker.exists()
    assert outcome.handlers == []
    assert len(outcome.warnings) == 1 and outcome.warnings[0].startswith("1 hook not run: workspace not trusted")

    session.trust_workspace()
    outcome = await fire(session, PRE)  # the same session
    assert marker.exists() and outcome.warnings == []

    marker.unlink()
    outcome = await fire(open_session(workspace), PRE)  # a new session
    assert marker.exists() and outcome.warnings == []


async def test_a_changed_hook_command_needs_trust_again(tmp_path):
    workspace, first, second = tmp_path / "ws", tmp_path / "first", tmp_path / "second"
    settings_hooks(workspace, first)
    open_session(workspace).trust_workspace()
    await fire(open_session(workspace), PRE)
    assert first.exists()

    settings_hooks(workspace, second)  # the hook command changed
    session = open_session(workspace)
    outcome = await fire(session, PRE)
    assert not second.exists()
    assert outcome.warnings[0].startswith("1 hook not run: workspace not trusted")
    session.trust_workspace()
    await fire(open_session(workspace), PRE)
    assert second.exists()


async def test_a_workspace_that_is_a_plugin_is_untrusted_too(tmp_path):
    workspace = tmp_path / "ws"
    markers = [tmp_path / "ran1", tmp_path / "ran2"]
    make_plugin(workspace, "ws-plugin", {PRE: [group(command(f"touch {markers[0]}"), command(f"touch {markers[1]}"))]})
    session = open_session(workspace)
    outcome = await fire(session, PRE)
    assert not any(m.exists() for m in markers)
    assert outcome.warnings[0].startswith("2 hooks not run: workspace not trusted")
    session.trust_workspace()
    await fire(session, PRE)
    assert all(m.exists() for m in markers)


async def test_a_plugin_dir_plugin_runs_without_trust(tmp_path):
    workspace, untrusted, trusted = tmp_path / "ws", tmp_path / "untrusted", tmp_path / "trusted"
    settings_hooks(workspace, untrusted)
    plugin = make_plugin(tmp_path / "plug", "p", {PRE: [group(command(f"touch {trusted}"), matcher="Bash")]})
    session = open_session(workspace, plugin)
    outcome = await fire(session, PRE)
    assert trusted.exists() and not untrusted.exists()
    assert [h.plugin for h in outcome.handlers] == ["p"]
    assert len(outcome.warnings) == 1 and outcome.warnings[0].startswith("1 hook not run: workspace not trusted")


# --- SessionStart context ------------------------------------------------------------------------

async def test_session_start_context_is_wrapped_in_registration_order(tmp_path):
    # A finishes last, yet comes first: context follows the order the hooks are declared in.
    hooks = {"SessionStart": [group(command(sh(tmp_path / "a.sh", "sleep 0.3\necho A"))),
                              group(command(sh(tmp_path / "b.sh", "echo B")), matcher="startup")]}
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", hooks))
    outcome = await session.start("startup")
    assert outcome.additional_context == ["A", "B"]
    assert session.injected_context == "<system-reminder>\nSessionStart hook additional context: A\nB\n</system-reminder>"


async def test_session_start_context_across_plugins_and_shapes(tmp_path):
    first = make_plugin(tmp_path / "first", "first", {"SessionStart": [group(command(
        emits(tmp_path / "json.sh", specific("SessionStart", additionalContext="from JSON"))))]})
    second = make_plugin(tmp_path / "second", "second", {"SessionStart": [group(command(
        emits(tmp_path / "plain.sh", "from plain text")))]})
    session = open_session(tmp_path / "ws", first, second)
    await session.start()
    assert session.injected_context == ("<system-reminder>\nSessionStart hook additional context: from JSON\n"
                                        "from plain text\n</system-reminder>")


async def test_no_session_start_context_means_nothing_injected(tmp_path):
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {
        "SessionStart": [group(command("true"))]}))
    await session.start()
    assert session.injected_context == ""


HEADER = "<system-reminder>\nSessionStart hook additional context: "
FOOTER = "\n</system-reminder>"


async def budget_session(tmp_path: Path, budget: int, big: int):
    plugins = [
        make_plugin(tmp_path / "big", "big", {"SessionStart": [group(command(py(tmp_path / "big.py", f'print("B" * {big})')))]}),
        make_plugin(tmp_path / "small", "small", {"SessionStart": [group(command(py(tmp_path / "small.py", 'print("s" * 20)')))]}),
    ]
    session = open_session(tmp_path / "ws", *plugins, settings=Settings(context_budget=budget))
    await session.start()
    text = session.injected_context
    assert text.startswith(HEADER) and text.endswith(FOOTER)
    return text[len(HEADER):-len(FOOTER)]


@pytest.mark.parametrize(("budget", "big"), [(100, 500), (1000, 5000)])
async def test_over_budget_the_large_contribution_is_cut_with_a_note(tmp_path, budget, big):
    body = await budget_session(tmp_path, budget, big)
    big_part, small_part = body.split("\n[skillway cut", 1)[0], body.rsplit("\n", 1)[1]
    assert small_part == "s" * 20  # the small one stays whole
    assert re.search(r'\[skillway cut \d+ .*from plugin "big".*\]', body)
    assert set(big_part) <= {"B"} and len(big_part) < big
    assert len(big_part) + len(small_part) <= budget  # what is kept of the hooks' own text fits


@pytest.mark.parametrize(("budget", "big"), [
    (100, 500),
    (1000, 5000),
])
async def test_over_budget_hook_text_notes_included_stays_within_the_budget(tmp_path, budget, big):
    body = await budget_session(tmp_path, budget, big)
    # Two contributions joined by one newline; the cut one includes its note.
    assert len(body) - 1 <= budget, (len(body) - 1, body)


# --- more rows of the contract: crashes, handler fields, unknown events, SessionEnd budget -------

@pytest.mark.parametrize(("body", "parts"), [
    ("kill -9 $$", ["exited with code"]),  # killed by a signal
    ("python3 -c '1/0'", ["ZeroDivisionError"]),  # a traceback: its last line is shown
], ids=["signal", "traceback"])
@pytest.mark.parametrize("event", [PRE, "Stop", "UserPromptSubmit"])
async def test_a_crash_is_a_warning_and_the_action_proceeds(tmp_path, event, body, parts):
    outcome, _ = await one_hook(tmp_path, event, sh(tmp_path / "crash.sh", "echo '{\"decision\": \n' \n" + body))
    assert summary(outcome) == NOTHING
    check_warnings(outcome, [parts])


async def test_session_start_cannot_block(tmp_path):
    outcome, _ = await one_hook(tmp_path, "SessionStart", emits(tmp_path / "h.sh", {
        "decision": "block", "reason": "no session for you", **specific("SessionStart", additionalContext="ctx")}))
    assert (outcome.blocked, outcome.reason) == (False, None)
    assert outcome.additional_context == ["ctx"]


async def test_unknown_events_are_accepted_and_never_fire(tmp_path):
    ran = tmp_path / "ran"
    hooks = {"PostCompactFutureEvent": [group(command(f"touch {tmp_path / 'never'}"))],
             "PreCompact": [group(command(f"touch {tmp_path / 'never'}"))],
             PRE: [group(command(f"touch {ran}"), matcher="Bash")]}
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", hooks))
    await fire(session, PRE)
    assert ran.exists() and not (tmp_path / "never").exists()


async def test_shell_field_runs_the_command_with_bash(tmp_path):
    out = tmp_path / "out"
    cmd = f'[[ -n "$BASH_VERSION" ]] && echo bash > {out}'
    outcome, _ = await one_hook(tmp_path, PRE, cmd, shell="bash", statusMessage="Checking…")
    assert outcome.warnings == [] and out.read_text() == "bash\n"


async def test_once_in_a_hooks_file_is_ignored_as_claude_code_ignores_it(tmp_path):
    # Claude Code 2.1.328 honours `once` only in a skill's or agent's frontmatter hooks.
    count = tmp_path / "count"
    plugin = make_plugin(tmp_path / "plug", "p", {PRE: [group(command(f"echo run >> {count}", once=True))]})
    session = open_session(tmp_path / "ws", plugin)
    for _ in range(3):
        await fire(session, PRE)
    assert count.read_text().splitlines() == ["run"] * 3


@pytest.mark.parametrize("kind", [{"type": "script"}, {"type": "bogus"}])
async def test_other_hook_types_are_skipped_with_a_warning(tmp_path, kind):
    ran = tmp_path / "ran"
    plugin = make_plugin(tmp_path / "plug", "p", {"PostToolUse": [group(kind, command(f"touch {ran}"))]})
    session = open_session(tmp_path / "ws", plugin)
    problems = [p.message for p in session.plugins.all_problems()]
    assert any(kind["type"] in message and "skipped" in message for message in problems), problems
    outcome = await fire(session, "PostToolUse")
    assert ran.exists() and outcome.warnings == [] and len(outcome.handlers) == 1


@pytest.mark.parametrize("event", [PRE, "PermissionRequest"])
async def test_an_unknown_hook_type_guarding_tools_refuses_the_whole_hooks_file(tmp_path, event):
    ran = tmp_path / "ran"
    plugin = make_plugin(tmp_path / "plug", "p", {event: [group({"type": "bogus"}), group(command(f"touch {ran}"))],
                                                  "Stop": [group(command(f"touch {ran}"))]})
    plugins = discover(tmp_path, Settings(), [plugin], include_bundled=False)
    (problem,) = [p for p in plugins.all_problems() if p.is_error]
    assert problem.message == (f'hook type "bogus" is not supported by skillway; a {event} hook may be what guards '
                               "the others, so none of this file's hooks load")
    assert HookRegistry(plugins.plugins).hooks == []


async def test_session_end_hooks_share_a_short_budget(tmp_path):
    handlers = [command(sh(tmp_path / f"end{i}.sh", f"echo $$ >> {tmp_path / 'pids'}\nsleep 20")) for i in range(2)]
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {"SessionEnd": [group(*handlers)]}))
    started = time.monotonic()
    outcome = await session.end("logout")
    assert time.monotonic() - started < 3
    assert [h.timed_out for h in outcome.handlers] == [True, True]
    assert not outcome.blocked
    assert wait_gone([int(p) for p in (tmp_path / "pids").read_text().split()]) == []


async def test_an_async_hook_still_running_at_drain_time_is_killed(tmp_path):
    pids = tmp_path / "pids"
    cmd = sh(tmp_path / "bg.sh", f"echo $$ > {pids}\nsleep 30 &\necho $! >> {pids}\nwait")
    plugin = make_plugin(tmp_path / "plug", "p", {PRE: [group(command(cmd, **{"async": True}))]})
    session = open_session(tmp_path / "ws", plugin)
    await fire(session, PRE)
    for _ in range(100):  # let the background hook start and fork
        if pids.exists() and len(pids.read_text().split()) == 2:
            break
        await asyncio.sleep(0.02)
    started = time.monotonic()
    await session.hooks.drain(timeout=0.3)
    assert time.monotonic() - started < 1.5
    recorded = [int(p) for p in pids.read_text().split()]
    assert len(recorded) == 2 and wait_gone(recorded) == []


async def test_a_large_payload_and_a_hook_that_does_not_read_it(tmp_path):
    big = {"command": "x" * 2_000_000}
    outcome, _ = await one_hook(tmp_path, PRE, sh(tmp_path / "h.sh", "sleep 0.1\necho ignored"),
                                fields={"tool_input": big})
    assert summary(outcome) == NOTHING and outcome.warnings == []
    outcome, _ = await one_hook(tmp_path / "2", "UserPromptSubmit", py(tmp_path / "big.py", 'print("z" * 3_000_000)'))
    assert outcome.warnings == [] and len(outcome.additional_context[0]) < 10_500


@pytest.mark.parametrize("settings_file", ["settings.json", "settings.local.json"])
async def test_hooks_of_either_settings_file_need_trust(tmp_path, settings_file):
    workspace, marker = tmp_path / "ws", tmp_path / "ran"
    (workspace / ".claude").mkdir(parents=True)
    (workspace / ".claude" / settings_file).write_text(json.dumps(
        {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"touch {marker}"}]}]}}))
    session = open_session(workspace)
    outcome = await fire(session, "UserPromptSubmit")
    assert not marker.exists() and outcome.warnings[0].startswith("1 hook not run: workspace not trusted")
    session.trust_workspace()
    await fire(session, "UserPromptSubmit")
    assert marker.exists()


async def test_environment_never_has_skillways_own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLWAY_API_KEY", "skillway-secret-value-99")
    out = tmp_path / "seen.json"
    await one_hook(tmp_path, PRE, reporter(tmp_path / "r.py", out))
    env = json.loads(out.read_text())["env"]
    assert "SKILLWAY_API_KEY" not in env and "skillway-secret-value-99" not in json.dumps(env)


@pytest.mark.parametrize(("event", "handler_timeout", "expected"), [
    (PRE, None, 600), ("Stop", None, 600), ("UserPromptSubmit", None, 30), (PRE, 5, 5), ("UserPromptSubmit", 45, 45),
])
async def test_timeouts_given_to_the_process(tmp_path, monkeypatch, event, handler_timeout, expected):
    from skillway.core import processes

    seen, real_run = [], processes.run

    async def spy(argv, **options):
        seen.append(options["timeout"])
        return await real_run(argv, **options)

    monkeypatch.setattr(processes, "run", spy)
    extra = {"timeout": handler_timeout} if handler_timeout else {}
    await one_hook(tmp_path, event, "true", **extra)
    assert seen == [expected]


async def test_session_end_timeout_is_short_even_when_the_handler_asks_for_more(tmp_path, monkeypatch):
    from skillway.core import processes

    seen, real_run = [], processes.run

    async def spy(argv, **options):
        seen.append(options["timeout"])
        return await real_run(argv, **options)

    monkeypatch.setattr(processes, "run", spy)
    await one_hook(tmp_path, "SessionEnd", "true", timeout=60)
    assert len(seen) == 1 and 0 < seen[0] <= 2


async def test_session_start_passes_source_and_model(tmp_path):
    out = tmp_path / "seen.json"
    plugin = make_plugin(tmp_path / "plug", "p", {"SessionStart": [group(command(reporter(tmp_path / "r.py", out)))]})
    session = open_session(tmp_path / "ws", plugin)
    await session.start("resume", model="claude-sonnet-4-5")
    stdin = json.loads(out.read_text())["stdin"]
    assert (stdin["hook_event_name"], stdin["source"], stdin["model"]) == ("SessionStart", "resume", "claude-sonnet-4-5")
