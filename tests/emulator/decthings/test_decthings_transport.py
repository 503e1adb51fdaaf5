"""The Decthings server's transport: routing, auth, framing errors, faults, the call log, the
WebSocket (concurrency, events framing, dropped connections) and the CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import aiohttp
import grpc
import pytest
from decthings_wire import KEY, Http

from modelwire.decthings.protocol import encode_ws_request
from modelwire.emulator import Emulator


async def test_auth_missing_or_wrong_key_is_bad_credentials(http: Http) -> None:
    for key in (None, "wrong"):
        payload, blobs = await http.call("Model", "getModels", {}, key=key)
        assert payload == {"error": {"code": "bad_credentials"}}
        assert blobs == []
    result, _ = await http.ok("Model", "getModels", {})
    assert result["total"] >= 3


async def test_routing_errors_are_404_and_bad_bodies_400(http: Http, emu: Emulator) -> None:
    status, body, _ = await http.raw("Nope", "getModels", {})
    assert status == 404 and b"unknown Decthings API 'Nope'" in body
    async with http.session.get(f"{emu.decthings_url}/Model/getModels") as resp:
        assert resp.status == 404 and "are POST" in await resp.text()
    url = f"{emu.decthings_url}/Model/getModels"
    headers = {"Authorization": f"Bearer {KEY}"}
    async with http.session.post(url, data=b"\x00\x05{}", headers=headers) as resp:
        assert resp.status == 400 and "malformed request body" in await resp.text()
    async with http.session.post(url, data=b"\x00\x02[]", headers=headers) as resp:
        assert resp.status == 400 and "object of params" in await resp.text()
    async with http.session.post(url, data=b"", headers=headers) as resp:
        assert resp.status == 400


async def test_unimplemented_and_unknown_methods(http: Http) -> None:
    for api, method in [
        ("FS", "read"),
        ("Team", "getTeams"),
        ("Terminal", "launchTerminalSession"),
        ("User", "getQuotas"),
    ]:
        assert await http.error(api, method, {}) == {
            "code": "unknown",
            "message": f"{api}.{method} is not supported by the modelwire emulator",
        }
    assert await http.error("Model", "fooBar", {}) == {
        "code": "unknown",
        "message": "Model.fooBar does not exist",
    }
    error = await http.error("Model", "subscribeToEvents", {"trainingSessionId": "x"})
    assert error["code"] == "unknown" and "WebSocket" in error["message"]


async def test_invalid_parameter_shape(http: Http) -> None:
    error = await http.error("Dataset", "createDataset", {"name": 3, "description": "", "keys": []})
    assert error == {
        "code": "invalid_parameter",
        "parameterName": "name",
        "reason": "must be a string, got a number",
    }


async def test_faults_http(http: Http, emu: Emulator) -> None:
    emu.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, times=2, retry_delay=1.5)
    for _ in range(2):
        status, body, resp = await http.raw("Model", "getModels", {})
        assert status == 503 and b"injected fault" in body
        assert resp.headers["Retry-After"] == "2"
    await http.ok("Model", "getModels", {})

    emu.faults.add("/Decthings/Dataset.*", grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert await http.error("Dataset", "getDatasets", {}) == {"code": "too_many_requests"}
    emu.faults.add("Dataset.getDatasets", grpc.StatusCode.NOT_FOUND)
    assert (await http.error("Dataset", "getDatasets", {}))["code"] == "dataset_not_found"
    emu.faults.add("Model.getModels", grpc.StatusCode.INTERNAL, message="boom")
    assert await http.error("Model", "getModels", {}) == {"code": "unknown", "message": "boom"}

    emu.faults.add("Model.getModels", grpc.StatusCode.OK, delay=0.2)
    started = time.monotonic()
    await http.ok("Model", "getModels", {})
    assert time.monotonic() - started >= 0.2


async def test_call_log(http: Http, emu: Emulator) -> None:
    emu.calls.clear()
    await http.ok("Model", "getModels", {})
    await http.call("Model", "getModels", {}, key="nope")
    await http.error("Dataset", "deleteDataset", {"datasetId": "missing"})
    records = emu.calls.records("/Decthings/*")
    assert [(r.method, r.code) for r in records] == [
        ("/Decthings/Model.getModels", "OK"),
        ("/Decthings/Model.getModels", "bad_credentials"),
        ("/Decthings/Dataset.deleteDataset", "dataset_not_found"),
    ]
    assert len(emu.calls.records("Model.getModels")) == 2
    assert all(r.finished is not None for r in records)


async def test_ws_requests_run_concurrently_and_keep_their_ids(ws_connect, emu: Emulator) -> None:  # type: ignore[no-untyped-def]
    ws = await ws_connect()
    emu.faults.add("Model.getModels", grpc.StatusCode.OK, delay=0.3)
    slow = await ws.send("Model", "getModels", {"limit": 1})
    fast = await ws.send("Dataset", "getDatasets", {})
    fast_frame = await asyncio.wait_for(fast, 5)
    assert not slow.done()
    slow_frame = await asyncio.wait_for(slow, 5)
    assert (fast_frame.request_id, slow_frame.request_id) == (1, 0)
    assert ws.order == ["response:1", "response:0"]
    assert slow_frame.payload["result"]["limit"] == 1


async def test_ws_auth_and_unknown_api(ws_connect) -> None:  # type: ignore[no-untyped-def]
    ws = await ws_connect()
    assert await ws.call("Model", "getModels", {}, key=None) == ({"error": {"code": "bad_credentials"}}, [])
    payload, _ = await ws.call("Nope", "x", {})
    assert payload == {"error": {"code": "unknown", "message": "Nope.x does not exist"}}


async def test_ws_malformed_json_gets_an_error_response(ws_connect) -> None:  # type: ignore[no-untyped-def]
    ws = await ws_connect()
    await ws.ws.send_bytes(encode_ws_request(7, b'{"api": 1}'))
    await asyncio.sleep(0.05)
    fut = await ws.send("Model", "getModels", {"limit": 0})
    await asyncio.wait_for(fut, 5)
    assert "response:7" in ws.order


async def test_ws_unavailable_fault_drops_the_connection(ws_connect, emu: Emulator) -> None:  # type: ignore[no-untyped-def]
    ws = await ws_connect()
    emu.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE)
    fut = await ws.send("Model", "getModels", {})
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(fut, 5)
    await asyncio.wait_for(ws.closed.wait(), 5)
    again = await ws_connect()
    payload, _ = await again.call("Model", "getModels", {"limit": 1})
    assert "result" in payload


async def test_drop_websockets(ws_connect, emu: Emulator) -> None:  # type: ignore[no-untyped-def]
    first, second = await ws_connect(), await ws_connect()
    await first.call("Model", "getModels", {"limit": 1})
    await second.call("Model", "getModels", {"limit": 1})
    dropped = await asyncio.get_running_loop().run_in_executor(None, emu.decthings.drop_websockets)
    assert dropped == 2
    await asyncio.wait_for(first.closed.wait(), 5)
    await asyncio.wait_for(second.closed.wait(), 5)
    assert emu.decthings.connection_count() == 0
    third = await ws_connect()
    payload, _ = await third.call("Model", "getModels", {"limit": 1})
    assert payload["result"]["limit"] == 1


def test_client_env_and_urls(emu: Emulator) -> None:
    env = emu.client_env()
    assert env["DECTHINGS_API_KEY"] == KEY
    assert env["DECTHINGS_HTTP_URL"] == f"http://127.0.0.1:{emu.http_port}/v0" == emu.decthings_url
    assert env["DECTHINGS_WS_URL"] == f"ws://127.0.0.1:{emu.http_port}/v0/ws" == emu.decthings_ws_url
    assert emu.http_port and emu.http_port != emu.port
    with Emulator(api_key="k") as grpc_only:
        assert "DECTHINGS_HTTP_URL" not in grpc_only.client_env()
        assert not grpc_only.decthings.running


def test_cli_serve_with_http_port() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "modelwire.cli",
        "serve",
        "--port",
        "0",
        "--http-port",
        "0",
        "--api-key",
        "cli-key",
    ]

    async def get_models(url: str) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            payload, _ = await Http(session, url).call("Model", "getModels", {"limit": 1}, key="cli-key")
            return payload

    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(2)]
            assert "Decthings (HTTP + WebSocket): http://127.0.0.1:" in lines[1], lines
            url = lines[1].split()[4]
            assert asyncio.run(get_models(url))["result"]["total"] >= 3
            exported = ""
            while "DECTHINGS_WS_URL" not in exported:
                exported += proc.stdout.readline()
            assert f"export DECTHINGS_HTTP_URL={url}" in exported
        finally:
            proc.terminate()
            proc.wait(10)


async def test_stop_closes_open_websockets() -> None:
    emulator = Emulator(api_key=KEY, http_port=0).start()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(emulator.decthings_ws_url)
        started = time.monotonic()
        stopping = asyncio.get_running_loop().run_in_executor(None, emulator.stop)
        msg = await asyncio.wait_for(ws.receive(), 5)
        await stopping
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.GOING_AWAY
        assert time.monotonic() - started < 3
        await ws.close()
