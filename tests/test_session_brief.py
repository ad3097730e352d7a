"""The bundled SessionStart hook: a short workspace brief, with or without git."""

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT, write_tree

SCRIPT = REPO_ROOT / "hooks" / "session-brief.py"


def brief(folder) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT)], input=json.dumps({"cwd": str(folder)}),
                          capture_output=True, text=True, timeout=30, check=True)
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == "SessionStart"
    return output["additionalContext"]


def test_folder_that_is_not_a_git_repository(tmp_path):
    folder = write_tree(tmp_path / "app", {"main.go": "package main\n", "go.mod": "module app\n"})
    assert brief(folder) == "Workspace: app\nNot a git repository.\nLanguages: Go (1 files)\nTest command: go test ./..."


def test_git_repository_with_branch_and_uncommitted_files(tmp_path):
    folder = write_tree(tmp_path / "web", {"package.json": '{"scripts": {"test": "vitest"}}', "src/a.ts": "", "src/b.ts": ""})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["init", "-q", "-b", "trunk"], cwd=folder, check=True)
    subprocess.run(git + ["add", "package.json"], cwd=folder, check=True)
    subprocess.run(git + ["commit", "-qm", "init"], cwd=folder, check=True)
    assert brief(folder) == ("Workspace: web\nGit branch: trunk\nUncommitted files (1): src/\n"
                             "Languages: TypeScript (2 files)\nTest command: npm test")


def test_brief_stays_under_1500_characters(tmp_path):
    files = {f"pkg{i}/very_long_module_name_number_{i}.py": "" for i in range(300)}
    folder = write_tree(tmp_path / "big", files)
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    text = brief(folder)
    assert len(text) <= 1500
    assert "Uncommitted files (300): " in text and "and 292 more" in text
