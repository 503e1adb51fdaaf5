"""decthings-api 0.0.4's `decthings_api.event`: the events the published-shape clients hand to
`on_event` listeners (`modelwire.decthings.client` / `.client_sync`).

    from modelwire.decthings.event import RpcEvent      # was: from decthings_api.event import RpcEvent

    def listener(event):
        if isinstance(event, RpcEvent) and event.event_name == "stdout":
            print(event.data["data"])

The raising clients (`from modelwire.decthings import DecthingsClient`) hand listeners
`modelwire.decthings.DecthingsEvent` instead: same `api`, `event_name` and `data`, plus the
client's own "Client" events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["DecthingsEvent", "RpcEvent", "SubscriptionsRemovedEvent"]


class DecthingsEvent:
    """Base class of every event a published-shape client emits."""


class SubscriptionsRemovedEvent(DecthingsEvent):
    """Event subscriptions were lost (the WebSocket closed and could not be reopened).

    `subscriptions` (an addition to 0.0.4, which says nothing of which) lists the lost
    `(api, session id)` pairs."""

    def __init__(self, subscriptions: Iterable[tuple[str, str]] = ()) -> None:
        self.subscriptions: list[tuple[str, str]] = [(str(api), str(sid)) for api, sid in subscriptions]

    def __repr__(self) -> str:
        return f"SubscriptionsRemovedEvent(subscriptions={self.subscriptions!r})"


class RpcEvent(DecthingsEvent):
    """An event from the server: `api` ("Spawned"), `event_name` ("stdout") and `data` (its params;
    a binary payload is under `data["data"]` as bytes)."""

    def __init__(self, api: str, event_name: str, data: dict[str, Any]) -> None:
        self.api = api
        self.event_name = event_name
        self.data = data

    def __repr__(self) -> str:
        return f"RpcEvent(api={self.api!r}, event_name={self.event_name!r}, data={self.data!r})"
