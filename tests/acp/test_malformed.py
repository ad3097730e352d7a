"""What the ACP agent answers to messages an editor should not send, written raw on its stdin: each
gets a JSON-RPC error, and the agent goes on answering."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.acp.client import SKILLWAY, WAIT, agent_environment


@pytest.fixture
async def agent(fake, tmp_path):
    process = await asyncio.create_subprocess_exec(*SKILLWAY, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                   env=agent_environment(fake), cwd=str(tmp_path))
    yield process
    assert process.stdin is not None
    process.stdin.close()
    async with asyncio.timeout(WAIT):
        await process.wait()


async def exchange(process, line: str) -> dict:
    process.stdin.write(line.encode() + b"\n")
    await process.stdin.drain()
    async with asyncio.timeout(WAIT):
        return json.loads(await process.stdout.readline())


def request(request_id: int, method: str, params: object) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


@pytest.mark.parametrize(("line", "code"), [
    ("this is not json", -32700),
    ('{"jsonrpc": "2.0", "id": 1, "method": "initialize"', -32700),  # cut off
    ("[1, 2, 3]", -32600),
    ('"a string"', -32600),
    ('{"jsonrpc": "2.0", "id": 2, "method": 42}', -32600),
    ('{"jsonrpc": "2.0"}', -32600),
])
async def test_a_line_that_is_not_a_message_gets_an_error_and_the_agent_goes_on(agent, line, code):
    answer = await exchange(agent, line)
    assert answer["error"]["code"] == code
    initialized = await exchange(agent, request(3, "initialize", {"protocolVersion": 1}))
    assert initialized["id"] == 3 and initialized["result"]["agentCapabilities"]["loadSession"] is True


async def test_wrong_params_and_unknown_methods_get_errors_naming_them(agent, tmp_path):
    await exchange(agent, request(1, "initialize", {"protocolVersion": 1}))
    wrong = await exchange(agent, request(2, "session/new", {"cwd": 5}))
    relative = await exchange(agent, request(3, "session/new", {"cwd": "relative/path", "mcpServers": []}))
    unknown = await exchange(agent, request(4, "session/teleport", {}))
    prompt = await exchange(agent, request(5, "session/prompt", {"sessionId": "nope", "prompt": [{"type": "text", "text": "hi"}]}))
    created = await exchange(agent, request(6, "session/new", {"cwd": str(tmp_path), "mcpServers": []}))
    assert (wrong["id"], wrong["error"]["code"]) == (2, -32602)
    assert relative["error"]["code"] == -32602 and "absolute path" in relative["error"]["data"]["message"]
    assert unknown["error"]["code"] == -32601
    assert prompt["error"]["code"] == -32602 and "no session 'nope'" in prompt["error"]["data"]["message"]
    assert created["id"] == 6 and created["result"]["sessionId"]
