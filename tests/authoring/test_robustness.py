"""The editor features on text being typed: every prefix of real plugin files, and random text.

Nothing raises, and diagnostics never fall back to "could not check" (which would hide a bug).
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillway.authoring.completion import complete
from skillway.authoring.diagnostics import diagnose
from skillway.authoring.hover import hover
from skillway.authoring.text import Lines

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]

SAMPLES = [
    FIXTURES / "plugins/devtools/hooks/hooks.json",
    FIXTURES / "plugins/devtools/commands/commit.md",
    REPO / "manifest/plugin.json",
    REPO / "hooks/hooks.json",
]
KIND_PATHS = [
    Path("t/.claude-plugin/plugin.json"), Path("t/.claude-plugin/marketplace.json"), Path("t/hooks/hooks.json"),
    Path("t/.claude/settings.json"), Path("t/skills/s/SKILL.md"), Path("t/commands/c.md"), Path("t/agents/a.md"),
]


def all_positions(text: str):
    lines = Lines(text)
    for number in range(len(lines)):
        for character in range(len(lines.line(number)) + 1):
            yield number, character


def test_every_prefix_of_real_files_is_handled_at_its_end():
    checked = 0
    for path in SAMPLES:
        text = path.read_text(encoding="utf-8")
        for end in range(0, len(text) + 1, 3):
            typed = text[:end]
            lines = Lines(typed)
            last = len(lines) - 1
            complete(path, typed, last, len(lines.line(last)))
            hover(path, typed, last, max(0, len(lines.line(last)) - 1))
            assert not any("could not check" in p.message for p in diagnose(path, typed)), (path, end)
            checked += 1
    assert checked > 300


def test_every_position_of_real_files_is_handled():
    handled = 0
    for path in SAMPLES:
        text = path.read_text(encoding="utf-8")
        for line, character in all_positions(text):
            assert isinstance(complete(path, text, line, character), list), (path, line, character)
            hover(path, text, line, character)  # None or a hover: it must not raise
            handled += 1
    assert handled > 1000


json_like = st.text(alphabet='{}[]:,"\\ \n\tabc-01ehkmnoprstuy', max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=json_like | st.text(max_size=60), kind=st.sampled_from(KIND_PATHS),
       line=st.integers(-1, 6), character=st.integers(-1, 90))
def test_random_text_never_raises(text, kind, line, character):
    for head in ("", "---\n", '{"hooks": {"Stop": [{"hooks": [{'):
        typed = head + text
        complete(kind, typed, line, character)
        hover(kind, typed, line, character)
        assert not any("could not check" in p.message for p in diagnose(kind, typed))
