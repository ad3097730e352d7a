"""The validator's problems for the text an editor holds (unsaved), at the place of each offending key.

The same checks and messages as `skillway plugins validate`, on this one document only: no plugin is
loaded. A manifest in a plugin (`.claude-plugin/plugin.json`, `manifest/plugin.json`) also gets the
checks of the paths it declares, against the plugin folder on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path

from skillway.authoring.kinds import document_kind
from skillway.core.located_json import LocatedJson
from skillway.core.problems import Problem, error, has_error
from skillway.plugins import hooks_config
from skillway.plugins.agents import load_agent
from skillway.plugins.commands import load_command
from skillway.plugins.loader import declared_paths, manifest_hooks
from skillway.plugins.manifest import load_manifest
from skillway.plugins.marketplace import load_marketplace
from skillway.plugins.skills import load_skill
from skillway.plugins.validate import in_plugin_manifest_folder

log = logging.getLogger(__name__)


def diagnose(path: Path, text: str) -> list[Problem]:
    """The problems of `text`, the current content of plugin file `path` ([] for other files).

    Never raises: text that does not parse is a problem at the place of the syntax error.
    """
    path = Path(path)
    try:
        kind = document_kind(path)
        if kind == "manifest":
            return _manifest(path, text)
        if kind == "marketplace":
            return load_marketplace(path, text).problems
        if kind == "settings":
            return hooks_config.load_settings_hooks(path, text)[1]
        if kind == "hooks":
            return hooks_config.load_hooks_file(path, text)[1]
        if kind == "skill":
            return load_skill(path, text=text)[1]
        if kind == "agent":
            return load_agent(path, text)[1]
        if kind == "command":
            return load_command(path, path.stem, text)[1]
        return []
    except Exception as exc:  # an editor must never lose its diagnostics to a bug here
        log.exception("checking %s failed", path)
        return [error(path, f"skillway could not check this file: {type(exc).__name__}: {exc}")]


def _manifest(path: Path, text: str) -> list[Problem]:
    located, problems = load_manifest(path, text)
    if located is None or has_error(problems) or not in_plugin_manifest_folder(path):
        return problems  # a manifest with errors loads nothing, so its paths are not looked at
    return problems + _declared_paths(path, located)


def _declared_paths(path: Path, located: LocatedJson) -> list[Problem]:
    """What loading the plugin says about the manifest's own entries: the paths it declares
    (commands, skills, agents, hooks) and its inline hooks."""
    root = path.parent.parent.resolve()
    manifest = located.value
    assert isinstance(manifest, dict)  # load_manifest refuses anything but an object
    problems: list[Problem] = []
    for key in ("commands", "skills", "agents"):
        problems += declared_paths(root, manifest, key, path, located.position)[1]
    return problems + manifest_hooks(root, manifest, path, located.position)[2]
