"""Every hook of a session, merged from all plugins and settings files, ready to be matched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skillway.core.matchers import Matcher, compile_matcher
from skillway.plugins.model import HookEvent, HookGroup, HookHandler, Plugin, Skill

# Events whose matcher is ignored: every group of the event applies.
UNMATCHED_EVENTS = frozenset({HookEvent.USER_PROMPT_SUBMIT, HookEvent.STOP})


@dataclass(frozen=True)
class RegisteredHook:
    event: HookEvent | str
    matcher: Matcher
    handler: HookHandler
    plugin: Plugin
    origin: str  # the file that declared it: identical handlers from one origin run once
    # None: it fires for every caller. Frontmatter hooks are narrower: a skill's (MAIN) fire outside
    # sub-agents; an agent's fire for that running agent's own calls (its id).
    scope: str | None = None

    @property
    def identity(self) -> tuple:
        h = self.handler
        return (self.origin, h.type, h.command, h.args, h.shell, h.prompt, h.url)

    @property
    def label(self) -> str:
        handler = self.handler
        text = handler.command or handler.url or handler.prompt or (f"{handler.server}/{handler.tool}" if handler.tool else "")
        if self.handler.args:
            text += " " + " ".join(self.handler.args)
        return f"{self.plugin.name}: {text}"


MAIN = "main"  # the scope of a skill's hooks: the conversation, not its sub-agents


class HookRegistry:
    def __init__(self, plugins: list[Plugin]) -> None:
        self.hooks: list[RegisteredHook] = []
        self._activated: set[Path] = set()  # skills whose hooks are registered
        for plugin in plugins:
            if not plugin.loaded:
                continue
            for group in plugin.hooks:
                matcher = compile_matcher(group.matcher)  # validated at load: cannot fail here
                for handler in group.handlers:
                    self.hooks.append(RegisteredHook(group.event, matcher, handler, plugin, str(group.path)))

    def activate_skill(self, plugin: Plugin, skill: Skill) -> None:
        """A skill was invoked: its frontmatter hooks fire from now on, for the rest of the session
        (outside sub-agents), as Claude Code registers them; invoking it again adds nothing."""
        if skill.hooks and skill.path not in self._activated:
            self._activated.add(skill.path)
            self.add_frontmatter(plugin, skill.hooks, MAIN)

    def add_frontmatter(self, plugin: Plugin, groups: tuple[HookGroup, ...], scope: str,
                        *, stop_as: HookEvent | None = None) -> list[RegisteredHook]:
        """Register a skill's or agent's hooks for `scope`; an agent's Stop hooks fire as `stop_as`
        (SubagentStop: that is how an agent's turn ends). Returns them, to remove when the scope ends."""
        added = [RegisteredHook(stop_as if stop_as and group.event == HookEvent.STOP else group.event,
                                compile_matcher(group.matcher), handler, plugin, str(group.path), scope)
                 for group in groups for handler in group.handlers]
        self.hooks += added
        return added

    def remove(self, hooks: list[RegisteredHook]) -> None:
        gone = {id(hook) for hook in hooks}
        self.hooks = [hook for hook in self.hooks if id(hook) not in gone]

    def matching(self, event: HookEvent | str, value: str | None = None, *,
                 agent_id: str | None = None) -> list[RegisteredHook]:
        """The hooks for `event` whose matcher accepts `value`, identical handlers once; `agent_id`:
        the sub-agent the event is from (None: the conversation itself)."""
        seen: set[tuple] = set()
        selected = []
        for hook in self.hooks:
            if hook.event != event or hook.scope not in (None, agent_id or MAIN):
                continue
            if event not in UNMATCHED_EVENTS and not hook.matcher.matches(value):
                continue
            if hook.identity in seen:
                continue
            seen.add(hook.identity)
            selected.append(hook)
        return selected
