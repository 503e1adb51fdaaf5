"""WebSocket connections and the event hub (per-connection subscriptions).

Everything here runs on the Decthings server's event loop. A connection serialises its outgoing
frames with a lock, so a response and the events that follow it arrive in the order they were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from modelwire.decthings.protocol import dump_json, encode_ws_event


class Connection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.subscriptions: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()

    async def send(self, frame: bytes) -> None:
        async with self._send_lock:
            if self.ws.closed:
                return
            # The peer may vanish mid-send; its requests' answers then go nowhere, as on a real server.
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_bytes(frame)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a crashed server or a network cut would."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class EventHub:
    """Which connections listen to which keys (training session ids), and delivery of events."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Connection]] = {}

    def subscribe(self, key: str, conn: Connection) -> None:
        self._listeners.setdefault(key, set()).add(conn)
        conn.subscriptions.add(key)

    def unsubscribe(self, key: str, conn: Connection) -> bool:
        if key not in conn.subscriptions:
            return False
        conn.subscriptions.discard(key)
        listeners = self._listeners.get(key)
        if listeners is not None:
            listeners.discard(conn)
            if not listeners:
                del self._listeners[key]
        return True

    def drop(self, conn: Connection) -> None:
        for key in list(conn.subscriptions):
            self.unsubscribe(key, conn)

    async def publish(self, key: str, api: str, event: str, params: dict[str, Any]) -> None:
        frame = event_frame(api, event, params)
        for conn in list(self._listeners.get(key, ())):
            await conn.send(frame)


def event_frame(api: str, event: str, params: dict[str, Any]) -> bytes:
    return encode_ws_event(api, dump_json({"event": event, "params": params}))
