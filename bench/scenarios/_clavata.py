"""What both clavata streaming scenarios (clavata_stream, clavata_stream_replay) share: the texts,
the five contenders and their comparisons (clavata_plan) and the published clavata-sdk's child."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bench.harness.common import Unavailable
from bench.harness.contenders import (
    AsyncContender,
    AsyncSession,
    SubprocessContender,
    SyncContender,
    SyncSession,
)
from bench.harness.plan import Comparison, Plan, ScenarioContext
from bench.harness.processes import ServerProcess
from bench.harness.samples import CallResult
from bench.harness.venvs import published_python

if TYPE_CHECKING:
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2

CLAVATA_POLICY = "demo-policy"
CLAVATA_ITEMS = 2000
CLAVATA_QUICK_ITEMS = 60

_BENIGN = (
    "the weather is lovely today",
    "please review my pull request",
    "lunch at noon by the river",
    "our quarterly numbers look fine",
    "the cat sat on the warm mat",
    "remember to water the plants",
    "a quiet evening with a good book",
    "the train leaves at seven",
    "new release notes are online",
    "we painted the fence blue",
)
_FLAGGED = (
    "they plan to attack at dawn",
    "I will kill the lights",
    "he drew his sword",
    "beat up the old car for parts",
    "kill it in the video game",  # excepted by `unless`: counts as not matched
)


def clavata_texts(n: int, seed: int = 20251123) -> list[str]:
    """n short texts, about one in ten using a demo-policy word; deterministic."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        phrase = rng.choice(_FLAGGED) if rng.random() < 0.1 else rng.choice(_BENIGN)
        out.append(f"{phrase} ({i})")
    return out


# Run by the published SDK's venv python: python -I -c CLAVATA_SDK_CHILD HOST PORT KEY POLICY TEXTS_JSON
CLAVATA_SDK_CHILD = r"""
import asyncio, gc, json, platform, sys, time, traceback
from importlib import metadata

def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

try:
    host, port, key, policy_id, texts_path = sys.argv[1:6]
    with open(texts_path) as f:
        texts = json.load(f)
    import google.protobuf, grpc
    from clavata_sdk import ClavataClient, ContentData, EvaluateRequest
    client = ClavataClient(host=host, port=int(port), auth_token=key, secure=False)
except BaseException:
    reply({"error": traceback.format_exc()})
    sys.exit(3)

async def evaluate():
    request = EvaluateRequest(
        content=[ContentData(text=t) for t in texts], policy_id=policy_id, threshold=None
    )
    messages = matched = 0
    async for response in client.evaluate(request=request):
        messages += 1
        if response.policy_evaluation_report.review_result.outcome == "TRUE":
            matched += 1
    return messages, matched

async def timed():
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    messages, matched = await evaluate()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"messages": messages, "seconds": wall, "cpu_seconds": cpu, "check": matched}

loop = asyncio.new_event_loop()
reply({
    "ready": True,
    "clavata_sdk": metadata.version("clavata-sdk"),
    "grpc": grpc.__version__,
    "protobuf": google.protobuf.__version__,
    "python": platform.python_version(),
    "executable": sys.executable,
})
for line in sys.stdin:
    if line.strip() != "round":
        break
    try:
        reply(loop.run_until_complete(timed()))
    except BaseException:
        reply({"error": traceback.format_exc()})
        sys.exit(4)
loop.run_until_complete(client.close())
loop.close()
"""


def clavata_items(ctx: ScenarioContext, default: int = CLAVATA_ITEMS) -> int:
    return ctx.items or (CLAVATA_QUICK_ITEMS if ctx.quick else default)


def clavata_raw_request(texts: Sequence[str]) -> Callable[[], gateway_pb2.EvaluateRequest]:
    """Builds the EvaluateRequest for `texts` with the generated classes (what a raw-stub user does;
    the raw contenders build it in every round)."""
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire._gen.clavata.shared.v1 import public_pb2

    def build() -> gateway_pb2.EvaluateRequest:
        return gateway_pb2.EvaluateRequest(
            content_data=[public_pb2.ContentData(text=t) for t in texts], policy_id=CLAVATA_POLICY
        )

    return build


def clavata_plan(
    ctx: ScenarioContext,
    server: ServerProcess,
    texts: list[str],
    *,
    served_by: str,
    expected_check: int | None = None,
    details: dict[str, Any] | None = None,
    client_bound: bool = False,
) -> Plan:
    """The five clavata streaming contenders and their comparisons, against `server`
    (`client_bound`: a server far cheaper than any client, so the targets are about client speed).

    Every contender does what a user does per call: build the request from `texts`, call
    `Evaluate`, consume the whole stream and read each response's outcome; the check is the
    number of TRUE outcomes.
    """
    import grpc

    from modelwire._gen.clavata.gateway.v1 import gateway_pb2_grpc
    from modelwire._gen.clavata.shared.v1 import public_pb2
    from modelwire.clavata import AsyncClavataClient, ClavataClient, EvaluateRequest, Outcome

    n = len(texts)
    metadata = (("authorization", f"Bearer {server.api_key}"),)
    proto_true = public_pb2.OUTCOME_TRUE
    raw_request = clavata_raw_request(texts)

    def open_raw_sync() -> SyncSession:
        channel = grpc.insecure_channel(server.target)
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        def call() -> CallResult:
            messages = matched = 0
            for response in stub.Evaluate(raw_request(), metadata=metadata):
                messages += 1
                if response.policy_evaluation_report.review_result.outcome == proto_true:
                    matched += 1
            return messages, matched

        return SyncSession(call, channel.close)

    def open_modelwire_sync() -> SyncSession:
        client = ClavataClient(host=server.host, port=server.port, auth_token=server.api_key)

        def call() -> CallResult:
            messages = matched = 0
            for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                messages += 1
                report = response.report
                if report is not None and report.outcome == Outcome.TRUE:
                    matched += 1
            return messages, matched

        return SyncSession(call, client.close)

    async def open_raw_aio() -> AsyncSession:
        channel = grpc.aio.insecure_channel(server.target)
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        async def call() -> CallResult:
            messages = matched = 0
            async for response in stub.Evaluate(raw_request(), metadata=metadata):
                messages += 1
                if response.policy_evaluation_report.review_result.outcome == proto_true:
                    matched += 1
            return messages, matched

        async def close() -> None:
            await channel.close()

        return AsyncSession(call, close)

    async def open_modelwire_async() -> AsyncSession:
        client = AsyncClavataClient(host=server.host, port=server.port, auth_token=server.api_key)
        await client.connect()

        async def call() -> CallResult:
            messages = matched = 0
            async for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                messages += 1
                report = response.report
                if report is not None and report.outcome == Outcome.TRUE:
                    matched += 1
            return messages, matched

        return AsyncSession(call, client.close)

    async def open_modelwire_sync_async_for() -> AsyncSession:
        # The Clavata docs' own form: `ClavataClient.create()`, then `async for` over `evaluate`.
        client = ClavataClient(host=server.host, port=server.port, auth_token=server.api_key)

        async def call() -> CallResult:
            messages = matched = 0
            async for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                messages += 1
                report = response.report
                if report is not None and report.outcome == Outcome.TRUE:
                    matched += 1
            return messages, matched

        async def close() -> None:
            client.close()

        return AsyncSession(call, close)

    def published_argv() -> list[str]:
        if ctx.skip_published:
            raise Unavailable("--skip-published")
        python = published_python("clavata")
        texts_path = ctx.workdir / "clavata_texts.json"
        texts_path.write_text(json.dumps(texts))
        return [
            str(python),
            "-I",
            "-c",
            CLAVATA_SDK_CHILD,
            server.host,
            str(server.port),
            server.api_key,
            CLAVATA_POLICY,
            str(texts_path),
        ]

    facade, ahead = 0.95, 1.0
    # Issue 14's targets, where the client is the bottleneck (the replay server) so that the
    # throughput ratio is the inverse of the CPU-per-message ratio: the async paths at least the
    # bare aio stub's speed, and 1.5x clavata-sdk's.
    stub, sdk = 1.0, 1.5

    def vs_sdk(numerator: str, client_bound_target: float, strict: bool = False) -> Comparison:
        """A row against clavata-sdk. Against the emulator (95-98% busy) every client gets about
        its throughput, so "> 1.00x" would be a coin flip: there the target is not slower (0.95x)
        and cheaper per message."""
        if client_bound:
            return Comparison(numerator, "clavata_sdk", client_bound_target, strict=strict)
        return Comparison(numerator, "clavata_sdk", facade, cpu_at_most=1.0)

    return Plan(
        description=(
            f"one Evaluate call streaming {n} short texts against {CLAVATA_POLICY}, served by {served_by}; "
            "each response's outcome is read; a round = build the request + call + consume the whole stream"
        ),
        messages=n,
        contenders=[
            SyncContender("raw_sync", "raw sync stub", open_raw_sync),
            SyncContender("modelwire_sync", "modelwire ClavataClient", open_modelwire_sync),
            AsyncContender("raw_aio", "raw aio stub", open_raw_aio),
            AsyncContender("modelwire_async", "modelwire AsyncClavataClient", open_modelwire_async),
            AsyncContender(
                "modelwire_sync_async_for",
                "modelwire ClavataClient, `async for` (the docs' form)",
                open_modelwire_sync_async_for,
            ),
            SubprocessContender("clavata_sdk", "clavata-sdk 1.1.0 (async)", published_argv, cwd=ctx.workdir),
        ],
        comparisons=[
            Comparison("modelwire_sync", "raw_sync", facade),
            Comparison("modelwire_async", "raw_aio", stub if client_bound else facade),
            vs_sdk("modelwire_sync", ahead, strict=True),
            vs_sdk("modelwire_async", sdk),
            vs_sdk("modelwire_sync_async_for", sdk),
            # Both read long streams on the same reader-thread handoff: parity is the target, within
            # the rounds' ~5% spread (CPU/msg tells).
            Comparison("modelwire_sync_async_for", "modelwire_async", facade),
        ],
        server=server,
        expected_check=expected_check,
        details={"policy_id": CLAVATA_POLICY, "items": n, **(details or {})},
    )
