"""Retries through an outage (the server stopped, then back on the same port) and writes whose
outcome is unknown, against real emulators on loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from modelwire._core.errors import (
    ApiError,
    DeadlineExceededError,
    UnavailableError,
    from_rpc_error,
    lost_in_flight,
)
from modelwire.clavata import NO_RETRY, AsyncClavataClient, ClavataClient, CreateJobRequest
from modelwire.emulator import Emulator

KEY = "outage-key-0123456789"


@pytest.fixture
def down_port(tmp_path: Path) -> tuple[int, Path]:
    """A loopback port an emulator used and released: nothing listens there now."""
    db = tmp_path / "emu.db"
    with Emulator(api_key=KEY, db=db) as emu:
        port = emu.port
    return port, db


def _restart_later(port: int, db: Path, after: float, started: list[Emulator]) -> threading.Thread:
    def run() -> None:
        time.sleep(after)
        emu = Emulator(api_key=KEY, db=db, port=port)
        emu.start()
        started.append(emu)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _stop(started: list[Emulator]) -> None:
    for emu in started:
        emu.stop()


def test_a_call_waits_out_an_outage_within_its_deadline(down_port: tuple[int, Path]) -> None:
    # Before: 5 attempts took 0.6-1.5 s while gRPC reconnected, and the call failed with the server
    # back up. Now an outage does not burn attempts: the call waits for the channel.
    port, db = down_port
    started: list[Emulator] = []
    restart = _restart_later(port, db, 1.5, started)
    try:
        with ClavataClient(host="127.0.0.1", port=port, auth_token=KEY) as client:
            began = time.monotonic()
            jobs = list(client.list_jobs(page_size=10, timeout=20))
            assert jobs == [] and time.monotonic() - began >= 1.4
            # A write that never left the client is safe to send once the server is back.
            job = client.create_job(CreateJobRequest(content="x", policy_id="demo-policy"), timeout=20)
            assert job.job_uuid
    finally:
        restart.join(10)
        _stop(started)


def test_an_async_call_waits_out_an_outage(down_port: tuple[int, Path]) -> None:
    port, db = down_port
    started: list[Emulator] = []
    restart = _restart_later(port, db, 1.5, started)

    async def main() -> Any:
        async with AsyncClavataClient(host="127.0.0.1", port=port, auth_token=KEY) as client:
            return await client.create_job(CreateJobRequest(content="x", policy_id="demo-policy"), timeout=20)

    try:
        assert asyncio.run(main()).job_uuid
    finally:
        restart.join(10)
        _stop(started)


def test_an_outage_longer_than_the_deadline_fails_in_time(down_port: tuple[int, Path]) -> None:
    port, _ = down_port
    with ClavataClient(host="127.0.0.1", port=port, auth_token=KEY) as client:
        began = time.monotonic()
        with pytest.raises(ApiError) as caught:
            client.get_job("x", timeout=1.5)
    elapsed = time.monotonic() - began
    assert 1.0 <= elapsed < 5, elapsed
    assert isinstance(caught.value, (UnavailableError, DeadlineExceededError))
    assert caught.value.attempts >= 2


def test_no_retry_still_fails_at_once_on_an_outage(down_port: tuple[int, Path]) -> None:
    port, _ = down_port
    with ClavataClient(host="127.0.0.1", port=port, auth_token=KEY, retry=NO_RETRY) as client:
        began = time.monotonic()
        with pytest.raises(UnavailableError) as caught:
            client.get_job("x", timeout=10)
    assert time.monotonic() - began < 3
    assert caught.value.never_sent and not caught.value.outcome_unknown


def test_a_write_lost_in_flight_says_it_may_have_landed(emulator: Emulator, api_key: str) -> None:
    # The server stores the job, then answers too late: the caller must not take it as "not done".
    emulator.faults.add("CreateJob", grpc.StatusCode.OK, delay=1.0)
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        with pytest.raises(DeadlineExceededError) as caught:
            client.create_job(CreateJobRequest(content="x", policy_id="demo-policy"), timeout=0.3)
        err = caught.value
        assert err.outcome_unknown and "may have reached the server" in str(err)
        # A read that times out is not "in doubt": nothing was written.
        emulator.faults.add("GetJob", grpc.StatusCode.OK, delay=1.0)
        with pytest.raises(DeadlineExceededError) as read:
            client.get_job("x", timeout=0.3)
        assert not read.value.outcome_unknown


def test_a_write_refused_by_the_server_is_a_plain_failure(emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("CreateJob", grpc.StatusCode.INVALID_ARGUMENT, message="no")
    with (
        ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_job(CreateJobRequest(content="x", policy_id="demo-policy"))
    assert not caught.value.outcome_unknown


def _unavailable(details: str) -> ApiError:
    raw = grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), details)
    return from_rpc_error(raw, method="/clavata.gateway.v1.GatewayService/CreateJob")


def test_a_write_refused_on_a_socket_inherited_across_fork_was_never_sent() -> None:
    # A forked child's first call on its parent's connection failed with this and, being a write,
    # was not retried ("may have reached the server"): gRPC refused the stale socket locally.
    forked = _unavailable("Stream removed (sendmsg: Wrong file descriptor generation)")
    assert forked.never_sent and not lost_in_flight(forked)
    lost = _unavailable("Stream removed")  # a connection lost mid-call: the write may have landed
    assert not lost.never_sent and lost_in_flight(lost)
