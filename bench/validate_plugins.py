"""Benchmark: how long `skillway plugins validate` takes on a large folder of plugins.

Generates N plugins of M skills each (plus a manifest, two commands and an agent per plugin) in a
temporary folder, then times `python -m skillway plugins validate <folder>` as a real subprocess.
As a baseline, the same way and in the same process, it times `python -c "import
skillway.plugins.validate"`: the cost of starting Python and importing skillway, which every
validate run pays before reading a single file.

    python bench/validate_plugins.py [--plugins 200] [--skills 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 2.0

TOOLS = ["Read", "Grep", "Glob", "Edit", "Write", "Bash(git diff:*)", "Bash(git log:*)", "Bash(npm test:*)"]
TOPICS = ["api", "cache", "database", "docs", "frontend", "logging", "metrics", "migration", "release", "security"]


def skill_text(plugin: int, skill: int) -> str:
    topic = TOPICS[(plugin + skill) % len(TOPICS)]
    name = f"{topic}-helper-{skill:02d}"
    tools = ", ".join(TOOLS[i % len(TOOLS)] for i in range(skill % 4 + 2))
    lines = [
        "---",
        f"name: {name}",
        f"description: Work on the {topic} layer of a service. Use when the user asks about {topic}"
        f" changes, {topic} bugs or a review of {topic} code (variant {skill}).",
        f"allowed-tools: {tools}",
        "---",
        f"# {topic.title()} helper {skill}",
        "",
        "## When to use",
        "",
        f"Use this skill for any task that touches the {topic} code of the project.",
        "Read the relevant files before proposing a change; never guess at an interface.",
        "",
        "## Steps",
        "",
        f"1. Find the {topic} modules with Grep and Glob.",
        "2. Read each module and the tests that cover it.",
        "3. Write down the current behaviour in two or three sentences.",
        "4. Propose the smallest change that does what the user asked.",
        "5. Make the change, then run the tests that cover it.",
        "6. Report what changed, what was tested and what was not.",
        "",
        "## Rules",
        "",
        "- Keep public interfaces stable unless the user asks otherwise.",
        "- Prefer clear names over comments; comment the why, not the what.",
        "- Do not reformat code you did not otherwise change.",
        "- Stop and ask when a change would touch more than five files.",
        "",
        "## Output",
        "",
        "A short summary, then the diff, then the commands you ran and their results.",
        f"Mention any {topic} configuration the user must update by hand.",
        "",
        "## Example",
        "",
        f"> Fix the flaky {topic} test in CI.",
        "",
        "Find the test, run it ten times, read the failure, fix the cause, not the symptom.",
    ]
    return "\n".join(lines) + "\n"


def manifest_text(plugin: int) -> str:
    return json.dumps({
        "name": f"bench-plugin-{plugin:03d}",
        "version": f"1.{plugin % 10}.0",
        "description": f"Generated benchmark plugin number {plugin}.",
        "author": {"name": "skillway bench", "email": "bench@example.com"},
        "license": "MIT",
        "keywords": ["bench", "generated"],
    }, indent=2) + "\n"


def command_text(plugin: int, name: str) -> str:
    return (
        "---\n"
        f"description: {name.title()} the current change (plugin {plugin})\n"
        'argument-hint: "[path]"\n'
        "allowed-tools: Read, Grep, Bash(git diff:*)\n"
        "---\n"
        f"{name.title()} the files in $ARGUMENTS, or the whole working tree when no path is given.\n"
        "Report each finding with its file and line.\n"
    )


def agent_text(plugin: int) -> str:
    return (
        "---\n"
        "name: reviewer\n"
        f"description: Reviews the changes of plugin {plugin} for correctness first, then clarity.\n"
        "tools: Read, Grep, Glob\n"
        "model: sonnet\n"
        "---\n"
        "You are a careful code reviewer. Read the diff and the code around it, then list the\n"
        "problems you found by severity, each with its file, line and a suggested fix.\n"
    )


def generate(folder: Path, plugins: int, skills: int) -> int:
    """Write the plugins; return the number of plugin files written."""
    count = 0

    def write(path: Path, text: str) -> None:
        nonlocal count
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        count += 1

    for plugin in range(plugins):
        root = folder / f"bench-plugin-{plugin:03d}"
        write(root / ".claude-plugin" / "plugin.json", manifest_text(plugin))
        for name in ("review", "explain"):
            write(root / "commands" / f"{name}.md", command_text(plugin, name))
        write(root / "agents" / "reviewer.md", agent_text(plugin))
        for skill in range(skills):
            text = skill_text(plugin, skill)
            name = text.split("\n", 2)[1].removeprefix("name: ")
            write(root / "skills" / name / "SKILL.md", text)
    return count


def time_runs(command: list[str], runs: int, cwd: Path, env: dict[str, str]) -> tuple[list[float], list]:
    times, results = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        results.append(result)
    return times, results


def describe(label: str, times: list[float]) -> str:
    return (f"{label:<26} median {statistics.median(times):.3f} s   "
            f"min {min(times):.3f} s   max {max(times):.3f} s   ({len(times)} runs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=200, help="plugins to generate (default 200)")
    parser.add_argument("--skills", type=int, default=20, help="skills per plugin (default 20)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="skillway-bench-") as temp:
        temp_path = Path(temp)
        plugins_dir = temp_path / "plugins"
        files = generate(plugins_dir, args.plugins, args.skills)

        env = dict(os.environ)
        env["SKILLWAY_CONFIG_DIR"] = str(temp_path / "config")
        env["SKILLWAY_DATA_DIR"] = str(temp_path / "data")
        env.pop("SKILLWAY_PLUGIN_DIRS", None)
        work = temp_path / "cwd"
        work.mkdir()

        baseline_cmd = [sys.executable, "-c", "import skillway.plugins.validate"]
        validate_cmd = [sys.executable, "-m", "skillway", "plugins", "validate", str(plugins_dir)]

        # One untimed run of each warms the file-system cache and the .pyc files.
        time_runs(baseline_cmd, 1, work, env)
        time_runs(validate_cmd, 1, work, env)

        baseline, baseline_results = time_runs(baseline_cmd, args.runs, work, env)
        validate, validate_results = time_runs(validate_cmd, args.runs, work, env)

    for result in baseline_results + validate_results:
        if result.returncode != 0:
            print(f"FAILED (exit {result.returncode}): {' '.join(result.args)}", file=sys.stderr)
            print(result.stdout[-4000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
            raise AssertionError("the generated plugins are valid: skillway plugins validate must exit 0")
    problems = validate_results[-1].stdout.splitlines()
    if problems:
        print(f"note: the generated plugins should be clean, but validate reported {len(problems)} problem(s), "
              f"the first: {problems[0]}")

    median = statistics.median(validate)
    print(f"plugins: {args.plugins} x {args.skills} skills; files validated: {files} "
          f"(plugin.json, SKILL.md, commands, agents); problems reported: {len(problems)}")
    print(describe("import skillway (baseline)", baseline))
    print(describe("plugins validate", validate))
    print(f"validate minus baseline (medians): {median - statistics.median(baseline):.3f} s")
    print(f"goal < {GOAL_SECONDS:g} s (median): {'MET' if median < GOAL_SECONDS else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
