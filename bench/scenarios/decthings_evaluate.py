"""decthings_evaluate: the built-in `decthings-sum` model, one f32 [8] input tensor per call, one
f64 [] sum back. Phase `sequential`: M calls one after the other, each timed (latency table); phase
`concurrent_16`: 2M calls with 16 in flight (async clients: 16 tasks on one client; sync clients: 16
threads sharing one client). Every output must equal the row's sum (the check). Contenders and the
child: _decthings.py."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bench.harness.contenders import AsyncContender, AsyncSession, SyncContender, SyncSession
from bench.harness.counting import PhaseClock
from bench.harness.plan import Comparison, Plan, Scenario, ScenarioContext
from bench.harness.samples import Outcome
from bench.scenarios._decthings import (
    CONTENDERS,
    LABELS,
    PUBLISHED_REQUIREMENT,
    SUM_MODEL,
    VECTOR,
    AsyncOps,
    PublishedRound,
    SyncOps,
    call_budgets,
    comparisons,
    counted_clients,
    expected_sums,
    published_contenders,
    same,
    start_emulator,
    vector_rows,
)

EVAL_CALLS = 300  # sequential calls per round; the concurrent phase makes twice as many
EVAL_QUICK_CALLS = 20
CONCURRENCY = 16
SEQUENTIAL, CONCURRENT = "sequential", f"concurrent_{CONCURRENCY}"
EVALUATE_METHOD = "Model.evaluate"


def _matches(got: Sequence[float], expected: Sequence[float]) -> int:
    if len(got) != len(expected):
        raise RuntimeError(f"{len(got)} outputs for {len(expected)} calls")
    return sum(g == e for g, e in zip(got, expected, strict=True))


def evaluate_round(
    clock: PhaseClock,
    evaluate: Callable[[Any], float],
    sequential: Any,
    concurrent: Any,
    expected: Sequence[float],
    pool: concurrent.futures.Executor,
) -> Outcome:
    """Phase `sequential`: one call after the other, each timed; phase `concurrent_16`: the calls
    spread over the pool's 16 threads. The check: outputs equal to the row's sum."""
    outputs: list[float] = []
    with clock.phase(SEQUENTIAL, messages=len(sequential)) as call_seconds:
        for row in sequential:
            start = time.perf_counter()
            outputs.append(evaluate(row))
            call_seconds.append(time.perf_counter() - start)
    with clock.phase(CONCURRENT, messages=len(concurrent)):
        outputs += pool.map(evaluate, concurrent)
    return clock.outcome(len(outputs), _matches(outputs, expected))


async def evaluate_round_async(
    clock: PhaseClock,
    evaluate: Callable[[Any], Awaitable[float]],
    sequential: Any,
    concurrent: Any,
    expected: Sequence[float],
) -> Outcome:
    """evaluate_round with 16 tasks on one event loop (each takes the next row when its call ends)."""
    outputs: list[float] = []
    with clock.phase(SEQUENTIAL, messages=len(sequential)) as call_seconds:
        for row in sequential:
            start = time.perf_counter()
            outputs.append(await evaluate(row))
            call_seconds.append(time.perf_counter() - start)
    spread: list[float] = [0.0] * len(concurrent)
    todo = iter(enumerate(concurrent))

    async def worker() -> None:
        for i, row in todo:
            spread[i] = await evaluate(row)

    with clock.phase(CONCURRENT, messages=len(concurrent)):
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    outputs += spread
    return clock.outcome(len(outputs), _matches(outputs, expected))


def evaluate_inputs(calls: int) -> tuple[Any, Any, list[float]]:
    """(sequential rows, concurrent rows, expected sums of both in order): `calls` and 2 x `calls`."""
    rows = vector_rows(3 * calls)
    return rows[:calls], rows[calls:], expected_sums(rows)


def published_driver(
    config: dict[str, Any], ops: SyncOps | AsyncOps, clock: Callable[[], PhaseClock]
) -> tuple[PublishedRound, Callable[[], None]]:
    """The published client's rounds, in its child (see _decthings.PublishedDriver)."""
    sequential, concurrent_rows, expected = evaluate_inputs(config["calls"])
    if isinstance(ops, AsyncOps):
        return (
            lambda _args: (
                lambda: evaluate_round_async(clock(), ops.evaluate, sequential, concurrent_rows, expected)
            ),
            lambda: None,
        )
    pool = concurrent.futures.ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="bench-evaluate")
    return (
        lambda _args: (
            lambda: evaluate_round(clock(), ops.evaluate, sequential, concurrent_rows, expected, pool)
        ),
        pool.shutdown,
    )


def decthings_evaluate(ctx: ScenarioContext) -> Plan:
    """decthings_evaluate: decthings-sum on one f32 [8] tensor per call; sequential, then 16 in flight."""
    from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsTensor

    calls = ctx.items or (EVAL_QUICK_CALLS if ctx.quick else EVAL_CALLS)
    sequential, concurrent_rows, expected = evaluate_inputs(calls)
    server = start_emulator(ctx)
    url, counter = counted_clients(ctx, server)

    def open_sync() -> Any:
        client = DecthingsClientSync(api_key=server.api_key, http_server_address=url)
        ops = SyncOps(client, DecthingsTensor, same)
        pool = concurrent.futures.ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="bench-evaluate")

        def close() -> None:
            pool.shutdown()
            client.close()

        return SyncSession(
            lambda: evaluate_round(
                PhaseClock(counter, server.pid), ops.evaluate, sequential, concurrent_rows, expected, pool
            ),
            close,
        )

    async def open_async() -> Any:
        client = DecthingsClient(api_key=server.api_key, http_server_address=url)
        ops = AsyncOps(client, DecthingsTensor, same)
        return AsyncSession(
            lambda: evaluate_round_async(
                PhaseClock(counter, server.pid), ops.evaluate, sequential, concurrent_rows, expected
            ),
            client.aclose,
        )

    config = {"url": url, "api_key": server.api_key, "server_pid": server.pid}
    concurrent_calls = len(concurrent_rows)
    return Plan(
        description=(
            f"Model.evaluate of the built-in {SUM_MODEL} on one f32 [{VECTOR}] tensor per call (built per "
            f"call), one f64 [] sum back, over HTTP against one emulator: phase {SEQUENTIAL} = {calls} "
            f"calls one after the other, each timed; phase {CONCURRENT} = {concurrent_calls} calls with "
            f"{CONCURRENCY} in flight (async: {CONCURRENCY} tasks on one client; sync: {CONCURRENCY} threads "
            "sharing one client). Every output must equal its row's sum. The published client runs in its "
            "own venv, a child process per client. HTTP calls counted client-side in each process."
        ),
        messages=calls + concurrent_calls,
        contenders=[
            SyncContender("modelwire_sync", LABELS["modelwire_sync"], open_sync),
            AsyncContender("modelwire_async", LABELS["modelwire_async"], open_async),
            *published_contenders(ctx, published_driver, {**config, "calls": calls}),
        ],
        comparisons=[
            *comparisons([SEQUENTIAL, CONCURRENT]),
            # issue 14: 16 calls in flight on the async client at least the sync client's throughput
            # (one after the other), and, as a reference, against 16 threads sharing the sync client
            Comparison(
                "modelwire_async",
                "modelwire_sync",
                1.0,
                phase=CONCURRENT,
                denominator_phase=SEQUENTIAL,
                title=f"modelwire async, {CONCURRENCY} in flight / modelwire sync, one after the other",
            ),
            Comparison(
                "modelwire_async",
                "modelwire_sync",
                None,
                phase=CONCURRENT,
                title=f"modelwire async, {CONCURRENCY} in flight / modelwire sync, {CONCURRENCY} threads",
            ),
        ],
        server=server,
        expected_check=calls + concurrent_calls,
        unit="calls/s",
        item="call",
        details={
            "model": SUM_MODEL,
            "calls": {SEQUENTIAL: calls, CONCURRENT: concurrent_calls},
            "concurrency": CONCURRENCY,
            "tensor": f"f32 [{VECTOR}]",
            "published": PUBLISHED_REQUIREMENT,
            "http_counts": "client-side: aiohttp ClientSession._request / requests Session.request",
        },
        call_methods=(EVALUATE_METHOD,),
        budgets=[
            *call_budgets(CONTENDERS, SEQUENTIAL, EVALUATE_METHOD, calls, "one per call"),
            *call_budgets(CONTENDERS, CONCURRENT, EVALUATE_METHOD, concurrent_calls, "one per call"),
        ],
    )


SCENARIO = Scenario(
    "decthings_evaluate", "decthings evaluate, sequential and 16 in flight", decthings_evaluate, order=60
)
