"""Emulator wire fuzzing: malformed bytes to every gRPC method and Decthings endpoint.

Every method of every gRPC service the emulator serves (Clavata gateway + labels, Clarifai V2) gets
malformed protobuf through generic calls (identity serializers), and one oversized message; each
must answer with a status inside a timeout, and the emulator must serve a normal call afterwards.
High-volume cases drive the servicers in-process with grpcio-testing: random but well-formed
messages, each of which must end in a status (never hang, never an unhandled exception).
Decthings HTTP bodies and WebSocket frames get random bytes, truncated frames and bad JSON.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import grpc_testing
import pytest
from aiohttp import ClientSession, WSMsgType
from google.protobuf import descriptor as _descriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from reliability_support import FuzzCounter, record

from modelwire._core.wire import is_repeated
from modelwire._gen.clarifai.api import service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire._gen.clavata.gateway.v1 import gateway_pb2, labels_pb2
from modelwire.clavata import ClavataClient
from modelwire.decthings.protocol import encode_http_request, encode_ws_request
from modelwire.emulator import Emulator
from modelwire.emulator.clarifai.service import _V2, ClarifaiEmulator
from modelwire.emulator.decthings.catalog import CATALOG
from modelwire.emulator.store import Store

CALL_TIMEOUT = 10.0
SERVICES = [
    gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"],
    labels_pb2.DESCRIPTOR.services_by_name["LabelsService"],
    service_pb2.DESCRIPTOR.services_by_name["V2"],
]
METHODS = [(f"/{s.full_name}/{m.name}", m) for s in SERVICES for m in s.methods]

# Malformed protobuf: bad wire types, truncated varints and lengths, invalid UTF-8 in strings.
MALFORMED = [
    b"\x0f",  # field 1 with wire type 7 (does not exist)
    b"\xff" * 11,  # a varint longer than 10 bytes
    b"\x0a\xff\xff\xff\xff\x0f",  # a length-delimited field claiming ~4 GB
    b"\x0a\x05ab",  # length 5, 2 bytes given
    b"\x0a\x02\xff\xfe",  # field 1 as invalid UTF-8 (a string in most requests)
    b"\x12\x03\xc3\x28\x00",
    b"\x08",  # a tag with no value
    b"\x00",  # field number 0
]


def _auth(method: str, key: str) -> tuple[tuple[str, str], ...]:
    scheme = "Key" if method.startswith("/clarifai.") else "Bearer"
    return (("authorization", f"{scheme} {key}"),)


def _generic(channel: grpc.Channel, method: str, desc: _descriptor.MethodDescriptor) -> Any:
    ident: Any = lambda b: b  # noqa: E731 - identity (de)serializers: raw bytes on the wire
    if desc.client_streaming and not desc.server_streaming:
        return channel.stream_unary(method, request_serializer=ident, response_deserializer=ident)
    if desc.server_streaming and not desc.client_streaming:
        return channel.unary_stream(method, request_serializer=ident, response_deserializer=ident)
    if desc.server_streaming:
        return channel.stream_stream(method, request_serializer=ident, response_deserializer=ident)
    return channel.unary_unary(method, request_serializer=ident, response_deserializer=ident)


def call_raw(
    channel: grpc.Channel, method: str, desc: _descriptor.MethodDescriptor, payload: bytes, key: str
) -> tuple[grpc.StatusCode, bytes]:
    """One call with raw bytes; (status code, first response bytes or b"")."""
    stub = _generic(channel, method, desc)
    md = _auth(method, key)
    try:
        if desc.client_streaming:
            out = stub(iter([payload]), timeout=CALL_TIMEOUT, metadata=md)
        else:
            out = stub(payload, timeout=CALL_TIMEOUT, metadata=md)
        if desc.server_streaming:
            first = next(iter(out), b"")
            out.cancel()
            return grpc.StatusCode.OK, first
        return grpc.StatusCode.OK, out
    except grpc.RpcError as exc:
        return exc.code(), b""


def emulator_is_up(emulator: Emulator, key: str) -> None:
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=key, timeout=10) as client:
        assert client.create_job(content="still up?", policy_id="demo-policy").job_uuid


@pytest.fixture
def channel(emulator: Emulator) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{emulator.port}") as ch:
        yield ch


def test_malformed_protobuf_to_every_method_gets_a_status(
    emulator: Emulator, channel: grpc.Channel, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    rng = random.Random(20261203)
    payloads = MALFORMED + [rng.randbytes(rng.randrange(1, 48)) for _ in range(4)]
    codes: Counter[str] = Counter()
    started = time.monotonic()
    for method, desc in METHODS:
        for payload in payloads:
            code, _ = call_raw(channel, method, desc, payload, api_key)
            fuzz_cases()
            codes[code.name] += 1
            assert code != grpc.StatusCode.DEADLINE_EXCEEDED, f"{method} hung on {payload!r}"
    record("gRPC methods wire-fuzzed", len(METHODS))
    # Garbage is a client error: never an unhandled exception in the emulator (UNKNOWN).
    assert codes["UNKNOWN"] == 0, codes
    assert time.monotonic() - started < 60
    emulator_is_up(emulator, api_key)


def test_an_oversized_message_is_refused_and_the_emulator_stays_up(
    emulator: Emulator, channel: grpc.Channel, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    method, desc = next((m, d) for m, d in METHODS if m.endswith("/CreateJob"))
    # Field 1 (content_data) with a 65 MiB body: over the emulator's 64 MiB receive limit.
    size = 65 * 2**20
    big = b"\x0a" + _varint(size) + b"\x00" * size
    code, _ = call_raw(channel, method, desc, big, api_key)
    fuzz_cases()
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    emulator_is_up(emulator, api_key)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


# --- in-process, high volume (grpcio-testing) ------------------------------------------------------


def random_message(cls: type[Message], rng: random.Random, depth: int = 0) -> Message:
    """A well-formed message with random values in random fields (nested up to depth 2)."""
    msg = cls()
    fields = list(cls.DESCRIPTOR.fields)
    for field in rng.sample(fields, k=min(len(fields), rng.randrange(0, 6))):
        if field.message_type is not None and depth >= 2:
            continue
        repeated = is_repeated(field)
        for _ in range(rng.randrange(0, 3) if repeated else 1):
            _set_random(msg, field, rng, depth, repeated)
    return msg


STRINGS = [
    "",
    " ",
    "demo-policy",
    "main",
    "me",
    "demo",
    "ü🙂",
    "x" * 300,
    "../../etc/passwd",
    "'; DROP TABLE x",
]


def _scalar(field: _descriptor.FieldDescriptor, rng: random.Random) -> Any:
    t = field.type
    if t == field.TYPE_STRING:
        return rng.choice(STRINGS) if rng.random() < 0.7 else rng.randbytes(6).hex()
    if t == field.TYPE_BYTES:
        return rng.randbytes(rng.randrange(0, 40))
    if t == field.TYPE_BOOL:
        return rng.random() < 0.5
    if t in (field.TYPE_FLOAT, field.TYPE_DOUBLE):
        return rng.choice([0.0, -1.0, 1e30, -1e-30, float("nan"), float("inf"), rng.random()])
    if t == field.TYPE_ENUM:
        return rng.choice([v.number for v in field.enum_type.values] + [999])
    bits = (
        64
        if t
        in (field.TYPE_INT64, field.TYPE_UINT64, field.TYPE_SINT64, field.TYPE_FIXED64, field.TYPE_SFIXED64)
        else 32
    )
    unsigned = t in (field.TYPE_UINT32, field.TYPE_UINT64, field.TYPE_FIXED32, field.TYPE_FIXED64)
    lo, hi = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return rng.choice([lo, hi, 0, 1, -1 if not unsigned else 2, rng.randint(lo, hi)])


def _set_random(
    msg: Message, field: _descriptor.FieldDescriptor, rng: random.Random, depth: int, repeated: bool
) -> None:
    container = getattr(msg, field.name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key_f, val_f = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        key = _scalar(key_f, rng)
        if val_f.message_type is not None:
            container[key].CopyFrom(random_message(GetMessageClass(val_f.message_type), rng, depth + 1))
        else:
            container[key] = _scalar(val_f, rng)
        return
    if field.message_type is not None:
        sub = random_message(GetMessageClass(field.message_type), rng, depth + 1)
        if repeated:
            container.add().CopyFrom(sub)
        else:
            container.CopyFrom(sub)
        return
    if repeated:
        container.append(_scalar(field, rng))
    else:
        setattr(msg, field.name, _scalar(field, rng))


@pytest.fixture
def clarifai_in_process(api_key: str) -> Iterator[Any]:
    """The Clarifai V2 servicer under grpcio-testing. (Clavata's servicers abort with
    `abort_with_status`, which grpcio-testing does not implement, so they are fuzzed over sockets.)"""
    store = Store(":memory:")
    clarifai = ClarifaiEmulator(store=store, api_key=api_key, user_id="demo", workers=1)
    server = grpc_testing.server_from_dictionary(
        {SERVICES[2]: _V2(clarifai)},  # type: ignore[abstract]
        grpc_testing.strict_real_time(),
    )
    yield server
    clarifai.close()
    store.close()


PER_METHOD = 40


def test_random_well_formed_requests_in_process_always_end_in_a_status(
    clarifai_in_process: Any, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    server = clarifai_in_process
    rng = random.Random(11)
    md = (("authorization", f"Key {api_key}"),)
    # One real app, so app-scoped requests reach the handlers' logic rather than the auth check.
    create = SERVICES[2].methods_by_name["PostApps"]
    made = service_pb2.PostAppsRequest()
    made.user_app_id.user_id = "demo"
    made.apps.add(id="fuzz")
    server.invoke_unary_unary(create, md, made, 10).termination()
    crashed: list[str] = []
    for desc in SERVICES[2].methods:
        if desc.client_streaming:
            continue
        request_class = GetMessageClass(desc.input_type)
        for _ in range(PER_METHOD):
            request = random_message(request_class, rng)
            if "user_app_id" in request_class.DESCRIPTOR.fields_by_name and rng.random() < 0.7:
                request.user_app_id.user_id, request.user_app_id.app_id = "demo", "fuzz"
            if desc.server_streaming:
                rpc = server.invoke_unary_stream(desc, md, request, 10)
                rpc.cancel()  # a status is enough; do not wait for a long stream
                code = rpc.termination()[1]
            else:
                response, _, code, _ = server.invoke_unary_unary(desc, md, request, 10).termination()
                # Clarifai answers in the body: an INTERNAL_UNCATEGORIZED status is a caught crash.
                if response is not None and response.status.code == status_code_pb2.INTERNAL_UNCATEGORIZED:
                    crashed.append(f"{desc.name}: {response.status.description}")
            fuzz_cases()
            if code == grpc.StatusCode.UNKNOWN:
                crashed.append(f"{desc.name}: {str(request)[:200]!r}")
    assert fuzz_cases.tried >= PER_METHOD * (len(SERVICES[2].methods) - 2)
    assert not crashed, f"{len(crashed)} requests crashed the servicer, e.g. {crashed[:5]}"


def test_random_well_formed_clavata_requests_over_the_wire_end_in_a_status(
    emulator: Emulator, channel: grpc.Channel, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    rng = random.Random(13)
    clavata = [(m, d) for m, d in METHODS if m.startswith("/clavata.")]
    codes: Counter[str] = Counter()
    for method, desc in clavata:
        request_class = GetMessageClass(desc.input_type)
        for _ in range(40):
            payload = random_message(request_class, rng).SerializeToString()
            code, _ = call_raw(channel, method, desc, payload, api_key)
            fuzz_cases()
            codes[code.name] += 1
    assert codes["UNKNOWN"] == 0 and codes["DEADLINE_EXCEEDED"] == 0, codes
    emulator_is_up(emulator, api_key)


# --- Decthings HTTP + WebSocket --------------------------------------------------------------------


def _post(url: str, body: bytes, key: str | None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/octet-stream"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=CALL_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def _bad_bodies(rng: random.Random) -> list[bytes]:
    good = encode_http_request(b'{"datasetId": "x"}')
    return [
        b"",
        b"\x00",
        good[: len(good) // 2],  # truncated
        good + b"trailing",
        encode_http_request(b"{not json"),
        encode_http_request(b"[1, 2]"),
        encode_http_request(b'"\xff\xfe"'),
        encode_http_request(b"{}", [b"x"])[:-1],  # a blob shorter than declared
        b"\x05" + b"\xff" * 12,  # blob count 5, overlong varint
        rng.randbytes(32),
    ]


def test_decthings_http_garbage_gets_an_error_status(
    emulator: Emulator, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    rng = random.Random(3)
    endpoints = [(api, method) for api, methods in sorted(CATALOG.items()) for method in sorted(methods)]
    for api, method in endpoints:
        for body in _bad_bodies(rng):
            status, answer = _post(f"{emulator.decthings_url}/{api}/{method}", body, api_key)
            fuzz_cases()
            assert status in (400, 404) or (status == 200 and b'"error"' in answer), (
                api,
                method,
                body,
                status,
            )
    for path in ("NoSuchApi/x", "Dataset", "../../etc/passwd", "Dataset/%ff%fe"):
        status, _ = _post(f"{emulator.decthings_url}/{path}", b"", api_key)
        fuzz_cases()
        assert status in (400, 404)
    record("Decthings HTTP endpoints wire-fuzzed", len(endpoints))
    emulator_is_up(emulator, api_key)
    status, answer = _post(
        f"{emulator.decthings_url}/Dataset/getDatasets", encode_http_request(b"{}"), api_key
    )
    assert status == 200 and b'"result"' in answer


def test_decthings_websocket_garbage_frames_are_answered_or_closed(
    emulator: Emulator, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    rng = random.Random(5)
    good = encode_ws_request(
        7, b'{"api": "Dataset", "method": "getDatasets", "apiKey": "%s", "params": {}}' % api_key.encode()
    )
    frames: list[bytes | str] = [
        b"",
        b"\x00\x00",
        good[:6],  # truncated
        encode_ws_request(1, b"{bad json"),
        encode_ws_request(2, b"[]"),
        encode_ws_request(3, b'{"api": 5, "method": []}'),
        encode_ws_request(4, b'{"api": "Dataset", "method": "getDatasets", "params": 7}'),
        "text frame \ud7ff",
        rng.randbytes(64),
    ]

    async def exercise() -> None:
        async with ClientSession() as session:
            for frame in frames:
                async with session.ws_connect(emulator.decthings_ws_url) as ws:
                    if isinstance(frame, str):
                        await ws.send_str(frame)
                    else:
                        await ws.send_bytes(frame)
                    msg = await ws.receive(timeout=CALL_TIMEOUT)
                    fuzz_cases()
                    # An error answer, or the server closing the connection: never silence.
                    assert msg.type in (WSMsgType.BINARY, WSMsgType.CLOSE, WSMsgType.CLOSED), (frame, msg)
                    if msg.type == WSMsgType.BINARY:
                        assert b'"error"' in msg.data, (frame, msg.data[:200])
            async with session.ws_connect(emulator.decthings_ws_url) as ws:  # still serving
                await ws.send_bytes(good)
                msg = await ws.receive(timeout=CALL_TIMEOUT)
                assert msg.type == WSMsgType.BINARY and b'"result"' in msg.data

    asyncio.run(asyncio.wait_for(exercise(), 60))
