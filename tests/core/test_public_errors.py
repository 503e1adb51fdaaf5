"""Public exception classes carry public paths (issue 15): a traceback says
`modelwire.errors.UnauthenticatedError`, not `modelwire._core.errors...`, every class is reachable
at the path it shows, and every error still pickles (pickle finds a class by that path)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import traceback
from typing import Any

import grpc
import pytest

import modelwire
import modelwire.clarifai
import modelwire.clarifai.errors
import modelwire.clavata
import modelwire.clavata.errors
import modelwire.decthings
import modelwire.decthings.errors
from modelwire._core import errors as core
from modelwire._core.errors import RpcCode
from modelwire._gen.google.rpc import error_details_pb2
from modelwire.decthings.errors import api_error

PUBLIC_MODULES = [
    modelwire,
    modelwire.clarifai,
    modelwire.clarifai.errors,
    modelwire.clavata,
    modelwire.clavata.errors,
    modelwire.decthings,
    modelwire.decthings.errors,
]


def _public_exception_classes() -> set[type[BaseException]]:
    import modelwire.errors

    found: set[type[BaseException]] = set()
    for module in [*PUBLIC_MODULES, modelwire.errors]:
        for name in getattr(module, "__all__", dir(module)):
            value = getattr(module, name, None)
            if inspect.isclass(value) and issubclass(value, BaseException) and not name.startswith("_"):
                found.add(value)
    return {cls for cls in found if cls.__module__.startswith("modelwire")}


@pytest.mark.parametrize("cls", sorted(_public_exception_classes(), key=lambda c: c.__qualname__), ids=str)
def test_public_exception_classes_live_at_a_public_path(cls: type[BaseException]) -> None:
    assert not any(part.startswith("_") for part in cls.__module__.split(".")), cls.__module__
    assert getattr(importlib.import_module(cls.__module__), cls.__qualname__) is cls


def test_modelwire_errors_exports_the_core_errors() -> None:
    import modelwire.errors as public

    for name in public.__all__:
        assert getattr(public, name) is getattr(core, name)
    for name in ("ModelwireError", "ApiError", "UnauthenticatedError", "NotFoundError", "UsageError"):
        assert name in public.__all__
    assert modelwire.ApiError is public.ApiError


def test_tracebacks_and_reprs_name_the_public_path() -> None:
    try:
        raise core.UnauthenticatedError("bad key", code=RpcCode.UNAUTHENTICATED, method="/clavata.x/Y")
    except core.ApiError:
        text = traceback.format_exc()
    assert "modelwire.errors.UnauthenticatedError: UNAUTHENTICATED: bad key" in text, text
    assert "_core" not in text.splitlines()[-1]
    assert repr(core.UnauthenticatedError) == "<class 'modelwire.errors.UnauthenticatedError'>"


def _errors() -> list[BaseException]:
    from modelwire.clavata.errors import EvaluationRefusedError, RefusalReason, RefusedContent

    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.FromNanoseconds(1_500_000_000)
    base = core.UnavailableError(
        "down", code=grpc.StatusCode.UNAVAILABLE, method="/clavata.gateway.v1.GatewayService/GetJob",
        details=[retry], request_id="r-1", trailing_metadata={"x": "y"},
    )  # fmt: skip
    base.attempts = 3
    base.mark_outcome_unknown()
    from modelwire._gen.clavata.gateway.v1 import errs_pb2
    from modelwire._gen.google.protobuf import any_pb2

    unknown = any_pb2.Any(type_url="type.googleapis.com/some.Unknown", value=b"\x08\x01")
    precheck = errs_pb2.PrecheckFailure(message="GIF")
    refused = core.FailedPreconditionError(
        "refused", code=RpcCode.FAILED_PRECONDITION, method="/clavata.x/E", details=[precheck, unknown]
    )
    fields = {"code": 21200, "description": "Model does not exist", "details": "", "req_id": ""}
    status = type("Status", (), fields)
    errors: list[BaseException] = [
        core.ModelwireError("plain"),
        core.ConfigurationError("no key"),
        core.UsageError("bad"),
        core.ClientClosedError("closed"),
        core.ApiError("boom"),
        base,
        core.MessageTimeoutError("slow", code=RpcCode.DEADLINE_EXCEEDED),
        core.RpcErrorSummary(grpc.StatusCode.UNAVAILABLE, "down", "debug"),
        EvaluationRefusedError(refused, [RefusedContent(RefusalReason(7), "fnv1a128::0", "odd")]),
        modelwire.clavata.WebhookVerificationError("stale"),
        modelwire.clarifai.errors.ApiError.from_status(status, "/clarifai.api.V2/GetModel"),
        modelwire.clarifai.ApiError("/v2/models", {}, "POST"),
        modelwire.clarifai.UserError("bad id"),
        modelwire.clarifai.ApiClientError("download failed"),
        api_error({"code": "model_not_found", "modelId": "m"}, api="Model", method_name="getModel"),
        api_error({"code": "access_denied"}, api="Model", method_name="getModel"),
        api_error({"code": "invalid_parameter", "parameterName": "x"}, api="A", method_name="b"),
        modelwire.decthings.errors.http_error(503, "busy", method="Model.getModel", retry_after="2"),
        modelwire.decthings.errors.http_error(404, "", method="Model.getModel", base_url="http://h:1"),
        modelwire.decthings.DecthingsUsageError("params"),
        modelwire.decthings.ClientClosedError("closed"),
        modelwire.decthings.TensorFormatError("bad bytes"),
    ]  # fmt: skip
    return errors


@pytest.mark.parametrize("error", _errors(), ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error: BaseException) -> None:
    again: Any = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error) and again.args == error.args
    for name, value in vars(error).items():
        assert getattr(again, name) == value, name
    if isinstance(error, core.ApiError):
        assert (again.code, again.rpc_code, again.hint, again.retry_delay) == (
            error.code, error.rpc_code, error.hint, error.retry_delay,
        )  # fmt: skip
