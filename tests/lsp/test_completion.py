"""Inline completion over LSP, and the textDocument/completion fallback, against the fake API.

Completion state is per document, so the tests of a module share one server per profile (each test
opens its own document and closes it again); tests that change settings start their own server.
"""

import asyncio
import json

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcRequestCancelled

from tests.fakes.anthropic_server import Reply, Text
from tests.lsp.harness import (
    PROFILES,
    change_document,
    complete,
    inline,
    inline_params,
    open_document,
    opened,
    reset,
    send_raw,
    server_environment,
    serving,
    slug,
    span,
    texts,
)
from tests.lsp.inprocess import in_process

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADD = "def add(a, b):\n    \n"  # the cursor goes to (1, 4), the empty body


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def inline_server(request, tmp_path_factory):
    """A client with inline completion (the profile plus LSP 3.18's inlineCompletion)."""
    async with serving(tmp_path_factory.mktemp(f"inline-{request.param}"), request.param) as served:
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def items_server(request, tmp_path_factory):
    """The profile as recorded: no inline completion, so suggestions come as completion items."""
    async with serving(tmp_path_factory.mktemp(f"items-{request.param}"), request.param, inline=False) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def server(inline_server, monkeypatch):
    server_environment(monkeypatch, inline_server)
    await reset(inline_server.fake)
    return inline_server


@pytest_asyncio.fixture(loop_scope="module")
async def items(items_server, monkeypatch):
    server_environment(monkeypatch, items_server)
    await reset(items_server.fake)
    return items_server


@pytest.fixture
def name(request):
    """A file name of this test's own."""
    return slug(request.node.name)


# --- inline completion ------------------------------------------------------------------------------

async def test_inline_completion_returns_the_models_text_at_the_cursor(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        result = await inline(server.client, uri, 1, 4)
    assert list(result.items) == [lsp.InlineCompletionItem(insert_text="return a + b", range=span(1, 4, 1, 4))]


async def test_inline_request_asks_haiku_with_the_cursor_marker_between_prefix_and_suffix(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", "def add(a, b):\n    \n\nprint(add(1, 2))") as uri:
        await inline(server.client, uri, 1, 4)
    [request] = server.fake.requests
    assert request.body["model"] == "claude-haiku-4-5"
    assert request.body["max_tokens"] == 256
    assert request.body["stream"] is True
    [message] = request.body["messages"]
    assert message["role"] == "user"
    assert message["content"].startswith(f"Complete the code at <CURSOR> in {name}.py (python).")
    assert message["content"].endswith("\n\ndef add(a, b):\n    <CURSOR>\n\nprint(add(1, 2))")


async def test_completion_request_gives_no_item_when_the_client_has_inline_completion(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        result = await complete(server.client, uri, 1, 4)
    assert list(result.items) == []
    assert server.fake.requests == []


async def test_a_burst_of_ten_requests_makes_one_api_call_and_every_request_is_answered(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        burst = []
        for _ in range(10):
            burst.append(asyncio.ensure_future(inline(server.client, uri, 1, 4)))
            await asyncio.sleep(0.02)
        results = await asyncio.wait_for(asyncio.gather(*burst, return_exceptions=True), 15)
    assert [texts(result) for result in results] == [[]] * 9 + [["return a + b"]]
    assert len(server.fake.requests) == 1


async def test_cancel_request_answers_request_cancelled_and_aborts_the_http_call(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b and some more words")], token_delay=0.5))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        request = asyncio.ensure_future(inline(server.client, uri, 1, 4, msg_id=f"cancel-{name}"))
        await asyncio.to_thread(server.fake.wait_for_requests, 1)
        server.client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=f"cancel-{name}"))
        with pytest.raises(JsonRpcRequestCancelled) as cancelled:
            await asyncio.wait_for(request, 5)
    assert cancelled.value.code == -32800
    record = await asyncio.to_thread(server.fake.wait_until_finished, 0)
    assert (record.disconnected_early, record.outcome) == (True, "client_gone")


async def test_a_newer_request_for_the_same_document_aborts_the_older_call_which_answers_empty(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b and some more words")], token_delay=0.5),
                        Reply(content=[Text("a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", "def add(a, b):\n    return \n") as uri:
        older = asyncio.ensure_future(inline(server.client, uri, 1, 4))
        await asyncio.to_thread(server.fake.wait_for_requests, 1)
        newer = await inline(server.client, uri, 1, 11)
        older = await asyncio.wait_for(older, 5)
    assert texts(older) == []
    assert texts(newer) == ["a + b"]
    first = await asyncio.to_thread(server.fake.wait_until_finished, 0)
    assert first.disconnected_early is True
    assert len(server.fake.requests) == 2


async def test_typing_the_start_of_a_suggestion_is_served_the_rest_without_an_api_call(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        assert texts(await inline(server.client, uri, 1, 4)) == ["return a + b"]
        change_document(server.client, uri, "def add(a, b):\n    ret\n", version=2)
        result = await inline(server.client, uri, 1, 7)
    assert list(result.items) == [lsp.InlineCompletionItem(insert_text="urn a + b", range=span(1, 7, 1, 7))]
    assert len(server.fake.requests) == 1


async def test_the_same_position_asked_twice_makes_one_api_call(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]), Reply(content=[Text("something else")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        first = await inline(server.client, uri, 1, 4)
        second = await inline(server.client, uri, 1, 4)
    assert texts(first) == texts(second) == ["return a + b"]
    assert len(server.fake.requests) == 1


async def test_a_suggestion_for_an_outdated_document_version_is_dropped(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")], token_delay=0.3))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        request = asyncio.ensure_future(inline(server.client, uri, 1, 4))
        await asyncio.to_thread(server.fake.wait_for_requests, 1)
        change_document(server.client, uri, "def add(a, b):\n    pass\n", version=2)
        result = await asyncio.wait_for(request, 10)
    assert list(result.items) == []
    record = await asyncio.to_thread(server.fake.wait_until_finished, 0)
    assert record.outcome == "completed"  # the answer arrived, and was not used


async def test_a_dotenv_file_gets_no_completion_and_no_api_call(server):
    server.fake.enqueue(Reply(content=[Text("sk-leaked")]))
    with opened(server.client, server.workspace / ".env", "API_KEY=\n", language="dotenv") as uri:
        result = await inline(server.client, uri, 0, 8)
        await asyncio.sleep(0.3)  # longer than the debounce: no call is merely late
    assert list(result.items) == []
    assert server.fake.requests == []


async def test_a_document_that_was_never_opened_gets_an_empty_answer(server, name):
    uri = (server.workspace / f"{name}.py").as_uri()
    result = await inline(server.client, uri, 0, 0)
    assert list(result.items) == []
    assert server.fake.requests == []



async def test_a_number_for_the_document_uri_gets_an_empty_answer(server):
    params = {"textDocument": {"uri": 5}, "position": {"line": 0, "character": 0}, "context": {"triggerKind": 1}}
    result = await asyncio.wait_for(send_raw(server.client, lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params), 10)
    assert list(result.items) == []
    assert server.fake.requests == []

async def test_a_position_past_the_end_gets_an_empty_answer_and_the_next_request_is_served(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        past = await inline(server.client, uri, 10, 0)
        valid = await inline(server.client, uri, 1, 4)
    assert list(past.items) == []
    assert texts(valid) == ["return a + b"]
    assert len(server.fake.requests) == 1



async def test_an_inline_request_past_the_end_of_a_line_gets_a_range_at_the_end_of_that_line(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        result = await inline(server.client, uri, 1, 500)  # line 1 is 4 columns long
    assert list(result.items) == [lsp.InlineCompletionItem(insert_text="return a + b", range=span(1, 4, 1, 4))]


async def test_an_inline_request_past_the_end_of_a_line_gets_the_end_of_that_line_in_utf16_units(server, name):
    server.fake.enqueue(Reply(content=[Text("name")]))
    line = "s = '\U0001F600' + "  # 10 Python characters, 11 UTF-16 units
    with opened(server.client, server.workspace / f"{name}.py", f"{line}\n") as uri:
        result = await inline(server.client, uri, 0, 40)
    assert list(result.items) == [lsp.InlineCompletionItem(insert_text="name", range=span(0, 11, 0, 11))]


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_request_cancelled_during_the_debounce_makes_no_api_call(tmp_path, monkeypatch, profile):
    # A debounce no test run outlasts: the cancel surely arrives while the request waits for typing to pause.
    async with in_process(tmp_path, monkeypatch, profile=profile, options={"completionDebounceMs": 600_000}) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        uri = open_document(served.client, served.workspace / "add.py", ADD)
        # Sent now, ahead of the cancel (pytest-lsp's send_request_async sends only once awaited).
        request = asyncio.wrap_future(served.client.protocol.send_request(
            lsp.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 1, 4), msg_id="early"))
        served.client.protocol.notify("$/cancelRequest", lsp.CancelParams(id="early"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(request, 5)
    assert served.fake.requests == []  # asked after the server has shut down: no call was ever made


async def test_closing_the_document_aborts_its_completion_call_and_answers_empty(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b and some more words")], token_delay=0.5))
    with opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        request = asyncio.ensure_future(inline(server.client, uri, 1, 4))
        await asyncio.to_thread(server.fake.wait_for_requests, 1)
    result = await asyncio.wait_for(request, 5)
    assert list(result.items) == []
    record = await asyncio.to_thread(server.fake.wait_until_finished, 0)
    assert record.disconnected_early is True


async def test_other_open_documents_are_sent_as_context_but_a_dotenv_never_is(server, name):
    server.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(server.client, server.workspace / f"helpers_{name}.py", "HELPER = 'shared helper'\n"), \
            opened(server.client, server.workspace / ".env", "SECRET_TOKEN=hunter2-very-secret\n", "dotenv"), \
            opened(server.client, server.workspace / f"{name}.py", ADD) as uri:
        await inline(server.client, uri, 1, 4)
    [request] = server.fake.requests
    content = request.body["messages"][0]["content"]
    assert content.startswith(f"Other open file helpers_{name}.py:\n```\nHELPER = 'shared helper'\n")
    assert "hunter2" not in json.dumps(request.body)
    assert ".env" not in content

# --- completion items for clients without inline completion ------------------------------------------

async def test_a_client_without_inline_completion_gets_one_item_that_inserts_the_suggestion(items, name):
    items.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(items.client, items.workspace / f"{name}.py", ADD) as uri:
        result = await complete(items.client, uri, 1, 4)
    [item] = result.items
    assert item.text_edit == lsp.TextEdit(range=span(1, 4, 1, 4), new_text="return a + b")
    assert item.label == "return a + b"
    assert result.is_incomplete is True
    assert len(items.fake.requests) == 1


async def test_the_completion_item_replaces_the_word_already_typed(items, name):
    items.fake.enqueue(Reply(content=[Text("return a + b")]))  # the model repeats "re": it is dropped
    with opened(items.client, items.workspace / f"{name}.py", "def add(a, b):\n    re\n") as uri:
        result = await complete(items.client, uri, 1, 6)
    [item] = result.items
    assert item.text_edit == lsp.TextEdit(range=span(1, 4, 1, 6), new_text="return a + b")
    assert item.filter_text == "return a + b"



async def test_the_completion_item_range_counts_utf16_code_units(items, name):
    items.fake.enqueue(Reply(content=[Text("name.upper()")]))
    line = "    s = '\U0001F600' + na"  # the emoji is one Python character and two UTF-16 units: 17 units
    with opened(items.client, items.workspace / f"{name}.py", f"def f(name):\n{line}\n") as uri:
        result = await complete(items.client, uri, 1, 17)
    [item] = result.items
    assert item.text_edit == lsp.TextEdit(range=span(1, 15, 1, 17), new_text="name.upper()")


async def test_a_completion_request_past_the_end_of_a_line_gets_an_item_whose_range_ends_at_the_line_end(items, name):
    items.fake.enqueue(Reply(content=[Text("return a + b")]))
    with opened(items.client, items.workspace / f"{name}.py", "def add(a, b):\n    re\n") as uri:
        result = await complete(items.client, uri, 1, 500)
    [item] = result.items
    assert item.text_edit == lsp.TextEdit(range=span(1, 4, 1, 6), new_text="return a + b")

@pytest.mark.parametrize("profile", PROFILES)
async def test_the_completion_items_setting_forces_items_for_a_client_with_inline_completion(tmp_path, profile):
    async with serving(tmp_path, profile, options={"completionItems": True}) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        with opened(served.client, served.workspace / "m.py", ADD) as uri:
            result = await complete(served.client, uri, 1, 4)
    assert [item.text_edit for item in result.items] == [lsp.TextEdit(range=span(1, 4, 1, 4), new_text="return a + b")]

