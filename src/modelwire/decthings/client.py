"""DecthingsClient (async) and DecthingsClientSync: one implementation, two surfaces.

    from modelwire.decthings import DecthingsClient, DecthingsTensor

    client = DecthingsClient(api_key="...")
    models = await client.model.get_models({})

Both clients take the published client's arguments (`api_key`, `http_server_address`,
`ws_server_address`, `extra_headers`) plus `timeout` (seconds for each call, retries included)
and `retry`. Unset arguments come from `DECTHINGS_API_KEY`, `DECTHINGS_HTTP_URL` and
`DECTHINGS_WS_URL` (what `Emulator.client_env()` sets), then from the real service's addresses.

Every namespace method takes the params dict of the Decthings docs and returns its result; API
errors raise typed exceptions (see `modelwire.decthings.errors`). The namespace classes are
generated from `protos/decthings` for both clients; all behaviour lives in `_engine.Engine`, which
the sync client runs on a private event-loop thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from modelwire._core.config import Secret, env, first_set
from modelwire._core.retry import DEFAULT_RETRY, RetryPolicy
from modelwire._gen.decthings.v0.namespaces_api import AsyncNamespaces, SyncNamespaces
from modelwire.decthings._engine import ClientClosedError, DecthingsEvent, Engine, EventListener, MethodSpec

__all__ = ["DEFAULT_HTTP_URL", "DEFAULT_WS_URL", "DecthingsClient", "DecthingsClientSync"]

DEFAULT_HTTP_URL = "https://api.decthings.com/v0"
DEFAULT_WS_URL = "wss://api.decthings.com/v0/ws"
T = TypeVar("T")


def ws_url_for(http_url: str) -> str:
    """The WebSocket address beside an HTTP base: http://h:p/v0 -> ws://h:p/v0/ws."""
    parts = urlsplit(http_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


def _resolve(
    api_key: str | None, http_server_address: str | None, ws_server_address: str | None
) -> tuple[Secret | None, str, str]:
    key = first_set(api_key, env("DECTHINGS_API_KEY"))
    if http_server_address is not None:
        http_url = http_server_address
        ws_url = ws_server_address or ws_url_for(http_url)
    else:
        http_url = env("DECTHINGS_HTTP_URL") or DEFAULT_HTTP_URL
        ws_url = first_set(ws_server_address, env("DECTHINGS_WS_URL")) or (
            DEFAULT_WS_URL if http_url == DEFAULT_HTTP_URL else ws_url_for(http_url)
        )
    for name, url, schemes in (("http", http_url, ("http", "https")), ("ws", ws_url, ("ws", "wss"))):
        if urlsplit(url).scheme not in schemes or not urlsplit(url).netloc:
            raise ValueError(f"{name}_server_address must be a {' or '.join(schemes)} URL, got {url!r}")
    return (Secret(key) if key else None), http_url.rstrip("/"), ws_url


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
    ) -> None:
        key, http_url, ws_url = _resolve(api_key, http_server_address, ws_server_address)
        self._engine = Engine(
            api_key=key,
            http_url=http_url,
            ws_url=ws_url,
            extra_headers=list(extra_headers or ()),
            timeout=timeout,
            retry=retry or DEFAULT_RETRY,
        )
        invoker = self._invoker()
        namespaces: dict[str, type] = getattr(self, "NAMESPACES", {})
        for name, cls in namespaces.items():
            setattr(self, name, cls(invoker))

    def _invoker(self) -> Any:
        raise NotImplementedError

    @property
    def http_server_address(self) -> str:
        return self._engine.http_url

    @property
    def ws_server_address(self) -> str:
        return self._engine.ws_url

    @property
    def closed(self) -> bool:
        return self._engine.closed

    @property
    def subscriptions(self) -> frozenset[tuple[str, str]]:
        """(api, session id) pairs whose events this client receives."""
        return self._engine.subscriptions

    def on_event(self, callback: EventListener) -> Callable[[], None]:
        """Call `callback(event)` for every event; returns a function that removes it.

        Async clients may pass a coroutine function. A listener that raises is logged and the
        stream goes on. For DecthingsClientSync, listeners run on the client's I/O thread.
        """
        return self._engine.on_event(callback)

    def __repr__(self) -> str:
        key = "'***'" if self._engine.api_key is not None else "None"
        return f"{type(self).__name__}(http_server_address={self.http_server_address!r}, api_key={key})"


class DecthingsClient(_Namespaces, AsyncNamespaces):
    """The async Decthings client: `await client.model.get_models({})`."""

    def _invoker(self) -> Engine:
        return self._engine

    async def aclose(self) -> None:
        """Close the WebSocket and the HTTP connections; later calls raise ClientClosedError."""
        await self._engine.aclose()

    def close(self) -> None:
        """Like the published client's close(): closes now when no loop runs, else schedules it."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._engine.closed = True
            return
        self._closing = loop.create_task(self._engine.aclose())

    async def __aenter__(self) -> DecthingsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _LoopThread:
    """A private event loop on a daemon thread: the sync client's I/O runs there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="decthings-io", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("a DecthingsClientSync call cannot be made from its own event listener")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            if threading.current_thread() is not self.thread:
                self.thread.join(5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()


class _SyncInvoker:
    __slots__ = ("_engine", "_io")

    def __init__(self, engine: Engine, io: _LoopThread) -> None:
        self._engine = engine
        self._io = io

    def call(self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None) -> Any:
        if self._engine.closed:
            raise ClientClosedError("DecthingsClientSync was closed; create a new client")
        return self._io.run(self._engine.call(spec, params, timeout))


class DecthingsClientSync(_Namespaces, SyncNamespaces):
    """The blocking Decthings client, with the same namespaces and methods as DecthingsClient."""

    def _invoker(self) -> _SyncInvoker:
        self._io = _LoopThread()
        return _SyncInvoker(self._engine, self._io)

    def close(self) -> None:
        """Close the WebSocket, the HTTP connections and the I/O thread (idempotent)."""
        if not self._io.loop.is_closed():
            if not self._engine.closed:
                self._io.run(self._engine.aclose())
            self._io.stop()
        self._engine.closed = True

    def __enter__(self) -> DecthingsClientSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        io = getattr(self, "_io", None)
        if io is not None and io.loop.is_running():
            io.loop.call_soon_threadsafe(io.loop.stop)


__all__ += ["ClientClosedError", "DecthingsEvent"]
