"""A second, independent client: the ACP TypeScript SDK (`@agentclientprotocol/sdk` from npm) runs
the same happy path against `skillway acp`. CI installs the package (`npm install` in
tests/acp/node); without node, or without the package, the test is skipped and says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acp.client import agent_environment
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse

CLIENT = Path(__file__).parent / "node"
node = shutil.which("node")
pytestmark = [
    pytest.mark.skipif(node is None, reason="node is not installed"),
    pytest.mark.skipif(not (CLIENT / "node_modules/@agentclientprotocol/sdk").is_dir(),
                       reason="the TypeScript SDK is not installed: npm install --prefix tests/acp/node"),
]


def test_the_typescript_sdk_runs_the_happy_path(fake, tmp_path):
    workspace = write_tree(tmp_path / "ws", {"src/app.py": "x = 1\n"})
    greeter = write_tree(tmp_path / "greeter", {
        ".claude-plugin/plugin.json": '{"name": "greeter", "version": "1.0.0"}',
        "commands/greet.md": "---\ndescription: Greet someone\nargument-hint: NAME\n---\nSay hello to $ARGUMENTS.\n"})
    fake.enqueue(Reply(content=[Text("Hello from skillway.")]), Reply(content=[Text("Hello, Ada!")]),
                 Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="b1")]), Reply(content=[Text("Not made.")]))
    done = subprocess.run([str(node), str(CLIENT / "happy_path.mjs"), str(workspace),
                           sys.executable, "-m", "skillway", "acp", "--plugin-dir", str(greeter)],
                          env=agent_environment(fake), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["agent"] == "skillway"
    assert "greeter:greet" in seen["commands"]
    assert seen["stopReasons"] == ["end_turn", "end_turn", "end_turn"]
    assert "".join(seen["chunks"]).startswith("Hello from skillway.Hello, Ada!")
    assert seen["asked"] == ["Allow Bash touch made?"]
    assert seen["toolUpdates"] == ["failed"]
    assert "Say hello to Ada." in json.dumps(fake.requests[1].body["messages"])
    assert not (workspace / "made").exists()
