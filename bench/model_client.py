"""Benchmark: the model client's own overhead per streamed request, and its cold-start costs.

Against the fake Messages API on 127.0.0.1 with no latency:
- per streamed request: skillway's ModelClient (gate, quota check, ledger row, event handling) next
  to the bare SDK streaming the same request in the same process; the difference is our overhead,
  printed as p50 and p99 in ms;
- cold process: the time to import skillway's model package, and from process start to the first
  streamed answer (the SDK import dominates it; the language server warms it in the background).

    python bench/model_client.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text  # noqa: E402

MESSAGES = [{"role": "user", "content": "Complete: def add(a, b):"}]
REPLY = Reply(content=[Text("    return a + b  # the sum of both arguments, as written in the spec")])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def per_request(base_url: str, requests: int) -> tuple[list[float], list[float]]:
    import anthropic

    from skillway.model.client import ModelClient, ModelRequest
    from skillway.model.ledger import UsageLedger
    from skillway.settings import Settings

    ledger = UsageLedger(Path(tempfile.mkdtemp()) / "usage.db")
    ours = ModelClient(Settings(base_url=base_url), project="bench", ledger=ledger,
                       environ={"ANTHROPIC_API_KEY": "bench-key-0000"})
    bare = anthropic.AsyncAnthropic(base_url=base_url, api_key="bench-key-0000", max_retries=0, timeout=10)

    async def bare_once() -> None:  # the SDK's leanest streaming path: raw events, nothing kept
        stream = await bare.messages.create(model="claude-haiku-4-5", max_tokens=256, messages=MESSAGES, stream=True)
        async for _ in stream:
            pass

    async def ours_once() -> None:
        await ours.create(ModelRequest("completion", MESSAGES))

    for _ in range(10):  # warm both paths (connections, imports, caches)
        await bare_once()
        await ours_once()
    bare_ms, ours_ms = [], []
    for _ in range(requests):  # interleaved, so machine noise hits both alike
        started = time.perf_counter()
        await bare_once()
        bare_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await ours_once()
        ours_ms.append((time.perf_counter() - started) * 1000)
    ledger.close()
    return bare_ms, ours_ms


def cold(command: str, env: dict, runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", command], env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with FakeAnthropic(default_reply=REPLY) as fake:
        bare_ms, ours_ms = asyncio.run(per_request(fake.base_url, args.requests))
        overhead = [o - b for o, b in zip(ours_ms, bare_ms)]
        print(f"streamed requests: {args.requests} each way, fake API latency 0")
        print(f"  bare SDK         p50 {percentile(bare_ms, 50):6.2f} ms   p99 {percentile(bare_ms, 99):6.2f} ms")
        print(f"  skillway client  p50 {percentile(ours_ms, 50):6.2f} ms   p99 {percentile(ours_ms, 99):6.2f} ms")
        print(f"  overhead (pairwise) p50 {percentile(overhead, 50):6.2f} ms   p99 {percentile(overhead, 99):6.2f} ms"
              f"   ratio of medians {statistics.median(ours_ms) / statistics.median(bare_ms):.2f}x")

        env = dict(os.environ, ANTHROPIC_API_KEY="bench-key-0000", SKILLWAY_DATA_DIR=tempfile.mkdtemp())
        baseline = cold("pass", env)
        imports = cold("import skillway.model.client", env)
        first = cold(
            "import asyncio\n"
            "from skillway.settings import Settings\n"
            "from skillway.model.client import ModelClient, ModelRequest\n"
            f"client = ModelClient(Settings(base_url={fake.base_url!r}), project='bench')\n"
            f"asyncio.run(client.create(ModelRequest('completion', {MESSAGES!r})))\n", env)
    print("cold process (median of 5):")
    print(f"  python start alone            {statistics.median(baseline):7.0f} ms")
    print(f"  import skillway.model.client  {statistics.median(imports):7.0f} ms  (the SDK is not imported yet)")
    print(f"  start to first streamed answer {statistics.median(first):6.0f} ms  (includes importing the SDK)")


if __name__ == "__main__":
    main()
