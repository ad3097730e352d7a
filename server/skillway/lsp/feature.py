"""What a language feature is: a class that handles some document events, requests and commands.

The server owns each LSP method once (`skillway.lsp.methods`) and asks every feature that handles it;
a feature never registers a handler itself and never calls another feature. Commands take typed
arguments (attrs classes structured with camelCase keys) and answer one `CommandResult`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from lsprotocol import types as lsp

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from skillway.lsp.server import SkillwayServer

P = TypeVar("P")
CommandHandler = Callable[[Any], Awaitable["CommandResult | list[Any] | None"]]


class Feature:
    """One capability of the server. Every hook does nothing unless the feature overrides it."""

    def __init__(self, server: SkillwayServer) -> None:
        self.server = server

    def commands(self) -> dict[str, tuple[type[Any], CommandHandler]]:
        """The workspace/executeCommand names this feature answers: name -> (argument type, handler)."""
        return {}

    def opened(self, doc: TextDocument) -> None:
        """The editor opened `doc` (didOpen)."""

    def changed(self, doc: TextDocument) -> None:
        """`doc` changed (didChange); `doc` holds the new text."""

    def closed(self, uri: str) -> None:
        """The editor closed `uri` (didClose)."""

    async def completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        """Completion items at a position, or None when this feature has nothing to say there: the
        next feature is asked."""
        return None

    async def inline_completion(self, params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList | None:
        """Ghost text at a position, or None: the next feature is asked."""
        return None

    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        """The actions this feature offers on a range (every feature's are listed)."""
        return []

    async def resolve_code_action(self, action: lsp.CodeAction) -> lsp.CodeAction | None:
        """`action` (one this feature offered) with its edit or command filled in, or None when it is
        not this feature's."""
        return None

    def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        """A hover at a position, or None: the next feature is asked."""
        return None


@attrs.frozen
class CommandResult:
    """What every skillway command answers: `ok`, and why not (`error`) or what it produced. Fields
    that do not apply are left out of the answer."""

    ok: bool
    error: str | None = None
    result: str | None = None  # an answer's text
    turns: int | None = None
    report: str | None = None  # the URI of a report the answer was written to
    decision: str | None = None  # /ship: GO | NO-GO | NOTHING
    complete: bool | None = None  # /ship: the gate accepted the decision
    findings: int | None = None  # /ship: how many findings the decision has

    @classmethod
    def refused(cls, error: str) -> CommandResult:
        return cls(ok=False, error=error)

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in attrs.asdict(self).items() if value is not None}


# --- typed command arguments ---------------------------------------------------------------------

class ArgumentError(ValueError):
    """A command's arguments do not have the shape it takes; the message says which key is wrong."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _strict(kind: type, described: str) -> Callable[[Any, type], Any]:
    """cattrs turns 5 into "5" for a str field; an argument of the wrong type is refused instead."""

    def structure(value: Any, _: type) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"must be {described}")
        return value

    return structure


def _texts(value: Any, _: type) -> tuple[str, ...]:
    """One text or a list of texts (`acceptRisk`)."""
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise TypeError("must be a text or a list of texts")
    return tuple(texts)


Texts = tuple[str, ...]  # a field of this type takes one text or a list of texts

_converter = cattrs.Converter(forbid_extra_keys=False)
_converter.register_structure_hook(str, _strict(str, "a text"))
_converter.register_structure_hook(int, _strict(int, "a whole number"))
_converter.register_structure_hook(bool, _strict(bool, "true or false"))
_converter.register_structure_hook_func(lambda kind: kind == Texts, _texts)


def arguments(cls: type[P]) -> type[P]:
    """Make the attrs class `cls` a command's argument type: camelCase keys on the wire."""
    _converter.register_structure_hook(cls, make_dict_structure_fn(
        cls, _converter, _cattrs_forbid_extra_keys=False,
        **{field.name: override(rename=_camel(field.name)) for field in attrs.fields(cls)}))  # type: ignore[arg-type]  # cattrs types overrides as keyword-only extras
    return cls


def structure_arguments(values: list[Any], kind: type[P]) -> P:
    """The first command argument as `kind`; ArgumentError naming the wrong key otherwise."""
    value = values[0] if values else None
    if attrs.has(kind):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ArgumentError("takes one object as its argument")
    try:
        return _converter.structure(value, kind)
    except cattrs.ClassValidationError as exc:
        raise ArgumentError("; ".join(_describe(exc))) from None
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"its argument {exc}") from None


def _describe(error: cattrs.BaseValidationError, where: str = "") -> list[str]:
    """`"acceptRisk" must be a text or a list of texts` for each wrong key of `error`."""
    said = []
    for inner in error.exceptions:
        note = next((n for n in getattr(inner, "__notes__", []) if isinstance(n, str)), "")
        key = re.search(r"attribute '?(\w+)'?", note)
        name = f"{where}{key.group(1)}" if key else where.rstrip(".") or "argument"
        if isinstance(inner, cattrs.BaseValidationError):
            said += _describe(inner, f"{name}.")
        elif isinstance(inner, KeyError):
            said.append(f'"{name}" is required')
        else:
            said.append(f'"{_camel(name)}" {inner}')
    return said
