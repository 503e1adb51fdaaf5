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

# The hints of Clarifai's errors name its own settings (the clients' arguments and variables).
core.register_hints(
    lambda method: method.startswith("/clarifai."),
    {
        core.RpcCode.UNAVAILABLE: "the service could not be reached; check base_url (CLARIFAI_API_BASE): "
        "https://host for TLS, http://host:port for a plaintext server such as the emulator",
        core.RpcCode.UNAUTHENTICATED: "check the API key / token the client was given (pat= or "
        "CLARIFAI_PAT; token= or CLARIFAI_SESSION_TOKEN)",
    },
)

_NAMES: dict[int, str] = {v.number: v.name for v in status_code_pb2.StatusCode.DESCRIPTOR.values}
_BY_NAME = frozenset(_NAMES.values())
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
    (e.g. "MODEL_DOES_NOT_EXIST"), `description`, `status_details`, `req_id`, the RPC's name in
    `resource` and its path in `method`, and the whole `response` when there is one. It is also
    the core error for the nearest gRPC code (see `code`).

    `ApiError(resource, params, method, response=None)` is the published constructor (clarifai
    12.x and 2.x), kept for code and tests that raise or build one; `error_code`,
    `error_desc` and `error_details` are the published names of code, description and details.
    """

    def __init__(
        self,
        resource: str,
        params: Any = None,
        method: str = "",
        response: Any = None,
        *,
        status: Any = None,
        secrets: tuple[Any, ...] = (),
    ) -> None:
        from modelwire._core.config import redact

        if status is None:
            status = _status_of(response)
        self.resource = resource
        self.params = params if params is not None else {}
        self.response = response
        self.status_code = int(getattr(status, "code", 0) or 0)
        self.status_name = status_name(self.status_code) if self.status_code else "UNKNOWN"
        self.description = redact(str(getattr(status, "description", "") or ""), secrets)
        self.status_details = redact(str(getattr(status, "details", "") or ""), secrets)
        self.req_id = str(getattr(status, "req_id", "") or "") or None
        text = f"{self.status_name} ({self.status_code}): {self.description}"
        if self.status_details:
            text += f" - {self.status_details}"
        if not method.startswith("/"):  # built by hand, e.g. ApiError("/v2/models", {}, "POST")
            failed = f"{method} {resource} FAILED".strip()
            text = f"{failed}: {text}" if self.status_code else failed
        code = grpc_code_for(self.status_code) if self.status_code else grpc.StatusCode.UNKNOWN
        super().__init__(text, code=code, method=method, request_id=self.req_id)

    @classmethod
    def from_status(
        cls, status: Any, method: str, *, response: Any = None, secrets: tuple[Any, ...] = ()
    ) -> ApiError:
        """The error for a failed `status` of the RPC at path `method` (how the SDK builds one)."""
        return cls(method.rsplit("/", 1)[-1], None, method, response, status=status, secrets=secrets)

    @property
    def error_code(self) -> int:
        """The numeric Clarifai status code (the published name of `status_code`)."""
        return self.status_code

    @property
    def error_desc(self) -> str:
        """The status description (the published name of `description`)."""
        return self.description

    @property
    def error_details(self) -> str:
        """The status details (the published name of `status_details`)."""
        return self.status_details


def _status_of(response: Any) -> Any:
    """The status in a response given to the published constructor: a V2 response message, a
    `requests.Response` (2.x: its JSON body) or that body as a dict; None when there is none."""
    if response is None:
        return None
    if hasattr(response, "DESCRIPTOR"):
        return getattr(response, "status", None)
    body = response
    if callable(getattr(response, "json", None)):
        try:
            body = response.json()
        except ValueError:  # a body that is not JSON has no status to read
            return None
    status = body.get("status") if isinstance(body, dict) else None
    if not isinstance(status, dict):
        return None
    return _DictStatus(status)


class _DictStatus:
    """A status read from JSON (`{"code": 21200, "description": ..., "details": ...}`)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        code = fields.get("code", 0)
        if isinstance(code, str) and not code.isdigit():  # the enum name, as MessageToDict gives it
            self.code = int(status_code_pb2.StatusCode.Value(code)) if code in _BY_NAME else 0
        else:
            self.code = int(code or 0)
        self.description = fields.get("description", "")
        self.details = fields.get("details", "")
        self.req_id = fields.get("req_id", "")


class ApiClientError(core.ModelwireError):
    """A failure on the client side of an API operation (download, archive, upload summary)."""


class UserError(core.UsageError):
    """Bad arguments: the message says what to change."""


_DEDICATED_COMPUTE = (
    "predictions are not routed to dedicated compute (compute clusters, nodepools, deployments) "
    "here; leave it out and the model's own serving answers"
)
# Constructor arguments of clarifai 12.5.0 that modelwire does not offer, and what to do instead
# (tests/dropin/signature_allowlist.yaml says why).
NOT_OFFERED: dict[str, str] = {
    "root_certificates_path": (
        "the TLS channel trusts gRPC's root certificates; to trust another CA bundle, set the "
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH environment variable (read by gRPC) to its PEM file"
    ),
    "compute_cluster_id": _DEDICATED_COMPUTE,
    "nodepool_id": _DEDICATED_COMPUTE,
    "deployment_id": _DEDICATED_COMPUTE,
    "deployment_user_id": _DEDICATED_COMPUTE,
}


def reject_not_offered(kwargs: dict[str, Any], what: str) -> None:
    """A UserError naming the first of `kwargs` that is a NOT_OFFERED argument (rather than the
    generic "unknown field" it would meet later)."""
    for name in kwargs:
        if name in NOT_OFFERED:
            raise UserError(f"{what}({name}=...) is not supported: {NOT_OFFERED[name]}")


def status_failure(
    status: Any,
    method: str,
    *,
    allow_mixed: bool = False,
    secrets: tuple[Any, ...] = (),
    response: Any = None,
) -> ApiError | None:
    """None when `status` is a success, or `allow_mixed` says the items carry the outcome."""
    code = int(status.code)
    if code in (SUCCESS, 0) or allow_mixed:
        return None
    cls = core.coded_subclass(ApiError, grpc_code_for(code), "Clarifai")
    return cls.from_status(status, method, response=response, secrets=secrets)
