"""Names of commands, skills and agents across plugins.

Everything is reachable by its qualified name (`plugin:name`, `plugin:frontend:component`) and by
any shorter colon-separated suffix of it (`component`) when that suffix is unique. Where a skill and
a command answer to the same name, the skill wins. The items of the user's `~/.claude/` and of the
workspace's `.claude/` have bare qualified names, so they own their bare name; where both have an
item of one kind and name, the user's command or skill wins and the workspace's agent, as in Claude
Code 2.1.328 (the other one is not reachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from skillway.plugins.model import Agent, Command, Plugin, Skill, Source

Item = TypeVar("Item", Command | Skill, Agent, Command | Skill | Agent)


@dataclass(frozen=True)
class Entry(Generic[Item]):
    qualified: str
    plugin: Plugin
    item: Item

    @property
    def kind(self) -> str:
        return type(self.item).__name__.lower()


class UnknownName(LookupError):
    """No such name, or several entries answer to it: the message says which."""


class Catalog:
    def __init__(self, plugins: list[Plugin]) -> None:
        self.commands: list[Entry[Command | Skill]] = []  # what a user can run as /name: user-invocable skills, then commands
        self.agents: list[Entry[Agent]] = []
        bare: set[tuple[str, type]] = set()  # (name, kind) of the bare commands and skills so far
        for plugin in plugins:
            if not plugin.loaded:
                continue
            skill_names = set()
            for skill in plugin.skills:
                if skill.user_invocable and (plugin.namespaced or (skill.name, Skill) not in bare):
                    self.commands.append(Entry(plugin.qualified(skill.name), plugin, skill))
                skill_names.add(skill.name)
            for command in plugin.commands:
                if command.name not in skill_names and (plugin.namespaced or (command.name, Command) not in bare):
                    self.commands.append(Entry(plugin.qualified(command.name), plugin, command))
            if not plugin.namespaced:
                bare |= {(skill.name, Skill) for skill in plugin.skills} | {(c.name, Command) for c in plugin.commands}
            for agent in plugin.agents:
                entry = Entry(plugin.qualified(agent.name), plugin, agent)
                twin = next((e for e in self.agents if not plugin.namespaced and not e.plugin.namespaced
                             and e.qualified == entry.qualified), None)
                if twin is None:
                    self.agents.append(entry)
                elif plugin.source in (Source.WORKSPACE, Source.COMMAND_LINE):  # over the user's; --agents over all
                    self.agents[self.agents.index(twin)] = entry

        # What the model may run with the Skill tool: commands and skills (user-invocable or not)
        # without disable-model-invocation, as Claude Code lists them to the model.
        runnable = {id(found.item): found for found in self.commands}
        self.model_invocable: list[Entry[Command | Skill]] = []
        for plugin in plugins:
            items: list[Command | Skill] = [*plugin.skills, *plugin.commands] if plugin.loaded else []
            for item in items:
                invocable = runnable.get(id(item))
                if invocable is None and isinstance(item, Skill) and not item.user_invocable:
                    invocable = Entry(plugin.qualified(item.name), plugin, item)
                if invocable is not None and not item.disable_model_invocation:
                    self.model_invocable.append(invocable)

    def resolve_command(self, name: str) -> Entry[Command | Skill]:
        return _resolve(self.commands, name.removeprefix("/"), "command")

    def resolve_for_model(self, name: str) -> Entry[Command | Skill]:
        """What a Skill call names: a skill or command the model may invoke."""
        return _resolve(self.model_invocable, name.removeprefix("/"), "skill")

    def resolve_agent(self, name: str) -> Entry[Agent]:
        return _resolve(self.agents, name, "agent")


def _resolve(entries: list[Entry[Item]], name: str, what: str) -> Entry[Item]:
    exact = [e for e in entries if e.qualified == name]
    if exact:
        return _prefer_skill(exact)
    # A frontmatter name that differs from the file's is another name: `plugin:alias`, or bare `alias`.
    aliased = [e for e in entries if name in _aliases(e)]
    if len(aliased) == 1:
        return aliased[0]
    wanted = name.split(":")
    candidates = [e for e in entries if e.qualified.split(":")[-len(wanted):] == wanted]
    if not candidates:
        raise UnknownName(f'no {what} named "{name}"')
    skills = [e for e in candidates if isinstance(e.item, Skill)]
    candidates = skills or candidates
    if len(candidates) > 1:
        names = ", ".join(sorted(e.qualified for e in candidates))
        raise UnknownName(f'"{name}" is ambiguous: {names}; use the full name')
    return candidates[0]


def _prefer_skill(entries: list[Entry[Item]]) -> Entry[Item]:
    return next((e for e in entries if isinstance(e.item, Skill)), entries[0])


def _aliases(entry: Entry) -> tuple[str, ...]:
    alias = getattr(entry.item, "alias", None)
    return (alias, entry.plugin.qualified(alias)) if isinstance(alias, str) else ()
