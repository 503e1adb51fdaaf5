"""Closed clients, calls racing close(), and stream watchdog threads, against the real emulator."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

import pytest

from modelwire._core.errors import ClientClosedError, ModelwireError
from modelwire.clarifai import User
from modelwire.clavata import AsyncClavataClient, ClavataClient, EvaluateRequest
from modelwire.emulator import Emulator


def _clavata(emulator: Emulator, api_key: str) -> ClavataClient:
    return ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key)


def test_a_closed_clavata_client_raises_instead_of_crashing(emulator: Emulator, api_key: str) -> None:
    # grpcio crashes the process (SIGSEGV) when a method never called before is first called on a
    # closed channel; the client must refuse before reaching gRPC.
    with _clavata(emulator, api_key) as client:
        client.list_jobs(page_size=1).pages().__next__()
    for call in (lambda: client.get_job("x"), lambda: next(iter(client.list_jobs(page_size=1)))):
        with pytest.raises(ClientClosedError, match="closed"):
            call()
    with pytest.raises(ClientClosedError):
        client.evaluate(EvaluateRequest(content=["hi"], policy_id="demo-policy"))


def test_a_closed_async_clavata_client_raises(emulator: Emulator, api_key: str) -> None:
    async def main() -> None:
        async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
            await client.list_jobs(page_size=1)
        with pytest.raises(ClientClosedError, match="closed"):
            await client.get_job("x")
        with pytest.raises(ClientClosedError):
            async for _ in client.evaluate(EvaluateRequest(content=["hi"], policy_id="demo-policy")):
                pass

    asyncio.run(main())


def test_a_closed_clarifai_user_raises_instead_of_crashing(emulator: Emulator, api_key: str) -> None:
    user = User(user_id=emulator.user_id, base_url=f"http://127.0.0.1:{emulator.port}", pat=api_key)
    user.close()
    with pytest.raises(ModelwireError, match="closed"):
        list(user.list_apps())


def test_calls_racing_close_fail_with_a_clear_error(emulator: Emulator, api_key: str) -> None:
    client = _clavata(emulator, api_key)
    job = client.create_job(content="x", policy_id="demo-policy")
    outcomes: list[str] = []
    start = threading.Barrier(5)

    def caller() -> None:
        start.wait()
        for _ in range(200):
            try:
                client.get_job(job.job_uuid)
                outcomes.append("ok")
            except ClientClosedError:
                outcomes.append("closed")
                return
            except BaseException as exc:  # anything else (gRPC's raw ValueError) is the defect
                outcomes.append(f"raw {type(exc).__name__}: {exc}")
                return

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(0.02)
    client.close()
    for thread in threads:
        thread.join(30)
    assert not [o for o in outcomes if o.startswith("raw")], outcomes
    assert outcomes.count("closed") == 4


def _watchdogs() -> int:
    return sum(t.name == "modelwire-stream-watchdog" for t in threading.enumerate())


def test_streams_left_with_break_end_their_watchdog_threads(emulator: Emulator, api_key: str) -> None:
    before = _watchdogs()
    with _clavata(emulator, api_key) as client:
        request = EvaluateRequest(content=["a", "b", "c"], policy_id="demo-policy")
        for _ in range(30):
            for _response in client.evaluate(request, message_timeout=30):
                break
        gc.collect()
        deadline = time.monotonic() + 5
        while _watchdogs() > before and time.monotonic() < deadline:
            time.sleep(0.02)
    assert _watchdogs() == before


def test_a_closed_stream_ends_its_watchdog(emulator: Emulator, api_key: str) -> None:
    with _clavata(emulator, api_key) as client:
        stream: Any = client.evaluate(
            EvaluateRequest(content=["a"], policy_id="demo-policy"), message_timeout=30
        )
        watchdog = stream._watchdog
        stream.close()
        assert watchdog is not None and watchdog._stopped
