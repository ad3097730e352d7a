"""`skillway ship`, `--check` and the pre-push hook, as real processes in real git repositories,
against the fake API."""

import json
import os
import subprocess
import sys

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.ship.helpers import critical, git, lines, make_repo, report, reviewers


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        server.enqueue(*[reviewers({"security-auditor": report([critical()])})] * 30)
        yield server


@pytest.fixture
def env(isolated_user_dirs, fake):
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SKILLWAY_"))},
            "SKILLWAY_CONFIG_DIR": str(isolated_user_dirs / "config"), "SKILLWAY_DATA_DIR": str(isolated_user_dirs / "data"),
            "ANTHROPIC_API_KEY": "sk-test-0123456789", "ANTHROPIC_BASE_URL": fake.base_url}


@pytest.fixture
def repo(tmp_path):
    repo = make_repo(tmp_path / "repo", {"src/app.py": "x = 1\n", "src/auth.py": "def check(a, b):\n    return True\n"})
    git(repo, "checkout", "-qb", "feature")
    (repo / "src/app.py").write_text(lines(60))
    (repo / "src/auth.py").write_text("def check(a, b):\n    return a == b\n")
    git(repo, "commit", "-qam", "compare for real")
    return repo


def skillway(repo, env, *args):
    return subprocess.run([sys.executable, "-m", "skillway", "ship", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)


def test_ship_prints_the_decision_and_exits_1_on_no_go(repo, env):
    result = skillway(repo, env)
    assert result.returncode == 1
    assert result.stdout.startswith("## Ship Decision: NO-GO\n")
    assert "skillway ship: security-auditor: 1 critical, 0 important, 0 suggestions" in result.stderr


def test_ship_with_the_risk_accepted_exits_0_and_check_then_passes(repo, env):
    shipped = skillway(repo, env, "main", "--accept-risk", "timing attack")
    checked = skillway(repo, env, "--check")
    assert (shipped.returncode, checked.returncode) == (0, 0)
    assert shipped.stdout.startswith("## Ship Decision: GO\n")
    assert checked.stdout.startswith("skillway ship --check: GO for the current change (2 file(s), +61/-2 against main, diff ")


def test_check_fails_after_any_change_to_the_diff(repo, env):
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    (repo / "src/app.py").write_text(lines(61))
    checked = skillway(repo, env, "--check")
    assert checked.returncode == 1
    assert "no /ship decision for the current change" in checked.stderr
    assert "the change moved since the GO recorded at" in checked.stderr


def test_check_fails_after_a_no_go(repo, env):
    assert skillway(repo, env).returncode == 1
    checked = skillway(repo, env, "--check")
    assert checked.returncode == 1 and "is NO-GO, recorded at" in checked.stderr


def test_check_passes_a_change_small_enough_to_skip(tmp_path, env):
    repo = make_repo(tmp_path / "small", {"README.md": "hello\n"})
    (repo / "README.md").write_text("hello world\n")
    checked = skillway(repo, env, "--check")
    assert (checked.returncode, checked.stdout) == (
        0, "skillway ship --check: small change (1 file(s), +1/-1 against main, nothing sensitive): the review may be skipped\n")


def test_ship_json_has_the_decision_and_findings(repo, env):
    result = skillway(repo, env, "--json")
    data = json.loads(result.stdout)
    assert (result.returncode, data["decision"], data["complete"], data["gate"]["recorded"]) == (1, "NO-GO", True, True)
    assert data["findings"] == [{"severity": "critical", "file": "src/auth.py", "line": 2, "reviewers": ["security-auditor"],
                                 "message": "the token is compared with == (timing attack)"}]


def test_ship_outside_a_repository_says_so(tmp_path, env):
    result = skillway(tmp_path, env)
    assert (result.returncode, result.stdout) == (1, "")
    assert f"skillway ship: {tmp_path} is not inside a git repository" in result.stderr


def test_print_mode_ship_runs_the_same_flow(repo, env):
    result = subprocess.run([sys.executable, "-m", "skillway", "-p", "/ship --accept-risk 'timing attack'",
                             "--output-format", "json"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    data = json.loads(result.stdout)
    assert (result.returncode, data["subtype"], data["ship"]["decision"]) == (0, "success", "GO")
    assert data["result"].startswith("## Ship Decision: GO")


def test_the_pre_push_hook_refuses_a_push_without_a_go(repo, env, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    installed = skillway(repo, env, "--install-git-hook")
    assert installed.returncode == 0 and installed.stdout == f"installed {repo / '.git/hooks/pre-push'}\n"
    push = ["git", "push", "-q", "origin", "feature"]
    refused = subprocess.run(push, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "skillway ship --check: refs/heads/feature: no /ship decision for the current change" in refused.stderr
    assert skillway(repo, env, "main", "--accept-risk", "timing attack").returncode == 0
    pushed = subprocess.run(push, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert pushed.returncode == 0, pushed.stderr
    assert git(remote, "rev-parse", "feature") == git(repo, "rev-parse", "HEAD")


def test_installing_the_hook_keeps_a_pre_push_hook_of_the_users(repo, env):
    hook = repo / ".git/hooks/pre-push"
    hook.write_text("#!/bin/sh\n./run-lints\n")
    result = skillway(repo, env, "--install-git-hook")
    assert result.returncode == 1 and "already exists and is not ours; it was left as it is" in result.stderr
    assert hook.read_text() == "#!/bin/sh\n./run-lints\n"


def test_the_pre_push_check_judges_the_pushed_commit_not_the_working_tree(repo, env):
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    (repo / "src/app.py").write_text("an edit that is not committed, so not pushed\n")
    head = git(repo, "rev-parse", "HEAD").strip()
    pushed = f"refs/heads/feature {head} refs/heads/feature {'0' * 40}\n"
    checked = subprocess.run([sys.executable, "-m", "skillway", "ship", "--check", "--pre-push"], input=pushed, cwd=repo,
                             env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("skillway ship --check: refs/heads/feature: GO for the current change")


def test_a_go_for_a_dirty_tree_holds_once_it_is_committed(repo, env):
    (repo / "src/app.py").write_text(lines(70))
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    git(repo, "commit", "-qam", "the rest")
    head = git(repo, "rev-parse", "HEAD").strip()
    checked = subprocess.run([sys.executable, "-m", "skillway", "ship", "--check", "--pre-push"], cwd=repo, env=env,
                             input=f"refs/heads/feature {head} refs/heads/feature {'0' * 40}\n", capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr


def test_installing_the_hook_refuses_a_hooks_folder_shared_by_every_repository(repo, env, tmp_path):
    shared = tmp_path / "global-hooks"
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {shared}\n")
    result = skillway(repo, env | {"GIT_CONFIG_GLOBAL": str(config)}, "--install-git-hook")
    assert result.returncode == 1 and f"git runs the hooks of every repository from {shared}" in result.stderr
    assert not shared.exists()
