"""Hook handlers other than a command: `http` (the input POSTed to a URL), `prompt` (the model
decides), `agent` (a read-only sub-agent decides), and `asyncRewake` background commands."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skillway.agent.loop import AgentLoop
from skillway.settings import Settings
from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.hooks.hookkit import EVENT_FIELDS, command, fire, group, make_plugin, open_session

PRE = "PreToolUse"


class HookServer:
    """A local HTTP server standing in for a team's hook service: records each request and answers
    with the next scripted (status, body, headers)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, str, dict]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, text, headers = owner.answers.pop(0) if owner.answers else (200, "", {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text.encode())))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status: int = 200, body: dict | str = "", headers: dict | None = None) -> None:
        self.answers.append((status, json.dumps(body) if isinstance(body, dict) else body, headers or {}))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_server():
    server = HookServer()
    yield server
    server.close()


def http_session(tmp_path, url: str, event: str = PRE, **fields):
    handler = {"type": "http", "url": url, **fields}
    return open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {event: [group(handler)]}))


DENY = {"hookSpecificOutput": {"hookEventName": PRE, "permissionDecision": "deny", "permissionDecisionReason": "not here"}}


# --- http ----------------------------------------------------------------------------------------

async def test_an_http_hook_posts_the_hook_input_as_json(tmp_path, hook_server):
    session = http_session(tmp_path, hook_server.url + "/hooks/pre?team=a")
    await fire(session, PRE)
    (request,) = hook_server.requests
    assert (request["path"], request["headers"]["Content-Type"]) == ("/hooks/pre?team=a", "application/json")
    assert json.loads(request["body"]) == {
        "session_id": session.session_id, "transcript_path": str(session.transcript.path),
        "cwd": str(session.workspace), "hook_event_name": PRE, "permission_mode": "default", **EVENT_FIELDS[PRE][0]}


async def test_header_values_are_filled_only_from_listed_variables_and_never_with_the_api_key(
        tmp_path, hook_server, monkeypatch):
    monkeypatch.setenv("TEAM_TOKEN", "tok123")
    monkeypatch.setenv("OTHER_VALUE", "other456")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-0123456789")
    headers = {"Authorization": "Bearer $TEAM_TOKEN", "X-Braced": "a-${TEAM_TOKEN}-b", "X-Other": "[$OTHER_VALUE]",
               "X-Key": "[${ANTHROPIC_API_KEY}]"}
    session = http_session(tmp_path, hook_server.url, headers=headers, allowedEnvVars=["TEAM_TOKEN", "ANTHROPIC_API_KEY"])
    await fire(session, PRE)
    sent = hook_server.requests[0]["headers"]
    assert (sent["Authorization"], sent["X-Braced"], sent["X-Other"], sent["X-Key"]) == (
        "Bearer tok123", "a-tok123-b", "[]", "[]")


async def test_an_http_hook_answering_deny_blocks_the_tool_call(tmp_path, hook_server, fake, api_key):
    hook_server.answer(200, DENY)
    session = http_session(tmp_path, hook_server.url)
    session.apply_settings(Settings(base_url=fake.base_url))
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="t1")]), Reply(content=[Text("ok")]))
    await AgentLoop(session, allowed_tools=("Bash",)).run("go")
    (result,) = fake.requests[1].body["messages"][-1]["content"]
    assert (result["is_error"], result["content"]) == (True, "denied by a PreToolUse hook: not here")
    assert not (session.workspace / "made").exists()


@pytest.mark.parametrize(("status", "body", "warning"), [
    (500, DENY, "p: http://{host}/: the server answered HTTP 500"),
    (302, "", "p: http://{host}/: the server answered HTTP 302"),
    (200, "fine by me", "p: http://{host}/: the server answered HTTP 200 with a body that is not a JSON object"),
])
async def test_an_http_answer_other_than_2xx_json_is_a_warning_and_decides_nothing(
        tmp_path, hook_server, status, body, warning):
    hook_server.answer(status, body, {"Location": hook_server.url + "/elsewhere"} if status == 302 else None)
    session = http_session(tmp_path, hook_server.url + "/")
    outcome = await fire(session, PRE)
    assert (outcome.blocked, outcome.warnings) == (False, [warning.format(host=hook_server.url.removeprefix("http://"))])
    assert len(hook_server.requests) == 1  # the redirect was not followed


async def test_an_http_hook_that_cannot_connect_is_a_warning(tmp_path, hook_server):
    url = hook_server.url
    hook_server.close()
    outcome = await fire(http_session(tmp_path, url), PRE)
    assert not outcome.blocked
    (warning,) = outcome.warnings
    assert warning.startswith(f"p: {url}: cannot reach {url}: ")


async def test_an_empty_2xx_answer_is_success_with_nothing_to_say(tmp_path, hook_server):
    hook_server.answer(204, "")
    outcome = await fire(http_session(tmp_path, hook_server.url), PRE)
    assert (outcome.blocked, outcome.warnings, len(outcome.handlers)) == (False, [], 1)


# --- prompt and agent ------------------------------------------------------------------------------

def model_session(tmp_path, fake, hooks: dict):
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", hooks))
    session.apply_settings(Settings(base_url=fake.base_url))
    return session


def verdict(ok: bool, reason: str, **more) -> Reply:
    return Reply(content=[Text(json.dumps({"ok": ok, "reason": reason, **more}))])


async def test_a_prompt_hook_asks_the_model_with_the_input_in_place_of_arguments(tmp_path, fake, api_key):
    hooks = {PRE: [group({"type": "prompt", "prompt": "Block pushes to main. Call: $ARGUMENTS", "model": "haiku"})]}
    session = model_session(tmp_path, fake, hooks)
    fake.enqueue(verdict(True, "not a push"))
    await fire(session, PRE)
    (request,) = fake.requests
    sent = json.loads(request.body["messages"][0]["content"].removeprefix("Block pushes to main. Call: "))
    assert sent["tool_input"] == {"command": "ls"} and sent["hook_event_name"] == PRE
    assert request.body["max_tokens"] == 1024 and request.body["model"].startswith("claude-haiku")
    assert "You judge one action of a coding agent for a hook." in json.dumps(request.body["system"])


async def test_a_prompt_hook_saying_no_blocks_the_tool_call_and_ends_the_turn(tmp_path, fake, api_key):
    session = model_session(tmp_path, fake, {PRE: [group({"type": "prompt", "prompt": "Only read. $ARGUMENTS"})]})
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="t1")]), verdict(False, "writes a file"))
    result = await AgentLoop(session, allowed_tools=("Bash",)).run("go")
    assert len(fake.requests) == 2  # the agent's turn and the hook's question; no turn after the refusal
    assert result.stop_reason == "hook_stopped" and "writes a file" in result.notices
    refused = [m for m in result.messages if m["role"] == "user" and isinstance(m["content"], list)][-1]["content"][0]
    assert (refused["is_error"], refused["content"]) == (True, "denied by a PreToolUse hook: writes a file")
    assert not (session.workspace / "made").exists()


async def test_a_prompt_hook_saying_yes_lets_the_tool_run(tmp_path, fake, api_key):
    session = model_session(tmp_path, fake, {PRE: [group({"type": "prompt", "prompt": "Only read. $ARGUMENTS"})]})
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo ran"}, id="t1")]), verdict(True, "harmless"),
                 Reply(content=[Text("done")]))
    result = await AgentLoop(session, allowed_tools=("Bash",)).run("go")
    assert result.text == "done"
    assert fake.requests[2].body["messages"][-1]["content"][0]["content"] == "ran\n"


async def test_a_prompt_hook_answer_that_is_not_a_verdict_is_a_warning(tmp_path, fake, api_key):
    session = model_session(tmp_path, fake, {PRE: [group({"type": "prompt", "prompt": "Check $ARGUMENTS"})]})
    fake.enqueue(Reply(content=[Text("I think this is fine.")]))
    outcome = await fire(session, PRE)
    assert (outcome.blocked, outcome.warnings) == (
        False, ["p: Check $ARGUMENTS: the model gave no usable answer, so it did not check this action"])


async def test_a_stop_prompt_hook_saying_no_sends_the_agent_back_with_the_reason(tmp_path, fake, api_key):
    session = model_session(tmp_path, fake, {"Stop": [group({"type": "prompt", "prompt": "Were the tests run?"})]})
    fake.enqueue(Reply(content=[Text("All done.")]), verdict(False, "run the tests first"),
                 Reply(content=[Text("Tests pass.")]), verdict(True, "they were run"))
    result = await AgentLoop(session).run("fix it")
    assert result.text == "Tests pass."
    judged = fake.requests[1].body["messages"][0]["content"]
    assert "assistant: All done." in judged and judged.endswith("Condition: Were the tests run?")
    assert fake.requests[2].body["messages"][-1] == {"role": "user", "content": "run the tests first"}


async def test_a_stop_prompt_hook_that_finds_the_condition_impossible_lets_the_turn_end(tmp_path, fake, api_key):
    session = model_session(tmp_path, fake, {"Stop": [group({"type": "prompt", "prompt": "Is it on the moon?"})]})
    fake.enqueue(Reply(content=[Text("Done.")]), verdict(False, "cannot be", impossible=True))
    result = await AgentLoop(session).run("go")
    assert (result.text, len(fake.requests)) == ("Done.", 2)


async def test_an_agent_hook_looks_with_read_only_tools_whose_calls_fire_no_hooks(tmp_path, fake, api_key):
    counted = tmp_path / "pre-read.log"
    hooks = {PRE: [group({"type": "agent", "prompt": "Is src/app.py still there? $ARGUMENTS"}, matcher="Bash"),
                   group(command(f"echo read >> {counted}"), matcher="Read")]}
    session = model_session(tmp_path, fake, hooks)
    (session.workspace / "src").mkdir()
    (session.workspace / "src" / "app.py").write_text("print(1)\n")
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo x"}, id="main")]),
                 Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="look")]),
                 verdict(False, "the file must not change"), Reply(content=[Text("Understood.")]))
    result = await AgentLoop(session, allowed_tools=("Bash",)).run("go")
    agent_request = fake.requests[1].body
    assert [tool["name"] for tool in agent_request["tools"]] == ["Read", "Glob", "Grep"]
    assert fake.requests[2].body["messages"][-1]["content"][0]["content"] == "     1\tprint(1)"
    main_result = fake.requests[3].body["messages"][-1]["content"][0]
    assert main_result["content"] == "denied by a PreToolUse hook: the file must not change"
    assert result.text == "Understood." and not counted.exists()  # an agent hook's refusal lets the turn go on


# --- asyncRewake --------------------------------------------------------------------------------

async def test_an_async_rewake_hook_exiting_2_wakes_the_model_with_its_message(tmp_path, fake, api_key):
    rewake = command("echo 'lint failed: app.py:3' >&2; exit 2", **{"async": True, "asyncRewake": True})
    session = model_session(tmp_path, fake, {"PostToolUse": [group(rewake)]})
    await fire(session, "PostToolUse")
    await session.hooks.drain()
    fake.enqueue(Reply(content=[Text("Done.")]), Reply(content=[Text("Fixed the lint.")]))
    result = await AgentLoop(session).run("go")
    assert result.text == "Fixed the lint."
    (woken,) = fake.requests[1].body["messages"][-1]["content"]
    assert woken["text"] == ("<system-reminder>\np: echo 'lint failed: app.py:3' >&2; exit 2 (a background hook) "
                             "reports:\nlint failed: app.py:3\n</system-reminder>")


async def test_an_async_rewake_hook_exiting_otherwise_wakes_nobody(tmp_path):
    rewake = command("echo 'all good' >&2; exit 1", **{"async": True, "asyncRewake": True})
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {"PostToolUse": [group(rewake)]}))
    await fire(session, "PostToolUse")
    await session.hooks.drain()
    assert session.hooks.take_rewakes() == []


async def test_async_rewake_without_async_runs_in_the_foreground(tmp_path):
    rewake = command("echo 'stop that' >&2; exit 2", asyncRewake=True)
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {"PostToolUse": [group(rewake)]}))
    outcome = await fire(session, "PostToolUse")
    assert (outcome.blocked, outcome.reason, session.hooks.background) == (True, "stop that", set())
