"""Benchmark: firing SessionStart with N plugins of one trivial hook each.

Prints the wall time of `Session.hooks.fire("SessionStart")` and the engine's own overhead on top of
its slowest hook (wall time minus the longest handler's run time), median over several runs, in the
same process. Goal: overhead under 50 ms.

    python bench/hooks_session_start.py [--plugins 20] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

GOAL_MS = 50.0


def make_plugins(root: Path, count: int) -> list[Path]:
    folders = []
    for index in range(count):
        folder = root / f"plugin-{index:02d}"
        (folder / ".claude-plugin").mkdir(parents=True)
        (folder / "hooks").mkdir()
        (folder / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": f"plugin-{index:02d}"}))
        hooks = {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": f"echo plugin {index} ready"}]}]}}
        (folder / "hooks" / "hooks.json").write_text(json.dumps(hooks))
        folders.append(folder)
    return folders


async def measure(plugins: int, runs: int) -> None:
    from skillway.app.session import Session
    from skillway.plugins.discovery import discover
    from skillway.settings import Settings

    with tempfile.TemporaryDirectory(prefix="skillway-hooks-bench-") as temp:
        root = Path(temp)
        os.environ["SKILLWAY_DATA_DIR"] = str(root / "data")
        folders = make_plugins(root / "plugins", plugins)
        found = discover(root, Settings(), folders, include_bundled=False)
        session = Session(root, found, Settings())
        await session.hooks.fire("SessionStart", {"source": "startup"}, match="startup")  # warm-up
        walls, slowest, overheads = [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            outcome = await session.hooks.fire("SessionStart", {"source": "startup"}, match="startup")
            wall = time.perf_counter() - started
            assert len(outcome.additional_context) == plugins, outcome.warnings
            longest = max(h.duration for h in outcome.handlers)
            walls.append(wall * 1000)
            slowest.append(longest * 1000)
            overheads.append((wall - longest) * 1000)

    def line(label: str, values: list[float]) -> str:
        ordered = sorted(values)
        return f"{label:<28} median {statistics.median(values):7.1f} ms   min {ordered[0]:7.1f}   max {ordered[-1]:7.1f}"

    print(f"SessionStart with {plugins} plugins x 1 trivial hook, {runs} runs (after one warm-up)")
    print(line("wall time of fire()", walls))
    print(line("slowest hook", slowest))
    print(line("engine overhead (wall-slowest)", overheads))
    met = statistics.median(overheads) < GOAL_MS
    print(f"goal: overhead < {GOAL_MS:.0f} ms (median): {'MET' if met else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(measure(args.plugins, args.runs))


if __name__ == "__main__":
    main()
