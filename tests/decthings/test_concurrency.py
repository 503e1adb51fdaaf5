"""16 calls in flight, end to end against the emulator's Decthings HTTP server, without timing:

* the server runs 16 calls' handlers at once (a handler that waits until all 16 are inside proves
  that neither client nor server serializes them: a lock, a one-connection pool, a single worker
  would leave it waiting, and it then fails the calls instead of hanging);
* the async client opens one connection per call in flight, once, and keeps them: a second batch
  of 16 opens none (a session or connector per call, or keep-alive not honoured, would).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsTensor
from modelwire.emulator import Emulator

IN_FLIGHT = 16
SUM = "decthings-sum"
WAIT = 10.0  # seconds a gated handler waits for the others before it gives up (and its call fails)


def _params(i: int) -> Any:  # the EvaluateParams TypedDict
    row = np.arange(8, dtype=np.float32) + i
    return {"modelId": SUM, "params": [{"name": "input", "data": [DecthingsTensor(row, "f32", [8])]}]}


def _expected(i: int) -> float:
    return float((np.arange(8, dtype=np.float64) + i).sum())


def _sum_of(result: Any) -> float:
    return float(result["success"]["output"][0]["data"][0].item())


@contextmanager
def _all_inside_at_once(emulator: Emulator, parties: int) -> Iterator[threading.Barrier]:
    """Model.evaluate's server handler, made to wait until `parties` calls are inside it together."""
    handlers: dict[str, Callable[[Any, list[bytes]], Any]] = emulator.decthings._handlers
    original = handlers["Model.evaluate"]
    barrier = threading.Barrier(parties, timeout=WAIT)

    def gated(params: Any, blobs: list[bytes]) -> Any:
        barrier.wait()  # BrokenBarrierError: fewer than `parties` calls ever got here at once
        return original(params, blobs)

    handlers["Model.evaluate"] = gated
    try:
        yield barrier
    finally:
        handlers["Model.evaluate"] = original


def test_async_client_runs_16_calls_at_once_on_16_kept_connections(emulator: Emulator, api_key: str) -> None:
    opened: list[object] = []

    async def main() -> tuple[list[float], list[float]]:
        loop = asyncio.get_running_loop()
        create_connection = loop.create_connection

        async def counted(*args: Any, **kwargs: Any) -> Any:
            opened.append(kwargs.get("sock"))
            return await create_connection(*args, **kwargs)

        loop.create_connection = counted  # type: ignore[method-assign]
        async with DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url) as client:

            async def batch() -> list[float]:
                results = await asyncio.gather(*(client.model.evaluate(_params(i)) for i in range(IN_FLIGHT)))
                return [_sum_of(r) for r in results]

            with _all_inside_at_once(emulator, IN_FLIGHT) as barrier:
                first = await batch()
            assert not barrier.broken
            after_first = len(opened)
            second = await batch()
            assert len(opened) == after_first, "the second batch opened connections: none were kept"
        return first, second

    first, second = asyncio.run(main())
    expected = [_expected(i) for i in range(IN_FLIGHT)]
    assert first == expected and second == expected
    assert len(opened) == IN_FLIGHT  # one per call in flight, then reused


def test_sync_client_runs_16_threads_calls_at_once(emulator: Emulator, api_key: str) -> None:
    with (
        DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url) as client,
        concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool,
        _all_inside_at_once(emulator, IN_FLIGHT) as barrier,
    ):
        sums = list(pool.map(lambda i: _sum_of(client.model.evaluate(_params(i))), range(IN_FLIGHT)))
    assert not barrier.broken
    assert sums == [_expected(i) for i in range(IN_FLIGHT)]
