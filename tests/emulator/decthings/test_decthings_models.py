"""The Model API over HTTP: built-in models, creation, states, snapshots and evaluation."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from decthings_wire import Http, f32, key_def, make_dataset, param_blob, text

from modelwire.decthings import DecthingsTensor

EMBEDDER = "decthings-text-embedder"
SUM = "decthings-sum"
REGRESSOR = "decthings-linear-regressor"


async def model(http: Http, model_id: str) -> dict[str, Any]:
    result, _ = await http.ok("Model", "getModels", {"filter": {"ids": [model_id]}})
    assert result["total"] == 1, result
    return dict(result["models"][0])


async def copy_of(http: Http, source: str, name: str = "copy", **options: Any) -> str:
    result, _ = await http.ok(
        "Model",
        "createModel",
        {"name": name, "description": "", "options": {"type": "fromExisting", "modelId": source, **options}},
    )
    assert result["isNowCreating"] is False
    return str(result["modelId"])


async def evaluate(
    http: Http, model_id: str, *params: tuple[str, list[DecthingsTensor]], **extra: Any
) -> Any:
    result, blobs = await http.ok(
        "Model",
        "evaluate",
        {"modelId": model_id, "params": [{"name": name} for name, _ in params], **extra},
        [param_blob(*tensors) for _, tensors in params],
    )
    return result, [DecthingsTensor.deserialize_many(b) for b in blobs]


async def test_builtins_are_listed(http: Http, emu) -> None:  # type: ignore[no-untyped-def]
    result, _ = await http.ok("Model", "getModels", {"filter": {"owners": ["decthings"]}, "sort": "name"})
    assert [m["id"] for m in result["models"]] == [REGRESSOR, SUM, EMBEDDER]
    emb = result["models"][2]
    assert emb["owner"] == {"userId": "decthings", "username": "decthings"}
    assert emb["access"] == "read" and emb["beingCreated"] is False
    assert emb["parameterDefinitions"]["evaluateInput"] == [
        {
            "name": "input",
            "required": True,
            "rules": {"shape": [], "allowedTypes": ["string"], "annotations": []},
        }
    ]
    assert emb["parameterDefinitions"]["evaluateOutput"][0]["rules"]["shape"] == [512]
    assert emb["activeState"] == emb["states"][0]["id"]
    assert emb["defaultLauncherSpecs"]["evaluate"] == {"cpus": 0.25, "memoryMebibytes": 256}
    for field in ("language", "wasm", "image", "maxDurationsSeconds", "filesystemSizeMebibytes", "snapshots"):
        assert field in emb
    result, _ = await http.ok("Model", "getModels", {"filter": {"searchName": "REGRESS"}})
    assert [m["id"] for m in result["models"]] == [REGRESSOR]
    result, _ = await http.ok(
        "Model", "getModels", {"filter": {"tags": [{"tag": "type", "value": "numeric"}]}}
    )
    assert [m["id"] for m in result["models"]] == [SUM]


async def test_text_embedder(http: Http) -> None:
    texts = ["the cat sat on the mat", "the cat sat on a mat", "quarterly revenue grew"]
    result, outputs = await evaluate(http, EMBEDDER, ("input", [text(t) for t in texts]))
    success = result["success"]
    assert success["output"] == [{"name": "embedding"}]
    assert success["executedOnLauncher"] == {
        "type": "temporaryLauncher",
        "spec": {"cpus": 0.25, "memoryMebibytes": 256},
    }
    assert set(success["durations"]) >= {"evaluate"} and success["totalDuration"] >= 0
    vectors = [t.numpy() for t in outputs[0]]
    assert all(t.type() == "f32" and t.shape() == [512] for t in outputs[0])
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in vectors)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.3
    _, again = await evaluate(http, EMBEDDER, ("input", [text(texts[0])]))
    assert again[0][0] == outputs[0][0]  # deterministic

    result, outputs = await evaluate(http, EMBEDDER, ("input", [f32([1.0])]))
    assert outputs == []
    failed = result["failed"]
    assert failed["error"]["code"] == "exception" and failed["error"]["at"] == "evaluate"
    assert "type f32 is not allowed" in failed["error"]["exceptionDetails"]
    result, _ = await evaluate(http, EMBEDDER, ("text", [text("x")]))
    assert "unexpected parameter" in result["failed"]["error"]["exceptionDetails"]
    result, _ = await evaluate(http, EMBEDDER)
    assert "'input' is required" in result["failed"]["error"]["exceptionDetails"]


async def test_sum_with_lists_and_datasets(http: Http) -> None:
    result, outputs = await evaluate(
        http, SUM, ("input", [DecthingsTensor([1.0, 2.0, 3.0, 4.5], "f64", [2, 2]), f32([0.25])])
    )
    assert result["success"]["output"] == [{"name": "output"}]
    assert [(t.type(), t.shape(), t.item()) for t in outputs[0]] == [("f64", [], 10.5), ("f64", [], 0.25)]

    ds_id = await make_dataset(http, f"sum-{uuid.uuid4().hex[:6]}", [key_def("v", [-1], ["f32"])])
    await http.ok(
        "Dataset",
        "addEntries",
        {"datasetId": ds_id, "keys": ["v"]},
        [f32([1, 2]).serialize(), f32([5]).serialize()],
    )
    ref = {"type": "dataset", "datasetId": ds_id, "datasetKey": "v"}
    result, blobs = await http.ok(
        "Model", "evaluate", {"modelId": SUM, "params": [{"name": "input", "data": ref}]}
    )
    assert [t.item() for t in DecthingsTensor.deserialize_many(blobs[0])] == [3.0, 5.0]
    missing_key = {"modelId": SUM, "params": [{"name": "input", "data": {**ref, "datasetKey": "w"}}]}
    assert await http.error("Model", "evaluate", missing_key) == {
        "code": "dataset_key_not_found",
        "datasetId": ds_id,
        "datasetKey": "w",
    }
    missing = {"modelId": SUM, "params": [{"name": "input", "data": {**ref, "datasetId": "nope"}}]}
    assert await http.error("Model", "evaluate", missing) == {
        "code": "dataset_not_found",
        "datasetId": "nope",
    }
    # Blob bookkeeping: one blob per list-data parameter.
    error = await http.error("Model", "evaluate", {"modelId": SUM, "params": [{"name": "input"}]})
    assert error["code"] == "invalid_parameter" and error["parameterName"] == "params[0]"
    error = await http.error("Model", "evaluate", {"modelId": SUM, "params": []}, [b"x"])
    assert error["parameterName"] == "params"
    error = await http.error("Model", "evaluate", {"modelId": SUM, "params": [{"name": "input"}]}, [b"\x01"])
    assert error["parameterName"] == "params[0].data"
    assert await http.error("Model", "evaluate", {"modelId": "nope", "params": []}) == {
        "code": "model_not_found"
    }


async def test_create_models_and_states(http: Http) -> None:
    model_id = await copy_of(http, REGRESSOR, "regressor")
    m = await model(http, model_id)
    assert m["access"] == "readwrite" and m["parameterDefinitions"]["train"][1]["name"] == "target"
    assert [s["name"] for s in m["states"]] == ["default"] and m["activeState"] == m["states"][0]["id"]
    assert {k["key"] for k in m["states"][0]["state"]} == {"weights", "bias"}

    result, _ = await http.ok(
        "Model",
        "createState",
        {
            "modelId": model_id,
            "name": "three",
            "params": [{"name": "inputSize"}],
            "executionLocation": {"type": "temporaryLauncher", "spec": {"cpus": 0.5, "memoryMebibytes": 512}},
        },
        [param_blob(DecthingsTensor([3], "i32", []))],
    )
    state_id = result["success"]["stateId"]
    assert result["success"]["durations"]["createState"] >= 0
    data, blobs = await http.ok("Model", "getModelState", {"modelId": model_id, "stateId": state_id})
    assert data == {"data": [{"key": "weights"}, {"key": "bias"}]}
    assert DecthingsTensor.deserialize(blobs[0])[0] == f32([0, 0, 0])
    _, only_bias = await http.ok(
        "Model", "getModelState", {"modelId": model_id, "stateId": state_id, "keys": ["bias"]}
    )
    assert only_bias == [blobs[1]]
    assert await http.error("Model", "getModelState", {"modelId": model_id, "keys": ["nope"]}) == {
        "code": "state_key_not_found"
    }
    failed, _ = await http.ok(
        "Model",
        "createState",
        {"modelId": model_id, "name": "x", "params": [{"name": "bogus"}]},
        [param_blob(f32([1]))],
    )
    assert failed["failed"]["error"]["at"] == "createState"

    # Upload a state by hand (the Python client's stateKeyNames), activate it, evaluate with it.
    weights = f32([2, -1]).serialize()
    bias = DecthingsTensor([0.5], "f32", []).serialize()
    result, _ = await http.ok(
        "Model",
        "uploadState",
        {"modelId": model_id, "name": "manual", "stateKeyNames": ["weights", "bias"]},
        [weights, bias],
    )
    manual = result["stateId"]
    await http.ok("Model", "setCurrentModelState", {"modelId": model_id, "stateId": manual})  # stale name
    assert (await model(http, model_id))["activeState"] == manual
    _, outputs = await evaluate(http, model_id, ("input", [f32([3, 4]), f32([0, 0])]))
    assert [t.item() for t in outputs[0]] == [2.5, 0.5]
    await http.ok("Model", "setActiveModelState", {"modelId": model_id, "stateId": state_id})
    assert await http.error("Model", "deleteModelState", {"modelId": model_id, "stateId": state_id}) == {
        "code": "state_is_active"
    }
    await http.ok(
        "Model", "updateModelState", {"modelId": model_id, "stateId": manual, "properties": {"name": "hand"}}
    )
    await http.ok("Model", "deleteModelState", {"modelId": model_id, "stateId": manual})
    names = [s["name"] for s in (await model(http, model_id))["states"]]
    assert names == ["default", "three"]
    assert await http.error("Model", "setActiveModelState", {"modelId": model_id, "stateId": manual}) == {
        "code": "state_not_found"
    }
    # uploadState's deleteStates removes states in the same operation.
    result, _ = await http.ok(
        "Model",
        "uploadState",
        {
            "modelId": model_id,
            "name": "again",
            "data": [{"key": "weights"}, {"key": "bias"}],
            "deleteStates": [m["activeState"]],
        },
        [weights, bias],
    )
    assert [s["name"] for s in (await model(http, model_id))["states"]] == ["three", "again"]


async def test_snapshots_and_based_on_snapshot(http: Http) -> None:
    model_id = await copy_of(http, REGRESSOR, "snap-source")
    weights, bias = f32([1, 1]).serialize(), DecthingsTensor([0], "f32", []).serialize()
    result, _ = await http.ok(
        "Model",
        "uploadState",
        {"modelId": model_id, "name": "w11", "stateKeyNames": ["weights", "bias"]},
        [weights, bias],
    )
    await http.ok("Model", "setActiveModelState", {"modelId": model_id, "stateId": result["stateId"]})
    snap, _ = await http.ok("Model", "snapshotModel", {"modelId": model_id, "snapshotName": "v1"})
    snapshot_id = snap["snapshotId"]
    await http.ok(
        "Model",
        "updateSnapshot",
        {"modelId": model_id, "snapshotId": snapshot_id, "properties": {"name": "v1.0"}},
    )
    m = await model(http, model_id)
    assert [(s["id"], s["name"], s["state"]["name"]) for s in m["snapshots"]] == [
        (snapshot_id, "v1.0", "w11")
    ]
    state, blobs = await http.ok(
        "Model", "getSnapshotState", {"modelId": model_id, "snapshotId": snapshot_id}
    )
    assert state == {"data": [{"key": "weights"}, {"key": "bias"}]} and blobs == [weights, bias]

    # Changing the model does not change the snapshot.
    await http.ok("Model", "setActiveModelState", {"modelId": model_id, "stateId": m["states"][0]["id"]})
    _, now = await evaluate(http, model_id, ("input", [f32([2, 3])]))
    _, frozen = await evaluate(http, model_id, ("input", [f32([2, 3])]), snapshotId=snapshot_id)
    assert (now[0][0].item(), frozen[0][0].item()) == (0.0, 5.0)

    based = {"type": "basedOnModelSnapshot", "modelId": model_id, "snapshotId": snapshot_id}
    copied, _ = await http.ok(
        "Model",
        "createModel",
        {"name": "c", "description": "", "options": {**based, "initialState": {"method": "copy"}}},
    )
    created, _ = await http.ok(
        "Model",
        "createModel",
        {
            "name": "c2",
            "description": "",
            "options": {
                **based,
                "initialState": {"method": "create", "name": "zeros", "params": [{"name": "inputSize"}]},
            },
        },
        [param_blob(DecthingsTensor([2], "u8", []))],
    )
    uploaded, _ = await http.ok(
        "Model",
        "createModel",
        {
            "name": "c3",
            "description": "",
            "options": {
                **based,
                "initialState": {
                    "method": "upload",
                    "name": "up",
                    "data": [{"key": "weights"}, {"key": "bias"}],
                },
            },
        },
        [f32([0, 10]).serialize(), bias],
    )
    results = []
    for new in (copied, created, uploaded):
        _, out = await evaluate(http, new["modelId"], ("input", [f32([2, 3])]))
        results.append(out[0][0].item())
    assert results == [5.0, 0.0, 30.0]
    c = await model(http, copied["modelId"])
    assert c["basedOnSnapshot"] == {"modelId": model_id, "snapshotId": snapshot_id, "noLongerExists": False}
    assert c["states"][0]["name"] == "w11"

    from_snapshot = await copy_of(http, model_id, "from-snap", snapshotId=snapshot_id)
    _, out = await evaluate(http, from_snapshot, ("input", [f32([2, 3])]))
    assert out[0][0].item() == 5.0

    await http.ok("Model", "deleteSnapshot", {"modelId": model_id, "snapshotId": snapshot_id})
    assert (await model(http, copied["modelId"]))["basedOnSnapshot"]["noLongerExists"] is True
    assert await http.error(
        "Model", "getSnapshotState", {"modelId": model_id, "snapshotId": snapshot_id}
    ) == {"code": "snapshot_not_found"}


async def test_code_upload_access_and_lifecycle(http: Http) -> None:
    code, _ = await http.ok(
        "Model",
        "createModel",
        {
            "name": "mine",
            "description": "code",
            "options": {
                "type": "code",
                "language": "python",
                "preset": "empty",
                "tags": [{"tag": "a", "value": "b"}],
            },
        },
    )
    m = await model(http, code["modelId"])
    assert m["language"] == "python" and m["tags"] == [{"tag": "a", "value": "b"}]
    assert m["parameterDefinitions"] == {
        "createState": [],
        "train": [],
        "evaluateInput": [],
        "evaluateOutput": [],
    }
    assert [s["state"] for s in m["states"]] == [[]]
    result, _ = await evaluate(http, code["modelId"])
    assert result["failed"]["error"]["at"] == "codeStartup"
    assert "runs no model code" in result["failed"]["error"]["exceptionDetails"]

    upload = {"type": "upload", "format": "onnx"}
    error = await http.error(
        "Model", "createModel", {"name": "u", "description": "", "options": upload}, [b"onnx"]
    )
    assert error["code"] == "invalid_parameter" and error["parameterName"] == "options.type"
    bad = {"name": "x", "description": "", "options": {"type": "code", "language": "cobol"}}
    assert (await http.error("Model", "createModel", bad))["parameterName"] == "options.language"

    assert await http.error("Model", "deleteModel", {"modelId": SUM}) == {"code": "access_denied"}
    assert await http.error("Model", "updateModel", {"modelId": SUM, "properties": {"name": "x"}}) == {
        "code": "access_denied"
    }
    assert await http.error("Model", "waitForModelToBeCreated", {"modelId": code["modelId"]}) == {
        "code": "model_already_created"
    }
    await http.ok(
        "Model",
        "updateModel",
        {
            "modelId": code["modelId"],
            "properties": {
                "name": "renamed",
                "description": "new",
                "defaultLauncherSpecs": {"evaluate": {"cpus": 1, "memoryMebibytes": 1024}},
                "parameterDefinitions": {"evaluateInput": [key_def("q", [2], ["i8"])]},
            },
        },
    )
    m = await model(http, code["modelId"])
    assert (m["name"], m["description"]) == ("renamed", "new")
    assert m["defaultLauncherSpecs"]["evaluate"] == {"cpus": 1, "memoryMebibytes": 1024}
    assert m["parameterDefinitions"]["evaluateInput"][0]["name"] == "q"
    assert m["parameterDefinitions"]["train"] == []
    await http.ok(
        "Model", "setFilesystemSize", {"modelId": code["modelId"], "newFilesystemSizeMebibytes": 200}
    )
    usage, _ = await http.ok("Model", "getFilesystemUsage", {"modelId": code["modelId"]})
    assert usage["totalBlocks"] == 200 * 256
    await http.ok("Model", "deleteModel", {"modelId": code["modelId"]})
    assert await http.error("Model", "getModelState", {"modelId": code["modelId"]}) == {
        "code": "model_not_found"
    }


async def test_evaluations_are_kept(http: Http) -> None:
    model_id = await copy_of(http, SUM, "evals")
    first, _ = await evaluate(http, model_id, ("input", [f32([1, 2])]))
    await evaluate(http, model_id, ("input", [text("no")]))
    listed, _ = await http.ok("Model", "getEvaluations", {"modelId": model_id})
    assert listed["running"] == [] and [e["success"] for e in listed["finished"]] == [True, False]
    evaluation_id = listed["finished"][0]["id"]
    result, blobs = await http.ok(
        "Model", "getFinishedEvaluationResult", {"modelId": model_id, "evaluationId": evaluation_id}
    )
    assert result == first and DecthingsTensor.deserialize_many(blobs[0])[0].item() == 3.0
    assert await http.error(
        "Model", "getFinishedEvaluationResult", {"modelId": model_id, "evaluationId": "x"}
    ) == {"code": "evaluation_not_found"}
