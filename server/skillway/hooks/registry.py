"""Every hook of a session, merged from all plugins and settings files, ready to be matched."""

from __future__ import annotations

from dataclasses import dataclass

from skillway.core.matchers import Matcher, compile_matcher
from skillway.plugins.model import HookEvent, HookHandler, Plugin

# Events whose matcher is ignored: every group of the event applies.
UNMATCHED_EVENTS = frozenset({HookEvent.USER_PROMPT_SUBMIT, HookEvent.STOP})


@dataclass(frozen=True)
class RegisteredHook:
    event: HookEvent | str
    matcher: Matcher
    handler: HookHandler
    plugin: Plugin
    origin: str  # the file that declared it: identical handlers from one origin run once

    @property
    def identity(self) -> tuple:
        h = self.handler
        return (self.origin, h.type, h.command, h.args, h.shell, h.prompt, h.url)

    @property
    def label(self) -> str:
        text = self.handler.command or self.handler.url or self.handler.prompt or ""
        if self.handler.args:
            text += " " + " ".join(self.handler.args)
        return f"{self.plugin.name}: {text}"


class HookRegistry:
    def __init__(self, plugins: list[Plugin]) -> None:
        self.hooks: list[RegisteredHook] = []
        for plugin in plugins:
            if not plugin.loaded:
                continue
            for group in plugin.hooks:
                matcher = compile_matcher(group.matcher)  # validated at load: cannot fail here
                for handler in group.handlers:
                    self.hooks.append(RegisteredHook(group.event, matcher, handler, plugin, str(group.path)))

    def matching(self, event: HookEvent | str, value: str | None = None) -> list[RegisteredHook]:
        """The hooks for `event` whose matcher accepts `value`, identical handlers once."""
        seen: set[tuple] = set()
        selected = []
        for hook in self.hooks:
            if hook.event != event:
                continue
            if event not in UNMATCHED_EVENTS and not hook.matcher.matches(value):
                continue
            if hook.identity in seen:
                continue
            seen.add(hook.identity)
            selected.append(hook)
        return selected
