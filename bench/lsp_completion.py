"""Benchmark: the language server's own overhead per inline completion, on a 5,000-line Python file.

`skillway serve` runs as a subprocess spoken to over stdio (the bare Content-Length client of
bench/lsp_startup.py), with `completionDebounceMs: 0`, against the fake Messages API with no
latency. Each request asks at a new position, so the suggestion cache cannot answer it (checked:
every request must make exactly one model call). Per request:

    raw       = wall time at the client, from writing the request to reading its response
    fake      = the fake API's own time for the model call (its recorded `ended - started`)
    overhead  = raw - fake: JSON-RPC, document and context handling, prompt, SDK, ledger, cleanup

p50 and p99 of both are printed (goal: overhead p50 under 5 ms), and the time of a cache hit (the
same position asked twice: no model call), also on a small file. For scale, the bare SDK then
replays the server's last request body against the same fake from a separate process: its wall time minus
the fake's time is the part of the overhead that is the SDK's own (HTTP, streaming, parsing).

    python bench/lsp_completion.py [--requests 200] [--lines 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lsp_startup import API_KEY, SKILLWAY, LspPipe, initialize_params, server_env  # noqa: E402

from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text  # noqa: E402

# Nothing in the file starts with this, so type-through never serves it from the cache either.
SUGGESTION = "value = compute_the_thing(argument_one, argument_two)  # zq"
WARM_UP = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def python_file(lines: int) -> str:
    """Plausible Python: functions of ten lines each, with a blank indented line to complete at."""
    out: list[str] = ['"""A generated module for the completion benchmark."""', "", "import math", ""]
    index = 0
    while len(out) < lines:
        out += [
            "",
            f"def function_{index}(items, factor={index % 7}):",
            f'    """Scale and sum the items (variant {index})."""',
            "    total = 0",
            "    for item in items:",
            "        if item % 3 == 0:",
            "            total += item * factor",
            "        ",
            f"    return math.floor(total / {index + 1})",
            "",
        ]
        index += 1
    return "\n".join(out[:lines]) + "\n"


def positions(text: str, count: int) -> list[tuple[int, int]]:
    """`count` distinct spots, spread over the file: the end of the blank indented lines."""
    spots = [(number, len(line)) for number, line in enumerate(text.split("\n")) if line == "        "]
    step = max(1, len(spots) // count)
    chosen = spots[::step][:count]
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} distinct positions in the file; use fewer requests")
    return chosen


def complete(server: LspPipe, uri: str, line: int, character: int) -> tuple[float, list]:
    params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
              "context": {"triggerKind": 1}}
    started = time.perf_counter()
    result = server.request("textDocument/inlineCompletion", params)
    elapsed = time.perf_counter() - started
    return elapsed, [item.get("insertText") for item in (result or {}).get("items") or []]


def model_calls(fake: FakeAnthropic) -> list:
    return [r for r in fake.requests if r.path == "/v1/messages"]


SDK_REPLAY = """
import asyncio, json, sys, time
import anthropic

body_file, base_url, api_key, warm, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
params = {k: v for k, v in json.load(open(body_file)).items() if k != "stream"}

async def main():
    client = anthropic.AsyncAnthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=10)

    async def once():
        stream = await client.messages.create(**params, stream=True)
        async for _ in stream:
            pass

    for _ in range(warm):
        await once()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await once()
        times.append(time.perf_counter() - started)
    await client.close()
    print(json.dumps(times))

asyncio.run(main())
"""


def bare_sdk(fake: FakeAnthropic, body: dict, requests: int, scratch: Path) -> tuple[list[float], list[float]]:
    """The SDK alone streaming `body` (what the server sent) against the same fake, from another
    process as the server is (the fake's thread then does not share a GIL with the client)."""
    body_file = scratch / "body.json"
    body_file.write_text(json.dumps(body), encoding="utf-8")
    first = len(fake.requests) + WARM_UP
    done = subprocess.run([sys.executable, "-c", SDK_REPLAY, str(body_file), fake.base_url, API_KEY, str(WARM_UP),
                           str(requests)], capture_output=True, text=True, timeout=300, check=True)
    raw = json.loads(done.stdout)
    calls = fake.requests[first:first + requests]
    return raw, [call.ended - call.started for call in calls]


def run(requests: int, lines: int, scratch: Path) -> None:
    workspace = scratch / "ws"
    workspace.mkdir()
    text = python_file(lines)
    source = workspace / "big_module.py"
    source.write_text(text, encoding="utf-8")
    uri = source.as_uri()
    spots = positions(text, WARM_UP + requests + 1)
    warm_spots, timed_spots, hit_spot = spots[:WARM_UP], spots[WARM_UP:-1], spots[-1]

    with FakeAnthropic(api_key=API_KEY, default_reply=Reply(content=[Text(SUGGESTION)])) as fake:
        server = LspPipe(SKILLWAY, env=server_env(scratch / "user", fake.base_url), cwd=workspace)
        try:
            server.request("initialize", initialize_params(workspace, inline=True, options={"completionDebounceMs": 0}))
            server.notify("initialized", {})
            server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                                    "text": text}})
            time.sleep(3)  # let the background warm-up (SDK import, session start) finish first

            for line, character in warm_spots:  # connections, imports and caches of the first calls
                elapsed, items = complete(server, uri, line, character)
                if items != [SUGGESTION]:
                    raise SystemExit(f"warm-up completion at {line}:{character} answered {items!r}; "
                                     f"server stderr:\n{server.stderr_text()[-3000:]}")

            raw, fake_times, overhead = [], [], []
            for line, character in timed_spots:
                before = len(model_calls(fake))
                elapsed, items = complete(server, uri, line, character)
                calls = model_calls(fake)
                if items != [SUGGESTION] or len(calls) != before + 1:
                    raise SystemExit(f"completion at {line}:{character}: {items!r} with {len(calls) - before} model "
                                     "call(s); expected the suggestion from exactly one call")
                call = fake.wait_until_finished(len(fake.requests) - 1)
                raw.append(elapsed)
                fake_times.append(call.ended - call.started)
                overhead.append(elapsed - (call.ended - call.started))

            # A cache hit: the same spot twice, the second without a model call.
            complete(server, uri, *hit_spot)
            before = len(model_calls(fake))
            hits = []
            for _ in range(20):
                elapsed, items = complete(server, uri, *hit_spot)
                hits.append(elapsed)
            hit_calls = len(model_calls(fake)) - before
            hit_items = items

            # The same cache hit on a small file: what the big file's size costs per request.
            small = workspace / "small.py"
            small_text = python_file(20)
            server.notify("textDocument/didOpen", {"textDocument": {"uri": small.as_uri(), "languageId": "python",
                                                                    "version": 1, "text": small_text}})
            small_spot = positions(small_text, 1)[0]
            complete(server, small.as_uri(), *small_spot)
            small_hits = [complete(server, small.as_uri(), *small_spot)[0] for _ in range(20)]
            body = model_calls(fake)[-1].body
        finally:
            server.close()
        sdk_raw, sdk_fake = bare_sdk(fake, body, min(100, requests), scratch)
    sdk_share = [r - f for r, f in zip(sdk_raw, sdk_fake)]

    ms = 1000
    print(f"inline completion on a {lines}-line Python file ({len(text) / 1024:.0f} KiB), "
          f"{len(raw)} requests at distinct positions, debounce 0, fake API with no latency:")
    print(f"  raw (client wall time)   p50 {percentile(raw, 50) * ms:6.2f} ms   p99 {percentile(raw, 99) * ms:6.2f} ms"
          f"   mean {statistics.mean(raw) * ms:6.2f} ms")
    print(f"  fake API's own time      p50 {percentile(fake_times, 50) * ms:6.2f} ms   "
          f"p99 {percentile(fake_times, 99) * ms:6.2f} ms")
    print(f"  server overhead          p50 {percentile(overhead, 50) * ms:6.2f} ms   "
          f"p99 {percentile(overhead, 99) * ms:6.2f} ms"
          f"   (goal p50 < 5 ms: {'ok' if percentile(overhead, 50) < 0.005 else 'OVER'})")
    print(f"  model calls: one per request (checked); cache hit (same spot again, {len(hits)} times, "
          f"{hit_calls} model calls, answer {'ok' if hit_items == [SUGGESTION] else repr(hit_items)}): "
          f"p50 {percentile(hits, 50) * ms:.2f} ms, max {max(hits) * ms:.2f} ms")
    print(f"  the same cache hit on a 20-line file: p50 {percentile(small_hits, 50) * ms:.2f} ms "
          "(the difference is per-request work proportional to the document's size)")
    print(f"for scale, the bare SDK replaying the server's last request body from another process ({len(sdk_raw)} times):")
    print(f"  SDK wall time p50 {percentile(sdk_raw, 50) * ms:6.2f} ms; minus the fake's own time: "
          f"p50 {percentile(sdk_share, 50) * ms:6.2f} ms   p99 {percentile(sdk_share, 99) * ms:6.2f} ms  (the SDK's share)")
    beyond = (percentile(overhead, 50) - percentile(sdk_share, 50)) * ms
    print(f"  server overhead beyond the bare SDK's share: p50 ~{beyond:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="skillway-bench-") as scratch:
        run(args.requests, args.lines, Path(scratch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
