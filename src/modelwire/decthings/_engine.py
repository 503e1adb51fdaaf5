"""The one implementation behind DecthingsClient and DecthingsClientSync: HTTP, WebSocket, retries.

* HTTP: `POST {base}/{Api}/{method}` through one aiohttp session (a keep-alive connection pool)
  per client and event loop; `Authorization: Bearer` when a key is set.
* WebSocket: opened when an event is subscribed; while it is open every call goes over it (the
  protocol the Decthings docs describe); it is closed again when no subscription and no call
  remains. A dropped socket is reconnected with backoff and every subscription is re-sent.
* Retries: reads (get/lookup/read...) are retried on UNAVAILABLE and RESOURCE_EXHAUSTED with
  jittered backoff under one deadline; writes only when the request was provably not processed
  (the connection was refused, HTTP 429/503, `too_many_requests`, `server_overloaded`).
* The API key stays a `Secret` until a request is built, and whatever the server echoes of it
  is redacted from errors. A client that is dropped unclosed, or used in a forked child, lets go of
  its connections without warnings (`abandon`) and, in a child, without touching the parent's.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import random
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import grpc

from modelwire._core import errors as core
from modelwire._core import observe
from modelwire._core.config import Secret, redact
from modelwire._core.retry import Deadline, RetryPolicy
from modelwire._core.writes import NOT_SENT, WriteSummary, attach_summary, failure_reason
from modelwire.decthings import _codecs
from modelwire.decthings.errors import DecthingsApiError, DecthingsHttpError, api_error, http_error
from modelwire.decthings.protocol import (
    ProtocolError,
    WsResponseFrame,
    decode_http_response,
    decode_ws_server_frame,
    dump_json,
    encode_http_request,
    encode_ws_request,
)

log = logging.getLogger("modelwire.decthings")

HTTP: Final = 0
WS: Final = 1
WS_IF_AVAILABLE: Final = 2

# Keys of subscribe/unsubscribe params that name the session kept alive, per Api.
SESSION_KEYS: Final = {
    "Debug": "debugSessionId",
    "Language": "languageServerId",
    "Spawned": "spawnedCommandId",
    "Terminal": "terminalSessionId",
    "Model": "trainingSessionId",
}

_timeout: Any = getattr(asyncio, "timeout", None)
_NOTHING = contextlib.nullcontext()
_ADD_ENTRIES: Final = frozenset({("Dataset", "addEntries"), ("Dataset", "addEntriesToNeedsReview")})


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One wire method: `Api.method`, how it travels and whether repeating it is harmless."""

    api: str
    method: str
    transport: int = HTTP
    idempotent: bool = False

    @property
    def where(self) -> str:
        return f"{self.api}.{self.method}"


@dataclass(frozen=True, slots=True)
class DecthingsEvent:
    """An event from the WebSocket: `api` ("Spawned"), `event_name` ("stdout"), `data` (its params;
    binary payloads under `data["data"]`). The client itself emits api "Client" events:
    "subscriptionsRemoved" and "reconnected", with `data["subscriptions"]` = [(api, session id)]."""

    api: str
    event_name: str
    data: dict[str, Any] = field(default_factory=dict)


EventListener = Callable[[DecthingsEvent], "Awaitable[None] | None"]


class ClientClosedError(core.UsageError):
    """The client was closed; make a new one."""

    __module__ = "modelwire.decthings"  # its public path, for tracebacks and pickle


class _Redacted(str):
    """A header value that shows as *** in reprs, so aiohttp's frames (locals captured in a
    traceback) and its header dicts never print the key; it is sent as the plain string."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def _unavailable(text: str, where: str) -> core.ApiError:
    return core.UnavailableError(text, code=grpc.StatusCode.UNAVAILABLE, method=where)


def _not_sent(error: core.ApiError) -> core.ApiError:
    """`error`, marked as raised before anything reached the server (safe to retry any method)."""
    error.never_sent = True
    return error


# The objects a forked child inherited from its parent (loops, connectors): the sockets and the
# selector behind them are shared with the parent, so the child must never close or collect them
# (closing a transport unregisters it from the shared epoll; TLS would write close_notify).
_FORK_ORPHANS: list[object] = []


class _Socket:
    """One WebSocket connection: request ids, pending responses, the reader task."""

    def __init__(self, engine: Engine, ws: aiohttp.ClientWebSocketResponse[bool]) -> None:
        self.engine = engine
        self.ws = ws
        self.pending: dict[int, asyncio.Future[tuple[Any, list[bytes]]]] = {}
        self.next_id = 0
        self.reader = asyncio.get_running_loop().create_task(self._read())

    def _envelope(self, spec: MethodSpec, body: bytes) -> bytes:
        # Its own frame, finished before anything can fail: no local of a failing frame holds the key.
        key = self.engine.api_key
        return b"".join(
            [
                b'{"api":',
                dump_json(spec.api),
                b',"method":',
                dump_json(spec.method),
                b',"apiKey":',
                dump_json(key.reveal() if key is not None else None),
                b',"params":',
                body,
                b"}",
            ]
        )

    async def request(self, spec: MethodSpec, body: bytes, blobs: Sequence[bytes]) -> tuple[Any, list[bytes]]:
        request_id = self.next_id
        self.next_id = (self.next_id + 1) & 0xFFFFFFFF
        future: asyncio.Future[tuple[Any, list[bytes]]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            try:
                await self.ws.send_bytes(encode_ws_request(request_id, self._envelope(spec, body), blobs))
            except (aiohttp.ClientError, OSError, RuntimeError) as exc:
                # `from None`: aiohttp's frames hold the frame bytes, key included.
                raise _unavailable(
                    f"the Decthings WebSocket failed while sending ({type(exc).__name__}: {exc})", spec.where
                ) from None
            return await future
        finally:
            self.pending.pop(request_id, None)

    async def _read(self) -> None:
        error: BaseException | None = None
        try:
            async for msg in self.ws:
                if msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                    self._handle(msg.data)
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    error = self.ws.exception()
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = exc
        finally:
            for future in list(self.pending.values()):
                if not future.done():
                    future.set_exception(
                        _unavailable(f"the Decthings WebSocket closed ({error or 'by the server'})", "ws")
                    )
            self.pending.clear()
            self.engine._socket_lost(self)

    def _handle(self, data: bytes | str) -> None:
        try:
            frame = decode_ws_server_frame(data)
        except ProtocolError as exc:
            log.warning("dropping a malformed Decthings WebSocket frame: %s", exc)
            return
        if isinstance(frame, WsResponseFrame):
            future = self.pending.pop(frame.request_id, None)
            if future is not None and not future.done():
                future.set_result((frame.payload, frame.blobs))
            return
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        name = str(payload.get("event", ""))
        params = payload.get("params")
        params = _codecs.event_blobs(frame.api, name, params if isinstance(params, dict) else {}, frame.blobs)
        if name == "exit":
            session_key = SESSION_KEYS.get(frame.api)
            if session_key is not None and session_key in params:
                self.engine._keepalive.discard((frame.api, str(params[session_key])))
        self.engine._emit(DecthingsEvent(frame.api, name, params))
        if name == "exit":
            self.engine._release_soon()

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(BaseException):
            await self.reader


class Engine:
    """Async core shared by both clients; every coroutine runs on the loop that owns the session."""

    def __init__(
        self,
        *,
        api_key: Secret | None,
        http_url: str,
        ws_url: str,
        extra_headers: Sequence[tuple[str, str]],
        timeout: float | None,
        retry: RetryPolicy,
        reconnect_attempts: int = 8,
        on_request: observe.OnRequest | None = None,
        on_response: observe.OnResponse | None = None,
        trace_configs: Sequence[Any] = (),
    ) -> None:
        self.api_key = api_key
        self.http_url = http_url.rstrip("/")
        self.ws_url = ws_url
        self.extra_headers = list(extra_headers)
        self.timeout = timeout
        self.retry = retry
        self.reconnect_attempts = reconnect_attempts
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()  # the process that owns _loop, _session and _socket
        self._session: aiohttp.ClientSession | None = None
        self._socket: _Socket | None = None
        self._connecting: asyncio.Future[_Socket] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._keepalive: set[tuple[str, str]] = set()
        self._listeners: dict[int, EventListener] = {}
        self._next_listener = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch: AsyncGenerator[None, None] | None = None
        # Observability: per-exchange hooks, and aiohttp TraceConfigs for every session.
        for name, hook in (("on_request", on_request), ("on_response", on_response)):
            if hook is not None and not callable(hook):
                raise core.ConfigurationError(f"{name}= takes a function of one argument, got {hook!r}")
        self.on_request = on_request
        self.on_response = on_response
        self.trace_configs = list(trace_configs)

    def __repr__(self) -> str:
        key = "'***'" if self.api_key is not None else "None"
        return f"Engine(http_url={self.http_url!r}, api_key={key}, closed={self.closed})"

    def _redact(self, error: core.ApiError) -> None:
        """Replace the key wherever the server (or a proxy) echoed it into the error."""
        if self.api_key is None:
            return
        secrets = (self.api_key,)
        if isinstance(error, DecthingsApiError):
            error.rewrite(lambda text: redact(text, secrets))
        error.message = redact(error.message, secrets)
        error.args = (error._render(),)

    def _request_headers(self) -> list[tuple[str, str]]:
        headers = [("Content-Type", "application/octet-stream")]
        if self.api_key is not None:
            headers.append(("Authorization", _Redacted(f"Bearer {self.api_key.reveal()}")))
        headers.extend(self.extra_headers)
        return headers

    # -- events --------------------------------------------------------------------------------

    def on_event(self, callback: EventListener) -> Callable[[], None]:
        listener_id = self._next_listener
        self._next_listener += 1
        self._listeners[listener_id] = callback

        def dispose() -> None:
            self._listeners.pop(listener_id, None)

        return dispose

    def _emit(self, event: DecthingsEvent) -> None:
        for callback in list(self._listeners.values()):
            try:
                outcome = callback(event)
                if inspect.isawaitable(outcome):
                    self._spawn(_guarded(outcome))
            except Exception:
                log.exception("a Decthings event listener raised; the event stream continues")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def subscriptions(self) -> frozenset[tuple[str, str]]:
        return frozenset(self._keepalive)

    # -- the session (per event loop) ----------------------------------------------------------

    def _bind_loop(self) -> aiohttp.ClientSession:
        if self.closed:
            raise ClientClosedError("DecthingsClient was closed; create a new client")
        loop = asyncio.get_running_loop()
        if self._pid != os.getpid() or self._loop is not loop:
            # A forked child, or a new event loop (e.g. another asyncio.run): the connections
            # belong to the parent or to the old loop; let go of them and start afresh.
            self._forget_connections()
        if self._session is None or self._session.closed:
            self._loop = loop
            connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            traces = [*observe.default_trace_configs(), *self.trace_configs]
            self._session = aiohttp.ClientSession(connector=connector, trace_configs=traces or None)
        return self._session

    # -- calls ---------------------------------------------------------------------------------

    async def call(self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None) -> Any:
        if self.api_key is None and not self.closed and spec.transport != WS_IF_AVAILABLE:
            # Every Decthings method that reaches the server needs a key (all list bad_credentials);
            # WS_IF_AVAILABLE ones only travel on a socket that a keyed call opened.
            raise core.ConfigurationError(
                f"{spec.where}: no Decthings API key was given: pass api_key= to the client, or set "
                "the DECTHINGS_API_KEY environment variable"
            )
        # One deadline for the whole call: retries, and every request of a split add_entries.
        deadline = Deadline(timeout if timeout is not None else self.timeout)
        session = self._bind_loop()
        if self._watch is None:
            self._watch = self._watch_loop(session)
            await self._watch.asend(None)
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise _codecs.DecthingsUsageError(
                f"{spec.where}: params must be a dict (as in the Decthings docs), got {type(params).__name__}"
            )
        if (spec.api, spec.method) in _ADD_ENTRIES:
            return await self._add_entries(session, spec, params, deadline)
        return await self._call_once(session, spec, params, deadline)

    async def _add_entries(
        self,
        session: aiohttp.ClientSession,
        spec: MethodSpec,
        params: Mapping[str, Any],
        deadline: Deadline,
    ) -> Any:
        """More entries than one call's 255 blobs carry: consecutive calls chained by version id.

        When a split call fails, the error carries a WriteSummary (`err.summary`) keyed by the
        entry's index in the caller's list, and entry numbers the server gave relative to the
        failing request are renumbered to that index."""
        batches = _codecs.entry_batches(spec.where, params)
        total = sum(len(b["keys"][0]["data"]) for b in batches)
        result: Any = None
        done = 0
        for i, batch in enumerate(batches):
            size = len(batch["keys"][0]["data"])
            if (
                i
                and isinstance(result, dict)
                and "newDatasetVersionId" in result
                and "datasetVersionId" in params
            ):
                batch["datasetVersionId"] = result["newDatasetVersionId"]
            try:
                result = await self._call_once(session, spec, batch, deadline)
            except core.ModelwireError as exc:
                if len(batches) == 1:
                    raise
                if isinstance(exc, core.ApiError):
                    _renumber_entries(exc, done, size, total)
                summary = WriteSummary(uploaded=[str(k) for k in range(done)])
                maybe = _landed_maybe(exc)
                if maybe and isinstance(exc, core.ApiError):
                    exc.mark_outcome_unknown()
                reason = failure_reason(exc)
                summary.mark((str(k) for k in range(done, done + size)), reason, landed_maybe=maybe)
                summary.mark((str(k) for k in range(done + size, total)), NOT_SENT, landed_maybe=False)
                attach_summary(exc, summary)
                raise
            done += size
        return result

    async def _call_once(
        self,
        session: aiohttp.ClientSession,
        spec: MethodSpec,
        params: Mapping[str, Any],
        deadline: Deadline,
    ) -> Any:
        body, blobs = _codecs.encoder_for(spec.api, spec.method)(spec.where, params)
        json_bytes = dump_json(body)
        attempt = 0
        obs = None  # built only when logged, traced or hooked
        if (
            observe.tracer is not None
            or observe.calls_enabled(observe.DEBUG)
            or self.on_request is not None
            or self.on_response is not None
        ):
            obs = observe.start(spec.where, self._secrets(), system="decthings", always=True)
        try:
            while True:
                attempt += 1
                via = self._observe_request(spec, attempt, json_bytes, blobs) if obs is not None else ""
                try:
                    try:
                        with obs.attempt() if obs is not None else _NOTHING:
                            payload, reply_blobs = await self._exchange(
                                session, spec, json_bytes, blobs, deadline
                            )
                        if spec.transport == WS_IF_AVAILABLE and payload is None:
                            return {}
                        if not isinstance(payload, dict):
                            raise _unavailable(f"unexpected response payload {payload!r:.80}", spec.where)
                        if "error" in payload:
                            # Popped: the error object may echo the key, and this frame's locals show
                            # in tracebacks that capture them; the raised copy is redacted below.
                            raise api_error(payload.pop("error"), api=spec.api, method_name=spec.method)
                        result = payload.get("result")
                        result = _codecs.decoder_for(spec.api, spec.method)(spec.where, result, reply_blobs)
                        self._after_success(spec, params)
                        if obs is not None:
                            self._observe_response(obs, spec, attempt, via, None)
                            obs.finish(attempts=attempt)
                        return result if result is not None else {}
                    finally:
                        if self._socket is not None:
                            self._release_soon()
                except core.ApiError as error:
                    self._redact(error)
                    error.attempts = attempt
                    if obs is not None:
                        self._observe_response(obs, spec, attempt, via, error)
                    safe = spec.idempotent or error.never_sent or _not_processed(error)
                    wait = self.retry.delay(
                        error, attempt=attempt, idempotent=safe, remaining=deadline.remaining()
                    )
                    if wait is None:
                        raise
                    observe.log_retry(spec.where, attempt, error, wait)
                    await asyncio.sleep(wait)
        except BaseException as exc:
            if obs is not None:
                obs.finish(exc, attempts=attempt)
            raise

    # -- observability -------------------------------------------------------------------------

    def _secrets(self) -> tuple[Secret, ...]:
        return (self.api_key,) if self.api_key is not None else ()

    def _observe_request(
        self, spec: MethodSpec, attempt: int, json_bytes: bytes, blobs: Sequence[bytes]
    ) -> str:
        """Call `on_request` before an exchange; returns how it will travel ("http" or "ws")."""
        via = "ws" if self._socket is not None or spec.transport == WS else "http"
        if self.on_request is not None:
            info = observe.WireRequest(
                method=spec.where,
                attempt=attempt,
                transport=via,
                body_bytes=len(json_bytes),
                blob_count=len(blobs),
                blob_bytes=sum(len(b) for b in blobs),
            )
            observe.call_hook(self.on_request, info)
        return via

    def _observe_response(
        self, obs: observe.Call, spec: MethodSpec, attempt: int, via: str, error: core.ApiError | None
    ) -> None:
        """Log the exchange and call `on_response` (whatever its outcome)."""
        http_status: int | None = None
        if via == "http":
            if isinstance(error, DecthingsHttpError):
                http_status = error.status
            elif error is None or isinstance(error, DecthingsApiError):
                http_status = 200  # any other status raises DecthingsHttpError
        duration = obs.attempt_ended(attempt, error, http_status=http_status, via=via)
        if self.on_response is not None:
            info = observe.WireResponse(
                method=spec.where,
                attempt=attempt,
                transport=via,
                status=observe.status_of(error),
                http_status=http_status,
                duration=duration,
                error=error,
            )
            observe.call_hook(self.on_response, info)

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        spec: MethodSpec,
        json_bytes: bytes,
        blobs: Sequence[bytes],
        deadline: Deadline,
    ) -> tuple[Any, list[bytes]]:
        remaining = deadline.remaining()
        if remaining is not None and remaining <= 0:
            raise _not_sent(
                core.DeadlineExceededError(
                    f"{spec.where}: the call ran out of time",
                    code=grpc.StatusCode.DEADLINE_EXCEEDED,
                    method=spec.where,
                )
            )
        # Opening the WebSocket counts against the deadline too.
        exchange = self._send(session, spec, json_bytes, blobs)
        if remaining is None:
            return await exchange
        try:
            if _timeout is not None:  # Python >= 3.11: no extra task per call
                async with _timeout(remaining):
                    return await exchange
            return await asyncio.wait_for(exchange, remaining)
        except asyncio.TimeoutError:
            raise core.DeadlineExceededError(
                f"{spec.where}: no answer within the timeout",
                code=grpc.StatusCode.DEADLINE_EXCEEDED,
                method=spec.where,
            ) from None

    async def _send(
        self, session: aiohttp.ClientSession, spec: MethodSpec, json_bytes: bytes, blobs: Sequence[bytes]
    ) -> tuple[Any, list[bytes]]:
        socket = self._socket
        if spec.transport == WS and socket is None:
            socket = await self._open_socket(session)
        if spec.transport == WS_IF_AVAILABLE and socket is None:
            return None, []
        if socket is not None:
            return await socket.request(spec, json_bytes, blobs)
        return await self._post(session, spec, json_bytes, blobs)

    async def _post(
        self, session: aiohttp.ClientSession, spec: MethodSpec, json_bytes: bytes, blobs: Sequence[bytes]
    ) -> tuple[Any, list[bytes]]:
        url = f"{self.http_url}/{spec.api}/{spec.method}"
        try:
            async with session.post(
                url, data=encode_http_request(json_bytes, blobs), headers=self._request_headers()
            ) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    error = http_error(
                        resp.status,
                        raw.decode(errors="replace"),
                        method=spec.where,
                        retry_after=resp.headers.get("Retry-After"),
                        base_url=self.http_url,
                    )
                    del raw  # the body may echo the key (see _call_once); the error is redacted
                    raise error
        except aiohttp.ClientConnectorError as exc:
            raise _not_sent(
                _unavailable(
                    f"cannot connect to {self.http_url} ({exc.os_error or exc}); check the address",
                    spec.where,
                )
            ) from None
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            # `from None`: aiohttp's frames (kept alive by a chained exception) hold the request.
            raise _unavailable(
                f"the connection broke during the call ({type(exc).__name__}: {exc})", spec.where
            ) from None
        try:
            return decode_http_response(raw)
        except ProtocolError as exc:
            raise core.DataLossError(str(exc), code=grpc.StatusCode.DATA_LOSS, method=spec.where) from None

    def _after_success(self, spec: MethodSpec, params: Mapping[str, Any]) -> None:
        if spec.transport == HTTP:
            return
        key = SESSION_KEYS.get(spec.api)
        if key is None or key not in params:
            return
        entry = (spec.api, str(params[key]))
        if spec.transport == WS:
            self._keepalive.add(entry)
        else:
            self._keepalive.discard(entry)
            self._release_soon()

    # -- the WebSocket -------------------------------------------------------------------------

    async def _open_socket(self, session: aiohttp.ClientSession) -> _Socket:
        if self._socket is not None:
            return self._socket
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_future()
            connecting = self._connecting
            try:
                ws = await session.ws_connect(self.ws_url, headers=self.extra_headers, max_msg_size=0)
            except (aiohttp.ClientError, OSError) as exc:
                error = _not_sent(
                    _unavailable(f"cannot open the Decthings WebSocket {self.ws_url} ({exc})", "ws")
                )
                connecting.set_exception(error)
                connecting.exception()  # consumed here; waiters re-raise it
                self._connecting = None
                raise error from None
            self._socket = _Socket(self, ws)
            connecting.set_result(self._socket)
            self._connecting = None
            return self._socket
        return await asyncio.shield(self._connecting)

    def _release_soon(self) -> None:
        """Close the socket once nothing needs it (no subscriptions, no calls in flight)."""
        socket = self._socket
        if socket is None or self._keepalive or socket.pending:
            return
        self._socket = None
        self._spawn(socket.close())

    def _socket_lost(self, socket: _Socket) -> None:
        if self._socket is not socket:
            return  # closed on purpose
        self._socket = None
        if self._keepalive and not self.closed and self._reconnecting is None:
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Reopen the socket and resubscribe everything that was subscribed."""
        try:
            delay = 0.05
            for _ in range(self.reconnect_attempts):
                if self.closed or not self._keepalive:
                    return
                try:
                    session = self._bind_loop()
                    socket = await self._open_socket(session)
                except (core.ApiError, ClientClosedError):
                    await asyncio.sleep(random.uniform(0, delay))
                    delay = min(delay * 2, 2.0)
                    continue
                lost = []
                for api, session_id in sorted(self._keepalive):
                    spec = MethodSpec(api, "subscribeToEvents", WS)
                    body = dump_json({SESSION_KEYS[api]: session_id})
                    try:
                        payload, _ = await socket.request(spec, body, [])
                    except core.ApiError:
                        break  # the new socket dropped too: try again
                    if not isinstance(payload, dict) or "error" in payload:
                        self._keepalive.discard((api, session_id))
                        lost.append((api, session_id))
                else:
                    if lost:
                        self._emit(DecthingsEvent("Client", "subscriptionsRemoved", {"subscriptions": lost}))
                    self._emit(
                        DecthingsEvent("Client", "reconnected", {"subscriptions": sorted(self._keepalive)})
                    )
                    self._release_soon()
                    return
            lost = sorted(self._keepalive)
            self._keepalive.clear()
            self._emit(DecthingsEvent("Client", "subscriptionsRemoved", {"subscriptions": lost}))
        finally:
            self._reconnecting = None

    # -- lifetime ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        self.closed = True
        if self._pid != os.getpid() or self._loop is not asyncio.get_running_loop():
            # Another loop (or the parent's) owns the connections: they cannot be awaited here.
            self.abandon()
            return
        await self._close_connections()

    async def _close_connections(self) -> None:
        """Close the socket and the session gracefully (the client stays usable)."""
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        socket, self._socket = self._socket, None
        session, self._session = self._session, None
        self._end_watch()
        if socket is not None:
            await socket.close()
        for task in list(self._tasks):
            task.cancel()
        if session is not None and not session.closed:
            await session.close()

    async def _watch_loop(self, session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
        """Started once per session on its loop. The loop finalizes async generators when it shuts
        down (asyncio.run does, before closing the loop), which closes a session nobody closed
        while its loop can still do it cleanly."""
        try:
            yield
        finally:
            if self._session is session and not session.closed:
                await self._close_connections()

    def _end_watch(self) -> None:
        """Finish the loop watcher now, synchronously (its cleanup does nothing once the session
        is no longer current), so it is never left for a closed loop to finalize."""
        watch, self._watch = self._watch, None
        if watch is not None:
            # RuntimeError: it is the one running (the loop is finalizing it right now).
            with contextlib.suppress(StopIteration, StopAsyncIteration, RuntimeError):
                watch.aclose().send(None)

    def abandon(self) -> None:
        """Close without awaiting, from any thread: for a client dropped unclosed, closed outside
        its event loop, or at interpreter exit. Never warns, never blocks."""
        self.closed = True
        loop = self._loop
        if (
            loop is not None
            and self._pid == os.getpid()
            and loop.is_running()
            and _running_loop() is not loop
        ):
            # The loop runs on another thread: its objects may only be touched there.
            with contextlib.suppress(RuntimeError):  # it closed meanwhile
                loop.call_soon_threadsafe(self._forget_connections)
                return
        self._forget_connections()

    def _forget_connections(self) -> None:
        """Let go of the session, socket and tasks now, synchronously and without warnings."""
        loop, session, socket = self._loop, self._session, self._socket
        self._loop = self._session = self._socket = None
        self._connecting = None
        self._end_watch()
        tasks = [*self._tasks, *([self._reconnecting] if self._reconnecting is not None else [])]
        if socket is not None:
            tasks.append(socket.reader)
        self._reconnecting = None
        self._tasks = set()
        forked = self._pid != os.getpid()
        self._pid = os.getpid()
        if forked:
            # The parent's subscriptions live on the parent's socket.
            self._keepalive.clear()
            _FORK_ORPHANS.append((loop, session, socket, tasks))
            if session is not None:
                connector = session.connector
                session.detach()
                if connector is not None:
                    connector._closed = True  # so it never closes the parent's sockets when collected
            return
        if loop is None or session is None:
            return
        usable = not loop.is_closed()
        if usable:
            for task in tasks:
                task.cancel()
        if not session.closed:
            connector = session.connector
            session.detach()  # the session now counts as closed: no "Unclosed client session"
            if connector is not None:
                # The synchronous part of connector.close(): closes the transports now (their
                # close completes on the loop) without a task or an un-awaited waiter. On a
                # closed loop it only marks the connector closed ("Unclosed connector" otherwise).
                connector._close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _landed_maybe(error: core.ModelwireError) -> bool:
    """Whether a failed write may still have been applied: the request left, no verdict came back."""
    if not isinstance(error, core.ApiError):
        return False  # refused on the client side, before sending
    if error.never_sent or _not_processed(error):
        return False
    if isinstance(error, DecthingsApiError):
        return False  # the service answered with an error: it did not apply the request
    if isinstance(error, DecthingsHttpError):
        return error.status >= 500  # a proxy's 502/504 may hide a backend that acted
    return True  # a broken connection, a timeout after sending, a garbled answer


# How a server message may number an entry of the request: "entry 3", "index 3", "data[3]".
_ENTRY_NUMBER = re.compile(r"\b(entry |index |data\[)(\d+)", re.IGNORECASE)


def _renumber_entries(error: core.ApiError, offset: int, size: int, total: int) -> None:
    """Make the entry numbers of a failed split add_entries refer to the caller's list."""
    if offset and isinstance(error, DecthingsApiError):
        error.rewrite(lambda text: _ENTRY_NUMBER.sub(lambda m: f"{m[1]}{int(m[2]) + offset}", text))
    where = f"entries {offset}-{offset + size - 1} of the {total} given were in the failed request"
    if offset:
        where += f"; {offset} entries were added by earlier calls before this one failed"
    error.message += f" ({where})"
    error.args = (error._render(),)


def _not_processed(error: core.ApiError) -> bool:
    """The server said it did not act on the request, so repeating it cannot do anything twice."""
    if isinstance(error, DecthingsHttpError):
        return error.status in (429, 503)
    code = getattr(error, "error_code", None)
    return code in ("too_many_requests", "server_overloaded")


async def _guarded(awaitable: Awaitable[None]) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("an async Decthings event listener raised; the event stream continues")
