"""/ship run by skillway against the fake API: the reviewers start at once, a failing reviewer is
retried once and then makes it NO-GO, critical findings block unless accepted, the gate judges and
records every run."""

import asyncio
import json

import pytest

from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from skillway.ship.orchestrator import ShipError, parse_arguments, run_ship
from tests.fakes.anthropic_server import StatusError
from tests.ship.helpers import REVIEWERS, critical, lines, make_repo, report, reviewer_of, reviewers

pytestmark = pytest.mark.usefixtures("api_key")  # every test here runs with a key set

FIX = {"severity": "important", "file": "src/app.py", "line": 3, "message": "the loop never ends on empty input"}


@pytest.fixture
def repo(tmp_path):
    """A change that may not skip the review: 60 lines and a sensitive path."""
    repo = make_repo(tmp_path / "repo", {"src/app.py": "x = 1\n", "src/auth.py": "def check(a, b):\n    return True\n"})
    (repo / "src/app.py").write_text(lines(60))
    (repo / "src/auth.py").write_text("def check(a, b):\n    return a == b\n")
    return repo


async def ship(repo, fake, script, typed="/ship", **options):
    fake.enqueue(*[script] * 12)
    settings = Settings(base_url=fake.base_url)
    session = Session(repo, discover(repo, settings, []), settings)
    await session.start()
    return await run_ship(session, typed, **options)


def per_reviewer(fake) -> dict:
    counts = {}
    for request in fake.requests:
        counts[reviewer_of(request)] = counts.get(reviewer_of(request), 0) + 1
    return counts


async def test_the_reviewers_start_at_once_each_before_any_finishes(repo, fake):
    result = await ship(repo, fake, reviewers(delay=0.5))
    requests = fake.requests
    assert sorted(reviewer_of(r) for r in requests) == ["code-reviewer", "security-auditor", "test-engineer"]
    assert max(r.started for r in requests) < min(r.ended for r in requests)
    assert (result.verdict, result.gate_passed) == ("GO", True)


async def test_the_reviewers_get_the_diff_and_only_read_only_tools(repo, fake):
    await ship(repo, fake, reviewers())
    for request in fake.requests:
        prompt = request.body["messages"][0]["content"]
        assert "+    return a == b" in prompt and "src/auth.py (sensitive: auth)" in prompt
        assert sorted(tool["name"] for tool in request.body["tools"]) == ["Glob", "Grep", "Read"]


async def test_a_secrets_file_in_the_change_is_named_but_its_content_never_sent(repo, fake):
    (repo / ".env").write_text("DATABASE_PASSWORD=hunter2-very-secret\n")
    await ship(repo, fake, reviewers())
    prompt = fake.requests[0].body["messages"][0]["content"]
    assert "- .env (sensitive: env)" in prompt and "(a secrets file changed; its content is not shown)" in prompt
    assert "hunter2" not in prompt


async def test_a_clean_review_is_go_with_a_rollback_plan_and_recorded_complete(repo, fake):
    result = await ship(repo, fake, reviewers())
    assert result.document.startswith("## Ship Decision: GO\n")
    assert "### Rollback plan\n1. Revert the change" in result.document
    record = result.record
    assert (record["decision"], record["complete"], record["diff_sha256"]) == ("GO", True, result.change.digest)
    assert [r["name"] for r in record["reviewers"]] == ["code-reviewer", "security-auditor", "test-engineer"]
    assert all(r["seconds"] is not None and r["seconds"] >= 0 for r in record["reviewers"])


async def test_a_critical_finding_makes_it_no_go(repo, fake):
    result = await ship(repo, fake, reviewers({"security-auditor": report([critical()])}))
    assert result.verdict == "NO-GO"
    assert result.decision.blockers == ["`src/auth.py:2`: the token is compared with == (timing attack) (security-auditor)"]
    assert result.record["decision"] == "NO-GO" and result.record["complete"] is True


async def test_accept_risk_naming_the_critical_finding_turns_it_go_with_the_risk_listed(repo, fake):
    result = await ship(repo, fake, reviewers({"security-auditor": report([critical()])}),
                        typed='/ship main --accept-risk "src/auth.py:2"')
    assert (result.verdict, result.gate_passed) == ("GO", True)
    assert ("### Acknowledged risks\n- `src/auth.py:2`: the token is compared with == (timing attack) "
            '(security-auditor). Accepted with --accept-risk "src/auth.py:2".') in result.document


async def test_accept_risk_that_names_nothing_accepts_nothing(repo, fake):
    result = await ship(repo, fake, reviewers({"security-auditor": report([critical()])}),
                        typed="/ship --accept-risk billing.py")
    assert result.verdict == "NO-GO"
    assert '- --accept-risk "billing.py" named no critical finding; nothing was accepted by it.' in result.document


async def test_important_findings_are_listed_but_do_not_block(repo, fake):
    result = await ship(repo, fake, reviewers({"code-reviewer": report([FIX])}))
    assert result.verdict == "GO"
    assert "### Recommended fixes\n- [important] `src/app.py:3`: the loop never ends on empty input (code-reviewer)" in result.document


async def test_the_same_finding_from_two_reviewers_is_listed_once_with_both(repo, fake):
    result = await ship(repo, fake, reviewers({"code-reviewer": report([FIX]), "test-engineer": report([FIX])}))
    assert [f.reviewers for f in result.decision.findings] == [("code-reviewer", "test-engineer")]


async def test_a_reviewer_that_fails_is_retried_once_then_the_decision_is_no_go(repo, fake):
    failing = StatusError(400, "invalid_request_error", "prompt is too long")
    events = []
    result = await ship(repo, fake, reviewers({"security-auditor": failing}), on_event=events.append)
    assert per_reviewer(fake) == {"code-reviewer": 1, "security-auditor": 2, "test-engineer": 1}
    assert result.verdict == "NO-GO"
    assert result.decision.blockers == ["security-auditor returned no report: The API refused the request (HTTP 400: prompt is too long)."]
    assert [e.kind for e in events if e.reviewer == "security-auditor"] == ["start", "retry", "done"]


async def test_a_reviewer_that_fails_once_and_then_reports_counts(repo, fake):
    flaky = [StatusError(400, "invalid_request_error", "bad"), report()]
    result = await ship(repo, fake, reviewers({"test-engineer": flaky}))
    assert result.verdict == "GO"
    assert [r.attempts for r in result.reviews] == [1, 1, 2]


async def test_reviewers_that_time_out_are_retried_then_no_go(repo, fake):
    result = await ship(repo, fake, reviewers(delay=3.0), reviewer_timeout=0.5)
    assert result.verdict == "NO-GO"
    assert per_reviewer(fake) == {name: 2 for name in REVIEWERS}
    assert result.decision.blockers == [f"{name} returned no report: no report within 0.5 s" for name in REVIEWERS]


async def test_a_report_without_its_findings_block_is_sent_back_once_by_the_recorder(repo, fake):
    result = await ship(repo, fake, reviewers({"code-reviewer": ["Looks fine to me.", report([FIX])]}))
    code_requests = [r for r in fake.requests if reviewer_of(r) == "code-reviewer"]
    assert len(code_requests) == 2
    assert code_requests[1].body["messages"][-1]["content"].startswith("End your report with a fenced ```json block")
    assert result.verdict == "GO" and [f.message for f in result.decision.findings] == [FIX["message"]]


async def test_a_small_change_skips_the_review_without_calling_the_api(tmp_path, fake):
    repo = make_repo(tmp_path / "small", {"README.md": "hello\n"})
    (repo / "README.md").write_text("hello world\n")
    result = await ship(repo, fake, reviewers())
    assert fake.requests == []
    assert (result.verdict, result.skipped, result.gate_passed) == ("GO", True, True)
    assert "### Specialist reports\nskipped: small change" in result.document
    assert result.record["skipped"] is True


async def test_nothing_to_ship_when_there_is_no_change(tmp_path, fake):
    repo = make_repo(tmp_path / "clean")
    result = await ship(repo, fake, reviewers())
    assert (result.verdict, result.document) == ("NOTHING", "Nothing to ship: no change against main.\n")


async def test_a_change_that_moves_during_the_review_is_refused_by_the_gate(repo, fake):
    def edit_then_answer(request):
        (repo / "src/app.py").write_text("changed while reviewing\n")
        return reviewers()(request)

    result = await ship(repo, fake, edit_then_answer)
    assert (result.verdict, result.gate_passed) == ("NO-GO", False)
    assert "the change moved while it was reviewed" in result.gate_reasons
    assert "The ship gate refused this decision" in result.document


async def test_every_step_is_in_the_transcript_the_gate_reads(repo, fake):
    result = await ship(repo, fake, reviewers())
    path = result.record["transcript_path"]
    messages = [json.loads(line)["message"] for line in open(path)]
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    calls = [b for b in messages[1]["content"] if b["type"] == "tool_use"]
    assert [c["input"]["subagent_type"] for c in calls] == ["skillway:code-reviewer", "skillway:security-auditor",
                                                             "skillway:test-engineer"]
    assert messages[3]["content"][0]["text"] == result.document


def test_arguments_are_a_base_ref_and_accepted_risks():
    request = parse_arguments('origin/main --accept-risk "src/auth.py:2" --accept-risk=token')
    assert (request.base, request.accept_risks) == ("origin/main", ("src/auth.py:2", "token"))


@pytest.mark.parametrize(("text", "message"), [("--force", "unknown option --force"),
                                               ("a b", "one base ref only"),
                                               ("--accept-risk", "--accept-risk needs the risk it accepts")])
def test_bad_arguments_are_refused_with_a_reason(text, message):
    with pytest.raises(ShipError, match=message):
        parse_arguments(text)


async def test_outside_a_repository_ship_says_so(tmp_path, fake):
    with pytest.raises(ShipError, match="is not inside a git repository"):
        await ship(tmp_path, fake, reviewers())


def test_a_diff_over_budget_keeps_sensitive_files_first_and_names_the_rest(repo):
    from skillway.ship import rules
    from skillway.ship.orchestrator import diff_for_review

    text, omitted = diff_for_review(rules.compute_change(repo), budget=400)
    assert text.startswith("diff --git a/src/auth.py b/src/auth.py\n") and "+    return a == b" in text
    assert omitted == ["src/app.py"]


async def test_a_second_ship_in_the_same_session_waits_its_turn(repo, fake):
    fake.enqueue(*[reviewers(delay=0.5)] * 6)
    settings = Settings(base_url=fake.base_url)
    session = Session(repo, discover(repo, settings, []), settings)
    first = asyncio.ensure_future(run_ship(session, "/ship"))
    await asyncio.to_thread(fake.wait_for_requests, 1)  # its reviewers are asking: it holds the session's /ship
    with pytest.raises(ShipError, match="a /ship is already running in this workspace"):
        await run_ship(session, "/ship")
    assert (await first).verdict == "GO"


@pytest.mark.parametrize(("old", "new"), [(".env", "env.txt"), ("dir b/.env", "dir b/x.txt")])
async def test_a_renamed_secrets_file_stays_out_of_the_prompt(repo, fake, old, new):
    # "dir b/" makes the `diff --git a/... b/...` header ambiguous: the exact path lines decide.
    from tests.ship.helpers import git

    (repo / old).parent.mkdir(exist_ok=True)
    (repo / old).write_text("TOKEN=hunter2-very-secret\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "oops")
    git(repo, "mv", old, new)
    (repo / new).write_text("TOKEN=hunter2-very-secret\nMORE=hunter3-also-secret\n")
    await ship(repo, fake, reviewers())
    prompt = fake.requests[0].body["messages"][0]["content"]
    assert "hunter" not in prompt and "(a secrets file changed; its content is not shown)" in prompt


async def test_the_ship_turn_has_a_transcript_of_its_own(repo, fake):
    settings = Settings(base_url=fake.base_url)
    fake.enqueue(*[reviewers()] * 3)
    session = Session(repo, discover(repo, settings, []), settings)
    result = await run_ship(session, "/ship")
    assert result.record["transcript_path"] != str(session.transcript.path)
    assert session.transcript.path.read_text() == ""
