"""Decthings benchmarks: modelwire's DecthingsClientSync / DecthingsClient against the published
decthings-api 0.0.4 (its DecthingsClientSync / DecthingsClient), over HTTP, against one emulator.

Two scenarios, registered in bench/run.py, which loads this file by path and passes itself to the
plan builders as `h` (the harness: contenders, PhaseClock, CallCounter, Plan, ...):

* `decthings_add_entries`: a fresh dataset per round and contender (one key `vector`, f32 [8]; made
  and deleted by a separate client, untimed); the timed phase `add_entries` builds the
  DecthingsTensors from N rows and adds them in calls of 100 entries (the published client's blob
  count is a u8: at most 255 per call). After the phase (untimed) the contender's client reads the
  dataset's entry count back with getDatasets: the round's check, which must be N.
* `decthings_evaluate`: the built-in `decthings-sum` model, one f32 [8] input tensor per call, one
  f64 [] sum back. Phase `sequential`: M calls one after the other, each timed (latency table);
  phase `concurrent_16`: 2M calls with 16 in flight (async clients: 16 tasks on one client; sync
  clients: 16 threads sharing one client). Every output must equal the row's sum (the check).

Contenders: `modelwire_sync`, `modelwire_async` (in the bench process) and `decthings_api_sync`,
`decthings_api_async` (the published client, in its own venv, a child process each, driven one round
at a time: `python -I bench/decthings.py --child BENCH_RUN_PY CONFIG_JSON`). The child loads
bench/run.py by path for PhaseClock / CallCounter / _time_sync and runs this file's round functions,
so both sides build, time, count and check alike. HTTP calls are counted on the client side in both
processes by wrapping aiohttp's `ClientSession._request` and requests' `Session.request` (every
Decthings HTTP call of either client goes through one of them), named `Api.method` from the URL.

Only the standard library is imported at module level: the child's venv has numpy and the published
client but not modelwire, the bench's venv modelwire but not the published client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import importlib
import importlib.util
import json
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

PUBLISHED_VENV = "decthings"  # shared with `make compat` (scripts/compat.py's DECTHINGS_TARGET)
PUBLISHED_REQUIREMENT = "decthings-api==0.0.4"
KEY = "vector"  # the bench dataset's one key
VECTOR = 8  # f32 elements per entry / per evaluate input
BATCH = 100  # entries per addEntries call (the published client: at most 255 blobs per call)
ADD_ITEMS = 20_000
ADD_QUICK_ITEMS = 300
SUM_MODEL = "decthings-sum"  # built-in: f32/f64 tensors in, one f64 [] sum out per tensor
EVAL_CALLS = 300  # sequential calls per round; the concurrent phase makes twice as many
EVAL_QUICK_CALLS = 20
CONCURRENCY = 16
ADD, SEQUENTIAL, CONCURRENT = "add_entries", "sequential", f"concurrent_{CONCURRENCY}"
ADD_METHOD, EVALUATE_METHOD = "Dataset.addEntries", "Model.evaluate"
_DECTHINGS_LISTENING = re.compile(r"Decthings \(HTTP \+ WebSocket\): http://(\S+?):(\d+)/v0")

Outcome = Any  # h.Outcome (the harness's class, of whichever process runs this)


# --------------------------------------------------------------------------------------------------
# Inputs, outputs and the calls each client makes (both processes)


def vector_rows(n: int) -> Any:
    """n rows of f32 [8] (small integers, so every sum is exact in any order); deterministic."""
    import numpy as np

    base = np.arange(n * VECTOR, dtype=np.int64).reshape(n, VECTOR)
    return ((base * 7919 + base // VECTOR) % 17 - 8).astype("<f4")


def expected_sums(rows: Any) -> list[float]:
    return [float(s) for s in rows.astype("<f8").sum(axis=1)]


def _method_of(url: object) -> str:
    """`Api.method` of a Decthings HTTP URL (`.../v0/Dataset/addEntries`)."""
    parts = urlsplit(str(url)).path.rstrip("/").rsplit("/", 2)
    return ".".join(parts[-2:]) if len(parts) >= 2 else str(url)


def count_http_calls(counter: Any) -> Callable[[], None]:
    """Count every HTTP request made through aiohttp (modelwire; the published async client) or
    requests (the published sync client) from now on, on `counter` (h.CallCounter) by `Api.method`;
    returns the function that undoes it."""
    undo: list[Callable[[], None]] = []
    try:
        import aiohttp
    except ImportError:
        pass
    else:
        original_request = aiohttp.ClientSession._request

        @functools.wraps(original_request)
        async def counted_request(self: Any, method: str, str_or_url: Any, *args: Any, **kwargs: Any) -> Any:
            counter.started(_method_of(str_or_url))
            return await original_request(self, method, str_or_url, *args, **kwargs)

        aiohttp.ClientSession._request = counted_request
        undo.append(lambda: setattr(aiohttp.ClientSession, "_request", original_request))
    try:
        import requests
    except ImportError:
        pass
    else:
        original_session_request = requests.Session.request

        @functools.wraps(original_session_request)
        def counted_session_request(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
            counter.started(_method_of(url))
            return original_session_request(self, method, url, *args, **kwargs)

        requests.Session.request = counted_session_request
        undo.append(lambda: setattr(requests.Session, "request", original_session_request))

    def restore() -> None:
        for step in reversed(undo):
            step()

    return restore


def published_result(pair: Any) -> Any:
    """The result of a published-client call, which returns (result, error) instead of raising."""
    result, error = pair
    if error is not None:
        raise RuntimeError(f"the API answered an error: {error}")
    return result


def same(result: Any) -> Any:
    return result


def output_sum(result: Any) -> float:
    """The one f64 [] tensor that decthings-sum returns for one input tensor."""
    success = result.get("success")
    if success is None:
        raise RuntimeError(f"evaluate failed: {result.get('failed')}")
    outputs = success["output"]
    if len(outputs) != 1 or len(outputs[0]["data"]) != 1:
        raise RuntimeError(f"evaluate: expected one output tensor, got {outputs}")
    tensor = outputs[0]["data"][0]
    if tensor.type() != "f64" or list(tensor.shape()) != []:
        raise RuntimeError(f"evaluate: expected an f64 [] output, got {tensor.type()} {tensor.shape()}")
    return float(tensor.item())


def entry_count(result: Any, dataset_id: str) -> int:
    found = [d for d in result["datasets"] if d["id"] == dataset_id]
    if len(found) != 1:
        raise RuntimeError(f"getDatasets did not return dataset {dataset_id}: {result}")
    return int(found[0]["entries"]["count"])


def _add_params(tensor: Any, dataset_id: str, rows: Any) -> dict[str, Any]:
    return {
        "datasetId": dataset_id,
        "keys": [{"key": KEY, "data": [tensor(r, "f32", [VECTOR]) for r in rows]}],
    }


def _evaluate_params(tensor: Any, row: Any) -> dict[str, Any]:
    return {"modelId": SUM_MODEL, "params": [{"name": "input", "data": [tensor(row, "f32", [VECTOR])]}]}


def _datasets_params(dataset_id: str) -> dict[str, Any]:
    return {"filter": {"ids": [dataset_id]}}


class SyncOps:
    """The calls a round makes with a blocking client (modelwire's or the published one): `unwrap`
    turns what a call returns into its result (the published client returns (result, error))."""

    def __init__(self, client: Any, tensor: Any, unwrap: Callable[[Any], Any]) -> None:
        self.client, self.tensor, self.unwrap = client, tensor, unwrap

    def add(self, dataset_id: str, rows: Any) -> None:
        self.unwrap(self.client.dataset.add_entries(_add_params(self.tensor, dataset_id, rows)))

    def count(self, dataset_id: str) -> int:
        result = self.unwrap(self.client.dataset.get_datasets(_datasets_params(dataset_id)))
        return entry_count(result, dataset_id)

    def evaluate(self, row: Any) -> float:
        return output_sum(self.unwrap(self.client.model.evaluate(_evaluate_params(self.tensor, row))))


class AsyncOps:
    """SyncOps for an async client."""

    def __init__(self, client: Any, tensor: Any, unwrap: Callable[[Any], Any]) -> None:
        self.client, self.tensor, self.unwrap = client, tensor, unwrap

    async def add(self, dataset_id: str, rows: Any) -> None:
        self.unwrap(await self.client.dataset.add_entries(_add_params(self.tensor, dataset_id, rows)))

    async def count(self, dataset_id: str) -> int:
        result = self.unwrap(await self.client.dataset.get_datasets(_datasets_params(dataset_id)))
        return entry_count(result, dataset_id)

    async def evaluate(self, row: Any) -> float:
        result = self.unwrap(await self.client.model.evaluate(_evaluate_params(self.tensor, row)))
        return output_sum(result)


# --------------------------------------------------------------------------------------------------
# Rounds, the same for every contender (the child runs them too)


def add_entries_round(clock: Any, ops: SyncOps, dataset_id: str, rows: Any) -> Outcome:
    """Timed: build the tensors and add them, BATCH per call. Then (untimed) the entry count."""
    n = len(rows)
    with clock.phase(ADD):
        for start in range(0, n, BATCH):
            ops.add(dataset_id, rows[start : start + BATCH])
    return clock.outcome(n, ops.count(dataset_id))


async def add_entries_round_async(clock: Any, ops: AsyncOps, dataset_id: str, rows: Any) -> Outcome:
    n = len(rows)
    with clock.phase(ADD):
        for start in range(0, n, BATCH):
            await ops.add(dataset_id, rows[start : start + BATCH])
    return clock.outcome(n, await ops.count(dataset_id))


def _matches(got: Sequence[float], expected: Sequence[float]) -> int:
    if len(got) != len(expected):
        raise RuntimeError(f"{len(got)} outputs for {len(expected)} calls")
    return sum(g == e for g, e in zip(got, expected, strict=True))


def evaluate_round(
    clock: Any,
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
    clock: Any,
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


# --------------------------------------------------------------------------------------------------
# The published client's child process


def published_driver(
    h: ModuleType, config: dict[str, Any], counter: Any
) -> tuple[Callable[[dict[str, Any]], Callable[[], Any]], Callable[[], None]]:
    """(round args -> the round's timed call (a coroutine function for the async client), close)."""
    tensor = importlib.import_module("decthings_api.tensor").DecthingsTensor
    is_async = config["mode"] == "async"
    if is_async:
        client = importlib.import_module("decthings_api.client").DecthingsClient(
            api_key=config["api_key"], http_server_address=config["url"]
        )
    else:
        client = importlib.import_module("decthings_api.client_sync").DecthingsClientSync(
            api_key=config["api_key"], http_server_address=config["url"]
        )
    server_pid = config["server_pid"]

    def clock() -> Any:
        return h.PhaseClock(counter, server_pid)

    if config["scenario"] == ADD:
        rows = vector_rows(config["items"])
        if is_async:
            aops = AsyncOps(client, tensor, published_result)
            return (
                lambda args: lambda: add_entries_round_async(clock(), aops, args["dataset_id"], rows),
                lambda: None,
            )
        ops = SyncOps(client, tensor, published_result)
        return lambda args: lambda: add_entries_round(clock(), ops, args["dataset_id"], rows), lambda: None

    sequential, concurrent_rows, expected = evaluate_inputs(config["calls"])
    if is_async:
        aops = AsyncOps(client, tensor, published_result)
        return (
            lambda _args: (
                lambda: evaluate_round_async(clock(), aops.evaluate, sequential, concurrent_rows, expected)
            ),
            lambda: None,
        )
    ops = SyncOps(client, tensor, published_result)
    pool = concurrent.futures.ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="bench-evaluate")
    return (
        lambda _args: (
            lambda: evaluate_round(clock(), ops.evaluate, sequential, concurrent_rows, expected, pool)
        ),
        pool.shutdown,
    )


def _load(name: str, path: str | Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def child_main(run_py: str, config_path: str) -> int:
    """The published client's side: the protocol of h.SubprocessContender on stdout (a ready line,
    then per `round {args}` line a Sample as JSON); anything else printed goes to stderr."""
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: dict[str, Any]) -> None:
        protocol.write(json.dumps(obj) + "\n")
        protocol.flush()

    try:
        from importlib import metadata

        h = _load("modelwire_bench", run_py)
        with open(config_path) as f:
            config = json.load(f)
        counter = h.CallCounter()
        count_http_calls(counter)
        prepare, close = published_driver(h, config, counter)
        versions = {p: metadata.version(p) for p in ("decthings-api", "aiohttp", "requests", "numpy")}
    except BaseException:
        reply({"error": traceback.format_exc()})
        return 3
    reply({"ready": True, **versions, "python": platform.python_version(), "executable": sys.executable})
    loop = asyncio.new_event_loop() if config["mode"] == "async" else None
    try:
        for line in sys.stdin:
            command, _, arguments = line.strip().partition(" ")
            if command != "round":
                break
            try:
                call = prepare(json.loads(arguments or "{}"))
                sample = h._time_sync(call) if loop is None else loop.run_until_complete(h._time_async(call))
                reply(sample.to_json())
            except BaseException:
                reply({"error": traceback.format_exc()})
                return 4
    finally:
        close()
        if loop is not None:
            loop.close()
    return 0


# --------------------------------------------------------------------------------------------------
# The bench process: server, datasets, contenders, plans


def start_emulator(h: ModuleType, ctx: Any) -> Any:
    """`modelwire serve --http-port 0` in its own process; the ServerProcess is its Decthings HTTP
    address (server.target), ready once that accepts connections."""
    return ctx.serve(
        "emulator",
        h.emulator_command(h.API_KEY, ("--http-port", "0")),
        ready=_DECTHINGS_LISTENING,
    )


def published_python(h: ModuleType) -> Path:
    """The published client's venv (the one `make compat` checks), built on first use."""
    compat = h._compat()
    target = getattr(compat, "DECTHINGS_TARGET", None) or compat.Target(
        name=PUBLISHED_VENV, requirement=PUBLISHED_REQUIREMENT, imports=(), package=""
    )
    return Path(h._ensure_venv(compat, target))


def published_contenders(
    h: ModuleType,
    ctx: Any,
    config: dict[str, Any],
    round_args: Callable[[str], Callable[[], dict[str, Any]]] | None = None,
) -> list[Any]:
    """decthings_api_sync and decthings_api_async: a child process each, in the published venv."""
    contenders = []
    for mode in ("sync", "async"):
        key = f"decthings_api_{mode}"

        def argv(mode: str = mode, key: str = key) -> list[str]:
            if ctx.skip_published:
                raise h.Unavailable("--skip-published")
            python = published_python(h)
            path = ctx.workdir / f"{key}.json"
            path.write_text(json.dumps({**config, "mode": mode}))
            run_py = h.ROOT / "bench" / "run.py"
            return [str(python), "-I", str(Path(__file__).resolve()), "--child", str(run_py), str(path)]

        label = f"decthings-api 0.0.4 {'DecthingsClientSync' if mode == 'sync' else 'DecthingsClient'}"
        contenders.append(
            h.SubprocessContender(
                key, label, argv, cwd=ctx.workdir, round_args=round_args(key) if round_args else None
            )
        )
    return contenders


def _prepared_async(h: ModuleType, key: str, label: str, open: Any, prepare: Callable[[], None]) -> Any:
    """An h.AsyncContender whose `prepare` (untimed, before each round) runs `prepare`."""

    class PreparedAsyncContender(h.AsyncContender):
        def prepare(self) -> None:
            prepare()

    return PreparedAsyncContender(key, label, open)


class FreshDatasets:
    """A new dataset for each round of each contender (its previous one is deleted), made before the
    round, untimed, by a client of its own (modelwire's, outside every phase)."""

    def __init__(self, admin: Any, prefix: str) -> None:
        self._admin = admin
        self._prefix = prefix
        self._made = 0
        self._current: dict[str, str] = {}

    def fresh(self, key: str) -> str:
        self.drop(key)
        self._made += 1
        result = self._admin.dataset.create_dataset(
            {
                "name": f"{self._prefix}-{key}-{self._made}",
                "description": "bench/decthings.py",
                "keys": [{"name": KEY, "rules": {"shape": [VECTOR], "allowedTypes": ["f32"]}}],
            }
        )
        self._current[key] = result["datasetId"]
        return str(result["datasetId"])

    def drop(self, key: str) -> None:
        dataset_id = self._current.pop(key, None)
        if dataset_id is not None:
            self._admin.dataset.delete_dataset({"datasetId": dataset_id})

    def close(self) -> None:
        for key in list(self._current):
            try:
                self.drop(key)
            except Exception as exc:  # the emulator keeps it: only memory is lost
                print(f"bench: could not delete dataset of {key}: {exc}", file=sys.stderr)


def _counted_clients(h: ModuleType, ctx: Any, server: Any) -> tuple[str, Any]:
    """The emulator's Decthings base URL, and the counter of this process's HTTP calls (undone with
    the scenario)."""
    counter = h.CallCounter()
    ctx.stack.callback(count_http_calls(counter))
    return f"http://{server.target}/v0", counter


def _budgets(h: ModuleType, keys: Sequence[str], phase: str, method: str, calls: int, why: str) -> list[Any]:
    return [h.CallBudget(key, phase, method, calls, why, least=calls) for key in keys]


CONTENDERS = ("modelwire_sync", "modelwire_async", "decthings_api_sync", "decthings_api_async")
LABELS = {"modelwire_sync": "modelwire DecthingsClientSync", "modelwire_async": "modelwire DecthingsClient"}


def _comparisons(h: ModuleType, phases: Sequence[str]) -> list[Any]:
    return [
        h.Comparison(f"modelwire_{mode}", f"decthings_api_{mode}", 1.0, strict=True, phase=phase)
        for phase in phases
        for mode in ("sync", "async")
    ]


def add_entries_plan(h: ModuleType, ctx: Any) -> Any:
    """decthings_add_entries: N f32 [8] entries into a fresh dataset, 100 per addEntries call."""
    from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsTensor

    n = ctx.items or (ADD_QUICK_ITEMS if ctx.quick else ADD_ITEMS)
    rows = vector_rows(n)
    server = start_emulator(h, ctx)
    url, counter = _counted_clients(h, ctx, server)
    admin = DecthingsClientSync(api_key=server.api_key, http_server_address=url)
    ctx.stack.callback(admin.close)
    datasets = FreshDatasets(admin, f"bench-{os.getpid()}")
    ctx.stack.callback(datasets.close)  # runs before admin.close and the emulator's stop
    current: dict[str, str] = {}

    def prepare(key: str) -> Callable[[], None]:
        return lambda: current.__setitem__(key, datasets.fresh(key))

    def open_sync() -> Any:
        client = DecthingsClientSync(api_key=server.api_key, http_server_address=url)
        ops = SyncOps(client, DecthingsTensor, same)
        return h.SyncSession(
            lambda: add_entries_round(
                h.PhaseClock(counter, server.pid), ops, current["modelwire_sync"], rows
            ),
            client.close,
            prepare("modelwire_sync"),
        )

    async def open_async() -> Any:
        client = DecthingsClient(api_key=server.api_key, http_server_address=url)
        ops = AsyncOps(client, DecthingsTensor, same)
        return h.AsyncSession(
            lambda: add_entries_round_async(
                h.PhaseClock(counter, server.pid), ops, current["modelwire_async"], rows
            ),
            client.aclose,
        )

    config = {"scenario": ADD, "url": url, "api_key": server.api_key, "server_pid": server.pid, "items": n}
    calls = -(-n // BATCH)
    return h.Plan(
        description=(
            f"{n} entries (key {KEY!r}, f32 [{VECTOR}]) added to a fresh dataset per round and contender "
            f"(made and deleted untimed), {BATCH} per addEntries call, over HTTP against one emulator; "
            f"phase {ADD} = build the DecthingsTensors + the calls; then (untimed) the contender's "
            "getDatasets must count all N entries. The published client runs in its own venv, a child "
            "process per client. HTTP calls counted client-side (aiohttp / requests) in each process."
        ),
        messages=n,
        contenders=[
            h.SyncContender("modelwire_sync", LABELS["modelwire_sync"], open_sync),
            _prepared_async(
                h, "modelwire_async", LABELS["modelwire_async"], open_async, prepare("modelwire_async")
            ),
            *published_contenders(h, ctx, config, lambda key: lambda: {"dataset_id": datasets.fresh(key)}),
        ],
        comparisons=_comparisons(h, [ADD]),
        server=server,
        expected_check=n,
        unit="entries/s",
        item="entry",
        details={
            "items": n,
            "batch": BATCH,
            "calls": calls,
            "tensor": f"f32 [{VECTOR}]",
            "published": PUBLISHED_REQUIREMENT,
            "http_counts": "client-side: aiohttp ClientSession._request / requests Session.request",
        },
        call_methods=(ADD_METHOD,),
        budgets=_budgets(h, CONTENDERS, ADD, ADD_METHOD, calls, f"one per {BATCH} entries"),
    )


def evaluate_plan(h: ModuleType, ctx: Any) -> Any:
    """decthings_evaluate: decthings-sum on one f32 [8] tensor per call; sequential, then 16 in flight."""
    from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsTensor

    calls = ctx.items or (EVAL_QUICK_CALLS if ctx.quick else EVAL_CALLS)
    sequential, concurrent_rows, expected = evaluate_inputs(calls)
    server = start_emulator(h, ctx)
    url, counter = _counted_clients(h, ctx, server)

    def open_sync() -> Any:
        client = DecthingsClientSync(api_key=server.api_key, http_server_address=url)
        ops = SyncOps(client, DecthingsTensor, same)
        pool = concurrent.futures.ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="bench-evaluate")

        def close() -> None:
            pool.shutdown()
            client.close()

        return h.SyncSession(
            lambda: evaluate_round(
                h.PhaseClock(counter, server.pid), ops.evaluate, sequential, concurrent_rows, expected, pool
            ),
            close,
        )

    async def open_async() -> Any:
        client = DecthingsClient(api_key=server.api_key, http_server_address=url)
        ops = AsyncOps(client, DecthingsTensor, same)
        return h.AsyncSession(
            lambda: evaluate_round_async(
                h.PhaseClock(counter, server.pid), ops.evaluate, sequential, concurrent_rows, expected
            ),
            client.aclose,
        )

    config = {"scenario": "evaluate", "url": url, "api_key": server.api_key, "server_pid": server.pid}
    concurrent_calls = len(concurrent_rows)
    return h.Plan(
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
            h.SyncContender("modelwire_sync", LABELS["modelwire_sync"], open_sync),
            h.AsyncContender("modelwire_async", LABELS["modelwire_async"], open_async),
            *published_contenders(h, ctx, {**config, "calls": calls}),
        ],
        comparisons=_comparisons(h, [SEQUENTIAL, CONCURRENT]),
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
            *_budgets(h, CONTENDERS, SEQUENTIAL, EVALUATE_METHOD, calls, "one per call"),
            *_budgets(h, CONTENDERS, CONCURRENT, EVALUATE_METHOD, concurrent_calls, "one per call"),
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))
    sys.exit("usage: decthings.py --child BENCH_RUN_PY CONFIG_JSON (run it through bench/run.py)")
