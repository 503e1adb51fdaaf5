"""Train a model on a dataset and watch its training events over the WebSocket (async client).

    export DECTHINGS_API_KEY=dev-key DECTHINGS_HTTP_URL=http://127.0.0.1:8080/v0
    python examples/decthings_train_events.py

The client talks HTTP until `subscribe_to_events`, then carries every call over the WebSocket,
and closes it again once the session's `exit` event has arrived. Training events are a modelwire
emulator extension (the public Decthings API has no Model events).
"""

import asyncio
import os

import numpy as np

from modelwire.decthings import DecthingsClient, DecthingsEvent, DecthingsTensor


async def main() -> None:
    async with DecthingsClient(api_key=os.environ["DECTHINGS_API_KEY"]) as client:
        # y = 3a - 2b + 1, as a dataset of 40 entries with keys "input" (f32 [2]) and "target" (f32 []).
        xs = np.random.default_rng(1).normal(size=(40, 2)).astype(np.float32)
        ys = xs @ np.array([3.0, -2.0], dtype=np.float32) + 1.0
        dataset_id = (
            await client.dataset.create_dataset(
                {
                    "name": f"regression-{os.urandom(3).hex()}",
                    "description": "y = 3a - 2b + 1",
                    "keys": [
                        {"name": "input", "rules": {"shape": [2], "allowedTypes": ["f32"]}},
                        {"name": "target", "rules": {"shape": [], "allowedTypes": ["f32"]}},
                    ],
                }
            )
        )["datasetId"]
        await client.dataset.add_entries(
            {
                "datasetId": dataset_id,
                "keys": [
                    {"key": "input", "data": [DecthingsTensor(x, "f32", [2]) for x in xs]},
                    {"key": "target", "data": [DecthingsTensor([float(y)], "f32", []) for y in ys]},
                ],
            }
        )
        model_id = (
            await client.model.create_model(
                {
                    "name": "my-regressor",
                    "description": "",
                    "options": {"type": "fromExisting", "modelId": "decthings-linear-regressor"},
                }
            )
        )["modelId"]

        finished: asyncio.Future[dict] = asyncio.get_running_loop().create_future()

        def on_event(event: DecthingsEvent) -> None:
            if event.event_name == "progress":
                loss = {m["name"]: m["value"] for m in event.data["metrics"]}.get("loss")
                print(f"progress {event.data['progress']:.0%}  loss={loss:.5f}")
            elif event.event_name == "exit" and not finished.done():
                finished.set_result(event.data)

        client.on_event(on_event)
        session_id = (
            await client.model.train(
                {
                    "modelId": model_id,
                    "newStateName": "trained",
                    "params": [
                        {"name": key, "data": {"type": "dataset", "datasetId": dataset_id, "datasetKey": key}}
                        for key in ("input", "target")
                    ],
                    "executionLocation": {
                        "type": "temporaryLauncher",
                        "spec": {"cpus": 0.25, "memoryMebibytes": 256},
                    },
                }
            )
        )["trainingSessionId"]
        await client.model.subscribe_to_events({"trainingSessionId": session_id})
        exit_event = await asyncio.wait_for(finished, 30)
        print("training", exit_event["reason"], "-> new state", exit_event["newStateId"])

        await client.model.set_active_model_state({"modelId": model_id, "stateId": exit_event["newStateId"]})
        point = DecthingsTensor([1.0, 1.0], "f32", [2])
        params = [{"name": "input", "data": [point]}]
        result = await client.model.evaluate({"modelId": model_id, "params": params})
        print("f(1, 1) =", round(result["success"]["output"][0]["data"][0].item(), 4), "(expected 2.0)")


asyncio.run(main())
