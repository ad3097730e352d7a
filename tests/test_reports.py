"""Reports are written under `.skillway/reports/`, which git is told to ignore."""

from skillway.core.reports import write_report
from tests.ship.helpers import git, make_repo


def test_a_report_is_written_with_its_title(tmp_path):
    report = write_report(tmp_path, "explain", "Explain app.py", "It prints.\n")
    assert report.parent == tmp_path / ".skillway" / "reports"
    assert report.read_text() == "# Explain app.py\n\nIt prints.\n"

def test_git_does_not_see_reports(tmp_path):
    repo = make_repo(tmp_path / "repo")
    write_report(repo, "ship", "/ship decision", "## Ship Decision: GO\n")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""

def test_a_gitignore_the_user_wrote_there_is_kept(tmp_path):
    ignore = tmp_path / ".skillway" / "reports" / ".gitignore"
    ignore.parent.mkdir(parents=True)
    ignore.write_text("*.md\n")
    write_report(tmp_path, "ship", "t", "x")
    assert ignore.read_text() == "*.md\n"
