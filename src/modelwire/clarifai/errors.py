"""Clarifai errors: `ApiError`, `ApiClientError`, `UserError` (the names of the Clarifai SDK).

Clarifai reports most failures in `response.status` under gRPC OK. `status_failure` turns such a
response into an `ApiError` that is also the core error for the nearest gRPC code, so the core
retry policy applies unchanged: throttling (CONN_THROTTLED, CONN_EXCEED_*_LIMIT) maps to
RESOURCE_EXHAUSTED and model warm-up (MODEL_DEPLOYING/LOADING/BUSY) to UNAVAILABLE, both retried
with jittered backoff; a missing resource is NOT_FOUND, bad credentials UNAUTHENTICATED, and so on.
MIXED_STATUS is not a failure for calls that return per-item statuses.
"""

from __future__ import annotations

from typing import Any

import grpc

from modelwire._core import errors as core
from modelwire._gen.clarifai.api.status import status_code_pb2

_NAMES: dict[int, str] = {v.number: v.name for v in status_code_pb2.StatusCode.DESCRIPTOR.values}
SUCCESS = status_code_pb2.SUCCESS
MIXED_STATUS = status_code_pb2.MIXED_STATUS

_EXPLICIT: dict[str, grpc.StatusCode] = {
    "CONN_THROTTLED": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "CONN_EXCEED_HOURLY_LIMIT": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "CONN_EXCEED_MONTHLY_LIMIT": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "CONN_EXCEEDS_LIMITS": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "MODEL_DEPLOYING": grpc.StatusCode.UNAVAILABLE,
    "MODEL_LOADING": grpc.StatusCode.UNAVAILABLE,
    "MODEL_BUSY_PLEASE_RETRY": grpc.StatusCode.UNAVAILABLE,
    "TRY_AGAIN": grpc.StatusCode.UNAVAILABLE,
    "CONN_KEY_INVALID": grpc.StatusCode.UNAUTHENTICATED,
    "CONN_KEY_NOT_FOUND": grpc.StatusCode.UNAUTHENTICATED,
    "CONN_TOKEN_INVALID": grpc.StatusCode.UNAUTHENTICATED,
    "CONN_CREDENTIALS_INVALID": grpc.StatusCode.UNAUTHENTICATED,
    "CONN_ACCOUNT_ISSUES": grpc.StatusCode.PERMISSION_DENIED,
    "CONN_INSUFFICIENT_SCOPES": grpc.StatusCode.PERMISSION_DENIED,
    "CONN_NO_GDPR_CONSENT": grpc.StatusCode.PERMISSION_DENIED,
    "NOT_IMPLEMENTED": grpc.StatusCode.UNIMPLEMENTED,
    "CONN_METHOD_NOT_ALLOWED": grpc.StatusCode.UNIMPLEMENTED,
}


def status_name(code: int) -> str:
    return _NAMES.get(code, f"UNRECOGNIZED_{code}")


def grpc_code_for(code: int) -> grpc.StatusCode:
    """The gRPC code nearest in meaning to a Clarifai status code (drives retries and classes)."""
    name = status_name(code)
    if name in _EXPLICIT:
        return _EXPLICIT[name]
    if name.endswith(("DOES_NOT_EXIST", "NOT_FOUND")):
        return grpc.StatusCode.NOT_FOUND
    if "ALREADY_EXISTS" in name or "DUPLICATE" in name:
        return grpc.StatusCode.ALREADY_EXISTS
    if name.startswith("INTERNAL"):
        return grpc.StatusCode.INTERNAL
    if "INVALID" in name or name.startswith("CONN_BAD_REQUEST") or "BAD_REQUEST" in name:
        return grpc.StatusCode.INVALID_ARGUMENT
    return grpc.StatusCode.UNKNOWN


class ApiError(core.ApiError):
    """The Clarifai API reported a failure: `status_code` (e.g. 21200), `status_name`
    (e.g. "MODEL_DOES_NOT_EXIST"), `description`, `details`, `req_id`, and the RPC in `method`.
    It is also the core error for the nearest gRPC code (see `code`)."""

    def __init__(self, status: Any, method: str, secrets: tuple[Any, ...] = ()) -> None:
        from modelwire._core.config import redact

        self.status_code = int(status.code)
        self.status_name = status_name(self.status_code)
        self.description = redact(status.description, secrets)
        self.status_details = redact(status.details, secrets)
        self.req_id = status.req_id or None
        text = f"{self.status_name} ({self.status_code}): {self.description}"
        if self.status_details:
            text += f" - {self.status_details}"
        super().__init__(text, code=grpc_code_for(self.status_code), method=method, request_id=self.req_id)

    @property
    def resource(self) -> str:
        """The RPC's name, e.g. "GetModel" (the published SDK's `resource`)."""
        return self.method.rsplit("/", 1)[-1]


class ApiClientError(core.ModelwireError):
    """A failure on the client side of an API operation (download, archive, upload summary)."""


class UserError(core.UsageError):
    """Bad arguments: the message says what to change."""


def status_failure(
    status: Any, method: str, *, allow_mixed: bool = False, secrets: tuple[Any, ...] = ()
) -> ApiError | None:
    """None when `status` is a success, or `allow_mixed` says the items carry the outcome."""
    code = int(status.code)
    if code in (SUCCESS, 0) or allow_mixed:
        return None
    return core.coded_subclass(ApiError, grpc_code_for(code), "Clarifai")(status, method, secrets)
