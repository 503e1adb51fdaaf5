"""The Decthings HTTP + WebSocket server, laid out like the real service (base URL `.../v0`).

    POST /v0/{Api}/{method}   request framing in, response framing out (`decthings.protocol`);
                              `Authorization: Bearer <key>`
    GET  /v0/ws               WebSocket: binary frames `u32 id + request framing`, JSON
                              {"api", "method", "apiKey", "params"}; responses carry the same id,
                              events are event frames. Requests on one connection run concurrently.

API errors are HTTP 200 with `{"error": {...}}`. An unknown API or a non-POST is HTTP 404 and a
malformed body (bad framing, JSON nested deeper than Python can parse, a number too long to
convert) HTTP 400, each with a short text body. A body over `MAX_BODY` is HTTP 413, and one not
received within `body_timeout` seconds HTTP 408 (the connection is closed), so a stalled upload
cannot hold a connection. A malformed WebSocket frame gets an error response when its request
id can be read (the connection is closed only when it cannot). Every call passes the emulator's shared fault
injector and call log under the name `/Decthings/<Api>.<method>` (so a fault pattern may be the bare
`Dataset.addEntries`, a glob like `Model.*`, or that full path): an UNAVAILABLE fault is an HTTP 503
(on the WebSocket, the connection is dropped), RESOURCE_EXHAUSTED the API error
`too_many_requests`, other codes the nearest API error; a fault's `delay` is honoured.

The server runs on its own event loop in a daemon thread; handlers run on a thread pool so one slow
call does not hold up the others.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import grpc
from aiohttp import WSCloseCode, WSMsgType, web

from modelwire.decthings.protocol import (
    ProtocolError,
    decode_http_request,
    decode_ws_request,
    dump_json,
    encode_http_response,
    encode_ws_response,
)
from modelwire.emulator.decthings.catalog import CATALOG
from modelwire.emulator.decthings.datasets import DatasetService
from modelwire.emulator.decthings.db import SCHEMA
from modelwire.emulator.decthings.errors import ApiError, JsonObject, Reply, invalid_parameter
from modelwire.emulator.decthings.events import Connection, EventHub
from modelwire.emulator.decthings.models import ModelService
from modelwire.emulator.decthings.training import TrainingManager
from modelwire.emulator.faults import CallLog, Fault, FaultInjector
from modelwire.emulator.store import Store

log = logging.getLogger("modelwire.emulator.decthings")

BASE_PATH: Final = "/v0"
MAX_BODY: Final = 256 * 2**20
MAX_WS_MESSAGE: Final = 256 * 2**20
BODY_TIMEOUT: Final = 60.0  # seconds to receive a whole request body
CALL_PREFIX: Final = "/Decthings/"
Handler = Callable[[JsonObject, list[bytes]], Reply]

# Injected fault codes -> API error codes (UNAVAILABLE is transport-level: 503 / dropped socket).
_FAULT_ERRORS: Final = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: "too_many_requests",
    grpc.StatusCode.UNAUTHENTICATED: "bad_credentials",
    grpc.StatusCode.PERMISSION_DENIED: "access_denied",
    grpc.StatusCode.FAILED_PRECONDITION: "payment_required",
}


@dataclass(frozen=True)
class _Unavailable:
    fault: Fault


@dataclass(frozen=True)
class _Answer:
    payload: JsonObject  # {"result": ...} or {"error": ...}
    blobs: list[bytes]
    after: bytes | None = None  # a WebSocket frame to send right after the response


def _why(exc: Exception) -> str:
    """A malformed body's problem, in words (Python's own messages here name no internals)."""
    if isinstance(exc, RecursionError):
        return "the JSON is nested too deeply"
    if isinstance(exc, ProtocolError):
        return str(exc)
    return f"the JSON cannot be read ({str(exc)[:200]})"


def _close(response: web.Response) -> web.Response:
    response.force_close()  # the rest of the body is not read, so the connection cannot be reused
    return response


def _fault_error(fault: Fault, api: str, params: JsonObject) -> ApiError:
    code = _FAULT_ERRORS.get(fault.code)
    if code is not None:
        return ApiError(code)
    if fault.code == grpc.StatusCode.INVALID_ARGUMENT:
        return invalid_parameter("", fault.message)
    if fault.code == grpc.StatusCode.NOT_FOUND and api == "Dataset":
        return ApiError("dataset_not_found", datasetId=str(params.get("datasetId", "")))
    if fault.code == grpc.StatusCode.NOT_FOUND and api == "Model":
        return ApiError("model_not_found")
    return ApiError("unknown", message=fault.message)


class DecthingsEmulator:
    """The Decthings part of the emulator: the services, and the HTTP/WebSocket server when started."""

    def __init__(
        self,
        *,
        store: Store,
        api_key: str,
        user_id: str,
        faults: FaultInjector | None = None,
        calls: CallLog | None = None,
        training_step_delay: float = 0.04,
        max_workers: int = 16,
    ) -> None:
        store.migrate(SCHEMA)
        self.api_key = api_key
        self.faults = faults or FaultInjector()
        self.calls = calls or CallLog()
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="emulator-decthings")
        self.hub = EventHub()
        self.datasets = DatasetService(store, user_id)
        self.models = ModelService(store, user_id, self.datasets)
        self.training = TrainingManager(store, self.models, self.hub, self.executor, training_step_delay)
        d, m, t = self.datasets, self.models, self.training
        self._handlers: dict[str, Handler] = {
            "Dataset.createDataset": d.create_dataset,
            "Dataset.updateDataset": d.update_dataset,
            "Dataset.deleteDataset": d.delete_dataset,
            "Dataset.getDatasets": d.get_datasets,
            "Dataset.addEntries": d.add_entries,
            "Dataset.addEntriesToNeedsReview": d.add_entries_to_needs_review,
            "Dataset.finalizeNeedsReviewEntries": d.finalize_needs_review_entries,
            "Dataset.getEntries": d.get_entries,
            "Dataset.getNeedsReviewEntries": d.get_needs_review_entries,
            "Dataset.removeEntries": d.remove_entries,
            "Dataset.removeNeedsReviewEntries": d.remove_needs_review_entries,
            "Model.createModel": m.create_model,
            "Model.waitForModelToBeCreated": m.wait_for_model_to_be_created,
            "Model.deleteModel": m.delete_model,
            "Model.updateModel": m.update_model,
            "Model.getModels": m.get_models,
            "Model.snapshotModel": m.snapshot_model,
            "Model.updateSnapshot": m.update_snapshot,
            "Model.deleteSnapshot": m.delete_snapshot,
            "Model.setFilesystemSize": m.set_filesystem_size,
            "Model.getFilesystemUsage": m.get_filesystem_usage,
            "Model.setImage": m.set_image,
            "Model.createState": m.create_state,
            "Model.uploadState": m.upload_state,
            "Model.cancelCreateState": m.cancel_create_state,
            "Model.getCreatingStates": m.get_creating_states,
            "Model.waitForStateToBeCreated": m.wait_for_state_to_be_created,
            "Model.updateModelState": m.update_model_state,
            "Model.setActiveModelState": m.set_active_model_state,
            "Model.setCurrentModelState": m.set_active_model_state,
            "Model.deleteModelState": m.delete_model_state,
            "Model.getModelState": m.get_model_state,
            "Model.getSnapshotState": m.get_snapshot_state,
            "Model.evaluate": m.evaluate,
            "Model.getEvaluations": m.get_evaluations,
            "Model.getFinishedEvaluationResult": m.get_finished_evaluation_result,
            "Model.cancelEvaluation": m.cancel_evaluation,
            "Model.setUsedPersistentLaunchersForEvaluate": m.set_used_persistent_launchers_for_evaluate,
            "Model.getUsedPersistentLaunchersForEvaluate": m.get_used_persistent_launchers_for_evaluate,
            "Model.train": t.train,
            "Model.getTrainingStatus": t.get_training_status,
            "Model.getTrainingMetrics": t.get_training_metrics,
            "Model.getTrainingSysinfo": t.get_training_sysinfo,
            "Model.cancelTrainingSession": t.cancel_training_session,
            "Model.clearPreviousTrainingSession": t.clear_previous_training_session,
        }
        self._connections: set[Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closed = False
        self.port = 0
        self.body_timeout = BODY_TIMEOUT

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve on host:port (0 = a free port) from a daemon thread; returns the port.

        Raises OSError when the address cannot be bound."""
        if self._thread is not None:
            return self.port
        if self._closed:
            raise RuntimeError("this Decthings emulator was closed")
        loop = asyncio.new_event_loop()
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                bound = loop.run_until_complete(self._serve(host, port))
            except BaseException as exc:
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(bound)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="emulator-decthings-loop", daemon=True)
        thread.start()
        self.port = ready.result(timeout=30)
        self._loop, self._thread = loop, thread
        self.training.loop = loop
        log.info("Decthings emulator listening on http://%s:%d%s", host, self.port, BASE_PATH)
        return self.port

    async def _serve(self, host: str, port: int) -> int:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", f"{BASE_PATH}/ws", self._ws)
        app.router.add_route("*", BASE_PATH + "/{api}/{method}", self._http)
        # lingering_time: after refusing a body (413/408), drain it for at most 1 s, then close.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, lingering_time=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        return int(runner.addresses[0][1])

    def close(self) -> None:
        """Stop serving (closing WebSockets, cancelling running training) and release the workers."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            except Exception:
                log.exception("stopping the Decthings server")
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            self._loop = self._thread = None
            self.training.loop = None
        self.executor.shutdown(wait=True, cancel_futures=True)
        self._closed = True

    async def _shutdown(self) -> None:
        await self.training.stop()
        await asyncio.gather(
            *(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for c in self._connections),
            return_exceptions=True,
        )
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def drop_websockets(self) -> int:
        """Abruptly close every open WebSocket (no close frame), as a server crash would; the
        connections' subscriptions are gone. Returns how many were dropped."""
        loop = self._loop
        if loop is None:
            return 0

        async def drop() -> int:
            conns = list(self._connections)
            for conn in conns:
                self.hub.drop(conn)
                self._connections.discard(conn)
                conn.abort()
            return len(conns)

        return asyncio.run_coroutine_threadsafe(drop(), loop).result(timeout=10)

    def connection_count(self) -> int:
        return len(self._connections)

    # -- calls ------------------------------------------------------------------------------------

    async def _call(
        self,
        api: str,
        method: str,
        api_key: object,
        params: JsonObject,
        blobs: list[bytes],
        conn: Connection | None,
    ) -> _Answer | _Unavailable:
        name = f"{api}.{method}"
        record = self.calls.start(CALL_PREFIX + name)
        try:
            if not isinstance(api_key, str) or api_key != self.api_key:
                raise ApiError("bad_credentials")
            fault = self.faults.take(CALL_PREFIX + name)
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.code == grpc.StatusCode.UNAVAILABLE:
                    self.calls.finish(record, "UNAVAILABLE")
                    return _Unavailable(fault)
                if fault.code != grpc.StatusCode.OK:
                    raise _fault_error(fault, api, params)
            (result, out_blobs), after = await self._dispatch(api, method, params, blobs, conn)
        except ApiError as exc:
            self.calls.finish(record, exc.code)
            return _Answer({"error": exc.body()}, [])
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            # A handler tripped over params it did not validate: the caller's input, not a bug.
            log.info("Decthings %s: unexpected params (%s)", name, type(exc).__name__, exc_info=True)
            self.calls.finish(record, "invalid_parameter")
            error = invalid_parameter("", f"{name} cannot use these params; check their types and values")
            return _Answer({"error": error.body()}, [])
        except Exception:
            # No exception text in the answer: it may show paths or data to a remote caller.
            log.exception("Decthings %s failed", name)
            self.calls.finish(record, "unknown")
            message = f"the modelwire emulator failed to serve {name}; see its log"
            return _Answer({"error": {"code": "unknown", "message": message}}, [])
        self.calls.finish(record, "OK")
        return _Answer({"result": result}, out_blobs, after)

    async def _dispatch(
        self, api: str, method: str, params: JsonObject, blobs: list[bytes], conn: Connection | None
    ) -> tuple[Reply, bytes | None]:
        name = f"{api}.{method}"
        if name in ("Model.subscribeToEvents", "Model.unsubscribeFromEvents"):
            if conn is None:
                raise ApiError(
                    "unknown", message=f"{name} is only available on the WebSocket ({BASE_PATH}/ws)"
                )
            if method == "subscribeToEvents":
                return self.training.subscribe(conn, params)
            return self.training.unsubscribe(conn, params), None
        handler = self._handlers.get(name)
        if handler is None:
            if method in CATALOG.get(api, ()):
                raise ApiError("unknown", message=f"{name} is not supported by the modelwire emulator")
            raise ApiError("unknown", message=f"{name} does not exist")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, handler, params, blobs), None

    # -- HTTP -------------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        api, method = request.match_info["api"], request.match_info["method"]
        if request.method != "POST":
            return web.Response(
                status=404,
                text=f"{request.method} {request.path}: Decthings API calls are "
                f"POST {BASE_PATH}/<Api>/<method>\n",
            )
        if api not in CATALOG:
            return web.Response(
                status=404, text=f"unknown Decthings API {api!r}; the APIs are {', '.join(sorted(CATALOG))}\n"
            )
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _close(web.Response(status=413, text=f"request body over {MAX_BODY} bytes\n"))
        try:
            body = await asyncio.wait_for(request.read(), self.body_timeout)
        except TimeoutError:
            return _close(
                web.Response(status=408, text=f"request body not received within {self.body_timeout:g}s\n")
            )
        except web.HTTPRequestEntityTooLarge:
            return _close(web.Response(status=413, text=f"request body over {MAX_BODY} bytes\n"))
        try:
            params, blobs = decode_http_request(body)
        except (ProtocolError, ValueError, RecursionError) as exc:
            return web.Response(status=400, text=f"malformed request body: {_why(exc)}\n")
        if not isinstance(params, dict):
            return web.Response(
                status=400, text="malformed request body: the JSON must be an object of params\n"
            )
        auth = request.headers.get("Authorization", "")
        key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        answer = await self._call(api, method, key, params, blobs, None)
        if isinstance(answer, _Unavailable):
            headers = {}
            if answer.fault.retry_delay is not None:
                headers["Retry-After"] = str(max(0, math.ceil(answer.fault.retry_delay)))
            return web.Response(
                status=503, text=f"service unavailable: {answer.fault.message}\n", headers=headers
            )
        body = encode_http_response(dump_json(answer.payload), answer.blobs)
        return web.Response(body=body, content_type="application/octet-stream")

    # -- WebSocket --------------------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            return web.Response(
                status=404, text=f"{BASE_PATH}/ws is the WebSocket endpoint (GET with Upgrade)\n"
            )
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, timeout=2.0)
        await ws.prepare(request)
        conn = Connection(ws, request)
        self._connections.add(conn)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    frame = bytes(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    frame = str(msg.data).encode()
                else:
                    break
                task = asyncio.get_running_loop().create_task(self._ws_request(conn, frame))
                conn.tasks.add(task)
                task.add_done_callback(conn.tasks.discard)
        finally:
            self._connections.discard(conn)
            self.hub.drop(conn)
            for task in list(conn.tasks):
                task.cancel()
        return ws

    async def _ws_request(self, conn: Connection, frame: bytes) -> None:
        shape = 'the request JSON must be {"api", "method", "apiKey", "params"}'
        try:
            request_id, payload, blobs = decode_ws_request(frame)
        except (ProtocolError, ValueError, RecursionError) as exc:
            if len(frame) < 4:  # no request id to answer to
                await conn.ws.close(
                    code=WSCloseCode.INVALID_TEXT, message=f"malformed frame: {_why(exc)}"[:120].encode()
                )
                return
            request_id = int.from_bytes(frame[:4], "big")
            error = invalid_parameter("", f"malformed request frame: {_why(exc)}").body()
            await conn.send(encode_ws_response(request_id, dump_json({"error": error})))
            return
        if not isinstance(payload, dict):
            answer: _Answer | _Unavailable = _Answer({"error": invalid_parameter("", shape).body()}, [])
        elif not isinstance(payload.get("api"), str) or not isinstance(payload.get("method"), str):
            answer = _Answer({"error": invalid_parameter("api", shape).body()}, [])
        elif not isinstance(payload.get("params", {}), dict):
            answer = _Answer({"error": invalid_parameter("params", "must be an object").body()}, [])
        else:
            params: Any = payload.get("params", {})
            answer = await self._call(
                payload["api"], payload["method"], payload.get("apiKey"), params, blobs, conn
            )
        if isinstance(answer, _Unavailable):
            self.hub.drop(conn)
            conn.abort()
            return
        await conn.send(encode_ws_response(request_id, dump_json(answer.payload), answer.blobs))
        if answer.after is not None:
            await conn.send(answer.after)
