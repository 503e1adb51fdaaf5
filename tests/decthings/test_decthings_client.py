"""DecthingsClient and DecthingsClientSync against the emulator: every test runs on both."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import numpy as np
import pytest

from modelwire._core import errors as core
from modelwire._core.retry import NO_RETRY
from modelwire.decthings import (
    BadCredentialsError,
    ClientClosedError,
    DecthingsApiError,
    DecthingsEvent,
    DecthingsHttpError,
    DecthingsNotFoundError,
    DecthingsTensor,
    IncorrectVersionIdError,
    InvalidParameterError,
)
from modelwire.emulator import Emulator

EMBEDDER = "decthings-text-embedder"
SUM = "decthings-sum"
REGRESSOR = "decthings-linear-regressor"


def text(value: str) -> DecthingsTensor:
    return DecthingsTensor([value], "string", [])


def vec(*values: float) -> DecthingsTensor:
    return DecthingsTensor(np.asarray(values, dtype=np.float32), "f32", [len(values)])


def scalar(value: float) -> DecthingsTensor:
    return DecthingsTensor([value], "f32", [])


def new_dataset(dt: Any, keys: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    keys = keys or [
        {"name": "input", "rules": {"shape": [2], "allowedTypes": ["f32"]}},
        {"name": "target", "rules": {"shape": [], "allowedTypes": ["f32"]}},
    ]
    created = dt.dataset.create_dataset(
        {"name": f"ds-{uuid.uuid4().hex[:8]}", "description": "test", "keys": keys}
    )
    return created["datasetId"], created["datasetVersionId"]


# -- models and evaluation ----------------------------------------------------------------------


def test_get_models_lists_the_built_ins(dt: Any) -> None:
    result = dt.model.get_models({})
    ids = {m["id"] for m in result["models"]}
    assert {EMBEDDER, SUM, REGRESSOR} <= ids
    assert result["total"] >= 3 and result["offset"] == 0
    only = dt.model.get_models({"filter": {"ids": [SUM]}})
    assert [m["id"] for m in only["models"]] == [SUM] and only["total"] == 1
    assert only["models"][0]["owner"]["username"] == "decthings"


def test_get_models_pages(dt: Any) -> None:
    everything = dt.model.get_models({"limit": 1000, "sort": "name", "sortDirection": "asc"})
    names = [m["name"] for m in everything["models"]]
    assert names == sorted(names)
    page = dt.model.get_models({"offset": 1, "limit": 1, "sort": "name", "sortDirection": "asc"})
    assert [m["name"] for m in page["models"]] == names[1:2] and page["total"] == len(names)


def test_evaluate_the_text_embedder_returns_real_tensors(dt: Any) -> None:
    result = dt.model.evaluate(
        {
            "modelId": EMBEDDER,
            "params": [{"name": "input", "data": [text("cat on a mat"), text("cat on a mat")]}],
        }
    )
    (output,) = result["success"]["output"]
    first, second = output["data"]
    assert output["name"] == "embedding" and first.type() == "f32" and first.shape() == [512]
    assert first == second
    assert abs(float(np.linalg.norm(first.numpy())) - 1.0) < 1e-5
    other = dt.model.evaluate(
        {"modelId": EMBEDDER, "params": [{"name": "input", "data": [text("stock market")]}]}
    )
    assert other["success"]["output"][0]["data"][0] != first


def test_evaluate_sums_several_numeric_tensors_in_one_output(dt: Any) -> None:
    # Two numeric tensors in one output parameter: the published 0.0.4 parser fails on this.
    result = dt.model.evaluate(
        {"modelId": SUM, "params": [{"name": "input", "data": [vec(1, 2, 3), vec(0.5)]}]}
    )
    sums = [t.item() for t in result["success"]["output"][0]["data"]]
    assert sums == [6.0, 0.5]


def test_evaluate_with_bad_input_is_a_failed_evaluation_not_an_exception(dt: Any) -> None:
    result = dt.model.evaluate(
        {"modelId": SUM, "params": [{"name": "input", "data": [text("not a number")]}]}
    )
    assert "success" not in result and result["failed"]["error"]["code"]


# -- datasets -----------------------------------------------------------------------------------


def test_dataset_entries_round_trip_with_several_keys(dt: Any) -> None:
    dataset_id, version = new_dataset(dt)
    inputs = [vec(1, 2), vec(3, 4), vec(5, 6)]
    targets = [scalar(1), scalar(2), scalar(3)]
    added = dt.dataset.add_entries(
        {
            "datasetId": dataset_id,
            "keys": [{"key": "target", "data": targets}, {"key": "input", "data": inputs}],
        }
    )
    assert added["newDatasetVersionId"] != version
    got = dt.dataset.get_entries({"datasetId": dataset_id, "entries": [0, 2]})
    by_key = {k["key"]: k["data"] for k in got["keys"]}
    assert [e["index"] for e in by_key["input"]] == [0, 2]
    assert [e["data"] for e in by_key["input"]] == [inputs[0], inputs[2]]
    assert [e["data"] for e in by_key["target"]] == [targets[0], targets[2]]
    ranged = dt.dataset.get_entries({"datasetId": dataset_id, "entries": {"start": 1, "end": 3}})
    assert [e["data"] for e in ranged["keys"][0]["data"]] == inputs[1:]


def test_add_entries_beyond_one_calls_blob_limit_is_split(dt: Any) -> None:
    dataset_id, version = new_dataset(dt)
    n = 300  # 600 tensors: three calls of at most 255 blobs
    inputs = [vec(i, -i) for i in range(n)]
    targets = [scalar(i) for i in range(n)]
    added = dt.dataset.add_entries(
        {
            "datasetId": dataset_id,
            "datasetVersionId": version,
            "keys": [{"key": "input", "data": inputs}, {"key": "target", "data": targets}],
        }
    )
    (info,) = dt.dataset.get_datasets({"filter": {"ids": [dataset_id]}})["datasets"]
    assert info["entries"]["count"] == n and info["versionId"] == added["newDatasetVersionId"]
    last = dt.dataset.get_entries({"datasetId": dataset_id, "entries": [n - 1]})
    assert {k["key"]: k["data"][0]["data"] for k in last["keys"]} == {
        "input": inputs[-1],
        "target": targets[-1],
    }


def test_dataset_rules_and_version_checks_raise_typed_errors(dt: Any) -> None:
    dataset_id, version = new_dataset(dt)
    with pytest.raises(InvalidParameterError) as bad:
        dt.dataset.add_entries(
            {
                "datasetId": dataset_id,
                "keys": [{"key": "input", "data": [vec(1, 2, 3)]}, {"key": "target", "data": [scalar(1)]}],
            }
        )
    assert bad.value.parameter_name and isinstance(bad.value, core.InvalidArgumentError)
    dt.dataset.add_entries(
        {
            "datasetId": dataset_id,
            "keys": [{"key": "input", "data": [vec(1, 2)]}, {"key": "target", "data": [scalar(1)]}],
        }
    )
    with pytest.raises(IncorrectVersionIdError) as stale:
        dt.dataset.remove_entries({"datasetId": dataset_id, "entries": [0], "datasetVersionId": version})
    assert stale.value.error_code == "incorrect_version_id" and isinstance(stale.value, core.AbortedError)
    with pytest.raises(DecthingsNotFoundError) as missing:
        dt.dataset.get_entries({"datasetId": "no-such-dataset", "entries": [0]})
    assert missing.value.error["code"] == "dataset_not_found" and isinstance(
        missing.value, core.NotFoundError
    )
    assert missing.value.method == "Dataset.getEntries"


def test_needs_review_flow(dt: Any) -> None:
    dataset_id, _ = new_dataset(dt)
    dt.dataset.add_entries_to_needs_review(
        {
            "datasetId": dataset_id,
            "keys": [{"key": "input", "data": [vec(9, 9)]}, {"key": "target", "data": [scalar(0)]}],
        }
    )
    review = dt.dataset.get_needs_review_entries({"datasetId": dataset_id, "entries": [0]})
    assert {k["key"]: k["data"][0]["data"] for k in review["keys"]}["input"] == vec(9, 9)
    dt.dataset.finalize_needs_review_entries(
        {
            "datasetId": dataset_id,
            "indexes": [0],
            "keys": [{"key": "input", "data": [vec(1, 1)]}, {"key": "target", "data": [scalar(2)]}],
        }
    )
    (info,) = dt.dataset.get_datasets({"filter": {"ids": [dataset_id]}})["datasets"]
    assert info["entries"]["count"] == 1 and info["needsReviewEntries"]["count"] == 0
    got = dt.dataset.get_entries({"datasetId": dataset_id, "entries": [0]})
    assert {k["key"]: k["data"][0]["data"] for k in got["keys"]}["input"] == vec(1, 1)


# -- errors, options, lifetime -------------------------------------------------------------------


def test_bad_key_raises_bad_credentials(make_dt: Callable[..., Any]) -> None:
    client = make_dt(api_key="wrong-key")
    with pytest.raises(BadCredentialsError) as err:
        client.model.get_models({})
    assert isinstance(err.value, core.UnauthenticatedError) and "wrong-key" not in str(err.value)


def test_unsupported_method_has_the_real_error_shape(dt: Any) -> None:
    with pytest.raises(DecthingsApiError) as err:
        dt.team.get_teams({})
    assert err.value.error_code == "unknown" and err.value.method == "Team.getTeams"


def test_params_must_be_a_dict(dt: Any) -> None:
    with pytest.raises(core.UsageError, match="params must be a dict"):
        dt.model.get_models(["not", "a", "dict"])


def test_repr_hides_the_key(dt: Any, api_key: str) -> None:
    assert api_key not in repr(dt.client) and "***" in repr(dt.client)


def test_closed_client_refuses_calls(make_dt: Callable[..., Any]) -> None:
    client = make_dt()
    client.model.get_models({})
    client.close()
    with pytest.raises(ClientClosedError):
        client.model.get_models({})


def test_reads_are_retried_on_unavailable(dt: Any, emulator: Emulator) -> None:
    emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, times=2)
    assert dt.model.get_models({})["total"] >= 3
    statuses = [c.code for c in emulator.calls.records("Model.getModels")][-3:]
    assert statuses == ["UNAVAILABLE", "UNAVAILABLE", "OK"]


def test_writes_are_retried_only_when_not_processed(dt: Any, emulator: Emulator) -> None:
    # HTTP 503 means the request was not processed: safe to send a create again.
    emulator.faults.add("Dataset.createDataset", grpc.StatusCode.UNAVAILABLE, times=1)
    dataset_id, _ = new_dataset(dt)
    assert dataset_id
    emulator.faults.add("Dataset.deleteDataset", grpc.StatusCode.INTERNAL, times=1)
    with pytest.raises(DecthingsApiError) as err:
        dt.dataset.delete_dataset({"datasetId": dataset_id})
    assert err.value.attempts == 1


def test_timeout_is_one_deadline(dt: Any, emulator: Emulator) -> None:
    emulator.faults.add("Model.getModels", grpc.StatusCode.OK, delay=1.0, times=1)
    with pytest.raises(core.DeadlineExceededError):
        dt.model.get_models({}, timeout=0.2)


def test_connection_refused_is_unavailable_with_a_hint(make_dt: Callable[..., Any]) -> None:
    client = make_dt(http_server_address="http://127.0.0.1:9/v0", retry=NO_RETRY)
    with pytest.raises(core.UnavailableError, match="cannot connect"):
        client.model.get_models({})


# -- training, events and the WebSocket ----------------------------------------------------------


def _train(dt: Any, steps_data: int = 12) -> tuple[str, str]:
    dataset_id, _ = new_dataset(dt)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(steps_data, 2)).astype(np.float32)
    ys = xs @ np.array([2.0, -1.0], dtype=np.float32) + 0.5
    dt.dataset.add_entries(
        {
            "datasetId": dataset_id,
            "keys": [
                {"key": "input", "data": [vec(*x) for x in xs]},
                {"key": "target", "data": [scalar(float(y)) for y in ys]},
            ],
        }
    )
    model_id = dt.model.create_model(
        {
            "name": f"reg-{uuid.uuid4().hex[:6]}",
            "description": "",
            "options": {"type": "fromExisting", "modelId": REGRESSOR},
        }
    )["modelId"]
    return model_id, dataset_id


def _start_training(dt: Any) -> tuple[str, str]:
    model_id, dataset_id = _train(dt)
    session = dt.model.train(
        {
            "modelId": model_id,
            "newStateName": "trained",
            "params": [
                {
                    "name": "input",
                    "data": {"type": "dataset", "datasetId": dataset_id, "datasetKey": "input"},
                },
                {
                    "name": "target",
                    "data": {"type": "dataset", "datasetId": dataset_id, "datasetKey": "target"},
                },
            ],
            "executionLocation": {
                "type": "temporaryLauncher",
                "spec": {"cpus": 0.25, "memoryMebibytes": 256},
            },
        }
    )["trainingSessionId"]
    return model_id, session


class Events:
    def __init__(self) -> None:
        self.items: list[DecthingsEvent] = []
        self.done = threading.Event()

    def __call__(self, event: DecthingsEvent) -> None:
        self.items.append(event)
        if event.event_name == "exit" and event.api == "Model":
            self.done.set()


def test_training_events_arrive_over_the_websocket_then_http_resumes(dt: Any) -> None:
    events = Events()
    dispose = dt.on_event(events)
    model_id, session = _start_training(dt)
    dt.model.subscribe_to_events({"trainingSessionId": session})
    assert events.done.wait(10), [e.event_name for e in events.items]
    dispose()
    names = [e.event_name for e in events.items if e.api == "Model"]
    assert names[-1] == "exit" and events.items[-1].data["reason"] == "completed"
    assert dt.subscriptions == frozenset()
    # Back on HTTP: the socket closes once no subscription remains.
    dt.model.get_models({"filter": {"ids": [model_id]}})
    assert dt.engine._socket is None
    # Training adds a state; activated, it predicts y = 2a - b + 0.5.
    dt.model.set_active_model_state({"modelId": model_id, "stateId": events.items[-1].data["newStateId"]})
    out = dt.model.evaluate({"modelId": model_id, "params": [{"name": "input", "data": [vec(1, 1)]}]})
    assert abs(out["success"]["output"][0]["data"][0].item() - 1.5) < 1e-3


def test_unsubscribe_without_a_socket_is_a_no_op(dt: Any) -> None:
    assert dt.model.unsubscribe_from_events({"trainingSessionId": "nothing"}) == {}


def _slow_training(emulator: Emulator) -> Any:
    """Training steps long enough to act while a session runs (restored afterwards)."""
    training = emulator.decthings.training
    previous = training.step_delay
    training.step_delay = 0.3
    return previous


def test_calls_travel_over_the_socket_while_subscribed(dt: Any, emulator: Emulator) -> None:
    previous = _slow_training(emulator)
    try:
        events = Events()
        dt.on_event(events)
        model_id, session = _start_training(dt)
        dt.model.subscribe_to_events({"trainingSessionId": session})
        assert dt.subscriptions == {("Model", session)}
        assert dt.engine._socket is not None and emulator.decthings.connection_count() >= 1
        status = dt.model.get_training_status({"modelId": model_id, "trainingSessionId": session})
        assert status  # answered over the WebSocket
        assert events.done.wait(10)
    finally:
        emulator.decthings.training.step_delay = previous


def test_a_dropped_socket_is_reopened_and_subscriptions_resent(dt: Any, emulator: Emulator) -> None:
    previous = _slow_training(emulator)
    try:
        events = Events()
        dt.on_event(events)
        _, session = _start_training(dt)
        dt.model.subscribe_to_events({"trainingSessionId": session})
        assert emulator.decthings.drop_websockets() == 1
        assert events.done.wait(15), [(e.api, e.event_name) for e in events.items]
        client_events = [e for e in events.items if e.api == "Client"]
        assert [e.event_name for e in client_events] == ["reconnected"]
        assert client_events[0].data["subscriptions"] == [("Model", session)]
        assert events.items[-1].data["trainingSessionId"] == session
    finally:
        emulator.decthings.training.step_delay = previous


def test_coroutine_listeners_and_a_raising_listener(dt: Any) -> None:
    async_exit = threading.Event()

    def broken(event: DecthingsEvent) -> None:
        raise RuntimeError("listener bug")

    async def coroutine_listener(event: DecthingsEvent) -> None:
        if event.event_name == "exit":
            async_exit.set()

    dt.on_event(broken)  # logged; the stream goes on
    dt.on_event(coroutine_listener)
    events = Events()
    dt.on_event(events)
    _, session = _start_training(dt)
    dt.model.subscribe_to_events({"trainingSessionId": session})
    assert events.done.wait(10)
    assert async_exit.wait(5)


def test_subscribing_to_an_unsupported_api_fails_and_leaves_no_socket(dt: Any) -> None:
    with pytest.raises(DecthingsApiError) as err:
        dt.spawned.subscribe_to_events({"spawnedCommandId": "s1"})
    assert err.value.error_code == "unknown"
    assert dt.subscriptions == frozenset() and dt.engine._socket is None


def test_a_websocket_that_cannot_connect_fails_fast(make_dt: Callable[..., Any]) -> None:
    client = make_dt(ws_server_address="ws://127.0.0.1:9/v0/ws", retry=NO_RETRY)
    with pytest.raises(core.UnavailableError, match="cannot open the Decthings WebSocket"):
        client.model.subscribe_to_events({"trainingSessionId": "x"}, timeout=5)


def test_states_and_snapshots(dt: Any) -> None:
    model_id = dt.model.create_model(
        {
            "name": f"s-{uuid.uuid4().hex[:6]}",
            "description": "",
            "options": {"type": "fromExisting", "modelId": SUM},
        }
    )["modelId"]
    weights = bytes(range(256)) * 300  # > 65535 bytes: one blob length the published varint cannot encode
    state_id = dt.model.upload_state(
        {
            "modelId": model_id,
            "name": "uploaded",
            "data": [{"key": "w", "data": weights}, {"key": "b", "data": b""}],
        }
    )["stateId"]
    got = dt.model.get_model_state({"modelId": model_id, "stateId": state_id})
    assert got["data"] == [{"key": "w", "data": weights}, {"key": "b", "data": b""}]
    dt.model.set_active_model_state({"modelId": model_id, "stateId": state_id})
    snapshot_id = dt.model.snapshot_model({"modelId": model_id, "snapshotName": "v1"})["snapshotId"]
    snap = dt.model.get_snapshot_state({"modelId": model_id, "snapshotId": snapshot_id, "keys": ["w"]})
    assert snap["data"] == [{"key": "w", "data": weights}]
    (info,) = dt.model.get_models({"filter": {"ids": [model_id]}})["models"]
    assert info["activeState"] == state_id and [s["id"] for s in info["snapshots"]] == [snapshot_id]
    dt.model.delete_snapshot({"modelId": model_id, "snapshotId": snapshot_id})
    (info,) = dt.model.get_models({"filter": {"ids": [model_id]}})["models"]
    assert info["snapshots"] == []
    # The published 0.0.4 name still works (it sends the same wire call under its current name).
    dt.model.set_current_model_state({"modelId": model_id, "stateId": state_id})


def test_a_split_add_entries_that_fails_says_how_much_landed(dt: Any) -> None:
    dataset_id, _ = new_dataset(dt)
    inputs = [vec(i, i) for i in range(200)]
    inputs[150] = vec(1, 2, 3)  # breaks the key's shape rule, in the second call
    with pytest.raises(InvalidParameterError, match="127 entries were added by earlier calls"):
        dt.dataset.add_entries(
            {
                "datasetId": dataset_id,
                "keys": [{"key": "input", "data": inputs}, {"key": "target", "data": [scalar(0)] * 200}],
            }
        )
    (info,) = dt.dataset.get_datasets({"filter": {"ids": [dataset_id]}})["datasets"]
    assert info["entries"]["count"] == 127


def test_retry_after_from_a_503_becomes_the_retry_delay(
    make_dt: Callable[..., Any], emulator: Emulator
) -> None:
    client = make_dt(retry=NO_RETRY)
    emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, retry_delay=0.5, times=1)
    with pytest.raises(DecthingsHttpError) as err:
        client.model.get_models({})
    assert err.value.status == 503 and err.value.retry_delay == 1.0  # Retry-After is whole seconds
    assert isinstance(err.value, core.UnavailableError)
    assert DecthingsHttpError(503, "", method="m", retry_after="soon").retry_delay is None
