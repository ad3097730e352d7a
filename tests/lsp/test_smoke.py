"""The server starts, answers inline completion from the fake API, and shuts down."""

from lsprotocol import types as lsp

from tests.fakes.anthropic_server import Reply, Text
from tests.lsp.harness import open_document, running_server


async def test_inline_completion_comes_from_the_model(tmp_path, fake):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fake.enqueue(Reply(content=[Text("return a + b")]))
    async with running_server(workspace, tmp_path / "user", fake.base_url, in_process=False) as client:
        uri = open_document(client, workspace / "m.py", "def add(a, b):\n    \n")
        result = await client.text_document_inline_completion_async(lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(1, 4),
            context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Invoked)))
    assert [item.insert_text for item in result.items] == ["return a + b"]
