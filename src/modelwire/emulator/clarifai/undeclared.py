"""The V2 methods our protos do not declare: one generic gRPC handler answers them all.

clarifai-grpc declares 273 methods on `clarifai.api.V2`; modelwire declares the ones its SDK and
emulator use. Every V2 response carries `status` (`clarifai.api.status.Status`) as field 1, and
nearly every V2 request carries `user_app_id` (field 1 in most; the published table records its
number), so the emulator can answer any other method without declaring its messages: requests
arrive as raw bytes (identity deserializer), the user_app_id field is read from the wire as a
`UserAppIDSet`, and the answer is a bare message whose field 1 is the status:

* credentials first, as on the real API (except for the few methods the descriptor marks NoAuth):
  a call without valid credentials gets the same auth failure it would get from an implemented
  method (CONN_KEY_INVALID, CONN_KEY_NOT_FOUND, ...); a PAT-only method (auth type from the
  published descriptor) refuses app keys, and a key lacking the method's scopes is refused, with
  CONN_INSUFFICIENT_SCOPES. So a probe cannot tell an unemulated method from an emulated one
  before authenticating;
* then NOT_IMPLEMENTED (10040, "Not implemented") with details naming the method, in the same
  words as a declared method the emulator does not serve.

Streaming kinds come from the published table (`v2_published`): a server-streaming or
bidirectional method gets one such response and then the stream ends (OK); a name the table does
not know is answered as unary. The handler is registered after the V2 servicer, so it only sees
what that servicer does not serve, and it serves only `/clarifai.api.V2/...` paths: any other
service still gets gRPC UNIMPLEMENTED. It runs inside the emulator's server, behind its guard
(call log, faults), on the emulator's loopback address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import KeyRing, Scope
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.records import Owner
from modelwire.emulator.clarifai.v2_published import METHODS

SERVICE = service_pb2.DESCRIPTOR.services_by_name["V2"]
PREFIX = f"/{SERVICE.full_name}/"


def not_implemented(name: str) -> ApiFailure:
    """The failure of a V2 method the emulator does not serve (declared in our protos or not)."""
    return ApiFailure(S.NOT_IMPLEMENTED, f"{name} is not emulated by modelwire's Clarifai emulator")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise DecodeError("truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def _user_app_id(request: bytes, number: int) -> resources_pb2.UserAppIDSet:
    """The request's user_app_id (field `number`; 0: the request has none), read from the wire
    without the request's own message type (a later occurrence merges, as protobuf does)."""
    ids = resources_pb2.UserAppIDSet()
    at = 0
    while number and at < len(request):
        tag, at = _varint(request, at)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            _, at = _varint(request, at)
        elif wire_type in (1, 5):
            at += 8 if wire_type == 1 else 4
        elif wire_type == 2:
            size, at = _varint(request, at)
            if at + size > len(request):
                raise DecodeError("truncated field")
            if field == number:
                ids.MergeFromString(request[at : at + size])
            at += size
        else:  # groups: not used by the V2 API
            raise DecodeError(f"unsupported wire type {wire_type}")
    return ids


def _identity(data: bytes) -> bytes:
    return data


def _serialize(answer: status_pb2.Status) -> bytes:
    # BaseResponse is `status = 1` only: the same bytes as any V2 response holding just a status.
    return status_pb2.BaseResponse(status=answer).SerializeToString()


class UndeclaredV2Methods(grpc.GenericRpcHandler):
    """Answers the V2 methods that the V2 servicer does not serve (see the module docstring)."""

    def __init__(
        self,
        keys: KeyRing,
        app_exists: Callable[[Owner], bool],
        request_id: Callable[[Mapping[str, str]], str],
    ) -> None:
        self._keys = keys
        self._app_exists = app_exists
        self._request_id = request_id

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        path: str = details.method
        if not path.startswith(PREFIX):
            return None
        name = path[len(PREFIX) :]
        published = METHODS.get(name)
        options: dict[str, Any] = {"request_deserializer": _identity, "response_serializer": _serialize}
        if published is None or not published.server_streaming:
            if published is not None and published.client_streaming:  # client-only streams: none in 12.6.0
                return grpc.stream_unary_rpc_method_handler(self._stream_unary(name), **options)
            return grpc.unary_unary_rpc_method_handler(self._unary(name), **options)
        if published.client_streaming:
            return grpc.stream_stream_rpc_method_handler(self._stream_stream(name), **options)
        return grpc.unary_stream_rpc_method_handler(self._unary_stream(name), **options)

    def answer(
        self, name: str, ids: resources_pb2.UserAppIDSet, context: grpc.ServicerContext
    ) -> status_pb2.Status:
        """The status of one call to unserved method `name` (auth failure or NOT_IMPLEMENTED)."""
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        published = METHODS.get(name)
        scope = Scope.PAT_USER if published is not None and published.auth == "pat" else Scope.USER
        try:
            if published is None or published.auth != "none":  # NoAuth methods take no credentials
                self._keys.authorize(metadata, ids, scope, name, self._app_exists)
            failure = not_implemented(name)
        except ApiFailure as refused:
            failure = refused
        answer = failure.status()
        answer.req_id = self._request_id(metadata)
        return answer

    def _answer_bytes(self, name: str, request: bytes, context: grpc.ServicerContext) -> status_pb2.Status:
        published = METHODS.get(name)
        try:
            ids = _user_app_id(request, 1 if published is None else published.ids_field)
        except DecodeError:
            answer = status(S.CONN_BAD_REQUEST_FORMAT, f"the {name} request is not a valid protobuf message")
            answer.req_id = self._request_id({})
            return answer
        return self.answer(name, ids, context)

    def declared_stream(
        self, method: MethodDescriptor
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Message]]:
        """The servicer function of a streaming method our protos declare but nothing serves: one
        response with NOT_IMPLEMENTED (after the auth check), then the end of the stream."""
        response_class: Any = GetMessageClass(method.output_type)

        def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Message]:
            first = next(iter(request), None) if method.client_streaming else request
            ids = resources_pb2.UserAppIDSet() if first is None else first.user_app_id
            yield response_class(status=self.answer(method.name, ids, context))

        return handle

    def _unary(self, name: str) -> Callable[[bytes, grpc.ServicerContext], status_pb2.Status]:
        def handle(request: bytes, context: grpc.ServicerContext) -> status_pb2.Status:
            return self._answer_bytes(name, request, context)

        return handle

    def _unary_stream(
        self, name: str
    ) -> Callable[[bytes, grpc.ServicerContext], Iterator[status_pb2.Status]]:
        def handle(request: bytes, context: grpc.ServicerContext) -> Iterator[status_pb2.Status]:
            yield self._answer_bytes(name, request, context)

        return handle

    def _stream_unary(
        self, name: str
    ) -> Callable[[Iterator[bytes], grpc.ServicerContext], status_pb2.Status]:
        def handle(requests: Iterator[bytes], context: grpc.ServicerContext) -> status_pb2.Status:
            return self._answer_bytes(name, next(iter(requests), b""), context)

        return handle

    def _stream_stream(
        self, name: str
    ) -> Callable[[Iterator[bytes], grpc.ServicerContext], Iterator[status_pb2.Status]]:
        def handle(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[status_pb2.Status]:
            # Answer from the first request (or none, when the client sends nothing and closes):
            # the credentials are in the metadata, user_app_id in the first message.
            yield self._answer_bytes(name, next(iter(requests), b""), context)

        return handle


# -- the table of methods (scripts/v2_methods.py renders it) ----------------------------------------


@dataclass(frozen=True)
class MethodRow:
    name: str
    client_streaming: bool
    server_streaming: bool
    implemented: bool
    module: str = ""  # the module that answers it, when implemented


def method_table(served: Mapping[str, str] | None = None) -> list[MethodRow]:
    """Every published V2 method, in the published order, whether the emulator implements it and
    where (`served`: method -> module, by default those of a fresh emulator)."""
    if served is None:
        served = _served_by_fresh_emulator()
    return [
        MethodRow(
            name, method.client_streaming, method.server_streaming, name in served, served.get(name, "")
        )
        for name, method in METHODS.items()
    ]


def _served_by_fresh_emulator() -> dict[str, str]:
    from modelwire.emulator.clarifai.service import ClarifaiEmulator
    from modelwire.emulator.store import Store

    store = Store(":memory:")
    emulator = ClarifaiEmulator(store=store, api_key="table-only", workers=1)
    try:
        return emulator.serving_modules()
    finally:
        emulator.close()
        store.close()
