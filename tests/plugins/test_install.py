"""Marketplaces added from git or a folder, and their plugins installed at a pinned commit, updated
and uninstalled, with the real git against bare repositories in tmp_path (file:// URLs)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from skillway.core.git import without_credentials
from skillway.plugins import install, known_marketplaces
from skillway.plugins.discovery import discover
from skillway.plugins.registry import PluginsHome
from skillway.settings import Settings
from tests.cli_runner import run_skillway
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text

GIT = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]


@pytest.fixture(autouse=True)
def git_identity(tmp_path, monkeypatch):
    """Commits need a name; neither the user's ~/.gitconfig nor the system's is read."""
    (tmp_path / "gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.org")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class Remote:
    """A bare repository (what a clone URL points at) and a work clone that pushes to it."""

    def __init__(self, base: Path, name: str) -> None:
        self.bare, self.work = base / f"{name}.git", base / f"{name}-work"
        base.mkdir(parents=True, exist_ok=True)
        git(base, "init", "-q", "--bare", "-b", "main", str(self.bare))
        git(base, "clone", "-q", self.url, str(self.work))

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def push(self, files: dict[str, str]) -> str:
        """Commit `files` and push them; the new commit's id."""
        write_tree(self.work, files)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-qm", "change")
        git(self.work, "push", "-q", "origin", "HEAD:refs/heads/main")
        return git(self.work, "rev-parse", "HEAD")


def marketplace_json(*plugins: dict, **extra) -> str:
    return json.dumps({"name": "team", "owner": {"name": "Tools Guild"}, "plugins": list(plugins), **extra})


SHIP_IT = "---\ndescription: Ship the branch\n---\nShip it, version one.\n"
DEPLOY_FILES = {"plugins/deploy/commands/ship-it.md": SHIP_IT,
                "plugins/deploy/skills/checklist/SKILL.md": "---\nname: checklist\ndescription: Release checklist\n---\nCheck.\n",
                "README.md": "tools of the team\n"}


@pytest.fixture
def home() -> PluginsHome:
    return PluginsHome()  # in the test's own data folder (conftest)


@pytest.fixture
def tools(tmp_path) -> Remote:
    """A repository holding the `deploy` plugin in a sub-folder."""
    remote = Remote(tmp_path / "remotes", "tools")
    remote.push(DEPLOY_FILES)
    return remote


def subdir_entry(tools: Remote, path: str = "plugins/deploy", **pin) -> dict:
    return {"name": "deploy", "source": {"source": "git-subdir", "url": tools.url, "path": path, **pin}}


@pytest.fixture
def market(tmp_path, tools) -> Remote:
    """The marketplace `team`: `alpha` from its own ./ folder, `deploy` from a sub-folder of `tools`."""
    remote = Remote(tmp_path / "remotes", "market")
    remote.push({
        ".claude-plugin/marketplace.json": marketplace_json(
            {"name": "alpha", "source": "alpha"}, subdir_entry(tools), metadata={"pluginRoot": "./plugins"}),
        "plugins/alpha/commands/hello.md": "Say hello.\n",
    })
    return remote


async def added(home: PluginsHome, market: Remote, tmp_path: Path) -> None:
    await known_marketplaces.add(home, market.url, tmp_path)


def installed_from(home: PluginsHome, market: Remote, tmp_path: Path, install_id: str):
    """The marketplace added and one plugin installed, for a test that then runs the CLI (which
    runs its own event loop)."""
    async def steps():
        await added(home, market, tmp_path)
        return await install.install(home, install_id)
    return asyncio.run(steps())


def listed(home: PluginsHome) -> list[tuple]:
    return [(p.name, p.marketplace, p.source.value, p.commit, [c.name for c in p.commands], [s.name for s in p.skills])
            for p in discover(None, Settings(), include_bundled=False).plugins]


def leftovers(home: PluginsHome) -> list[str]:
    """Everything below the plugins folder but the marketplace clones and the registry files."""
    found = [p.relative_to(home.root).as_posix() for p in home.root.rglob("*")] if home.root.exists() else []
    return sorted(p for p in found if not p.startswith("marketplaces") and not p.endswith(".json"))


# --- marketplaces ---------------------------------------------------------------------------------


async def test_a_marketplace_added_from_a_git_url_is_cloned_and_recorded_at_its_commit(home, market, tmp_path):
    await known_marketplaces.add(home, market.url, tmp_path)

    record = json.loads(home.marketplaces_file.read_text())["team"]
    assert (record["source"], record["installLocation"], record["gitCommitSha"]) == (
        {"source": "git", "url": market.url}, str(home.root / "marketplaces/team"), git(market.work, "rev-parse", "HEAD"))
    assert (home.root / "marketplaces/team/plugins/alpha/commands/hello.md").read_text() == "Say hello.\n"


async def test_a_marketplace_added_from_a_local_folder_is_read_in_place(home, tree, tmp_path):
    folder = tree({".claude-plugin/marketplace.json": marketplace_json({"name": "alpha", "source": "./alpha"}),
                   "alpha/commands/hello.md": "Say hello.\n"})

    known, market = await known_marketplaces.add(home, folder.name, folder.parent)

    assert (known.name, known.source, known.location, known.commit) == ("team", {"source": "directory", "path": str(folder)}, folder, None)
    assert [e.name for e in market.entries] == ["alpha"]
    assert not (home.root / "marketplaces").exists()


def test_owner_slash_repo_is_the_github_shorthand(tmp_path):
    source = known_marketplaces.parse_source("tools-guild/plugins", tmp_path)

    assert (source, known_marketplaces.clone_url(source)) == (
        {"source": "github", "repo": "tools-guild/plugins"}, "https://github.com/tools-guild/plugins.git")


async def test_a_marketplace_that_cannot_be_cloned_leaves_nothing_and_says_why(home, tmp_path):
    url = (tmp_path / "missing.git").as_uri()

    with pytest.raises(known_marketplaces.MarketplaceError) as refused:
        await known_marketplaces.add(home, url, tmp_path)

    assert str(refused.value) == (f"cannot add marketplace {url}: git clone failed: "
                                  f"fatal: '{tmp_path / 'missing.git'}' does not appear to be a git repository")
    assert sorted(p.name for p in home.root.rglob("*")) == []


async def test_marketplace_update_checks_out_the_newest_commit(home, market, tmp_path):
    await added(home, market, tmp_path)
    newest = market.push({"plugins/alpha/commands/bye.md": "Say bye.\n"})

    before, after = await known_marketplaces.update(home, "team")

    assert (before.commit != newest, after.commit) == (True, newest)
    assert (home.root / "marketplaces/team/plugins/alpha/commands/bye.md").read_text() == "Say bye.\n"


async def test_removing_a_marketplace_uninstalls_its_plugins(home, market, tmp_path):
    await added(home, market, tmp_path)
    await install.install(home, "alpha@team")

    removed = known_marketplaces.remove(home, "team")

    assert (removed, listed(home), home.read_marketplaces()[0]) == (["alpha@team"], [], {})
    assert leftovers(home) == ["cache"]


def test_marketplace_add_prints_the_name_commit_and_plugins(market, tmp_path):
    result = run_skillway(["plugins", "marketplace", "add", market.url], cwd=tmp_path, env=dict(os.environ))

    commit = git(market.work, "rev-parse", "HEAD")[:12]
    assert (result.returncode, result.stdout) == (0, f"added marketplace team from {market.url} at {commit} (2 plugins: alpha, deploy)\n")


def test_marketplace_list_shows_each_plugin_and_what_is_installed(home, market, tmp_path):
    record = installed_from(home, market, tmp_path, "alpha@team")

    result = run_skillway(["plugins", "marketplace", "list"], cwd=tmp_path, env=dict(os.environ))

    assert result.stdout == (f"team  {market.url}  at {record.commit[:12]}\n"
                             f"  alpha  installed at {record.commit[:12]}\n  deploy  not installed\n")


# --- installing -----------------------------------------------------------------------------------


async def test_a_relative_entry_installs_a_copy_pinned_at_the_marketplace_commit(home, market, tmp_path):
    await added(home, market, tmp_path)

    record = await install.install(home, "alpha@team")

    commit = git(market.work, "rev-parse", "HEAD")
    assert (record.commit, record.path) == (commit, home.cache / "team/alpha" / commit)
    assert (record.path / "commands/hello.md").read_text() == "Say hello.\n"


async def test_a_git_subdir_entry_installs_its_sub_folder_and_loads(home, market, tools, tmp_path):
    await added(home, market, tmp_path)

    record = await install.install(home, "deploy@team")

    commit = git(tools.work, "rev-parse", "HEAD")
    assert sorted(p.name for p in record.path.iterdir()) == ["commands", "skills"]
    assert listed(home) == [("deploy", "team", "user", commit, ["ship-it"], ["checklist"])]


async def test_a_pinned_sha_installs_that_commit_not_the_newest(home, tools, tmp_path, tree):
    first = git(tools.work, "rev-parse", "HEAD")
    tools.push({"plugins/deploy/commands/ship-it.md": "Ship it, version two.\n"})
    folder = tree({".claude-plugin/marketplace.json": marketplace_json(subdir_entry(tools, sha=first))})
    await known_marketplaces.add(home, str(folder), tmp_path)

    record = await install.install(home, "deploy@team")

    assert (record.commit, (record.path / "commands/ship-it.md").read_text()) == (first, SHIP_IT)


def test_plugins_list_shows_an_installed_plugin_with_its_commit(home, market, tools, tmp_path):
    installed_from(home, market, tmp_path, "deploy@team")

    result = run_skillway(["plugins", "list", "--json"], cwd=tmp_path, env=dict(os.environ))

    deploy = next(p for p in json.loads(result.stdout)["plugins"] if p["name"] == "deploy")
    assert (result.returncode, deploy["marketplace"], deploy["source"], deploy["commit"], deploy["commands"], deploy["skills"]) == (
        0, "team", "user", git(tools.work, "rev-parse", "HEAD"), 1, 1)


def test_an_installed_command_runs_in_print_mode(home, market, tmp_path, fake):
    installed_from(home, market, tmp_path, "deploy@team")
    fake.enqueue(Reply(content=[Text("Shipped.")]))

    result = run_skillway(["-p", "/deploy:ship-it"], cwd=tmp_path,
                          env={**os.environ, "ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": "sk-test-install-0123"})

    assert (result.returncode, result.stdout) == (0, "Shipped.\n")
    assert fake.requests[0].body["messages"][0]["content"] == "Ship it, version one."


def test_a_refused_install_exits_1_with_the_reason_on_stderr(tmp_path):
    result = run_skillway(["plugins", "install", "alpha@nowhere"], cwd=tmp_path, env=dict(os.environ))

    assert (result.returncode, result.stdout, result.stderr) == (1, "", 'skillway: no marketplace named "nowhere" (known: none); '
                                                                        "add it with: skillway plugins marketplace add SOURCE\n")


async def test_installing_an_installed_plugin_again_is_refused(home, market, tmp_path):
    await added(home, market, tmp_path)
    record = await install.install(home, "alpha@team")

    with pytest.raises(install.InstallError) as refused:
        await install.install(home, "alpha@team")

    assert str(refused.value) == (f"alpha@team is already installed (at {record.commit[:12]}); "
                                  "to move it to the newest commit: skillway plugins update alpha@team")


async def test_an_entry_the_marketplace_does_not_list_is_refused_with_what_it_lists(home, market, tmp_path):
    await added(home, market, tmp_path)

    with pytest.raises(install.InstallError) as refused:
        await install.install(home, "beta@team")

    assert str(refused.value) == 'marketplace team has no plugin named "beta" (it lists: alpha, deploy)'


async def test_an_install_id_without_a_marketplace_is_refused(home):
    with pytest.raises(install.InstallError) as refused:
        await install.install(home, "alpha")

    assert str(refused.value) == '"alpha" is not PLUGIN@MARKETPLACE (see: skillway plugins marketplace list)'


async def test_an_entry_whose_name_is_no_folder_name_is_refused(home, tree, tmp_path):
    folder = tree({".claude-plugin/marketplace.json": marketplace_json({"name": "..", "source": "./alpha"}),
                   "alpha/commands/hello.md": "Say hello.\n"})
    await known_marketplaces.add(home, str(folder), tmp_path)

    with pytest.raises(install.InstallError) as refused:
        await install.install(home, "..@team")

    assert str(refused.value) == 'cannot install ".." of marketplace team: the name cannot be used as a folder name'
    assert leftovers(home) == []


async def test_a_clone_that_fails_leaves_nothing_and_names_the_entry_and_git_error(home, tree, tmp_path):
    url = (tmp_path / "gone.git").as_uri()
    folder = tree({".claude-plugin/marketplace.json": marketplace_json({"name": "ghost", "source": {"source": "url", "url": url}})})
    await known_marketplaces.add(home, str(folder), tmp_path)

    with pytest.raises(install.InstallError) as refused:
        await install.install(home, "ghost@team")

    assert str(refused.value) == (f'cannot install ghost@team (entry "ghost" of marketplace team): git clone of {url} failed: '
                                  f"fatal: '{tmp_path / 'gone.git'}' does not appear to be a git repository")
    assert (leftovers(home), home.installed_file.exists()) == ([], False)


async def test_a_git_subdir_path_leaving_the_repository_is_refused_before_cloning(home, tools, tree, tmp_path):
    folder = tree({".claude-plugin/marketplace.json": marketplace_json(subdir_entry(tools, path="plugins/../../outside"))})
    await known_marketplaces.add(home, str(folder), tmp_path)

    with pytest.raises(install.InstallError) as refused:
        await install.install(home, "deploy@team")

    assert str(refused.value) == ('cannot install deploy@team (entry "deploy" of marketplace team): '
                                  'path "plugins/../../outside" leaves the repository')
    assert leftovers(home) == []


# --- updating and uninstalling --------------------------------------------------------------------


async def test_update_moves_to_the_newest_commit_and_its_text_loads(home, market, tools, tmp_path):
    await added(home, market, tmp_path)
    first = await install.install(home, "deploy@team")
    newest = tools.push({"plugins/deploy/commands/ship-it.md": "Ship it, version two.\n"})

    before, after = await install.update(home, "deploy@team")

    command = discover(None, Settings(), include_bundled=False).plugins[0].commands[0]
    assert (before, after.commit, after.path, command.path.read_text()) == (
        first, newest, home.cache / "team/deploy" / newest, "Ship it, version two.\n")
    assert not first.path.exists()


def test_update_prints_the_old_and_new_commit(home, market, tools, tmp_path):
    first = installed_from(home, market, tmp_path, "deploy@team")
    newest = tools.push({"plugins/deploy/commands/ship-it.md": "Ship it, version two.\n"})

    result = run_skillway(["plugins", "update", "deploy@team"], cwd=tmp_path, env=dict(os.environ))

    assert (result.returncode, result.stdout) == (0, f"updated deploy@team: {first.commit[:12]} -> {newest[:12]}\n")


async def test_update_without_a_new_commit_keeps_the_installed_one(home, market, tmp_path):
    await added(home, market, tmp_path)
    first = await install.install(home, "deploy@team")

    before, after = await install.update(home, "deploy@team")

    assert (before, after) == (first, first)


async def test_uninstall_removes_the_plugin_from_disk_and_from_discovery(home, market, tmp_path):
    await added(home, market, tmp_path)
    await install.install(home, "deploy@team")

    install.uninstall(home, "deploy@team")

    assert (listed(home), leftovers(home)) == ([], ["cache"])
    assert json.loads(home.installed_file.read_text()) == {"version": 2, "plugins": {}}


async def test_a_plugin_whose_folder_is_gone_is_reported_not_loaded(home, market, tmp_path):
    await added(home, market, tmp_path)
    record = await install.install(home, "alpha@team")
    shutil.rmtree(record.path)

    plugins = discover(None, Settings(), include_bundled=False)

    assert (plugins.plugins, [p.message for p in plugins.problems]) == (
        [], ["installed plugin alpha@team has lost its folder; uninstall it and install it again"])


def test_credentials_in_a_url_are_never_shown():
    assert without_credentials("fatal: could not read https://dana:s3cret@git.example.com/x.git") == (
        "fatal: could not read https://git.example.com/x.git")
