"""Decthings request/response hooks and the aiohttp `trace_configs=` passthrough (sync and async)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import grpc
import numpy as np
import pytest

from modelwire._core.observe import WireRequest, WireResponse
from modelwire.clavata import RetryPolicy
from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsNotFoundError, DecthingsTensor
from modelwire.emulator import Emulator
from modelwire.errors import ConfigurationError

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.02)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[WireRequest] = []
        self.responses: list[WireResponse] = []

    def kwargs(self) -> dict[str, Any]:
        return {"on_request": self.requests.append, "on_response": self.responses.append}


def _sync(emulator: Emulator, api_key: str, **kwargs: Any) -> DecthingsClientSync:
    return DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url, **kwargs)


def _async(emulator: Emulator, api_key: str, **kwargs: Any) -> DecthingsClient:
    return DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url, **kwargs)


def _check_ok(recorder: Recorder) -> None:
    (request,) = recorder.requests
    assert request == WireRequest(
        method="Model.getModels", attempt=1, transport="http", body_bytes=2, blob_count=0, blob_bytes=0
    )
    (response,) = recorder.responses
    assert (response.method, response.attempt, response.transport) == ("Model.getModels", 1, "http")
    assert (response.status, response.http_status, response.error) == ("OK", 200, None)
    assert 0 < response.duration < 30


def test_sync_hooks_see_each_exchange(emulator: Emulator, api_key: str) -> None:
    recorder = Recorder()
    with _sync(emulator, api_key, **recorder.kwargs()) as client:
        client.model.get_models({})
    _check_ok(recorder)


async def test_async_hooks_see_each_exchange(emulator: Emulator, api_key: str) -> None:
    recorder = Recorder()
    async with _async(emulator, api_key, **recorder.kwargs()) as client:
        await client.model.get_models({})
    _check_ok(recorder)


async def test_hooks_see_every_attempt_and_failures(emulator: Emulator, api_key: str) -> None:
    recorder = Recorder()
    emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, times=1)
    async with _async(emulator, api_key, retry=FAST, **recorder.kwargs()) as client:
        await client.model.get_models({})
        with pytest.raises(DecthingsNotFoundError):
            await client.model.delete_model({"modelId": "no-such-model"})
    assert [(r.method, r.attempt) for r in recorder.requests] == [
        ("Model.getModels", 1),
        ("Model.getModels", 2),
        ("Model.deleteModel", 1),
    ]
    first, second, missing = recorder.responses
    assert first.status == "UNAVAILABLE" and first.error is not None and first.attempt == 1
    assert second.status == "OK" and second.attempt == 2
    # An API error travels in an HTTP 200 answer: the exchange worked, the call failed.
    assert missing.status == "NOT_FOUND" and missing.http_status == 200
    assert isinstance(missing.error, DecthingsNotFoundError)


def test_blob_sizes_are_reported_not_contents(emulator: Emulator, api_key: str) -> None:
    recorder = Recorder()
    with _sync(emulator, api_key, **recorder.kwargs()) as client:
        created = client.dataset.create_dataset(
            {
                "name": "observed-dataset",
                "description": "hooks",
                "keys": [{"name": "x", "rules": {"shape": [2], "allowedTypes": ["f32"]}}],
            }
        )
        tensors = [DecthingsTensor(np.array([i, i + 1], dtype=np.float32), "f32", [2]) for i in range(3)]
        client.dataset.add_entries(
            {"datasetId": created["datasetId"], "keys": [{"key": "x", "data": tensors}]}
        )
        client.dataset.delete_dataset({"datasetId": created["datasetId"]})
    added = recorder.requests[1]
    assert added.method == "Dataset.addEntries" and added.blob_count == 3
    assert added.blob_bytes >= 3 * 8 and added.body_bytes > 0
    assert [r.status for r in recorder.responses] == ["OK"] * 3
    assert "observed-dataset" not in repr(recorder.requests)  # sizes only, never the params


def test_a_hook_that_raises_never_breaks_the_call(
    emulator: Emulator, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("hook bug")

    with (
        caplog.at_level(logging.ERROR, logger="modelwire"),
        _sync(emulator, api_key, on_request=broken, on_response=broken) as client,
    ):
        assert "models" in client.model.get_models({})
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["modelwire: the broken hook raised; the call goes on"] * 2


def test_hooks_must_be_callable(emulator: Emulator, api_key: str) -> None:
    with pytest.raises(ConfigurationError, match="on_response= takes a function"):
        _sync(emulator, api_key, on_response="print")


async def test_trace_configs_reach_the_session(emulator: Emulator, api_key: str) -> None:
    started: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        started.append(params.url.path)

    trace.on_request_start.append(on_start)
    async with _async(emulator, api_key, trace_configs=[trace]) as client:
        await client.model.get_models({})
    assert started == ["/v0/Model/getModels"]


def test_trace_configs_on_the_sync_client(emulator: Emulator, api_key: str) -> None:
    started: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        started.append(params.method)

    trace.on_request_start.append(on_start)
    with _sync(emulator, api_key, trace_configs=[trace]) as client:
        client.model.get_models({})
        client.model.get_models({})
    assert started == ["POST", "POST"]
