"""The interactive terminal (`skillway` with no prompt): in plain line mode when stdin is not a
terminal, and on a real terminal driven through tmux (send-keys, capture-pane), as another program
drives it: answers, tool calls as they run, inline permission questions, `/` completion, Ctrl-C
cancelling a turn and keeping what arrived."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.test_print_mode import run


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"src/app.py": "def main():\n    return 42\n"})


def test_each_line_is_a_turn_following_the_ones_before(fake, workspace):
    fake.enqueue(Reply(content=[Text("One.")]), Reply(content=[Text("Two.")]))
    result = run(fake, workspace, stdin="first\nsecond\n")
    assert result.returncode == 0
    assert result.stdout.splitlines()[1:] == ["One.", "Two."]
    assert fake.requests[1].body["messages"] == [
        {"role": "user", "content": "first"}, {"role": "assistant", "content": [{"type": "text", "text": "One."}]},
        {"role": "user", "content": "second"}]


def test_a_tool_call_shows_as_it_runs_with_the_start_of_its_result(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="t1")]), Reply(content=[Text("42.")]))
    result = run(fake, workspace, stdin="what does main return?\n")
    assert result.stdout.splitlines()[1:] == ["● Read(src/app.py)", "  ⎿      1\tdef main():", "         2\t    return 42", "42."]


def test_a_permission_question_takes_the_next_line_and_no_refuses_the_call(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="b")]), Reply(content=[Text("Refused.")]))
    result = run(fake, workspace, stdin="make it\nn\n")
    assert "Allow Bash touch made? (y)es once, (a)lways in this session, (n)o: " in result.stdout
    assert not (workspace / "made").exists()
    (refusal,) = fake.requests[1].body["messages"][-1]["content"]
    assert refusal["is_error"] is True


def test_yes_to_a_permission_question_runs_the_call(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="b")]), Reply(content=[Text("Made.")]))
    run(fake, workspace, stdin="make it\ny\n")
    assert (workspace / "made").exists()


def test_cost_and_help_are_built_in(fake, workspace):
    fake.enqueue(Reply(content=[Text("Hi.")], usage={"input_tokens": 1000, "output_tokens": 10}))
    result = run(fake, workspace, stdin="hi\n/cost\n/help\n")
    lines = result.stdout.splitlines()
    assert lines[2].startswith("this session: $0.0032, 1,000 tokens in, 10 out, 1 turns")
    assert any(line.startswith("  /resume") for line in lines)
    assert len(fake.requests) == 1  # the built-ins asked the model nothing


def test_clear_starts_a_new_session_and_resume_goes_back_to_the_first(fake, workspace):
    fake.enqueue(Reply(content=[Text("One.")]), Reply(content=[Text("Two.")]), Reply(content=[Text("Three.")]))
    first = run(fake, workspace, stdin="first\n")
    session_id = first.stdout.split()[2]
    result = run(fake, workspace, stdin=f"/clear\nfresh\n/resume {session_id}\nback\n")
    assert fake.requests[1].body["messages"] == [{"role": "user", "content": "fresh"}]
    assert [m["content"] for m in fake.requests[2].body["messages"] if m["role"] == "user"] == ["first", "back"]
    assert result.returncode == 0


# --- a real terminal, through tmux ------------------------------------------------------------------

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """`skillway` in a tmux pane of its own server, fed keys and read from the screen."""

    def __init__(self, fake, workspace: Path) -> None:
        self.socket = f"skillway-test-{uuid.uuid4().hex[:8]}"
        home = workspace.parent / "user"
        env = {"ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": "sk-test-repl-0123",
               "SKILLWAY_CONFIG_DIR": str(home / "config"), "SKILLWAY_DATA_DIR": str(home / "data"),
               "HOME": str(home), "PATH": os.environ["PATH"], "TERM": "xterm-256color"}
        self.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", "-c", str(workspace),
                  "env", *[f"{k}={v}" for k, v in env.items()],
                  sys.executable, "-c", "import sys; from skillway.cli.main import main; sys.exit(main())")
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")  # a crash stays on the screen to be read

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-t", "t", "-p")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text not in (shown := self.screen()):
            assert time.monotonic() < deadline, f"{text!r} never showed; the screen:\n{shown}"
            time.sleep(0.1)
        return shown

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(fake, workspace):
    pane = Tmux(fake, workspace)
    try:
        pane.wait_for("(/help for help)")
        yield pane
    finally:
        pane.close()


@needs_tmux
def test_an_answer_shows_on_the_terminal(fake, terminal):
    fake.enqueue(Reply(content=[Text("Hello from the model.")]))
    terminal.keys("hello there", "Enter")
    assert "> hello there\nHello from the model.\n>" in terminal.wait_for("Hello from the model.\n>")


@needs_tmux
def test_tab_completes_a_command_with_its_argument_hint_shown(terminal):
    terminal.keys("/rev")
    terminal.wait_for("> /rev")
    terminal.keys("Tab")
    shown = terminal.wait_for("> /skillway:review\n")  # the pane shows no trailing space
    assert "/skillway:review  [path or base-ref]  Review the current change" in shown


@needs_tmux
def test_a_permission_question_is_answered_inline(fake, workspace, terminal):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="b")]), Reply(content=[Text("Made it.")]))
    terminal.keys("make the file", "Enter")
    terminal.wait_for("Allow Bash touch made?")
    terminal.keys("y", "Enter")
    terminal.wait_for("Made it.")
    assert (workspace / "made").exists()


@needs_tmux
def test_ctrl_c_cancels_a_turn_and_keeps_what_arrived(fake, terminal):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="t1")]),
                 Reply(content=[Text("never shown")], token_delay=60),
                 Reply(content=[Text("Back again.")]))
    terminal.keys("read it", "Enter")
    terminal.wait_for("● Read(src/app.py)")
    while len(fake.requests) < 2:  # the slow answer has been asked for
        time.sleep(0.05)
    terminal.keys("C-c")
    terminal.wait_for("cancelled (what arrived is kept)")
    terminal.keys("go on", "Enter")
    terminal.wait_for("Back again.")
    messages = fake.requests[-1].body["messages"]
    assert [block["type"] for block in messages[1]["content"]] == ["tool_use"]
    assert [block["type"] for block in messages[2]["content"]] == ["tool_result"]
    assert messages[-1] == {"role": "user", "content": "go on"}
    assert json.dumps(messages).count("never shown") == 0


@needs_tmux
def test_an_answer_shows_word_by_word_as_it_streams(fake, terminal):
    fake.enqueue(Reply(content=[Text("alpha beta gamma")], token_delay=2))  # a word every 2 s: a wide margin
    terminal.keys("say it", "Enter")
    shown = terminal.wait_for("alpha")
    assert "gamma" not in shown  # on the screen before the answer is complete
    terminal.wait_for("alpha beta gamma\n>")


@needs_tmux
def test_resume_goes_back_into_a_stored_session(fake, workspace, terminal):
    fake.enqueue(Reply(content=[Text("Noted: 7.")]))
    earlier = run(fake, workspace, "-p", "remember 7", "--output-format", "json", "--bare")
    session_id = json.loads(earlier.stdout)["session_id"]
    fake.enqueue(Reply(content=[Text("It was 7.")]))
    terminal.keys(f"/resume {session_id}", "Enter")
    terminal.wait_for(f"session {session_id}")
    terminal.keys("what number?", "Enter")
    terminal.wait_for("It was 7.")
    assert [m["content"] for m in fake.requests[-1].body["messages"] if m["role"] == "user"] == ["remember 7", "what number?"]
