"""A plugin's `userConfig` values, where Claude Code keeps what the user set: `pluginConfigs[id].options`
in the user's `~/.claude/settings.json`, and sensitive ones under `pluginSecrets[id]` in
`~/.claude/.credentials.json` (a workspace's settings are not read: they could plant values).

`${user_config.KEY}` is filled as Claude Code 2.1.328 fills it: in command, skill and agent text
with the value (a sensitive one never: a note says so; an unset one stays as written), in a hook's
exec-form arguments with any value, and in the hook's environment as `CLAUDE_PLUGIN_OPTION_KEY`.
A default declared in plugin.json is not a value the user set, and is not used there either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER = re.compile(r"\$\{user_config\.([A-Za-z0-9_-]+)\}")
SETTINGS_FILE = "settings.json"
CREDENTIALS_FILE = ".credentials.json"


class UnsetOption(Exception):
    """A hook's argument names an option the user has not set: the hook cannot run."""


@dataclass(frozen=True)
class PluginOptions:
    values: Mapping[str, str] = field(default_factory=dict)
    sensitive: frozenset[str] = frozenset()

    def in_text(self, text: str) -> str:
        """`text` (a body the model reads) with the options filled in; sensitive ones never."""
        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in self.sensitive:
                return f"[sensitive option '{key}' is not available in text the model reads]"
            return self.values.get(key, match.group(0))
        return PLACEHOLDER.sub(fill, text)

    def in_argument(self, text: str) -> str:
        """A hook's exec-form argument with the options filled in, sensitive ones too."""
        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in self.values:
                raise UnsetOption(f'the plugin option "{key}" is not set (pluginConfigs in ~/.claude/settings.json)')
            return self.values[key]
        return PLACEHOLDER.sub(fill, text)

    def environment(self) -> dict[str, str]:
        """The options for a hook's environment: `CLAUDE_PLUGIN_OPTION_<KEY>`."""
        return {"CLAUDE_PLUGIN_OPTION_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper(): value
                for key, value in self.values.items()}


def names_an_option(text: str) -> bool:
    return PLACEHOLDER.search(text) is not None


@dataclass(frozen=True)
class StoredOptions:
    """Everything the user's Claude Code folder holds for plugins' options, read once."""

    configs: Mapping[str, object] = field(default_factory=dict)  # pluginConfigs
    secrets: Mapping[str, object] = field(default_factory=dict)  # pluginSecrets

    @classmethod
    def read(cls, user_dir: Path | None) -> StoredOptions:
        if user_dir is None:
            return cls()
        configs = _json_object(user_dir / SETTINGS_FILE).get("pluginConfigs")
        secrets = _json_object(user_dir / CREDENTIALS_FILE).get("pluginSecrets")
        return cls(configs if isinstance(configs, dict) else {}, secrets if isinstance(secrets, dict) else {})

    def for_plugin(self, name: str, marketplace: str | None, declared: Mapping[str, object]) -> PluginOptions:
        """The options `declared` in a plugin's userConfig that the user set for it (its id is
        `name@marketplace`, `name@inline` for a plugin folder given directly, or just `name`)."""
        ids = (f"{name}@{marketplace}" if marketplace else f"{name}@inline", name)
        values: dict[str, str] = {}
        for source in (self.configs, self.secrets):
            for plugin_id in reversed(ids):  # the full id wins over the bare name
                entry = source.get(plugin_id)
                found = entry.get("options", entry) if isinstance(entry, dict) and source is self.configs else entry
                if isinstance(found, dict):
                    values |= {key: _text(value) for key, value in found.items()
                               if key in declared and isinstance(value, str | int | float | bool)}
        sensitive = frozenset(key for key, spec in declared.items() if isinstance(spec, dict) and spec.get("sensitive") is True)
        return PluginOptions(values, sensitive)


def _text(value: str | int | float | bool) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _json_object(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
