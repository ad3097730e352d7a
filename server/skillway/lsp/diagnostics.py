"""The one place that publishes diagnostics. publishDiagnostics replaces everything the server said
about a URI, so each source (plugin-file checks, /ship findings) keeps its own set here and the
editor always receives their union: one source never erases another's."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lsprotocol import types as lsp


class Diagnostics:
    def __init__(self) -> None:
        self._sets: dict[str, dict[str, list[lsp.Diagnostic]]] = {}  # uri -> source -> diagnostics

    def of(self, uri: str, source: str | None = None) -> list[lsp.Diagnostic]:
        """What is published for `uri` (only `source`'s part when given)."""
        by_source = self._sets.get(uri, {})
        if source is not None:
            return list(by_source.get(source, []))
        return [diagnostic for diagnostics in by_source.values() for diagnostic in diagnostics]

    def uris(self, source: str) -> list[str]:
        return [uri for uri, by_source in self._sets.items() if source in by_source]

    def set(self, ls, uri: str, source: str, diagnostics: Iterable[lsp.Diagnostic], version: int | None = None) -> None:
        """`source`'s diagnostics for `uri` become `diagnostics`; the union is published."""
        diagnostics = list(diagnostics)
        by_source = self._sets.setdefault(uri, {})
        if diagnostics:
            by_source[source] = diagnostics
        else:
            by_source.pop(source, None)
            if not by_source:
                del self._sets[uri]
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=self.of(uri), version=version))

    def replace(self, ls, source: str, by_uri: dict[str, list[lsp.Diagnostic]],
                within: Callable[[str], bool] = lambda uri: True) -> None:
        """`source` says exactly `by_uri` now: its earlier diagnostics on other URIs for which
        `within` holds are cleared."""
        for uri in self.uris(source):
            if uri not in by_uri and within(uri):
                self.set(ls, uri, source, [])
        for uri, diagnostics in by_uri.items():
            self.set(ls, uri, source, diagnostics)
