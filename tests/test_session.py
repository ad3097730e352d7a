"""A session's SessionStart context reaches every model request it makes."""

import json

import pytest

from skillway.app.session import Session, wrap_context
from skillway.plugins.discovery import PluginSet, discover
from skillway.settings import Settings
from tests.conftest import write_tree

pytestmark = pytest.mark.usefixtures("api_key")  # every test here runs with a key set


def session_with_brief(tmp_path, settings: Settings) -> Session:
    plugin = write_tree(tmp_path / "brief", {
        "hooks/hooks.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [
            {"type": "command", "command": "echo 'Branch: main; tests: make test'"}]}]}}),
    })
    workspace = write_tree(tmp_path / "ws", {"README.md": "hi"})
    return Session(workspace, discover(workspace, settings, [plugin], include_bundled=False), settings)


async def test_injected_context_is_a_cached_system_block_of_every_request(tmp_path, fake):
    session = session_with_brief(tmp_path, Settings(base_url=fake.base_url))
    await session.start()
    for purpose in ("chat", "agent"):
        await session.model.create(session.model_request(purpose, [{"role": "user", "content": "hi"}]))
    expected = {"type": "text", "cache_control": {"type": "ephemeral"},
                "text": "<system-reminder>\nSessionStart hook additional context: Branch: main; tests: make test\n</system-reminder>"}
    assert [request.body["system"][1] for request in fake.requests] == [expected, expected]


async def test_instructions_follow_the_base_system_prompt(tmp_path, fake):
    session = session_with_brief(tmp_path, Settings(base_url=fake.base_url))
    request = session.model_request("agent", [{"role": "user", "content": "x"}], instructions="You review code.")
    assert request.system.startswith("You are skillway, a coding assistant")
    assert request.system.endswith("\n\nYou review code.")
    assert request.context is None  # the session has not started: nothing injected yet


async def test_a_session_records_its_usage_under_the_workspace(tmp_path, fake):
    session = session_with_brief(tmp_path, Settings(base_url=fake.base_url))
    await session.model.create(session.model_request("chat", [{"role": "user", "content": "hi"}]))
    (row,) = session.model.ledger.records(0)
    assert (row.project, row.purpose, row.outcome) == (str(session.workspace), "chat", "ok")


def test_context_within_budget_is_kept_whole():
    assert wrap_context([("a", "x" * 10), ("b", "y" * 5)], 15) == (
        "<system-reminder>\nSessionStart hook additional context: " + "x" * 10 + "\n" + "y" * 5 + "\n</system-reminder>")


def test_no_context_means_no_reminder():
    assert wrap_context([], 100) == ""


def test_over_budget_every_cut_contribution_carries_its_note_and_the_total_fits():
    contributions = [("big", "b" * 5000), ("bigger", "c" * 8000), ("small", "s" * 100)]
    text = wrap_context(contributions, 1000)
    body = text.removeprefix("<system-reminder>\nSessionStart hook additional context: ").removesuffix("\n</system-reminder>")
    assert len(body) - 2 <= 1000  # two joining newlines
    assert '[skillway cut ' in body and 'chars from plugin "big"]' in body and 'chars from plugin "bigger"]' in body
    assert body.endswith("\n" + "s" * 100)


def test_skills_listing_names_model_invocable_skills_only(tmp_path):
    plugin = write_tree(tmp_path / "kit", {
        "skills/tidy/SKILL.md": "---\nname: tidy\ndescription: Tidies imports\nwhen_to_use: After edits.\n---\nBody\n",
        "skills/deploy/SKILL.md": "---\nname: deploy\ndescription: Deploys\ndisable-model-invocation: true\n---\nBody\n",
        "skills/lint/SKILL.md": "---\nname: lint\ndescription: Lints quietly\nuser-invocable: false\n---\nBody\n",
    })
    workspace = write_tree(tmp_path / "ws", {"a.py": ""})
    session = Session(workspace, discover(workspace, Settings(), [plugin], include_bundled=False), Settings())
    assert session.skills_listing() == ("Skills you can load with the Skill tool when they fit the task:\n"
                                        "- kit:lint: Lints quietly\n- kit:tidy: Tidies imports After edits.")
    assert session.model_request("agent", []).system.endswith(session.skills_listing())
    assert "kit:tidy" not in session.model_request("chat", []).system


def test_skills_listing_stays_within_its_budget(tmp_path):
    files = {f"skills/s{i:02d}/SKILL.md": f"---\nname: s{i:02d}\ndescription: {'d' * 200}\n---\nB\n" for i in range(20)}
    plugin = write_tree(tmp_path / "many", files)
    workspace = write_tree(tmp_path / "ws", {"a.py": ""})
    session = Session(workspace, discover(workspace, Settings(), [plugin], include_bundled=False), Settings())
    listing = session.skills_listing(budget=1000)
    assert listing.endswith("- (more skills are installed than fit here)")
    assert len(listing) < 1000 + 200


def test_the_hook_outputs_setting_reaches_the_hook_engine(tmp_path):
    session = Session(tmp_path, PluginSet(), Settings(hook_outputs={"keepSessions": 3, "maxMegabytes": 0.5}))
    assert (session.hooks.context.keep_output_sessions, session.hooks.context.max_output_bytes) == (3, 2**19)


def test_skills_listing_names_commands_too_and_what_has_no_description_is_left_out(tmp_path):
    # As Claude Code 2.1.328 lists them: "- tp:plain (tp:fancy): ..."; items without a description of their own are not listed.
    plugin = write_tree(tmp_path / "tp", {
        ".claude-plugin/plugin.json": '{"name": "tp"}',
        "skills/plain/SKILL.md": "---\nname: fancy\ndescription: Plain folder, fancy name\n---\nBody\n",
        "skills/nodesc/SKILL.md": "Body only.\n",
        "commands/greet.md": "---\ndescription: Greet someone\n---\nHello $ARGUMENTS.\n",
        "commands/bare.md": "Just a body.\n",
    })
    workspace = write_tree(tmp_path / "ws", {"a.py": ""})
    session = Session(workspace, discover(workspace, Settings(), [plugin], include_bundled=False), Settings())
    assert session.skills_listing().splitlines()[1:] == ["- tp:plain (tp:fancy): Plain folder, fancy name",
                                                          "- tp:greet: Greet someone"]
