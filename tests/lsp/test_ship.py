"""/ship in the editor: skillway.ship (and /ship typed through runSlashCommand or a chat buffer) runs
the three bundled reviewers on a real git change; their findings become diagnostics on the lines they
name, each reviewer shows its own progress, and the decision opens as a document."""

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcRequestCancelled

from skillway.ship import rules
from tests.fakes.anthropic_server import StatusError
from tests.lsp.harness import PROFILES, open_document, reset, send_raw, serving, shown, span, wait_for, write_tree
from tests.lsp.test_chat import applied_text
from tests.ship.helpers import REVIEWERS, critical, make_repo, report, reviewer_of, reviewers

# A sensitive path (src/auth.py) makes the change too risky to skip the review.
AUTH = "def check(token, expected):\n    return token == expected\n"
APP = "import auth\n\nallowed = auth.check(read_token(), SECRET)\nprint(allowed)\n"
TIMING = critical("src/auth.py", 2, "the token is compared with == (timing attack)")
UNUSED = {"severity": "important", "file": "src/app.py", "line": 3, "message": "the result is printed, not used"}
SHIP_RUN_SECONDS = 60  # a whole run: three reviewers, the hooks' python3 subprocesses, the gate


def changed_repository(root: Path, changes: dict[str, str] | None = None) -> Path:
    """`root/ws`: a repository on main with one commit, and `changes` on top of it, uncommitted."""
    workspace = make_repo(root / "ws")
    write_tree(workspace, changes if changes is not None else {"src/auth.py": AUTH, "src/app.py": APP})
    return workspace.resolve()  # as the server sees it


def script(fake, answers: dict | None = None) -> None:
    """Every reviewer's request gets its entry of `answers` (a clean report by default)."""
    fake.enqueue(*[reviewers(answers)] * 6)  # one item per request: enough for the three (and retries)


async def run_ship(client, **spec) -> dict:
    request = client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="skillway.ship", arguments=[spec] if spec else []))
    return await asyncio.wait_for(request, SHIP_RUN_SECONDS)


async def test_each_finding_is_a_diagnostic_on_the_whole_line_it_names(tmp_path):
    workspace = changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        script(served.fake, {"security-auditor": report([TIMING]), "code-reviewer": report([UNUSED])})
        await run_ship(served.client)
        auth = served.client.diagnostics[(workspace / "src" / "auth.py").as_uri()]
        app = served.client.diagnostics[(workspace / "src" / "app.py").as_uri()]
    assert list(auth) == [lsp.Diagnostic(
        range=span(1, 0, 1, 28), message="[security-auditor] the token is compared with == (timing attack)",
        severity=lsp.DiagnosticSeverity.Error, source="skillway-ship")]
    assert list(app) == [lsp.Diagnostic(
        range=span(2, 0, 2, 42), message="[code-reviewer] the result is printed, not used",
        severity=lsp.DiagnosticSeverity.Warning, source="skillway-ship")]


async def test_a_critical_finding_makes_the_decision_no_go_and_opens_it(tmp_path):
    workspace = changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        script(served.fake, {"security-auditor": report([TIMING])})
        result = await run_ship(served.client)
        shown_documents = list(served.client.shown_documents)
    assert result == {"ok": True, "decision": "NO-GO", "complete": True, "report": result["report"], "findings": 1}
    assert shown_documents == [lsp.ShowDocumentParams(uri=result["report"], take_focus=True)]
    decision = Path(result["report"].removeprefix("file://"))
    assert decision.parent == workspace / ".skillway" / "reports"
    assert decision.read_text(encoding="utf-8").startswith("# /ship decision\n\n## Ship Decision: NO-GO\n")


async def test_a_go_decided_in_the_editor_is_the_one_ship_check_finds(tmp_path):
    workspace = changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        script(served.fake)
        result = await run_ship(served.client)
    verdict = rules.check_change(workspace)  # what the pre-push hook asks: the decision's report is not part of the change
    assert (result["decision"], result["complete"]) == ("GO", True)
    assert verdict.ok is True, verdict.message


async def test_an_editor_without_show_document_is_told_where_the_decision_is(tmp_path):
    changed_repository(tmp_path)
    async with serving(tmp_path, "emacs") as served:
        script(served.fake, {"security-auditor": report([TIMING])})
        since = len(served.client.messages)
        result = await run_ship(served.client)
        told = shown(served.client, since)
    decision = Path(result["report"].removeprefix("file://"))
    assert told == [f"skillway: report written to {decision}"]
    assert decision.read_text(encoding="utf-8").startswith("# /ship decision\n\n## Ship Decision: NO-GO\n")


@pytest.mark.parametrize("profile", PROFILES)
async def test_each_reviewer_shows_its_own_progress_from_begin_to_end(tmp_path, profile):
    changed_repository(tmp_path)
    async with serving(tmp_path, profile) as served:
        script(served.fake, {"security-auditor": report([TIMING])})
        await run_ship(served.client)
        reports = list(served.client.progress_reports.values())
    assert sorted(reports, key=lambda values: values[0].title) == [
        [lsp.WorkDoneProgressBegin(title=f"skillway /ship: {name}", cancellable=False),
         lsp.WorkDoneProgressEnd(message=counts)]
        for name, counts in [("code-reviewer", "0 critical, 0 important, 0 suggestions"),
                             ("security-auditor", "1 critical, 0 important, 0 suggestions"),
                             ("test-engineer", "0 critical, 0 important, 0 suggestions")]]


async def test_a_reviewer_s_retry_is_reported_on_its_progress(tmp_path):
    changed_repository(tmp_path)
    refused = StatusError(400, "invalid_request_error", "the request was refused")  # not retried by the SDK
    async with serving(tmp_path) as served:
        script(served.fake, {"test-engineer": [refused, report()]})
        await run_ship(served.client)
        reports = list(served.client.progress_reports.values())
    [engineer] = [values for values in reports if values[0].title == "skillway /ship: test-engineer"]
    _, retry, end = engineer
    assert isinstance(retry, lsp.WorkDoneProgressReport) and retry.message.startswith("retrying once: ")
    assert "the request was refused" in retry.message
    assert end == lsp.WorkDoneProgressEnd(message="0 critical, 0 important, 0 suggestions")


async def test_cancelling_ship_aborts_the_reviewers_and_ends_their_progress(tmp_path):
    changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        client, fake = served.client, served.fake
        fake.enqueue(*[reviewers(delay=30.0)] * 3)  # reports that take far longer than the test
        request = asyncio.ensure_future(send_raw(client, lsp.WORKSPACE_EXECUTE_COMMAND,
                                                 {"command": "skillway.ship", "arguments": []}, msg_id="ship-1"))
        await asyncio.to_thread(fake.wait_for_requests, 3, 20)
        await wait_for(lambda: sum(len(values) for values in client.progress_reports.values()) == 3)
        client.protocol.notify("$/cancelRequest", lsp.CancelParams(id="ship-1"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(request, 10)
        await wait_for(lambda: all(len(values) == 2 for values in client.progress_reports.values()))
        ends = [values[-1] for values in client.progress_reports.values()]
        finished = [await asyncio.to_thread(fake.wait_until_finished, index, 10) for index in range(3)]
    assert ends == [lsp.WorkDoneProgressEnd(message="stopped")] * 3
    assert [record.disconnected_early for record in finished] == [True] * 3


async def test_a_second_run_without_findings_clears_the_earlier_ship_diagnostics(tmp_path):
    workspace = changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        script(served.fake, {"security-auditor": report([TIMING]), "code-reviewer": report([UNUSED])})
        await run_ship(served.client)
        await reset(served.fake)  # the first run's unused replies go
        script(served.fake)
        second = await run_ship(served.client)
        diagnostics = dict(served.client.diagnostics)
    assert (second["decision"], second["findings"]) == ("GO", 0)
    assert list(diagnostics[(workspace / "src" / "auth.py").as_uri()]) == []
    assert list(diagnostics[(workspace / "src" / "app.py").as_uri()]) == []


async def test_a_finding_outside_the_repository_or_without_a_file_is_not_published(tmp_path):
    changed_repository(tmp_path)
    outside = critical("../outside.py", 1, "outside the repository")
    nowhere = critical("?", 1, "somewhere")
    async with serving(tmp_path) as served:
        script(served.fake, {"security-auditor": report([outside, nowhere])})
        result = await run_ship(served.client)
        published = {uri: list(d) for uri, d in served.client.diagnostics.items() if d}
    assert (result["decision"], result["findings"]) == ("NO-GO", 2)
    assert published == {}


async def test_authoring_diagnostics_and_ship_findings_on_one_file_do_not_erase_each_other(tmp_path):
    manifest = '{"name": "p",\n "keywords": "x"}'  # "keywords" must be an array: an authoring error
    workspace = changed_repository(tmp_path, {"src/auth.py": AUTH, "tools/.claude-plugin/plugin.json": manifest})
    path = workspace / "tools" / ".claude-plugin" / "plugin.json"
    finding = {"severity": "suggestion", "file": "tools/.claude-plugin/plugin.json", "line": 1, "message": "add a description"}
    async with serving(tmp_path) as served:
        client = served.client
        uri = open_document(client, path, manifest, language="json")
        await wait_for(lambda: len(client.diagnostics.get(uri, [])) == 1)
        script(served.fake, {"code-reviewer": report([finding])})
        await run_ship(client)
        both = sorted((d.source, d.range.start.line) for d in client.diagnostics[uri])
        client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
        after_close = await wait_for(lambda: len(client.diagnostics[uri]) == 1 and list(client.diagnostics[uri]))
    assert both == [("skillway", 1), ("skillway-ship", 0)]
    assert after_close == [lsp.Diagnostic(range=span(0, 0, 0, 13), message="[code-reviewer] add a description",
                                          severity=lsp.DiagnosticSeverity.Information, source="skillway-ship")]


async def test_an_accepted_risk_lets_the_change_ship_and_is_marked_on_its_diagnostic(tmp_path):
    workspace = changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        script(served.fake, {"security-auditor": report([TIMING])})
        result = await run_ship(served.client, acceptRisk="src/auth.py:2")
        [diagnostic] = served.client.diagnostics[(workspace / "src" / "auth.py").as_uri()]
    assert (result["decision"], result["complete"]) == ("GO", True)
    assert diagnostic.message == "[security-auditor] the token is compared with == (timing attack) (risk accepted)"


async def test_ship_outside_a_git_repository_tells_why_and_runs_nothing(tmp_path):
    async with serving(tmp_path, files={"app.py": "x = 1\n"}) as served:
        since = len(served.client.messages)
        result = await run_ship(served.client)
        told = shown(served.client, since)
        requests = served.fake.requests
    assert result == {"ok": False, "error": f"{served.workspace} is not inside a git repository"}
    assert told == [f"skillway: {served.workspace} is not inside a git repository"]
    assert requests == []


async def test_malformed_arguments_are_refused_with_a_message(tmp_path):
    changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        since = len(served.client.messages)
        result = await run_ship(served.client, acceptRisk=3)
        told = shown(served.client, since)
    assert result == {"ok": False, "error": '"acceptRisk" must be a text or a list of texts'}
    assert told == ['skillway: skillway.ship: "acceptRisk" must be a text or a list of texts']


async def test_ship_typed_through_run_slash_command_runs_the_reviewers(tmp_path):
    changed_repository(tmp_path)
    async with serving(tmp_path) as served:
        script(served.fake, {"security-auditor": report([TIMING])})
        result = await asyncio.wait_for(served.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.runSlashCommand", arguments=[{"command": "ship", "arguments": "main"}])), SHIP_RUN_SECONDS)
        requests = served.fake.requests
    assert (result["ok"], result["decision"], result["findings"]) == (True, "NO-GO", 1)
    assert sorted(reviewer_of(request) for request in requests) == sorted(REVIEWERS)


async def test_ship_in_a_chat_buffer_answers_with_the_decision(tmp_path):
    changed_repository(tmp_path)
    start = "## You\n\n/ship\n"
    async with serving(tmp_path) as served:
        uri = open_document(served.client, served.workspace / "talk.chat.md", start, language="markdown")
        script(served.fake, {"security-auditor": report([TIMING])})
        result = await asyncio.wait_for(served.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.sendChat", arguments=[uri])), SHIP_RUN_SECONDS)
        edits = list(served.client.applied_edits)
        shown_documents = list(served.client.shown_documents)
    decision = Path(result["report"].removeprefix("file://")).read_text(encoding="utf-8").removeprefix("# /ship decision\n\n")
    assert result["decision"] == "NO-GO"
    assert decision.startswith("## Ship Decision: NO-GO\n")
    assert applied_text(start, edits) == f"{start}\n## skillway\n\n{decision.strip()}\n\n## You\n\n"
    assert shown_documents == []
