"""Differential check: for each plugin in a folder, what Claude Code and skillway show the model.

Both run `-p hi --plugin-dir PLUGIN` against the project's fake API (tests/fakes) in a scratch home
and git repository; the script reads the first request each sends and prints one line per plugin:
the plugin's item names listed to the model (`- plugin:name: ...` lines) and the SessionStart
context it injects, each "same" or what differs. Not part of the test suite: it needs Claude Code
(`claude` on PATH, or --claude PATH) and is skipped without it.

    python compat/differential.py tests/fixtures/lenient [--claude node_modules/.bin/claude]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text  # noqa: E402

API_KEY = "sk-differential-0123456789"
CONTEXT = re.compile(r"SessionStart hook additional context: (.*?)\n?</system-reminder>", re.DOTALL)


def plugin_name(folder: Path) -> str:
    """The manifest's name, or the folder's (as both tools name a plugin without a manifest)."""
    try:
        name = json.loads((folder / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else folder.name


def first_request(fake: FakeAnthropic, command: list[str], scratch: Path, extra_env: dict[str, str]) -> dict | None:
    """Run `command` in a fresh home and git repository; the body of the first Messages request it sent."""
    home, work = scratch / "home", scratch / "work"
    home.mkdir(parents=True)
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "SKILLWAY_"))}
    env.update(HOME=str(home), ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY=API_KEY, **extra_env)
    fake.clear_requests()
    subprocess.run(command, cwd=work, env=env, capture_output=True, timeout=180)
    bodies = [r.body for r in fake.requests if r.path.endswith("/messages") and r.body.get("messages")]
    return max(bodies, key=lambda body: len(json.dumps(body)), default=None)  # the main request is the largest


def shown(body: dict | None, plugin: str, baseline: str = "") -> tuple[list[str], list[str]]:
    """(the plugin's item names listed in the request, the SessionStart context it adds to `baseline`,
    what the tool injects with no plugin of the user's)."""
    if body is None:
        return [], []
    text = _all_text(body)
    names = sorted(set(re.findall(rf"^- ({re.escape(plugin)}:[\w:.-]+):", text, re.MULTILINE)))
    context = "\n".join(match.strip() for match in CONTEXT.findall(text))
    added = context.replace(baseline, "", 1).strip() if baseline else context
    return names, [added] if added else []


def _all_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_all_text(item) for item in value.values())
    if isinstance(value, list):
        return "\n".join(_all_text(item) for item in value)
    return ""


def compare(label: str, claude: list[str], ours: list[str]) -> str:
    if claude == ours:
        return f"{label} same ({len(ours)})"
    only_claude = [item for item in claude if item not in ours]
    only_ours = [item for item in ours if item not in claude]
    return f"{label} DIFFER (only Claude Code: {only_claude[:5]}; only skillway: {only_ours[:5]})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plugins", type=Path, help="a folder whose sub-folders are plugins")
    parser.add_argument("--claude", help="the Claude Code executable (default: claude on PATH)")
    args = parser.parse_args()
    claude = args.claude or shutil.which("claude")
    if claude is None:
        print("skipped: Claude Code is not on PATH (give --claude PATH)")
        return 0
    skillway = [sys.executable, "-m", "skillway"]
    folders = sorted(p for p in args.plugins.iterdir() if p.is_dir())
    with FakeAnthropic(default_reply=Reply(content=[Text("ok")])) as fake, tempfile.TemporaryDirectory() as scratch:
        def request(tool: str, folder: Path, label: str) -> dict | None:
            command = [claude] if tool == "claude" else skillway
            extra = {} if tool == "claude" else {"SKILLWAY_CONFIG_DIR": str(Path(scratch) / f"c-{label}"),
                                                  "SKILLWAY_DATA_DIR": str(Path(scratch) / f"d-{label}")}
            return first_request(fake, [*command, "-p", "hi", "--plugin-dir", str(folder.resolve())],
                                 Path(scratch) / f"{tool}-{label}", extra)

        empty = Path(scratch) / "empty-plugin"
        empty.mkdir()
        # What each tool injects on its own (skillway's bundled plugin, Claude Code's git status) is set aside.
        baselines = {tool: "\n".join(m.strip() for m in CONTEXT.findall(_all_text(request(tool, empty, "baseline") or {})))
                     for tool in ("claude", "skillway")}
        for index, folder in enumerate(folders):
            name = plugin_name(folder)
            theirs = shown(request("claude", folder, str(index)), name, baselines["claude"])
            ours = shown(request("skillway", folder, str(index)), name, baselines["skillway"])
            print(f"{name:<24} {compare('names', theirs[0], ours[0])}; {compare('context', theirs[1], ours[1])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
