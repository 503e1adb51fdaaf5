"""OpenTelemetry tracing for modelwire clients (the `modelwire[otel]` extra).

    import modelwire.otel

    modelwire.otel.instrument()          # every client made from now on is traced

Two layers of spans:

* **Wire spans** (kind CLIENT), one per attempt, from the maintained instrumentation packages:
  opentelemetry-instrumentation-grpc's client interceptors (Clavata, Clarifai) and
  opentelemetry-instrumentation-aiohttp-client's trace config (Decthings HTTP and the WebSocket
  upgrade). They carry the RPC / HTTP semantic-convention attributes and propagate the trace
  context to the server.
* **modelwire spans** (kind INTERNAL, instrumentation scope "modelwire"), one per SDK operation:
  a unary call with all its retries, or a whole stream. Named like the RPC
  ("clavata.gateway.v1.GatewayService/Evaluate", "Model.getModels"), with `rpc.system`,
  `rpc.service`, `rpc.method`, `rpc.grpc.status_code` (gRPC), `modelwire.status`,
  `modelwire.attempts` and, for streams, `modelwire.messages`. The wire spans of its attempts
  are its children.

Per client instead of globally: `ClavataClient(interceptors=modelwire.otel.grpc_interceptors())`,
`AsyncClavataClient(interceptors=modelwire.otel.grpc_interceptors(aio=True))`,
`DecthingsClient(trace_configs=modelwire.otel.trace_configs())` (wire spans only).

Neither layer records credentials, metadata values or message bodies.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import grpc

try:
    from opentelemetry import trace
    from opentelemetry.instrumentation import grpc as otel_grpc
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "modelwire.otel needs OpenTelemetry: pip install 'modelwire[otel]' "
        f"(opentelemetry-api, opentelemetry-instrumentation-grpc, "
        f"opentelemetry-instrumentation-aiohttp-client); {exc}"
    ) from exc

from modelwire._core import observe
from modelwire._core.errors import RpcCode
from modelwire._version import __version__

__all__ = ["grpc_interceptors", "instrument", "instrumented", "trace_configs", "uninstrument"]

SCOPE = "modelwire"
_NOT_ERRORS = frozenset({"OK", "CANCELLED"})  # CANCELLED: the caller left (a `break`, a close)


# -- modelwire's own spans -------------------------------------------------------------------------


class _Span:
    """An SDK operation's span, as the core's `observe.Span`."""

    __slots__ = ("_span", "_system")

    def __init__(self, span: trace.Span, system: str) -> None:
        self._span = span
        self._system = system

    def activate(self) -> contextlib.AbstractContextManager[object]:
        # Exceptions are the core's to report (raw gRPC errors may echo what was sent).
        return trace.use_span(
            self._span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )

    def set(self, key: str, value: str | int | float | bool) -> None:
        self._span.set_attribute(key, value)

    def end(self, status: str, error: BaseException | None = None) -> None:
        span = self._span
        span.set_attribute("modelwire.status", status)
        if self._system == "grpc" and status in RpcCode.__members__:
            span.set_attribute("rpc.grpc.status_code", int(RpcCode[status]))
        if status not in _NOT_ERRORS:
            if error is not None:
                span.record_exception(error)  # modelwire's errors: messages already redacted
            span.set_status(Status(StatusCode.ERROR, status))
        span.end()


class _Tracer:
    """The core's `observe.Tracer`, on an OpenTelemetry tracer."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start(self, name: str, attributes: Mapping[str, str | int | float | bool]) -> observe.Span:
        span = self._tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
        return _Span(span, str(attributes.get("rpc.system", "")))


# -- wire instrumentation (the maintained packages) ------------------------------------------------


def grpc_interceptors(*, aio: bool = False, tracer_provider: trace.TracerProvider | None = None) -> list[Any]:
    """OpenTelemetry's gRPC client interceptors, for a client's `interceptors=`.

    `aio=False`: for ClavataClient and the Clarifai clients. `aio=True`: for AsyncClavataClient,
    its grpc.aio interceptors plus the sync one for `stream(threaded=True)` streams."""
    sync = [_GrpcextInterceptor(otel_grpc.client_interceptor(tracer_provider=tracer_provider))]  # type: ignore[no-untyped-call]
    if not aio:
        return sync
    return [*otel_grpc.aio_client_interceptors(tracer_provider=tracer_provider), *sync]  # type: ignore[no-untyped-call]


def trace_configs(*, tracer_provider: trace.TracerProvider | None = None) -> list[Any]:
    """OpenTelemetry's aiohttp client trace config, for a Decthings client's `trace_configs=`."""
    return [create_trace_config(tracer_provider=tracer_provider)]


def instrument(*, tracer_provider: trace.TracerProvider | None = None, wire: bool = True) -> None:
    """Trace every modelwire client created from now on (clients made earlier are unchanged).

    Args:
        tracer_provider: Where spans go; the global provider when omitted.
        wire: Also add the wire spans (gRPC interceptors, aiohttp trace configs). Pass False when
            the application already instruments grpc / aiohttp globally (`GrpcInstrumentorClient`,
            `AioHttpClientInstrumentor`), which would otherwise trace each attempt twice.
    """
    tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
    defaults = observe.Instrumentation()
    if wire:
        defaults = observe.Instrumentation(
            grpc=lambda: grpc_interceptors(tracer_provider=tracer_provider),
            grpc_aio=lambda: grpc_interceptors(aio=True, tracer_provider=tracer_provider),
            aiohttp=lambda: trace_configs(tracer_provider=tracer_provider),
        )
    observe.install(_Tracer(tracer), defaults)


def uninstrument() -> None:
    """Stop tracing clients created from now on (clients made meanwhile keep their wire spans)."""
    observe.install(None)


def instrumented() -> bool:
    """Whether `instrument()` is in effect."""
    return observe.tracer is not None


# -- OpenTelemetry's sync gRPC interceptor as a standard grpc interceptor -------------------------
#
# opentelemetry-instrumentation-grpc's sync client interceptor is written for its own channel
# wrapper (grpcext), not for `grpc.intercept_channel`, and wraps a server stream in a plain
# generator, which cannot be cancelled. The adapter below only translates between the two
# interfaces; the spans are still the package's.

_Details = namedtuple(  # as grpc's own ClientCallDetails
    "_Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
)
_UnaryInfo = namedtuple("_UnaryInfo", ("full_method", "timeout"))
_StreamInfo = namedtuple("_StreamInfo", ("full_method", "is_client_stream", "is_server_stream", "timeout"))


class _CallDetails(_Details, grpc.ClientCallDetails):
    pass


def _with_metadata(details: grpc.ClientCallDetails, metadata: Any) -> _CallDetails:
    return _CallDetails(
        details.method,
        details.timeout,
        metadata,
        details.credentials,
        getattr(details, "wait_for_ready", None),
        getattr(details, "compression", None),
    )


class _GrpcextInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        def invoker(req: Any, metadata: Any) -> Any:
            return continuation(_with_metadata(details, metadata), req)

        info = _UnaryInfo(details.method, details.timeout)
        return self._inner.intercept_unary(request, details.metadata, info, invoker)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        stream = _TracedStream()

        def invoker(req: Any, metadata: Any) -> Any:
            stream.call = continuation(_with_metadata(details, metadata), req)
            return stream.call

        info = _StreamInfo(details.method, False, True, details.timeout)
        result = self._inner.intercept_stream(request, details.metadata, info, invoker)
        if not inspect.isgenerator(result):
            return result  # not traced (instrumentation suppressed): the call itself
        stream.messages = result
        return stream


class _TracedStream(grpc.Call):
    """The package's traced generator, with the grpc call's surface (cancel, code, metadata).

    The generator keeps its span current between messages; it runs in a context of its own,
    captured when the stream started (so its span is a child of the caller's), and the caller's
    context is never touched."""

    def __init__(self) -> None:
        self.call: Any = None  # the real call, made on the first read
        self.messages: Iterator[Any] = iter(())
        self._context = contextvars.copy_context()
        self._cancelled = False

    def __iter__(self) -> _TracedStream:
        return self

    def __next__(self) -> Any:
        if self._cancelled and self.call is None:
            raise StopIteration
        return self._context.run(next, self.messages)

    def _close_messages(self) -> None:
        close = getattr(self.messages, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # e.g. being read on another thread right now
                self._context.run(close)

    def cancel(self) -> bool:
        self._cancelled = True
        cancelled = bool(self.call.cancel()) if self.call is not None else True
        # Ends the wire span now (unless a reader is inside it: that read then sees CANCELLED).
        self._close_messages()
        return cancelled

    def __del__(self) -> None:
        self._close_messages()

    def _delegate(self, name: str, default: Any = None) -> Any:
        return getattr(self.call, name)() if self.call is not None else default

    def is_active(self) -> bool:
        return bool(self._delegate("is_active", not self._cancelled))

    def time_remaining(self) -> Any:
        return self._delegate("time_remaining")

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return bool(self.call.add_callback(callback)) if self.call is not None else False

    def initial_metadata(self) -> Any:
        return self._delegate("initial_metadata", ())

    def trailing_metadata(self) -> Any:
        return self._delegate("trailing_metadata", ())

    def code(self) -> Any:
        return self._delegate("code", grpc.StatusCode.CANCELLED if self._cancelled else None)

    def details(self) -> Any:
        return self._delegate("details", "")
