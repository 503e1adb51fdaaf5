"""What turns the raising clients' pieces into decthings-api 0.0.4's shape: an invoker in front of
theirs that hands API errors back as `(None, error)`, the namespace maps, and the event relay.

No second transport: every call still goes through `_engine.Engine` (retries, deadlines, typed
transport errors, redaction); only the API-error outcome is reshaped, after the engine is done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from modelwire._gen.decthings.v0.namespaces_api import AsyncNamespaces, SyncNamespaces
from modelwire.decthings._engine import DecthingsEvent, MethodSpec
from modelwire.decthings._invoke import AsyncInvoker, SyncInvoker
from modelwire.decthings._namespaces import keyword_namespaces
from modelwire.decthings.errors import DecthingsApiError
from modelwire.decthings.event import DecthingsEvent as PublishedEvent
from modelwire.decthings.event import RpcEvent, SubscriptionsRemovedEvent

__all__ = [
    "ASYNC_NAMESPACES",
    "SYNC_NAMESPACES",
    "AsyncTupleInvoker",
    "AsyncTupleNamespace",
    "PublishedResult",
    "SyncTupleInvoker",
    "SyncTupleNamespace",
    "published_listener",
]

# (result, None) or (None, the API's error dict).
PublishedResult = tuple[Any, "dict[str, Any] | None"]


class AsyncTupleNamespace:
    """A namespace of the published-shape async client: every method returns `(result, error)`.

    Its methods are the generated ones (see `_namespaces`); to a type checker it is any method
    name, as decthings-api 0.0.4 is untyped."""

    __slots__ = ()

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Callable[..., Awaitable[PublishedResult]]: ...


class SyncTupleNamespace:
    """A namespace of the published-shape blocking client: every method returns `(result, error)`."""

    __slots__ = ()

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Callable[..., PublishedResult]: ...


ASYNC_NAMESPACES = keyword_namespaces(AsyncNamespaces.NAMESPACES, published=True, base=AsyncTupleNamespace)
SYNC_NAMESPACES = keyword_namespaces(SyncNamespaces.NAMESPACES, published=True, base=SyncTupleNamespace)


def _error_pair(error: DecthingsApiError) -> tuple[None, dict[str, Any]]:
    summary = error.summary
    if summary is not None and summary.uploaded:
        # A split add_entries that failed after earlier requests landed: an error dict cannot say
        # which entries are in (0.0.4 never splits; it refuses more than 255 blobs), and resending
        # them all would duplicate them. The raised error carries `summary` for every entry.
        raise error
    return None, dict(error.error)


class AsyncTupleInvoker:
    """Calls the raising client's invoker; an API error comes back as `(None, error dict)`."""

    __slots__ = ("_inner",)

    def __init__(self, inner: AsyncInvoker) -> None:
        self._inner = inner

    async def call(
        self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None
    ) -> PublishedResult:
        try:
            return await self._inner.call(spec, params, timeout), None
        except DecthingsApiError as error:
            return _error_pair(error)


class SyncTupleInvoker:
    """The blocking twin of AsyncTupleInvoker."""

    __slots__ = ("_inner",)

    def __init__(self, inner: SyncInvoker) -> None:
        self._inner = inner

    def call(
        self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None
    ) -> PublishedResult:
        try:
            return self._inner.call(spec, params, timeout), None
        except DecthingsApiError as error:
            return _error_pair(error)


def published_listener(
    callback: Callable[[PublishedEvent], Awaitable[None] | None],
) -> Callable[[DecthingsEvent], Awaitable[None] | None]:
    """A listener for the engine that hands `callback` the events 0.0.4 emits: an `RpcEvent` per
    server event and a `SubscriptionsRemovedEvent` when subscriptions are lost. The engine's
    "reconnected" event has no 0.0.4 counterpart (0.0.4 never reconnects), so it is not passed on."""

    def relay(event: DecthingsEvent) -> Awaitable[None] | None:
        if event.api != "Client":
            return callback(RpcEvent(event.api, event.event_name, event.data))
        if event.event_name == "subscriptionsRemoved":
            return callback(SubscriptionsRemovedEvent(event.data.get("subscriptions", [])))
        return None

    return relay
