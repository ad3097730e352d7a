"""The code actions skillway offers. Listing them never calls the model."""

from __future__ import annotations

from dataclasses import dataclass

# LSP code action kinds, as strings: this package does not import the LSP types.
QUICKFIX, REFACTOR, SOURCE = "quickfix", "refactor.rewrite", "source"


@dataclass(frozen=True)
class ActionSpec:
    id: str  # explain | fix | refactor | document | tests | skill:<qualified name>
    title: str
    kind: str
    edits: bool  # True: it changes the selection; False: it opens a report


BUILT_IN = (
    ActionSpec("explain", "skillway: Explain this code", SOURCE, edits=False),
    ActionSpec("refactor", "skillway: Refactor this code", REFACTOR, edits=True),
    ActionSpec("document", "skillway: Add documentation", REFACTOR, edits=True),
    ActionSpec("tests", "skillway: Write tests for this code", SOURCE, edits=False),
)


def available(*, has_selection: bool, diagnostics: list[str], skills: list[tuple[str, str]]) -> list[ActionSpec]:
    """What to offer for a range: a fix per diagnostic, the built-ins on a selection, and one
    "Apply skill" per user-invocable skill (`skills`: (qualified name, description))."""
    actions = [ActionSpec(f"fix:{index}", f"skillway: Fix: {message.splitlines()[0][:70]}", QUICKFIX, edits=True)
               for index, message in enumerate(diagnostics)]
    if has_selection:
        actions += BUILT_IN
        actions += [ActionSpec(f"skill:{name}", f"skillway: Apply skill: {name}", REFACTOR, edits=True) for name, _ in skills]
    return actions
