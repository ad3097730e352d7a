"""The Skill tool: the model runs a skill or a command by name, its body rendered as a typed
`/name args` would be; what a person alone may run is refused."""

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse

pytestmark = pytest.mark.usefixtures("api_key")


@pytest.fixture
def session(tmp_path, fake):
    plugin = write_tree(tmp_path / "kit", {
        ".claude-plugin/plugin.json": '{"name": "kit"}',
        "commands/greet.md": "---\ndescription: Greet someone\n---\nSay hello to $ARGUMENTS.\n",
        "commands/deploy.md": "---\ndescription: Deploy\ndisable-model-invocation: true\n---\nDeploy now.\n",
        "skills/helper/SKILL.md": "---\ndescription: Model-only helper\nuser-invocable: false\n---\n"
                                  "Files are in ${CLAUDE_SKILL_DIR}.\n",
    })
    workspace = write_tree(tmp_path / "ws", {"README.md": "hi\n"})
    settings = Settings(base_url=fake.base_url)
    return Session(workspace, discover(workspace, settings, [plugin], include_bundled=False), settings)


async def skill_result(session, fake, tool_input: dict) -> tuple[bool, str]:
    fake.enqueue(Reply(content=[ToolUse("Skill", tool_input, id="s")]), Reply(content=[Text("done")]))
    await AgentLoop(session).run("go")
    (result,) = fake.requests[1].body["messages"][-1]["content"]
    return bool(result.get("is_error")), result["content"]


async def test_the_model_runs_a_command_with_its_arguments(session, fake):
    assert await skill_result(session, fake, {"skill": "kit:greet", "args": "the team"}) == (
        False, "Command kit:greet:\n\nSay hello to the team.")


async def test_the_model_runs_a_skill_no_person_may_type(session, fake):
    folder = session.plugins.plugins[0].root / "skills" / "helper"
    assert await skill_result(session, fake, {"skill": "helper"}) == (
        False, f"Skill kit:helper (base folder {folder}):\n\nFiles are in {folder}.")


async def test_a_command_only_a_person_may_run_is_refused_to_the_model(session, fake):
    assert await skill_result(session, fake, {"skill": "kit:deploy"}) == (True, 'no skill named "kit:deploy"')
