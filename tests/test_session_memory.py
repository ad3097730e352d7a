"""The memory (CLAUDE.md) is part of the system prompt of a session's agent and chat requests: read
once, cached with the base prompt; not in completions, not with --bare."""

import logging

import pytest

from skillway.app.session import Session
from skillway.model.templates import render
from skillway.plugins.discovery import PluginSet
from skillway.settings import Settings
from tests.conftest import write_tree

MEMORY_HEADER = ("The user's and the project's own instructions follow, as their memory files (CLAUDE.md) hold them, "
                 "each after the path it was read from. Keep to them: where they differ from what is said above, they win.")


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"CLAUDE.md": "Run tests with make test.\n@docs/style.md",
                                        "docs/style.md": "Indent with tabs."}).resolve()


def session(workspace, **options) -> Session:
    return Session(workspace, PluginSet(), Settings(), **options)


@pytest.mark.parametrize("purpose", ["agent", "chat"])
def test_the_memory_follows_the_base_prompt(workspace, purpose):
    system = session(workspace).model_request(purpose, []).system
    assert system == render("system.md.j2", purpose=purpose, project_dir=workspace) + "\n\n" + (
        f"{MEMORY_HEADER}\n\nFrom {workspace}/CLAUDE.md (the project's, checked in):\n\n"
        f"Run tests with make test.\n@docs/style.md\n\nFrom {workspace}/docs/style.md (the project's, checked in):"
        "\n\nIndent with tabs.")


def test_completions_carry_no_memory(workspace):
    system = session(workspace).model_request("completion", []).system
    assert system == render("system.md.j2", purpose="completion", project_dir=workspace)


def test_the_memory_is_read_once_per_session(workspace):
    opened = session(workspace)
    first = opened.model_request("agent", []).system
    (workspace / "CLAUDE.md").write_text("changed")
    assert opened.model_request("agent", []).system == first


def test_a_bare_session_reads_no_memory(workspace):
    system = Session.open(workspace, bare=True).model_request("agent", []).system
    assert system == render("system.md.j2", purpose="agent", project_dir=workspace)


def test_trusting_the_workspace_reads_its_imports_from_home(tmp_path, isolated_user_dirs):
    write_tree(isolated_user_dirs / "home", {"notes.md": "My own notes."})
    workspace = write_tree(tmp_path / "ws2", {"CLAUDE.md": "@~/notes.md"}).resolve()
    opened = session(workspace)
    assert (opened.held_back(), opened.waits_for_trust()) == (("CLAUDE.md imports from outside it",), True)
    opened.trust_workspace()
    assert (opened.held_back(), opened.model_request("agent", []).system.endswith("\n\nMy own notes.")) == ((), True)


def test_memory_problems_are_logged_as_warnings(tmp_path, caplog):
    workspace = write_tree(tmp_path / "ws3", {"CLAUDE.md": "@.env", ".env": "KEY=1"}).resolve()
    with caplog.at_level(logging.WARNING, logger="skillway.app.session"):
        session(workspace).model_request("agent", [])
    assert caplog.messages == [f'{workspace}/CLAUDE.md:1:1: warning: import "@.env" looks like a secret file; it is not read']
