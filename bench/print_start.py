"""Benchmark: `skillway -p hi` from start to exit against a local fake API, by itself (`--no-daemon`,
what the first run pays) and through the warm process (every later run), side by side with Claude
Code's `claude -p hi` when it is installed (on PATH, or CLAUDE_BIN) and with a bare `python -c pass`.
Median of several runs, and the ratios.

    python bench/print_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    claude = os.environ.get("CLAUDE_BIN") or shutil.which("claude")
    skillway = [sys.executable, "-m", "skillway", "-p", "hi", "--bare"]
    with tempfile.TemporaryDirectory() as scratch, FakeAnthropic() as fake:
        root = Path(scratch)
        (root / "ws").mkdir()
        fake.default_reply = Reply(content=[Text("hi")])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SKILLWAY_"))}
        env.update(ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="sk-bench", HOME=str(root / "home"),
                   SKILLWAY_DATA_DIR=str(root / "data"), SKILLWAY_CONFIG_DIR=str(root / "config"),
                   SKILLWAY_RUNTIME_DIR=str(root / "rt"))
        cases: dict[str, list[str]] = {"python -c pass": [sys.executable, "-c", "pass"],
                                       "skillway -p hi --no-daemon": [*skillway, "--no-daemon"],
                                       "skillway -p hi (warm process)": skillway}
        if claude:
            cases["claude -p hi"] = [claude, "-p", "hi"]
        timed(skillway, env, root / "ws")  # starts the warm process
        while not (root / "rt" / "print.sock").exists():
            time.sleep(0.05)
        figures = {name: [] for name in cases}
        for _ in range(args.runs):  # side by side, in turn, so a noisy moment costs each the same
            for name, argv in cases.items():
                figures[name].append(timed(argv, env, root / "ws"))
        pid = root / "rt" / "print.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), 15)
    medians = {name: statistics.median(values) * 1000 for name, values in figures.items()}
    print(f"print mode, start to exit, median of {args.runs} runs")
    for name, ms in medians.items():
        print(f"  {name:32} {ms:8.1f} ms")
    warm, alone = medians["skillway -p hi (warm process)"], medians["skillway -p hi --no-daemon"]
    print(f"  warm / by itself: {warm / alone:.2f}")
    if claude:
        theirs = medians["claude -p hi"]
        print(f"  warm / claude: {warm / theirs:.2f}   by itself / claude: {alone / theirs:.2f}")
    else:
        print("  (claude is not installed: set CLAUDE_BIN to compare)")


if __name__ == "__main__":
    main()
