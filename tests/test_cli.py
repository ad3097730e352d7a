"""End-to-end tests of the `skillway` command line, run as a real subprocess.

Every run gets its own settings and data folders (SKILLWAY_CONFIG_DIR / SKILLWAY_DATA_DIR under
tmp_path), never inherits SKILLWAY_PLUGIN_DIRS, and runs in a tmp folder unless the test is about
the working directory. Nothing touches the network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import skillway

REPO_ROOT = Path(__file__).resolve().parents[1]

# A small but realistic plugin: a manifest, a namespaced command in a sub-folder, two skills,
# an agent and a hook.
MYPLUG = {
    ".claude-plugin/plugin.json": """
        {
          "name": "myplug",
          "version": "1.2.0",
          "description": "Frontend helpers for the web team.",
          "author": {"name": "Dana Example", "email": "dana@example.com"},
          "keywords": ["frontend", "react"]
        }
    """,
    "commands/deploy.md": """
        ---
        description: Deploy the current branch to a staging environment
        argument-hint: "[environment]"
        allowed-tools: Bash(git push:*), Read
        ---
        Deploy the current branch to $ARGUMENTS (staging when no environment is given).
        Stop and report if the working tree is not clean.
    """,
    "commands/frontend/component.md": """
        ---
        description: Scaffold a React component with a test
        argument-hint: "<ComponentName>"
        ---
        Create the React component $1 under src/components/, with a unit test beside it.
    """,
    "skills/pdf-tools/SKILL.md": """
        ---
        name: pdf-tools
        description: Extract text and tables from PDF files. Use when the user mentions a PDF.
        allowed-tools: Read, Bash(pdftotext:*)
        ---
        # PDF tools

        1. Run `pdftotext -layout FILE -` to get the text.
        2. Rebuild tables from the column positions.
    """,
    "skills/changelog/SKILL.md": """
        ---
        name: changelog
        description: Write a changelog entry from the commits since the last tag.
        ---
        # Changelog

        Group the commits by type (feat, fix, chore) and write one line per change.
    """,
    "agents/reviewer.md": """
        ---
        name: reviewer
        description: Reviews frontend changes for accessibility and performance problems.
        tools: Read, Grep, Glob
        model: sonnet
        ---
        You are a senior frontend reviewer. Read the diff, then report problems by severity.
    """,
    "hooks/hooks.json": """
        {
          "description": "Format files after every edit.",
          "hooks": {
            "PostToolUse": [
              {
                "matcher": "Write|Edit",
                "hooks": [{"type": "command", "command": "${CLAUDE_PLUGIN_ROOT}/scripts/format.sh", "timeout": 30}]
              }
            ]
          }
        }
    """,
}

OTHER = {
    ".claude-plugin/plugin.json": '{"name": "other", "version": "0.3.0"}\n',
    "commands/hello.md": """
        ---
        description: Say hello
        ---
        Say hello to $ARGUMENTS.
    """,
}


def write_files(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root.resolve()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["SKILLWAY_CONFIG_DIR"] = str(tmp_path / "user" / "config")
    environment["SKILLWAY_DATA_DIR"] = str(tmp_path / "user" / "data")
    environment.pop("SKILLWAY_PLUGIN_DIRS", None)
    environment.pop("ANTHROPIC_API_KEY", None)
    environment["PYTHONDONTWRITEBYTECODE"] = "1"  # write nothing outside tmp_path
    return environment


@pytest.fixture
def workdir(tmp_path) -> Path:
    """The current directory of the runs: an empty workspace."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder.resolve()


@pytest.fixture
def run(env, workdir):
    def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "skillway", *map(str, args)],
            cwd=cwd or workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def myplug(tmp_path) -> Path:
    return write_files(tmp_path / "plugins" / "myplug", MYPLUG)


@pytest.fixture
def other(tmp_path) -> Path:
    return write_files(tmp_path / "plugins" / "other", OTHER)


def listed(result: subprocess.CompletedProcess) -> dict[str, dict]:
    """`plugins list --json` output as plugin name -> summary."""
    assert result.returncode == 0, result.stderr
    return {plugin["name"]: plugin for plugin in json.loads(result.stdout)["plugins"]}


def counts(summary: dict) -> dict:
    keys = ("source", "loaded", "commands", "skills", "agents", "hook_handlers", "errors", "warnings")
    return {key: summary[key] for key in keys}


# --- version ---------------------------------------------------------------------------------


def test_version_prints_name_and_version(run):
    result = run("--version")

    assert (result.returncode, result.stdout, result.stderr) == (0, f"skillway {skillway.__version__}\n", "")


# --- plugins list ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["tmp-folder", "repo-root"])
def test_list_json_shows_bundled_plugin(run, where):
    result = run("plugins", "list", "--json", cwd=REPO_ROOT if where == "repo-root" else None)

    bundled = listed(result)["skillway"]
    assert {k: bundled[k] for k in ("source", "loaded", "commands", "agents", "errors")} == {
        "source": "bundled", "loaded": True, "commands": 5, "agents": 4, "errors": 0,
    }
    assert bundled["skills"] >= 6


def test_list_in_repo_root_loads_bundled_plugin_once(run):
    result = run("plugins", "list", "--json", cwd=REPO_ROOT)

    names = [plugin["name"] for plugin in json.loads(result.stdout)["plugins"]]
    assert names.count("skillway") == 1


def test_list_json_includes_plugin_dir_plugin_with_its_counts(run, myplug):
    result = run("plugins", "list", "--json", "--plugin-dir", myplug)

    summary = listed(result)["myplug"]
    assert (summary["root"], summary["version"], counts(summary)) == (str(myplug), "1.2.0", {
        "source": "plugin-dir", "loaded": True, "commands": 2, "skills": 2, "agents": 1,
        "hook_handlers": 1, "errors": 0, "warnings": 0,
    })


def test_plugin_dir_is_repeatable(run, myplug, other):
    result = run("plugins", "list", "--json", "--plugin-dir", myplug, "--plugin-dir", other)

    assert [(p["name"], p["source"]) for p in json.loads(result.stdout)["plugins"]] == [
        ("skillway", "bundled"), ("myplug", "plugin-dir"), ("other", "plugin-dir"),
    ]


@pytest.mark.parametrize("args", [
    ["--plugin-dir", "{dir}", "plugins", "list", "--json"],
    ["plugins", "--plugin-dir", "{dir}", "list", "--json"],
    ["plugins", "list", "--json", "--plugin-dir", "{dir}"],
], ids=["before-command", "before-action", "after-action"])
def test_plugin_dir_is_accepted_at_any_position(run, myplug, args):
    result = run(*[str(myplug) if arg == "{dir}" else arg for arg in args])

    assert listed(result)["myplug"]["source"] == "plugin-dir"


def test_plugin_dir_before_and_after_command_are_both_loaded(run, myplug, other):
    result = run("--plugin-dir", myplug, "plugins", "list", "--json", "--plugin-dir", other)

    assert {"myplug", "other"} <= set(listed(result))


def test_cwd_option_loads_that_workspace_claude_commands(run, tmp_path):
    workspace = write_files(tmp_path / "project", {
        ".claude/commands/hello.md": "---\ndescription: Say hello\n---\nSay hello.\n",
        ".claude/commands/git/commit.md": "Write a commit message for the staged changes.\n",
    })

    result = run("plugins", "list", "--json", "--cwd", workspace)

    project = listed(result)["project"]
    assert (project["source"], project["root"], project["commands"]) == ("workspace", str(workspace / ".claude"), 2)


def test_workspace_commands_have_bare_names(run, tmp_path):
    workspace = write_files(tmp_path / "project", {
        ".claude/commands/hello.md": "---\ndescription: Say hello\n---\nSay hello.\n",
        ".claude/commands/git/commit.md": "Write a commit message for the staged changes.\n",
    })

    result = run("plugins", "show", "project", "--json", "--cwd", workspace)

    assert [c["name"] for c in json.loads(result.stdout)["commands"]] == ["git:commit", "hello"]


def test_list_without_cwd_option_uses_current_directory(run, tmp_path):
    workspace = write_files(tmp_path / "project", {".claude/commands/hello.md": "Say hello.\n"})

    result = run("plugins", "list", "--json", cwd=workspace)

    assert listed(result)["project"]["commands"] == 1


@pytest.mark.parametrize("command", [
    ["serve"], ["doctor"], ["plugins", "list"], ["plugins", "show", "skillway"], ["plugins", "validate", "{dir}"],
], ids=lambda command: " ".join(command))
def test_every_command_accepts_plugin_dir_and_cwd(run, myplug, tmp_path, command):
    result = run(*[str(myplug) if arg == "{dir}" else arg for arg in command],
                 "--plugin-dir", myplug, "--cwd", tmp_path)

    assert result.returncode != 2
    assert "usage:" not in result.stderr
    assert "unrecognized arguments" not in result.stderr


def test_list_text_marks_a_plugin_that_did_not_load(run, tmp_path):
    broken = write_files(tmp_path / "plugins" / "broken", {".claude-plugin/plugin.json": '{"name": "broken", "version": 3}\n'})

    result = run("plugins", "list", "--plugin-dir", broken)

    row = next(line for line in result.stdout.splitlines() if line.startswith("broken "))
    assert row.endswith("NOT LOADED: 1 error(s), 0 warning(s)")


# --- plugins show ----------------------------------------------------------------------------


def test_show_json_gives_qualified_command_names(run, myplug):
    result = run("plugins", "show", "myplug", "--json", "--plugin-dir", myplug)

    assert [c["name"] for c in json.loads(result.stdout)["commands"]] == ["myplug:deploy", "myplug:frontend:component"]


def test_show_json_gives_qualified_skill_and_agent_names(run, myplug):
    result = run("plugins", "show", "myplug", "--json", "--plugin-dir", myplug)

    data = json.loads(result.stdout)
    assert (sorted(s["name"] for s in data["skills"]), [a["name"] for a in data["agents"]]) == (
        ["myplug:changelog", "myplug:pdf-tools"], ["myplug:reviewer"])


def test_show_unknown_plugin_exits_1_naming_loaded_plugins(run, myplug):
    result = run("plugins", "show", "nope", "--plugin-dir", myplug)

    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", "skillway: no plugin named 'nope' (loaded: skillway, myplug)\n")


# --- plugins validate ------------------------------------------------------------------------

BAD_KEYWORDS = '{\n  "name": "badplug",\n  "keywords": "x"\n}\n'
UNKNOWN_FIELD = '{\n  "name": "warnplug",\n  "colour": "red"\n}\n'


def test_validate_error_prints_path_line_column_and_exits_1(run, tmp_path):
    plugin = write_files(tmp_path / "badplug", {".claude-plugin/plugin.json": BAD_KEYWORDS})

    result = run("plugins", "validate", plugin)

    manifest = plugin / ".claude-plugin" / "plugin.json"
    assert (result.returncode, result.stdout) == (
        1, f'{manifest}:3:3: error: "keywords" must be an array, got a string\n1 plugin, 1 error, 0 warnings\n')


def test_validate_warnings_only_exits_0(run, tmp_path):
    plugin = write_files(tmp_path / "warnplug", {".claude-plugin/plugin.json": UNKNOWN_FIELD})

    result = run("plugins", "validate", plugin)

    manifest = plugin / ".claude-plugin" / "plugin.json"
    assert (result.returncode, result.stdout) == (
        0, f'{manifest}:3:3: warning: unknown field "colour" is ignored\n1 plugin, 0 errors, 1 warning\n')


def test_validate_clean_plugin_prints_a_one_line_summary_and_exits_0(run, myplug):
    result = run("plugins", "validate", myplug)

    assert (result.returncode, result.stdout, result.stderr) == (0, "1 plugin, 0 errors, 0 warnings\n", "")


def test_validate_summary_counts_every_plugin_of_a_folder_of_plugins(run, myplug, tmp_path):
    write_files(tmp_path / "many" / "one", {"commands/a.md": "A.\n"})
    write_files(tmp_path / "many" / "two", {"commands/b.md": "B.\n"})

    result = run("plugins", "validate", tmp_path / "many")

    assert (result.returncode, result.stdout.splitlines()[-1]) == (0, "2 plugins, 0 errors, 0 warnings")


def test_validate_json_lists_problems(run, tmp_path):
    plugin = write_files(tmp_path / "badplug", {".claude-plugin/plugin.json": BAD_KEYWORDS})

    result = run("plugins", "validate", "--json", plugin)

    assert (result.returncode, json.loads(result.stdout)) == (1, [{
        "path": str(plugin / ".claude-plugin" / "plugin.json"),
        "line": 3,
        "column": 3,
        "severity": "error",
        "message": '"keywords" must be an array, got a string',
    }])


def test_validate_json_of_clean_plugin_is_empty_list(run, myplug):
    result = run("plugins", "validate", "--json", myplug)

    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_validate_missing_path_is_an_error(run, tmp_path):
    missing = tmp_path / "no-such-plugin"

    result = run("plugins", "validate", missing)

    assert (result.returncode, result.stdout) == (
        1, f"{missing}:1:1: error: no such file or folder\n0 plugins, 1 error, 0 warnings\n")


def test_validate_strict_makes_a_publishing_rule_an_error(run, tmp_path):
    # The folder has the same (bad) name, so the name itself is the only problem.
    skill = write_files(tmp_path / "plug", {
        "skills/PDF_Tools/SKILL.md": "---\nname: PDF_Tools\ndescription: Read PDF files.\n---\nUse pdftotext.\n",
    }) / "skills" / "PDF_Tools" / "SKILL.md"

    result = run("plugins", "validate", "--strict", skill)

    assert (result.returncode, result.stdout) == (
        1, f'{skill}:2:1: error: "name" must use only lowercase letters, digits and hyphens\n1 file, 1 error, 0 warnings\n')


def test_validate_without_strict_warns_of_a_publishing_rule_and_exits_0(run, tmp_path):
    skill = write_files(tmp_path / "plug", {
        "skills/pdf-tools/SKILL.md": "---\nname: claude-pdf\ndescription: Read PDF files.\n---\nUse pdftotext.\n",
    }) / "skills" / "pdf-tools" / "SKILL.md"

    result = run("plugins", "validate", skill)

    assert (result.returncode, result.stdout) == (
        0, f'{skill}:2:1: warning: "name" must not contain "anthropic" or "claude"\n1 file, 0 errors, 1 warning\n')


def test_validate_single_manifest_file_with_error_exits_1(run, tmp_path):
    plugin = write_files(tmp_path / "badplug", {".claude-plugin/plugin.json": BAD_KEYWORDS})

    result = run("plugins", "validate", plugin / ".claude-plugin" / "plugin.json")

    assert (result.returncode, result.stdout) == (1, f'{plugin / ".claude-plugin" / "plugin.json"}:3:3: error: '
                                                     '"keywords" must be an array, got a string\n1 file, 1 error, 0 warnings\n')


def test_validate_stray_manifest_file_with_error_exits_1(run, tmp_path):
    manifest = write_files(tmp_path / "draft", {"plugin.json": BAD_KEYWORDS}) / "plugin.json"

    result = run("plugins", "validate", manifest)

    assert result.returncode == 1


def test_validate_resolves_relative_path_against_cwd_option(run, tmp_path):
    plugin = write_files(tmp_path / "project" / "badplug", {".claude-plugin/plugin.json": BAD_KEYWORDS})

    result = run("plugins", "validate", "badplug", "--cwd", plugin.parent)

    assert result.stdout.startswith(f"{plugin / '.claude-plugin' / 'plugin.json'}:3:3: error: ")


def test_validate_repo_root_has_no_errors(run):
    result = run("plugins", "validate", ".", cwd=REPO_ROOT)

    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert (result.returncode, errors) == (0, [])


# --- doctor ----------------------------------------------------------------------------------


def doctor_field(stdout: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}:\s+(.+)$", stdout, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{stdout}"
    return match.group(1)


def test_doctor_shows_workspace_path(run, tmp_path):
    workspace = (tmp_path / "project")
    workspace.mkdir()

    result = run("doctor", "--cwd", workspace)

    assert (result.returncode, doctor_field(result.stdout, "workspace")) == (0, str(workspace.resolve()))


def test_doctor_shows_current_directory_as_workspace_by_default(run, workdir):
    result = run("doctor")

    assert (result.returncode, doctor_field(result.stdout, "workspace")) == (0, str(workdir))


def test_doctor_shows_bundled_plugin_root(run):
    result = run("doctor")

    root = Path(doctor_field(result.stdout, "bundled plugin"))
    assert (result.returncode, (root / "manifest" / "plugin.json").is_file()) == (0, True)


def test_doctor_lists_bundled_plugin(run):
    result = run("doctor")

    assert re.search(r"^skillway\s+\S+\s+bundled\s+5\s+\d+\s+4\s", result.stdout, re.MULTILINE), result.stdout


# --- isolation of broken plugins -------------------------------------------------------------


@pytest.mark.parametrize("manifest", [
    '{"name": "broken", "version": 3}\n',
    '{"name": "broken",\n',
], ids=["schema-error", "syntax-error"])
def test_broken_plugin_does_not_stop_a_good_one(run, myplug, tmp_path, manifest):
    broken = write_files(tmp_path / "plugins" / "broken", {
        ".claude-plugin/plugin.json": manifest,
        "commands/hello.md": "Say hello.\n",
    })

    result = run("plugins", "list", "--json", "--plugin-dir", myplug, "--plugin-dir", broken)

    plugins = listed(result)
    assert {name: (plugins[name]["loaded"], plugins[name]["commands"]) for name in ("myplug", "broken")} == {
        "myplug": (True, 2), "broken": (False, 0),
    }
