"""The typed error hierarchy, hydrated from gRPC status codes and `google.rpc.Status` details.

`from_rpc_error` is the one place a `grpc.RpcError` (sync) or `grpc.aio.AioRpcError` becomes a
modelwire error. It reads the `grpc-status-details-bin` trailer itself, so a trailer that disagrees
with the call status never hides the real error (a defect of the published Clavata client), unpacks
the well-known `google.rpc` detail types and any provider-registered ones, and lets providers
refine the result (e.g. Clavata refusals) through *specializers*.

Importing this module loads neither grpc nor protobuf: the error table is keyed on `RpcCode`, a
grpc-free mirror of `grpc.StatusCode`, so HTTP providers (Decthings) never pay for grpc. grpc is
imported where it is really used (`from_rpc_error`, `grpc_status`) and when a caller reads an
error's `code` (still a `grpc.StatusCode`, converted on first read); protobuf when details are
unpacked or read.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

if TYPE_CHECKING:
    import grpc
    from google.protobuf import message

    from modelwire._core.config import Secret
    from modelwire._core.writes import WriteSummary
    from modelwire._gen.google.protobuf import any_pb2
    from modelwire._gen.google.rpc import status_pb2

log = logging.getLogger("modelwire")

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# Trailing/initial metadata keys that carry a request id, in order of preference.
REQUEST_ID_KEYS = ("x-request-id", "x-clarifai-request-id", "request-id", "x-clavata-request-id")


class RpcCode(enum.IntEnum):
    """The 17 gRPC status codes, with `grpc.StatusCode`'s names and numbers, without importing grpc.

    `ApiError.rpc_code` is one; `ApiError.code` is the same code as a `grpc.StatusCode`.
    """

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def of(cls, code: RpcCode | grpc.StatusCode | int) -> RpcCode:
        """`code` (an RpcCode, a `grpc.StatusCode` or the code's number) as an RpcCode."""
        if isinstance(code, int):
            return cls(code)
        return cls[code.name]

    def to_grpc(self) -> grpc.StatusCode:
        """This code as a `grpc.StatusCode` (imports grpc)."""
        import grpc

        return grpc.StatusCode[self.name]


class ModelwireError(Exception):
    """Root of every error modelwire raises.

    `summary` is set when the error stopped a bulk write: what landed, failed or is unknown.
    """

    summary: WriteSummary | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without calling `__init__` again (its arguments differ from class to class): the
        class, `args` and the attributes, with `google.rpc` details as bytes."""
        state = dict(self.__dict__)
        if state.get("details"):
            state["details"] = (
                _PACKED,
                [(d.DESCRIPTOR.full_name, d.SerializeToString()) for d in state["details"]],
            )
        return _rebuild, (_class_ref(type(self)), self.args), state

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        """Restore the attributes `__reduce__` saved."""
        state = state or {}
        details = state.get("details")
        if isinstance(details, tuple) and details[:1] == (_PACKED,):
            state = {**state, "details": [_unpacked_detail(name, data) for name, data in details[1]]}
        self.__dict__.update(state)


class ConfigurationError(ModelwireError, ValueError):
    """The client cannot be built as asked: missing credentials, a malformed endpoint."""


class UsageError(ModelwireError, ValueError):
    """A request was rejected before it was sent; the message says what to change."""


class ClientClosedError(ModelwireError, RuntimeError):
    """The client was closed (`close()` or the end of its `with` block); create a new one."""


class MissingExtraError(ModelwireError, ModuleNotFoundError):
    """An optional part of modelwire was imported without its extra; the message names the
    `pip install 'modelwire[...]'` that brings it."""


@contextlib.contextmanager
def needs_extra(extra: str, what: str, packages: Iterable[str]) -> Iterator[None]:
    """Imports in this block that fail for want of one of `packages` (the extra's third-party
    packages) raise MissingExtraError naming `extra`; any other ImportError is left as it is, so a
    bug in our own imports is never mistaken for a missing extra."""
    try:
        yield
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in set(packages):
            raise
        raise MissingExtraError(
            f"{what} needs the {extra} extra: pip install 'modelwire[{extra}]' (missing: {exc.name})",
            name=exc.name,
        ) from exc


# Detail message types that can be unpacked from google.rpc.Status.details, by full name. The
# well-known google.rpc ones are added on first use (see _detail_types), so importing this module
# does not load protobuf; a provider's registration (at its import) wins over them, as before.
_DETAIL_TYPES: dict[str, type[message.Message]] = {}
_well_known_registered = False


def register_detail_type(cls: type[message.Message]) -> None:
    """Teach the error hydration to unpack another detail message type (e.g. a provider's)."""
    _DETAIL_TYPES[cls.DESCRIPTOR.full_name] = cls


def _detail_types() -> dict[str, type[message.Message]]:
    global _well_known_registered
    if not _well_known_registered:
        from modelwire._gen.google.rpc import error_details_pb2

        for cls in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.RetryInfo,
            error_details_pb2.DebugInfo,
            error_details_pb2.QuotaFailure,
            error_details_pb2.PreconditionFailure,
            error_details_pb2.BadRequest,
            error_details_pb2.RequestInfo,
            error_details_pb2.ResourceInfo,
            error_details_pb2.Help,
            error_details_pb2.LocalizedMessage,
        ):
            _DETAIL_TYPES.setdefault(cls.DESCRIPTOR.full_name, cls)
        _well_known_registered = True
    return _DETAIL_TYPES


# What to check, by code. These name no provider's arguments: a provider registers its own wording
# (`register_hints`), used for its methods, e.g. Clavata's `secure=`, Decthings' base URL.
_HINTS: dict[RpcCode, str] = {
    RpcCode.UNAUTHENTICATED: "check the API key / token the client was given",
    RpcCode.PERMISSION_DENIED: "the credentials are valid but lack access to this resource",
    RpcCode.UNAVAILABLE: "the service could not be reached; check the address the client was given "
    "and that the service is running",
    RpcCode.DEADLINE_EXCEEDED: "the call ran out of time; pass a larger timeout=",
    RpcCode.UNIMPLEMENTED: "the server does not offer this method; is the endpoint right?",
}
_PROVIDER_HINTS: list[tuple[Callable[[str], bool], dict[RpcCode, str]]] = []


def register_hints(applies: Callable[[str], bool], hints: Mapping[RpcCode, str]) -> None:
    """Use `hints` (by code) for errors of the methods `applies` accepts (it gets `ApiError.method`,
    e.g. "/clavata.gateway.v1.GatewayService/Evaluate"), in place of the provider-neutral ones."""
    _PROVIDER_HINTS.append((applies, dict(hints)))


def hint_for(code: RpcCode, method: str) -> str | None:
    """The hint an error of `code` from `method` gets when none is given: its provider's, if it
    registered one for the code, else the neutral one (None for codes without a hint)."""
    if method:
        for applies, hints in _PROVIDER_HINTS:
            if code in hints and applies(method):
                return hints[code]
    return _HINTS.get(code)


class _GrpcCodeOfClass:
    """`SomeError.grpc_code`: the class's `class_code` as a `grpc.StatusCode` (None for classes not
    tied to one code), converted on access so defining the classes does not import grpc."""

    def __get__(self, obj: object, owner: type[ApiError]) -> grpc.StatusCode | None:
        code = owner.class_code
        return None if code is None else code.to_grpc()


class ApiError(ModelwireError):
    """A call failed at the service (or on the way there).

    Attributes: `code` (a `grpc.StatusCode`; `rpc_code` is the same code as a grpc-free `RpcCode`,
    which reading does not import grpc), `message` (the server's, with secrets redacted),
    `method` (the RPC path), `details` (unpacked `google.rpc.Status` details; unknown types kept as
    `Any`), `request_id`, `retry_delay` (seconds, from `RetryInfo`), `reason`/`domain`/`metadata`
    (from `ErrorInfo`), `field_violations` (from `BadRequest`), `attempts` (calls made, retries
    included), `outcome_unknown` (a write whose request may have reached the server: it may have
    been applied, so check before repeating it), `never_sent` (the connection could not be made, so
    the server never saw the request). `__cause__` is a redacted stand-in for the gRPC error
    (`RpcErrorSummary`): the raw one can echo credentials, so it is kept out of tracebacks.
    """

    # The code a class stands for (the core per-code classes set it; `for_code` looks it up).
    class_code: ClassVar[RpcCode | None] = None
    grpc_code = _GrpcCodeOfClass()  # class_code as a grpc.StatusCode (read-only, for compatibility)
    _by_code: ClassVar[dict[RpcCode, type[ApiError]]] = {}
    rpc_code: RpcCode
    _grpc_code: grpc.StatusCode | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("grpc_code")
        if declared is not None and not isinstance(declared, _GrpcCodeOfClass):
            # a subclass written against the grpc-keyed table: `grpc_code = grpc.StatusCode.X`
            cls.class_code = RpcCode.of(declared)
            del cls.grpc_code
        if cls.class_code is not None and cls.class_code not in ApiError._by_code:
            ApiError._by_code[cls.class_code] = cls

    def __init__(
        self,
        message: str,
        *,
        code: RpcCode | grpc.StatusCode = RpcCode.UNKNOWN,
        method: str = "",
        details: Sequence[message.Message] = (),
        request_id: str | None = None,
        trailing_metadata: Mapping[str, str | bytes] | None = None,
        hint: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.method = method
        self.details = list(details)
        self.request_id = request_id
        self.trailing_metadata = dict(trailing_metadata or {})
        self.hint = hint if hint is not None else hint_for(self.rpc_code, method)
        self.attempts = 1
        self.outcome_unknown = False
        self.never_sent = False
        super().__init__(self._render())

    @property
    def code(self) -> grpc.StatusCode:
        """The status as a `grpc.StatusCode` (for an error built from an RpcCode, e.g. by an HTTP
        provider, converted on first read, which imports grpc; `rpc_code` never does)."""
        if self._grpc_code is None:
            self._grpc_code = self.rpc_code.to_grpc()
        return self._grpc_code

    @code.setter
    def code(self, value: RpcCode | grpc.StatusCode) -> None:
        self.rpc_code = RpcCode.of(value)
        self._grpc_code = None if isinstance(value, int) else value

    def mark_outcome_unknown(self) -> None:
        """Say that this failed write may nevertheless have been applied by the server."""
        self.outcome_unknown = True
        self.hint = (
            "the request may have reached the server and been applied: check before repeating it "
            "(a retry could duplicate it)"
        )
        self.args = (self._render(),)

    def _render(self) -> str:
        parts = [f"{self.rpc_code.name}: {self.message or '(no message)'}"]
        context = [f"method={self.method}"] if self.method else []
        if self.request_id:
            context.append(f"request_id={self.request_id}")
        if context:
            parts.append(f"[{', '.join(context)}]")
        if self.hint:
            parts.append(f"- {self.hint}")
        return " ".join(parts)

    def _first(self, cls: type[message.Message]) -> Any:
        return next((d for d in self.details if isinstance(d, cls)), None)

    @property
    def retry_delay(self) -> float | None:
        """Seconds the server asked to wait before retrying (`google.rpc.RetryInfo`), or None."""
        from modelwire._gen.google.rpc import error_details_pb2

        info = self._first(error_details_pb2.RetryInfo)
        if info is None or not info.HasField("retry_delay"):
            return None
        return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)

    @property
    def reason(self) -> str | None:
        """The `reason` of the error's `google.rpc.ErrorInfo` detail, or None without one."""
        from modelwire._gen.google.rpc import error_details_pb2

        info = self._first(error_details_pb2.ErrorInfo)
        return str(info.reason) if info is not None else None

    @property
    def domain(self) -> str | None:
        """The `domain` of the error's `google.rpc.ErrorInfo` detail, or None without one."""
        from modelwire._gen.google.rpc import error_details_pb2

        info = self._first(error_details_pb2.ErrorInfo)
        return str(info.domain) if info is not None else None

    @property
    def metadata(self) -> dict[str, str]:
        """The `metadata` of the error's `google.rpc.ErrorInfo` detail (empty without one)."""
        from modelwire._gen.google.rpc import error_details_pb2

        info = self._first(error_details_pb2.ErrorInfo)
        return dict(info.metadata) if info is not None else {}

    @property
    def field_violations(self) -> list[tuple[str, str]]:
        """`(field, description)` pairs from a `google.rpc.BadRequest` detail (empty without one)."""
        from modelwire._gen.google.rpc import error_details_pb2

        bad = self._first(error_details_pb2.BadRequest)
        return [(v.field, v.description) for v in bad.field_violations] if bad is not None else []

    @classmethod
    def for_code(cls, code: RpcCode | grpc.StatusCode) -> type[ApiError]:
        """The error class that stands for `code` (e.g. `NotFoundError` for NOT_FOUND).

        Args:
            code: An `RpcCode`, a `grpc.StatusCode` or the code's number.

        Returns:
            The subclass registered for the code, or `ApiError` itself when there is none.
        """
        return cls._by_code.get(RpcCode.of(code), ApiError)


class CallCancelledError(ApiError):
    """The call was cancelled."""

    class_code = RpcCode.CANCELLED


class UnknownError(ApiError):
    """The server failed without saying why."""

    class_code = RpcCode.UNKNOWN


class InvalidArgumentError(ApiError):
    """The server rejected the request's contents."""

    class_code = RpcCode.INVALID_ARGUMENT


class DeadlineExceededError(ApiError):
    """The call's deadline passed."""

    class_code = RpcCode.DEADLINE_EXCEEDED


class NotFoundError(ApiError):
    """The resource does not exist."""

    class_code = RpcCode.NOT_FOUND


class AlreadyExistsError(ApiError):
    """The resource exists already."""

    class_code = RpcCode.ALREADY_EXISTS


class PermissionDeniedError(ApiError):
    """The credentials lack permission."""

    class_code = RpcCode.PERMISSION_DENIED


class ResourceExhaustedError(ApiError):
    """A quota or rate limit was hit."""

    class_code = RpcCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(ApiError):
    """The system is not in the state the call needs."""

    class_code = RpcCode.FAILED_PRECONDITION


class AbortedError(ApiError):
    """The call was aborted, e.g. by a conflict."""

    class_code = RpcCode.ABORTED


class OutOfRangeError(ApiError):
    """A value was out of range."""

    class_code = RpcCode.OUT_OF_RANGE


class UnimplementedError(ApiError):
    """The server does not offer the method."""

    class_code = RpcCode.UNIMPLEMENTED


class InternalError(ApiError):
    """The server failed internally."""

    class_code = RpcCode.INTERNAL


class UnavailableError(ApiError):
    """The service is unavailable; retry later."""

    class_code = RpcCode.UNAVAILABLE


class DataLossError(ApiError):
    """Data was lost or corrupted."""

    class_code = RpcCode.DATA_LOSS


class UnauthenticatedError(ApiError):
    """The credentials were missing or wrong."""

    class_code = RpcCode.UNAUTHENTICATED


class MessageTimeoutError(DeadlineExceededError, TimeoutError):
    """No stream message arrived within `message_timeout`; the stream was cancelled."""


_E = TypeVar("_E", bound=ApiError)
_CODED: dict[tuple[type[ApiError], RpcCode], type[ApiError]] = {}
_PACKED = "modelwire-packed-details"


def coded_subclass(provider: type[_E], code: RpcCode | grpc.StatusCode, prefix: str) -> type[_E]:
    """`provider` (a provider's ApiError) crossed with the core class for `code`, made once and
    cached, so a provider's error is also e.g. `NotFoundError` (named `<prefix>NotFoundError`)."""
    key: tuple[type[ApiError], RpcCode] = (provider, RpcCode.of(code))
    cls = _CODED.get(key)
    if cls is None:
        base = ApiError.for_code(code)
        # `_coded_from`: how to make the class again, for pickle (it is no module attribute).
        namespace = {"__module__": provider.__module__, "_coded_from": (provider, int(key[1]), prefix)}
        cls = _CODED[key] = type(f"{prefix}{base.__name__}", (provider, base), namespace)
    return cast("type[_E]", cls)


def unpack_details(status: status_pb2.Status) -> list[message.Message]:
    """Unpack each `Any` in a google.rpc.Status to its registered type; keep unknown ones as `Any`."""
    out: list[message.Message] = []
    types = _detail_types()
    for detail in status.details:
        cls = types.get(detail.TypeName())
        if cls is None:
            out.append(detail)
            continue
        unpacked = cls()
        if detail.Unpack(unpacked):
            out.append(unpacked)
        else:  # a type_url we know with bytes that do not parse: keep it raw, lose nothing
            out.append(detail)
    return out


def _metadata_dict(items: Iterable[tuple[str, str | bytes]] | None) -> dict[str, str | bytes]:
    return {key: value for key, value in (items or ())}


def parse_status(trailers: Mapping[str, str | bytes]) -> status_pb2.Status | None:
    raw = trailers.get(STATUS_DETAILS_KEY)
    if not isinstance(raw, bytes):
        return None
    from google.protobuf import message

    from modelwire._gen.google.rpc import status_pb2

    try:
        return status_pb2.Status.FromString(raw)
    except message.DecodeError:
        log.warning("modelwire: ignoring an undecodable %s trailer", STATUS_DETAILS_KEY)
        return None


def grpc_status(status: status_pb2.Status) -> grpc.Status:
    """The server side of parse_status: a `grpc.Status` for `context.abort_with_status` that
    carries `status` in the trailer (what grpcio-status' `to_status` does, without importing
    googleapis' google.rpc into the default descriptor pool)."""
    try:
        code = RpcCode(status.code)
    except ValueError:
        raise ValueError(f"not a gRPC status code: {status.code}") from None
    trailer = ((STATUS_DETAILS_KEY, status.SerializeToString()),)
    return _status_type()(code.to_grpc(), status.message, trailer)


@functools.cache
def _status_type() -> Callable[[grpc.StatusCode, str, tuple[Any, ...]], grpc.Status]:
    """A concrete `grpc.Status` (defined on first use: subclassing it needs grpc)."""
    import grpc

    class _Status(grpc.Status):
        def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[Any, ...]) -> None:
            self.code, self.details, self.trailing_metadata = code, details, trailing_metadata

    return _Status


# A specializer may turn a generic ApiError into a provider's more specific one (or return None).
Specializer = Callable[[ApiError], "ApiError | None"]


# gRPC's own words for an RPC that failed before any byte reached the server.
_NEVER_SENT_MARKERS = (
    "failed to connect to all addresses",
    "dns resolution failed",
    "failed to connect to remote host",
    # A forked child's first write on a connection it inherited: gRPC's fork support refuses the
    # parent's socket locally (seen as "Stream removed (sendmsg: Wrong file descriptor generation)").
    "wrong file descriptor generation",
)
# ... and for a connection lost while the call was in flight (its outcome is unknown).
_CONNECTION_LOST_MARKERS = (
    "stream removed",
    "rst_stream",
    "socket closed",
    "connection reset",
    "broken pipe",
    "goaway",
)


def lost_in_flight(error: ApiError) -> bool:
    """True when the request left the client and no verdict came back: a write may have landed."""
    if error.never_sent:
        return False
    if error.rpc_code in (RpcCode.DEADLINE_EXCEEDED, RpcCode.UNAVAILABLE, RpcCode.CANCELLED):
        return True
    text = error.message.lower()
    return error.rpc_code in (RpcCode.UNKNOWN, RpcCode.INTERNAL) and any(
        marker in text for marker in _CONNECTION_LOST_MARKERS
    )


class RpcErrorSummary(Exception):
    """What a raw gRPC error said, redacted: chained as `__cause__` in place of the raw error,
    whose text (and debug string) can echo credentials into tracebacks and error trackers."""

    def __init__(self, code: RpcCode | grpc.StatusCode, text: str, debug: str) -> None:
        super().__init__(f"{code.name}: {text}" + (f" ({debug})" if debug else ""))
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without calling `__init__` again: the class, `args` and `code`."""
        return _rebuild, (type(self), self.args), dict(self.__dict__)


def _class_ref(cls: type[BaseException]) -> type[BaseException] | tuple[Any, ...]:
    """How pickle finds `cls`: the class itself, or the recipe of a `coded_subclass`."""
    coded: tuple[Any, ...] | None = cls.__dict__.get("_coded_from")
    return coded if coded is not None else cls


def _rebuild(ref: type[BaseException] | tuple[Any, ...], args: tuple[Any, ...]) -> BaseException:
    """An unpickled error: made with `args` but without `__init__`; pickle then restores its state."""
    cls = coded_subclass(ref[0], RpcCode(ref[1]), ref[2]) if isinstance(ref, tuple) else ref
    error = cls.__new__(cls, *args)
    error.args = args  # OSError's __new__ (TimeoutError subclasses) leaves them to __init__
    return error


def _unpacked_detail(name: str, data: bytes) -> message.Message:
    """A pickled `google.rpc` detail again: its registered type, else an `Any` holding it."""
    from modelwire._gen.google.protobuf import any_pb2

    cls = _detail_types().get(name)
    if cls is not None:
        return cls.FromString(data)
    if name == any_pb2.Any.DESCRIPTOR.full_name:
        return any_pb2.Any.FromString(data)
    return any_pb2.Any(type_url=f"type.googleapis.com/{name}", value=data)


def from_rpc_error(
    exc: grpc.RpcError,
    *,
    method: str,
    secrets: Iterable[Secret] = (),
    specializers: Sequence[Specializer] = (),
) -> ApiError:
    """Map a sync `grpc.RpcError` or a `grpc.aio.AioRpcError` to a typed `ApiError`."""
    import grpc

    from modelwire._core.config import redact
    from modelwire._gen.google.rpc import error_details_pb2

    code_fn = getattr(exc, "code", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    details_fn = getattr(exc, "details", None)
    text = (details_fn() if callable(details_fn) else None) or ""
    trailers_fn = getattr(exc, "trailing_metadata", None)
    trailers = _metadata_dict(trailers_fn() if callable(trailers_fn) else None)
    status = parse_status(trailers)
    details = unpack_details(status) if status is not None else []
    request_id = next((str(trailers[k]) for k in REQUEST_ID_KEYS if k in trailers), None)
    if request_id is None:
        info = next((d for d in details if isinstance(d, error_details_pb2.RequestInfo)), None)
        request_id = info.request_id if info is not None else None
    secrets = list(secrets)
    debug_fn = getattr(exc, "debug_error_string", None)
    debug = redact(str(debug_fn() or ""), secrets) if callable(debug_fn) else ""
    error = ApiError.for_code(code)(
        redact(text, secrets),
        code=code,
        method=method,
        details=details,
        request_id=request_id,
        trailing_metadata={k: v for k, v in trailers.items() if k != STATUS_DETAILS_KEY},
    )
    lowered = text.lower()
    error.never_sent = code == grpc.StatusCode.UNAVAILABLE and any(m in lowered for m in _NEVER_SENT_MARKERS)
    for specialize in specializers:
        special = specialize(error)
        if special is not None:
            special.never_sent = error.never_sent
            error = special
            break
    error.__cause__ = RpcErrorSummary(code, error.message, debug)
    return error


def detail_any(msg: message.Message) -> any_pb2.Any:
    """Pack a detail message into an `Any` (used by the emulator and by tests)."""
    from modelwire._gen.google.protobuf import any_pb2

    packed = any_pb2.Any()
    packed.Pack(msg)
    return packed


# The public classes are shown (tracebacks, reprs) and pickled at their public path,
# `modelwire.errors.<name>`, the module that exports them, rather than at this private one.
PUBLIC: tuple[type, ...] = (
    RpcCode,
    ModelwireError,
    ConfigurationError,
    UsageError,
    ClientClosedError,
    ApiError,
    CallCancelledError,
    UnknownError,
    InvalidArgumentError,
    DeadlineExceededError,
    NotFoundError,
    AlreadyExistsError,
    PermissionDeniedError,
    ResourceExhaustedError,
    FailedPreconditionError,
    AbortedError,
    OutOfRangeError,
    UnimplementedError,
    InternalError,
    UnavailableError,
    DataLossError,
    UnauthenticatedError,
    MessageTimeoutError,
    RpcErrorSummary,
    MissingExtraError,
)
for _public in PUBLIC:
    _public.__module__ = "modelwire.errors"
