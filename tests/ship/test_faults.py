"""/ship when the API cannot be used: a cause known up front (no credentials, a quota used up) stops the
run before any reviewer starts, a refused connection stops it at the first reviewer that meets it, and
either is said once. A run whose reviewers all fail is recorded as a failed run, never replacing a GO
of the same diff; a NO-GO with a finding still does. And the pre-push hook finds skillway on PATH."""

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from skillway.app.session import Session
from skillway.model.errors import Kind, ModelError, no_credentials
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from skillway.ship.orchestrator import run_ship
from tests.cli_runner import run_skillway
from tests.fakes.anthropic_server import StatusError
from tests.ship.helpers import critical, git, lines, make_repo, report, reviewers

NO_CREDENTIALS = no_credentials().message
HOOK_MESSAGE = ("skillway pre-push hook: cannot check this push for a /ship GO: the `skillway` command is not on PATH. "
                "Install skillway (pip install skillway) or put the folder that holds it on PATH, then push again.\n")


@pytest.fixture
def repo(tmp_path):
    """A change that may not skip the review: 60 lines and a sensitive path."""
    repo = make_repo(tmp_path / "repo", {"src/app.py": "x = 1\n", "src/auth.py": "def check(a, b):\n    return True\n"})
    (repo / "src/app.py").write_text(lines(60))
    (repo / "src/auth.py").write_text("def check(a, b):\n    return a == b\n")
    return repo


@pytest.fixture
def tripwire():
    """A listening socket that any HTTP(S) request would reach as its proxy: `touched()` says whether one did."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)

        def touched() -> bool:
            try:
                listener.accept()[0].close()
                return True
            except BlockingIOError:
                return False

        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        yield {"HTTPS_PROXY": url, "HTTP_PROXY": url, "ALL_PROXY": url, "NO_PROXY": ""}, touched


@pytest.fixture
def base_env(isolated_user_dirs):
    return {**{k: v for k, v in os.environ.items()
               if (not k.startswith(("ANTHROPIC_", "SKILLWAY_")) or k == "SKILLWAY_NO_DAEMON")
               and k.upper() not in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")},
            "SKILLWAY_CONFIG_DIR": str(isolated_user_dirs / "config"), "SKILLWAY_DATA_DIR": str(isolated_user_dirs / "data")}


@pytest.fixture
def env(base_env, fake):
    return base_env | {"ANTHROPIC_API_KEY": "sk-test-0123456789", "ANTHROPIC_BASE_URL": fake.base_url}


def skillway(repo, env, *args):
    return run_skillway(args, cwd=repo, env=env)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ledger(repo: Path) -> list[dict]:
    return [json.loads(line) for line in (repo / ".git/skillway/ship-ledger.jsonl").read_text().splitlines()]


# --- a cause known before any reviewer starts --------------------------------------------------------

def test_ship_without_credentials_exits_1_with_the_cause_once_before_any_reviewer_starts(repo, base_env, tripwire):
    proxies, touched = tripwire
    result = skillway(repo, base_env | proxies, "ship")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"skillway ship: {NO_CREDENTIALS}\n")
    assert touched() is False


def test_print_mode_ship_without_credentials_says_the_cause_once(repo, base_env, tripwire):
    proxies, touched = tripwire
    result = skillway(repo, base_env | proxies, "-p", "/ship")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"skillway: {NO_CREDENTIALS}\n")
    assert touched() is False


async def test_the_editor_tells_a_ship_without_credentials_once_and_starts_no_reviewer(tmp_path, repo):
    from lsprotocol import types as lsp

    from tests.lsp.harness import running_server, shown

    async with running_server(repo.resolve(), tmp_path / "user", None, api_key=None) as client:
        since = len(client.messages)
        answer = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.ship"))
        told = shown(client, since)
        progress = dict(client.progress_reports)
    assert answer == {"ok": False, "error": NO_CREDENTIALS}
    assert told == [f"skillway: {NO_CREDENTIALS}"]
    assert progress == {}


async def test_a_used_up_quota_stops_ship_before_any_reviewer_starts(repo, fake, isolated_user_dirs):
    from skillway.model.ledger import UsageRecord

    settings = Settings(base_url=fake.base_url, quotas={"*": {"maxTokens": 1000}})
    session = Session(repo, discover(repo, settings, []), settings)
    session.model.ledger.record(UsageRecord(time=time.time(), project="elsewhere", purpose="chat", model="claude-sonnet-4-6",
                                            input_tokens=5000))
    await session.start()
    events = []
    with pytest.raises(ModelError) as raised:
        await run_ship(session, "/ship", on_event=events.append)
    assert (raised.value.kind, fake.requests, events) == (Kind.QUOTA, [], [])


# --- a cause met by the reviewers ----------------------------------------------------------------------

def test_a_refused_connection_stops_ship_with_the_cause_said_once(repo, base_env):
    port = closed_port()
    env = base_env | {"ANTHROPIC_API_KEY": "sk-test-0123456789", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}
    result = skillway(repo, env, "ship")
    cause = f"Cannot reach the API at http://127.0.0.1:{port}"
    assert (result.returncode, result.stdout) == (1, "")
    assert (result.stdout + result.stderr).count(cause) == 1
    assert result.stderr.splitlines()[-1].startswith(f"skillway ship: {cause}: ")


def test_a_run_whose_reviewers_all_fail_is_recorded_as_failed_and_the_earlier_go_still_passes_check(repo, env, fake):
    fake.enqueue(*[reviewers()] * 3)
    assert skillway(repo, env, "ship").returncode == 0
    fake.enqueue(*[StatusError(500, "api_error", "Internal server error")] * 60)
    failed = skillway(repo, env, "ship")
    checked = skillway(repo, env, "ship", "--check")
    go, failure = ledger(repo)
    assert failed.returncode == 1
    assert (go["diff_sha256"], go["decision"], go["outcome"]) == (failure["diff_sha256"], "GO", "verdict")
    assert (failure["decision"], failure["complete"], failure["outcome"]) == ("NO-GO", True, "failed")
    assert checked.returncode == 0
    assert checked.stdout.startswith("skillway ship --check: GO for the current change (2 file(s), +61/-2 against main")


def test_a_run_whose_reviewers_all_fail_says_so_in_its_decision(repo, env, fake):
    fake.enqueue(*[StatusError(529, "overloaded_error", "Overloaded")] * 60)
    result = skillway(repo, env, "ship")
    assert result.returncode == 1
    assert ("It does not ship: the review did not complete (3 of 3 reviewers returned no report, and no finding was "
            "reported), so this run counts as failed, not as a verdict on the change.\n") in result.stdout


def test_ship_json_gives_the_outcome_of_a_failed_run(repo, env, fake):
    fake.enqueue(*[StatusError(500, "api_error", "Internal server error")] * 60)
    data = json.loads(skillway(repo, env, "ship", "--json").stdout)
    assert (data["decision"], data["outcome"], data["complete"]) == ("NO-GO", "failed", True)


def test_check_after_only_a_failed_run_says_the_run_failed(repo, env, fake):
    fake.enqueue(*[StatusError(500, "api_error", "Internal server error")] * 60)
    assert skillway(repo, env, "ship").returncode == 1
    checked = skillway(repo, env, "ship", "--check")
    assert checked.returncode == 1
    assert checked.stderr.startswith("skillway ship --check: the last /ship run for the current change (diff ")
    assert ") failed (reviewers returned no report), recorded at " in checked.stderr
    assert checked.stderr.endswith("; it decided nothing: run skillway ship again\n")


def test_a_no_go_with_a_critical_finding_replaces_an_earlier_go_for_the_same_diff(repo, env, fake):
    fake.enqueue(*[reviewers()] * 3)
    assert skillway(repo, env, "ship").returncode == 0
    fake.enqueue(*[reviewers({"security-auditor": report([critical()])})] * 3)
    assert skillway(repo, env, "ship").returncode == 1
    checked = skillway(repo, env, "ship", "--check")
    assert (checked.returncode, ledger(repo)[-1]["outcome"]) == (1, "verdict")
    assert "the decision for the current change (diff " in checked.stderr and "is NO-GO, recorded at" in checked.stderr


# --- the pre-push hook ---------------------------------------------------------------------------------

@pytest.fixture
def branch(tmp_path, env, fake):
    """A feature branch with a change, a remote holding main, and the hook installed."""
    repo = make_repo(tmp_path / "pushed", {"src/app.py": "x = 1\n", "src/auth.py": "def check(a, b):\n    return True\n"})
    git(repo, "checkout", "-qb", "feature")
    (repo / "src/app.py").write_text(lines(60))
    (repo / "src/auth.py").write_text("def check(a, b):\n    return a == b\n")
    git(repo, "commit", "-qam", "compare for real")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    assert skillway(repo, env, "ship", "--install-git-hook").returncode == 0
    return repo


def tools_path(*extra: str) -> str:
    """git and sh, and `extra`, but not skillway."""
    folders = list(dict.fromkeys(str(Path(os.path.realpath(_which(tool))).parent) for tool in ("git", "sh")))
    return os.pathsep.join([*extra, *folders])


def _which(tool: str) -> str:
    import shutil

    found = shutil.which(tool)
    assert found, f"{tool} is needed by these tests"
    return found


def push(repo, env, path):
    return subprocess.run(["git", "push", "-q", "origin", "feature"], check=False, cwd=repo, env=env | {"PATH": path},
                          capture_output=True, text=True, timeout=120)


def test_the_installed_pre_push_hook_names_no_interpreter_and_runs_skillway_from_path(branch):
    text = (branch / ".git/hooks/pre-push").read_text()
    assert sys.executable not in text and sys.prefix not in text and os.path.realpath(sys.executable) not in text
    assert text.splitlines()[-1] == 'exec skillway ship --check --pre-push --remote "$1"'


def test_the_pre_push_hook_finds_skillway_on_path(branch, env, fake):
    path = tools_path(sysconfig.get_path("scripts"))
    refused = push(branch, env, path)
    fake.enqueue(*[reviewers()] * 3)
    assert skillway(branch, env, "ship", "main").returncode == 0
    pushed = push(branch, env, path)
    assert refused.returncode != 0
    assert "skillway ship --check: refs/heads/feature -> refs/heads/feature: no /ship decision covers" in refused.stderr
    assert (pushed.returncode, pushed.stderr) == (0, "")


def test_the_pre_push_hook_without_skillway_on_path_refuses_the_push_and_says_how_to_fix_it(branch, env, fake):
    import shutil

    path = tools_path()
    assert shutil.which("skillway", path=path) is None
    fake.enqueue(*[reviewers()] * 3)
    assert skillway(branch, env, "ship", "main").returncode == 0  # even a GO does not go out unchecked
    refused = push(branch, env, path)
    assert refused.returncode != 0
    assert refused.stderr.startswith(HOOK_MESSAGE)
    assert git(branch, "ls-remote", "origin", "feature") == ""


def test_reinstalling_the_hook_updates_ours_of_the_old_form(repo, env):
    hook = repo / ".git/hooks/pre-push"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f"#!/bin/sh\n# skillway ship gate: a push goes out only with a complete GO for its change.\n"
                    f"exec {sys.executable} -m skillway ship --check --pre-push --remote \"$1\"\n")
    result = skillway(repo, env, "ship", "--install-git-hook")
    assert (result.returncode, result.stdout) == (0, f"updated {hook}\n")
    assert sys.executable not in hook.read_text()
    assert hook.read_text().splitlines()[-1] == 'exec skillway ship --check --pre-push --remote "$1"'


async def test_each_ship_in_the_editor_tells_its_cause_even_when_it_was_told_before(tmp_path, repo):
    from lsprotocol import types as lsp

    from tests.lsp.harness import running_server, shown

    async with running_server(repo.resolve(), tmp_path / "user", None, api_key=None) as client:
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.ship"))
        since = len(client.messages)
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.ship"))
        told = shown(client, since)
    assert told == [f"skillway: {NO_CREDENTIALS}"]


async def test_rejected_credentials_met_by_one_reviewer_stop_the_others_at_once(repo, fake, monkeypatch):
    import asyncio

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-0123456789")
    answer = reviewers({"security-auditor": StatusError(401, "authentication_error", "invalid x-api-key")}, delay=30.0)

    def once_all_three_are_asked(request):  # the refusal meets the others in flight, however slow they start
        fake.wait_for_requests(3, timeout=15)
        return answer(request)

    fake.enqueue(*[once_all_three_are_asked] * 3)
    settings = Settings(base_url=fake.base_url)
    session = Session(repo, discover(repo, settings, []), settings)
    await session.start()
    events = []
    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        await asyncio.wait_for(run_ship(session, "/ship", on_event=events.append), 20)
    finished = [await asyncio.to_thread(fake.wait_until_finished, index, 10) for index in range(3)]
    assert raised.value.kind is Kind.AUTHENTICATION and time.monotonic() - started < 20
    assert sorted(record.disconnected_early for record in finished) == [False, True, True]
    assert sorted((e.kind, e.reviewer, e.detail) for e in events if e.kind == "done") == [
        ("done", "code-reviewer", "stopped"), ("done", "security-auditor", "stopped"), ("done", "test-engineer", "stopped")]
