"""The Ray Data operators and writers on a real local Ray cluster (2 CPUs) against the emulator,
over a few thousand rows: evaluate, predict and upload; a worker killed mid-run (an operator that
`os._exit`s once, on a chosen row, after its calls were made) and injected faults, with every row
counted: rows in = rows out, duplicates 0, lost 0, and for uploads the stored inputs / entries are
exactly the distinct keys.

Slow (Ray starts once for the module, ~5 s; the module takes about a minute): run with
`make test-ray` (`pytest -m slow tests/integrations`)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

pytest.importorskip("ray.data")
pytest.importorskip("pyarrow")

import ray
import ray.data
from ray import cloudpickle

from modelwire.clarifai import Inputs, User
from modelwire.clavata import ClavataClient
from modelwire.decthings import DecthingsClientSync
from modelwire.emulator import Emulator
from modelwire.integrations.batch import decthings_entry_ids
from modelwire.integrations.ray import (
    ClarifaiInputsDatasink,
    ClarifaiPredict,
    ClarifaiUpload,
    ClavataEvaluate,
    DecthingsAddEntries,
    DecthingsEvaluate,
    write_clarifai_inputs,
    write_decthings_entries,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "ray-test-key-0123456789"
ROWS = 3000
BLOCKS = 12
ACTOR = {"num_cpus": 0.25, "batch_format": "pyarrow", "batch_size": 250}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """One local Ray cluster for the module; this module's operators travel to workers by value."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        ray.shutdown()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """The emulator in this process on loopback; workers reach it by host and port."""
    with Emulator(api_key=KEY, http_port=0) as emulator:
        yield emulator


@pytest.fixture
def base_url(emu: Emulator) -> str:
    return f"http://127.0.0.1:{emu.port}"


def _rows(n: int = ROWS) -> Any:
    items = [
        {"key": f"row-{i:05d}", "text": ("I will attack you " if i % 3 == 0 else "hello ") + str(i)}
        for i in range(n)
    ]
    return ray.data.from_items(items, override_num_blocks=BLOCKS)


def _counts(keys_in: list[str], keys_out: list[str]) -> dict[str, int]:
    out = Counter(keys_out)
    counts = {
        "rows in": len(keys_in),
        "rows out": len(keys_out),
        "duplicates": sum(c - 1 for c in out.values()),
        "lost": len(set(keys_in) - set(out)),
    }
    print(f"\ncounts: {counts}")
    return counts


def _once(marker: Path) -> bool:
    """True the first time only, across processes (and the restarted actor)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


class CrashingEvaluate(ClavataEvaluate):
    """Dies (no exception, no clean-up: the process exits) once, after evaluating the batch that
    holds `crash_key`; Ray restarts the actor and retries the batch."""

    def __init__(self, *, marker: str, crash_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker, self.crash_key = Path(marker), crash_key

    def __call__(self, batch: Any) -> Any:
        out = super().__call__(batch)
        if self.crash_key in batch.column("key").to_pylist() and _once(self.marker):
            os._exit(1)
        return out


class CrashingUpload(ClarifaiUpload):
    """Dies once after its batch was uploaded (the inputs landed, the summary never left)."""

    def __init__(self, *, marker: str, crash_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker, self.crash_key = Path(marker), crash_key

    def __call__(self, batch: Any) -> Any:
        out = super().__call__(batch)
        if self.crash_key in batch.column("key").to_pylist() and _once(self.marker):
            os._exit(1)
        return out


class CrashingAddEntries(DecthingsAddEntries):
    """Dies once after its entries were added: the retried batch adds them a second time."""

    def __init__(self, *, marker: str, crash_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker, self.crash_key = Path(marker), crash_key

    def __call__(self, batch: Any) -> Any:
        out = super().__call__(batch)
        if self.crash_key in batch.column("key").to_pylist() and _once(self.marker):
            os._exit(1)
        return out


def test_evaluate_predict_and_decthings_over_thousands_of_rows(
    cluster: None, emu: Emulator, base_url: str
) -> None:
    clavata = ClavataClient(host="127.0.0.1", port=emu.port, auth_token=KEY)  # pickled: reconnects on workers
    pipeline = (
        _rows()
        .map_batches(
            ClavataEvaluate,
            fn_constructor_kwargs={"policy_id": "demo-policy", "client": clavata},
            concurrency=2,
            **ACTOR,
        )
        .map_batches(
            ClarifaiPredict,
            fn_constructor_kwargs={
                "model_kwargs": {
                    "model_id": "general-text-classification",
                    "user_id": "clarifai",
                    "app_id": "main",
                    "base_url": base_url,
                    "pat": KEY,
                },
                "top_k": 1,
                "prefix": "clarifai_",
            },
            concurrency=1,
            **ACTOR,
        )
        .map_batches(
            DecthingsEvaluate,
            fn_constructor_kwargs={
                "model_id": "decthings-text-embedder",
                "inputs": {"input": "text"},
                "outputs": ["embedding"],
                "prefix": "decthings_",
                "client_kwargs": {"api_key": KEY, "http_server_address": emu.decthings_url},
            },
            concurrency=1,
            **ACTOR,
        )
    )
    rows = pipeline.to_pandas()
    clavata.close()
    counts = _counts([f"row-{i:05d}" for i in range(ROWS)], list(rows["key"]))
    assert counts == {"rows in": ROWS, "rows out": ROWS, "duplicates": 0, "lost": 0}
    assert (
        rows["error"].isna().all()
        and rows["clarifai_error"].isna().all()
        and rows["decthings_error"].isna().all()
    )
    violent = rows["text"].str.startswith("I will attack")
    assert (rows.loc[violent, "outcome"] == "TRUE").all() and (rows.loc[~violent, "outcome"] == "FALSE").all()
    assert set(rows["clarifai_status"]) == {"SUCCESS"} and all(len(c) == 1 for c in rows["clarifai_concepts"])
    assert rows["decthings_embedding"].iloc[0].shape == (512,)


def test_a_worker_killed_mid_evaluation_loses_and_duplicates_no_row(
    cluster: None, emu: Emulator, tmp_path: Path
) -> None:
    emu.faults.add("Evaluate", grpc.StatusCode.UNAVAILABLE, times=3)  # retried by the core
    emu.faults.add(
        "Evaluate", grpc.StatusCode.INTERNAL, after_messages=5, times=2
    )  # resumed by the batch function
    out = _rows().map_batches(
        CrashingEvaluate,
        fn_constructor_kwargs={
            "policy_id": "demo-policy",
            "client_kwargs": {"host": "127.0.0.1", "port": emu.port, "auth_token": KEY},
            "marker": str(tmp_path / "crashed"),
            "crash_key": "row-01600",
        },
        concurrency=2,
        **ACTOR,
    )
    rows = out.to_pandas()
    assert (tmp_path / "crashed").exists()  # the worker did die mid-run
    counts = _counts([f"row-{i:05d}" for i in range(ROWS)], list(rows["key"]))
    assert counts == {"rows in": ROWS, "rows out": ROWS, "duplicates": 0, "lost": 0}
    assert rows["error"].isna().all(), rows["error"].value_counts()
    assert (rows["outcome"] == "TRUE").sum() == ROWS // 3


def test_uploads_are_exactly_once_through_a_killed_worker_faults_and_a_rerun(
    cluster: None, emu: Emulator, base_url: str, tmp_path: Path
) -> None:
    with User(user_id=emu.user_id, base_url=base_url, pat=KEY) as user:
        user.create_app("ray-upload")
    inputs_kwargs = {"user_id": emu.user_id, "app_id": "ray-upload", "base_url": base_url, "pat": KEY}
    keys = [f"row-{i:05d}" for i in range(ROWS)]

    # Run 1: a worker dies after its batch landed (Ray retries it: the ids exist, so they count as
    # uploaded), and PostInputs fails for a while (a write the core does not repeat: "unknown").
    emu.faults.add("PostInputs", grpc.StatusCode.UNAVAILABLE, times=2)
    first = (
        _rows()
        .map_batches(
            CrashingUpload,
            fn_constructor_kwargs={
                "key_column": "key",
                "inputs_kwargs": inputs_kwargs,
                "marker": str(tmp_path / "crashed"),
                "crash_key": "row-02100",
            },
            concurrency=2,
            **ACTOR,
        )
        .to_pandas()
    )
    assert (tmp_path / "crashed").exists()
    assert _counts(keys, list(first["key"])) == {
        "rows in": ROWS,
        "rows out": ROWS,
        "duplicates": 0,
        "lost": 0,
    }
    statuses = Counter(first["status"])
    assert statuses["uploaded"] < ROWS and set(statuses) <= {"uploaded", "failed", "unknown"}
    assert first.loc[first["status"] != "uploaded", "reason"].notna().all()

    # Run 2, the rerun: uploads only what is missing, and the app holds every key once.
    summary = write_clarifai_inputs(_rows(), key_column="key", inputs_kwargs=inputs_kwargs).to_pandas()
    assert _counts(keys, list(summary["key"])) == {
        "rows in": ROWS,
        "rows out": ROWS,
        "duplicates": 0,
        "lost": 0,
    }
    assert set(summary["status"]) == {"uploaded"}
    with Inputs(**inputs_kwargs) as inputs:
        stored = [i.id for i in inputs.list_inputs(per_page=1000)]
    assert len(stored) == len(set(stored)) == ROWS and set(stored) == set(keys)


def test_the_datasink_uploads_and_gathers_the_summary(cluster: None, emu: Emulator, base_url: str) -> None:
    with User(user_id=emu.user_id, base_url=base_url, pat=KEY) as user:
        user.create_app("ray-sink")
    inputs = Inputs(
        user_id=emu.user_id, app_id="ray-sink", base_url=base_url, pat=KEY
    )  # pickled to the tasks
    sink = ClarifaiInputsDatasink(key_column="key", inputs=inputs)
    _rows(1000).write_datasink(sink)
    assert len(sink.rows) == 1000 and sink.summary.ok and len(set(sink.summary.uploaded)) == 1000
    assert len(list(inputs.list_inputs(per_page=1000))) == 1000
    inputs.close()


def test_decthings_entries_are_exactly_once_through_a_killed_worker(
    cluster: None, emu: Emulator, tmp_path: Path
) -> None:
    client_kwargs = {"api_key": KEY, "http_server_address": emu.decthings_url}
    with DecthingsClientSync(**client_kwargs) as client:
        dataset_id = client.dataset.create_dataset(
            {
                "name": "ray-entries",
                "description": "",
                "keys": [
                    {"name": "id", "rules": {"shape": [], "allowedTypes": ["string"]}},
                    {"name": "text", "rules": {"shape": [], "allowedTypes": ["string"]}},
                ],
            }
        )["datasetId"]
    keys = [f"row-{i:05d}" for i in range(2000)]
    options = {
        "dataset_id": dataset_id,
        "key_column": "key",
        "keys": {"text": "text"},
        "client_kwargs": client_kwargs,
    }
    # A crashing run through the writer's own operator: the retried batch adds its entries twice.
    crashed = (
        _rows(2000)
        .map_batches(
            CrashingAddEntries,
            fn_constructor_kwargs={**options, "marker": str(tmp_path / "crashed"), "crash_key": "row-01000"},
            concurrency=1,
            **ACTOR,
        )
        .to_pandas()
    )
    assert (tmp_path / "crashed").exists() and set(crashed["status"]) == {"uploaded"}
    with DecthingsClientSync(**client_kwargs) as client:
        before = [key for _, key in decthings_entry_ids(client, dataset_id, "id")]
    assert len(before) > 2000 and set(before) == set(keys)  # the retried batch's entries, twice
    # The writer (the rerun) reads the ids back: nothing is sent twice, the duplicates go.
    summary = write_decthings_entries(_rows(2000), **options).to_pandas()
    assert _counts(keys, list(summary["key"])) == {
        "rows in": 2000,
        "rows out": 2000,
        "duplicates": 0,
        "lost": 0,
    }
    assert set(summary["status"]) == {"uploaded"} and set(summary["reason"]) == {"already present"}
    with DecthingsClientSync(**client_kwargs) as client:
        stored = [key for _, key in decthings_entry_ids(client, dataset_id, "id")]
    assert len(stored) == len(set(stored)) == 2000 and set(stored) == set(keys)
