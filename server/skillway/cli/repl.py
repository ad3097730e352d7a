"""`skillway` with no prompt: an interactive terminal over the one `run_prompt`. Each line is a turn
of a stored session (following the ones before); tool calls show as they run, permission questions
are asked inline, Esc or Ctrl-C cancels a turn and keeps what arrived, `/` completes every command and
skill (with its argument hint) and `@` a path. Built in: /resume, /clear, /cost, /usage, /help, /exit.

On a terminal it reads with prompt_toolkit (history, completion, Esc Enter for a new line), and only
with features that work when another program drives it through tmux; when stdin is not a terminal
it reads plain lines, and a permission question takes the next one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from skillway.app import stored
from skillway.app.run import PermissionAsk, QuietInterface, RunOptions, Status, run_prompt
from skillway.app.session import Session
from skillway.ship.orchestrator import ShipEvent

T = TypeVar("T")
BUILT_IN = {"/resume": "[ID] go on with a stored session (none: list this workspace's)",
            "/clear": "start a new session", "/compact": "[what to keep] sum the conversation up and go on from that",
            "/cost": "what this session has cost", "/usage": "the usage window's figures",
            "/help": "what can be typed", "/exit": "leave"}
ANSWERS = "(y)es once, (a)lways in this session, (n)o"
RESULT_LINES = 3  # lines of a tool's result shown under its call


class TerminalInterface(QuietInterface):
    """What a turn shows in a terminal: answers and tool calls as they come, a line per reviewer of
    /ship, and permission questions asked through `ask_line`."""

    def __init__(self, write: Callable[[str], None], ask_line: Callable[[str], Awaitable[str]]) -> None:
        self.write = write
        self.ask_line = ask_line
        self.always: set[str] = set()  # questions answered "always": asked no more in this session
        self.streamed = False  # the answer's text was shown as it came

    def event(self, event: dict[str, Any]) -> None:
        if event["type"] == "text":
            self.write(event["text"])
            self.streamed = True
        elif event["type"] == "restart" and self.streamed:
            self.write("\n[the answer was cut off and starts over]\n")

    def message(self, message: dict[str, Any]) -> None:
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        if message.get("role") == "assistant":
            if self.streamed:  # its text is on the screen already
                self.write("\n")
            for block in blocks:
                if block.get("type") == "text" and block.get("text", "").strip() and not self.streamed:
                    self.write(block["text"].rstrip() + "\n")
                elif block.get("type") == "tool_use":
                    self.write(f"● {block.get('name')}({_brief(block.get('input'))})\n")
            self.streamed = False
        for block in blocks:
            if block.get("type") == "tool_result":
                lines = _text_of(block.get("content")).splitlines() or ["(no output)"]
                more = f" … {len(lines) - RESULT_LINES} more lines" if len(lines) > RESULT_LINES else ""
                shown = "\n    ".join(line[:160] for line in lines[:RESULT_LINES])
                self.write(f"  ⎿ {'error: ' if block.get('is_error') else ''}{shown}{more}\n")

    def progress(self, event: ShipEvent) -> None:
        said = {"start": "reviewing…", "retry": f"retrying: {event.detail}", "done": event.detail or "done"}
        self.write(f"  {event.reviewer}: {said.get(event.kind, event.kind)}\n")

    async def ask_permission(self, asked: PermissionAsk) -> bool:
        question = asked.question
        if question in self.always:
            return True
        while True:
            answer = (await self.ask_line(f"{question} {ANSWERS}: ")).strip().lower()
            if answer in ("y", "yes", "a", "always", "n", "no", ""):
                break
        if answer in ("a", "always"):
            self.always.add(question)
        return answer in ("y", "yes", "a", "always")


class Repl:
    def __init__(self, workspace: Path, plugin_dirs: list[Path], reader: LineReader, write: Callable[[str], None],
                 session_id: str | None = None, transcript: Path | None = None) -> None:
        self.workspace, self.plugin_dirs = workspace, plugin_dirs
        self.reader, self.write = reader, write
        self.session = Session.open(workspace, plugin_dirs, session_id=session_id, transcript_path=transcript)
        self.ui = TerminalInterface(write, reader.ask)

    async def run(self, resumed: bool) -> int:
        for problem in self.session.settings.problems:
            self.write(f"skillway: {problem.format()}\n")
        await self._start("resume" if resumed else "startup")
        try:
            while True:
                try:
                    line = await self.reader.read("> ")
                except EOFError:
                    return 0
                typed = line.strip()
                if not typed:
                    continue
                if typed in ("/exit", "/quit"):
                    return 0
                if not await self._built_in(typed):
                    await self._turn(typed)
        finally:
            await self.session.end("prompt_input_exit")

    async def _start(self, source: str) -> None:
        if self.session.waits_for_trust():
            held = ", ".join([*(["its hooks"] if self.session.untrusted_hooks() else []), *self.session.held_back(),
                              *([".mcp.json servers"] if self.session.untrusted_mcp_servers() else [])])
            answer = await self.reader.ask(f"Trust {self.session.workspace} and let {held} run? (y/n): ")
            if answer.strip().lower() in ("y", "yes"):
                self.session.trust_workspace()
                if self.session.settings.held_back or self.session.plugins.held_back:
                    self.session = Session.open(self.workspace, self.plugin_dirs, session_id=self.session.session_id,
                                                transcript_path=self.session.transcript.path)
        outcome = await self.session.start(source)
        for said in outcome.system_messages + outcome.warnings:
            self.write(f"skillway: {said}\n")
        self.write(f"skillway: session {self.session.session_id} in {self.session.workspace} (/help for help)\n")

    async def _turn(self, typed: str) -> None:
        options = RunOptions(follow_session=True)
        task = asyncio.ensure_future(run_prompt(self.session, typed, self.ui, options))
        try:
            outcome = await self.reader.while_running(task)
        except asyncio.CancelledError:
            self.write("skillway: cancelled (what arrived is kept)\n")
            return
        for notice in outcome.notices:
            self.write(f"skillway: {notice}\n")
        if outcome.status is not Status.ANSWERED:
            self.write(f"skillway: {outcome.text}\n")
        elif outcome.ship is not None:
            self.write(outcome.text.rstrip() + "\n")

    async def _built_in(self, typed: str) -> bool:
        name, _, rest = typed.partition(" ")
        if name == "/help":
            self.write("".join(f"  {n:8} {what}\n" for n, what in BUILT_IN.items()) +
                       "  /NAME    a plugin's command or skill (Tab completes them)\n"
                       "  @PATH    a file (Tab completes it); Esc Enter: a new line; Esc or Ctrl-C: cancel a turn\n")
        elif name == "/cost":
            summary = stored.summary(self.session.transcript.path)
            self.write(f"this session: ${summary.cost_usd:.4f}, {summary.input_tokens:,} tokens in, "
                       f"{summary.output_tokens:,} out, {summary.turns} turns\n" if summary else "this session: nothing yet\n")
        elif name == "/usage":
            self.write(_usage_text(self.session))
        elif name == "/clear":
            await self.session.end("clear")
            self.session = Session.open(self.workspace, self.plugin_dirs)
            await self._start("clear")
        elif name == "/resume":
            await self._resume(rest.strip())
        else:
            return False
        return True

    async def _resume(self, wanted: str) -> None:
        if not wanted:
            listed = stored.list_sessions(self.session.data_dir, self.session.transcript.path.parent.name)[:10]
            self.write("".join(f"  {s.id}  {s.updated[:16].replace('T', ' ')}  {s.title}\n" for s in listed)
                       or "no stored sessions in this workspace\n")
            return
        found = stored.find(self.session.data_dir, wanted)
        if found is None:
            self.write(f"skillway: No conversation found with session ID: {wanted}\n")
            return
        await self.session.end("other")
        self.session = Session.open(self.workspace, self.plugin_dirs, session_id=found.stem, transcript_path=found)
        await self._start("resume")


def _usage_text(session: Session) -> str:
    from skillway.model.ledger import LedgerError, open_ledger
    from skillway.model.quotas import parse_window
    from skillway.model.usage_report import report_text, usage_report

    try:
        with open_ledger(session.settings) as ledger:
            data, _, _ = usage_report(ledger, session.settings, parse_window("5h"), None, time.time())
    except LedgerError as exc:
        return f"skillway: {exc}\n"
    return report_text(data).rstrip() + "\n"


def _brief(value: object) -> str:
    if not isinstance(value, dict):
        return ""
    text = ", ".join(f"{v}" if k in ("command", "file_path", "pattern", "skill") else f"{k}={v}" for k, v in value.items())
    return text if len(text) <= 100 else text[:99] + "…"


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


class LineReader:
    """Plain lines from stdin (not a terminal): a prompt per line, a question's answer on the next."""

    def __init__(self, stream=None, write: Callable[[str], None] | None = None) -> None:
        self.stream, self.write = stream or sys.stdin, write or (lambda text: None)  # stdin as it is when reading starts

    async def read(self, prompt: str) -> str:
        line = await asyncio.to_thread(self.stream.readline)
        if not line:
            raise EOFError
        return line.rstrip("\n")

    async def ask(self, question: str) -> str:
        self.write(question + "\n")
        try:
            return await self.read("")
        except EOFError:
            return ""

    async def while_running(self, task: asyncio.Future[T]) -> T:
        """Wait for a turn; Ctrl-C (SIGINT) cancels it."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            return await task
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGINT)


class TerminalReader(LineReader):
    """prompt_toolkit on a terminal: history, completion of /commands and @paths, Esc Enter for a new
    line; while a turn runs, Esc or Ctrl-C cancels it."""

    def __init__(self, repl_session: Callable[[], Session], history: Path) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings

        bindings = KeyBindings()

        @bindings.add("escape", "enter")
        def _newline(event) -> None:
            event.current_buffer.insert_text("\n")

        history.parent.mkdir(parents=True, exist_ok=True)
        self.prompts: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)), completer=_completer(repl_session), complete_while_typing=True,
            key_bindings=bindings, enable_suspend=False)

    async def read(self, prompt: str) -> str:
        while True:
            try:
                return await self.prompts.prompt_async(prompt)
            except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line, as shells do
                continue

    async def ask(self, question: str) -> str:
        self._watching = False
        try:
            return await self.prompts.prompt_async(question)
        except (KeyboardInterrupt, EOFError):
            return "n"
        finally:
            self._watching = True

    async def while_running(self, task: asyncio.Future[T]) -> T:
        from prompt_toolkit.input import create_input
        from prompt_toolkit.keys import Keys

        keys = create_input()
        self._watching = True

        def pressed() -> None:
            for press in [*keys.read_keys(), *keys.flush_keys()]:  # a lone Esc is held back until flushed
                if self._watching and press.key in (Keys.Escape, Keys.ControlC):
                    task.cancel()

        while not task.done():
            if self._watching:  # a permission question reads the terminal itself meanwhile
                with keys.raw_mode(), keys.attach(pressed):
                    await asyncio.wait([task], timeout=0.2)
            else:
                await asyncio.wait([task], timeout=0.2)
        return task.result()


def _completer(repl_session: Callable[[], Session]):
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    class SkillwayCompleter(Completer):
        """`/` at the start: built-ins, commands and skills (with their argument hints), MCP prompts;
        `@word`: a path under the workspace."""

        def get_completions(self, document: Document, complete_event) -> Iterable[Completion]:
            before = document.text_before_cursor
            session = repl_session()
            if before.startswith("/") and " " not in before:
                yield from (Completion(name, -len(before), display_meta=what) for name, what in BUILT_IN.items()
                            if name.startswith(before))
                for entry in session.catalog.commands:
                    name = f"/{entry.qualified}"
                    if name.startswith(before) or f"/{entry.item.name}".startswith(before):
                        about = f"{entry.item.argument_hint or ''}  {entry.item.description}".strip()
                        yield Completion(name + " ", -len(before), display=name, display_meta=about[:80])
                for prompt in session.mcp.running_prompts():
                    if f"/{prompt.name}".startswith(before):
                        yield Completion(f"/{prompt.name} ", -len(before), display=f"/{prompt.name}",
                                         display_meta=prompt.description[:80])
                return
            word = before.split()[-1] if before.split() else ""
            if word.startswith("@") and not before.endswith(" "):
                paths = PathCompleter(get_paths=lambda: [str(session.workspace)], expanduser=False)
                yield from paths.get_completions(Document(word[1:]), complete_event)

    return SkillwayCompleter()


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    from skillway.settings import data_dir

    try:
        session_id, transcript, resumed = stored.choose(data_dir(), workspace, resume=args.resume,
                                                        continue_latest=args.continue_latest,
                                                        session_id=args.session_id, fork_session=args.fork_session)
    except stored.SessionRefused as refused:
        print(f"skillway: {refused}", file=sys.stderr)
        return 1

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    holder: list[Repl] = []
    reader: LineReader
    if sys.stdin.isatty() and sys.stdout.isatty():
        reader = TerminalReader(lambda: holder[0].session, data_dir() / "repl-history")
    else:
        reader = LineReader(sys.stdin, write)
    repl = Repl(workspace, plugin_dirs, reader, write, session_id, transcript)
    holder.append(repl)
    return asyncio.run(repl.run(resumed))
