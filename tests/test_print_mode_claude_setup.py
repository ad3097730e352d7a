"""`skillway -p` against the fake API with a Claude Code project set-up: the memory (CLAUDE.md with an
import) reaches the system prompt the API sees, and the user's ~/.claude/ commands run as /name."""

import os

import pytest

from tests.cli_runner import run_skillway
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"src/app.py": "print(1)\n"}).resolve()


def run(fake, workspace, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}  # HOME is the test's (conftest)
    env.update(ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="sk-test-print-0123")
    return run_skillway(args, cwd=workspace, env=env)


def test_a_claude_md_and_its_import_reach_the_system_prompt(fake, workspace):
    write_tree(workspace, {"CLAUDE.md": "Follow @docs/conventions.md\n", "docs/conventions.md": "Indent with tabs."})
    fake.enqueue(Reply(content=[Text("ok")]))
    assert run(fake, workspace, "-p", "hi").returncode == 0
    system = fake.requests[0].body["system"][0]["text"]
    memory = system[system.index("The user's and the project's own instructions"):system.index("\n\nSkills you can load")]
    assert memory.split("\n\n")[1:] == [
        f"From {workspace}/CLAUDE.md (the project's, checked in):", "Follow @docs/conventions.md",
        f"From {workspace}/docs/conventions.md (the project's, checked in):", "Indent with tabs."]


def test_a_command_in_the_users_claude_folder_runs_as_slash_name(fake, workspace, isolated_user_dirs):
    write_tree(isolated_user_dirs / "home/.claude", {"commands/x.md": "---\ndescription: Greets\n---\nSay hi to $ARGUMENTS.\n"})
    fake.enqueue(Reply(content=[Text("Hi!")]))
    result = run(fake, workspace, "-p", "/x the team")
    assert (result.returncode, fake.requests[0].body["messages"][0]["content"]) == (0, "Say hi to the team.")
