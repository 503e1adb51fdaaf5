"""OpenTelemetry: wire spans from the instrumentation packages, modelwire's spans on top.

Spans go to the SDK's InMemorySpanExporter through a provider of the test's own (never the global
one); every client talks to the real emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.instrumentation.grpc")
pytest.importorskip("opentelemetry.instrumentation.aiohttp_client")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import modelwire.otel
from modelwire.clarifai import User
from modelwire.clavata import AsyncClavataClient, ClavataClient, RetryPolicy
from modelwire.clavata.client import THREADED_STREAM_ITEMS
from modelwire.decthings import DecthingsClient, DecthingsClientSync
from modelwire.emulator import Emulator

EVALUATE = "clavata.gateway.v1.GatewayService/Evaluate"
GET_JOB = "clavata.gateway.v1.GatewayService/GetJob"
GRPC_SCOPE = "opentelemetry.instrumentation.grpc"
AIOHTTP_SCOPE = "opentelemetry.instrumentation.aiohttp_client"
FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.02)


class Spans:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def ours(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.instrumentation_scope.name == "modelwire" and s.name == name]

    def wire(self, scope: str, parent: ReadableSpan | None = None) -> list[ReadableSpan]:
        found = [s for s in self.all() if s.instrumentation_scope.name == scope]
        if parent is not None:
            found = [s for s in found if s.parent is not None and s.parent.span_id == parent.context.span_id]
        return found


@pytest.fixture
def spans() -> Iterator[Spans]:
    """modelwire.otel.instrument() on a provider of the test's own; uninstrumented afterwards."""
    recorded = Spans()
    modelwire.otel.instrument(tracer_provider=recorded.provider)
    try:
        yield recorded
    finally:
        modelwire.otel.uninstrument()
        recorded.provider.shutdown()


def _clavata(cls: type[Any], emulator: Emulator, api_key: str, **kwargs: Any) -> Any:
    return cls(host="127.0.0.1", port=emulator.port, auth_token=api_key, **kwargs)


def _one_stream_span(spans: Spans, messages: int) -> ReadableSpan:
    (ours,) = spans.ours(EVALUATE)
    assert ours.kind == SpanKind.INTERNAL
    attributes = dict(ours.attributes or {})
    assert attributes["rpc.system"] == "grpc"
    assert attributes["rpc.service"] == "clavata.gateway.v1.GatewayService"
    assert attributes["rpc.method"] == "Evaluate"
    assert attributes["modelwire.messages"] == messages
    assert attributes["modelwire.attempts"] == 1
    assert attributes["modelwire.status"] == "OK" and attributes["rpc.grpc.status_code"] == 0
    (wire,) = spans.wire(GRPC_SCOPE, parent=ours)
    assert wire.kind == SpanKind.CLIENT and wire.name == f"/{EVALUATE}"
    assert wire.attributes is not None and wire.attributes["rpc.method"] == "Evaluate"
    assert wire.context.trace_id == ours.context.trace_id
    return ours


def test_a_clavata_stream_is_traced(spans: Spans, emulator: Emulator, api_key: str) -> None:
    with _clavata(ClavataClient, emulator, api_key) as client:
        assert len(list(client.evaluate(content=["a", "b", "c"], policy_id="demo-policy"))) == 3
    _one_stream_span(spans, messages=3)


async def test_an_async_clavata_stream_is_traced(spans: Spans, emulator: Emulator, api_key: str) -> None:
    client = _clavata(AsyncClavataClient, emulator, api_key)
    try:
        assert len([r async for r in client.evaluate(content=["a", "b"], policy_id="demo-policy")]) == 2
    finally:
        await client.close()
    _one_stream_span(spans, messages=2)


async def test_an_async_threaded_stream_is_traced(spans: Spans, emulator: Emulator, api_key: str) -> None:
    client = _clavata(AsyncClavataClient, emulator, api_key)
    many = [f"item {i}" for i in range(THREADED_STREAM_ITEMS)]
    try:
        assert len([r async for r in client.evaluate(content=many, policy_id="demo-policy")]) == len(many)
    finally:
        await client.close()
    _one_stream_span(spans, messages=len(many))


def test_a_stream_left_early_is_cancelled_not_failed(spans: Spans, emulator: Emulator, api_key: str) -> None:
    with _clavata(ClavataClient, emulator, api_key) as client:
        stream = client.evaluate(content=["a", "b", "c"], policy_id="demo-policy")
        next(iter(stream))
        stream.close()
    (ours,) = spans.ours(EVALUATE)
    assert ours.attributes is not None and ours.attributes["modelwire.status"] == "CANCELLED"
    assert ours.status.status_code != StatusCode.ERROR
    assert len(spans.wire(GRPC_SCOPE, parent=ours)) == 1  # ended with the stream, not at exit


def test_a_clarifai_unary_call_is_traced(
    spans: Spans, emulator: Emulator, api_key: str, base_url: str
) -> None:
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as user:
        list(user.list_apps())
    (ours,) = spans.ours("clarifai.api.V2/ListApps")
    assert ours.attributes is not None
    assert ours.attributes["rpc.service"] == "clarifai.api.V2" and ours.attributes["rpc.method"] == "ListApps"
    assert ours.attributes["modelwire.attempts"] == 1 and ours.attributes["modelwire.status"] == "OK"
    (wire,) = spans.wire(GRPC_SCOPE, parent=ours)
    assert wire.name == "/clarifai.api.V2/ListApps" and wire.kind == SpanKind.CLIENT


def _check_decthings(spans: Spans) -> None:
    (ours,) = spans.ours("Model.getModels")
    assert ours.attributes is not None
    assert ours.attributes["rpc.system"] == "decthings"
    assert (ours.attributes["rpc.service"], ours.attributes["rpc.method"]) == ("Model", "getModels")
    (wire,) = spans.wire(AIOHTTP_SCOPE, parent=ours)
    assert wire.kind == SpanKind.CLIENT
    assert wire.attributes is not None
    status = wire.attributes.get("http.status_code", wire.attributes.get("http.response.status_code"))
    assert status == 200


def test_a_decthings_call_is_traced(spans: Spans, emulator: Emulator, api_key: str) -> None:
    with DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url) as client:
        client.model.get_models({})
    _check_decthings(spans)


async def test_an_async_decthings_call_is_traced(spans: Spans, emulator: Emulator, api_key: str) -> None:
    async with DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url) as client:
        await client.model.get_models({})
    _check_decthings(spans)


def test_a_retried_call_is_one_operation_with_a_wire_span_per_attempt(
    spans: Spans, emulator: Emulator, api_key: str
) -> None:
    with _clavata(ClavataClient, emulator, api_key, retry=FAST) as client:
        job = client.create_job(content="x", policy_id="demo-policy")
        emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=2)
        client.get_job(job.job_uuid)
    (ours,) = spans.ours(GET_JOB)
    assert ours.attributes is not None and ours.attributes["modelwire.attempts"] == 3
    wire = spans.wire(GRPC_SCOPE, parent=ours)
    codes = sorted(int(w.attributes["rpc.grpc.status_code"]) for w in wire if w.attributes is not None)
    assert codes == [0, 14, 14]


def test_a_failed_call_is_an_error_without_the_key(spans: Spans, emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("GetJob", grpc.StatusCode.INTERNAL, message=f"boom while using {api_key}")
    with _clavata(ClavataClient, emulator, api_key) as client, pytest.raises(Exception, match="INTERNAL"):
        client.get_job("00000000-0000-0000-0000-000000000000")
    (ours,) = spans.ours(GET_JOB)
    assert ours.status.status_code == StatusCode.ERROR
    assert ours.attributes is not None and ours.attributes["rpc.grpc.status_code"] == 13
    (event,) = [e for e in ours.events if e.name == "exception"]
    assert event.attributes is not None and event.attributes["exception.type"].endswith("InternalError")
    for span in spans.all():
        assert api_key not in repr(span.to_json())


def test_per_client_interceptors_without_instrument(emulator: Emulator, api_key: str) -> None:
    recorded = Spans()
    interceptors = modelwire.otel.grpc_interceptors(tracer_provider=recorded.provider)
    with _clavata(ClavataClient, emulator, api_key, interceptors=interceptors) as client:
        list(client.evaluate(content=["a"], policy_id="demo-policy"))
    assert not modelwire.otel.instrumented()
    assert [s.name for s in recorded.all()] == [f"/{EVALUATE}"]  # wire spans only
    recorded.provider.shutdown()


async def test_per_client_aio_interceptors_and_trace_configs(emulator: Emulator, api_key: str) -> None:
    recorded = Spans()
    provider = recorded.provider
    client = _clavata(
        AsyncClavataClient,
        emulator,
        api_key,
        interceptors=modelwire.otel.grpc_interceptors(aio=True, tracer_provider=provider),
    )
    try:
        await client.create_job(content="x", policy_id="demo-policy")
    finally:
        await client.close()
    async with DecthingsClient(
        api_key=api_key,
        http_server_address=emulator.decthings_url,
        trace_configs=modelwire.otel.trace_configs(tracer_provider=provider),
    ) as dt:
        await dt.model.get_models({})
    names = sorted(s.name for s in recorded.all())
    assert names == ["/clavata.gateway.v1.GatewayService/CreateJob", "POST"]
    provider.shutdown()


def test_clients_made_after_uninstrument_are_not_traced(emulator: Emulator, api_key: str) -> None:
    recorded = Spans()
    modelwire.otel.instrument(tracer_provider=recorded.provider)
    assert modelwire.otel.instrumented()
    modelwire.otel.uninstrument()
    with _clavata(ClavataClient, emulator, api_key) as client:
        list(client.evaluate(content=["a"], policy_id="demo-policy"))
    assert recorded.all() == []
    recorded.provider.shutdown()


def test_instrument_without_wire_spans(emulator: Emulator, api_key: str) -> None:
    recorded = Spans()
    modelwire.otel.instrument(tracer_provider=recorded.provider, wire=False)
    try:
        with _clavata(ClavataClient, emulator, api_key) as client:
            list(client.evaluate(content=["a"], policy_id="demo-policy"))
    finally:
        modelwire.otel.uninstrument()
    assert [(s.instrumentation_scope.name, s.name) for s in recorded.all()] == [("modelwire", EVALUATE)]
    recorded.provider.shutdown()


def test_a_bulk_upload_is_one_operation_with_its_counts(
    spans: Spans, emulator: Emulator, api_key: str, base_url: str
) -> None:
    from modelwire._gen.clarifai.api import resources_pb2

    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as user:
        app = user.create_app(app_id="otel-bulk")
        try:
            inputs = [
                resources_pb2.Input(
                    id=f"b-{i}", data=resources_pb2.Data(text=resources_pb2.Text(raw=f"t {i}"))
                )
                for i in range(300)
            ]
            summary = app.inputs().upload_inputs_bulk(inputs, batch_size=128, max_workers=3)
        finally:
            user.delete_app("otel-bulk")
    assert len(summary.uploaded) == 300
    (bulk,) = spans.ours("clarifai.Inputs.upload_inputs_bulk")
    assert bulk.attributes is not None
    assert bulk.attributes["modelwire.items"] == 300 and bulk.attributes["modelwire.batches"] == 3
    assert (bulk.attributes["modelwire.uploaded"], bulk.attributes["modelwire.failed"]) == (300, 0)
    assert bulk.attributes["modelwire.status"] == "OK"
    # every PostInputs, made on the batch threads, is a child of the operation
    children = [s for s in spans.ours("clarifai.api.V2/PostInputs") if s.parent is not None]
    assert len(children) == 3 and all(s.parent.span_id == bulk.context.span_id for s in children)  # type: ignore[union-attr]
