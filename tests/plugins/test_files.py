"""Files that are not usable text give a problem, never an exception."""

from pathlib import Path

from skillway.core.problems import Severity
from skillway.plugins import files


def test_non_utf8_file_is_an_error_naming_its_line(tmp_path: Path):
    path = tmp_path / "SKILL.md"
    path.write_bytes(b"---\nname: x\n---\ncaf\xe9\n")
    text, problems = files.read_text(path)
    assert text is None
    assert [(p.line, p.severity, p.message) for p in problems] == [(4, Severity.ERROR, "file is not valid UTF-8 (byte 19)")]


def test_binary_file_is_an_error(tmp_path: Path):
    path = tmp_path / "plugin.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert files.read_text(path) == (None, [files.error(path, "file is binary, not text")])


def test_empty_file_is_a_warning(tmp_path: Path):
    path = tmp_path / "note.md"
    path.write_text("  \n")
    text, problems = files.read_text(path)
    assert text == "  \n"
    assert [(p.severity, p.message) for p in problems] == [(Severity.WARNING, "file is empty")]


def test_file_over_one_mebibyte_is_an_error_without_reading_it(tmp_path: Path):
    path = tmp_path / "huge.md"
    path.write_bytes(b"x" * (files.MAX_FILE_BYTES + 1))
    text, problems = files.read_text(path)
    assert text is None
    assert problems[0].message == f"file is too large ({files.MAX_FILE_BYTES + 1} bytes; the limit is {files.MAX_FILE_BYTES})"


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path):
    path = tmp_path / "plugin.json"
    path.write_bytes(b'\xef\xbb\xbf{"name": "x"}')
    assert files.read_text(path) == ('{"name": "x"}', [])


def test_head_read_stops_after_the_frontmatter(tmp_path: Path):
    path = tmp_path / "SKILL.md"
    path.write_bytes(b"---\nname: x\n---\nbody \xff not read\n")
    assert files.read_text(path, head_until="---") == ("---\nname: x\n---\n", [])


def test_json_syntax_error_is_reported_at_its_place(tmp_path: Path):
    path = tmp_path / "hooks.json"
    path.write_text('{\n  "hooks": {},\n}\n')
    located, problems = files.read_json(path)
    assert located is None
    assert [(p.line, p.column, p.message) for p in problems] == [(3, 1, "invalid JSON: Expecting property name enclosed in double quotes")]
