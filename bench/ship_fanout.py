"""Benchmark: the /ship fan-out of the three bundled reviewers, against the fake API with 1 s latency.

`run_ship(session, "/ship")` on a temporary repository whose change may not skip the review starts
code-reviewer, security-auditor and test-engineer at once, one request each, every reply streamed
over 1 s by the fake Messages API on 127.0.0.1. Per run it prints the fan-out wall time
(`ShipResult.fan_out_seconds`: PreToolUse hooks, the three sub-agents with their SubagentStart and
SubagentStop hooks, PostToolUse hooks), the slowest reviewer request as the fake server timed it, their
ratio and difference (skillway's overhead), and whether the three requests overlapped (each started
before any ended). Then the medians, per hook event the longest of its three firings (timed by
wrapping this session's `hooks.fire`), and how far apart the three requests started.
Goal: median fan-out under 1.3x the slowest request.

    python bench/ship_fanout.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 1.3
DELAY = 1.0  # seconds of fake latency per reviewer request


async def measure(runs: int) -> None:
    import anthropic  # noqa: F401 - the SDK import (~2.5 s) must not land in a timed run

    from skillway.app.session import Session
    from skillway.plugins.discovery import discover
    from skillway.settings import Settings
    from skillway.ship.orchestrator import run_ship
    from tests.fakes.anthropic_server import FakeAnthropic
    from tests.ship.helpers import REVIEWERS, lines, make_repo, reviewers

    with tempfile.TemporaryDirectory(prefix="skillway-ship-bench-") as temp, FakeAnthropic() as fake:
        repo = make_repo(Path(temp) / "repo", {"README.md": "a project\n", "src/app.py": lines(10)})
        for name in ("src/app.py", "src/util.py", "docs/notes.md"):  # 3 files, 60 lines: no skip
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text(lines(20, word=name))
        settings = Settings(base_url=fake.base_url)
        session = Session(repo, discover(repo, settings, []), settings)
        await session.start()
        fires: list[tuple[str, float, float]] = []  # (event, started, ended) of every hook firing
        fire = session.hooks.fire

        async def timed_fire(event: str, *args, **kwargs):
            started = time.monotonic()
            try:
                return await fire(event, *args, **kwargs)
            finally:
                fires.append((event, started, time.monotonic()))

        session.hooks.fire = timed_fire  # this session only: times each phase's (concurrent) hooks

        async def once() -> tuple:
            fake.clear_requests()
            fires.clear()
            fake.enqueue(*[reviewers(delay=DELAY)] * len(REVIEWERS))
            result = await run_ship(session, "/ship")
            requests = fake.requests
            assert not result.skipped and len(requests) == len(REVIEWERS), (result.skipped, len(requests))
            assert all(review.ok for review in result.reviews), [review.error for review in result.reviews]
            slowest = max(r.ended - r.started for r in requests)
            overlapped = max(r.started for r in requests) < min(r.ended for r in requests)
            phase = {"request start stagger": max(r.started for r in requests) - min(r.started for r in requests)}
            for event, started, ended in fires:  # the three firings of an event run side by side: the longest
                phase[event] = max(phase.get(event, 0.0), ended - started)
            return result.change.digest, result.fan_out_seconds, slowest, overlapped, phase

        digest = (await once())[0]  # warm-up: connections, templates, hook interpreters
        walls, slowest, ratios, overheads, phases = [], [], [], [], defaultdict(list)
        print(f"/ship fan-out of {len(REVIEWERS)} reviewers, fake latency {DELAY:g} s per request, {runs} runs "
              "(after one warm-up)")
        print(f"{'run':>4} {'fan-out s':>10} {'slowest req s':>14} {'ratio':>6} {'overhead ms':>12} {'overlap':>8}")
        for number in range(1, runs + 1):
            changed, wall, longest, overlapped, phase = await once()
            assert changed == digest, "the change moved between runs"
            walls.append(wall)
            slowest.append(longest)
            ratios.append(wall / longest)
            overheads.append((wall - longest) * 1000)
            for name, seconds in phase.items():
                phases[name].append(seconds * 1000)
            print(f"{number:>4} {wall:>10.3f} {longest:>14.3f} {wall / longest:>6.3f} {overheads[-1]:>12.1f} "
                  f"{'yes' if overlapped else 'NO':>8}")
        await session.end()

    ratio = statistics.median(ratios)
    print(f"{'med':>4} {statistics.median(walls):>10.3f} {statistics.median(slowest):>14.3f} {ratio:>6.3f} "
          f"{statistics.median(overheads):>12.1f}")
    print("per phase, median of each run's longest hook firing (ms):")
    for name in ("PreToolUse", "SubagentStart", "SubagentStop", "PostToolUse", "request start stagger"):
        if name in phases:
            print(f"  {name:<22} {statistics.median(phases[name]):8.1f}")
    verdict = "MET" if ratio < GOAL_RATIO else "NOT MET"
    print(f"goal: fan-out < {GOAL_RATIO}x the slowest request (median ratio): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="skillway-ship-bench-user-") as home:
        # Before any skillway import: nothing reads or writes the real user's folders or key.
        os.environ["SKILLWAY_DATA_DIR"] = str(Path(home) / "data")
        os.environ["SKILLWAY_CONFIG_DIR"] = str(Path(home) / "config")
        os.environ["ANTHROPIC_API_KEY"] = "bench-key-0000"
        os.environ.pop("SKILLWAY_PLUGIN_DIRS", None)
        asyncio.run(measure(args.runs))


if __name__ == "__main__":
    main()
