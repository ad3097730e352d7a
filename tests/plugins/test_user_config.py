"""userConfig: the values a user set for a plugin in Claude Code's user folder, filled in as Claude
Code 2.1.328 fills them (text for the model, hook arguments and environment), sensitive ones never
where the model reads."""

import json
from pathlib import Path

import pytest

from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.plugins.render import Invocation, render_item
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.hooks.hookkit import command, fire, group

USER_CONFIG = {"api_url": {"type": "string", "title": "API URL", "description": "Where the API is"},
               "token": {"type": "string", "title": "Token", "description": "A token", "sensitive": True},
               "region": {"type": "string", "title": "Region", "description": "Unset here"}}


@pytest.fixture
def claude_dir(isolated_user_dirs) -> Path:
    folder = isolated_user_dirs / "home" / ".claude"
    write_tree(folder, {
        "settings.json": json.dumps({"pluginConfigs": {"uc@inline": {"options": {"api_url": "https://api.test", "port": 8080}}}}),
        ".credentials.json": json.dumps({"pluginSecrets": {"uc@inline": {"token": "s3cret-token"}}}),
    })
    return folder


def session_with(tmp_path, hooks: dict | None = None, files: dict | None = None) -> Session:
    plugin = write_tree(tmp_path / "uc", {
        ".claude-plugin/plugin.json": json.dumps({"name": "uc", "userConfig": USER_CONFIG}),
        "hooks/hooks.json": json.dumps({"hooks": hooks or {}}),
        **(files or {}),
    })
    workspace = write_tree(tmp_path / "ws", {"a.txt": "x\n"})
    return Session(workspace, discover(workspace, Settings(), [plugin], include_bundled=False), Settings())


async def rendered(session: Session, name: str) -> str:
    entry = session.catalog.resolve_command(name)
    where = Invocation(session.workspace, session.session_id, session.data_dir, True)
    return await render_item(entry.plugin, entry.item, "", where)


async def test_a_command_body_gets_the_values_set_and_never_a_sensitive_one(tmp_path, claude_dir):
    session = session_with(tmp_path, files={"commands/call.md": (
        "Call ${user_config.api_url} with ${user_config.token} in ${user_config.region}.\n")})
    assert await rendered(session, "uc:call") == (
        "Call https://api.test with [sensitive option 'token' is not available in text the model reads] "
        "in ${user_config.region}.")


async def test_a_hook_gets_the_values_in_its_environment(tmp_path, claude_dir):
    out = tmp_path / "env.json"
    script = write_tree(tmp_path / "s", {"env.py": (
        "import json, os\n"
        f"json.dump({{k: v for k, v in os.environ.items() if k.startswith('CLAUDE_PLUGIN_OPTION_')}}, open({str(out)!r}, 'w'))\n")})
    session = session_with(tmp_path, {"Stop": [group(command(f"python3 {script / 'env.py'}"))]})
    await fire(session, "Stop")
    assert json.loads(out.read_text()) == {"CLAUDE_PLUGIN_OPTION_API_URL": "https://api.test",
                                           "CLAUDE_PLUGIN_OPTION_TOKEN": "s3cret-token"}


async def test_an_exec_form_hook_gets_the_values_as_arguments(tmp_path, claude_dir):
    out = tmp_path / "args.txt"
    handler = {"type": "command", "command": "sh", "args": ["-c", f'printf "%s|%s" "$0" "$1" > {out}',
                                                             "${user_config.api_url}", "${user_config.token}"]}
    session = session_with(tmp_path, {"Stop": [group(handler)]})
    outcome = await fire(session, "Stop")
    assert (outcome.warnings, out.read_text()) == ([], "https://api.test|s3cret-token")


async def test_an_exec_form_hook_naming_an_unset_option_does_not_run(tmp_path, claude_dir):
    handler = {"type": "command", "command": "touch", "args": [str(tmp_path / "ran"), "${user_config.region}"]}
    session = session_with(tmp_path, {"Stop": [group(handler)]})
    outcome = await fire(session, "Stop")
    assert outcome.warnings == [f'uc: touch {tmp_path / "ran"} ${{user_config.region}}: the plugin option "region" '
                                "is not set (pluginConfigs in ~/.claude/settings.json)"]
    assert not (tmp_path / "ran").exists()


async def test_a_shell_hook_naming_an_option_is_refused(tmp_path, claude_dir):
    cmd = f"touch {tmp_path / 'ran'} ${{user_config.api_url}}"
    session = session_with(tmp_path, {"Stop": [group(command(cmd))]})
    outcome = await fire(session, "Stop")
    assert outcome.warnings == [f"uc: {cmd}: names ${{user_config.*}} in a shell command, which a value could break "
                                "out of; use the exec form (command + args) instead"]
    assert not (tmp_path / "ran").exists()


async def test_a_workspace_cannot_set_a_plugin_s_options(tmp_path, isolated_user_dirs):
    session = session_with(tmp_path, files={"commands/call.md": "Call ${user_config.api_url}.\n"})
    write_tree(session.workspace, {".claude/settings.json": json.dumps(
        {"pluginConfigs": {"uc@inline": {"options": {"api_url": "https://evil.test"}}}})})
    session = Session(session.workspace, discover(session.workspace, Settings(), [tmp_path / "uc"], include_bundled=False),
                      Settings())
    assert await rendered(session, "uc:call") == "Call ${user_config.api_url}."
