"""Every way the API can fail, through print mode and the language server: the exit code or the
message, the ledger's outcome, and nothing applied.

Retries are off (the SDK's), so each fault costs one HTTP attempt; a fault after HTTP 200 is tried
once more by skillway itself, so those scripts hold two of it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as lsp

from skillway.model.ledger import UsageLedger, UsageRecord
from tests.conftest import write_tree
from tests.fakes.anthropic_server import FakeAnthropic, RawReply, Reply, StatusError, Text
from tests.lsp.harness import code_actions, opened, record_applied_edits, reset, running_server, shown, span, wait_for
from tests.reliability.helpers import KEY, run_cli, user_settings

NO_RETRIES = {"completion": 0, "chat": 0, "agent": 0}
SHORT = {"completion": 1.0, "chat": 1.0, "agent": 1.0}


def slow_headers(request):
    time.sleep(3)  # longer than the 1 s timeout, before any byte of the answer
    return Reply(content=[Text("late")])


@dataclass(frozen=True)
class Fault:
    script: tuple = ()  # what the fake answers, in order
    message: str = ""  # a part of the message the user sees
    ledger: tuple[str, str] | None = None  # (outcome, error_kind) of each row; None: no row at all
    rows: int = 1
    settings: dict = field(default_factory=dict)  # extra user settings
    base_url: str | None = "fake"  # "fake": the fake's address; None: the default public API
    key: bool = True


FAULTS = {
    "authentication": Fault((StatusError(401, "authentication_error"),), "rejected the credentials", ("error", "authentication")),
    "billing": Fault((StatusError(402, "billing_error"),), "billing problem", ("error", "billing")),
    "permission": Fault((StatusError(403, "permission_error"),), "may not do this", ("error", "permission")),
    "not_found": Fault((StatusError(404, "not_found_error"),), "check the model name", ("error", "not_found")),
    "too_large": Fault((StatusError(413, "request_too_large"),), "too large", ("error", "too_large")),
    "invalid_request": Fault((StatusError(400, "invalid_request_error"),), "refused the request (HTTP 400",
                             ("error", "invalid_request")),
    "rate_limited": Fault((StatusError(429, "rate_limit_error", headers={"retry-after": "30"}),), "Rate limited",
                          ("error", "rate_limited")),
    "spend_cap": Fault((StatusError(429, "rate_limit_error"),), "spend limit", ("error", "spend_cap")),
    "server_error": Fault((StatusError(500, "api_error"),), "The API failed (HTTP 500", ("error", "server")),
    "overloaded": Fault((StatusError(529, "overloaded_error"),), "overloaded", ("error", "overloaded")),
    "error_event_midway": Fault((Reply(content=[Text("half an answer")], error_after=1),) * 2, "stream failed midway",
                                ("error", "stream"), rows=2),
    "dropped_midway": Fault((Reply(content=[Text("half an answer")], disconnect_after=1),) * 2, "dropped midway",
                            ("error", "stream"), rows=2),
    "stream_cut_off": Fault((Reply(content=[Text("half an answer")], end_cleanly_after=1),) * 2, "answer was cut off",
                            ("error", "incomplete"), rows=2),
    "truncated_json": Fault((RawReply(b'{"id": "msg_1", "content": [{"type": "te'),) * 2, "answer was cut off",
                            ("error", "incomplete"), rows=2),
    "not_json": Fault((RawReply(b"<html>bad gateway</html>"),) * 2, "answer was cut off", ("error", "incomplete"), rows=2),
    "timeout": Fault((slow_headers,), "did not answer within 1 s", ("error", "timeout")),
    "connection_refused": Fault((), "Cannot reach the API at http://127.0.0.1:9", ("error", "connection"),
                                base_url="http://127.0.0.1:9"),
    "no_credentials": Fault((), "No API credentials", None, base_url=None, key=False),
    "quota_exceeded": Fault((), "used", None, settings={"quotas": {"*": {"maxTokens": 10}}}),
}


def user_folder(root: Path, fake: FakeAnthropic, fault: Fault) -> Path:
    home = root / "user"
    settings = {"retries": NO_RETRIES, "timeouts": SHORT, **fault.settings}
    if fault.base_url:
        settings["baseUrl"] = fake.base_url if fault.base_url == "fake" else fault.base_url
    user_settings(home, settings)
    if "quotas" in fault.settings:  # the window already holds more than the cap
        with UsageLedger(home / "data" / "usage.db") as ledger:
            ledger.record(UsageRecord(time=time.time() - 60, project="p", purpose="chat", model="m", input_tokens=500))
    return home


def ledger_rows(home: Path) -> list[tuple[str, str | None]]:
    with UsageLedger(home / "data" / "usage.db") as ledger:
        return [(r.outcome, r.error_kind) for r in ledger.records(0) if r.model != "m"]


def expected_rows(fault: Fault) -> list[tuple[str, str]]:
    return [fault.ledger] * fault.rows if fault.ledger else []


# --- print mode --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(FAULTS))
def test_print_mode_fails_with_exit_1_a_clear_message_and_no_output(kind, tmp_path):
    fault = FAULTS[kind]
    with FakeAnthropic() as fake:
        fake.enqueue(*fault.script)
        home = user_folder(tmp_path, fake, fault)
        workspace = write_tree(tmp_path / "ws", {"app.py": "x = 1\n"})
        result = run_cli(workspace, home, "-p", "explain app.py", "--bare", **({} if fault.key else {"ANTHROPIC_API_KEY": ""}))
    errors = [line for line in result.stderr.splitlines() if fault.message in line]
    assert (result.returncode, result.stdout, len(errors)) == (1, "", 1), result.stderr
    assert "Traceback" not in result.stderr
    assert ledger_rows(home) == expected_rows(fault)
    assert KEY not in result.stderr


# --- the language server: a code action applies nothing and says why ----------------------------

DOC = "def add(a, b):\n    return a - b\n"
REFACTOR = "skillway: Refactor this code"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory):
    """One server for the faults the fake API itself produces."""
    root = tmp_path_factory.mktemp("faults-lsp")
    with FakeAnthropic() as fake:
        home = user_folder(root, fake, Fault())
        workspace = write_tree(root / "ws", {"README.md": "A project.\n"}).resolve()
        # Its own process: the tests' per-test environment must not reach a server that outlives them.
        async with running_server(workspace, home, None, api_key=KEY, in_process=False) as client:
            record_applied_edits(client)
            yield client, fake, workspace, home


async def refactor_fails(client, workspace: Path, name: str) -> tuple[lsp.CodeAction, list[str]]:
    since = len(client.messages)
    with opened(client, workspace / f"{name}.py", DOC) as uri:
        [action] = [a for a in await code_actions(client, uri, span(0, 0, 1, 16)) if a.title == REFACTOR]
        resolved = await asyncio.wait_for(client.code_action_resolve_async(action), 30)
        await wait_for(lambda: shown(client, since), 10)
    return resolved, shown(client, since)


# A server of their own: the rest need other settings, and a rate limit would hold up the faults after it.
OWN_SERVER = ["connection_refused", "no_credentials", "quota_exceeded", "rate_limited"]
SHARED_SERVER = [kind for kind in FAULTS if kind not in OWN_SERVER]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("kind", SHARED_SERVER)
async def test_a_code_action_applies_nothing_and_tells_why(kind, shared):
    client, fake, workspace, home = shared
    await reset(fake)
    before = len(ledger_rows(home))
    fault = FAULTS[kind]
    fake.enqueue(*fault.script)
    resolved, messages = await refactor_fails(client, workspace, kind)
    assert (resolved.edit, client.applied_edits) == (None, [])
    assert [m for m in messages if fault.message in m] == messages != []
    assert ledger_rows(home)[before:] == expected_rows(fault)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_code_action_with_no_text_in_the_answer_applies_nothing(shared):
    client, fake, workspace, _home = shared
    await reset(fake)
    fake.enqueue(Reply(content=[Text("")]), Reply(content=[Text("")]))
    resolved, messages = await refactor_fails(client, workspace, "no_text")
    assert (resolved.edit, messages) == (None, ["skillway: The answer was cut off (the answer had no text); nothing was applied."])


@pytest.mark.asyncio(loop_scope="module")
async def test_a_code_action_cut_at_max_tokens_applies_nothing(shared):
    client, fake, workspace, _home = shared
    await reset(fake)
    fake.enqueue(Reply(content=[Text("```python\ndef add(a, b):\n    return")], stop_reason="max_tokens"))
    resolved, messages = await refactor_fails(client, workspace, "max_tokens")
    assert (resolved.edit, messages) == (None, [
        "skillway: the answer was cut off at the max tokens limit (the maxTokens setting); nothing was applied"])


@pytest.mark.asyncio(loop_scope="module")
async def test_the_same_failure_is_told_every_time(shared):
    client, fake, workspace, _home = shared
    await reset(fake)
    fake.enqueue(StatusError(500, "api_error"), StatusError(500, "api_error"))
    told = [(await refactor_fails(client, workspace, f"again{n}"))[1] for n in range(2)]
    assert [len(messages) for messages in told] == [1, 1]


@pytest.mark.parametrize("kind", OWN_SERVER)
async def test_a_code_action_in_a_server_of_its_own_applies_nothing_and_tells_why(kind, tmp_path):
    fault = FAULTS[kind]
    with FakeAnthropic() as fake:
        fake.enqueue(*fault.script)
        home = user_folder(tmp_path, fake, fault)
        workspace = write_tree(tmp_path / "ws", {"README.md": "A project.\n"}).resolve()
        async with running_server(workspace, home, None, api_key=KEY if fault.key else None) as client:
            record_applied_edits(client)
            resolved, messages = await refactor_fails(client, workspace, kind)
        assert (resolved.edit, len(fake.requests)) == (None, len(fault.script))
    assert [m for m in messages if fault.message in m] == messages != []
    assert ledger_rows(home) == expected_rows(fault)
