"""Every test runs with its own settings and data folders and its own home folder (so its own
`~/.claude/`): nothing reads or writes the real user's."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("SKILLWAY_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("SKILLWAY_DATA_DIR", str(home / "data"))
    monkeypatch.delenv("SKILLWAY_PLUGIN_DIRS", raising=False)
    # Print-mode runs in subprocesses run by themselves: only the warm process's own tests start one
    # (the helpers that clear SKILLWAY_* variables for a subprocess keep this one).
    monkeypatch.setenv("SKILLWAY_NO_DAEMON", "1")
    # The user's ~/.claude/ (CLAUDE.md, commands, skills, agents, settings.json) is the test's own.
    (home / "home").mkdir()
    monkeypatch.setenv("HOME", str(home / "home"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # no test may reach a real API or use a real key
    return home


@pytest.fixture
def fake():
    """The local Messages API (tests/fakes), on 127.0.0.1, for one test."""
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def api_key(monkeypatch) -> str:
    """A key in the environment, as a user who has set one."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-0123456789")
    return "sk-test-0123456789"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `files` (relative path -> text, dedented; or bytes) under `root`; return `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def tree(tmp_path):
    """`tree({...})` writes files under a fresh folder and returns it."""
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        return write_tree(tmp_path / (name or f"tree{next(counter)}"), files)

    return make


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL for the whole run of one test worker (skipped, saying why, without one)."""
    from tests.postgres import PostgresServer, binaries

    found = binaries()
    if found is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI installs it")
    server = PostgresServer(found)
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """An empty database of its own for one test."""
    return postgres_server.new_database()
