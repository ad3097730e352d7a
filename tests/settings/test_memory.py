"""Memory (CLAUDE.md): which files are read, in which order, and how `@path` imports expand, as
Claude Code 2.1.328 reads them; and skillway's limits (home and workspace only, no secrets, trust)."""

from pathlib import Path

import pytest

from skillway.settings.memory import MAX_FILE_CHARS, Scope, load_memory
from tests.conftest import write_tree


@pytest.fixture
def home(tmp_path) -> Path:
    return (tmp_path / "home").resolve()


@pytest.fixture
def workspace(tmp_path) -> Path:
    return (tmp_path / "ws").resolve()


def read(workspace: Path, home: Path, *, trusted: bool = False):
    return load_memory(workspace, trusted=trusted, home=home, user_dir=home / ".claude")


def texts(memory) -> list[str]:
    return [file.text for file in memory.files]


def messages(memory) -> list[str]:
    return [f"{p.path.name}:{p.line}: {p.message}" for p in memory.problems]


def test_the_files_come_in_claude_codes_order_each_with_its_scope(workspace, home):
    write_tree(home, {".claude/CLAUDE.md": "user", ".claude/rules/style.md": "user rule"})
    write_tree(workspace, {"CLAUDE.md": "project", ".claude/CLAUDE.md": "dot claude",
                           ".claude/rules/b.md": "rule b", ".claude/rules/a/x.md": "rule a/x", "CLAUDE.local.md": "local"})
    memory = read(workspace, home)
    assert [(f.text, f.scope) for f in memory.files] == [
        ("user", Scope.USER), ("user rule", Scope.USER), ("project", Scope.PROJECT), ("dot claude", Scope.PROJECT),
        ("rule a/x", Scope.PROJECT), ("rule b", Scope.PROJECT), ("local", Scope.LOCAL)]


def test_an_import_follows_the_file_that_imports_it(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "Read @docs/style.md first.\nlast line", "docs/style.md": "tabs, not spaces",
                           "CLAUDE.local.md": "local"})
    memory = read(workspace, home)
    assert [(f.path, f.text) for f in memory.files] == [
        (workspace / "CLAUDE.md", "Read @docs/style.md first.\nlast line"),
        (workspace / "docs/style.md", "tabs, not spaces"), (workspace / "CLAUDE.local.md", "local")]


def test_an_import_is_relative_to_the_file_holding_it(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@docs/a.md", "docs/a.md": "@sub/b.md", "docs/sub/b.md": "b"})
    assert texts(read(workspace, home)) == ["@docs/a.md", "@sub/b.md", "b"]


def test_imports_nest_five_levels_deep_and_no_deeper(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@x1.md", **{f"x{n}.md": f"@x{n + 1}.md" for n in range(1, 6)}})
    memory = read(workspace, home)
    assert texts(memory) == ["@x1.md", "@x2.md", "@x3.md", "@x4.md", "@x5.md"]
    assert messages(memory) == ['x4.md:1: import "@x5.md" is more than 5 levels of imports deep; it is not read']


def test_a_cycle_reads_each_file_once(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@a.md", "a.md": "@b.md", "b.md": "@a.md\n@CLAUDE.md"})
    memory = read(workspace, home)
    assert (texts(memory), memory.problems) == (["@a.md", "@b.md", "@a.md\n@CLAUDE.md"], [])


def test_a_file_imported_twice_is_read_the_first_time(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@a.md\n@b.md", "a.md": "@shared.md", "b.md": "@shared.md", "shared.md": "s"})
    assert texts(read(workspace, home)) == ["@a.md\n@b.md", "@shared.md", "s", "@shared.md"]


def test_an_import_in_a_fenced_code_block_is_text(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "```\n@a.md\n```\n~~~\n@b.md\n~~~\n", "a.md": "A", "b.md": "B"})
    assert texts(read(workspace, home)) == ["```\n@a.md\n```\n~~~\n@b.md\n~~~"]


def test_an_import_in_a_code_span_is_text(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "Write `@a.md` to import a file.", "a.md": "A"})
    assert texts(read(workspace, home)) == ["Write `@a.md` to import a file."]


def test_an_import_needs_white_space_or_the_line_start_before_it(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "mail me@a.md\n(@a.md)\n\\@a.md\n    @b.md", "a.md": "A", "b.md": "B"})
    assert texts(read(workspace, home)) == ["mail me@a.md\n(@a.md)\n\\@a.md\n    @b.md", "B"]


def test_a_backslash_escapes_a_space_in_an_import(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@my\\ notes.md", "my notes.md": "N"})
    assert texts(read(workspace, home)) == ["@my\\ notes.md", "N"]


def test_a_missing_import_is_skipped_without_a_word(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "Use @nowhere.md and @scope/package."})
    memory = read(workspace, home)
    assert (texts(memory), memory.problems) == (["Use @nowhere.md and @scope/package."], [])


def test_only_text_files_are_imported(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@logo.png\n@Makefile\n@docs", "logo.png": b"\x89PNG\r\n", "Makefile": "all:",
                           "docs/x.md": "x"})
    assert texts(read(workspace, home)) == ["@logo.png\n@Makefile\n@docs", "all:"]


def test_an_import_leaving_the_workspace_and_home_is_refused_with_a_warning(workspace, home, tmp_path):
    write_tree(tmp_path, {"elsewhere/notes.md": "outside"})
    write_tree(workspace, {"CLAUDE.md": "first\n@../elsewhere/notes.md"})
    memory = read(workspace, home, trusted=True)
    assert texts(memory) == ["first\n@../elsewhere/notes.md"]
    assert messages(memory) == ['CLAUDE.md:2: import "@../elsewhere/notes.md" leaves the workspace and the home '
                                "folder; it is not read"]


def test_a_symlink_leaving_the_workspace_and_home_is_refused(workspace, home, tmp_path):
    write_tree(tmp_path, {"elsewhere/notes.md": "outside"})
    write_tree(workspace, {"CLAUDE.md": "@notes.md"})
    (workspace / "notes.md").symlink_to(tmp_path / "elsewhere/notes.md")
    memory = read(workspace, home, trusted=True)
    assert texts(memory) == ["@notes.md"]
    assert messages(memory) == ['CLAUDE.md:1: import "@notes.md" leaves the workspace and the home folder; it is not read']


def test_a_secret_looking_file_is_never_imported(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "@.env\n@deploy/id_rsa", ".env": "KEY=1", "deploy/id_rsa": "key"})
    memory = read(workspace, home)
    assert texts(memory) == ["@.env\n@deploy/id_rsa"]
    assert messages(memory) == ['CLAUDE.md:1: import "@.env" looks like a secret file; it is not read',
                                'CLAUDE.md:2: import "@deploy/id_rsa" looks like a secret file; it is not read']


def test_the_project_reads_from_home_only_once_the_workspace_is_trusted(workspace, home):
    write_tree(home, {"notes/mine.md": "my notes"})
    write_tree(workspace, {"CLAUDE.md": "@~/notes/mine.md"})
    untrusted, trusted = read(workspace, home), read(workspace, home, trusted=True)
    assert (texts(untrusted), untrusted.held_back) == (["@~/notes/mine.md"], 1)
    assert messages(untrusted) == ['CLAUDE.md:1: import "@~/notes/mine.md" reads outside the workspace, which '
                                   "waits until you trust the workspace (`skillway trust`)"]
    assert (texts(trusted), trusted.held_back, trusted.problems) == (["@~/notes/mine.md", "my notes"], 0, [])


def test_the_users_memory_imports_from_home_at_once(workspace, home):
    write_tree(home, {".claude/CLAUDE.md": "@~/notes/mine.md", "notes/mine.md": "my notes"})
    assert texts(read(workspace, home)) == ["@~/notes/mine.md", "my notes"]


def test_frontmatter_and_whole_line_html_comments_are_dropped(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "---\ntitle: x\n---\none\n<!-- a note\n@a.md\n-->\ntwo <!-- kept -->\n```\n<!-- code -->\n```",
                           "a.md": "A"})
    assert texts(read(workspace, home)) == ["one\ntwo <!-- kept -->\n```\n<!-- code -->\n```"]


def test_a_rule_for_some_paths_is_not_read_up_front(workspace, home):
    write_tree(workspace, {".claude/rules/api.md": "---\npaths:\n  - src/api/**\n---\nAPI rule",
                           ".claude/rules/all.md": "---\ndescription: always\n---\nAlways"})
    assert texts(read(workspace, home)) == ["Always"]


def test_parent_folders_up_to_home_are_read_highest_first(home):
    workspace = home / "code" / "app"
    write_tree(home, {"CLAUDE.md": "home", "code/CLAUDE.md": "code", "code/app/CLAUDE.md": "app"})
    assert texts(read(workspace, home)) == ["home", "code", "app"]


def test_parent_folders_outside_home_are_not_read(workspace, home, tmp_path):
    write_tree(tmp_path, {"CLAUDE.md": "above"})
    write_tree(workspace, {"CLAUDE.md": "app"})
    assert texts(read(workspace, home)) == ["app"]


def test_a_large_file_is_cut_with_a_note(workspace, home):
    write_tree(workspace, {"CLAUDE.md": "x" * (MAX_FILE_CHARS + 10)})
    memory = read(workspace, home)
    assert texts(memory) == ["x" * MAX_FILE_CHARS + "\n[skillway cut this file here: its limit is reached]"]
    assert messages(memory) == [f"CLAUDE.md:1: memory file cut at {MAX_FILE_CHARS:,} characters (its limit)"]
