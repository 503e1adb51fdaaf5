"""The grpc-free RpcCode that keys the error table, and the compatibility of the grpc-facing API
(`ApiError.code`, `grpc_code`, `for_code`, `coded_subclass`, `grpc_status`) built on it."""

from __future__ import annotations

import grpc
import pytest

from modelwire._core import errors
from modelwire._core.errors import (
    ApiError,
    NotFoundError,
    RpcCode,
    UnavailableError,
    coded_subclass,
    grpc_status,
    lost_in_flight,
)
from modelwire._gen.google.rpc import status_pb2


def _codes(error: ApiError) -> tuple[RpcCode, grpc.StatusCode]:
    return error.rpc_code, error.code


def test_error_rpc_code_mirrors_grpc_status_code() -> None:
    assert [(c.name, c.value) for c in RpcCode] == [(c.name, c.value[0]) for c in grpc.StatusCode]
    for code in grpc.StatusCode:
        assert RpcCode.of(code).to_grpc() is code
        assert RpcCode.of(code.value[0]) is RpcCode.of(code) is RpcCode.of(RpcCode[code.name])


@pytest.mark.parametrize("given", [grpc.StatusCode.NOT_FOUND, RpcCode.NOT_FOUND])
def test_error_code_reads_as_grpc_status_code_whatever_it_was_built_with(
    given: grpc.StatusCode | RpcCode,
) -> None:
    error = ApiError.for_code(given)("gone", code=given, method="/x.v1.S/Get")
    assert type(error) is NotFoundError
    assert error.code is grpc.StatusCode.NOT_FOUND
    assert error.rpc_code is RpcCode.NOT_FOUND
    assert str(error).startswith("NOT_FOUND: gone [method=/x.v1.S/Get]")
    error.code = grpc.StatusCode.UNAVAILABLE  # the attribute stays assignable
    assert _codes(error) == (RpcCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE)


def test_error_default_code_and_hints_are_unchanged() -> None:
    error = ApiError("boom")
    assert error.code is grpc.StatusCode.UNKNOWN
    # Without a provider's method the hint is neutral (issue 15: no `secure=` for every provider).
    assert UnavailableError("down", code=RpcCode.UNAVAILABLE).hint == (
        "the service could not be reached; check the address the client was given and that the "
        "service is running"
    )


def test_error_classes_keep_grpc_code() -> None:
    assert NotFoundError.grpc_code is grpc.StatusCode.NOT_FOUND
    assert errors.UnauthenticatedError.grpc_code is grpc.StatusCode.UNAUTHENTICATED
    assert ApiError.grpc_code is None
    assert NotFoundError.class_code is RpcCode.NOT_FOUND


def test_error_subclass_declaring_a_grpc_code_still_registers() -> None:
    saved = dict(ApiError._by_code)
    try:
        ApiError._by_code.pop(RpcCode.DATA_LOSS)

        class MyDataLoss(ApiError):
            grpc_code = grpc.StatusCode.DATA_LOSS

        assert MyDataLoss.class_code is RpcCode.DATA_LOSS
        assert MyDataLoss.grpc_code is grpc.StatusCode.DATA_LOSS
        assert ApiError.for_code(grpc.StatusCode.DATA_LOSS) is MyDataLoss
    finally:
        ApiError._by_code.clear()
        ApiError._by_code.update(saved)


def test_error_coded_subclass_is_one_class_for_either_spelling_of_a_code() -> None:
    class ProviderError(ApiError):
        pass

    by_grpc = coded_subclass(ProviderError, grpc.StatusCode.ABORTED, "P")
    by_rpc = coded_subclass(ProviderError, RpcCode.ABORTED, "P")
    assert by_grpc is by_rpc and by_grpc.__name__ == "PAbortedError"
    assert issubclass(by_rpc, errors.AbortedError)


def test_error_grpc_status_carries_the_status_in_the_trailer() -> None:
    status = status_pb2.Status(code=5, message="nope")
    converted = grpc_status(status)
    assert isinstance(converted, grpc.Status)
    assert converted.code is grpc.StatusCode.NOT_FOUND and converted.details == "nope"
    assert errors.parse_status(dict(converted.trailing_metadata)) == status
    with pytest.raises(ValueError, match="not a gRPC status code"):
        grpc_status(status_pb2.Status(code=99))


def test_error_lost_in_flight_reads_the_code_either_way() -> None:
    assert lost_in_flight(ApiError("x", code=grpc.StatusCode.DEADLINE_EXCEEDED))
    assert lost_in_flight(ApiError("stream removed", code=RpcCode.INTERNAL))
    assert not lost_in_flight(ApiError("x", code=RpcCode.NOT_FOUND))
