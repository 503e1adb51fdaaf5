"""Training sessions: `Model.train` and friends, run in the background, with WebSocket events.

A session runs as a task on the server's event loop: the model's train function advances one step
at a time on a worker thread, with a short pause before each step (`step_delay`) so progress is
observable; every step records its metrics and sends a `progress` event, and the end creates the
new state and sends `exit`. Cancelling sets a flag the task checks between steps, so a cancelled
session never creates its state.

Events (a modelwire extension; the public API has no training events) go to connections that sent
`Model.subscribeToEvents {trainingSessionId}` on the WebSocket:

    progress  {trainingSessionId, modelId, progress (0..1), metrics: [{name, step, value}]}
    exit      {trainingSessionId, modelId, reason: "completed"|"failed"|"cancelled", newStateId?, error?}

(`error`, with reason "failed", is a one-line string such as "exception at train: ..."; the structured
reason is getTrainingStatus' `status.failReason`.)

A subscription made after the session ended gets its `exit` at once, right after the response.
Sessions are stored; one that was running when the emulator stopped comes back failed with
`launcher_terminated`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Generator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Final

from modelwire.decthings.tensor import DecthingsTensor
from modelwire.emulator.decthings.builtins import (
    Builtin,
    ModelException,
    StateData,
    TensorParams,
    TrainStep,
    builtin,
)
from modelwire.emulator.decthings.db import dumps, loads, new_id, now_ms
from modelwire.emulator.decthings.errors import (
    ApiError,
    JsonObject,
    Reply,
    as_int,
    as_object,
    invalid_parameter,
    opt_int,
    req_list,
    req_str,
)
from modelwire.emulator.decthings.events import Connection, EventHub, event_frame
from modelwire.emulator.decthings.models import NOT_RUNNABLE, ModelService
from modelwire.emulator.store import Store

log = logging.getLogger("modelwire.emulator.decthings")

EVENT_API: Final = "Model"
_FINISHED: Final = ("completed", "failed")
_START_DURATIONS: Final[JsonObject] = {"createLauncher": 0, "codeStartup": 0, "createInstantiatedModel": 0}


@dataclass
class Session:
    id: str
    model_id: str
    new_state_name: str
    created_at: int
    execution_location: JsonObject
    base_operations: list[str]
    status: JsonObject
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    sysinfo: list[JsonObject] = field(default_factory=list)
    cancel_requested: bool = False
    exit_event: JsonObject | None = None  # set on the event loop when the session ends

    @property
    def running(self) -> bool:
        return self.status["state"] not in _FINISHED

    def doc(self) -> JsonObject:
        return {
            "newStateName": self.new_state_name,
            "executionLocation": self.execution_location,
            "baseOperations": self.base_operations,
            "status": self.status,
            "metrics": {k: [list(p) for p in v] for k, v in self.metrics.items()},
            "sysinfo": self.sysinfo,
        }

    @classmethod
    def from_row(cls, row: Any) -> Session:
        doc = loads(row["doc"])
        return cls(
            id=row["id"],
            model_id=row["model_id"],
            new_state_name=doc["newStateName"],
            created_at=row["created_ms"],
            execution_location=doc["executionLocation"],
            base_operations=doc["baseOperations"],
            status=doc["status"],
            metrics={k: [(int(t), float(v)) for t, v in pts] for k, pts in doc["metrics"].items()},
            sysinfo=doc["sysinfo"],
        )

    def exit_params(self) -> JsonObject:
        params: JsonObject = {"trainingSessionId": self.id, "modelId": self.model_id}
        if self.status["state"] == "completed":
            return {**params, "reason": "completed", "newStateId": self.status["createdStateId"]}
        fail = self.status.get("failReason", {"code": "unknown"})
        if fail.get("code") == "cancelled":
            return {**params, "reason": "cancelled"}
        return {**params, "reason": "failed", "error": describe_failure(fail)}


def describe_failure(fail: JsonObject) -> str:
    """An exit event's `error`: one line from getTrainingStatus' structured `failReason`."""
    text = str(fail.get("code", "unknown"))
    if fail.get("at"):
        text += f" at {fail['at']}"
    if fail.get("exceptionDetails"):
        text += f": {fail['exceptionDetails']}"
    return text


def _advance(gen: Generator[TrainStep, None, StateData]) -> tuple[TrainStep | None, StateData | None]:
    # StopIteration cannot travel through a Future, so the generator's end is returned instead.
    try:
        return next(gen), None
    except StopIteration as stop:
        return None, stop.value


class TrainingManager:
    def __init__(
        self, store: Store, models: ModelService, hub: EventHub, executor: Executor, step_delay: float = 0.04
    ) -> None:
        self.store = store
        self.models = models
        self.hub = hub
        self.executor = executor
        self.step_delay = step_delay
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._running: set[asyncio.Task[Any]] = set()  # session tasks, touched on the loop only
        for row in store.query("SELECT * FROM decthings_training ORDER BY created_ms"):
            session = Session.from_row(row)
            if session.running:  # the emulator stopped while it ran
                self._fail(session, {"code": "launcher_terminated"})
            session.exit_event = session.exit_params()
            self._sessions[session.id] = session
        models.training = self

    # -- bookkeeping ------------------------------------------------------------------------------

    def _persist(self, s: Session) -> None:
        # UPDATE only: a session whose model was deleted must not come back.
        self.store.execute("UPDATE decthings_training SET doc = ? WHERE id = ?", (dumps(s.doc()), s.id))

    def _fail(self, s: Session, reason: JsonObject, train_ms: int | None = None) -> None:
        status: JsonObject = {
            "state": "failed",
            "startDurations": _START_DURATIONS,
            "finishedAt": now_ms(),
            "failReason": reason,
        }
        if train_ms is not None:
            status["trainDuration"] = train_ms
        s.status = status
        self._persist(s)

    def sessions_of(self, model_id: str) -> tuple[list[str], list[str]]:
        with self._lock:
            mine = [s for s in self._sessions.values() if s.model_id == model_id]
        return [s.id for s in mine if s.running], [s.id for s in mine]

    def forget_model(self, model_id: str) -> None:
        with self._lock:
            for s in [s for s in self._sessions.values() if s.model_id == model_id]:
                if s.running:
                    s.cancel_requested = True
                    self._fail(s, {"code": "cancelled"})
                del self._sessions[s.id]

    def _session(self, params: JsonObject) -> Session:
        row = self.models.model_row(params.get("modelId"))
        session_id = req_str(params, "trainingSessionId")
        with self._lock:
            s = self._sessions.get(session_id)
        if s is None or s.model_id != row["id"]:
            raise ApiError("training_session_not_found")
        return s

    # -- API --------------------------------------------------------------------------------------

    def train(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        if self.loop is None:
            raise ApiError("server_overloaded")
        row = self.models.model_row(params.get("modelId"), write=True)
        doc = loads(row["doc"])
        name = req_str(params, "newStateName", nonempty=True)
        key = "params" if "params" in params else "trainingParams"  # current / older clients
        items = req_list(params, key)
        location = self.models.execution_location(params, doc["defaultLauncherSpecs"]["evaluate"])
        state_id = params.get("stateId") or doc["activeState"]
        try:
            base = self.models.state_row(row["id"], state_id)
        except ApiError:
            raise invalid_parameter("stateId", f"the model has no state {state_id!r}") from None
        tensors = self.models.resolve_params(items, blobs, key)
        state = self.models.data(row["id"], "state", base["id"])
        s = Session(
            id=new_id(),
            model_id=row["id"],
            new_state_name=name,
            created_at=now_ms(),
            execution_location=location,
            base_operations=loads(base["doc"])["trainingOperations"],
            status={"state": "starting"},
        )
        self.store.execute(
            "INSERT INTO decthings_training (id, model_id, created_ms, doc) VALUES (?,?,?,?)",
            (s.id, s.model_id, s.created_at, dumps(s.doc())),
        )
        with self._lock:
            self._sessions[s.id] = s
        asyncio.run_coroutine_threadsafe(self._run(s, builtin(doc.get("builtin")), state, tensors), self.loop)
        return {"trainingSessionId": s.id}, []

    def get_training_status(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        s = self._session(params)
        with self._lock:
            return {
                "id": s.id,
                "modelId": s.model_id,
                "newStateName": s.new_state_name,
                "createdAt": s.created_at,
                "metrics": [{"name": k, "amount": len(v)} for k, v in s.metrics.items()],
                "executionLocation": s.execution_location,
                "status": dict(s.status),
            }, []

    def get_training_metrics(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        s = self._session(params)
        out: list[JsonObject] = []
        out_blobs: list[bytes] = []
        for i, item in enumerate(req_list(params, "metrics")):
            where = f"metrics[{i}]"
            obj = as_object(item, where)
            name = req_str(obj, "name", where)
            start = as_int(obj.get("startIndex", 0), f"{where}.startIndex")
            amount = as_int(obj.get("amount"), f"{where}.amount")
            with self._lock:
                points = list(s.metrics.get(name, []))[start : start + amount]
            out.append({"name": name, "startIndex": start, "entries": [{"timestamp": t} for t, _ in points]})
            out_blobs.extend(DecthingsTensor([v], "f64", []).serialize() for _, v in points)
        return {"metrics": out}, out_blobs

    def get_training_sysinfo(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        s = self._session(params)
        since = opt_int(params, "fromTimestamp", 0)
        with self._lock:
            return {"sysinfo": [p for p in s.sysinfo if p["timestamp"] >= since]}, []

    def cancel_training_session(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        s = self._session(params)
        self.models.model_row(s.model_id, write=True)
        with self._lock:
            if not s.running:
                raise ApiError("training_session_not_running")
            s.cancel_requested = True
            self._fail(s, {"code": "cancelled"})
        return {}, []

    def clear_previous_training_session(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        s = self._session(params)
        self.models.model_row(s.model_id, write=True)
        with self._lock:
            if s.running:
                raise ApiError("training_session_running")
            self._sessions.pop(s.id, None)
        self.store.execute("DELETE FROM decthings_training WHERE id = ?", (s.id,))
        return {}, []

    # -- events (on the event loop) ---------------------------------------------------------------

    def subscribe(self, conn: Connection, params: JsonObject) -> tuple[Reply, bytes | None]:
        """Subscribe `conn`; also the exit event to send after the response if the session ended."""
        session_id = req_str(params, "trainingSessionId")
        with self._lock:
            s = self._sessions.get(session_id)
        if s is None:
            raise ApiError("training_session_not_found")
        self.hub.subscribe(session_id, conn)
        # Read in the same loop step as subscribing: an exit published before now missed this
        # connection, and one published later reaches it through the hub, never both.
        ended = s.exit_event
        return ({}, []), None if ended is None else event_frame(EVENT_API, "exit", ended)

    def unsubscribe(self, conn: Connection, params: JsonObject) -> Reply:
        if not self.hub.unsubscribe(req_str(params, "trainingSessionId"), conn):
            raise ApiError("not_subscribed")
        return {}, []

    # -- the session task -------------------------------------------------------------------------

    async def _run(self, s: Session, model: Builtin | None, state: StateData, tensors: TensorParams) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        spec = s.execution_location["spec"]

        def train_ms() -> int:
            return round((loop.time() - started) * 1000)

        try:
            with self._lock:
                if not s.cancel_requested:
                    s.status = {"state": "running", "startDurations": _START_DURATIONS, "progress": 0}
                    self._persist(s)
            if model is None:
                raise ModelException("codeStartup", NOT_RUNNABLE)
            gen = model.train(state, tensors)
            step = 0
            while True:
                await asyncio.sleep(self.step_delay)
                if s.cancel_requested:
                    return
                item, final = await loop.run_in_executor(self.executor, _advance, gen)
                if s.cancel_requested:
                    return
                if item is None:
                    break
                step += 1
                stamp = now_ms()
                with self._lock:
                    for name, value in item.metrics.items():
                        s.metrics.setdefault(name, []).append((stamp, value))
                    s.sysinfo.append(
                        {
                            "timestamp": stamp,
                            "cpus": spec["cpus"],
                            "memory": spec["memoryMebibytes"] * 2**20 // 8,
                        }
                    )
                    s.status = {
                        "state": "running",
                        "startDurations": _START_DURATIONS,
                        "progress": item.progress,
                    }
                    self._persist(s)
                metrics = [{"name": k, "step": step, "value": v} for k, v in item.metrics.items()]
                await self.hub.publish(
                    s.id,
                    EVENT_API,
                    "progress",
                    {
                        "trainingSessionId": s.id,
                        "modelId": s.model_id,
                        "progress": item.progress,
                        "metrics": metrics,
                    },
                )
            assert final is not None
            took = train_ms()
            with self._lock:
                if not s.cancel_requested:
                    s.status = {
                        "state": "gettingState",
                        "startDurations": _START_DURATIONS,
                        "trainDuration": took,
                    }
                    self._persist(s)
            await loop.run_in_executor(self.executor, self._save_state, s, final, took)
        except ModelException as exc:
            with self._lock:
                if not s.cancel_requested:
                    self._fail(s, exc.error(), train_ms())
        except asyncio.CancelledError:  # the server is stopping: the next start reports it
            return
        except Exception:
            log.exception("training session %s failed", s.id)
            with self._lock:
                if not s.cancel_requested:
                    self._fail(s, {"code": "unknown"}, train_ms())
        finally:
            if task is not None:
                self._running.discard(task)
            if s.exit_event is None and not s.running:
                s.exit_event = s.exit_params()
                await self.hub.publish(s.id, EVENT_API, "exit", s.exit_event)

    def _save_state(self, s: Session, data: StateData, took: int) -> None:
        with self._lock:
            if s.cancel_requested:
                return
            with self.store.transaction() as conn:
                alive = conn.execute("SELECT 1 FROM decthings_models WHERE id = ?", (s.model_id,)).fetchone()
                if alive is None:
                    return
                state_id = self.models.insert_state(
                    conn, s.model_id, s.new_state_name, data, [*s.base_operations, s.id]
                )
            s.status = {
                "state": "completed",
                "startDurations": _START_DURATIONS,
                "trainDuration": took,
                "getStateDuration": 0,
                "finishedAt": now_ms(),
                "createdStateId": state_id,
            }
            self._persist(s)

    async def stop(self) -> None:
        """Cancel running session tasks (on the event loop, before the server stops)."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
