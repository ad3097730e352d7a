"""The MCP tests' servers, written out for each test: (their folder, the file their pids go to)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.mcp.servers import DOCS_SERVER, ODD_SERVER, SILENT_SERVER


@pytest.fixture
def docs(tmp_path) -> tuple[Path, Path]:
    scripts = write_tree(tmp_path / "servers", {"docs.py": textwrap.dedent(DOCS_SERVER), "silent.py": SILENT_SERVER,
                                                  "odd.py": ODD_SERVER})
    return scripts, tmp_path / "pids"
