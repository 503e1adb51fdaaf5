"""Everything the Decthings emulator stores survives a restart on the same SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from decthings_wire import KEY, Http, f32, key_def, make_dataset, param_blob

from modelwire.decthings import DecthingsTensor
from modelwire.emulator import Emulator


async def test_restart_keeps_datasets_models_states_snapshots_and_sessions(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    emu = Emulator(api_key=KEY, http_port=0, db=db, decthings_training_step_delay=0.05).start()
    try:
        async with aiohttp.ClientSession() as session:
            http = Http(session, emu.decthings_url)
            ds_id = await make_dataset(
                http, "kept", [key_def("input", [2], ["f32"]), key_def("target", [], ["f32"])]
            )
            entries = [
                f32(x).serialize() if i % 2 == 0 else f32(x, []).serialize()
                for i, x in enumerate([[1, 0], [3], [0, 1], [-2], [1, 1], [1]])
            ]
            added, _ = await http.ok(
                "Dataset", "addEntries", {"datasetId": ds_id, "keys": ["input", "target"]}, entries
            )
            review = [f32([9, 9]).serialize(), f32([9], []).serialize()]
            await http.ok(
                "Dataset",
                "addEntriesToNeedsReview",
                {"datasetId": ds_id, "keys": ["input", "target"]},
                review,
            )
            created, _ = await http.ok(
                "Model",
                "createModel",
                {
                    "name": "kept",
                    "description": "",
                    "options": {"type": "fromExisting", "modelId": "decthings-linear-regressor"},
                },
            )
            model_id = created["modelId"]
            snap, _ = await http.ok("Model", "snapshotModel", {"modelId": model_id, "snapshotName": "s"})
            ref = {"type": "dataset", "datasetId": ds_id}
            train = {
                "modelId": model_id,
                "newStateName": "trained",
                "params": [
                    {"name": "input", "data": {**ref, "datasetKey": "input"}},
                    {"name": "target", "data": {**ref, "datasetKey": "target"}},
                ],
            }
            done, _ = await http.ok("Model", "train", train)
            ids = {"modelId": model_id, "trainingSessionId": done["trainingSessionId"]}
            for _ in range(200):
                status, _ = await http.ok("Model", "getTrainingStatus", ids)
                if status["status"]["state"] == "completed":
                    break
                await asyncio.sleep(0.02)
            trained_state = status["status"]["createdStateId"]
            await http.ok("Model", "setActiveModelState", {"modelId": model_id, "stateId": trained_state})
            running, _ = await http.ok("Model", "train", train)  # still running when the emulator stops
            before, _ = await http.ok("Model", "getModels", {"filter": {"ids": [model_id]}})
            _, entry_blobs = await http.ok(
                "Dataset", "getEntries", {"datasetId": ds_id, "entries": [0, 1, 2]}
            )
    finally:
        emu.stop()

    emu = Emulator(api_key=KEY, http_port=0, db=db).start()
    try:
        async with aiohttp.ClientSession() as session:
            http = Http(session, emu.decthings_url)
            listed, _ = await http.ok("Dataset", "getDatasets", {})
            ds = next(d for d in listed["datasets"] if d["id"] == ds_id)
            assert ds["versionId"] != added["newDatasetVersionId"]  # the review add made a newer one
            assert ds["entries"]["count"] == 3 and ds["needsReviewEntries"]["count"] == 1
            _, again = await http.ok("Dataset", "getEntries", {"datasetId": ds_id, "entries": [0, 1, 2]})
            assert again == entry_blobs == entries
            _, kept_review = await http.ok(
                "Dataset", "getNeedsReviewEntries", {"datasetId": ds_id, "entries": [0]}
            )
            assert kept_review == review

            after, _ = await http.ok("Model", "getModels", {"filter": {"ids": [model_id]}})
            m, old = after["models"][0], before["models"][0]
            for field in ("name", "states", "activeState", "snapshots", "parameterDefinitions", "createdAt"):
                assert m[field] == old[field], field
            assert m["activeState"] == trained_state
            assert m["ongoingTrainingSessions"] == []
            assert m["trainingSessions"] == [done["trainingSessionId"], running["trainingSessionId"]]
            status, _ = await http.ok("Model", "getTrainingStatus", ids)
            assert status["status"]["state"] == "completed" and status["metrics"][0]["amount"] == 5
            interrupted, _ = await http.ok(
                "Model",
                "getTrainingStatus",
                {"modelId": model_id, "trainingSessionId": running["trainingSessionId"]},
            )
            assert interrupted["status"]["failReason"] == {"code": "launcher_terminated"}
            state, blobs = await http.ok(
                "Model", "getSnapshotState", {"modelId": model_id, "snapshotId": snap["snapshotId"]}
            )
            assert [d["key"] for d in state["data"]] == ["weights", "bias"] and len(blobs) == 2

            _, out = await http.ok(
                "Model",
                "evaluate",
                {"modelId": model_id, "params": [{"name": "input"}]},
                [param_blob(f32([2, 0]))],
            )
            assert (
                abs(DecthingsTensor.deserialize_many(out[0])[0].item() - 6.0) < 1e-3
            )  # fit: y = 3*x0 - 2*x1
            builtins, _ = await http.ok("Model", "getModels", {"filter": {"owners": ["decthings"]}})
            assert builtins["total"] == 3
    finally:
        emu.stop()
