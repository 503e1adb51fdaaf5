"""`interceptors=` on every gRPC client: grpc interceptors for sync clients, grpc.aio ones for async."""

from __future__ import annotations

import collections
from typing import Any

import grpc
import pytest

from modelwire.clarifai import App, User
from modelwire.clavata import AsyncClavataClient, ClavataClient, RetryPolicy
from modelwire.clavata.client import THREADED_STREAM_ITEMS
from modelwire.emulator import Emulator
from modelwire.errors import ConfigurationError

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.02)


class Counting(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Counts calls by method and adds a header; the call itself goes on unchanged."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def _details(self, details: Any) -> Any:
        self.calls[details.method.rsplit("/", 1)[-1]] += 1
        return details

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)


class AioUnaryCounting(grpc.aio.UnaryUnaryClientInterceptor):
    """grpc.aio files each interceptor under one kind only: one object per kind, one counter."""

    def __init__(self, calls: collections.Counter[str]) -> None:
        self.calls = calls

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self.calls[_name(details.method)] += 1
        return await continuation(details, request)


class AioStreamCounting(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, calls: collections.Counter[str]) -> None:
        self.calls = calls

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        self.calls[_name(details.method)] += 1
        return await continuation(details, request)


def aio_counting() -> tuple[collections.Counter[str], list[Any]]:
    calls: collections.Counter[str] = collections.Counter()
    return calls, [AioUnaryCounting(calls), AioStreamCounting(calls)]


def _name(method: str | bytes) -> str:
    text = method.decode() if isinstance(method, bytes) else method
    return text.rsplit("/", 1)[-1]


def _clavata(cls: type[Any], emulator: Emulator, api_key: str, **kwargs: Any) -> Any:
    return cls(host="127.0.0.1", port=emulator.port, auth_token=api_key, **kwargs)


def test_sync_clavata_interceptors_see_every_attempt(emulator: Emulator, api_key: str) -> None:
    counting = Counting()
    with _clavata(ClavataClient, emulator, api_key, interceptors=[counting], retry=FAST) as client:
        job = client.create_job(content="x", policy_id="demo-policy")
        emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=2)
        client.get_job(job.job_uuid)
        stream = client.evaluate(content=["a", "b"], policy_id="demo-policy")
        assert len(list(stream)) == 2
        early = client.evaluate(content=["a", "b", "c"], policy_id="demo-policy")
        next(iter(early))
        early.close()  # an intercepted stream is still cancelled by the handle
        assert early.done
    assert counting.calls == {"CreateJob": 1, "GetJob": 3, "Evaluate": 2}


async def test_async_clavata_takes_aio_interceptors(emulator: Emulator, api_key: str) -> None:
    calls, interceptors = aio_counting()
    client = _clavata(AsyncClavataClient, emulator, api_key, interceptors=interceptors, retry=FAST)
    try:
        job = await client.create_job(content="x", policy_id="demo-policy")
        emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=1)
        await client.get_job(job.job_uuid)
        assert len([r async for r in client.evaluate(content=["a", "b"], policy_id="demo-policy")]) == 2
    finally:
        await client.close()
    assert calls == {"CreateJob": 1, "GetJob": 2, "Evaluate": 1}


async def test_async_threaded_streams_use_the_sync_interceptors(emulator: Emulator, api_key: str) -> None:
    (aio_calls, aio), sync = aio_counting(), Counting()
    client = _clavata(AsyncClavataClient, emulator, api_key, interceptors=[*aio, sync])
    try:
        many = [f"item {i}" for i in range(THREADED_STREAM_ITEMS)]  # read by a thread
        stream = client.evaluate(content=many, policy_id="demo-policy")
        assert len([r async for r in stream]) == THREADED_STREAM_ITEMS
        await client.create_job(content="x", policy_id="demo-policy")
    finally:
        await client.close()
    assert sync.calls == {"Evaluate": 1}
    assert aio_calls == {"CreateJob": 1}


def test_clarifai_clients_take_interceptors_and_share_them(
    emulator: Emulator, api_key: str, base_url: str
) -> None:
    counting = Counting()
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key, interceptors=[counting]) as user:
        list(user.list_apps())
        app = user.create_app(app_id="observed-app")  # derived: the same connection
        list(app.list_datasets())
        user.delete_app("observed-app")
    assert counting.calls["ListApps"] == 1
    assert counting.calls["PostApps"] == 1
    assert counting.calls["ListDatasets"] == 1


def test_a_resource_client_takes_interceptors(emulator: Emulator, api_key: str, base_url: str) -> None:
    counting = Counting()
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as user:
        user.create_app(app_id="intercepted-app")
    with App(
        user_id=emulator.user_id,
        app_id="intercepted-app",
        base_url=base_url,
        pat=api_key,
        interceptors=[counting],
    ) as app:
        list(app.list_datasets())
    assert counting.calls == {"ListDatasets": 1}


def test_the_wrong_kind_is_refused_at_construction(emulator: Emulator, api_key: str, base_url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"grpc\.aio interceptor"):
        _clavata(ClavataClient, emulator, api_key, interceptors=aio_counting()[1])
    with pytest.raises(ConfigurationError, match="interceptors= takes grpc client interceptors"):
        _clavata(ClavataClient, emulator, api_key, interceptors=[object()])
    with pytest.raises(ConfigurationError, match=r"grpc\.aio interceptor"):
        User(user_id=emulator.user_id, base_url=base_url, pat=api_key, interceptors=aio_counting()[1])


def test_the_legacy_clarifai_app_takes_interceptors(emulator: Emulator, api_key: str, base_url: str) -> None:
    from modelwire.clarifai.legacy import ClarifaiApp

    counting = Counting()
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as user:
        user.create_app(app_id="legacy-intercepted")
    app = ClarifaiApp(
        app_id="legacy-intercepted",
        user_id=emulator.user_id,
        api_key=api_key,
        base_url=base_url,
        interceptors=[counting],
    )
    app.concepts.create("cat")
    list(app.inputs.get_all())
    assert counting.calls["PostConcepts"] == 1
    assert counting.calls["ListInputs"] >= 1
    with pytest.raises(ConfigurationError, match=r"grpc\.aio interceptor"):
        ClarifaiApp(
            app_id="x",
            user_id=emulator.user_id,
            api_key=api_key,
            base_url=base_url,
            interceptors=aio_counting()[1],
        )
