"""What both Decthings scenarios (decthings_add_entries, decthings_evaluate) share: modelwire's
DecthingsClientSync / DecthingsClient against the published decthings-api 0.0.4 (its
DecthingsClientSync / DecthingsClient), over HTTP, against one emulator.

Contenders: `modelwire_sync`, `modelwire_async` (in the bench process) and `decthings_api_sync`,
`decthings_api_async` (the published client, in its own venv, a child process each, driven one round
at a time: `python -I bench/run.py --child bench.scenarios._decthings:child_main CONFIG_JSON`). The
child imports the `bench` package (PhaseClock / CallCounter / time_sync) and runs the scenario
module's round functions through its `published_driver`, so both sides build, time, count and check
alike. HTTP calls are counted on the client side in both processes by wrapping aiohttp's
`ClientSession._request` and requests' `Session.request` (every Decthings HTTP call of either client
goes through one of them), named `Api.method` from the URL.

Only the standard library (and the harness) is imported at module level: the child's venv has numpy
and the published client but not modelwire, the bench's venv modelwire but not the published client.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import os
import platform
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.harness.common import API_KEY, RUN_PY, Unavailable, function_name, resolve
from bench.harness.contenders import SubprocessContender, time_async, time_sync
from bench.harness.counting import CallCounter, PhaseClock
from bench.harness.plan import CallBudget, Comparison, ScenarioContext
from bench.harness.processes import ServerProcess, emulator_command
from bench.harness.venvs import ensure_venv, load_compat

PUBLISHED_VENV = "decthings"  # shared with `make compat` (scripts/compat.py's DECTHINGS_TARGET)
PUBLISHED_REQUIREMENT = "decthings-api==0.0.4"
KEY = "vector"  # the bench dataset's one key
VECTOR = 8  # f32 elements per entry / per evaluate input
SUM_MODEL = "decthings-sum"  # built-in: f32/f64 tensors in, one f64 [] sum out per tensor
_DECTHINGS_LISTENING = re.compile(r"Decthings \(HTTP \+ WebSocket\): http://(\S+?):(\d+)/v0")


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
    requests (the published sync client) from now on, on `counter` (a CallCounter) by `Api.method`;
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
# The published client's child process


PublishedRound = Callable[[dict[str, Any]], Callable[[], Any]]  # round args -> the round's timed call
# A scenario module's `published_driver(config, ops, clock) -> (PublishedRound, close)`, run in the
# child: `ops` are the published client's calls (AsyncOps for the async client, whose timed call is
# then a coroutine function), `clock()` a new PhaseClock for a round.
PublishedDriver = Callable[
    [dict[str, Any], SyncOps | AsyncOps, Callable[[], PhaseClock]],
    tuple[PublishedRound, Callable[[], None]],
]


def published_ops(config: dict[str, Any]) -> SyncOps | AsyncOps:
    """The calls of the published client of the config's mode (sync or async), errors raised."""
    tensor = importlib.import_module("decthings_api.tensor").DecthingsTensor
    if config["mode"] == "async":
        client = importlib.import_module("decthings_api.client").DecthingsClient(
            api_key=config["api_key"], http_server_address=config["url"]
        )
        return AsyncOps(client, tensor, published_result)
    client = importlib.import_module("decthings_api.client_sync").DecthingsClientSync(
        api_key=config["api_key"], http_server_address=config["url"]
    )
    return SyncOps(client, tensor, published_result)


def child_main(config_path: str) -> int:
    """The published client's side: the protocol of SubprocessContender on stdout (a ready line,
    then per `round {args}` line a Sample as JSON); anything else printed goes to stderr. The config
    names the scenario module's `published_driver` (`driver`) and the client (`mode`)."""
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: dict[str, Any]) -> None:
        protocol.write(json.dumps(obj) + "\n")
        protocol.flush()

    try:
        from importlib import metadata

        with open(config_path) as f:
            config = json.load(f)
        counter = CallCounter()
        count_http_calls(counter)
        server_pid = config["server_pid"]
        ops = published_ops(config)
        prepare, close = resolve(config["driver"])(config, ops, lambda: PhaseClock(counter, server_pid))
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
                sample = time_sync(call) if loop is None else loop.run_until_complete(time_async(call))
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
# The bench process: server, contenders, comparisons, budgets


def start_emulator(ctx: ScenarioContext) -> ServerProcess:
    """`modelwire serve --http-port 0` in its own process; the ServerProcess is its Decthings HTTP
    address (server.target), ready once that accepts connections."""
    return ctx.serve(
        "emulator",
        emulator_command(API_KEY, ("--http-port", "0")),
        ready=_DECTHINGS_LISTENING,
    )


def published_python() -> Path:
    """The published client's venv (the one `make compat` checks), built on first use."""
    compat = load_compat()
    target = getattr(compat, "DECTHINGS_TARGET", None) or compat.Target(
        name=PUBLISHED_VENV, requirement=PUBLISHED_REQUIREMENT, imports=(), package=""
    )
    return Path(ensure_venv(compat, target))


def published_contenders(
    ctx: Any,
    driver: PublishedDriver,
    config: dict[str, Any],
    round_args: Callable[[str], Callable[[], dict[str, Any]]] | None = None,
) -> list[Any]:
    """decthings_api_sync and decthings_api_async: a child process each, in the published venv, running
    `driver` (the scenario module's published_driver) with `config`."""
    contenders = []
    for mode in ("sync", "async"):
        key = f"decthings_api_{mode}"

        def argv(mode: str = mode, key: str = key) -> list[str]:
            if ctx.skip_published:
                raise Unavailable("--skip-published")
            python = published_python()
            path = ctx.workdir / f"{key}.json"
            path.write_text(json.dumps({**config, "driver": function_name(driver), "mode": mode}))
            return [str(python), "-I", str(RUN_PY), "--child", function_name(child_main), str(path)]

        label = f"decthings-api 0.0.4 {'DecthingsClientSync' if mode == 'sync' else 'DecthingsClient'}"
        contenders.append(
            SubprocessContender(
                key, label, argv, cwd=ctx.workdir, round_args=round_args(key) if round_args else None
            )
        )
    return contenders


def counted_clients(ctx: Any, server: Any) -> tuple[str, Any]:
    """The emulator's Decthings base URL, and the counter of this process's HTTP calls (undone with
    the scenario)."""
    counter = CallCounter()
    ctx.stack.callback(count_http_calls(counter))
    return f"http://{server.target}/v0", counter


def call_budgets(keys: Sequence[str], phase: str, method: str, calls: int, why: str) -> list[Any]:
    return [CallBudget(key, phase, method, calls, why, least=calls) for key in keys]


CONTENDERS = ("modelwire_sync", "modelwire_async", "decthings_api_sync", "decthings_api_async")
LABELS = {"modelwire_sync": "modelwire DecthingsClientSync", "modelwire_async": "modelwire DecthingsClient"}


def comparisons(phases: Sequence[str]) -> list[Any]:
    return [
        Comparison(f"modelwire_{mode}", f"decthings_api_{mode}", 1.0, strict=True, phase=phase)
        for phase in phases
        for mode in ("sync", "async")
    ]
