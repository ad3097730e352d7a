"""Code actions over LSP: listed without the model, run through codeAction/resolve (Neovim, VS Code)
or through the `skillway.runCodeAction` command (Emacs, which does not resolve code actions).

The state that matters (document versions) is per document, so the tests share one server per
profile; each test opens its own document.
"""

import asyncio
import re
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as lsp

from tests.fakes.anthropic_server import Reply, Text
from tests.lsp.harness import (
    PROFILES,
    change_document,
    code_actions,
    opened,
    reset,
    server_environment,
    serving,
    shown,
    slug,
    span,
    wait_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

REPO = Path(__file__).resolve().parents[2]
WORKSPACE_FILES = {
    ".claude/skills/mine/SKILL.md": "---\nname: mine\ndescription: The house style.\n---\nUse the house style.\n",
    ".claude/skills/hidden/SKILL.md": "---\nname: hidden\ndescription: Only for the model.\nuser-invocable: false\n---\nHidden.\n",
}
DOC = "def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n"
FUNCTION = span(0, 0, 1, 16)  # the selection: the whole function
WRONG = lsp.Diagnostic(range=span(1, 11, 1, 16), message="wrong operator: expected +\nsecond line", source="lint")
BUILT_INS = ["skillway: Explain this code", "skillway: Refactor this code", "skillway: Add documentation",
             "skillway: Write tests for this code"]
TITLES = {"explain": BUILT_INS[0], "refactor": BUILT_INS[1], "document": BUILT_INS[2], "tests": BUILT_INS[3],
          "fix": "skillway: Fix: wrong operator: expected +", "skill": "skillway: Apply skill: skillway:code-review"}

# action -> (the model's answer, the range replaced, the text put there)
EDITS = {
    "refactor": ("Here it is:\n```python\ndef add(left, right):\n    return left - right\n```\nDone.",
                 FUNCTION, "def add(left, right):\n    return left - right"),
    "document": ('```python\ndef add(a, b):\n    """The sum."""\n    return a - b\n```',
                 FUNCTION, 'def add(a, b):\n    """The sum."""\n    return a - b'),
    "fix": ("```python\n    return a + b\n```", span(1, 0, 1, 16), "    return a + b"),
    "skill": ("```\ndef add(a, b):\n    return a - b  # reviewed\n```", FUNCTION, "def add(a, b):\n    return a - b  # reviewed"),
}
REPORTS = {"explain": "Explanation", "tests": "Proposed tests"}


def bundled_user_invocable_skills() -> list[str]:
    """The bundled plugin's skills, read from its files: `skillway:<folder>` unless user-invocable: false."""
    names = []
    for skill in sorted((REPO / "skills").glob("*/SKILL.md")):
        head = skill.read_text(encoding="utf-8").split("\n---", 1)[0]
        if not re.search(r"^user-invocable:\s*false\s*$", head, re.MULTILINE):
            names.append(f"skillway:{skill.parent.name}")
    return names


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def resolving_server(request, tmp_path_factory):
    async with serving(tmp_path_factory.mktemp(f"actions-{request.param}"), request.param,
                       files=WORKSPACE_FILES) as served:
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emacs_server(tmp_path_factory):
    async with serving(tmp_path_factory.mktemp("actions-emacs"), "emacs", files=WORKSPACE_FILES) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def server(resolving_server, monkeypatch):
    server_environment(monkeypatch, resolving_server)
    await reset(resolving_server.fake)
    return resolving_server


@pytest_asyncio.fixture(loop_scope="module")
async def emacs(emacs_server, monkeypatch):
    server_environment(monkeypatch, emacs_server)
    await reset(emacs_server.fake)
    emacs_server.client.applied_edits.clear()
    emacs_server.client.apply_edit_result = lsp.ApplyWorkspaceEditResult(applied=True)
    return emacs_server


@pytest.fixture
def name(request):
    return slug(request.node.name)


def titled(actions: list[lsp.CodeAction], title: str) -> lsp.CodeAction:
    [action] = [a for a in actions if a.title == title]
    return action


async def offered(client, uri: str, action: str) -> lsp.CodeAction:
    """The listed action for `action` (fix: on the WRONG diagnostic; the rest: on FUNCTION)."""
    if action == "fix":
        actions = await code_actions(client, uri, WRONG.range, [WRONG])
    else:
        actions = await code_actions(client, uri, FUNCTION)
    return titled(actions, TITLES[action])


def versioned_edit(uri: str, version: int, target: lsp.Range, new_text: str) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[lsp.TextEdit(range=target, new_text=new_text)])])


def plain(client, value):
    """`value` as JSON values, so that lists and tuples compare alike."""
    return client.protocol._converter.unstructure(value)


async def resolve(client, action: lsp.CodeAction, timeout: float = 15.0) -> lsp.CodeAction:
    return await asyncio.wait_for(client.code_action_resolve_async(action), timeout)


async def run(client, action: lsp.CodeAction, timeout: float = 15.0):
    return await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command=action.command.command, arguments=action.command.arguments)), timeout)


def report_file(workspace: Path, uri_or_path: str, kind: str, stem: str) -> Path:
    path = Path(uri_or_path.removeprefix("file://"))
    assert path.parent == workspace / ".skillway" / "reports"
    assert re.fullmatch(rf"{kind}-{re.escape(stem)}-\d{{8}}-\d{{6}}-\d{{6}}\.md", path.name), path.name
    return path


# --- listing ----------------------------------------------------------------------------------------

async def test_a_selection_offers_the_built_ins_and_one_action_per_user_invocable_skill(server, name):
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        actions = await code_actions(server.client, uri, FUNCTION)
    titles = [action.title for action in actions]
    assert titles[:4] == BUILT_INS
    skills = bundled_user_invocable_skills() + ["mine"]
    assert "skillway:code-review" in skills
    assert sorted(titles[4:]) == sorted(f"skillway: Apply skill: {skill}" for skill in skills)
    assert [str(action.kind) for action in actions] == ["source", "refactor.rewrite", "refactor.rewrite", "source"] \
        + ["refactor.rewrite"] * len(skills)
    reports = {"skillway: Explain this code", "skillway: Write tests for this code"}
    assert all(action.edit is None for action in actions)  # filled in on resolve
    assert all((action.command is not None) == (action.title in reports) for action in actions)  # reports run by command
    assert server.fake.requests == []


async def test_an_empty_selection_without_diagnostics_offers_nothing(server, name):
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        actions = await code_actions(server.client, uri, span(1, 4, 1, 4))
    assert actions == []


async def test_a_diagnostic_in_the_context_adds_a_fix_quickfix_first(server, name):
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        actions = await code_actions(server.client, uri, WRONG.range, [WRONG])
    fix = actions[0]
    assert fix.title == "skillway: Fix: wrong operator: expected +"
    assert fix.kind == lsp.CodeActionKind.QuickFix
    assert plain(server.client, fix.diagnostics) == plain(server.client, [WRONG])
    assert [action.title for action in actions[1:5]] == BUILT_INS  # the diagnostic's range is a selection too
    assert server.fake.requests == []



async def test_a_cursor_on_a_diagnostic_offers_only_the_fix(server, name):
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        actions = await code_actions(server.client, uri, span(1, 12, 1, 12), [WRONG])
    assert [action.title for action in actions] == [TITLES["fix"]]
    assert actions[0].data["range"] == {"start": [1, 0], "end": [1, 16]}  # the fix rewrites whole lines

# --- codeAction/resolve -------------------------------------------------------------------------------

@pytest.mark.parametrize("action", list(EDITS))
async def test_resolving_an_edit_action_gives_a_versioned_edit_of_the_models_code(server, name, action):
    answer, target, new_text = EDITS[action]
    server.fake.enqueue(Reply(content=[Text(answer)]))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        resolved = await resolve(server.client, await offered(server.client, uri, action))
    assert plain(server.client, resolved.edit) == plain(server.client, versioned_edit(uri, 1, target, new_text))
    assert len(server.fake.requests) == 1


async def test_an_action_asks_the_chat_model_with_the_selection_and_the_diagnostic(server, name):
    server.fake.enqueue(Reply(content=[Text(EDITS["fix"][0])]))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        await resolve(server.client, await offered(server.client, uri, "fix"))
    [request] = server.fake.requests
    assert request.body["model"] == "claude-sonnet-4-6"
    content = request.body["messages"][0]["content"]
    assert "The selected code:\n```\n    return a - b\n```" in content
    assert "The editor reports this problem in the selected code:\nwrong operator: expected +\nsecond line" in content


async def test_a_skill_action_sends_the_skill_to_the_model(server, name):
    server.fake.enqueue(Reply(content=[Text(EDITS["skill"][0])]))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        await resolve(server.client, await offered(server.client, uri, "skill"))
    [request] = server.fake.requests
    system = "\n".join(block["text"] for block in request.body["system"])
    assert "Apply the skill skillway:code-review:\n\n" in system


@pytest.mark.parametrize("action", list(REPORTS))
async def test_resolving_a_report_action_writes_a_markdown_report_and_gives_a_command_to_open_it(server, name, action):
    server.fake.enqueue(Reply(content=[Text("It subtracts, despite its name.")]))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        resolved = await resolve(server.client, await offered(server.client, uri, action))
    assert resolved.edit is None
    assert resolved.command.command == "skillway.showDocument"
    [report_uri] = resolved.command.arguments
    assert report_uri.startswith("file://")
    report = report_file(server.workspace, report_uri, action, name)
    assert report.read_text(encoding="utf-8") == f"# {REPORTS[action]}: {name}.py\n\nIt subtracts, despite its name.\n"


async def test_the_show_document_command_asks_the_editor_to_open_the_report(server, name):
    server.fake.enqueue(Reply(content=[Text("It subtracts.")]))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        resolved = await resolve(server.client, await offered(server.client, uri, "explain"))
        before = len(server.client.shown_documents)
        await run(server.client, resolved)
    assert server.client.shown_documents[before:] == [lsp.ShowDocumentParams(uri=resolved.command.arguments[0], take_focus=True)]


async def test_resolving_after_the_document_changed_gives_no_edit_and_tells_the_user(server, name):
    server.fake.enqueue(Reply(content=[Text(EDITS["refactor"][0])]))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        action = await offered(server.client, uri, "refactor")
        change_document(server.client, uri, DOC.replace("a - b", "b - a"), version=2)
        since = len(server.client.messages)
        resolved = await resolve(server.client, action)
        await wait_for(lambda: shown(server.client, since))
    assert (resolved.edit, resolved.command) == (None, None)
    assert shown(server.client, since) == ["skillway: the document changed since the action was offered; nothing was done"]
    assert server.fake.requests == []


async def test_an_edit_resolved_while_the_document_changed_keeps_the_offered_version(server, name):
    """The editor refuses a versioned edit for an older version: nothing lands on the new text."""
    server.fake.enqueue(Reply(content=[Text(EDITS["refactor"][0])], token_delay=0.1))
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        action = await offered(server.client, uri, "refactor")
        resolving = asyncio.ensure_future(resolve(server.client, action))
        await asyncio.to_thread(server.fake.wait_for_requests, 1)
        change_document(server.client, uri, DOC.replace("a - b", "b - a"), version=2)
        resolved = await resolving
    [change] = resolved.edit.document_changes
    assert (change.text_document.uri, change.text_document.version) == (uri, 1)


async def test_an_action_reports_begin_and_end_progress(server, name):
    server.fake.enqueue(Reply(content=[Text(EDITS["refactor"][0])]))
    known = set(server.client.progress_reports)
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        await resolve(server.client, await offered(server.client, uri, "refactor"))
        await wait_for(lambda: any(len(reports) == 2 for token, reports in server.client.progress_reports.items()
                                   if token not in known))
    [token] = [token for token in server.client.progress_reports if token not in known]
    assert server.client.progress_reports[token] == [
        lsp.WorkDoneProgressBegin(title="skillway: refactor", cancellable=False), lsp.WorkDoneProgressEnd()]


async def test_an_action_on_a_dotenv_file_is_refused_without_an_api_call(server):
    with opened(server.client, server.workspace / ".env", "API_KEY=sk-123\n", language="dotenv") as uri:
        action = titled(await code_actions(server.client, uri, span(0, 0, 0, 14)), TITLES["refactor"])
        since = len(server.client.messages)
        resolved = await resolve(server.client, action)
        await wait_for(lambda: shown(server.client, since))
    assert resolved.edit is None
    assert shown(server.client, since) == ["skillway: .env looks like a secrets file; it is not sent to the model"]
    assert server.fake.requests == []



async def test_the_selection_sent_to_the_model_is_exact_after_astral_characters(server, name):
    server.fake.enqueue(Reply(content=[Text("```\ny = 2\n```")]))
    text = "x = '\U0001F600'; y = 1\nz = 3\n"  # "y = 1" is UTF-16 10-15, Python 9-14
    with opened(server.client, server.workspace / f"{name}.py", text) as uri:
        action = titled(await code_actions(server.client, uri, span(0, 10, 0, 15)), TITLES["refactor"])
        resolved = await resolve(server.client, action)
    content = server.fake.requests[0].body["messages"][0]["content"]
    assert "Code before the selection (context only):\n```\nx = '\U0001F600'; \n```" in content
    assert "The selected code:\n```\ny = 1\n```" in content
    assert plain(server.client, resolved.edit) == plain(server.client, versioned_edit(uri, 1, span(0, 10, 0, 15), "y = 2"))


async def test_resolving_an_action_of_a_closed_document_tells_the_user(server, name):
    with opened(server.client, server.workspace / f"{name}.py", DOC) as uri:
        action = await offered(server.client, uri, "refactor")
    since = len(server.client.messages)
    resolved = await resolve(server.client, action)
    await wait_for(lambda: shown(server.client, since))
    assert (resolved.edit, resolved.command) == (None, None)
    assert shown(server.client, since) == ["skillway: the document is not open any more"]
    assert server.fake.requests == []

async def test_report_actions_carry_a_command_for_a_client_that_resolves_only_edits(tmp_path):
    async with serving(tmp_path, "visual_studio_code") as served:
        with opened(served.client, served.workspace / "m.py", DOC) as uri:
            actions = await code_actions(served.client, uri, FUNCTION)
    assert list(served.client.capabilities.text_document.code_action.resolve_support.properties) == ["edit"]
    for action in (titled(actions, TITLES["explain"]), titled(actions, TITLES["tests"])):
        assert action.command is not None and action.command.command == "skillway.runCodeAction"


# --- the command fallback (Emacs: no codeAction/resolve) ------------------------------------------------

async def test_without_resolve_support_every_action_carries_the_run_command_with_its_data(emacs, name):
    with opened(emacs.client, emacs.workspace / f"{name}.py", DOC) as uri:
        actions = await code_actions(emacs.client, uri, WRONG.range, [WRONG])
    assert len(actions) == 1 + 4 + len(bundled_user_invocable_skills()) + 1
    for action in actions:
        assert action.command.command == "skillway.runCodeAction"
        assert list(action.command.arguments) == [action.data]
        assert (action.data["uri"], action.data["version"]) == (uri, 1)
    assert emacs.fake.requests == []


@pytest.mark.parametrize("action", list(EDITS))
async def test_running_an_edit_action_sends_a_versioned_workspace_edit(emacs, name, action):
    answer, target, new_text = EDITS[action]
    emacs.fake.enqueue(Reply(content=[Text(answer)]))
    with opened(emacs.client, emacs.workspace / f"{name}.py", DOC) as uri:
        await run(emacs.client, await offered(emacs.client, uri, action))
    [applied] = emacs.client.applied_edits
    assert applied.label == "skillway"
    assert plain(emacs.client, applied.edit) == plain(emacs.client, versioned_edit(uri, 1, target, new_text))


@pytest.mark.parametrize("action", list(REPORTS))
async def test_running_a_report_action_tells_where_the_report_is_when_the_editor_cannot_show_documents(emacs, name, action):
    emacs.fake.enqueue(Reply(content=[Text("It subtracts.")]))
    since = len(emacs.client.messages)
    with opened(emacs.client, emacs.workspace / f"{name}.py", DOC) as uri:
        await run(emacs.client, await offered(emacs.client, uri, action))
        await wait_for(lambda: shown(emacs.client, since))
    [message] = shown(emacs.client, since)
    assert message.startswith("skillway: report written to ")
    report = report_file(emacs.workspace, message.removeprefix("skillway: report written to "), action, name)
    assert report.read_text(encoding="utf-8") == f"# {REPORTS[action]}: {name}.py\n\nIt subtracts.\n"
    assert emacs.client.messages[since].type == lsp.MessageType.Info
    assert emacs.client.shown_documents == [] and emacs.client.applied_edits == []


async def test_running_an_action_after_the_document_changed_applies_nothing_and_tells_the_user(emacs, name):
    emacs.fake.enqueue(Reply(content=[Text(EDITS["refactor"][0])]))
    with opened(emacs.client, emacs.workspace / f"{name}.py", DOC) as uri:
        action = await offered(emacs.client, uri, "refactor")
        change_document(emacs.client, uri, DOC.replace("a - b", "b - a"), version=2)
        since = len(emacs.client.messages)
        await run(emacs.client, action)
        await wait_for(lambda: shown(emacs.client, since))
    assert shown(emacs.client, since) == ["skillway: the document changed since the action was offered; nothing was done"]
    assert emacs.client.applied_edits == []
    assert emacs.fake.requests == []


async def test_a_document_changed_while_the_model_worked_gets_no_edit_and_a_message(emacs, name):
    emacs.fake.enqueue(Reply(content=[Text(EDITS["refactor"][0])], token_delay=0.1))
    with opened(emacs.client, emacs.workspace / f"{name}.py", DOC) as uri:
        action = await offered(emacs.client, uri, "refactor")
        since = len(emacs.client.messages)
        running = asyncio.ensure_future(run(emacs.client, action))
        await asyncio.to_thread(emacs.fake.wait_for_requests, 1)
        change_document(emacs.client, uri, DOC.replace("a - b", "b - a"), version=2)
        await running
        await wait_for(lambda: shown(emacs.client, since))
    assert shown(emacs.client, since) == ["skillway: the document changed while the model worked; nothing was applied"]
    assert emacs.client.applied_edits == []


async def test_an_edit_the_editor_refuses_is_reported(emacs, name):
    emacs.fake.enqueue(Reply(content=[Text(EDITS["refactor"][0])]))
    emacs.client.apply_edit_result = lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="the buffer is read-only")
    since = len(emacs.client.messages)
    with opened(emacs.client, emacs.workspace / f"{name}.py", DOC) as uri:
        await run(emacs.client, await offered(emacs.client, uri, "refactor"))
        await wait_for(lambda: shown(emacs.client, since))
    assert len(emacs.client.applied_edits) == 1
    assert shown(emacs.client, since) == ["skillway: the editor did not apply the edit: the buffer is read-only"]


async def test_running_the_command_without_its_data_tells_the_user_and_calls_nothing(emacs):
    since = len(emacs.client.messages)
    await asyncio.wait_for(emacs.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="skillway.runCodeAction", arguments=[])), 10)
    await wait_for(lambda: shown(emacs.client, since))
    assert shown(emacs.client, since) == ["skillway: this code action is malformed; list the actions again"]
    assert emacs.fake.requests == [] and emacs.client.applied_edits == []
