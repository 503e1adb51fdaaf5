"""Stream lifecycle: leaving early cancels the server-side call; message timeouts; mid-stream errors."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import grpc
import pytest

from modelwire._core.errors import CallCancelledError
from modelwire.clavata import (
    AsyncClavataClient,
    ClavataClient,
    EvaluateRequest,
    InvalidArgumentError,
    MessageTimeoutError,
    UnavailableError,
)
from modelwire.emulator import Emulator

MANY = [f"message number {i}" for i in range(3000)]  # more than gRPC's flow-control window holds


def _long_request() -> EvaluateRequest:
    return EvaluateRequest(content=MANY, policy_id="demo-policy")


def _assert_cancelled(emulator: Emulator, before: int) -> None:
    cancelled = emulator.calls.wait_for("Evaluate", "CANCELLED", count=before + 1, timeout=10)
    assert len(cancelled) == before + 1, "the server never saw the call cancelled"
    assert 0 < cancelled[-1].messages < len(MANY)


async def _assert_cancelled_async(emulator: Emulator, before: int) -> None:
    """Like _assert_cancelled, but lets the event loop run while waiting (as async code does):
    an `async for` that is left early is closed by asyncio on the loop's next turn."""
    for _ in range(1000):
        if _cancelled_count(emulator) > before:
            break
        await asyncio.sleep(0.01)
    _assert_cancelled(emulator, before)


def _cancelled_count(emulator: Emulator) -> int:
    return sum(1 for r in emulator.calls.records("Evaluate") if r.code == "CANCELLED")


def test_breaking_out_of_for_cancels_the_call(sync_client: ClavataClient, emulator: Emulator) -> None:
    before = _cancelled_count(emulator)
    for _response in sync_client.evaluate(_long_request()):
        break
    _assert_cancelled(emulator, before)


def test_with_block_cancels_on_exit(sync_client: ClavataClient, emulator: Emulator) -> None:
    before = _cancelled_count(emulator)
    with sync_client.evaluate(_long_request()) as stream:
        next(stream)
    assert stream.done
    _assert_cancelled(emulator, before)


def test_garbage_collected_stream_cancels(sync_client: ClavataClient, emulator: Emulator) -> None:
    before = _cancelled_count(emulator)
    stream = sync_client.evaluate(_long_request())
    next(stream)
    del stream
    gc.collect()
    _assert_cancelled(emulator, before)


def test_cancelled_evaluation_marks_its_job_canceled(sync_client: ClavataClient, emulator: Emulator) -> None:
    stream = sync_client.evaluate(_long_request())
    job_uuid = next(stream).job_uuid
    before = _cancelled_count(emulator)
    stream.close()
    _assert_cancelled(emulator, before)
    for _ in range(100):
        job = sync_client.get_job(job_uuid)
        if job.status.finished:
            break
    assert job.status == "CANCELED"
    assert 0 < len(job.results) < len(MANY)


async def test_async_break_cancels_the_call(emulator: Emulator, api_key: str) -> None:
    before = _cancelled_count(emulator)
    async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        async for _response in client.evaluate(_long_request()):
            break
        await _assert_cancelled_async(emulator, before)


async def test_async_with_and_aclose_cancel(emulator: Emulator, api_key: str) -> None:
    async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        before = _cancelled_count(emulator)
        async with client.evaluate(_long_request()) as stream:
            await stream.__anext__()
        _assert_cancelled(emulator, before)

        before = _cancelled_count(emulator)
        stream = client.evaluate(_long_request())
        await stream.__anext__()
        await stream.aclose()
        _assert_cancelled(emulator, before)
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()


async def test_async_garbage_collected_stream_cancels(emulator: Emulator, api_key: str) -> None:
    async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        before = _cancelled_count(emulator)
        stream = client.evaluate(_long_request())
        await stream.__anext__()
        del stream
        gc.collect()
        _assert_cancelled(emulator, before)


async def test_sync_client_stream_supports_async_for(sync_client: ClavataClient) -> None:
    # The Clavata README iterates `client.evaluate(...)` with `async for`.
    outcomes = [
        r.report.outcome
        async for r in sync_client.evaluate(content=["kill", "calm"], policy_id="demo-policy")
    ]
    assert outcomes == ["TRUE", "FALSE"]


def test_message_timeout_cancels_a_silent_stream(client: Any, emulator: Emulator) -> None:
    emulator.faults.add("Evaluate", grpc.StatusCode.OK, delay=1.5)
    with pytest.raises(MessageTimeoutError) as caught:
        list(client.evaluate(EvaluateRequest(content="x", policy_id="demo-policy"), message_timeout=0.2))
    assert isinstance(caught.value, TimeoutError)
    assert "message_timeout" in str(caught.value)


def test_stream_timeout_is_a_deadline_for_the_whole_stream(client: Any, emulator: Emulator) -> None:
    from modelwire.clavata import DeadlineExceededError

    emulator.faults.add("Evaluate", grpc.StatusCode.OK, delay=1.5)
    with pytest.raises(DeadlineExceededError):
        list(client.evaluate(EvaluateRequest(content="x", policy_id="demo-policy"), stream_timeout=0.3))


def test_error_after_some_messages_surfaces_and_is_not_retried(client: Any, emulator: Emulator) -> None:
    emulator.faults.add("Evaluate", grpc.StatusCode.UNAVAILABLE, after_messages=2, times=5)
    before = len(emulator.calls.records("Evaluate"))
    stream = client.evaluate(EvaluateRequest(content=["a", "b", "c", "d"], policy_id="demo-policy"))
    received = [next(stream), next(stream)]
    with pytest.raises(UnavailableError):
        next(stream)
    assert len(received) == 2  # partial results kept; no silent restart that would repeat them
    assert len(emulator.calls.records("Evaluate")) == before + 1


def test_stream_is_retried_before_its_first_message(client: Any, emulator: Emulator) -> None:
    emulator.faults.add("Evaluate", grpc.StatusCode.UNAVAILABLE, times=2)
    before = len(emulator.calls.records("Evaluate"))
    responses = list(client.evaluate(EvaluateRequest(content=["a", "b"], policy_id="demo-policy")))
    assert len(responses) == 2
    assert len(emulator.calls.records("Evaluate")) == before + 3


def test_bad_threshold_on_the_wire_is_invalid_argument(client: Any) -> None:
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire._gen.clavata.shared.v1 import public_pb2

    raw = gateway_pb2.EvaluateRequest(
        content_data=[public_pb2.ContentData(text="x")], policy_id="demo-policy", threshold=7
    )
    with pytest.raises(InvalidArgumentError) as caught:
        list(client.evaluate(raw))
    assert "threshold" in caught.value.message


# -- `async for` over the sync client's stream (the Clavata docs' form) --------------------------


async def test_async_for_over_a_sync_stream_yields_everything_in_order_without_blocking_the_loop(
    sync_client: ClavataClient,
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    try:
        texts = MANY[:1000]
        got = [
            r.content_hash
            async for r in sync_client.evaluate(EvaluateRequest(content=texts, policy_id="demo-policy"))
        ]
    finally:
        running.cancel()
    expected = [
        r.content_hash for r in sync_client.evaluate(EvaluateRequest(content=texts, policy_id="demo-policy"))
    ]
    assert got == expected and len(got) == 1000
    assert ticks > 10  # other tasks ran while the stream was read


async def test_async_break_over_a_sync_stream_cancels_the_call(
    sync_client: ClavataClient, emulator: Emulator
) -> None:
    before = _cancelled_count(emulator)
    async for _response in sync_client.evaluate(_long_request()):
        break
    await _assert_cancelled_async(emulator, before)


async def test_aclose_over_a_sync_stream_cancels_and_a_slow_reader_bounds_the_buffer(
    emulator: Emulator, api_key: str
) -> None:
    from modelwire._core.streams import _Handoff

    # gRPC grows its flow-control window from what it measures (BDP probing): a fast server could
    # then send all of MANY before the cancel, and the call would end OK. A fixed window keeps the
    # server blocked behind the stopped reader, as a slow consumer over a real network would.
    client = ClavataClient(
        host="127.0.0.1",
        port=emulator.port,
        auth_token=api_key,
        channel_options=[("grpc.http2.bdp_probe", 0)],
    )
    with client:
        before = _cancelled_count(emulator)
        iterator = client.evaluate(_long_request()).__aiter__()
        await iterator.__anext__()
        await asyncio.sleep(0.3)  # the reader runs ahead while nobody consumes
        handoff = iterator._handoff  # type: ignore[attr-defined]
        assert 0 < len(handoff.buffer) <= _Handoff.LIMIT
        await iterator.aclose()  # type: ignore[attr-defined]
        _assert_cancelled(emulator, before)


async def test_a_mid_stream_failure_reaches_async_for_over_a_sync_stream(
    sync_client: ClavataClient, emulator: Emulator
) -> None:
    emulator.faults.add("Evaluate", grpc.StatusCode.UNAVAILABLE, after_messages=3)
    seen: list[object] = []

    async def consume() -> None:
        async for response in sync_client.evaluate(_long_request()):
            seen.append(response)

    with pytest.raises(UnavailableError):
        await consume()
    assert len(seen) == 3  # a stream that already yielded is not retried: the error reaches the loop


# -- AsyncClavataClient: long streams are read by a thread (THREADED_STREAM_ITEMS) --------------


async def test_async_client_long_streams_are_threaded_and_short_ones_are_not(
    emulator: Emulator, api_key: str
) -> None:
    from modelwire._core.streams import AsyncStream, ThreadedAsyncStream
    from modelwire.clavata.client import THREADED_STREAM_ITEMS

    async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        texts = MANY[:THREADED_STREAM_ITEMS]
        long = client.evaluate(EvaluateRequest(content=texts, policy_id="demo-policy"))
        short = client.evaluate(EvaluateRequest(content=texts[:-1], policy_id="demo-policy"))
        assert isinstance(long, ThreadedAsyncStream) and isinstance(short, AsyncStream)
        got_long = [r.content_hash async for r in long]
        got_short = [r.content_hash async for r in short]
        assert got_long[:-1] == got_short and len(got_long) == THREADED_STREAM_ITEMS
        assert long.done and long.received == THREADED_STREAM_ITEMS


async def test_async_client_threaded_stream_retries_before_the_first_message_and_times_out_per_message(
    emulator: Emulator, api_key: str
) -> None:
    async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        emulator.faults.add("Evaluate", grpc.StatusCode.UNAVAILABLE, times=1)
        got = [r async for r in client.evaluate(EvaluateRequest(content=MANY[:50], policy_id="demo-policy"))]
        assert len(got) == 50  # the refused first attempt was retried

        emulator.faults.add("Evaluate", grpc.StatusCode.OK, delay=1.5)
        stream = client.evaluate(
            EvaluateRequest(content=MANY[:50], policy_id="demo-policy"), message_timeout=0.2
        )
        with pytest.raises(MessageTimeoutError):
            await stream.__anext__()


async def test_closing_the_async_client_ends_its_threaded_streams(emulator: Emulator, api_key: str) -> None:
    client = AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key)
    stream = client.evaluate(_long_request())
    await stream.__anext__()
    await client.close()
    with pytest.raises(CallCancelledError, match="Channel closed"):
        async for _response in stream:
            pass
