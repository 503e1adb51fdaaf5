"""Training: background sessions, their status and metrics, and events over the WebSocket."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import numpy as np
from decthings_wire import Http, Ws, f32, key_def, make_dataset, param_blob

from modelwire.decthings import DecthingsTensor


async def regressor(http: Http) -> str:
    result, _ = await http.ok(
        "Model",
        "createModel",
        {
            "name": "lr",
            "description": "",
            "options": {"type": "fromExisting", "modelId": "decthings-linear-regressor"},
        },
    )
    return str(result["modelId"])


async def line_dataset(http: Http, n: int = 12) -> str:
    """y = 2*x0 - 3*x1 + 1, exactly."""
    ds_id = await make_dataset(
        http, f"line-{uuid.uuid4().hex[:6]}", [key_def("input", [2], ["f32"]), key_def("target", [], ["f32"])]
    )
    rng = np.random.default_rng(7)
    blobs = []
    for x in rng.uniform(-2, 2, size=(n, 2)).astype("<f4"):
        blobs.append(DecthingsTensor(x, "f32", [2]).serialize())
        blobs.append(DecthingsTensor([2 * float(x[0]) - 3 * float(x[1]) + 1], "f32", []).serialize())
    await http.ok("Dataset", "addEntries", {"datasetId": ds_id, "keys": ["input", "target"]}, blobs)
    return ds_id


def train_params(model_id: str, ds_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "newStateName": "trained",
        "params": [
            {"name": "input", "data": {"type": "dataset", "datasetId": ds_id, "datasetKey": "input"}},
            {"name": "target", "data": {"type": "dataset", "datasetId": ds_id, "datasetKey": "target"}},
        ],
        "executionLocation": {"type": "temporaryLauncher", "spec": {"cpus": 0.25, "memoryMebibytes": 256}},
        **extra,
    }


async def wait_finished(http: Http, model_id: str, session_id: str) -> dict[str, Any]:
    for _ in range(200):
        status, _ = await http.ok(
            "Model", "getTrainingStatus", {"modelId": model_id, "trainingSessionId": session_id}
        )
        if status["status"]["state"] in ("completed", "failed"):
            return dict(status)
        await asyncio.sleep(0.02)
    raise AssertionError("training did not finish")


async def test_train_with_events(http: Http, ws_connect) -> None:  # type: ignore[no-untyped-def]
    model_id, ds_id = await regressor(http), await line_dataset(http)
    ws: Ws = await ws_connect()
    payload, _ = await ws.call("Model", "train", train_params(model_id, ds_id))
    session_id = payload["result"]["trainingSessionId"]
    assert await ws.call("Model", "subscribeToEvents", {"trainingSessionId": session_id}) == (
        {"result": {}},
        [],
    )
    assert (
        session_id
        in (await http.ok("Model", "getModels", {"filter": {"ids": [model_id]}}))[0]["models"][0][
            "trainingSessions"
        ]
    )

    progress = []
    while True:
        event = await ws.event()
        assert event["api"] == "Model"
        if event["event"] == "exit":
            break
        assert event["event"] == "progress"
        progress.append(event["params"])
    assert [p["progress"] for p in progress] == sorted(p["progress"] for p in progress) and progress[-1][
        "progress"
    ] == 1
    assert all(p["trainingSessionId"] == session_id and p["modelId"] == model_id for p in progress)
    losses = [p["metrics"][0]["value"] for p in progress]
    assert [p["metrics"][0]["step"] for p in progress] == list(range(1, len(progress) + 1))
    assert losses == sorted(losses, reverse=True) and losses[-1] < 1e-8 < losses[0]
    exit_params = event["params"]
    assert exit_params["reason"] == "completed"
    new_state = exit_params["newStateId"]

    status = await wait_finished(http, model_id, session_id)
    assert status["status"]["createdStateId"] == new_state and status["newStateName"] == "trained"
    assert status["metrics"] == [{"name": "loss", "amount": len(progress)}]
    metrics, blobs = await http.ok(
        "Model",
        "getTrainingMetrics",
        {
            "modelId": model_id,
            "trainingSessionId": session_id,
            "metrics": [{"name": "loss", "startIndex": 1, "amount": 2}],
        },
    )
    assert len(metrics["metrics"][0]["entries"]) == 2 == len(blobs)
    assert [DecthingsTensor.deserialize(b)[0].item() for b in blobs] == losses[1:3]
    sysinfo, _ = await http.ok(
        "Model", "getTrainingSysinfo", {"modelId": model_id, "trainingSessionId": session_id}
    )
    assert len(sysinfo["sysinfo"]) == len(progress)

    m = (await http.ok("Model", "getModels", {"filter": {"ids": [model_id]}}))[0]["models"][0]
    trained = next(s for s in m["states"] if s["id"] == new_state)
    assert trained["name"] == "trained" and trained["trainingOperations"] == [session_id]
    assert m["ongoingTrainingSessions"] == []
    await http.ok("Model", "setActiveModelState", {"modelId": model_id, "stateId": new_state})
    _, out = await http.ok(
        "Model",
        "evaluate",
        {"modelId": model_id, "params": [{"name": "input"}]},
        [param_blob(f32([1, 1]), f32([0, 2]))],
    )
    assert np.allclose([t.item() for t in DecthingsTensor.deserialize_many(out[0])], [0.0, -5.0], atol=1e-4)


async def test_subscribe_after_the_end_and_unsubscribe(http: Http, ws_connect) -> None:  # type: ignore[no-untyped-def]
    model_id, ds_id = await regressor(http), await line_dataset(http, 4)
    result, _ = await http.ok("Model", "train", train_params(model_id, ds_id))  # over HTTP this time
    session_id = result["trainingSessionId"]
    await wait_finished(http, model_id, session_id)
    ws: Ws = await ws_connect()
    assert await ws.call("Model", "subscribeToEvents", {"trainingSessionId": session_id}) == (
        {"result": {}},
        [],
    )
    event = await ws.event()
    assert (event["event"], event["params"]["reason"]) == ("exit", "completed")
    assert ws.order == ["response:0", "event:exit"]
    assert await ws.call("Model", "unsubscribeFromEvents", {"trainingSessionId": session_id}) == (
        {"result": {}},
        [],
    )
    payload, _ = await ws.call("Model", "unsubscribeFromEvents", {"trainingSessionId": session_id})
    assert payload == {"error": {"code": "not_subscribed"}}
    payload, _ = await ws.call("Model", "subscribeToEvents", {"trainingSessionId": "nope"})
    assert payload == {"error": {"code": "training_session_not_found"}}


async def test_cancel_and_clear(http: Http, ws_connect) -> None:  # type: ignore[no-untyped-def]
    model_id, ds_id = await regressor(http), await line_dataset(http, 4)
    ws: Ws = await ws_connect()
    payload, _ = await ws.call("Model", "train", train_params(model_id, ds_id))
    session_id = payload["result"]["trainingSessionId"]
    await ws.call("Model", "subscribeToEvents", {"trainingSessionId": session_id})
    ids = {"modelId": model_id, "trainingSessionId": session_id}
    payload, _ = await ws.call("Model", "cancelTrainingSession", ids)
    assert payload == {"result": {}}
    while (event := await ws.event())["event"] != "exit":
        pass
    assert event["params"] == {"trainingSessionId": session_id, "modelId": model_id, "reason": "cancelled"}
    status = await wait_finished(http, model_id, session_id)
    assert status["status"]["failReason"] == {"code": "cancelled"}
    m = (await http.ok("Model", "getModels", {"filter": {"ids": [model_id]}}))[0]["models"][0]
    assert [s["name"] for s in m["states"]] == ["default"]
    assert await http.error("Model", "cancelTrainingSession", ids) == {"code": "training_session_not_running"}
    await http.ok("Model", "clearPreviousTrainingSession", ids)
    assert await http.error("Model", "getTrainingStatus", ids) == {"code": "training_session_not_found"}


async def test_training_failures(http: Http, ws_connect) -> None:  # type: ignore[no-untyped-def]
    ws: Ws = await ws_connect()
    result, _ = await http.ok(
        "Model",
        "createModel",
        {
            "name": "emb",
            "description": "",
            "options": {"type": "fromExisting", "modelId": "decthings-text-embedder"},
        },
    )
    payload, _ = await ws.call(
        "Model",
        "train",
        {"modelId": result["modelId"], "newStateName": "n", "params": [], "launcherSpec": None},
    )
    session_id = payload["result"]["trainingSessionId"]
    await ws.call("Model", "subscribeToEvents", {"trainingSessionId": session_id})
    event = await ws.event()
    assert event["event"] == "exit" and event["params"]["reason"] == "failed"
    error = event["params"]["error"]
    assert error.startswith("exception at train: ") and "no train function" in error

    model_id = await regressor(http)
    bad = {
        "modelId": model_id,
        "newStateName": "n",
        "trainingParams": [{"name": "input"}, {"name": "target"}],
    }
    payload, _ = await ws.call(
        "Model", "train", bad, [param_blob(f32([1, 2]), f32([3])), param_blob(f32([1], []), f32([2], []))]
    )
    session_id = payload["result"]["trainingSessionId"]
    status = await wait_finished(http, model_id, session_id)
    assert "inputs have different lengths" in status["status"]["failReason"]["exceptionDetails"]

    assert await http.error("Model", "train", {**bad, "modelId": "decthings-sum"}) == {
        "code": "access_denied"
    }
    missing = await http.error("Model", "train", {"modelId": model_id, "params": []})
    assert missing["parameterName"] == "newStateName"
