"""No filesystem shape hangs or crashes plugin loading: symlinks that leave the root are not followed,
link loops are detected, walks are bounded, and an unreadable entry is a warning, never a traceback."""

import os
import pathlib
import subprocess
import sys
import threading
from pathlib import Path

from skillway.core import paths
from skillway.plugins.discovery import discover
from skillway.plugins.loader import load_plugin
from skillway.plugins.model import Source
from skillway.settings import Settings

SKILL = "---\nname: {name}\ndescription: A skill\n---\nDo it.\n"


def finished(function, *args):
    """`function(*args)`, run in a thread that must finish within a generous 20 s (a hang fails)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "loading did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def load(root: Path):
    return finished(load_plugin, root, Source.PLUGIN_DIR)


def load_workspace(workspace: Path):
    return finished(lambda: discover(workspace, Settings(), include_bundled=False)).find("project")


def problems_of(plugin):
    return [(p.path, p.severity.value, p.message) for p in plugin.problems]


def link(target: str | Path, at: Path) -> Path:
    os.symlink(target, at)
    return at


# --- loops -----------------------------------------------------------------------------------

def test_links_to_the_commands_folder_itself_load_only_the_real_commands(tree):
    root = tree({"commands/a.md": "A\n", "commands/sub/b.md": "B\n"}).resolve()
    for name in ("x", "y", "z"):
        link(".", root / "commands" / name)
    assert sorted(c.name for c in load(root).commands) == ["a", "sub:b"]


def test_each_link_back_to_a_folder_being_walked_is_a_loop_warning(tree):
    root = tree({"commands/a.md": "A\n"}).resolve()
    links = [link(".", root / "commands" / name) for name in ("x", "y", "z")]
    assert problems_of(load(root)) == [
        (at, "warning", "symlink loop: this leads back to a folder being walked; it is not followed") for at in links]


def test_a_link_to_a_parent_folder_is_a_loop_warning(tree):
    root = tree({"commands/deep/a.md": "A\n"}).resolve()
    up = link("..", root / "commands" / "deep" / "up")
    plugin = load(root)
    assert ([c.name for c in plugin.commands], problems_of(plugin)) == (
        ["deep:a"], [(up, "warning", "symlink loop: this leads back to a folder being walked; it is not followed")])


def test_a_link_to_a_folder_inside_the_root_is_still_followed(tree):
    root = tree({"shared/tool.md": "Tool\n", "commands/a.md": "A\n"}).resolve()
    link(root / "shared", root / "commands" / "team")
    plugin = load(root)
    assert (sorted(c.name for c in plugin.commands), plugin.problems) == (["a", "team:tool"], [])


# --- links that leave the root ---------------------------------------------------------------

def test_a_link_to_the_filesystem_root_in_skills_is_refused_by_name(tree):
    root = tree({"skills/ok/SKILL.md": SKILL.format(name="ok")}).resolve()
    at = link("/", root / "skills" / "root")
    plugin = load(root)
    assert ([s.name for s in plugin.skills], problems_of(plugin)) == (
        ["ok"], [(at, "error", "folder leaves the plugin root through a symlink (to /); it is not followed")])


def test_a_link_to_the_filesystem_root_in_claude_commands_is_refused_by_name(tree):
    workspace = tree({".claude/commands/hello.md": "Say hello.\n"}).resolve()
    at = link("/", workspace / ".claude" / "commands" / "root")
    project = load_workspace(workspace)
    assert ([c.name for c in project.commands], problems_of(project)) == (
        ["hello"], [(at, "error", "folder leaves the .claude folder through a symlink (to /); it is not followed")])


def test_a_folder_link_leaving_the_plugin_root_is_not_followed(tree):
    outside = tree({"secret.md": "Print the secrets.\n"}, name="elsewhere").resolve()
    root = tree({"commands/ok.md": "Fine.\n"}).resolve()
    at = link(outside, root / "commands" / "stolen")
    plugin = load(root)
    assert ([c.name for c in plugin.commands], problems_of(plugin)) == (
        ["ok"], [(at, "error", f"folder leaves the plugin root through a symlink (to {outside}); it is not followed")])


def test_a_default_component_folder_linked_outside_the_root_is_not_followed(tree):
    outside = tree({"secret.md": "Print the secrets.\n"}, name="elsewhere").resolve()
    root = tree({"skills/ok/SKILL.md": SKILL.format(name="ok")}).resolve()
    at = link(outside, root / "commands")
    plugin = load(root)
    assert (plugin.commands, problems_of(plugin)) == (
        [], [(at, "error", f"folder leaves the plugin root through a symlink (to {outside}); it is not followed")])


def test_a_default_hooks_file_linked_outside_the_root_is_not_loaded(tree):
    outside = tree({"hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}}'},
                   name="elsewhere").resolve()
    root = tree({"commands/ok.md": "Fine.\n"}).resolve()
    (root / "hooks").mkdir()
    at = link(outside / "hooks.json", root / "hooks" / "hooks.json")
    plugin = load(root)
    assert (plugin.hooks, problems_of(plugin)) == (
        [], [(at, "error", "file leaves the plugin root through a symlink; it is ignored")])


# --- bounds ----------------------------------------------------------------------------------

def test_a_folder_past_the_entry_bound_is_a_warning_naming_it(tree, monkeypatch):
    monkeypatch.setattr(paths, "MAX_ENTRIES", 5)
    root = tree({f"commands/c{i}.md": "C\n" for i in range(6)}).resolve()
    plugin = load(root)
    assert (plugin.commands, problems_of(plugin)) == (
        [], [(root / "commands", "warning", "more than 5 entries to walk; this folder and the rest are not loaded")])


def test_a_folder_past_the_depth_bound_is_a_warning_naming_it(tree, monkeypatch):
    monkeypatch.setattr(paths, "MAX_DEPTH", 2)
    root = tree({"commands/a/one.md": "1\n", "commands/a/b/two.md": "2\n", "commands/a/b/c/three.md": "3\n"}).resolve()
    plugin = load(root)
    assert (sorted(c.name for c in plugin.commands), problems_of(plugin)) == (
        ["a:b:two", "a:one"], [(root / "commands/a/b/c", "warning", "folder is more than 2 folders deep; it is not loaded")])


# --- unreadable entries ----------------------------------------------------------------------

def test_an_unreadable_folder_is_a_warning_and_the_rest_loads(tree, monkeypatch):
    # Tests run as root, where chmod 000 does not deny reads: the denial is simulated.
    root = tree({"commands/ok.md": "Fine.\n", "commands/locked/hidden.md": "H\n"}).resolve()
    locked = root / "commands" / "locked"
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    plugin = load(root)
    assert ([c.name for c in plugin.commands], problems_of(plugin)) == (
        ["ok"], [(locked, "warning", "cannot read folder: Permission denied; it is skipped")])


def test_an_unreadable_command_file_is_a_warning(tree, monkeypatch):
    root = tree({"commands/ok.md": "Fine.\n", "commands/locked.md": "L\n"}).resolve()
    locked = root / "commands" / "locked.md"
    real_open = pathlib.Path.open

    def open_(self, *args, **kwargs):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", open_)
    plugin = load(root)
    assert ([c.name for c in plugin.commands], problems_of(plugin)) == (
        ["ok"], [(locked, "warning", "cannot read file: Permission denied")])


def test_an_unreadable_folder_in_a_folder_of_plugins_is_a_warning_and_the_rest_loads(tree, monkeypatch):
    folder = tree({"good/commands/a.md": "A\n", "locked/commands/b.md": "B\n"}).resolve()
    locked = folder / "locked"
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    plugins = finished(lambda: discover(None, Settings(), [folder], include_bundled=False))
    assert ([p.name for p in plugins.plugins], [(p.path, p.severity.value, p.message) for p in plugins.all_problems()]) == (
        ["good"], [(locked, "warning", "cannot read plugin folder: Permission denied; it is skipped")])


def test_a_folder_of_plugins_past_the_entry_bound_is_a_warning_naming_it(tree, monkeypatch):
    monkeypatch.setattr(paths, "MAX_ENTRIES", 2)
    folder = tree({f"p{i}/commands/a.md": "A\n" for i in range(3)}).resolve()
    plugins = finished(lambda: discover(None, Settings(), [folder], include_bundled=False))
    assert (plugins.plugins, [(p.path, p.severity.value, p.message) for p in plugins.all_problems()]) == (
        [], [(folder, "warning", "more than 2 entries to walk; this folder and the rest are not loaded")])


# --- the command line ------------------------------------------------------------------------

def test_plugins_list_in_a_workspace_linking_to_the_filesystem_root_exits_0_without_a_traceback(tmp_path):
    workspace = tmp_path / "ws"
    (workspace / ".claude" / "commands").mkdir(parents=True)
    (workspace / ".claude" / "commands" / "hello.md").write_text("Say hello.\n")
    link("/", workspace / ".claude" / "commands" / "root")
    env = dict(os.environ, SKILLWAY_CONFIG_DIR=str(tmp_path / "config"), SKILLWAY_DATA_DIR=str(tmp_path / "data"),
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("SKILLWAY_PLUGIN_DIRS", None)
    env.pop("ANTHROPIC_API_KEY", None)
    result = subprocess.run([sys.executable, "-m", "skillway", "plugins", "list", "--cwd", str(workspace)],
                            check=False, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert (result.returncode, "Traceback" in result.stderr) == (0, False), result.stderr
