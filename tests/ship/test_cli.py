"""`skillway ship`, `--check` and the pre-push hook, as real processes in real git repositories,
against the fake API."""

import json
import os
import subprocess
import sys

import pytest

from tests.cli_runner import run_skillway
from tests.ship.helpers import critical, git, lines, make_repo, report, reviewers


@pytest.fixture(autouse=True)
def reviewing(fake):
    """The fake's reviewers: the security auditor finds a critical problem."""
    fake.enqueue(*[reviewers({"security-auditor": report([critical()])})] * 30)


@pytest.fixture
def env(isolated_user_dirs, fake):
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SKILLWAY_")) or k == "SKILLWAY_NO_DAEMON"},
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


@pytest.fixture
def remote(repo, tmp_path):
    """A bare remote `origin` that holds main (what the feature branch is based on)."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    return remote


def pre_push(repo, env, *refs: tuple[str, str, str]):
    """`skillway ship --check --pre-push` with git's hook input: (local ref, remote ref, remote sha)."""
    lines = "".join(f"{local} {git(repo, 'rev-parse', local).strip()} {remote_ref} {sha}\n" for local, remote_ref, sha in refs)
    return subprocess.run([sys.executable, "-m", "skillway", "ship", "--check", "--pre-push", "--remote", "origin"],
                          input=lines, cwd=repo, env=env, capture_output=True, text=True, timeout=120)


NEW = "0" * 40


def skillway(repo, env, *args):
    return run_skillway(["ship", *args], cwd=repo, env=env)


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


def test_the_pre_push_hook_refuses_a_push_without_a_go(repo, env, remote):
    installed = skillway(repo, env, "--install-git-hook")
    assert installed.returncode == 0 and installed.stdout == f"installed {repo / '.git/hooks/pre-push'}\n"
    push = ["git", "push", "-q", "origin", "feature"]
    refused = subprocess.run(push, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert ("skillway ship --check: refs/heads/feature -> refs/heads/feature: no /ship decision covers what this "
            "push sends") in refused.stderr
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


def test_the_pre_push_check_judges_the_pushed_commit_not_the_working_tree(repo, env, remote):
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    (repo / "src/app.py").write_text("an edit that is not committed, so not pushed\n")
    checked = pre_push(repo, env, ("feature", "refs/heads/feature", NEW))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("skillway ship --check: feature -> refs/heads/feature: GO for this change")


def test_a_go_for_a_dirty_tree_holds_once_it_is_committed(repo, env, remote):
    (repo / "src/app.py").write_text(lines(70))
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    git(repo, "commit", "-qam", "the rest")
    assert pre_push(repo, env, ("feature", "refs/heads/feature", NEW)).returncode == 0


def test_pushing_the_branch_onto_another_ref_judges_what_that_ref_gains(repo, env, remote):
    # Local main has an unpushed commit under the branch: the GO (against main) did not judge it,
    # but pushing the branch onto the remote's main sends it too.
    git(repo, "checkout", "-q", "main")
    (repo / "billing.py").write_text(lines(80))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "billing")
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "-q", "main")
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    assert pre_push(repo, env, ("feature", "refs/heads/feature", NEW)).returncode == 1  # the remote lacks billing too
    checked = pre_push(repo, env, ("feature", "refs/heads/main", git(remote, "rev-parse", "main").strip()))
    assert checked.returncode == 1
    assert "feature -> refs/heads/main: no /ship decision covers what this push sends" in checked.stderr
    git(repo, "push", "-q", "origin", "main")  # once billing is there, the GO covers the rest
    assert pre_push(repo, env, ("feature", "refs/heads/main", git(remote, "rev-parse", "main").strip())).returncode == 0


def test_a_go_does_not_cover_commits_the_remote_lacks_below_its_base(repo, env, tmp_path):
    # Nothing of the history is on the remote yet: the GO judged only what is above main.
    other = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    git(repo, "remote", "add", "origin", str(other))
    assert skillway(repo, env, "--accept-risk", "src/auth.py").returncode == 0
    assert pre_push(repo, env, ("feature", "refs/heads/feature", NEW)).returncode == 1


def test_installing_the_hook_refuses_a_hooks_folder_shared_by_every_repository(repo, env, tmp_path):
    shared = tmp_path / "global-hooks"
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {shared}\n")
    result = skillway(repo, env | {"GIT_CONFIG_GLOBAL": str(config)}, "--install-git-hook")
    assert result.returncode == 1 and f"git runs the hooks of every repository from {shared}" in result.stderr
    assert not shared.exists()
