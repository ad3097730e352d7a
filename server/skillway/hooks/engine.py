"""Fires hook events: picks the matching handlers, runs them all at once, and merges what they say.

Handlers run as subprocesses (through `skillway.core.processes`) with the event as JSON on stdin, the
`CLAUDE_*` variables set and skillway's own secrets removed from their environment. Hooks from an
untrusted workspace are not run, and the outcome says how many were held back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from skillway.core import processes
from skillway.core.placeholders import plugin_data_id, substitute
from skillway.core.secrets import child_environment, redact
from skillway.hooks.http_hook import expand_header, post_hook
from skillway.hooks.outcome import HandlerReport, HookOutcome, read_output
from skillway.hooks.registry import HookRegistry, RegisteredHook
from skillway.plugins.model import HookEvent
from skillway.plugins.user_config import UnsetOption, names_an_option

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = 600.0
EVENT_TIMEOUTS: dict[str, float] = {HookEvent.USER_PROMPT_SUBMIT: 30.0}
TYPE_TIMEOUTS = {"prompt": 30.0, "agent": 60.0}  # a model's answer is quick or not coming
# Events whose input has no permission_mode in Claude Code 2.1.328 (no tool or turn is in question).
WITHOUT_PERMISSION_MODE = frozenset({HookEvent.SESSION_START, HookEvent.SESSION_END, HookEvent.SUBAGENT_START,
                                     HookEvent.NOTIFICATION, HookEvent.PRE_COMPACT, HookEvent.POST_COMPACT})
SESSION_END_BUDGET = 1.5  # seconds shared by all SessionEnd handlers: ending must stay quick
OUTPUT_CAP = 10_000
STOP_BLOCK_LIMIT = 8


@dataclass
class HookContext:
    """What every event's input carries, and where hooks run."""

    session_id: str
    transcript_path: Path
    project_dir: Path
    data_dir: Path  # the user data folder: plugin data and full texts of capped output go below it
    permission_mode: str = "default"
    is_trusted: Callable[[RegisteredHook], bool] = lambda hook: True
    # Full texts of capped output (`<data_dir>/hook-output/<session_id>/`): the folders of the newest
    # sessions kept, and at most this many bytes in all (setting hookOutputs.keepSessions/maxMegabytes).
    keep_output_sessions: int = 20
    max_output_bytes: int = 100 * 2**20
    # Prompt and agent hooks: (the hook, its input JSON, timeout) -> its result in a command's terms
    # and why it failed; the session gives the model behind them (None: such hooks are skipped).
    ask_model: ModelHook | None = None
    # mcp_tool hooks: (server, tool, arguments, timeout) -> (the tool's text, or None and why it failed).
    call_mcp_tool: Callable[[str, str, dict, float], Awaitable[tuple[str | None, str]]] | None = None
    # Shows a handler's statusMessage while it runs: (message, the run) -> its result. None: not shown.
    show_status: Callable[[str, Awaitable], Awaitable] | None = None


# A prompt or agent hook's model call: (hook, input JSON, timeout) -> (result, failure or None).
ModelHook = Callable[[RegisteredHook, str, float], Awaitable[tuple[processes.Completed, str | None]]]


@dataclass
class HookEngine:
    registry: HookRegistry
    context: HookContext
    background: set[asyncio.Task] = field(default_factory=set)
    # What asyncRewake hooks that exited 2 say, waiting for the conversation to take it (take_rewakes).
    rewakes: list[str] = field(default_factory=list)
    _saved_outputs: int = 0

    async def fire(self, event: HookEvent | str, fields: dict | None = None, *, match: str | None = None) -> HookOutcome:
        """Run every hook for `event` whose matcher accepts `match`; return the merged outcome."""
        event = HookEvent.named(event)
        outcome = HookOutcome(event)
        fields = fields or {}
        agent_id = fields.get("agent_id") if isinstance(fields.get("agent_id"), str) else None
        candidates = [h for h in self.registry.matching(event, match, agent_id=agent_id) if _condition_holds(h, fields)]
        runnable = [h for h in candidates if self.context.is_trusted(h)]
        held_back = len(candidates) - len(runnable)
        if held_back:
            outcome.warnings.append(f"{held_back} hook{'s' if held_back > 1 else ''} not run: workspace not trusted "
                                    "(run `skillway trust` in it to allow them)")
        payload = json.dumps(self._payload(event, fields)).encode()
        deadline = time.monotonic() + SESSION_END_BUDGET if event == HookEvent.SESSION_END else None
        waited = []
        for hook in runnable:
            if hook.handler.type in ("prompt", "agent") and self.context.ask_model is None:
                outcome.warnings.append(f"{hook.label}: {hook.handler.type} hooks need the model, which this "
                                        "command does not use; skipped")
                continue
            if hook.handler.run_async:
                task = asyncio.create_task(self._run_in_background(hook, payload, event))
                self.background.add(task)
                task.add_done_callback(self.background.discard)
                continue
            waited.append(hook)
        results = await asyncio.gather(*(self._shown(h, self._run(h, payload, event, deadline)) for h in waited))
        for hook, (completed, timeout, failure) in zip(waited, results):
            self._fold(outcome, hook, completed, timeout, failure)
            # `once` holds for a skill's or agent's hooks, as in Claude Code: gone after it first succeeds
            # (it is ignored in hooks files and settings, where Claude Code ignores it too).
            if hook.handler.once and hook.scope is not None and failure is None and completed.exit_code == 0:
                self.registry.remove([hook])
        return outcome

    async def _shown(self, hook: RegisteredHook, run: Awaitable[T]) -> T:
        message, show = hook.handler.status_message, self.context.show_status
        return await (show(message, run) if message and show is not None else run)

    def take_rewakes(self) -> list[str]:
        """The messages of asyncRewake hooks that finished with exit 2 since the last call."""
        taken, self.rewakes[:] = list(self.rewakes), []
        return taken

    async def _run_in_background(self, hook: RegisteredHook, payload: bytes, event: HookEvent | str) -> None:
        completed, _, failure = await self._run(hook, payload, event, None)
        if failure or completed.exit_code not in (0, None):
            log.warning("async hook %s %s: %s", redact(hook.label), failure or f"exited {completed.exit_code}",
                        redact(completed.stderr[-500:]))
        if hook.handler.async_rewake and completed.exit_code == 2:
            message = (completed.stderr.strip() or completed.stdout.strip())[:OUTPUT_CAP]
            self.rewakes.append(f"{hook.label} (a background hook) reports:\n{message}" if message
                                else f"{hook.label} (a background hook) exited with code 2")

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for background (async) hooks, then stop those still running."""
        running = {task for task in self.background if not task.done()}
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _payload(self, event: HookEvent | str, fields: dict) -> dict:
        common = {"session_id": self.context.session_id, "transcript_path": str(self.context.transcript_path),
                  "cwd": str(self.context.project_dir)}
        if event not in WITHOUT_PERMISSION_MODE:
            common["permission_mode"] = self.context.permission_mode
        return common | {"hook_event_name": event, **fields}

    def _variables(self, hook: RegisteredHook) -> dict[str, str]:
        variables = {"CLAUDE_PROJECT_DIR": str(self.context.project_dir), "CLAUDE_SESSION_ID": self.context.session_id,
                     "CLAUDE_CODE_SESSION_ID": self.context.session_id}  # the name Claude Code 2.1.328 sets
        plugin = hook.plugin
        if not plugin.namespaced:
            return variables  # the workspace's own settings hooks belong to no plugin
        plugin_id = f"{plugin.name}@{plugin.marketplace}" if plugin.marketplace else plugin.name
        data = self.context.data_dir / "plugins" / plugin_data_id(plugin_id)
        data.mkdir(parents=True, exist_ok=True)
        plugin_variables = {"CLAUDE_PLUGIN_ROOT": str(plugin.root), "CLAUDE_PLUGIN_DATA": str(data)}
        return variables | plugin_variables | plugin.options.environment()

    def _argv(self, hook: RegisteredHook, variables: dict[str, str]) -> list[str]:
        """The command line; UnsetOption when an exec-form argument names an option that is not set."""
        handler, options = hook.handler, hook.plugin.options
        command = substitute(handler.command or "", variables)
        if handler.args is not None:  # exec form: no shell, so an option's value stays one argument
            return [options.in_argument(command), *(options.in_argument(substitute(arg, variables)) for arg in handler.args)]
        return [handler.shell or "sh", "-c", command]

    async def _run(self, hook: RegisteredHook, payload: bytes, event: HookEvent | str,
                   deadline: float | None) -> tuple[processes.Completed, float, str | None]:
        """One handler, by its type: (its result in a command's terms, its timeout, why it failed)."""
        handler = hook.handler
        timeout = handler.timeout or EVENT_TIMEOUTS.get(event, TYPE_TIMEOUTS.get(handler.type, DEFAULT_TIMEOUT))
        if deadline is not None:
            timeout = max(0.05, min(timeout, deadline - time.monotonic()))
        failure = None
        if handler.type == "http":
            headers = {name: expand_header(value, handler.allowed_env_vars, os.environ) for name, value in handler.headers}
            completed, failure = await post_hook(handler.url or "", payload, headers, timeout)
        elif handler.type == "mcp_tool":
            completed, failure = await self._call_mcp_tool(hook, json.loads(payload), timeout)
        elif handler.type in ("prompt", "agent"):
            assert self.context.ask_model is not None  # fire() skips them without one
            completed, failure = await self.context.ask_model(hook, payload.decode(), timeout)
        elif handler.args is None and names_an_option(handler.command or ""):
            # As Claude Code refuses it: the shell would parse the value again (a quote in it could run code).
            completed, failure = _not_run(), ("names ${user_config.*} in a shell command, which a value could break out "
                                              "of; use the exec form (command + args) instead")
        else:
            variables = self._variables(hook)
            try:
                argv = self._argv(hook, variables)
            except UnsetOption as exc:
                completed, failure = _not_run(), str(exc)
            else:
                completed = await processes.run(argv, input=payload, env=child_environment(variables),
                                                cwd=self.context.project_dir, timeout=timeout)
        log.debug("hook %s ended %s in %.3f s", redact(hook.label), failure or completed.exit_code, completed.duration)
        return completed, timeout, failure

    async def _call_mcp_tool(self, hook: RegisteredHook, fields: dict, timeout: float) -> tuple[processes.Completed, str | None]:
        """An mcp_tool hook, as Claude Code runs it: the tool gets the handler's `input` with `${path}`s
        of the hook input filled in, and its text is read as a hook's JSON output (plain text says
        nothing); a failure decides nothing, unless `onFailure` blocks."""
        handler, started = hook.handler, time.monotonic()
        event = fields.get("hook_event_name")
        if event == "Setup" or (event == HookEvent.SESSION_START and fields.get("source") not in ("clear", "compact")):
            # Claude Code's servers are not connected yet when a session starts: none is called, whatever onFailure says.
            return _not_run(), f"mcp_tool hooks are not available for the '{event}' hook event (no MCP client context)"
        if self.context.call_mcp_tool is None:
            text, why = None, "MCP servers are not available here"
        else:
            arguments = fill_paths(json.loads(handler.input_json or "{}"), fields)
            assert isinstance(arguments, dict)  # the loader keeps only an object
            text, why = await self.context.call_mcp_tool(handler.server or "", handler.tool or "", arguments, timeout)
        if text is not None:
            if not text.strip() or text.strip().startswith("{"):
                return processes.Completed(0, text, "", False, started, time.monotonic()), None
            if not handler.on_failure_blocks:  # plain text is no hook output: it says nothing
                return processes.Completed(0, "", "", False, started, time.monotonic()), None
            why = "the MCP tool's answer is not a hook's JSON output, {} or empty"
        if handler.on_failure_blocks:
            reason = f'[{handler.server}/{handler.tool}]: failed; blocking because onFailure is "block": {why}'
            return processes.Completed(2, "", reason, False, started, time.monotonic()), None
        return _not_run(), why

    def _fold(self, outcome: HookOutcome, hook: RegisteredHook, completed: processes.Completed, timeout: float,
              failure: str | None = None) -> None:
        context_before, messages_before = len(outcome.additional_context), len(outcome.system_messages)
        if failure is not None:  # a non-blocking error, as a command's exit 1 would be
            outcome.warnings.append(f"{hook.label}: {failure}")
        else:
            read_output(outcome, hook.plugin.name, hook.label, completed.exit_code, completed.stdout, completed.stderr,
                        completed.timed_out, timeout)
        for items, start in ((outcome.additional_context, context_before), (outcome.system_messages, messages_before)):
            for index in range(start, len(items)):
                items[index] = self._cap(items[index], hook)
        outcome.context_plugins += [hook.plugin.name] * (len(outcome.additional_context) - context_before)
        outcome.handlers.append(HandlerReport(hook.label, hook.plugin.name, completed.exit_code, completed.duration,
                                              completed.timed_out, completed.started, completed.ended, hook.handler.run_async))

    def _cap(self, text: str, hook: RegisteredHook) -> str:
        if len(text) <= OUTPUT_CAP:
            return text
        folder = self.context.data_dir / "hook-output" / self.context.session_id
        self._saved_outputs += 1
        path = folder / f"{plugin_data_id(hook.plugin.name)}-{self._saved_outputs}.txt"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:  # disk full, or another session pruned the folder that very moment
            log.warning("cannot save the full output of hook %s: %s", redact(hook.label), exc)
            return text[:OUTPUT_CAP] + f"\n[output cut at {OUTPUT_CAP} characters; the full text could not be saved]"
        prune_saved_outputs(folder.parent, self.context.session_id, self.context.keep_output_sessions,
                            self.context.max_output_bytes)
        return text[:OUTPUT_CAP] + f"\n[output cut at {OUTPUT_CAP} characters; the full text is in {path}]"


def prune_saved_outputs(root: Path, current: str, keep_sessions: int, max_bytes: int) -> None:
    """Delete the oldest session folders under `root` beyond the newest `keep_sessions` or once all of
    them together pass `max_bytes`; the `current` session's folder counts first and is always kept.

    Run after every save rather than at session start: a session that saves nothing (most) pays
    nothing, and the byte cap still holds while one session keeps saving. Saves are rare (output over
    OUTPUT_CAP) and earlier prunes keep the folders few, so the walk is short.
    """
    try:
        folders = [(entry.stat(follow_symlinks=False).st_mtime, entry.name, entry.path) for entry in os.scandir(root)
                   if entry.name != current and entry.is_dir(follow_symlinks=False)]
    except OSError as exc:
        log.warning("cannot prune saved hook output in %s: %s", root, exc)
        return
    folders.sort(reverse=True)  # newest first
    total = _size(root / current)
    for index, (_, _, path) in enumerate(folders):
        total += _size(Path(path))
        if index + 1 >= keep_sessions or total > max_bytes:  # + 1: the current session comes first
            for _, _, older in folders[index:]:
                shutil.rmtree(older, ignore_errors=True)  # another session pruning at once: fine
            return


def _size(folder: Path) -> int:
    """Bytes in the files below `folder` (links not followed)."""
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                pass
    return total


class StopGuard:
    """Counts Stop (or SubagentStop) blocks in a row: after STOP_BLOCK_LIMIT the turn ends anyway."""

    def __init__(self, limit: int = STOP_BLOCK_LIMIT) -> None:
        self.limit = limit
        self.blocks_in_a_row = 0

    @property
    def active(self) -> bool:
        """`stop_hook_active` for the next Stop event: continuing because a Stop hook said so."""
        return self.blocks_in_a_row > 0

    def should_continue(self, outcome: HookOutcome) -> bool:
        """True when the agent must go back to work with `outcome.reason`."""
        if not outcome.blocked or outcome.stop:
            self.blocks_in_a_row = 0
            return False
        if self.blocks_in_a_row >= self.limit:
            outcome.warnings.append(f"Stop hooks blocked {self.limit} times in a row; the turn ends anyway")
            self.blocks_in_a_row = 0
            return False
        self.blocks_in_a_row += 1
        return True


def _condition_holds(hook: RegisteredHook, fields: dict) -> bool:
    """A handler's `if` names the tool calls it starts for; where no tool is called, none."""
    condition = hook.handler.condition
    if condition is None:
        return True
    tool, tool_input = fields.get("tool_name"), fields.get("tool_input")
    return isinstance(tool, str) and isinstance(tool_input, dict) and condition.covers_call(tool, tool_input)


def _not_run() -> processes.Completed:
    now = time.monotonic()
    return processes.Completed(1, "", "", False, now, now)


_PATH = re.compile(r"\$\{([a-zA-Z_][a-zA-Z0-9_.]*)\}")


def fill_paths(value: object, fields: dict) -> object:
    """`${tool_input.command}` and other paths of the hook input filled into an mcp_tool hook's input,
    as Claude Code fills them: inside nested objects and lists; an object becomes its compact JSON, a
    missing path empty text."""
    if isinstance(value, dict):
        return {key: fill_paths(item, fields) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_paths(item, fields) for item in value]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        found: object = fields
        for part in match.group(1).split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if found is None:
            return ""
        return found if isinstance(found, str) else json.dumps(found, separators=(",", ":"))

    return _PATH.sub(lookup, value)
