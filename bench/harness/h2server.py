"""A gRPC server written on HTTP/2 frames (the `h2` library), for the bench's own servers: the
replay server of clavata_stream_replay and the synthetic listing of the memory scenario.

Why not a gRPC server stack: grpcio's servers (sync or aio) spend ~25-40 us of Python per streamed
message, so a fast client saturated them before itself, and throughput ratios measured the server.
Here a handler returns its answer as already-framed bytes (5-byte gRPC prefix + message, see
`frame`), and the server writes them in DATA frames as large as the client's flow-control window and
frame size allow: the Python work is per DATA frame (tens of messages), not per message.

Only what the bench's clients use is spoken: unary requests (one message, uncompressed), any number
of response messages, `grpc-status` trailers. Request headers (e.g. `authorization`) are ignored.
"""

from __future__ import annotations

import asyncio
import signal
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_HEADERS = [(b":status", b"200"), (b"content-type", b"application/grpc")]
_OK = [(b"grpc-status", b"0")]
_WINDOW = 2**24  # what a client may send before we acknowledge it: one large request fits


def frame(messages: Iterable[bytes]) -> tuple[bytes, list[int]]:
    """`messages` as one buffer of gRPC length-prefixed messages, and where each one ends
    (`ends[k]` is the end of the first k messages; `ends[0] == 0`)."""
    ends, parts, at = [0], [], 0
    for message in messages:
        parts += [struct.pack(">BI", 0, len(message)), message]
        at += 5 + len(message)
        ends.append(at)
    return b"".join(parts), ends


@dataclass(frozen=True)
class Reply:
    """What a handler answers: framed response messages (segments of bytes, sent in order), then
    the status; a failure sends no messages."""

    segments: Sequence[bytes | memoryview] = ()
    code: int = 0  # a grpc.StatusCode's value (0 = OK)
    message: str = ""


Handler = Callable[[str, bytes], Reply]  # (":path", the request message) -> the reply


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        self._handler = handler
        self._conn = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self._requests: dict[int, tuple[str, bytearray]] = {}
        self._sending: dict[int, list[memoryview]] = {}  # stream -> what is left to send
        self._transport: Any = None

    def connection_made(self, transport: Any) -> None:
        from h2.settings import SettingCodes

        self._transport = transport
        self._conn.initiate_connection()
        self._conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: _WINDOW})
        self._conn.increment_flow_control_window(_WINDOW)
        transport.write(self._conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        from h2 import events

        conn = self._conn
        for event in conn.receive_data(data):
            if isinstance(event, events.RequestReceived):
                path = dict(event.headers).get(b":path", b"").decode()
                self._requests[event.stream_id] = (path, bytearray())
            elif isinstance(event, events.DataReceived):
                self._requests[event.stream_id][1].extend(event.data)
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, events.StreamEnded):
                self._respond(event.stream_id)
            elif isinstance(event, (events.WindowUpdated, events.RemoteSettingsChanged)):
                self._flush()
            elif isinstance(event, events.StreamReset):
                self._requests.pop(event.stream_id, None)
                self._sending.pop(event.stream_id, None)
            elif isinstance(event, events.ConnectionTerminated):
                self._transport.close()
        self._transport.write(conn.data_to_send())

    def _respond(self, stream_id: int) -> None:
        path, body = self._requests.pop(stream_id)
        reply = self._handler(path, bytes(body[5:]))  # one uncompressed message after its prefix
        if reply.code:
            status = [(b"grpc-status", str(reply.code).encode()), (b"grpc-message", reply.message.encode())]
            self._conn.send_headers(stream_id, [*_HEADERS, *status], end_stream=True)  # trailers-only
            return
        self._conn.send_headers(stream_id, _HEADERS)
        self._sending[stream_id] = [memoryview(s) for s in reply.segments if len(s)]
        self._flush()

    def _flush(self) -> None:
        conn = self._conn
        for stream_id, left in list(self._sending.items()):
            while left:
                size = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
                if size <= 0:
                    break  # until the client's WINDOW_UPDATE
                head = left[0]
                conn.send_data(stream_id, bytes(head[:size]))
                if size >= len(head):
                    left.pop(0)
                else:
                    left[0] = head[size:]
            if not left:
                del self._sending[stream_id]
                conn.send_headers(stream_id, _OK, end_stream=True)


async def serve(host: str, handler: Handler, ready: Callable[[int], None]) -> None:
    """Serve on a free port of `host` (`ready(port)` once listening) until SIGTERM / SIGINT."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(handler), host, 0)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ready(server.sockets[0].getsockname()[1])
    await stop.wait()
    server.close()
