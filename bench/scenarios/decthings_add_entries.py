"""decthings_add_entries: a fresh dataset per round and contender (one key `vector`, f32 [8]; made
and deleted by a separate client, untimed); the timed phase `add_entries` builds the DecthingsTensors
from N rows and adds them in calls of 100 entries (the published client's blob count is a u8: at
most 255 per call). After the phase (untimed) the contender's client reads the dataset's entry count
back with getDatasets: the round's check, which must be N. Contenders and the child: _decthings.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from bench.harness.contenders import AsyncContender, AsyncSession, SyncContender, SyncSession
from bench.harness.counting import PhaseClock
from bench.harness.plan import Plan, Scenario, ScenarioContext
from bench.harness.samples import Outcome
from bench.scenarios._decthings import (
    CONTENDERS,
    KEY,
    LABELS,
    PUBLISHED_REQUIREMENT,
    VECTOR,
    AsyncOps,
    PublishedRound,
    SyncOps,
    call_budgets,
    comparisons,
    counted_clients,
    published_contenders,
    same,
    start_emulator,
    vector_rows,
)

BATCH = 100  # entries per addEntries call (the published client: at most 255 blobs per call)
ADD_ITEMS = 20_000
ADD_QUICK_ITEMS = 300
ADD = "add_entries"
ADD_METHOD = "Dataset.addEntries"


def add_entries_round(clock: PhaseClock, ops: SyncOps, dataset_id: str, rows: Any) -> Outcome:
    """Timed: build the tensors and add them, BATCH per call. Then (untimed) the entry count."""
    n = len(rows)
    with clock.phase(ADD):
        for start in range(0, n, BATCH):
            ops.add(dataset_id, rows[start : start + BATCH])
    return clock.outcome(n, ops.count(dataset_id))


async def add_entries_round_async(clock: PhaseClock, ops: AsyncOps, dataset_id: str, rows: Any) -> Outcome:
    n = len(rows)
    with clock.phase(ADD):
        for start in range(0, n, BATCH):
            await ops.add(dataset_id, rows[start : start + BATCH])
    return clock.outcome(n, await ops.count(dataset_id))


def published_driver(
    config: dict[str, Any], ops: SyncOps | AsyncOps, clock: Callable[[], PhaseClock]
) -> tuple[PublishedRound, Callable[[], None]]:
    """The published client's rounds, in its child (see _decthings.PublishedDriver)."""
    rows = vector_rows(config["items"])
    if isinstance(ops, AsyncOps):
        return (
            lambda args: lambda: add_entries_round_async(clock(), ops, args["dataset_id"], rows),
            lambda: None,
        )
    return lambda args: lambda: add_entries_round(clock(), ops, args["dataset_id"], rows), lambda: None


def _prepared_async(key: str, label: str, open: Any, prepare: Callable[[], None]) -> Any:
    """An AsyncContender whose `prepare` (untimed, before each round) runs `prepare`."""

    class PreparedAsyncContender(AsyncContender):
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
                "description": "bench/scenarios/decthings_add_entries.py",
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


def decthings_add_entries(ctx: ScenarioContext) -> Plan:
    """decthings_add_entries: N f32 [8] entries into a fresh dataset, 100 per addEntries call."""
    from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsTensor

    n = ctx.items or (ADD_QUICK_ITEMS if ctx.quick else ADD_ITEMS)
    rows = vector_rows(n)
    server = start_emulator(ctx)
    url, counter = counted_clients(ctx, server)
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
        return SyncSession(
            lambda: add_entries_round(PhaseClock(counter, server.pid), ops, current["modelwire_sync"], rows),
            client.close,
            prepare("modelwire_sync"),
        )

    async def open_async() -> Any:
        client = DecthingsClient(api_key=server.api_key, http_server_address=url)
        ops = AsyncOps(client, DecthingsTensor, same)
        return AsyncSession(
            lambda: add_entries_round_async(
                PhaseClock(counter, server.pid), ops, current["modelwire_async"], rows
            ),
            client.aclose,
        )

    config = {"url": url, "api_key": server.api_key, "server_pid": server.pid, "items": n}
    calls = -(-n // BATCH)
    return Plan(
        description=(
            f"{n} entries (key {KEY!r}, f32 [{VECTOR}]) added to a fresh dataset per round and contender "
            f"(made and deleted untimed), {BATCH} per addEntries call, over HTTP against one emulator; "
            f"phase {ADD} = build the DecthingsTensors + the calls; then (untimed) the contender's "
            "getDatasets must count all N entries. The published client runs in its own venv, a child "
            "process per client. HTTP calls counted client-side (aiohttp / requests) in each process."
        ),
        messages=n,
        contenders=[
            SyncContender("modelwire_sync", LABELS["modelwire_sync"], open_sync),
            _prepared_async(
                "modelwire_async", LABELS["modelwire_async"], open_async, prepare("modelwire_async")
            ),
            *published_contenders(
                ctx, published_driver, config, lambda key: lambda: {"dataset_id": datasets.fresh(key)}
            ),
        ],
        comparisons=comparisons([ADD]),
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
        budgets=call_budgets(CONTENDERS, ADD, ADD_METHOD, calls, f"one per {BATCH} entries"),
    )


SCENARIO = Scenario("decthings_add_entries", "decthings add dataset entries", decthings_add_entries, order=50)
