"""Decthings errors: every API error is raised, typed by its code.

The published client returns `(result, error)` tuples: `(dict, None)` on success and
`(None, {"code": "...", ...})` on an API error, while transport failures raise. modelwire returns
the result and raises instead, so a failure can never be mistaken for a result:

    published                                   modelwire
    (result, None)                              result
    (None, {"code": "bad_credentials"})         BadCredentialsError          (core UnauthenticatedError)
    (None, {"code": "invalid_parameter", ...})  InvalidParameterError        (core InvalidArgumentError)
    (None, {"code": "too_many_requests"})       TooManyRequestsError         (core ResourceExhaustedError)
    (None, {"code": "server_overloaded"})       ServerOverloadedError        (core UnavailableError)
    (None, {"code": "*_not_found", ...})        DecthingsNotFoundError       (core NotFoundError)
    (None, {"code": "incorrect_version_id"})    IncorrectVersionIdError      (core AbortedError)
    (None, {"code": "access_denied"})           a DecthingsApiError that is a core PermissionDeniedError
    (None, {"code": <any other>})               a DecthingsApiError for the nearest core class
    aiohttp/requests exceptions                 UnavailableError / DeadlineExceededError / DecthingsHttpError

Every API error is a `DecthingsApiError` with `error_code` ("dataset_not_found"), `error` (the whole
error object, with its extra fields such as `datasetId`), `api` and `method_name`, and also the
core `modelwire.ApiError` subclass for the nearest gRPC code, so `except NotFoundError` works for
every provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from modelwire._core import errors as core
from modelwire._core.errors import RpcCode

__all__ = [
    "BadCredentialsError",
    "DecthingsApiError",
    "DecthingsHttpError",
    "DecthingsNotFoundError",
    "IncorrectVersionIdError",
    "InvalidParameterError",
    "ServerOverloadedError",
    "TooManyRequestsError",
    "api_error",
    "http_error",
]

# Decthings speaks HTTP: its codes map to the grpc-free RpcCode, so these errors never import grpc
# (an error's `code` still reads as a grpc.StatusCode, converted when read).
_CODES: dict[str, RpcCode] = {
    "bad_credentials": RpcCode.UNAUTHENTICATED,
    "too_many_requests": RpcCode.RESOURCE_EXHAUSTED,
    "server_overloaded": RpcCode.UNAVAILABLE,
    "payment_required": RpcCode.PERMISSION_DENIED,
    "access_denied": RpcCode.PERMISSION_DENIED,
    "quota_exceeded": RpcCode.FAILED_PRECONDITION,
    "limit_exceeded": RpcCode.OUT_OF_RANGE,
    "invalid_parameter": RpcCode.INVALID_ARGUMENT,
    "incorrect_version_id": RpcCode.ABORTED,
    "not_subscribed": RpcCode.FAILED_PRECONDITION,
    "unknown": RpcCode.UNKNOWN,
}

_HINTS: dict[str, str] = {
    "bad_credentials": "check the api_key the client was given (or DECTHINGS_API_KEY)",
    "too_many_requests": "the service is rate limiting this key; modelwire retried with backoff",
    "server_overloaded": "the service is overloaded; modelwire retried with backoff",
    "incorrect_version_id": "the dataset changed since you read it; fetch it again and retry",
    "invalid_parameter": "fix the named parameter and call again",
}


# Where a Decthings error happened: `Api.method` (the engine's MethodSpec.where) or "ws".
_METHOD = re.compile(r"[A-Z][A-Za-z]*\.[a-z][A-Za-z]*|ws")
_ADDRESS = (
    "http_server_address (DECTHINGS_HTTP_URL): the API's base URL, ending in /v0 "
    "(https://api.decthings.com/v0, or the emulator's http://127.0.0.1:<http-port>/v0)"
)
# Transport failures of Decthings calls name its settings (no host/port/secure= as for gRPC).
core.register_hints(
    lambda method: _METHOD.fullmatch(method) is not None,
    {
        RpcCode.UNAVAILABLE: f"the service could not be reached; check {_ADDRESS}",
        RpcCode.UNAUTHENTICATED: "check the api_key the client was given (or DECTHINGS_API_KEY)",
        RpcCode.UNIMPLEMENTED: f"the server has no such method; check {_ADDRESS}",
    },
)


def grpc_code_for(code: str) -> RpcCode:
    """The gRPC code (as an RpcCode) nearest in meaning to a Decthings error code."""
    if code in _CODES:
        return _CODES[code]
    if code.endswith("_not_found"):
        return RpcCode.NOT_FOUND
    if code.endswith("_already_exists") or code.startswith("already_"):
        return RpcCode.ALREADY_EXISTS
    if code.startswith(("invalid_", "bad_")):
        return RpcCode.INVALID_ARGUMENT
    return RpcCode.UNKNOWN


class DecthingsApiError(core.ApiError):
    """The Decthings API answered with `{"error": {...}}` (the published client's second tuple item)."""

    _explicit: ClassVar[dict[str, type[DecthingsApiError]]] = {}
    error_codes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for code in cls.error_codes:
            DecthingsApiError._explicit[code] = cls

    def __init__(self, error: Mapping[str, Any], *, api: str, method_name: str) -> None:
        self.error: dict[str, Any] = dict(error)
        self.error_code = str(self.error.get("code", "unknown"))
        self.api = api
        self.method_name = method_name
        super().__init__(
            _error_text(self.error),
            code=grpc_code_for(self.error_code),
            method=f"{api}.{method_name}",
            hint=_HINTS.get(self.error_code),
        )

    def rewrite(self, change: Callable[[str], str]) -> None:
        """Apply `change` to every string in the error object and re-render the message (used to
        redact credentials the server echoed and to renumber entries of a split call)."""
        self.error = _map_strings(self.error, change)
        self.message = _error_text(self.error)
        self.args = (self._render(),)


def _error_text(error: Mapping[str, Any]) -> str:
    text = str(error.get("code", "unknown"))
    extra = {k: v for k, v in error.items() if k != "code"}
    if extra:
        text += " " + ", ".join(f"{k}={v!r}" for k, v in extra.items())
    return text


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    return value


class BadCredentialsError(DecthingsApiError, core.UnauthenticatedError):
    """The API key is missing, malformed or revoked."""

    error_codes = ("bad_credentials",)


class TooManyRequestsError(DecthingsApiError, core.ResourceExhaustedError):
    """Rate limited; the request was not processed (so it is retried, even for writes)."""

    error_codes = ("too_many_requests",)


class ServerOverloadedError(DecthingsApiError, core.UnavailableError):
    """The service is overloaded and did not process the request (retried, even for writes)."""

    error_codes = ("server_overloaded",)


class InvalidParameterError(DecthingsApiError, core.InvalidArgumentError):
    """A parameter was rejected: `parameter_name` and `reason` say which and why."""

    error_codes = ("invalid_parameter",)

    @property
    def parameter_name(self) -> str | None:
        """The name of the parameter the API refused, or None when it did not say."""
        value = self.error.get("parameterName")
        return None if value is None else str(value)

    @property
    def reason(self) -> str | None:
        """Why the API refused the parameter, or None when it did not say."""
        value = self.error.get("reason")
        return None if value is None else str(value)


class IncorrectVersionIdError(DecthingsApiError, core.AbortedError):
    """The dataset version id given no longer matches: someone changed the dataset meanwhile."""

    error_codes = ("incorrect_version_id",)


class DecthingsNotFoundError(DecthingsApiError, core.NotFoundError):
    """A model, dataset, state, snapshot, key or session does not exist (any `*_not_found` code)."""


def _class_for(code: str) -> type[DecthingsApiError]:
    explicit = DecthingsApiError._explicit.get(code)
    if explicit is not None:
        return explicit
    grpc_code = grpc_code_for(code)
    if grpc_code == RpcCode.NOT_FOUND:
        return DecthingsNotFoundError
    return core.coded_subclass(DecthingsApiError, grpc_code, "Decthings")


def api_error(error: object, *, api: str, method_name: str) -> DecthingsApiError:
    """The typed exception for an `{"error": ...}` payload."""
    body: Mapping[str, Any] = error if isinstance(error, Mapping) else {"code": "unknown", "message": error}
    return _class_for(str(body.get("code", "unknown")))(body, api=api, method_name=method_name)


class DecthingsHttpError(core.ApiError):
    """The HTTP exchange itself failed (a non-2xx status): `status` is the HTTP status."""

    def __init__(
        self,
        status: int,
        text: str,
        *,
        method: str,
        retry_after: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.status = status
        code = _http_code(status)
        details = []
        delay = _seconds(retry_after)
        if delay is not None:  # Retry-After plays the part of google.rpc.RetryInfo for the retry policy
            from modelwire._gen.google.rpc import error_details_pb2

            info = error_details_pb2.RetryInfo()
            info.retry_delay.FromNanoseconds(int(delay * 1e9))
            details.append(info)
        text = f"HTTP {status}: {text.strip()[:200] or '(empty body)'}"
        hint = "the server answered but could not serve the call now" if status in (429, 503) else None
        if base_url is not None and status in (400, 404, 405):
            hint = _missing_v0(base_url) or hint
        super().__init__(text, code=code, method=method, details=details, hint=hint)


def _missing_v0(base_url: str) -> str | None:
    """What to change when the base URL a call went to lacks the API's /v0 (the usual cause of a
    404 from a Decthings server), or None."""
    base = base_url.rstrip("/")
    if urlsplit(base).path.endswith("/v0"):
        return None
    return (
        f"the address {base} does not end in /v0, under which the Decthings API is served: use "
        f"{base}/v0 (http_server_address= or DECTHINGS_HTTP_URL)"
    )


def http_error(
    status: int, text: str, *, method: str, retry_after: str | None = None, base_url: str | None = None
) -> DecthingsHttpError:
    """A DecthingsHttpError that is also the core error class for the status's nearest gRPC code;
    `base_url` (the client's) lets its hint name a missing /v0."""
    cls = core.coded_subclass(DecthingsHttpError, _http_code(status), "DecthingsHttp")
    return cls(status, text, method=method, retry_after=retry_after, base_url=base_url)


def _http_code(status: int) -> RpcCode:
    fallback = RpcCode.UNAVAILABLE if status >= 500 else RpcCode.UNKNOWN
    return _HTTP_CODES.get(status, fallback)


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After as delay-seconds (the HTTP-date form is ignored)."""
    try:
        value = float(retry_after) if retry_after is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


_HTTP_CODES = {
    400: RpcCode.INVALID_ARGUMENT,
    401: RpcCode.UNAUTHENTICATED,
    403: RpcCode.PERMISSION_DENIED,
    404: RpcCode.UNIMPLEMENTED,
    408: RpcCode.DEADLINE_EXCEEDED,
    429: RpcCode.RESOURCE_EXHAUSTED,
    502: RpcCode.UNAVAILABLE,
    503: RpcCode.UNAVAILABLE,
    504: RpcCode.UNAVAILABLE,
}
