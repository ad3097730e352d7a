"""Trust is per workspace and per hook configuration."""

from pathlib import Path

from skillway.plugins.discovery import discover
from skillway.plugins.fingerprint import hook_fingerprint
from skillway.settings import Settings
from skillway.settings.trust import TrustStore

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_nothing_is_trusted_at_first(tmp_path):
    assert TrustStore(tmp_path).is_trusted(tmp_path, "abc") is False


def test_trusting_stores_the_workspace_with_its_fingerprint(tmp_path):
    store = TrustStore(tmp_path / "data")
    store.trust(tmp_path, "abc")
    assert store.is_trusted(tmp_path, "abc") is True
    assert store.is_trusted(tmp_path, "changed") is False


def test_revoking_forgets_the_workspace(tmp_path):
    store = TrustStore(tmp_path / "data")
    store.trust(tmp_path, "abc")
    assert store.revoke(tmp_path) is True
    assert (store.is_trusted(tmp_path, "abc"), store.revoke(tmp_path)) == (False, False)


def test_a_broken_trust_file_trusts_nothing_and_is_replaced_on_the_next_trust(tmp_path):
    (tmp_path / "trust.json").write_text("{not json")
    store = TrustStore(tmp_path)
    assert store.is_trusted(tmp_path, "abc") is False
    store.trust(tmp_path, "abc")
    assert store.is_trusted(tmp_path, "abc") is True


def test_fingerprint_covers_only_the_workspace_own_hooks(tree):
    workspace = FIXTURES / "workspace"
    alone = discover(workspace, Settings(), include_bundled=False).plugins
    with_more = discover(workspace, Settings(), [FIXTURES / "plugins/devtools"]).plugins
    assert hook_fingerprint(alone) == hook_fingerprint(with_more)


def test_fingerprint_changes_when_a_workspace_hook_changes(tree):
    settings = '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "%s"}]}]}}'
    before = tree({".claude/settings.json": settings % "echo one"})
    after = tree({".claude/settings.json": settings % "echo two"})
    fingerprints = [hook_fingerprint(discover(w, Settings(), include_bundled=False).plugins) for w in (before, after)]
    assert fingerprints[0] != fingerprints[1]
