"""Reports: markdown files under the workspace's `.skillway/reports/` that the editor opens."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path


def write_report(workspace: Path, name: str, title: str, text: str) -> Path:
    folder = workspace / ".skillway" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        # Reports are not part of the project: were git to see them, writing a /ship decision would
        # change the very change it judged, and the pre-push check would refuse the push.
        ignore.write_text("# skillway's reports are not part of the project\n*\n", encoding="utf-8")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    report = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '-', name)}-{stamp}.md"
    report.write_text(f"# {title}\n\n{text.strip()}\n", encoding="utf-8")
    return report
