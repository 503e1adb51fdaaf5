"""Every provider's errors share these classes: catch them here, whichever provider raised.

    from modelwire.errors import NotFoundError, UnavailableError

    try:
        client.get_job(job_uuid)
    except NotFoundError:
        ...

`ModelwireError` is the root of every error modelwire raises. `ApiError` is a call that failed at
the service (or on the way there), with one subclass per gRPC status code (`NotFoundError`,
`UnauthenticatedError`, ...); a provider's own errors (`modelwire.clavata.EvaluationRefusedError`,
`modelwire.clarifai.ApiError`, `modelwire.decthings.DecthingsNotFoundError`, ...) are also the class
of their nearest code, so `except NotFoundError` works for all three. These classes are shown and
pickled at this path (`modelwire.errors.UnauthenticatedError`). Importing this module loads
neither grpc nor protobuf.
"""

from modelwire._core.errors import (
    AbortedError,
    AlreadyExistsError,
    ApiError,
    CallCancelledError,
    ClientClosedError,
    ConfigurationError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    MessageTimeoutError,
    MissingExtraError,
    ModelwireError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    RpcCode,
    RpcErrorSummary,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
    UsageError,
)

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "ApiError",
    "CallCancelledError",
    "ClientClosedError",
    "ConfigurationError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "MessageTimeoutError",
    "MissingExtraError",
    "ModelwireError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RpcCode",
    "RpcErrorSummary",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "UsageError",
]
