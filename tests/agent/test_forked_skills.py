"""Skills with `context: fork`: they run as a sub-agent (the agent they name, else general-purpose)
whether a person types them or the model invokes them, and the caller gets the agent's report."""

import json
import os

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.cli_runner import run_skillway
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse

REVIEWER_BODY = "You are the careful reviewer of the tp plugin."


@pytest.fixture
def forking_plugin(tmp_path):
    return write_tree(tmp_path / "tp", {
        ".claude-plugin/plugin.json": '{"name": "tp"}',
        "skills/deep-review/SKILL.md": "---\ndescription: Review in depth\ncontext: fork\nagent: reviewer\n---\n"
                                       "Review $ARGUMENTS closely.\n",
        "skills/survey/SKILL.md": "---\ndescription: Survey the code\ncontext: fork\n---\nList the modules.\n",
        "skills/lost/SKILL.md": "---\ndescription: Names a missing agent\ncontext: fork\nagent: nobody\n---\nGo.\n",
        "agents/reviewer.md": f"---\nname: reviewer\ndescription: Reviews\ntools: Read, Grep\n---\n{REVIEWER_BODY}\n",
    })


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"src/app.py": "x = 1\n"})


def print_mode(fake, workspace, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="sk-test-fork-0123")
    return run_skillway(args, cwd=workspace, env=env)


def system_text(request) -> str:
    system = request.body["system"]
    return system if isinstance(system, str) else "\n".join(block["text"] for block in system)


def test_a_typed_forked_skill_runs_as_its_agent_and_prints_its_report(fake, workspace, forking_plugin):
    fake.enqueue(Reply(content=[Text("Two issues in src/app.py.")]))
    result = print_mode(fake, workspace, "-p", "/tp:deep-review src/app.py", "--plugin-dir", forking_plugin)
    assert (result.returncode, result.stdout) == (0, "Two issues in src/app.py.\n")
    (request,) = fake.requests  # the main model is not asked: the agent's report is the answer
    assert REVIEWER_BODY in system_text(request)
    assert request.body["messages"][0]["content"] == (
        f"Base directory for this skill: {forking_plugin.resolve() / 'skills' / 'deep-review'}\n\nReview src/app.py closely.")
    assert [tool["name"] for tool in request.body["tools"]] == ["Read", "Grep"]


def test_a_forked_skill_naming_no_agent_runs_as_general_purpose(fake, workspace, forking_plugin):
    fake.enqueue(Reply(content=[Text("Modules: app.")]))
    print_mode(fake, workspace, "-p", "/survey", "--plugin-dir", forking_plugin)
    assert "You work on one task that another agent, or a skill, handed to you." in system_text(fake.requests[0])


def test_a_forked_skill_whose_agent_is_missing_runs_as_general_purpose_and_says_so(fake, workspace, forking_plugin):
    fake.enqueue(Reply(content=[Text("Went.")]))
    result = print_mode(fake, workspace, "-p", "/lost", "--plugin-dir", forking_plugin)
    assert result.stdout == "Went.\n"
    assert 'skillway: no agent named "nobody"; the skill runs as skillway:general-purpose' in result.stderr.splitlines()


async def test_a_forked_skill_the_model_invokes_returns_the_agent_s_report(fake, workspace, forking_plugin, api_key):
    settings = Settings(base_url=fake.base_url)
    session = Session(workspace, discover(workspace, settings, [forking_plugin]), settings)
    fake.enqueue(Reply(content=[ToolUse("Skill", {"skill": "tp:deep-review", "args": "src/app.py"}, id="s")]),
                 Reply(content=[Text("Looks fine.")]), Reply(content=[Text("The review found nothing.")]))
    result = await AgentLoop(session).run("review the app")
    assert result.text == "The review found nothing."
    assert REVIEWER_BODY in system_text(fake.requests[1])
    assert fake.requests[1].body["messages"][0]["content"].endswith("\n\nReview src/app.py closely.")
    (tool_result,) = fake.requests[2].body["messages"][-1]["content"]
    assert tool_result["content"] == 'Skill "tp:deep-review" completed (forked execution).\n\nResult:\nLooks fine.'


def test_the_conversation_keeps_a_typed_fork_and_its_report(fake, workspace, forking_plugin, isolated_user_dirs):
    fake.enqueue(Reply(content=[Text("Reported.")]))
    result = print_mode(fake, workspace, "-p", "/survey", "--plugin-dir", forking_plugin, "--output-format", "json")
    session_id = json.loads(result.stdout)["session_id"]
    (transcript,) = (isolated_user_dirs / "data" / "transcripts").glob(f"*/{session_id}.jsonl")
    lines = [json.loads(line)["message"] for line in transcript.read_text().splitlines()]
    assert lines == [{"role": "user", "content": "/survey"},
                     {"role": "assistant", "content": [{"type": "text", "text": "Reported."}]}]
