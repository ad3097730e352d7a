"""Permission rules such as `Bash(git diff:*)`, `Read`, `Edit(src/**)`, as Claude Code writes them."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

_RULE = re.compile(r"^(?P<tool>[A-Za-z_][\w-]*)(?:\((?P<spec>.*)\))?$")


@dataclass(frozen=True)
class Rule:
    tool: str
    spec: str | None  # None: every use of the tool

    @classmethod
    def parse(cls, text: str) -> Rule | None:
        match = _RULE.match(text.strip())
        return cls(match["tool"], match["spec"]) if match else None

    def allows(self, tool: str, subject: str | None) -> bool:
        """`subject`: the command for Bash, the path for file tools, None when the tool has none."""
        if tool != self.tool and not (self.tool in ("Agent", "Task") and tool in ("Agent", "Task")):
            return False
        if self.spec is None or self.spec in ("", "*"):
            return True
        if subject is None:
            return False
        if tool == "Bash":
            if self.spec.endswith(":*"):  # a command prefix: `git diff:*` allows `git diff --stat`
                prefix = self.spec[:-2]
                return subject == prefix or subject.startswith(prefix + " ")
            return subject.strip() == self.spec.strip()
        return fnmatch.fnmatch(subject, self.spec)


def parse_rules(entries: tuple[str, ...] | list[str]) -> list[Rule]:
    return [rule for rule in (Rule.parse(entry) for entry in entries) if rule is not None]


def allowed(rules: list[Rule], tool: str, subject: str | None = None) -> bool:
    return any(rule.allows(tool, subject) for rule in rules)
