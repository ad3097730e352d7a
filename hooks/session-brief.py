#!/usr/bin/env python3
"""SessionStart hook of the skillway plugin: a short brief of the workspace for the model.

Standard library only, so it runs unchanged under skillway and under Claude Code. It reads the hook
input on stdin (for `cwd`) and prints hookSpecificOutput.additionalContext: the git branch and
uncommitted files (when the folder is a git repository), the main languages, and the test command.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

LIMIT = 1500
LANGUAGES = {
    ".py": "Python", ".js": "JavaScript", ".mjs": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript",
    ".jsx": "JavaScript", ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".rb": "Ruby",
    ".php": "PHP", ".c": "C", ".h": "C", ".cc": "C++", ".cpp": "C++", ".hpp": "C++", ".cs": "C#",
    ".swift": "Swift", ".scala": "Scala", ".lua": "Lua", ".sh": "Shell", ".ex": "Elixir", ".exs": "Elixir",
    ".hs": "Haskell", ".ml": "OCaml", ".zig": "Zig", ".dart": "Dart", ".vue": "Vue", ".svelte": "Svelte",
}
SKIPPED = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target", ".tox", ".mypy_cache"}
MAX_FILES = 5000


def git(root, *args):
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def languages(root):
    counts = Counter()
    seen = 0
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f not in SKIPPED and not f.startswith(".")]
        for name in files:
            language = LANGUAGES.get(os.path.splitext(name)[1].lower())
            if language:
                counts[language] += 1
            seen += 1
        if seen > MAX_FILES:
            break
    return [f"{name} ({count} files)" for name, count in counts.most_common(4)]


def test_command(root):
    text = lambda name: (root / name).read_text(encoding="utf-8", errors="replace") if (root / name).is_file() else ""
    package = text("package.json")
    if package:
        try:
            if json.loads(package).get("scripts", {}).get("test"):
                return "npm test"
        except ValueError:
            pass
    pyproject = text("pyproject.toml")
    if "pytest" in pyproject or (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return "python -m pytest"
    if (root / "tox.ini").is_file():
        return "tox"
    if (root / "Cargo.toml").is_file():
        return "cargo test"
    if (root / "go.mod").is_file():
        return "go test ./..."
    if "\ntest:" in "\n" + text("Makefile"):
        return "make test"
    if (root / "tests").is_dir() and pyproject:
        return "python -m unittest"
    return None


def brief(root):
    lines = [f"Workspace: {root.name}"]
    if git(root, "rev-parse", "--is-inside-work-tree") is None:
        lines.append("Not a git repository.")
    else:
        branch = git(root, "symbolic-ref", "--short", "HEAD") or git(root, "rev-parse", "--short", "HEAD")
        lines.append(f"Git branch: {(branch or '').strip() or '(detached)'}")
        status = git(root, "status", "--porcelain") or ""
        changed = [line[3:] for line in status.splitlines() if line.strip()]
        if changed:
            shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
            lines.append(f"Uncommitted files ({len(changed)}): {shown}")
        else:
            lines.append("No uncommitted changes.")
    found = languages(root)
    lines.append("Languages: " + (", ".join(found) if found else "none detected"))
    command = test_command(root)
    lines.append(f"Test command: {command}" if command else "Test command: none detected")
    text = "\n".join(lines)
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"


def main():
    try:
        data = json.load(sys.stdin)
    except ValueError:
        data = {}
    root = Path(data.get("cwd") or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": brief(root)}}))


if __name__ == "__main__":
    main()
