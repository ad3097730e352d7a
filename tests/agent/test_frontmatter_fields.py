"""Skill and agent frontmatter that changes what happens, as in Claude Code 2.1.328: a skill's hooks
(registered once it is invoked, for the rest of the session, outside sub-agents; `once` until they
first succeed) and disallowed tools (for the turn); an agent's preloaded skills, and a project
agent's hooks and permissionMode (a plugin's agent may not set them)."""

import json

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.run import QuietInterface, run_prompt
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse

pytestmark = pytest.mark.usefixtures("api_key")


def hooked_skill(log, *, once: bool = False) -> str:
    handler = {"type": "command", "command": f"cat >> {log}; echo >> {log}"} | ({"once": True} if once else {})
    hooks = {"PreToolUse": [{"matcher": "Bash", "hooks": [handler]}]}
    return f"---\ndescription: Guarded work\nhooks: {json.dumps(hooks)}\n---\nDo the guarded work.\n"


def make_session(tmp_path, fake, files: dict) -> Session:
    plugin = write_tree(tmp_path / "tp", {".claude-plugin/plugin.json": '{"name": "tp"}', **files})
    workspace = write_tree(tmp_path / "ws", {"a.txt": "x\n"})
    settings = Settings(base_url=fake.base_url, allowed_tools=("Bash(echo:*)",))
    return Session(workspace, discover(workspace, settings, [plugin], include_bundled=False), settings)


def logged(log) -> list[str]:
    return [json.loads(line)["tool_input"]["command"] for line in log.read_text().splitlines() if line.strip()] \
        if log.exists() else []


def bash(command: str, id: str) -> Reply:
    return Reply(content=[ToolUse("Bash", {"command": command}, id=id)])


async def test_a_typed_skill_s_hooks_fire_from_then_on_for_the_rest_of_the_session(tmp_path, fake):
    log = tmp_path / "pre.log"
    session = make_session(tmp_path, fake, {"skills/guarded/SKILL.md": hooked_skill(log)})
    fake.enqueue(bash("echo before", "b"), Reply(content=[Text("ok")]))
    await run_prompt(session, "run echo before", QuietInterface())
    fake.enqueue(bash("echo during", "d"), Reply(content=[Text("ok")]), bash("echo after", "a"), Reply(content=[Text("ok")]))
    await run_prompt(session, "/tp:guarded", QuietInterface())
    await run_prompt(session, "and again", QuietInterface())
    assert logged(log) == ["echo during", "echo after"]


async def test_a_skill_the_model_invokes_has_its_hooks_fire_after_the_call(tmp_path, fake):
    log = tmp_path / "pre.log"
    session = make_session(tmp_path, fake, {"skills/guarded/SKILL.md": hooked_skill(log)})
    fake.enqueue(bash("echo m0", "0"), Reply(content=[ToolUse("Skill", {"skill": "tp:guarded"}, id="s")]),
                 bash("echo m1", "1"), Reply(content=[Text("done")]))
    await AgentLoop(session).run("go")
    assert logged(log) == ["echo m1"]


async def test_a_skill_s_once_hook_runs_until_it_first_succeeds(tmp_path, fake):
    log = tmp_path / "pre.log"
    session = make_session(tmp_path, fake, {"skills/guarded/SKILL.md": hooked_skill(log, once=True)})
    fake.enqueue(bash("echo one", "1"), bash("echo two", "2"), Reply(content=[Text("ok")]))
    await run_prompt(session, "/tp:guarded", QuietInterface())
    assert logged(log) == ["echo one"]


async def test_a_skill_s_hooks_do_not_fire_inside_sub_agents(tmp_path, fake):
    log = tmp_path / "pre.log"
    session = make_session(tmp_path, fake, {
        "skills/guarded/SKILL.md": hooked_skill(log),
        "agents/helper.md": "---\nname: helper\ndescription: Helps\ntools: Bash\n---\nYou help.\n"})
    fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "run it", "subagent_type": "tp:helper"}, id="a")]),
                 bash("echo inside", "i"), Reply(content=[Text("helped")]), Reply(content=[Text("ok")]))
    await run_prompt(session, "/tp:guarded", QuietInterface())
    assert logged(log) == []


async def test_a_skill_s_disallowed_tools_are_refused_for_its_turn_only(tmp_path, fake):
    session = make_session(tmp_path, fake, {
        "skills/careful/SKILL.md": "---\ndescription: Careful\ndisallowed-tools: Bash\n---\nBe careful.\n"})
    fake.enqueue(bash("echo no", "n"), Reply(content=[Text("ok")]), bash("echo yes", "y"), Reply(content=[Text("ok")]))
    await run_prompt(session, "/tp:careful", QuietInterface())
    await run_prompt(session, "now run it", QuietInterface())
    refused, ran = (request.body["messages"][-1]["content"][0] for request in (fake.requests[1], fake.requests[3]))
    assert (refused["is_error"], refused["content"]) == (True, "Permission to use Bash was denied by the rule Bash")
    assert (ran.get("is_error", False), ran["content"]) == (False, "yes\n")


async def test_an_agent_s_skills_are_preloaded_after_its_task(tmp_path, fake):
    session = make_session(tmp_path, fake, {
        "skills/style/SKILL.md": "---\ndescription: House style\n---\nUse tabs.\n",
        "agents/writer.md": "---\nname: writer\ndescription: Writes\nskills: [style]\n---\nYou write.\n"})
    fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "Write it.", "subagent_type": "tp:writer"}, id="a")]),
                 Reply(content=[Text("written")]), Reply(content=[Text("ok")]))
    await AgentLoop(session).run("go")
    style = session.plugins.plugins[0].root / "skills" / "style"
    assert fake.requests[1].body["messages"][0]["content"] == f"Write it.\n\nBase directory for this skill: {style}\n\nUse tabs."


def project_agent(tmp_path, fake, agent_text: str) -> Session:
    workspace = write_tree(tmp_path / "ws", {".claude/agents/scribe.md": agent_text})
    settings = Settings(base_url=fake.base_url)
    session = Session(workspace, discover(workspace, settings, [], include_bundled=False), settings)
    session.trust_workspace()
    return session


async def test_a_project_agent_s_hooks_fire_for_its_own_calls_and_its_stop_as_subagent_stop(tmp_path, fake):
    log, stops = tmp_path / "pre.log", tmp_path / "stop.log"
    hooks = {"PreToolUse": [{"hooks": [{"type": "command", "command": f"cat >> {log}; echo >> {log}"}]}],
             "Stop": [{"hooks": [{"type": "command", "command": f"cat >> {stops}"}]}]}
    session = project_agent(tmp_path, fake, f"---\nname: scribe\ndescription: Writes\nhooks: {json.dumps(hooks)}\n---\nWrite.\n")
    fake.enqueue(Reply(content=[Text("main first")]))
    await AgentLoop(session).run("hello")  # the agent's hooks do not fire outside it
    fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "go", "subagent_type": "scribe"}, id="a")]),
                 Reply(content=[ToolUse("Read", {"file_path": "x"}, id="r")]), Reply(content=[Text("scribed")]),
                 Reply(content=[Text("ok")]))
    await AgentLoop(session).run("delegate")
    assert logged_tools(log) == ["Read"] and json.loads(stops.read_text())["hook_event_name"] == "SubagentStop"
    assert session.registry.hooks == []  # gone with the agent


def logged_tools(log) -> list[str]:
    return [json.loads(line)["tool_name"] for line in log.read_text().splitlines() if line.strip()]


async def test_a_project_agent_s_permission_mode_lets_it_edit(tmp_path, fake):
    session = project_agent(tmp_path, fake, "---\nname: scribe\ndescription: Writes\npermissionMode: acceptEdits\n---\nW.\n")
    fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "go", "subagent_type": "scribe"}, id="a")]),
                 Reply(content=[ToolUse("Write", {"file_path": "notes.md", "content": "hi\n"}, id="w")]),
                 Reply(content=[Text("written")]), Reply(content=[Text("ok")]))
    await AgentLoop(session).run("delegate")
    assert (session.workspace / "notes.md").read_text() == "hi\n"


def test_a_plugin_s_agent_may_not_set_hooks_or_a_permission_mode(tmp_path, fake):
    hooks = {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}
    session = make_session(tmp_path, fake, {"agents/pm.md": (
        f"---\nname: pm\ndescription: P\npermissionMode: acceptEdits\nhooks: {json.dumps(hooks)}\n---\nB.\n")})
    (agent,) = session.plugins.plugins[0].agents
    assert (agent.hooks, agent.permission_mode) == ((), None)
    assert [p.message for p in session.plugins.plugins[0].problems] == [
        "a plugin's agent may not set hooks and permissionMode: ignored (an agent in .claude/agents/ may)"]
