"""`skillway ... | head`: a reader that goes away ends every printing command quietly."""

import os
import subprocess
import sys

import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text


@pytest.mark.parametrize("args", [
    ["doctor"], ["plugins", "list"], ["plugins", "list", "--json"], ["plugins", "show", "skillway"],
    ["plugins", "validate", "."], ["hooks", "list"], ["usage"],
    ["-p", "hi", "--bare"], ["-p", "hi", "--bare", "--output-format", "stream-json"],
], ids=" ".join)
def test_a_closed_pipe_ends_the_command_quietly(args, tmp_path, isolated_user_dirs):
    (tmp_path / "ws").mkdir()
    with FakeAnthropic() as fake:
        fake.enqueue(Reply(content=[Text("an answer")]))
        reader, writer = os.pipe()
        os.close(reader)  # the reader is gone before the first byte is written
        try:
            result = subprocess.run([sys.executable, "-m", "skillway", *args], cwd=tmp_path / "ws", stdout=writer,
                                    stderr=subprocess.PIPE, text=True, timeout=120,
                                    env={**os.environ, "ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": "sk-x"})
        finally:
            os.close(writer)
    assert (result.returncode, result.stderr) == (141, "")
