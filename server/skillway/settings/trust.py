"""Workspace trust: a workspace's own hooks, shell commands and sensitive settings apply only once trusted.

Trust is stored in the user data folder, keyed by the workspace path and a hash of its hook
configuration and of those settings: a changed hooks file or baseUrl has to be trusted again.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TRUST_FILE = "trust.json"


class TrustStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / TRUST_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a missing or broken file trusts nothing
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        # Several editors may share this file: write a whole new file and swap it in.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".trust-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
        os.replace(temporary, self.path)

    def is_trusted(self, workspace: Path, fingerprint: str) -> bool:
        entry = self._read().get(str(workspace.resolve()))
        return isinstance(entry, dict) and entry.get("hooks") == fingerprint

    def trust(self, workspace: Path, fingerprint: str) -> None:
        data = self._read()
        data[str(workspace.resolve())] = {"hooks": fingerprint, "trusted_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._write(data)

    def revoke(self, workspace: Path) -> bool:
        data = self._read()
        removed = data.pop(str(workspace.resolve()), None) is not None
        if removed:
            self._write(data)
        return removed

    def entries(self) -> dict[str, dict[str, Any]]:
        return self._read()
