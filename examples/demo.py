"""`make demo`: all three providers on the embedded emulator, offline, in under a minute.

    python examples/demo.py

1. Clavata: streamed evaluations of texts and images, a refused GIF, a job whose webhook a local
   listener receives and verifies (examples/clavata_demo.py).
2. Clarifai: upload 600 labelled reviews in bulk, search them, train a text classifier on them,
   evaluate it and predict with it.
3. Decthings: fill a dataset with 2,000 entries, train a linear regressor on it, evaluate it.

Each step says what it does; long work shows a progress bar (on a terminal).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from tqdm import tqdm

from modelwire.clarifai import Inputs, User
from modelwire.decthings import DecthingsClientSync, DecthingsTensor
from modelwire.emulator import Emulator

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling clavata_demo.py
import clavata_demo

KEY = "demo-key"
LAUNCHER = {"cpus": 0.25, "memoryMebibytes": 256}
GOOD = ["great", "love", "excellent", "happy", "wonderful", "fantastic"]
BAD = ["terrible", "awful", "hate", "bad", "horrible", "disappointing"]
THINGS = ["phone", "hotel", "meal", "service", "movie", "flight", "laptop", "concert", "book", "chair"]
PLACES = ["kitchen", "garden", "office", "station", "beach"]


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)))


def step(text: str) -> None:
    print(f"\n-- {text}")


def clarifai(emulator: Emulator) -> None:
    heading("Clarifai: upload, search, train, predict")
    with User(user_id=emulator.user_id, pat=KEY, base_url=f"http://{emulator.address}") as user:
        app = user.create_app(f"reviews-{uuid.uuid4().hex[:6]}")
        dataset = app.create_dataset("reviews")
        print(f"app {app.id}, dataset {dataset.id}")

        reviews = [
            (label, f"a {word} {thing} near the {place}, really {words[(i + 1) % 6]}")
            for label, words in (("positive", GOOD), ("negative", BAD))
            for i, word in enumerate(words)
            for thing in THINGS
            for place in PLACES
        ]
        step(f"upload {len(reviews)} labelled reviews (batches of 128, each add-job waited for)")
        inputs = app.inputs()
        batch = [
            Inputs.get_text_input(f"review-{n}", text, dataset_id=dataset.id, labels=[label])
            for n, (label, text) in enumerate(reviews)
        ]
        print(inputs.upload_inputs_bulk(batch))

        step("search: the 3 reviews nearest to 'a lovely hotel' (cosine, local text embeddings)")
        search = app.search(top_k=3, metric="cosine")
        for page in search.query(ranks=[{"text_raw": "a lovely hotel"}]):
            for hit in page.hits:
                print(f"  {hit.score:.3f}  {hit.input.data.text.raw}")

        step("train a text classifier on the dataset (LogisticRegression template)")
        model = app.create_model("sentiment", model_type_id="text-classifier")
        with tempfile.TemporaryDirectory() as tmp:
            model.get_params(template="LogisticRegression", save_to=str(Path(tmp) / "params.yaml"))
        model.update_params(dataset_id=dataset.id, concepts=["positive", "negative"])
        version_id = model.train()
        status = model.wait_for_training(version_id)
        print(f"model {model.id} version {version_id}: {status.description or status.code}")

        step("evaluate it on a held-out split")
        evaluation = model.evaluate()
        summary = model.wait_for_evaluation(evaluation.id).summary
        print(f"top-1 accuracy {summary.top1_accuracy:.2f}, macro F1 {summary.macro_avg_f1_score:.2f}")

        step("predict")
        for text in ("what a wonderful and happy evening", "an awful, horrible purchase"):
            response = model.predict_by_bytes(text.encode(), "text", output_config={"max_concepts": 1})
            best = response.outputs[0].data.concepts[0]
            print(f"  {text!r}: {best.id} ({best.value:.2f})")


def decthings(emulator: Emulator) -> None:
    heading("Decthings: dataset, training, evaluation")
    with DecthingsClientSync(api_key=KEY, http_server_address=emulator.decthings_url) as client:
        print(f"Decthings API at {emulator.decthings_url}")
        step("create a dataset: input f32 [2] -> target f32 [], y = 3a - 2b + 1")
        dataset_id = client.dataset.create_dataset(
            {
                "name": "regression",
                "description": "y = 3a - 2b + 1, with a little noise",
                "keys": [
                    {"name": "input", "rules": {"shape": [2], "allowedTypes": ["f32"]}},
                    {"name": "target", "rules": {"shape": [], "allowedTypes": ["f32"]}},
                ],
            }
        )["datasetId"]
        rng = np.random.default_rng(7)
        xs = rng.normal(size=(2000, 2)).astype(np.float32)
        ys = xs @ np.array([3.0, -2.0], dtype=np.float32) + 1.0 + rng.normal(scale=0.01, size=2000)

        step(f"add {len(xs)} entries (200 per call)")
        with tqdm(total=len(xs), unit="entries", disable=None) as bar:
            for start in range(0, len(xs), 200):
                inputs = [DecthingsTensor(x, "f32", [2]) for x in xs[start : start + 200]]
                targets = [DecthingsTensor([float(y)], "f32", []) for y in ys[start : start + 200]]
                keys = [{"key": "input", "data": inputs}, {"key": "target", "data": targets}]
                client.dataset.add_entries({"datasetId": dataset_id, "keys": keys})
                bar.update(len(inputs))
        info = client.dataset.get_datasets({"datasetIds": [dataset_id]})["datasets"][0]
        print(f"dataset {dataset_id}: {info['entries']['count']} entries")

        step("train a copy of the built-in linear regressor on it")
        model_id = client.model.create_model(
            {
                "name": "regressor",
                "description": "",
                "options": {"type": "fromExisting", "modelId": "decthings-linear-regressor"},
            }
        )["modelId"]
        session_id = client.model.train(
            {
                "modelId": model_id,
                "newStateName": "trained",
                "params": [
                    {"name": key, "data": {"type": "dataset", "datasetId": dataset_id, "datasetKey": key}}
                    for key in ("input", "target")
                ],
                "executionLocation": {"type": "temporaryLauncher", "spec": LAUNCHER},
            }
        )["trainingSessionId"]
        query = {"modelId": model_id, "trainingSessionId": session_id}
        with tqdm(total=100, desc="training", bar_format="{l_bar}{bar}| {elapsed}", disable=None) as bar:
            while True:  # poll the session (or subscribe to its events: examples/decthings_train_events.py)
                status = client.model.get_training_status(query)["status"]
                if status["state"] in ("completed", "failed"):
                    break
                bar.update(round(100 * status.get("progress", 0)) - bar.n)
                time.sleep(0.05)
            if status["state"] != "completed":
                raise SystemExit(f"training failed: {status}")
            bar.update(100 - bar.n)
        print(f"training completed: new state {status['createdStateId']}")
        client.model.set_active_model_state({"modelId": model_id, "stateId": status["createdStateId"]})

        step("evaluate f(1, 1) and f(2, 0) (expected 2 and 7)")
        points = [DecthingsTensor([1.0, 1.0], "f32", [2]), DecthingsTensor([2.0, 0.0], "f32", [2])]
        result = client.model.evaluate({"modelId": model_id, "params": [{"name": "input", "data": points}]})
        if "failed" in result:  # the model ran and failed: a result, not an exception
            raise SystemExit(f"evaluation failed: {result['failed']['error']}")
        outputs = [round(t.item(), 3) for t in result["success"]["output"][0]["data"]]
        print(f"f(1, 1) = {outputs[0]}, f(2, 0) = {outputs[1]}")


def main() -> None:
    started = time.perf_counter()
    with Emulator(api_key=KEY, http_port=0) as emulator:
        print(f"modelwire demo: the emulator on {emulator.address} (gRPC), {emulator.decthings_url} (HTTP)")
        heading("Clavata: evaluations, a refusal, a webhook")
        clavata_demo.run(emulator)
        clarifai(emulator)
        decthings(emulator)
    print(f"\nall three providers, offline, in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
