"""A wrong setting is shown by every front end, naming the file, the nested key and the line."""

from __future__ import annotations

from tests.conftest import write_tree
from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text
from tests.lsp.harness import running_server, shown, wait_for
from tests.reliability.helpers import run_cli, user_settings

WRONG = {"models": {"chat": 5}}


def problem_line(home) -> str:
    return (f"{home / 'config' / 'settings.json'}:1:13: error: setting \"models.chat\" must be a non-empty string, "
            "got 5; it is ignored")


def test_print_mode_shows_a_wrong_setting(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    with FakeAnthropic() as fake:
        user_settings(home, {**WRONG, "baseUrl": fake.base_url})
        fake.enqueue(Reply(content=[Text("ok")]))
        result = run_cli(workspace, home, "-p", "hi", "--bare")
    assert (result.returncode, result.stderr.splitlines()) == (0, [f"skillway: {problem_line(home)}"])


def test_usage_shows_a_wrong_setting(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    user_settings(home, WRONG)
    result = run_cli(workspace, home, "usage")
    assert (result.returncode, result.stderr.splitlines()) == (0, [f"skillway: {problem_line(home)}"])


def test_doctor_shows_a_wrong_setting_and_exits_1(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    user_settings(home, WRONG)
    result = run_cli(workspace, home, "doctor")
    assert (result.returncode, problem_line(home) in result.stdout.splitlines()) == (1, True)


def test_doctor_exits_0_when_nothing_is_wrong(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    assert run_cli(workspace, home, "doctor").returncode == 0


def test_doctor_says_no_credentials_are_needed_when_base_url_is_set(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    user_settings(home, {"baseUrl": "http://127.0.0.1:8080"})
    result = run_cli(workspace, home, "doctor", ANTHROPIC_API_KEY="")
    assert "API credentials: none needed (baseUrl is set)" in result.stdout.splitlines()


def test_invalid_json_in_a_settings_file_is_shown_with_its_position(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    path = home / "config" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "models": {"chat": "x",}\n}\n')
    result = run_cli(workspace, home, "usage")
    assert result.stderr.splitlines() == [
        f"skillway: {path}:2:26: error: invalid JSON: Expecting property name enclosed in double quotes; the file is ignored"]


async def test_the_language_server_shows_a_wrong_setting_once_with_its_line(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"README.md": "A project.\n"}).resolve()
    user_settings(home, WRONG)
    async with running_server(workspace, home, "http://127.0.0.1:9") as client:
        await wait_for(lambda: any("models.chat" in m for m in shown(client)))
    assert [m for m in shown(client) if "models.chat" in m] == [f"skillway: {problem_line(home)}"]


def test_ship_shows_a_wrong_setting(tmp_path):
    home, workspace = tmp_path / "user", write_tree(tmp_path / "ws", {"a.py": "x = 1\n"})
    user_settings(home, WRONG)
    result = run_cli(workspace, home, "ship")  # not a git repository: it cannot run, but says what is wrong first
    assert (result.returncode, result.stderr.splitlines()[0]) == (1, f"skillway: {problem_line(home)}")
