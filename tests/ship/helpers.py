"""Real git repositories and scripted reviewers for the /ship tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, StatusError, Text

REVIEWERS = ("code-reviewer", "security-auditor", "test-engineer")
# How each bundled persona's system prompt introduces it: the fake API tells the reviewers apart by it.
PERSONA_LINES = {"code-reviewer": "You are the code reviewer", "security-auditor": "You are the security auditor",
                 "test-engineer": "You are the test engineer"}
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A repository on `main` with one commit holding `files`."""
    write_tree(path, files or {"README.md": "a project\n"})
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "start")
    return path


def lines(count: int, word: str = "line") -> str:
    return "".join(f"{word} {n}\n" for n in range(count))


def report(findings: list[dict] | None = None, text: str = "Looked at the change.") -> str:
    return f"{text}\n\n```json\n{json.dumps(findings or [])}\n```"


def critical(file: str = "src/auth.py", line: int = 2, message: str = "the token is compared with == (timing attack)"):
    return {"severity": "critical", "file": file, "line": line, "message": message}


def reviewer_of(request) -> str | None:
    system = request.body.get("system")
    text = " ".join(block.get("text", "") for block in system) if isinstance(system, list) else str(system or "")
    return next((name for name, line in PERSONA_LINES.items() if line in text), None)


def reviewers(answers: dict | None = None, delay: float = 0.0):
    """A fake-API script: each reviewer's request gets its entry of `answers` (a report text, a
    StatusError, or a list of those taken in turn); a clean report by default."""
    queues = {name: list(value) if isinstance(value, list) else [value] for name, value in (answers or {}).items()}

    def answer(request):
        name = reviewer_of(request)
        queue = queues.get(name, [])
        item = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else report())
        if isinstance(item, StatusError):
            return item
        return Reply(content=[Text(item)], token_delay=delay / max(1, len(Text(item).tokens())))

    return answer
