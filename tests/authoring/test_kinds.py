"""Which plugin file a document is: the same rules as `skillway plugins validate`."""

from pathlib import Path

import pytest

from skillway.authoring.kinds import document_kind


@pytest.mark.parametrize(
    "path, kind",
    [
        ("tools/.claude-plugin/plugin.json", "manifest"),
        ("tools/manifest/plugin.json", "manifest"),
        ("somewhere/else/plugin.json", "manifest"),
        ("market/.claude-plugin/marketplace.json", "marketplace"),
        ("tools/hooks/hooks.json", "hooks"),
        ("tools/hooks/more.json", "hooks"),
        ("tools/config/hooks.json", "hooks"),
        ("project/.claude/settings.json", "settings"),
        ("project/.claude/settings.local.json", "settings"),
        ("tools/skills/fmt/SKILL.md", "skill"),
        ("tools/SKILL.md", "skill"),
        ("tools/commands/ship.md", "command"),
        ("tools/commands/frontend/component.md", "command"),
        ("tools/agents/reviewer.md", "agent"),
        ("tools/agents/team/lead.md", "agent"),
    ],
)
def test_kind_of_each_plugin_file(path, kind):
    assert document_kind(Path(path)) == kind


@pytest.mark.parametrize(
    "path",
    ["tools/README.md", "tools/src/main.py", "tools/settings.json", "tools/config/data.json", "tools/commands/x.txt"],
)
def test_other_files_have_no_kind(path):
    assert document_kind(Path(path)) is None
