"""The workloads of emulator_throughput: the raw generated stubs over grpc.aio, 4 calls in flight,
against a running `modelwire serve`. Each takes (host, port, server_cpu) and returns a Result.

Unlike the other scenario modules this one imports grpc and the generated code at module level:
only emulator_throughput's measure imports it, in the bench process (no published SDK's child
ever does).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc

from bench.harness.common import API_KEY
from modelwire._gen.clarifai.api import resources_pb2, service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire._gen.clavata.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from modelwire._gen.clavata.shared.v1 import public_pb2

CLARIFAI_USER = "demo"  # the emulator's user (its key is this user's PAT)
PREDICT_OWNER = resources_pb2.UserAppIDSet(user_id="clarifai", app_id="main")  # the built-in models' app
PREDICT_MODEL = "general-text-classification"
POLICY = "demo-policy"

CLAVATA_STREAM, CLAVATA_STREAMS = 100, 60
PREDICT_BATCH, PREDICT_CALLS = 32, 120
UPLOAD_BATCH, UPLOAD_CALLS = 128, 40
# GetInputCount scans the app's inputs (~0.7 ms for 5120): polled every 25 ms it costs the server
# ~3% of the processing it waits for (every 5 ms: ~14%), and the round's end is known to 25 ms.
POLL = 0.025
IN_FLIGHT = 4  # calls in flight from the client: enough to keep a one-core server busy

CLAVATA_AUTH = (("authorization", f"Bearer {API_KEY}"),)
CLARIFAI_AUTH = (("authorization", f"Key {API_KEY}"),)

_WORDS = (
    "the weather is lovely today",
    "please review my pull request",
    "lunch at noon by the river",
    "our quarterly numbers look fine",
    "the cat sat on the warm mat",
    "a quiet evening with a good book",
    "the pizza was great",
    "terrible flight and a rude crew",
    "an awesome team and a brilliant coach",
)
_FLAGGED = (
    "they plan to attack at dawn",
    "I will kill the lights",
    "he drew his sword",
    "kill it in the video game",
)


def texts(n: int, seed: int = 20251123) -> list[str]:
    """n short texts, about one in ten using a demo-policy word; deterministic."""
    rng = random.Random(seed)
    return [f"{rng.choice(_FLAGGED if rng.random() < 0.1 else _WORDS)} ({i})" for i in range(n)]


@dataclass(frozen=True)
class Result:
    items: int
    wall: float  # seconds
    server_cpu: float  # seconds
    check: int = 0  # a workload-specific count that must not change between runs

    @property
    def rate(self) -> float:
        return self.items / self.wall

    @property
    def cpu_us(self) -> float:
        return self.server_cpu / self.items * 1e6


# -- workloads ------------------------------------------------------------------------------------


async def _in_flight(calls: Sequence[Callable[[], Awaitable[int]]], width: int = IN_FLIGHT) -> int:
    """Run the calls with `width` in flight at a time; the sum of what they return."""
    queue = iter(calls)
    total = 0

    async def worker() -> None:
        nonlocal total
        for call in queue:
            got = await call()  # not `total += await ...`: that reads total before the await
            total += got

    await asyncio.gather(*(worker() for _ in range(width)))
    return total


async def _timed(server_cpu: Callable[[], float], items: int, body: Callable[[], Awaitable[int]]) -> Result:
    cpu, wall = server_cpu(), time.perf_counter()
    check = await body()
    wall, cpu = time.perf_counter() - wall, server_cpu() - cpu
    return Result(items, wall, cpu, check)


async def clavata_evaluate(
    host: str, port: int, server_cpu: Callable[[], float], streams: int = CLAVATA_STREAMS
) -> Result:
    """`streams` Evaluate streams of CLAVATA_STREAM texts; check = TRUE outcomes."""
    all_texts = texts(CLAVATA_STREAM * streams)
    requests = [
        gateway_pb2.EvaluateRequest(
            content_data=[public_pb2.ContentData(text=t) for t in all_texts[k : k + CLAVATA_STREAM]],
            policy_id=POLICY,
        )
        for k in range(0, len(all_texts), CLAVATA_STREAM)
    ]
    async with grpc.aio.insecure_channel(f"{host}:{port}") as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        def call(request: gateway_pb2.EvaluateRequest) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                matched = received = 0
                async for response in stub.Evaluate(request, metadata=CLAVATA_AUTH):
                    received += 1
                    matched += (
                        response.policy_evaluation_report.review_result.outcome == public_pb2.OUTCOME_TRUE
                    )
                assert received == CLAVATA_STREAM, received
                return matched

            return run

        await channel.channel_ready()
        return await _timed(server_cpu, len(all_texts), lambda: _in_flight([call(r) for r in requests]))


async def clarifai_predict(
    host: str, port: int, server_cpu: Callable[[], float], calls: int = PREDICT_CALLS
) -> Result:
    """`calls` PostModelOutputs of PREDICT_BATCH texts; check = sum of the top concept's index."""
    all_texts = texts(PREDICT_BATCH * calls, seed=20251124)
    requests = [
        service_pb2.PostModelOutputsRequest(
            user_app_id=PREDICT_OWNER,
            model_id=PREDICT_MODEL,
            inputs=[
                resources_pb2.Input(id=f"p{k + j}", data=resources_pb2.Data(text=resources_pb2.Text(raw=t)))
                for j, t in enumerate(all_texts[k : k + PREDICT_BATCH])
            ],
        )
        for k in range(0, len(all_texts), PREDICT_BATCH)
    ]
    async with grpc.aio.insecure_channel(f"{host}:{port}") as channel:
        stub = service_pb2_grpc.V2Stub(channel)

        def call(request: service_pb2.PostModelOutputsRequest) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                response = await stub.PostModelOutputs(request, metadata=CLARIFAI_AUTH)
                assert response.status.code == status_code_pb2.SUCCESS, response.status
                assert len(response.outputs) == PREDICT_BATCH
                return sum(len(o.data.concepts) for o in response.outputs)

            return run

        await channel.channel_ready()
        return await _timed(server_cpu, len(all_texts), lambda: _in_flight([call(r) for r in requests]))


_apps = itertools.count()


async def clarifai_upload(
    host: str,
    port: int,
    server_cpu: Callable[[], float],
    calls: int = UPLOAD_CALLS,
    *,
    processed: bool = False,
) -> Result:
    """`calls` PostInputs of UPLOAD_BATCH text inputs into a fresh app (made and deleted untimed);
    with `processed`, the round ends when the emulator has processed them all. check = inputs
    accepted (or processed successfully)."""
    n = UPLOAD_BATCH * calls
    all_texts = texts(n, seed=20251125)
    app = resources_pb2.UserAppIDSet(user_id=CLARIFAI_USER, app_id=f"tp-{os.getpid()}-{next(_apps)}")
    requests = [
        service_pb2.PostInputsRequest(
            user_app_id=app,
            inputs=[
                resources_pb2.Input(
                    id=f"in-{k + j:06d}", data=resources_pb2.Data(text=resources_pb2.Text(raw=t))
                )
                for j, t in enumerate(all_texts[k : k + UPLOAD_BATCH])
            ],
        )
        for k in range(0, n, UPLOAD_BATCH)
    ]
    async with grpc.aio.insecure_channel(f"{host}:{port}") as channel:
        stub = service_pb2_grpc.V2Stub(channel)
        made = await stub.PostApps(
            service_pb2.PostAppsRequest(user_app_id=app, apps=[resources_pb2.App(id=app.app_id)]),
            metadata=CLARIFAI_AUTH,
        )
        assert made.status.code == status_code_pb2.SUCCESS, made.status

        def call(request: service_pb2.PostInputsRequest) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                response = await stub.PostInputs(request, metadata=CLARIFAI_AUTH)
                assert response.status.code == status_code_pb2.SUCCESS, response.status
                return len(response.inputs)

            return run

        async def body() -> int:
            accepted = await _in_flight([call(r) for r in requests])
            if not processed:
                return accepted
            while True:
                counts = (
                    await stub.GetInputCount(
                        service_pb2.GetInputCountRequest(user_app_id=app), metadata=CLARIFAI_AUTH
                    )
                ).counts
                if counts.to_process + counts.processing == 0:
                    return int(counts.processed)
                await asyncio.sleep(POLL)

        try:
            return await _timed(server_cpu, n, body)
        finally:
            await stub.DeleteApp(service_pb2.DeleteAppRequest(user_app_id=app), metadata=CLARIFAI_AUTH)


WORKLOADS: dict[str, Callable[[str, int, Callable[[], float]], Awaitable[Result]]] = {
    "clavata": clavata_evaluate,
    "predict": clarifai_predict,
    "upload": clarifai_upload,
    "upload+processed": lambda h, p, c: clarifai_upload(h, p, c, processed=True),
}
