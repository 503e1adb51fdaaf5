"""memory: the client's peak RSS while it streams a million Clavata results and lists a million
Clarifai inputs (issue 14: within 50 MB of where it started).

Each client runs in a child process of its own (`bench/run.py --child
bench.scenarios.memory:measure_child CONFIG.json`), so that its RSS is its own: it connects, makes
one warm-up call, collects garbage, reads its RSS ("start"), resets the kernel's peak-RSS mark
(/proc/self/clear_refs; a 2 ms sampler stands in where that is refused), does the work, and reports
the peak. Clavata results come from the replay server of clavata_stream_replay (the emulator's
responses for 10,000 texts, recorded once) in calls of 10,000 items: one Evaluate request holds
every item of a call, so a single call of a million items would hold a request of ~40 MB by
itself; a user streams a million results as many calls. Clarifai inputs come from a synthetic
ListInputs server (_listing_server.py) through `app.inputs().list_inputs(per_page=1000)`, one lazy listing.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness.common import HOST, RUN_PY, STARTUP_TIMEOUT, BenchError, function_name
from bench.harness.measures import Measure, Measurements, median_of
from bench.harness.plan import Scenario, ScenarioContext
from bench.scenarios import _listing_server
from bench.scenarios._clavata import CLAVATA_POLICY, clavata_texts
from bench.scenarios._clavata_replay_server import start_replay_server

RESULTS = 1_000_000
QUICK_RESULTS = 20_000
PER_CALL = 10_000  # Clavata items per Evaluate call (the replay server's recording)
PER_PAGE = 1000  # Clarifai inputs per ListInputs page (the API's maximum)
BUDGET_MB = 50.0
KINDS = {
    "clavata_sync": "ClavataClient.evaluate, `for`",
    "clavata_async": "AsyncClavataClient.evaluate, `async for`",
    "clarifai_list": "App.inputs().list_inputs(per_page=1000)",
}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"/proc/self/status has no {field}")


@contextmanager
def peak_rss() -> Iterator[Callable[[], float]]:
    """Yields a function giving the peak RSS (MB) since entering: the kernel's mark, reset on entry
    (clear_refs 5), or, where that is refused, the highest RSS a 2 ms sampler saw."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        yield lambda: _status_kb("VmHWM") / 1024
        return
    except OSError:
        pass
    highest = [_status_kb("VmRSS")]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            highest[0] = max(highest[0], _status_kb("VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: max(highest[0], _status_kb("VmRSS")) / 1024
    finally:
        done.set()
        sampler.join()


def _clavata_sync(config: dict[str, Any]) -> Callable[[int], int]:
    from modelwire.clavata import ClavataClient, EvaluateRequest, Outcome

    client = ClavataClient(host=config["host"], port=config["port"], auth_token=config["api_key"])
    texts = clavata_texts(PER_CALL)

    def run(calls: int) -> int:
        matched = 0
        for _ in range(max(calls, 1)):
            for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                report = response.report
                matched += report is not None and report.outcome == Outcome.TRUE
        return matched

    return run


def _clavata_async(config: dict[str, Any]) -> Callable[[int], int]:
    import asyncio

    from modelwire.clavata import AsyncClavataClient, EvaluateRequest, Outcome

    texts = clavata_texts(PER_CALL)
    loop = asyncio.new_event_loop()
    client = AsyncClavataClient(host=config["host"], port=config["port"], auth_token=config["api_key"])

    async def calls_of(calls: int) -> int:
        matched = 0
        for _ in range(max(calls, 1)):
            async for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                report = response.report
                matched += report is not None and report.outcome == Outcome.TRUE
        return matched

    return lambda calls: loop.run_until_complete(calls_of(calls))


def _clarifai_list(config: dict[str, Any]) -> Callable[[int], int]:
    from modelwire.clarifai import App

    app = App(
        user_id="bench",
        app_id="memory",
        base_url=f"http://{config['host']}:{config['port']}",
        pat=config["api_key"],
    )

    inputs = app.inputs()

    def run(calls: int) -> int:
        if calls == 0:  # the warm-up: one page
            return len(list(inputs.list_inputs(page_no=1, per_page=PER_PAGE)))
        count = 0
        last = ""
        for item in inputs.list_inputs(per_page=PER_PAGE):
            count += 1
            last = item.id
        if last != f"input-{config['total'] - 1}":
            raise BenchError(f"the listing ended at {last!r} after {count} inputs")
        return count

    return run


_CLIENTS: dict[str, Callable[[dict[str, Any]], Callable[[int], int]]] = {
    "clavata_sync": _clavata_sync,
    "clavata_async": _clavata_async,
    "clarifai_list": _clarifai_list,
}


def measure_child(config_path: str) -> int:
    """One client's run in this (child) process; prints its figures as one JSON line."""
    config = json.loads(Path(config_path).read_text())
    run = _CLIENTS[config["kind"]](config)
    run(0)  # warm-up: the channel, the code paths (one call, or the first page)
    gc.collect()
    start_mb = _status_kb("VmRSS") / 1024
    started, cpu = time.perf_counter(), time.process_time()
    with peak_rss() as peak:
        check = run(config["calls"])
        peak_mb = peak()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps({"start_mb": start_mb, "peak_mb": peak_mb, "seconds": seconds, "cpu": cpu, "check": check})
    )
    return 0


def _child(ctx: ScenarioContext, config: dict[str, Any]) -> dict[str, float]:
    path = ctx.workdir / f"memory_{config['kind']}.json"
    path.write_text(json.dumps(config))
    cmd = [sys.executable, str(RUN_PY), "--child", function_name(measure_child), str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise BenchError(f"memory child {config['kind']} failed:\n{done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def memory(ctx: ScenarioContext, rounds: int) -> Measurements:
    results = ctx.items or (QUICK_RESULTS if ctx.quick else RESULTS)
    calls = max(results // PER_CALL, 1)
    replay, recording = start_replay_server(ctx, clavata_texts(PER_CALL))
    spec = ctx.workdir / "listing_spec.json"
    spec.write_text(json.dumps({"total": results, "host": HOST}))
    listing = ctx.serve(
        "listing server",
        [sys.executable, str(RUN_PY), "--child", function_name(_listing_server.main), str(spec)],
        timeout=STARTUP_TIMEOUT,
    )
    configs = {
        "clavata_sync": {"host": replay.host, "port": replay.port, "calls": calls},
        "clavata_async": {"host": replay.host, "port": replay.port, "calls": calls},
        "clarifai_list": {"host": listing.host, "port": listing.port, "calls": 1, "total": results},
    }
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in configs}
    for _ in range(rounds):
        for kind, config in configs.items():
            runs[kind].append(_child(ctx, {**config, "kind": kind, "api_key": replay.api_key}))
    expected = {
        "clavata_sync": calls * recording["true_outcomes"],
        "clavata_async": calls * recording["true_outcomes"],
        "clarifai_list": results,
    }
    measures = []
    for kind, samples in runs.items():
        if any(s["check"] != expected[kind] for s in samples):
            raise BenchError(f"{kind}: checks {[s['check'] for s in samples]}, expected {expected[kind]}")
        growth = [s["peak_mb"] - s["start_mb"] for s in samples]
        items = calls * PER_CALL if kind.startswith("clavata") else results
        rate = median_of([items / s["seconds"] for s in samples])
        cpu_us = median_of([s["cpu"] / items * 1e6 for s in samples])
        start = median_of([s["start_mb"] for s in samples])
        measures.append(
            Measure(
                f"{KINDS[kind]}: peak RSS growth",
                median_of(growth),
                "MB",
                target=BUDGET_MB,
                at_most=True,
                detail=f"{items:,} items; start {start:.0f} MB; {rate:,.0f}/s; {cpu_us:.1f} us CPU/item",
                samples=growth,
            )
        )
    return Measurements(
        description=(
            f"peak client RSS above its start while streaming {calls * PER_CALL:,} Clavata results "
            f"(calls of {PER_CALL:,} against the replay server) and listing {results:,} Clarifai inputs "
            f"(pages of {PER_PAGE}, a synthetic ListInputs server); each client in its own process"
        ),
        measures=measures,
        details={"runs": runs, "recording": recording},
    )


SCENARIO = Scenario("memory", "memory while streaming and listing", measure=memory, rounds=3, order=80)
