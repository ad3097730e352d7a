"""Plugin files while they are written, over LSP: diagnostics on the right line, completion of hook
events, hover on manifest keys. Neither needs the model; the documents exist only in the editor."""

import asyncio

import pytest
import pytest_asyncio
from lsprotocol import types as lsp

from tests.lsp.harness import PROFILES, change_document, complete, opened, reset, serving, span, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD_MANIFEST = '{"name": "p",\n "keywords": "x"}'
GOOD_MANIFEST = '{"name": "p",\n "keywords": ["x"]}'
HOOK_EVENTS = ["SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse", "PermissionRequest", "PostToolUse",
               "PostToolUseFailure", "Notification", "Stop", "StopFailure", "SubagentStart", "SubagentStop", "PreCompact"]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def authoring_server(request, tmp_path_factory):
    async with serving(tmp_path_factory.mktemp(f"authoring-{request.param}"), request.param, in_process=False) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def server(authoring_server):
    await reset(authoring_server.fake)
    return authoring_server


async def published(client, uri: str, count: int | None = None) -> list[lsp.Diagnostic]:
    """The diagnostics published for `uri` (once there are `count` of them, when given)."""
    await wait_for(lambda: uri in client.diagnostics and (count is None or len(client.diagnostics[uri]) == count))
    return list(client.diagnostics[uri])


async def test_a_manifest_with_a_wrong_type_gets_an_error_on_its_line(server):
    with opened(server.client, server.workspace / ".claude-plugin" / "plugin.json", BAD_MANIFEST, "json") as uri:
        diagnostics = await published(server.client, uri, 1)
    assert diagnostics == [lsp.Diagnostic(range=span(1, 1, 1, 17), message='"keywords" must be an array, got a string',
                                          severity=lsp.DiagnosticSeverity.Error, source="skillway")]
    assert server.fake.requests == []



async def test_diagnostic_columns_count_utf16_code_units(server):
    text = '{"name": "p", "description": "\U0001F600\U0001F600", "keywords": "x"}'  # 2 emoji: +2 UTF-16 units
    with opened(server.client, server.workspace / "utf16" / ".claude-plugin" / "plugin.json", text, "json") as uri:
        [diagnostic] = await published(server.client, uri, 1)
    assert diagnostic.range == span(0, 37, 0, 53)

async def test_fixing_the_manifest_clears_its_diagnostic(server):
    with opened(server.client, server.workspace / ".claude-plugin" / "plugin.json", BAD_MANIFEST, "json") as uri:
        await published(server.client, uri, 1)
        change_document(server.client, uri, GOOD_MANIFEST, version=2)
        assert await published(server.client, uri, 0) == []


async def test_closing_a_plugin_file_clears_its_diagnostics(server):
    path = server.workspace / "other" / ".claude-plugin" / "plugin.json"
    with opened(server.client, path, BAD_MANIFEST, "json") as uri:
        await published(server.client, uri, 1)
    assert await published(server.client, uri, 0) == []


async def test_a_skill_with_a_label_for_a_name_gets_warnings_on_the_name_line(server):
    text = "---\nname: Bad Name!\ndescription: Does things.\n---\nThe body.\n"
    with opened(server.client, server.workspace / "skills" / "my-skill" / "SKILL.md", text, "markdown") as uri:
        diagnostics = await published(server.client, uri, 2)
    assert [(d.range.start.line, d.range.end.line, d.severity, d.source) for d in diagnostics] == [
        (1, 1, lsp.DiagnosticSeverity.Warning, "skillway")] * 2
    assert [d.message for d in diagnostics] == [
        '"name" must use only lowercase letters, digits and hyphens',
        'the skill is named after its folder, "my-skill": "name" is a label here']


async def test_an_ordinary_source_file_gets_no_diagnostics(server):
    with opened(server.client, server.workspace / "m.py", "def f(:\n") as uri:
        await asyncio.sleep(0.3)
        assert uri not in server.client.diagnostics


async def test_completion_at_a_hook_event_name_offers_the_events(server):
    with opened(server.client, server.workspace / "hooks" / "hooks.json", '{"hooks": {""}}', "json") as uri:
        result = await complete(server.client, uri, 0, 12)
    assert [item.label for item in result.items] == HOOK_EVENTS
    [item] = [item for item in result.items if item.label == "PreToolUse"]
    assert item.kind == lsp.CompletionItemKind.Property
    assert server.fake.requests == []


async def test_a_hook_event_completion_replaces_the_closing_quote_instead_of_doubling_it(server):
    with opened(server.client, server.workspace / "hooks" / "hooks.json", '{"hooks": {""}}', "json") as uri:
        result = await complete(server.client, uri, 0, 12)
    [item] = [item for item in result.items if item.label == "PreToolUse"]
    assert item.text_edit == lsp.TextEdit(range=span(0, 12, 0, 13), new_text='PreToolUse": ')


async def test_hover_on_a_manifest_key_describes_it_in_markdown(server):
    with opened(server.client, server.workspace / ".claude-plugin" / "plugin.json", GOOD_MANIFEST, "json") as uri:
        hover = await asyncio.wait_for(server.client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(0, 3))), 10)
    assert hover.contents.kind == lsp.MarkupKind.Markdown
    assert hover.contents.value.startswith("**`name`** · string\n\n")
    assert "kebab-case" in hover.contents.value


async def test_hover_outside_plugin_files_gives_nothing(server):
    with opened(server.client, server.workspace / "m.py", "name = 1\n") as uri:
        hover = await asyncio.wait_for(server.client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(0, 1))), 10)
    assert hover is None
