"""decthings-api 0.0.4's `decthings_api.client` on modelwire's engine: methods return `(result, error)`.

    from modelwire.decthings.client import DecthingsClient   # was: from decthings_api.client import ...

    client = DecthingsClient(api_key="...")
    models, err = await client.model.get_models({})
    if err is not None:
        print(err["code"])                                  # the API's error dict, as in 0.0.4

Code written for 0.0.4 runs unchanged after that import rewrite: every namespace method takes
`params` (by position or keyword) and returns `(result, None)` or `(None, error)`. What raises:
* transport failures, as in 0.0.4, but as modelwire errors (`UnavailableError`,
  `DeadlineExceededError`, `DecthingsHttpError`: all `modelwire.ApiError`) rather than aiohttp's;
* params that cannot be sent: `DecthingsUsageError`, a `modelwire.UsageError` and, as in 0.0.4,
  a `TypeError`;
* no API key at all: `ConfigurationError` before anything is sent (0.0.4 sends the call and gets
  `bad_credentials` back);
* an `add_entries` of more than 255 tensors (0.0.4 refuses those) that failed after some of its
  requests landed: the typed error, whose `summary` says which entries are in.
Calls get the engine's connection pooling, retries and timeouts; `on_event` listeners get
`modelwire.decthings.event` objects as in 0.0.4.

For new code, prefer the raising client, `from modelwire.decthings import DecthingsClient`: same
methods, results returned directly, API errors raised as typed exceptions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from modelwire.decthings._clients import _AsyncClient, _AsyncInvoker
from modelwire.decthings._published import (
    ASYNC_NAMESPACES,
    AsyncTupleInvoker,
    AsyncTupleNamespace,
    published_listener,
)
from modelwire.decthings.event import DecthingsEvent

__all__ = ["DecthingsClient"]


class DecthingsClient(_AsyncClient):
    """The async client in decthings-api 0.0.4's shape: `res, err = await client.model.get_models({})`.

    Takes 0.0.4's arguments (`api_key`, `http_server_address`, `ws_server_address`, `extra_headers`)
    plus modelwire's `timeout` and `retry`; unset ones come from the DECTHINGS_* environment, then
    the real service. `close()` as in 0.0.4; also `aclose()` and `async with`."""

    NAMESPACES: ClassVar[dict[str, type]] = ASYNC_NAMESPACES

    dataset: AsyncTupleNamespace
    debug: AsyncTupleNamespace
    fs: AsyncTupleNamespace
    language: AsyncTupleNamespace
    model: AsyncTupleNamespace
    persistent_launcher: AsyncTupleNamespace
    spawned: AsyncTupleNamespace
    team: AsyncTupleNamespace
    terminal: AsyncTupleNamespace
    user: AsyncTupleNamespace

    def _namespace_invoker(self, invoker: _AsyncInvoker) -> AsyncTupleInvoker:
        return AsyncTupleInvoker(invoker)

    def on_event(  # type: ignore[override]  # 0.0.4's event classes, not the engine's
        self, cb: Callable[[DecthingsEvent], Awaitable[None] | None]
    ) -> Callable[[], None]:
        """Call `cb(event)` for every event (an `RpcEvent`, or a `SubscriptionsRemovedEvent`);
        returns a function that removes it. `cb` may also be a coroutine function."""
        return self._engine.on_event(published_listener(cb))
