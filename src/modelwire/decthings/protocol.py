"""Decthings message framing: HTTP bodies and WebSocket frames (sans-IO, shared by client and emulator).

HTTP request body (`POST {base}/{Api}/{method}`):

    u8      number of blobs N (so at most 255 blobs per call)
    varint  byte length of the JSON
    varint  x N, byte length of each blob (all lengths up front)
    JSON    the params
    blob_0 ... blob_{N-1}

HTTP response body (no count byte; each blob carries its own length):

    varint  JSON length
    JSON    {"result": ...} or {"error": {"code": ..., ...}}
    repeated until the end: varint blob length, blob

WebSocket, client to server (binary frame): u32 BE request id, then the HTTP request layout whose JSON
is {"api", "method", "apiKey", "params"}. Server to client:

    response: 0x00, u32 BE id, varint JSON length, JSON {"result"|"error"}, (varint length, blob)*
    event:    0x01, u8 api length, api (UTF-8), varint JSON length, JSON {"event", "params"},
              (varint length, blob)*

Varints are the big-endian CompactSize-like encoding of `varint.py`, with the published Python
client's off-by-one fixed (65536 and 2**32 encode).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from modelwire._core.errors import ModelwireError, UsageError
from modelwire.decthings.varint import VarintError, decode_varint, encode_varint

__all__ = [
    "MAX_BLOBS",
    "ProtocolError",
    "WsEventFrame",
    "WsResponseFrame",
    "decode_http_request",
    "decode_http_response",
    "decode_ws_request",
    "decode_ws_server_frame",
    "dump_json",
    "encode_http_request",
    "encode_http_response",
    "encode_ws_event",
    "encode_ws_request",
    "encode_ws_response",
]

MAX_BLOBS: Final = 255
_WS_RESPONSE: Final = 0x00
_WS_EVENT: Final = 0x01


class ProtocolError(ModelwireError, ValueError):
    """A body or frame that does not follow the Decthings framing (truncated, bad varint, bad JSON)."""


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the form every frame carries."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _load_json(raw: bytes | memoryview, what: str) -> Any:
    try:
        return json.loads(bytes(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"{what}: the JSON section is not valid UTF-8 JSON ({exc})") from None


def _varint(buf: bytes | memoryview, pos: int, what: str) -> tuple[int, int]:
    try:
        return decode_varint(buf, pos)
    except VarintError as exc:
        raise ProtocolError(f"{what}: {exc}") from None


def _take(buf: memoryview, pos: int, n: int, what: str) -> tuple[memoryview, int]:
    end = pos + n
    if end > len(buf):
        raise ProtocolError(f"{what}: needs {n} bytes at offset {pos}, only {len(buf) - pos} left")
    return buf[pos:end], end


def _check_blob_count(blobs: Sequence[bytes]) -> None:
    if len(blobs) > MAX_BLOBS:
        raise UsageError(
            f"a Decthings call carries at most {MAX_BLOBS} blobs (the count is one byte), this one has "
            f"{len(blobs)}: split the call (for add_entries, send fewer entries per call)"
        )


def _prefixed(json_bytes: bytes, blobs: Sequence[bytes]) -> list[bytes]:
    _check_blob_count(blobs)
    parts = [bytes((len(blobs),)), encode_varint(len(json_bytes))]
    parts.extend(encode_varint(len(b)) for b in blobs)
    parts.append(json_bytes)
    parts.extend(blobs)
    return parts


def encode_http_request(json_bytes: bytes, blobs: Sequence[bytes] = ()) -> bytes:
    return b"".join(_prefixed(json_bytes, blobs))


def _decode_prefixed(buf: memoryview, pos: int, what: str) -> tuple[Any, list[bytes]]:
    if pos >= len(buf):
        raise ProtocolError(f"{what}: empty body")
    count = buf[pos]
    pos += 1
    json_len, pos = _varint(buf, pos, what)
    lengths = []
    for _ in range(count):
        n, pos = _varint(buf, pos, what)
        lengths.append(n)
    raw, pos = _take(buf, pos, json_len, what)
    params = _load_json(raw, what)
    blobs = []
    for n in lengths:
        blob, pos = _take(buf, pos, n, what)
        blobs.append(bytes(blob))
    if pos != len(buf):
        raise ProtocolError(f"{what}: {len(buf) - pos} bytes after the last blob")
    return params, blobs


def decode_http_request(body: bytes) -> tuple[Any, list[bytes]]:
    """(params, blobs) of a request body."""
    return _decode_prefixed(memoryview(body), 0, "request body")


def _suffixed(json_bytes: bytes, blobs: Sequence[bytes]) -> list[bytes]:
    parts = [encode_varint(len(json_bytes)), json_bytes]
    for b in blobs:
        parts.append(encode_varint(len(b)))
        parts.append(b)
    return parts


def encode_http_response(json_bytes: bytes, blobs: Sequence[bytes] = ()) -> bytes:
    return b"".join(_suffixed(json_bytes, blobs))


def _decode_suffixed(buf: memoryview, pos: int, what: str) -> tuple[Any, list[bytes]]:
    json_len, pos = _varint(buf, pos, what)
    raw, pos = _take(buf, pos, json_len, what)
    payload = _load_json(raw, what)
    blobs = []
    while pos < len(buf):
        n, pos = _varint(buf, pos, what)
        blob, pos = _take(buf, pos, n, what)
        blobs.append(bytes(blob))
    return payload, blobs


def decode_http_response(body: bytes) -> tuple[Any, list[bytes]]:
    """(payload, blobs) of a response body; payload is {"result": ...} or {"error": ...}."""
    return _decode_suffixed(memoryview(body), 0, "response body")


def encode_ws_request(request_id: int, json_bytes: bytes, blobs: Sequence[bytes] = ()) -> bytes:
    return b"".join([(request_id & 0xFFFFFFFF).to_bytes(4, "big"), *_prefixed(json_bytes, blobs)])


def decode_ws_request(frame: bytes) -> tuple[int, Any, list[bytes]]:
    """(request id, {"api", "method", "apiKey", "params"}, blobs) of a client frame."""
    buf = memoryview(frame)
    head, pos = _take(buf, 0, 4, "WebSocket request")
    payload, blobs = _decode_prefixed(buf, pos, "WebSocket request")
    return int.from_bytes(head, "big"), payload, blobs


def encode_ws_response(request_id: int, json_bytes: bytes, blobs: Sequence[bytes] = ()) -> bytes:
    head = bytes((_WS_RESPONSE,)) + (request_id & 0xFFFFFFFF).to_bytes(4, "big")
    return b"".join([head, *_suffixed(json_bytes, blobs)])


def encode_ws_event(api: str, json_bytes: bytes, blobs: Sequence[bytes] = ()) -> bytes:
    name = api.encode()
    if len(name) > 255:
        raise UsageError(f"event api name is {len(name)} bytes; the frame allows 255")
    return b"".join([bytes((_WS_EVENT, len(name))), name, *_suffixed(json_bytes, blobs)])


@dataclass(frozen=True, slots=True)
class WsResponseFrame:
    request_id: int
    payload: Any
    blobs: list[bytes]


@dataclass(frozen=True, slots=True)
class WsEventFrame:
    api: str
    payload: Any
    blobs: list[bytes]


def decode_ws_server_frame(frame: bytes | str) -> WsResponseFrame | WsEventFrame:
    """A server frame; text frames are read as their UTF-8 bytes, as the published clients do."""
    buf = memoryview(frame.encode() if isinstance(frame, str) else frame)
    kind, pos = _take(buf, 0, 1, "WebSocket frame")
    if kind[0] == _WS_RESPONSE:
        head, pos = _take(buf, pos, 4, "WebSocket response")
        payload, blobs = _decode_suffixed(buf, pos, "WebSocket response")
        return WsResponseFrame(int.from_bytes(head, "big"), payload, blobs)
    if kind[0] == _WS_EVENT:
        n, pos = _take(buf, pos, 1, "WebSocket event")
        raw, pos = _take(buf, pos, n[0], "WebSocket event")
        try:
            api = bytes(raw).decode()
        except UnicodeDecodeError:
            raise ProtocolError("WebSocket event: the api name is not UTF-8") from None
        payload, blobs = _decode_suffixed(buf, pos, "WebSocket event")
        return WsEventFrame(api, payload, blobs)
    raise ProtocolError(f"WebSocket frame: unknown frame kind {kind[0]:#04x} (expected 0x00 or 0x01)")
