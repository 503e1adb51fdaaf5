"""The raising clients, DecthingsClient (async) and DecthingsClientSync: one implementation.

    from modelwire.decthings import DecthingsClient, DecthingsTensor

    client = DecthingsClient(api_key="...")
    models = await client.model.get_models({})

They are public at `modelwire.decthings`; `modelwire.decthings.client` and `.client_sync` hold
decthings-api 0.0.4's tuple-returning shape, built from the same pieces (`_AsyncClient`,
`_SyncClient`, the invokers) with another invoker in front.

Both clients take the published client's arguments (`api_key`, `http_server_address`,
`ws_server_address`, `extra_headers`) plus `timeout` (seconds for each call, retries included)
and `retry`. Unset arguments come from `DECTHINGS_API_KEY`, `DECTHINGS_HTTP_URL` and
`DECTHINGS_WS_URL` (what `Emulator.client_env()` sets), then from the real service's addresses.

Every namespace method takes the params dict of the Decthings docs (by position or as `params=`)
and returns its result; API errors raise typed exceptions (see `modelwire.decthings.errors`). The
namespace classes are generated from `protos/decthings` for both clients; all behaviour lives in
`_engine.Engine`, which the sync client runs on a private event-loop thread.

Lifetime: the namespaces share one invoker with the client, and the connections are released when
the last of them is gone (or at interpreter exit), so `DecthingsClientSync(...).model.get_models({})`
works and a client that is never closed leaves no warnings behind; `close()`/`aclose()` still
release them at once. The sync client is fork-safe: in a child process it builds its own I/O
thread and connections on first use and never touches the parent's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit, urlunsplit

import grpc

from modelwire._core import errors as core
from modelwire._core.config import Secret, check_timeout, env, first_set
from modelwire._core.observe import OnRequest, OnResponse
from modelwire._core.pickling import carried
from modelwire._core.retry import DEFAULT_RETRY, RetryPolicy
from modelwire._gen.decthings.v0.namespaces_api import AsyncNamespaces, SyncNamespaces
from modelwire.decthings._codecs import DecthingsUsageError
from modelwire.decthings._engine import ClientClosedError, DecthingsEvent, Engine, EventListener, MethodSpec
from modelwire.decthings._namespaces import keyword_namespaces

__all__ = ["DEFAULT_HTTP_URL", "DEFAULT_WS_URL", "DecthingsClient", "DecthingsClientSync"]

DEFAULT_HTTP_URL = "https://api.decthings.com/v0"
DEFAULT_WS_URL = "wss://api.decthings.com/v0/ws"
T = TypeVar("T")
_A = TypeVar("_A", bound="_AsyncClient")
_S = TypeVar("_S", bound="_SyncClient")

# How long a sync call waits beyond its timeout for the engine's own DeadlineExceededError before
# giving up on the I/O thread; and how often it checks that the thread is still alive meanwhile.
_GRACE = 1.0
_POLL = 0.5
# How long closing at interpreter exit (or on drop) may take before connections are just dropped.
_CLOSE_WAIT = 2.0


def ws_url_for(http_url: str) -> str:
    """The WebSocket address beside an HTTP base: http://h:p/v0 -> ws://h:p/v0/ws."""
    parts = urlsplit(http_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


def _secret(api_key: str | None) -> Secret | None:
    key = first_set(api_key, env("DECTHINGS_API_KEY"))
    return Secret(key) if key else None


def _resolve(http_server_address: str | None, ws_server_address: str | None) -> tuple[str, str]:
    if http_server_address is not None:
        http_url = http_server_address
        ws_url = ws_server_address or ws_url_for(http_url)
    else:
        http_url = env("DECTHINGS_HTTP_URL") or DEFAULT_HTTP_URL
        ws_url = first_set(ws_server_address, env("DECTHINGS_WS_URL")) or (
            DEFAULT_WS_URL if http_url == DEFAULT_HTTP_URL else ws_url_for(http_url)
        )
    for name, url, schemes in (("http", http_url, ("http", "https")), ("ws", ws_url, ("ws", "wss"))):
        if not isinstance(url, str) or urlsplit(url).scheme not in schemes or not urlsplit(url).netloc:
            raise core.ConfigurationError(
                f"{name}_server_address must be a {' or '.join(schemes)} URL, got {url!r}"
            )
    return http_url.rstrip("/"), ws_url


class _Namespaces:
    """The shared constructor arguments and repr of both clients."""

    def __init__(
        self,
        api_key: str | None = None,
        http_server_address: str | None = None,
        ws_server_address: str | None = None,
        extra_headers: Sequence[tuple[str, str]] | None = None,
        *,
        timeout: float | None = 120.0,
        retry: RetryPolicy | None = None,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
        trace_configs: Sequence[Any] = (),
    ) -> None:
        """A Decthings client; nothing is sent until the first call.

        Args:
            api_key: The API key (`DECTHINGS_API_KEY`); a call without one raises `ConfigurationError`.
            http_server_address: The HTTP base URL (`DECTHINGS_HTTP_URL`; default the real service's).
            ws_server_address: The WebSocket URL (`DECTHINGS_WS_URL`; default derived from the HTTP one).
            extra_headers: `(name, value)` pairs sent with every request.
            timeout: Seconds per call, retries included (None: no deadline); overridable per call.
            retry: The retry policy (`RetryPolicy()` by default; `NO_RETRY` disables retries).
            on_request: Called with a `WireRequest` before each exchange (every attempt, HTTP or
                WebSocket): method, attempt, transport, body and blob sizes; never the key or params.
            on_response: Called with a `WireResponse` after each exchange: method, attempt,
                transport, status, HTTP status, duration, error (see docs/observability.md).
            trace_configs: aiohttp `TraceConfig`s for the client's sessions (e.g.
                `modelwire.otel.trace_configs()`).

        Raises:
            ConfigurationError: An address is not an http(s) / ws(s) URL.
        """
        key = _secret(api_key)
        # The raw key leaves this frame's locals at once: a traceback that captures locals (say, of
        # a bad address below) must not show it.
        api_key = None
        http_url, ws_url = _resolve(http_server_address, ws_server_address)
        engine = Engine(
            api_key=key,
            http_url=http_url,
            ws_url=ws_url,
            extra_headers=list(extra_headers or ()),
            timeout=timeout,
            retry=retry or DEFAULT_RETRY,
            on_request=on_request,
            on_response=on_response,
            trace_configs=trace_configs,
        )
        self._engine = engine
        self._invoker = self._make_invoker(engine)
        calls = self._namespace_invoker(self._invoker)
        namespaces: dict[str, type] = getattr(self, "NAMESPACES", {})
        for name, cls in namespaces.items():
            setattr(self, name, cls(calls))

    def _make_invoker(self, engine: Engine) -> Any:
        raise NotImplementedError

    def _namespace_invoker(self, invoker: Any) -> Any:
        """What the namespaces call: the invoker itself (the published shape puts one in front)."""
        return invoker

    @property
    def http_server_address(self) -> str:
        """The HTTP base URL calls go to, e.g. `https://api.decthings.com/v0`."""
        return self._engine.http_url

    @property
    def ws_server_address(self) -> str:
        """The WebSocket URL events (and, while it is open, calls) go over."""
        return self._engine.ws_url

    @property
    def closed(self) -> bool:
        """Whether the client was closed (`close()` / `aclose()`); calls then raise `ClientClosedError`."""
        return self._engine.closed

    @property
    def subscriptions(self) -> frozenset[tuple[str, str]]:
        """(api, session id) pairs whose events this client receives."""
        return self._engine.subscriptions

    def on_event(
        self, cb: EventListener | None = None, *, callback: EventListener | None = None
    ) -> Callable[[], None]:
        """Call `cb(event)` for every event; returns a function that removes it.

        Async clients may pass a coroutine function. A listener that raises is logged and the
        stream goes on. For DecthingsClientSync, listeners run on the client's I/O thread.
        (`cb` is decthings-api 0.0.4's name; `callback=`, this method's earlier name, still works.)
        """
        if (cb is None) == (callback is None):
            raise DecthingsUsageError("on_event takes one listener: on_event(cb)")
        listener = cb if cb is not None else callback
        assert listener is not None
        return self._engine.on_event(listener)

    def __repr__(self) -> str:
        engine = getattr(self, "_engine", None)  # None while __init__ fails (a traceback shows it)
        if engine is None:
            return f"<{type(self).__name__} (not constructed)>"
        key = "'***'" if engine.api_key is not None else "None"
        return f"{type(self).__name__}(http_server_address={engine.http_url!r}, api_key={key})"

    def __getstate__(self) -> dict[str, Any]:
        """The constructor's configuration for pickling (the key as the client holds it, the
        `on_request` / `on_response` hooks and `trace_configs`), never connections, threads,
        subscriptions or event listeners: the unpickled copy connects anew.

        Raises:
            UsageError: The hooks or trace configs do not pickle.
        """
        engine = self._engine
        hooks = {
            name: carried(getattr(engine, name), client=type(self).__name__, what=f"{name}=")
            for name in ("on_request", "on_response", "trace_configs")
        }
        return {
            **hooks,
            "api_key": engine.api_key,
            "http_url": engine.http_url,
            "ws_url": engine.ws_url,
            "extra_headers": list(engine.extra_headers),
            "timeout": engine.timeout,
            "retry": engine.retry,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        _Namespaces.__init__(
            self,
            None,
            state["http_url"],
            state["ws_url"],
            state["extra_headers"],
            timeout=state["timeout"],
            retry=state["retry"],
            on_request=state.get("on_request"),
            on_response=state.get("on_response"),
            trace_configs=state.get("trace_configs") or (),
        )
        self._engine.api_key = state["api_key"]  # as pickled, even None: not the environment's


class _AsyncInvoker:
    """What the async namespaces call. It, not the client, owns the connections' lifetime: they
    are released when the client and every namespace taken from it are gone."""

    __slots__ = ("__weakref__", "_engine", "_finalizer")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Runs when this invoker is collected, or at interpreter exit: a client nobody closed.
        self._finalizer = weakref.finalize(self, engine.abandon)

    async def call(self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None) -> Any:
        return await self._engine.call(spec, params, timeout)

    def __repr__(self) -> str:
        return f"<DecthingsClient invoker for {self._engine!r}>"


class _AsyncClient(_Namespaces):
    """The async client's lifetime, for both shapes."""

    def _make_invoker(self, engine: Engine) -> _AsyncInvoker:
        return _AsyncInvoker(engine)

    async def aclose(self) -> None:
        """Close the WebSocket and the HTTP connections; later calls raise ClientClosedError."""
        await self._engine.aclose()

    def close(self) -> None:
        """Like the published client's close(): schedules a graceful close on the running loop,
        else lets go of the connections at once."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._engine.abandon()
            return
        self._closing = loop.create_task(self._engine.aclose())

    async def __aenter__(self: _A) -> _A:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _LoopThread:
    """A private event loop on a daemon thread: the sync client's I/O runs there."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="decthings-io", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            self.loop.run_forever()
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait for it: at most `timeout` (plus a grace period for the
        coroutine's own deadline error), and never on a loop that is gone."""
        if threading.current_thread() is self.thread:
            coro.close()
            raise core.UsageError(
                "a DecthingsClientSync call cannot be made from its own event listener (it runs on "
                "the client's I/O thread); hand the work to another thread"
            )
        if not self.alive:
            coro.close()
            raise ClientClosedError(
                "the DecthingsClientSync I/O thread is not running (the client was closed); "
                "create a new client"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        limit = None if timeout is None else time.monotonic() + timeout + _GRACE
        try:
            while not future.done():
                wait = _POLL if limit is None else min(_POLL, max(limit - time.monotonic(), 0.0))
                concurrent.futures.wait([future], timeout=wait)
                if future.done():
                    break
                if not self.thread.is_alive():
                    raise ClientClosedError(
                        "the DecthingsClientSync I/O thread stopped during the call; create a new client"
                    )
                if limit is not None and time.monotonic() >= limit:
                    raise core.DeadlineExceededError(
                        f"no answer within the timeout ({timeout:g}s): the client's I/O thread did not "
                        "finish the call",
                        code=grpc.StatusCode.DEADLINE_EXCEEDED,
                    )
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def stop(self) -> None:
        """Stop the loop and wait for the thread (it closes the loop on its way out)."""
        if self.pid != os.getpid():
            return  # the parent's thread: it does not exist in this process
        if self.thread.is_alive():
            try:
                self.loop.call_soon_threadsafe(self.loop.stop)
            except RuntimeError:  # closed meanwhile
                return
            if threading.current_thread() is not self.thread:
                self.thread.join(5)


class _IoBox:
    """The sync client's current I/O thread, rebuilt in a forked child (where the parent's thread
    does not exist) on first use."""

    def __init__(self) -> None:
        self.io = _LoopThread()

    def get(self) -> _LoopThread:
        io = self.io
        if io.pid == os.getpid():
            return io
        with _fork_lock:
            if self.io.pid != os.getpid():
                self.io = _LoopThread()
            return self.io


_fork_lock = threading.Lock()


def _reset_fork_lock() -> None:
    global _fork_lock
    # A lock some parent thread held at fork time would stay locked forever in the child.
    _fork_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_reset_fork_lock)


def _shut_down(engine: Engine, box: _IoBox) -> None:
    """Close the engine on its I/O thread and stop the thread: bounded, never raises."""
    io = box.io
    if not io.alive:
        engine.abandon()  # a forked child's copy of the parent's runtime, or a dead thread
        return
    if threading.current_thread() is io.thread:
        # Collected on the I/O thread itself (say, in a listener): it cannot wait for itself.
        engine.abandon()
        io.loop.call_soon(io.loop.stop)
        return
    if not engine.closed:
        closing = asyncio.run_coroutine_threadsafe(engine.aclose(), io.loop)
        try:
            closing.result(_CLOSE_WAIT)
        except Exception:  # slow or broken: let go of the connections without waiting
            closing.cancel()
            engine.abandon()
    io.stop()


class _SyncInvoker:
    """What the sync namespaces call; owns the engine's I/O thread (see _AsyncInvoker)."""

    __slots__ = ("__weakref__", "_box", "_engine", "_finalizer")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._box = _IoBox()
        self._finalizer = weakref.finalize(self, _shut_down, engine, self._box)

    def call(self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None) -> Any:
        engine = self._engine
        if engine.closed:
            raise ClientClosedError("DecthingsClientSync was closed; create a new client")
        # Checked here too: the wait below must not trip over a bad timeout before the engine does.
        limit = check_timeout(timeout if timeout is not None else engine.timeout)
        return self._box.get().run(engine.call(spec, params, timeout), limit)

    def close(self) -> None:
        self._finalizer()  # runs at most once
        self._engine.closed = True

    def __repr__(self) -> str:
        return f"<DecthingsClientSync invoker for {self._engine!r}>"


class _SyncClient(_Namespaces):
    """The blocking client's lifetime, for both shapes."""

    _invoker: _SyncInvoker

    def _make_invoker(self, engine: Engine) -> _SyncInvoker:
        return _SyncInvoker(engine)

    def close(self) -> None:
        """Close the WebSocket, the HTTP connections and the I/O thread (idempotent)."""
        self._invoker.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DecthingsClient(_AsyncClient, AsyncNamespaces):
    """The async Decthings client: `await client.model.get_models({})` returns the result; API
    errors raise."""

    NAMESPACES: ClassVar[dict[str, type]] = keyword_namespaces(AsyncNamespaces.NAMESPACES)


class DecthingsClientSync(_SyncClient, SyncNamespaces):
    """The blocking Decthings client, with the same namespaces and methods as DecthingsClient."""

    NAMESPACES: ClassVar[dict[str, type]] = keyword_namespaces(SyncNamespaces.NAMESPACES)


__all__ += ["ClientClosedError", "DecthingsEvent"]
