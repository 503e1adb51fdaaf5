"""The auth matrix: every gRPC method of every service, and every Decthings HTTP and WebSocket
endpoint, refuses a call with no key, a wrong key, and (Clarifai) another app's key or another
user's ids, and answers such a call with no data.

Clavata refuses with UNAUTHENTICATED; Clarifai, like the real API, with gRPC OK and an auth failure
in the response status (and nothing else in the body); Decthings with HTTP 401 or its
`bad_credentials` API error.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import grpc
import pytest
from aiohttp import ClientSession, WSMsgType
from google.protobuf.message_factory import GetMessageClass
from reliability_support import LEAK_KEY, WRONG_KEY, record
from test_wire_fuzz import METHODS, call_raw

from modelwire._gen.clarifai.api import service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2 as sc
from modelwire.decthings.protocol import (
    decode_http_response,
    decode_ws_server_frame,
    encode_http_request,
    encode_ws_request,
)
from modelwire.emulator import Emulator
from modelwire.emulator.decthings.catalog import CATALOG

# The Clarifai status codes that mean "these credentials may not do this".
CLARIFAI_REFUSALS = {
    sc.CONN_KEY_INVALID,
    sc.CONN_KEY_NOT_FOUND,
    sc.CONN_CREDENTIALS_INVALID,
    sc.CONN_INSUFFICIENT_SCOPES,
    sc.CONN_DOES_NOT_EXIST,
}
CREDENTIALS = ["none", "wrong", "other-app-key", "other-user"]


@pytest.fixture(scope="module")
def two_apps(leak_emulator: Emulator) -> dict[str, str]:
    """Apps A and B of the emulator's user, and a key scoped to app A only."""
    with grpc.insecure_channel(f"127.0.0.1:{leak_emulator.port}") as channel:
        post = channel.unary_unary(
            "/clarifai.api.V2/PostApps",
            request_serializer=service_pb2.PostAppsRequest.SerializeToString,
            response_deserializer=service_pb2.MultiAppResponse.FromString,
        )
        request = service_pb2.PostAppsRequest()
        request.user_app_id.user_id = leak_emulator.user_id
        request.apps.add(id="auth-a")
        request.apps.add(id="auth-b")
        answer = post(request, metadata=(("authorization", f"Key {LEAK_KEY}"),), timeout=10)
        assert answer.status.code == sc.SUCCESS, answer.status
    return {"a": "auth-a", "b": "auth-b", "a_key": leak_emulator.clarifai.create_app_key("auth-a")}


def _request_bytes(desc: Any, user_id: str, app_id: str) -> bytes:
    request = GetMessageClass(desc.input_type)()
    if "user_app_id" in desc.input_type.fields_by_name:
        request.user_app_id.user_id, request.user_app_id.app_id = user_id, app_id
    return bytes(request.SerializeToString())


def _metadata_key(kind: str, apps: dict[str, str]) -> str | None:
    return {"none": None, "wrong": WRONG_KEY, "other-app-key": apps["a_key"], "other-user": LEAK_KEY}[kind]


def _call(
    channel: grpc.Channel, method: str, desc: Any, payload: bytes, key: str | None
) -> tuple[grpc.StatusCode, bytes]:
    if key is not None:
        return call_raw(channel, method, desc, payload, key)
    ident: Any = lambda b: b  # noqa: E731
    try:
        if desc.client_streaming:
            stub = channel.stream_unary(method, request_serializer=ident, response_deserializer=ident)
            return grpc.StatusCode.OK, stub(iter([payload]), timeout=10)
        if desc.server_streaming:
            stream = channel.unary_stream(method, request_serializer=ident, response_deserializer=ident)
            call = stream(payload, timeout=10)
            first = next(iter(call), b"")
            call.cancel()
            return grpc.StatusCode.OK, first
        unary = channel.unary_unary(method, request_serializer=ident, response_deserializer=ident)
        return grpc.StatusCode.OK, unary(payload, timeout=10)
    except grpc.RpcError as exc:
        return exc.code(), b""


def test_every_grpc_method_refuses_bad_credentials(leak_emulator: Emulator, two_apps: dict[str, str]) -> None:
    failures: list[str] = []
    checked = 0
    with grpc.insecure_channel(f"127.0.0.1:{leak_emulator.port}") as channel:
        for method, desc in METHODS:
            clarifai = method.startswith("/clarifai.")
            for kind in CREDENTIALS if clarifai else CREDENTIALS[:2]:
                user = "someone-else" if kind == "other-user" else leak_emulator.user_id
                payload = _request_bytes(desc, user, two_apps["b"])
                code, body = _call(channel, method, desc, payload, _metadata_key(kind, two_apps))
                checked += 1
                if not clarifai:
                    if code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                        failures.append(f"{method} [{kind}]: {code.name}")
                    continue
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    continue  # a streaming RPC the emulator does not offer: nothing served
                if code != grpc.StatusCode.OK:
                    failures.append(f"{method} [{kind}]: gRPC {code.name}")
                    continue
                response = GetMessageClass(desc.output_type).FromString(body)
                if response.status.code not in CLARIFAI_REFUSALS:
                    failures.append(f"{method} [{kind}]: status {response.status.code}")
                leaked = [f.name for f, _ in response.ListFields() if f.name != "status"]
                if leaked:
                    failures.append(f"{method} [{kind}]: data in a refused answer: {leaked}")
        # Control: the same probe with the right key is served, so the refusals above are real.
        method, desc = next((m, d) for m, d in METHODS if m.endswith("/ListInputs"))
        code, body = _call(
            channel, method, desc, _request_bytes(desc, leak_emulator.user_id, "auth-b"), LEAK_KEY
        )
        assert GetMessageClass(desc.output_type).FromString(body).status.code == sc.SUCCESS
        method, desc = next((m, d) for m, d in METHODS if m.endswith("/ListJobs"))
        assert _call(channel, method, desc, b"", LEAK_KEY)[0] == grpc.StatusCode.OK
    record("auth matrix: gRPC methods", len(METHODS))
    record("auth matrix: gRPC calls", checked)
    assert not failures, "\n".join(failures)


def _post(url: str, body: bytes, key: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, decode_http_response(response.read())[0]
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, None


ENDPOINTS = [(api, method) for api, methods in sorted(CATALOG.items()) for method in sorted(methods)]


def _refused(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and "result" not in payload
        and payload.get("error", {}).get("code") == "bad_credentials"
    )


def test_every_decthings_http_endpoint_refuses_bad_credentials(leak_emulator: Emulator) -> None:
    failures = []
    for api, method in ENDPOINTS:
        for key in (None, WRONG_KEY, ""):
            status, payload = _post(
                f"{leak_emulator.decthings_url}/{api}/{method}", encode_http_request(b"{}"), key
            )
            if not (status == 401 or (status == 200 and _refused(payload))):
                failures.append(f"{api}.{method} [key={key!r}]: HTTP {status} {str(payload)[:120]}")
    status, payload = _post(
        f"{leak_emulator.decthings_url}/Dataset/getDatasets", encode_http_request(b"{}"), LEAK_KEY
    )
    assert status == 200 and "result" in payload  # control: the right key is served
    record("auth matrix: Decthings HTTP endpoints", len(ENDPOINTS))
    assert not failures, "\n".join(failures)


def test_every_decthings_websocket_endpoint_refuses_bad_credentials(leak_emulator: Emulator) -> None:
    failures: list[str] = []

    async def exercise() -> None:
        async with ClientSession() as session, session.ws_connect(leak_emulator.decthings_ws_url) as ws:
            request_id = 0
            for api, method in ENDPOINTS:
                for key in (None, WRONG_KEY):
                    request_id += 1
                    frame: dict[str, Any] = {"api": api, "method": method, "params": {}}
                    if key is not None:
                        frame["apiKey"] = key
                    await ws.send_bytes(encode_ws_request(request_id, json.dumps(frame).encode()))
                    msg = await ws.receive(timeout=10)
                    if msg.type != WSMsgType.BINARY:
                        failures.append(f"{api}.{method} [key={key!r}]: {msg.type}")
                        return
                    answer = decode_ws_server_frame(msg.data)
                    if not _refused(answer.payload):
                        failures.append(f"{api}.{method} [key={key!r}]: {str(answer.payload)[:120]}")
            good = {"api": "Dataset", "method": "getDatasets", "apiKey": LEAK_KEY, "params": {}}
            await ws.send_bytes(encode_ws_request(0, json.dumps(good).encode()))
            control = decode_ws_server_frame((await ws.receive(timeout=10)).data)
            assert "result" in control.payload  # the right key is served on the same connection

    asyncio.run(asyncio.wait_for(exercise(), 60))
    record("auth matrix: Decthings WebSocket endpoints", len(ENDPOINTS))
    assert not failures, "\n".join(failures)
