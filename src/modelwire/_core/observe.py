"""Observability, written once: call and retry logs, and the seam tracing plugs into.

Loggers (children of "modelwire"; nothing is printed unless the application, or `MODELWIRE_LOG`,
configures logging):

* ``modelwire.calls`` (DEBUG): one record per attempt of a unary call (method, attempt, status,
  duration, request id), one when a stream opens and one when it ends (messages, duration, status),
  and one per HTTP/WebSocket exchange of the Decthings clients (also the HTTP status).
* ``modelwire.retry`` (INFO): one record per retry: why (status code and error class) and the delay.

Never logged: credentials, header values, request or response bodies, error messages (they can
echo what was sent). The only server-supplied text, the request id, passes through `redact`.
Every record carries its fields as `record.modelwire` (a dict) for structured handlers.

Cost when nothing observes: `start()` is one `isEnabledFor` and one global read per call; streams
pay it once per stream, never per message; retries only log on the failure path.

Tracing: `modelwire.otel.instrument()` installs a `Tracer` here (this module never imports
OpenTelemetry) and default wire instrumentation (gRPC interceptors, aiohttp trace configs) that
every client made afterwards picks up.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelwire._core.config import Secret, redact
from modelwire._core.errors import REQUEST_ID_KEYS

if TYPE_CHECKING:
    from modelwire._core.errors import ApiError

ROOT = logging.getLogger("modelwire")
CALLS = logging.getLogger("modelwire.calls")
RETRY = logging.getLogger("modelwire.retry")
calls_enabled = CALLS.isEnabledFor  # bound once; still honours later logging configuration
DEBUG = logging.DEBUG
INFO = logging.INFO

ENV_VAR = "MODELWIRE_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


# -- MODELWIRE_LOG ---------------------------------------------------------------------------------


def configure_from_env(environ: Mapping[str, str] | None = None) -> int | None:
    """Apply `MODELWIRE_LOG` (debug, info, warning, error): set the "modelwire" logger's level and,
    when it has no handler of its own, attach one writing to stderr. Returns the level applied.

    Read once, when modelwire's core is first imported. Standard `logging` configuration works
    as well and needs no variable."""
    raw = (environ if environ is not None else os.environ).get(ENV_VAR, "").strip().lower()
    if not raw or raw in ("0", "off", "none"):
        return None
    level = _LEVELS.get(raw)
    if level is None:
        print(  # logging is not set up yet: say it where a person will see it
            f"modelwire: {ENV_VAR}={raw!r} is not one of {', '.join(_LEVELS)}; ignored", file=sys.stderr
        )
        return None
    ROOT.setLevel(level)
    if not ROOT.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ROOT.addHandler(handler)
    return level


# -- tracing seam ----------------------------------------------------------------------------------


class Span(Protocol):
    """One modelwire operation being traced (see modelwire.otel)."""

    def activate(self) -> contextlib.AbstractContextManager[object]:
        """Make this span current while a wire call is started (so wire spans are its children)."""

    def set(self, key: str, value: str | int | float | bool) -> None: ...

    def end(self, status: str, error: BaseException | None = None) -> None: ...


class Tracer(Protocol):
    def start(self, name: str, attributes: Mapping[str, str | int | float | bool]) -> Span: ...


@dataclass(frozen=True)
class Instrumentation:
    """Wire instrumentation every new client adds before its own (`modelwire.otel.instrument()`).
    Each factory is called per channel or session, so each gets fresh objects."""

    grpc: Callable[[], Sequence[Any]] | None = None  # sync grpc client interceptors
    grpc_aio: Callable[[], Sequence[Any]] | None = None  # grpc.aio client interceptors
    aiohttp: Callable[[], Sequence[Any]] | None = None  # aiohttp TraceConfigs


tracer: Tracer | None = None  # read on the hot path: see start()
_defaults: Instrumentation = Instrumentation()


def install(new_tracer: Tracer | None, defaults: Instrumentation | None = None) -> None:
    """Set (or, with None, remove) the tracer and the default wire instrumentation."""
    global tracer, _defaults
    tracer = new_tracer
    _defaults = defaults if defaults is not None else Instrumentation()


def default_grpc_interceptors(aio: bool) -> list[Any]:
    factory = _defaults.grpc_aio if aio else _defaults.grpc
    return list(factory()) if factory is not None else []


def default_trace_configs() -> list[Any]:
    return list(_defaults.aiohttp()) if _defaults.aiohttp is not None else []


# -- request ids -----------------------------------------------------------------------------------


def request_id_in(*metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The request id from response metadata (initial or trailing), by REQUEST_ID_KEYS."""
    found: dict[str, Any] = {}
    for md in metadata:
        for key, value in md or ():
            if key in REQUEST_ID_KEYS:
                found.setdefault(key, value)
    for key in REQUEST_ID_KEYS:
        if key in found:
            value = found[key]
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return None


def sync_request_id(call: Any) -> str | None:
    """The request id a finished sync gRPC call carried (never raises)."""
    try:
        return request_id_in(call.initial_metadata(), call.trailing_metadata())
    except Exception:
        return None


async def aio_request_id(call: Any) -> str | None:
    """The request id a finished grpc.aio call carried (never raises)."""
    try:
        return request_id_in(await call.initial_metadata(), await call.trailing_metadata())
    except Exception:
        return None


# -- one observed call -----------------------------------------------------------------------------

_NO_SPAN: contextlib.nullcontext[None] = contextlib.nullcontext()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def status_of(error: BaseException | None) -> str:
    """A status name for logs and spans: OK, or the error's code (else its class name)."""
    if error is None:
        return "OK"
    code = getattr(error, "rpc_code", None)
    return code.name if code is not None else type(error).__name__


class Call:
    """One logical call (a unary call with its retries, or a stream) while something observes it.

    Made only by `start`, so unobserved calls never build one."""

    __slots__ = ("_attempt_started", "_log", "_secrets", "_started", "method", "span")

    def __init__(
        self,
        method: str,
        secrets: Sequence[Secret],
        system: str,
        log: bool,
        span_tracer: Tracer | None,
    ) -> None:
        self.method = method.lstrip("/")
        self._secrets = secrets
        self._log = log
        self._started = self._attempt_started = time.perf_counter()
        self.span: Span | None = None
        if span_tracer is not None:
            self.span = span_tracer.start(self.method, _rpc_attributes(self.method, system))

    def activate(self) -> contextlib.AbstractContextManager[object]:
        """Make the call's span current (while a wire call starts, so wire spans are children)."""
        return self.span.activate() if self.span is not None else _NO_SPAN

    def attempt(self) -> contextlib.AbstractContextManager[object]:
        """Time an attempt from now; wrap the start of its wire call (see `activate`)."""
        self._attempt_started = time.perf_counter()
        return self.activate()

    def _redacted(self, text: str | None) -> str | None:
        return None if text is None else redact(text, self._secrets)

    # unary calls (and the Decthings exchanges): one record per attempt

    def attempt_ended(
        self,
        attempt: int,
        error: ApiError | None = None,
        *,
        request_id: str | None = None,
        http_status: int | None = None,
        via: str | None = None,
    ) -> float:
        """Log one attempt; returns its duration in seconds."""
        duration = time.perf_counter() - self._attempt_started
        if self._log:
            status = status_of(error)
            rid = self._redacted(request_id or (error.request_id if error is not None else None))
            fields: dict[str, Any] = {
                "event": "attempt",
                "method": self.method,
                "attempt": attempt,
                "status": status,
                "duration_ms": _ms(duration),
                "request_id": rid,
            }
            text = "%s attempt=%d status=%s duration=%.1fms"
            args: list[Any] = [self.method, attempt, status, duration * 1000]
            if error is not None:
                fields["error"] = type(error).__name__
                text += " error=%s"
                args.append(fields["error"])
            if via is not None:
                fields["transport"] = via
                text += " via=%s"
                args.append(via)
            if http_status is not None:
                fields["http_status"] = http_status
                text += " http_status=%d"
                args.append(http_status)
            if rid:
                text += " request_id=%s"
                args.append(rid)
            CALLS.debug(text, *args, extra={"modelwire": fields})
        return duration

    # streams: one record at each open (every attempt) and one at the end

    def stream_opened(self, attempt: int) -> None:
        if self._log:
            CALLS.debug(
                "%s stream open attempt=%d",
                self.method,
                attempt,
                extra={"modelwire": {"event": "stream_open", "method": self.method, "attempt": attempt}},
            )

    def finish(
        self,
        error: BaseException | None = None,
        *,
        attempts: int,
        messages: int | None = None,
        status: str | None = None,
    ) -> None:
        """End the call: the stream's end record, and the span."""
        status = status or status_of(error)
        if self._log and messages is not None:
            duration = time.perf_counter() - self._started
            rid = self._redacted(getattr(error, "request_id", None))
            fields = {
                "event": "stream_end",
                "method": self.method,
                "status": status,
                "messages": messages,
                "attempts": attempts,
                "duration_ms": _ms(duration),
                "request_id": rid,
            }
            text = "%s stream end status=%s messages=%d attempts=%d duration=%.1fms"
            args: list[Any] = [self.method, status, messages, attempts, duration * 1000]
            if rid:
                text += " request_id=%s"
                args.append(rid)
            CALLS.debug(text, *args, extra={"modelwire": fields})
        span = self.span
        if span is not None:
            self.span = None
            span.set("modelwire.attempts", attempts)
            if messages is not None:
                span.set("modelwire.messages", messages)
            span.end(status, error)


def _rpc_attributes(method: str, system: str) -> dict[str, str | int | float | bool]:
    """RPC semantic-convention attributes for "pkg.Service/Method" (gRPC) or "Api.method"."""
    service, sep, name = method.rpartition("/")
    if not sep:
        service, _, name = method.rpartition(".")
    return {"rpc.system": system, "rpc.service": service, "rpc.method": name}


def start(
    method: str, secrets: Sequence[Secret] = (), system: str = "grpc", *, always: bool = False
) -> Call | None:
    """A `Call` when logging (modelwire.calls at DEBUG) or tracing is on, else None.

    Hot paths guard it with `tracer is not None or calls_enabled(DEBUG)`, so an unobserved call
    costs one global read and one `isEnabledFor`."""
    log = calls_enabled(DEBUG)
    if tracer is None and not log and not always:  # `always`: for a caller's hooks
        return None
    return Call(method, secrets, system, log, tracer)


@contextlib.contextmanager
def operation(name: str, attributes: Mapping[str, str | int | float | bool]) -> Iterator[Span | None]:
    """A span for an SDK operation made of many calls (e.g. a bulk upload), when tracing is on:
    the calls made inside it (on any thread run_batches starts) are its children, and the caller
    sets its outcome counts (`span.set(...)`) before the block ends. None when not tracing."""
    if tracer is None:
        yield None
        return
    span = tracer.start(name, {"modelwire.operation": name, **attributes})
    try:
        with span.activate():
            yield span
    except BaseException as exc:
        span.end(status_of(exc), exc)
        raise
    span.end("OK")


def log_retry(method: str, attempt: int, error: ApiError, delay: float, *, outage: bool = False) -> None:
    """One INFO record on modelwire.retry: attempt `attempt` of `method` failed with `error`; the
    next one starts after `delay` seconds."""
    if not RETRY.isEnabledFor(INFO):
        return
    status = status_of(error)
    why = "the service was unreachable; waiting for the connection" if outage else "retrying"
    RETRY.info(
        "%s attempt=%d failed with %s (%s); %s in %.3fs",
        method.lstrip("/"),
        attempt,
        status,
        type(error).__name__,
        why,
        delay,
        extra={
            "modelwire": {
                "event": "retry",
                "method": method.lstrip("/"),
                "attempt": attempt,
                "status": status,
                "error": type(error).__name__,
                "delay": round(delay, 6),
                "outage": outage,
            }
        },
    )


# -- request/response hooks of HTTP clients (Decthings) ---------------------------------------------


@dataclass(frozen=True)
class WireRequest:
    """What `on_request` receives before each exchange (each attempt): never the key or params."""

    method: str  # "Model.getModels"
    attempt: int  # 1 for the first try, 2 for the first retry...
    transport: str  # "http" or "ws"
    body_bytes: int  # size of the JSON params
    blob_count: int  # binary attachments (tensors, files)
    blob_bytes: int


@dataclass(frozen=True)
class WireResponse:
    """What `on_response` receives after each exchange, whatever its outcome."""

    method: str
    attempt: int
    transport: str
    status: str  # "OK", or the failure's code name ("UNAVAILABLE", "NOT_FOUND", ...)
    http_status: int | None  # the HTTP status (None over the WebSocket or without an answer)
    duration: float  # seconds
    error: BaseException | None  # the typed (redacted) error when the exchange failed


OnRequest = Callable[[WireRequest], object]
OnResponse = Callable[[WireResponse], object]


def call_hook(hook: Callable[[Any], object], event: object) -> None:
    """Run a user's hook; a hook that raises is logged and never breaks the call."""
    name = getattr(hook, "__name__", "hook")
    try:
        outcome = hook(event)
    except Exception:
        ROOT.exception("modelwire: the %s hook raised; the call goes on", name)
        return
    if inspect.iscoroutine(outcome):
        outcome.close()  # never awaited: say so once here rather than as a RuntimeWarning later
        ROOT.error("modelwire: the %s hook is a coroutine function; hooks must be plain functions", name)


configure_from_env()
