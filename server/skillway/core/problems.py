"""Problems found while loading plugin files: one shape for the CLI, the validator and the editor."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem in a file. `line` and `column` are 1-based; 1:1 when no better place is known.

    `publishing`: a rule for publishing (the Agent Skills spec, the marketplace's submission rules)
    that Claude Code does not enforce when it loads a plugin. Loading, it is a warning and the item
    loads; `plugins validate --strict` makes it an error, for authors who publish."""

    path: Path
    line: int
    column: int
    severity: Severity
    message: str
    publishing: bool = False

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity.value}: {self.message}"

    def to_json(self) -> dict:
        shown = {
            "path": str(self.path),
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "message": self.message,
        }
        return shown | ({"publishing": True} if self.publishing else {})

    def strict(self) -> Problem:
        """This problem as `--strict` sees it: a publishing rule broken is an error."""
        return Problem(self.path, self.line, self.column, Severity.ERROR, self.message, True) if self.publishing else self


def error(path: Path, message: str, line: int = 1, column: int = 1) -> Problem:
    return Problem(path, line, column, Severity.ERROR, message)


def warning(path: Path, message: str, line: int = 1, column: int = 1) -> Problem:
    return Problem(path, line, column, Severity.WARNING, message)


def has_error(problems: list[Problem]) -> bool:
    return any(p.is_error for p in problems)
