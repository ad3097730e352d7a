"""Marketplaces: local sources load as plugins, remote ones are listed as not installed."""

from pathlib import Path

from skillway.plugins.discovery import discover
from skillway.plugins.marketplace import load_marketplace
from skillway.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_entries_with_local_and_remote_sources():
    market = load_marketplace(FIXTURES / "marketplace/.claude-plugin/marketplace.json")
    assert market.problems == []
    assert [(e.install_id, e.installed) for e in market.entries] == [
        ("alpha@team-tools", True), ("beta@team-tools", True), ("gamma@team-tools", False), ("delta@team-tools", False)]


def test_local_plugins_load_under_their_marketplace():
    plugins = discover(None, Settings(), [FIXTURES / "marketplace"], include_bundled=False)
    assert [(p.name, p.marketplace, len(p.commands), len(p.skills)) for p in plugins.plugins] == [
        ("alpha", "team-tools", 1, 1), ("beta", "team-tools", 1, 0)]


def test_entry_with_strict_false_is_the_whole_definition():
    plugins = discover(None, Settings(), [FIXTURES / "marketplace"], include_bundled=False)
    beta = plugins.find("beta@team-tools")
    assert (beta.manifest_path, beta.description, [c.name for c in beta.commands]) == (None, "Defined entirely here", ["deploy"])


def test_local_source_leaving_the_marketplace_is_refused(tree):
    root = tree({".claude-plugin/marketplace.json": '{"name": "m", "owner": {"name": "o"},\n "plugins": [{"name": "x", "source": "../x"}]}'})
    market = load_marketplace(root / ".claude-plugin/marketplace.json")
    assert market.local == {}
    assert [(p.line, p.message) for p in market.problems] == [(2, 'path "../x" leaves the plugin root')]
    assert market.entries[0].installed is False


def test_missing_owner_and_unknown_source_kind_are_errors(tree):
    root = tree({".claude-plugin/marketplace.json": '{"name": "m",\n "plugins": [{"name": "x", "source": {"source": "svn"}}]}'})
    market = load_marketplace(root / ".claude-plugin/marketplace.json")
    assert [(p.line, p.severity.value, p.message) for p in market.problems] == [
        (1, "error", 'missing required field "owner"'),
        (2, "error", '"plugins[0].source" must be a string or an object, got an object'),
    ]
