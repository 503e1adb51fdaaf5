"""decthings-api 0.0.4's `decthings_api.client_sync` on modelwire's engine: methods return
`(result, error)`.

    from modelwire.decthings.client_sync import DecthingsClientSync   # was: decthings_api.client_sync

    client = DecthingsClientSync(api_key="...")
    models, err = client.model.get_models({})

The blocking twin of `modelwire.decthings.client` (see there for what is and is not 0.0.4's
behaviour). Unlike 0.0.4's copy-pasted sync client, it runs the one engine on a private I/O
thread, so it has every method of the async client (0.0.4's lacks `model.get_filesystem_usage` and
`model.set_image`). For new code, prefer the raising `from modelwire.decthings import
DecthingsClientSync`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from modelwire.decthings._clients import _SyncClient, _SyncInvoker
from modelwire.decthings._published import (
    SYNC_NAMESPACES,
    SyncTupleInvoker,
    SyncTupleNamespace,
    published_listener,
)
from modelwire.decthings.event import DecthingsEvent

__all__ = ["DecthingsClientSync"]


class DecthingsClientSync(_SyncClient):
    """The blocking client in decthings-api 0.0.4's shape: `res, err = client.model.get_models({})`.

    Same arguments as `modelwire.decthings.client.DecthingsClient`; `close()` and `with` release
    the connections and the I/O thread."""

    NAMESPACES: ClassVar[dict[str, type]] = SYNC_NAMESPACES

    dataset: SyncTupleNamespace
    debug: SyncTupleNamespace
    fs: SyncTupleNamespace
    language: SyncTupleNamespace
    model: SyncTupleNamespace
    persistent_launcher: SyncTupleNamespace
    spawned: SyncTupleNamespace
    team: SyncTupleNamespace
    terminal: SyncTupleNamespace
    user: SyncTupleNamespace

    def _namespace_invoker(self, invoker: _SyncInvoker) -> SyncTupleInvoker:
        return SyncTupleInvoker(invoker)

    def on_event(  # type: ignore[override]  # 0.0.4's event classes, not the engine's
        self, cb: Callable[[DecthingsEvent], None]
    ) -> Callable[[], None]:
        """Call `cb(event)` for every event (an `RpcEvent`, or a `SubscriptionsRemovedEvent`) on
        the client's I/O thread; returns a function that removes it."""
        return self._engine.on_event(published_listener(cb))
