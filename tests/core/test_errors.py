"""Error hydration from gRPC status and google.rpc.Status details, for sync and aio errors,
raised by a real server."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from modelwire._core.errors import (
    ApiError,
    InvalidArgumentError,
    NotFoundError,
    RpcErrorSummary,
    detail_any,
    from_rpc_error,
    grpc_status,
    unpack_details,
)
from modelwire._gen.google.protobuf import any_pb2, struct_pb2
from modelwire._gen.google.rpc import error_details_pb2, status_pb2

METHOD = "/test.v1.Echo/Fail"


def _status() -> status_pb2.Status:
    unknown = any_pb2.Any(type_url="type.googleapis.com/acme.v1.Mystery", value=b"\x08\x01")
    return status_pb2.Status(
        code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
        message="bad field",
        details=[
            detail_any(
                error_details_pb2.ErrorInfo(reason="BAD_THING", domain="acme.com", metadata={"k": "v"})
            ),
            detail_any(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field="a.b", description="too big")
                    ]
                )
            ),
            detail_any(error_details_pb2.RequestInfo(request_id="req-42")),
            unknown,
        ],
    )


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    def fail(request: bytes, context: grpc.ServicerContext) -> bytes:
        if request == b"plain":
            context.abort(grpc.StatusCode.NOT_FOUND, "nope")
        if request == b"mismatch":  # a trailer that disagrees with the status must not hide the error
            context.set_trailing_metadata((("grpc-status-details-bin", _status().SerializeToString()),))
            context.abort(grpc.StatusCode.NOT_FOUND, "real message")
        context.abort_with_status(grpc_status(_status()))
        return b""

    handler = grpc.method_handlers_generic_handler(
        "test.v1.Echo", {"Fail": grpc.unary_unary_rpc_method_handler(fail)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)


def _sync_error(target: str, payload: bytes) -> grpc.RpcError:
    with grpc.insecure_channel(target) as channel, pytest.raises(grpc.RpcError) as caught:
        channel.unary_unary(METHOD)(payload, timeout=5)
    return caught.value


async def _aio_error(target: str, payload: bytes) -> grpc.RpcError:
    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            await channel.unary_unary(METHOD)(payload, timeout=5)
    return caught.value


def _check_rich(error: ApiError) -> None:
    assert isinstance(error, InvalidArgumentError)
    assert error.message == "bad field"
    assert error.reason == "BAD_THING" and error.domain == "acme.com" and error.metadata == {"k": "v"}
    assert error.field_violations == [("a.b", "too big")]
    assert error.request_id == "req-42"
    assert isinstance(error.details[-1], any_pb2.Any)  # unknown detail kept, not dropped
    assert error.method == METHOD and METHOD in str(error)


def test_rich_status_from_sync_error(target: str) -> None:
    exc = _sync_error(target, b"rich")
    error = from_rpc_error(exc, method=METHOD)
    _check_rich(error)
    # The raw gRPC error is replaced by a redacted summary (its text can echo credentials).
    assert isinstance(error.__cause__, RpcErrorSummary) and error.__cause__ is not exc
    assert error.__cause__.code == grpc.StatusCode.INVALID_ARGUMENT and "bad field" in str(error.__cause__)


async def test_rich_status_from_aio_error(target: str) -> None:
    exc = await _aio_error(target, b"rich")
    assert not isinstance(exc, grpc.Call)  # AioRpcError is not a grpc.Call: handled anyway
    _check_rich(from_rpc_error(exc, method=METHOD))


@pytest.mark.parametrize("payload", [b"plain", b"mismatch"])
def test_plain_and_mismatched_status_keep_the_real_error(target: str, payload: bytes) -> None:
    error = from_rpc_error(_sync_error(target, payload), method=METHOD)
    assert isinstance(error, NotFoundError)
    assert error.code == grpc.StatusCode.NOT_FOUND


def test_specializer_can_refine_and_details_unpack() -> None:
    class Special(ApiError):
        pass

    base = ApiError("x", code=grpc.StatusCode.FAILED_PRECONDITION)
    assert isinstance(
        unpack_details(status_pb2.Status(details=[detail_any(struct_pb2.Value())]))[0], any_pb2.Any
    )

    class FakeError(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.FAILED_PRECONDITION

        def details(self) -> str:
            return "refused"

        def trailing_metadata(self) -> tuple[()]:
            return ()

    refined = from_rpc_error(
        FakeError(),
        method=METHOD,
        specializers=[lambda e: Special(e.message, code=e.code) if e.code == base.code else None],
    )
    assert isinstance(refined, Special) and isinstance(refined.__cause__, RpcErrorSummary)
