"""One transport call: metadata, deadline, retries and error mapping, for sync and async channels.

Providers declare each RPC once as an `Op` (path, message types, idempotent or not) and call
`transport.unary(op, request)` / `transport.stream(op, request, shape)`. The sync and async
transports share everything but the I/O primitive and the way they sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf import message
from google.protobuf.descriptor import ServiceDescriptor

from modelwire._core import errors, observe
from modelwire._core.config import Secret
from modelwire._core.retry import DEFAULT_RETRY, Attempts, Deadline, RetryPolicy
from modelwire._core.streams import AsyncStream, SyncStream, ThreadedAsyncStream

ReqT = TypeVar("ReqT", bound=message.Message)
RespT = TypeVar("RespT", bound=message.Message)
T = TypeVar("T")
Metadata = Sequence[tuple[str, str]]


class _Default:
    """Marks "use the client's default" where None already means "no deadline"."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()
_NOTHING = contextlib.nullcontext()


@dataclass(frozen=True)
class Op(Generic[ReqT, RespT]):
    """One RPC: its path, message types, shape and whether repeating it is harmless."""

    path: str
    request_type: type[ReqT]
    response_type: type[RespT]
    server_streaming: bool
    idempotent: bool

    @classmethod
    def of(
        cls,
        service: ServiceDescriptor,
        name: str,
        request_type: type[ReqT],
        response_type: type[RespT],
        *,
        idempotent: bool,
    ) -> Op[ReqT, RespT]:
        """Declare an op from the generated service descriptor, checking the types agree with it."""
        method = service.methods_by_name[name]
        if method.input_type.full_name != request_type.DESCRIPTOR.full_name:
            raise TypeError(f"{service.full_name}.{name} takes {method.input_type.full_name}")
        if method.output_type.full_name != response_type.DESCRIPTOR.full_name:
            raise TypeError(f"{service.full_name}.{name} returns {method.output_type.full_name}")
        if method.client_streaming:
            raise TypeError(f"{service.full_name}.{name}: client streaming is not supported")
        return cls(
            path=f"/{service.full_name}/{name}",
            request_type=request_type,
            response_type=response_type,
            server_streaming=method.server_streaming,
            idempotent=idempotent,
        )


# Maps an OK response that nevertheless reports failure (Clarifai's status-in-body) to an error.
Inspector = Callable[[Op[Any, Any], Any], "errors.ApiError | None"]

# Header names whose values are credentials (lower case, as gRPC sends them).
SENSITIVE_HEADERS = frozenset({"authorization", "x-clarifai-session-token", "x-api-key", "cookie"})


class CallMetadata(tuple[tuple[str, str], ...]):
    """Call metadata that masks credential values in its repr.

    It is a plain tuple to gRPC; the repr is what tracebacks that capture locals (pytest -l,
    Sentry) and dataclass reprs show, and it must not show a bearer token.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        shown = tuple((k, "***" if k.lower() in SENSITIVE_HEADERS else v) for k, v in self)
        return f"CallMetadata({shown!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class CallSettings:
    """What every call of one client shares."""

    metadata: tuple[tuple[str, str], ...] = ()
    timeout: float | None = 60.0
    stream_timeout: float | None = None
    retry: RetryPolicy = DEFAULT_RETRY
    secrets: tuple[Secret, ...] = ()
    specializers: tuple[errors.Specializer, ...] = ()
    inspect: Inspector | None = None
    # The request id of an OK response whose provider reports it in the body (Clarifai's
    # status.req_id) rather than in metadata; read only when calls are logged.
    request_id: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", CallMetadata(self.metadata))


class _TransportBase:
    def __init__(self, settings: CallSettings) -> None:
        self.settings = settings

    def map_error(self, exc: grpc.RpcError, op: Op[Any, Any]) -> errors.ApiError:
        return errors.from_rpc_error(
            exc, method=op.path, secrets=self.settings.secrets, specializers=self.settings.specializers
        )

    def _attempts(
        self, op: Op[Any, Any], timeout: float | None, retry: RetryPolicy | None, stream: bool
    ) -> Attempts:
        if timeout is DEFAULT:
            timeout = self.settings.stream_timeout if stream else self.settings.timeout
        deadline = Deadline(timeout, what="stream_timeout" if stream else "timeout")
        return Attempts(retry or self.settings.retry, deadline, op.idempotent, op.path)

    def _metadata(self, extra: Metadata) -> tuple[tuple[str, str], ...]:
        return CallMetadata(self.settings.metadata + tuple(extra)) if extra else self.settings.metadata

    def _inspect(self, op: Op[Any, Any], response: Any) -> errors.ApiError | None:
        return self.settings.inspect(op, response) if self.settings.inspect is not None else None

    def _request_id(self, response: Any) -> str | None:
        hook = self.settings.request_id
        if hook is None:
            return None
        try:
            return hook(response)
        except Exception:
            return None

    def _callable(self, op: Op[Any, Any]) -> Any:
        raise NotImplementedError

    def _stream_args(
        self,
        op: Op[Any, Any],
        request: Any,
        shape: Callable[[Any], Any],
        timeout: float | None,
        message_timeout: float | None,
        retry: RetryPolicy | None,
        metadata: Metadata,
    ) -> dict[str, Any]:
        """What a stream handle needs; the call itself is made by the handle (and remade on retry)."""
        md = self._metadata(metadata)
        attempts = self._attempts(op, timeout, retry, stream=True)
        return {
            "observer": observe.start(op.path, self.settings.secrets),
            "start": lambda t: self._callable(op)(
                request, timeout=t, metadata=md, wait_for_ready=attempts.wait_for_ready
            ),
            "shape": shape,
            "map_error": lambda exc: self.map_error(exc, op),
            "attempts": attempts,
            "message_timeout": message_timeout,
            "method": op.path,
        }


def _serializers(op: Op[Any, Any]) -> dict[str, Any]:
    return {
        "request_serializer": op.request_type.SerializeToString,
        "response_deserializer": op.response_type.FromString,
        "_registered_method": True,
    }


class SyncTransport(_TransportBase):
    """Calls over a `grpc.Channel`."""

    def __init__(self, channel: grpc.Channel, settings: CallSettings) -> None:
        super().__init__(settings)
        self.channel = channel
        self._callables: dict[str, Any] = {}
        self._closed = False
        # Guards making callables against close(): grpcio crashes the process (SIGSEGV) when a
        # registered method is created on a closed channel.
        self._lock = threading.Lock()

    def _callable(self, op: Op[Any, Any]) -> Any:
        fn = self._callables.get(op.path)
        if fn is None or self._closed:
            with self._lock:
                if self._closed:
                    raise _closed_error(op)
                factory = self.channel.unary_stream if op.server_streaming else self.channel.unary_unary
                fn = self._callables[op.path] = factory(op.path, **_serializers(op))
        return fn

    def unary(
        self,
        op: Op[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = DEFAULT,
        retry: RetryPolicy | None = None,
        metadata: Metadata = (),
    ) -> RespT:
        call = self._callable(op)
        attempts = self._attempts(op, timeout, retry, stream=False)
        md = self._metadata(metadata)
        obs = None
        if observe.tracer is not None or observe.calls_enabled(observe.DEBUG):  # ~free when off
            obs = observe.start(op.path, self.settings.secrets)
        try:
            while True:
                try:
                    if obs is None:
                        response: RespT = call(
                            request,
                            timeout=attempts.timeout(),
                            metadata=md,
                            wait_for_ready=attempts.wait_for_ready,
                        )
                    else:  # with_call: the response metadata, for the request id
                        with obs.attempt():
                            response, rpc = call.with_call(
                                request,
                                timeout=attempts.timeout(),
                                metadata=md,
                                wait_for_ready=attempts.wait_for_ready,
                            )
                except (grpc.RpcError, ValueError) as exc:
                    # A call racing close() fails with gRPC's ValueError or CANCELLED: say what happened.
                    if self._closed:
                        raise _closed_error(op) from None
                    if not isinstance(exc, grpc.RpcError):
                        raise
                    error = self.map_error(exc, op)
                    if obs is not None:
                        obs.attempt_ended(attempts.count, error)
                    time.sleep(attempts.after_failure(error))
                    continue
                failure = self._inspect(op, response)
                if obs is not None:
                    rid = observe.sync_request_id(rpc) or self._request_id(response)
                    obs.attempt_ended(attempts.count, failure, request_id=rid)
                if failure is None:
                    if obs is not None:
                        obs.finish(attempts=attempts.count)
                    return response
                time.sleep(attempts.after_failure(failure))
        except BaseException as exc:
            if obs is not None:
                obs.finish(exc, attempts=attempts.count)
            raise

    def stream(
        self,
        op: Op[ReqT, RespT],
        request: ReqT,
        shape: Callable[[RespT], T],
        *,
        timeout: float | None = DEFAULT,
        message_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        metadata: Metadata = (),
    ) -> SyncStream[T]:
        return SyncStream(**self._stream_args(op, request, shape, timeout, message_timeout, retry, metadata))

    def start_unary(
        self, op: Op[ReqT, RespT], request: ReqT, *, timeout: float | None = DEFAULT, metadata: Metadata = ()
    ) -> PendingCall[RespT]:
        """Start one attempt of a unary call without blocking; `cancel()` ends it at once.

        For long polls that a caller must be able to abandon promptly (e.g. a runner stopping).
        No retries: the caller decides what to do after a failure.
        """
        if timeout is DEFAULT:
            timeout = self.settings.timeout
        obs = observe.start(op.path, self.settings.secrets)
        with obs.attempt() if obs is not None else _NOTHING:
            future = self._callable(op).future(request, timeout=timeout, metadata=self._metadata(metadata))
        return PendingCall(future, self, op, obs)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.channel.close()


def _closed_client_error() -> errors.ClientClosedError:
    return errors.ClientClosedError(
        "this client was closed (close() or the end of its `async with` block); create a new client"
    )


def _closed_error(op: Op[Any, Any]) -> errors.ClientClosedError:
    return errors.ClientClosedError(
        f"cannot call {op.path}: this client was closed (close() or the end of its `with` block); "
        "create a new client"
    )


class PendingCall(Generic[RespT]):
    """A unary call in flight (see SyncTransport.start_unary)."""

    def __init__(
        self, future: Any, transport: SyncTransport, op: Op[Any, RespT], obs: observe.Call | None = None
    ) -> None:
        self._future = future
        self._transport = transport
        self._op = op
        self._obs = obs

    def result(self) -> RespT:
        """The response; raises the mapped ApiError (also for a failure reported in the body)."""
        try:
            response: RespT = self._future.result()
        except grpc.RpcError as exc:
            error = self._transport.map_error(exc, self._op)
            self._observed(error)
            raise error from exc
        failure = self._transport._inspect(self._op, response)
        self._observed(failure, observe.sync_request_id(self._future) if self._obs is not None else None)
        if failure is not None:
            raise failure
        return response

    def _observed(self, error: errors.ApiError | None, request_id: str | None = None) -> None:
        obs, self._obs = self._obs, None
        if obs is not None:
            obs.attempt_ended(1, error, request_id=request_id)
            obs.finish(error, attempts=1)

    def cancel(self) -> None:
        self._future.cancel()
        obs, self._obs = self._obs, None
        if obs is not None:
            obs.finish(status="CANCELLED", attempts=1)

    def done(self) -> bool:
        return bool(self._future.done())


class AsyncTransport(_TransportBase):
    """Calls over a `grpc.aio.Channel`, created lazily inside the running event loop.

    A grpc.aio channel is bound to the loop it was first used on; when a client is reused from
    another loop (e.g. successive `asyncio.run` calls) a fresh channel is made for that loop.
    """

    def __init__(
        self,
        channel_factory: Callable[[], grpc.aio.Channel],
        settings: CallSettings,
        *,
        reader_channel_factory: Callable[[], grpc.Channel] | None = None,
    ) -> None:
        super().__init__(settings)
        self._factory = channel_factory
        self._channel: grpc.aio.Channel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callables: dict[str, Any] = {}
        self._closed = False
        # Long server streams may be read by a thread on a sync channel (`stream(threaded=True)`):
        # made on first use, not bound to a loop.
        self._reader_factory = reader_channel_factory
        self._reader: SyncTransport | None = None
        self._reader_lock = threading.Lock()

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._closed:
            raise _closed_client_error()
        loop = asyncio.get_running_loop()
        if self._channel is None or self._loop is not loop:
            self._channel = self._factory()
            self._loop = loop
            self._callables = {}
        return self._channel

    def _callable(self, op: Op[Any, Any]) -> Any:
        channel = self.channel  # may reset the cache for a new loop
        fn = self._callables.get(op.path)
        if fn is None:
            factory = channel.unary_stream if op.server_streaming else channel.unary_unary
            fn = self._callables[op.path] = factory(op.path, **_serializers(op))
        return fn

    async def unary(
        self,
        op: Op[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = DEFAULT,
        retry: RetryPolicy | None = None,
        metadata: Metadata = (),
    ) -> RespT:
        call = self._callable(op)
        attempts = self._attempts(op, timeout, retry, stream=False)
        md = self._metadata(metadata)
        obs = None
        if observe.tracer is not None or observe.calls_enabled(observe.DEBUG):  # ~free when off
            obs = observe.start(op.path, self.settings.secrets)
        try:
            while True:
                try:
                    if obs is None:
                        response: RespT = await call(
                            request,
                            timeout=attempts.timeout(),
                            metadata=md,
                            wait_for_ready=attempts.wait_for_ready,
                        )
                    else:
                        with obs.attempt():  # the call (and its interceptors' task) starts here
                            rpc = call(
                                request,
                                timeout=attempts.timeout(),
                                metadata=md,
                                wait_for_ready=attempts.wait_for_ready,
                            )
                        response = await rpc
                except grpc.RpcError as exc:
                    if self._closed:
                        raise _closed_error(op) from None
                    error = self.map_error(exc, op)
                    if obs is not None:
                        obs.attempt_ended(attempts.count, error)
                    await asyncio.sleep(attempts.after_failure(error))
                    continue
                failure = self._inspect(op, response)
                if obs is not None:
                    rid = await observe.aio_request_id(rpc) or self._request_id(response)
                    obs.attempt_ended(attempts.count, failure, request_id=rid)
                if failure is None:
                    if obs is not None:
                        obs.finish(attempts=attempts.count)
                    return response
                await asyncio.sleep(attempts.after_failure(failure))
        except BaseException as exc:
            if obs is not None:
                obs.finish(exc, attempts=attempts.count)
            raise

    def stream(
        self,
        op: Op[ReqT, RespT],
        request: ReqT,
        shape: Callable[[RespT], T],
        *,
        timeout: float | None = DEFAULT,
        message_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        metadata: Metadata = (),
        threaded: bool = False,
    ) -> AsyncStream[T] | ThreadedAsyncStream[T]:
        """A server stream read on the loop (grpc.aio), or with `threaded=True` (and a reader
        channel factory) by one thread on a sync channel that hands messages to the loop in
        batches: a thread per stream, cheaper per message, so for long streams."""
        if threaded and self._reader_factory is not None:
            reader = self._reader_transport()
            return ThreadedAsyncStream(
                reader.stream(
                    op,
                    request,
                    shape,
                    timeout=timeout,
                    message_timeout=message_timeout,
                    retry=retry,
                    metadata=metadata,
                )
            )
        return AsyncStream(**self._stream_args(op, request, shape, timeout, message_timeout, retry, metadata))

    def _reader_transport(self) -> SyncTransport:
        assert self._reader_factory is not None
        with self._reader_lock:
            if self._closed:
                raise _closed_client_error()
            if self._reader is None:
                self._reader = SyncTransport(self._reader_factory(), self.settings)
            return self._reader

    async def close(self) -> None:
        with self._reader_lock:
            self._closed = True
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        channel, self._channel = self._channel, None
        if channel is not None:
            # RuntimeError: the loop that owned the channel is gone; nothing is left to close.
            with contextlib.suppress(RuntimeError):
                await channel.close()
