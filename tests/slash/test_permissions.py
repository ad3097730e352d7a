"""Permission patterns as commands and settings write them."""

import pytest

from skillway.core.permission_rules import allowed, parse_rules


@pytest.mark.parametrize("rules, tool, subject, expected", [
    (["Bash(git diff:*)"], "Bash", "git diff --stat", True),
    (["Bash(git diff:*)"], "Bash", "git diff", True),
    (["Bash(git diff:*)"], "Bash", "git diffx", False),
    (["Bash(git diff:*)"], "Bash", "rm -rf /", False),
    (["Bash(npm test)"], "Bash", "npm test", True),
    (["Bash(npm test)"], "Bash", "npm test --watch", False),
    (["Bash"], "Bash", "anything at all", True),
    (["Read"], "Read", "src/a.py", True),
    (["Edit(src/**)"], "Edit", "src/app/main.py", True),
    (["Edit(src/**)"], "Edit", "docs/x.md", False),
    (["Task"], "Agent", None, True),
    (["Read", "Grep"], "Write", "a.py", False),
    (["not a (rule"], "Read", "a", False),
])
def test_rules(rules, tool, subject, expected):
    assert allowed(parse_rules(rules), tool, subject) is expected
