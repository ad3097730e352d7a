"""What /ship judges: the change since the merge base (commits, staged, unstaged and new files), its
hash, and the skip predicate at each of its boundaries."""

import pytest

from skillway.ship import rules
from skillway.ship.rules import ChangeError
from tests.ship.helpers import git, lines, make_repo


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo", {"README.md": "a project\n", "src/app.py": "x = 1\n"})


def test_the_change_holds_commits_staged_unstaged_and_new_files(repo):
    git(repo, "checkout", "-qb", "feature")
    (repo / "src/app.py").write_text("x = 2\n")
    git(repo, "commit", "-qam", "two")
    (repo / "README.md").write_text("a project\nstaged\n")
    git(repo, "add", "README.md")
    (repo / "src/app.py").write_text("x = 3\n")
    (repo / "src/new.py").write_text("y = 1\n")
    change = rules.compute_change(repo, "main")
    assert sorted(change.files) == ["README.md", "src/app.py", "src/new.py"]
    assert (change.added, change.removed) == (3, 1)
    assert b"+x = 3" in change.diff and b"+y = 1" in change.diff and b"+staged" in change.diff


def test_computing_the_change_leaves_the_users_index_alone(repo):
    (repo / "src/new.py").write_text("y = 1\n")
    (repo / "README.md").write_text("edited\n")
    before = git(repo, "status", "--porcelain")
    rules.compute_change(repo)
    assert git(repo, "status", "--porcelain") == before == " M README.md\n?? src/new.py\n"


def test_the_hash_follows_the_content_of_the_change(repo):
    (repo / "src/app.py").write_text("x = 2\n")
    first = rules.compute_change(repo).digest
    assert rules.compute_change(repo).digest == first
    (repo / "src/app.py").write_text("x = 3\n")
    assert rules.compute_change(repo).digest != first


def test_ignored_files_are_not_part_of_the_change(repo):
    (repo / ".gitignore").write_text("build/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / "build").mkdir()
    (repo / "build/out.txt").write_text("generated\n")
    assert rules.compute_change(repo).empty


def test_the_default_base_is_the_upstream_then_main(repo, tmp_path):
    git(repo, "checkout", "-qb", "feature")
    assert rules.default_base(repo) == "main"
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-qu", "origin", "feature")
    assert rules.default_base(repo) == "origin/feature"


def test_outside_a_repository_the_change_cannot_be_computed(tmp_path):
    with pytest.raises(ChangeError, match="is not inside a git repository"):
        rules.compute_change(tmp_path)


def test_an_unknown_base_ref_is_named(repo):
    with pytest.raises(ChangeError, match="unknown base ref 'release-9'"):
        rules.compute_change(repo, "release-9")


@pytest.mark.parametrize(("files", "may_skip"), [
    ({"a.py": lines(49)}, True),                             # one file, 49 lines
    ({"a.py": lines(25), "b.py": lines(24)}, True),          # two files, 49 lines
    ({"a.py": lines(50)}, False),                            # 50 lines: too many
    ({"a.py": "x\n", "b.py": "y\n", "c.py": "z\n"}, False),  # three files: too many
    ({}, False),                                             # nothing changed: nothing to skip
])
def test_the_skip_predicate_at_its_boundaries(repo, files, may_skip):
    for name, text in files.items():
        (repo / name).write_text(text)
    assert rules.compute_change(repo).may_skip() is may_skip


@pytest.mark.parametrize("path", ["src/auth/login.py", "billing/invoice.py", "app/data_access.py", "db/queries.py",
                                  "migrations/0002_add.py", "config/app.yaml", "settings.py", ".env.example",
                                  "deploy/secrets.yaml", "certs/server.pem"])
def test_a_small_change_to_a_sensitive_path_may_not_skip(repo, path):
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text("x\n")
    change = rules.compute_change(repo)
    assert (change.may_skip(), change.sensitive_files) == (False, [path])


@pytest.mark.parametrize("path", ["src/author_bio.txt", "docs/environment.md"])
def test_sensitive_words_inside_names_count_too(repo, path):
    # The rule errs on the side of reviewing: "auth" in author, "environment" in a doc.
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text("x\n")
    assert rules.compute_change(repo).may_skip() is False


def test_an_ordinary_small_change_names_no_sensitive_path(repo):
    (repo / "src/app.py").write_text("x = 2\n")
    assert rules.compute_change(repo).sensitive_files == []


def test_a_rename_counts_once_under_its_new_name(repo):
    git(repo, "mv", "src/app.py", "src/main.py")
    change = rules.compute_change(repo)
    assert (change.files, change.lines) == (("src/main.py",), 0)


def test_renaming_a_sensitive_file_counts_as_touching_it(repo):
    (repo / "db").mkdir()
    (repo / "db/0003_drop_users.sql").write_text("DROP TABLE users;\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "migration")
    git(repo, "mv", "db/0003_drop_users.sql", "notes.txt")
    change = rules.compute_change(repo)
    assert (change.files, change.sensitive_files, change.may_skip()) == (("notes.txt",), ["db/0003_drop_users.sql"], False)


def test_a_committed_change_hashes_as_the_working_tree_it_was(repo):
    git(repo, "checkout", "-qb", "feature")
    (repo / "src/app.py").write_text("x = 2\n")
    (repo / "src/new.py").write_text("y = 1\n")
    before = rules.compute_change(repo, "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "work")
    (repo / "README.md").write_text("not committed\n")
    committed = rules.compute_change(repo, "main", commit="HEAD")
    assert (committed.digest, committed.files) == (before.digest, before.files)
