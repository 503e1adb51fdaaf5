"""Raw Decthings wire clients for the emulator tests (aiohttp + modelwire.decthings.protocol): the
SDK's own client is tested elsewhere; these speak the protocol byte for byte."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import aiohttp

from modelwire.decthings import DecthingsTensor, serialize_many
from modelwire.decthings.protocol import (
    WsResponseFrame,
    decode_http_response,
    decode_ws_server_frame,
    dump_json,
    encode_http_request,
    encode_ws_request,
)

KEY = "decthings-test-key"

Json = dict[str, Any]


class Http:
    """POST {base}/{Api}/{method} with the request framing; returns (payload, blobs)."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def raw(
        self, api: str, method: str, params: Json, blobs: Sequence[bytes] = (), key: str | None = KEY
    ) -> tuple[int, bytes, aiohttp.ClientResponse]:
        headers = {"Content-Type": "application/octet-stream"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        body = encode_http_request(dump_json(params), blobs)
        async with self.session.post(f"{self.base}/{api}/{method}", data=body, headers=headers) as resp:
            return resp.status, await resp.read(), resp

    async def call(
        self, api: str, method: str, params: Json, blobs: Sequence[bytes] = (), key: str | None = KEY
    ) -> tuple[Json, list[bytes]]:
        status, body, _ = await self.raw(api, method, params, blobs, key)
        assert status == 200, body
        payload, out = decode_http_response(body)
        return payload, out

    async def ok(
        self, api: str, method: str, params: Json, blobs: Sequence[bytes] = ()
    ) -> tuple[Json, list[bytes]]:
        payload, out = await self.call(api, method, params, blobs)
        assert "result" in payload, payload
        return payload["result"], out

    async def error(self, api: str, method: str, params: Json, blobs: Sequence[bytes] = ()) -> Json:
        payload, _ = await self.call(api, method, params, blobs)
        assert "error" in payload, payload
        return dict(payload["error"])


class Ws:
    """A WebSocket client: concurrent calls matched by id, events queued in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._next = 0
        self._pending: dict[int, asyncio.Future[WsResponseFrame]] = {}
        self.events: asyncio.Queue[Json] = asyncio.Queue()
        self.order: list[str] = []  # "response:<id>" / "event:<name>", as frames arrived
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    break
                frame = decode_ws_server_frame(msg.data)
                if isinstance(frame, WsResponseFrame):
                    self.order.append(f"response:{frame.request_id}")
                    fut = self._pending.pop(frame.request_id, None)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
                else:
                    self.order.append(f"event:{frame.payload['event']}")
                    await self.events.put({"api": frame.api, **frame.payload, "blobs": frame.blobs})
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("WebSocket closed"))

    async def send(
        self, api: str, method: str, params: Json, blobs: Sequence[bytes] = (), key: str | None = KEY
    ) -> asyncio.Future[WsResponseFrame]:
        """Send a request; the returned future resolves with its response frame."""
        request_id = self._next
        self._next += 1
        fut: asyncio.Future[WsResponseFrame] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = fut
        message = {"api": api, "method": method, "apiKey": key, "params": params}
        await self.ws.send_bytes(encode_ws_request(request_id, dump_json(message), blobs))
        return fut

    async def call(
        self, api: str, method: str, params: Json, blobs: Sequence[bytes] = (), key: str | None = KEY
    ) -> tuple[Json, list[bytes]]:
        frame = await asyncio.wait_for(await self.send(api, method, params, blobs, key), 5)
        return frame.payload, frame.blobs

    async def event(self, timeout: float = 5) -> Json:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def f32(values: Sequence[float], shape: Sequence[int] | None = None) -> DecthingsTensor:
    return DecthingsTensor(list(values), "f32", list(shape) if shape is not None else [len(values)])


def text(value: str) -> DecthingsTensor:
    return DecthingsTensor([value], "string", [])


def param_blob(*tensors: DecthingsTensor) -> bytes:
    """One ParameterProvider's data on the wire: its tensors, serialized and concatenated."""
    return serialize_many(tensors)


def key_def(name: str, shape: list[int], types: list[str]) -> Json:
    return {"name": name, "rules": {"shape": shape, "allowedTypes": types}}


async def make_dataset(http: Http, name: str, keys: list[Json]) -> str:
    result, _ = await http.ok("Dataset", "createDataset", {"name": name, "description": "test", "keys": keys})
    return str(result["datasetId"])
