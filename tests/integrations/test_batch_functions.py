"""The engine-agnostic batch functions (modelwire.integrations.batch) against the session emulator:
pyarrow and pandas batches in, result columns out; refusals and failures as rows, strict mode,
faults mid-stream, uploads exactly once across reruns. Fast: no Ray (skipped without pyarrow and
pandas, which the `ray` extra brings)."""

from __future__ import annotations

from typing import Any

import grpc
import numpy as np
import pytest

from modelwire import ApiError, UsageError
from modelwire.clarifai import Inputs, Model, User
from modelwire.clavata import ClavataClient, EvaluationRefusedError
from modelwire.decthings import DecthingsClientSync
from modelwire.emulator import Emulator

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

from modelwire.integrations import batch  # noqa: E402 (after the skips: it needs neither at import)


@pytest.fixture
def clavata(emulator: Emulator, api_key: str) -> Any:
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        yield client


@pytest.fixture
def base_url(emulator: Emulator) -> str:
    return f"http://127.0.0.1:{emulator.port}"


@pytest.fixture
def decthings(emulator: Emulator, api_key: str) -> Any:
    with DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url) as client:
        yield client


def _texts(n: int) -> list[str]:
    return [("I will attack you " if i % 3 == 0 else "hello ") + str(i) for i in range(n)]


def test_clavata_evaluate_adds_result_columns_with_refusals_as_rows(
    clavata: ClavataClient, images: dict[str, bytes]
) -> None:
    rows = 200
    texts: list[str | None] = _texts(rows)
    pictures: list[bytes | None] = [None] * rows
    for i in (5, 77, 150):  # refused: one refused item refuses a whole stream, so chunks are split
        texts[i], pictures[i] = None, images["gif"]
    texts[9] = None  # no content at all
    table = pa.table({"id": list(range(rows)), "text": texts, "image": pictures})

    out = batch.clavata_evaluate(clavata, table, policy_id="demo-policy", image_column="image", chunk_size=32)

    assert out.num_rows == rows and out.column("id").to_pylist() == list(range(rows))
    result = out.to_pandas()
    refused = result[result["refusal_reason"].notna()]
    assert list(refused["id"]) == [5, 77, 150]
    assert set(refused["refusal_reason"]) == {"UNSUPPORTED_FORMAT"}
    assert refused["content_hash"].str.startswith("fnv1a128::").all()
    assert result.loc[9, "error"].startswith("row 9 has no content")
    good = result[result["error"].isna()]
    assert len(good) == rows - 4
    assert set(good["outcome"]) == {"TRUE", "FALSE"}
    violent = good[good["outcome"] == "TRUE"]
    assert all(list(s) == ["Violence"] for s in violent["matched_sections"])
    assert (violent["score"] == 0.8).all() and (violent["id"] % 3 == 0).all()


def test_clavata_evaluate_takes_pandas_and_strict_raises(
    clavata: ClavataClient, images: dict[str, bytes]
) -> None:
    frame = pd.DataFrame({"text": ["hello", "attack"]})
    out = batch.clavata_evaluate(clavata, frame, policy_id="demo-policy", prefix="clavata_")
    assert isinstance(out, pd.DataFrame)
    assert list(out["clavata_outcome"]) == ["FALSE", "TRUE"] and list(frame.columns) == ["text"]
    bad = pd.DataFrame({"text": [None, None], "image": [images["png"], images["gif"]]})
    with pytest.raises(EvaluationRefusedError):
        batch.clavata_evaluate(clavata, bad, policy_id="demo-policy", image_column="image", strict=True)


def test_clavata_evaluate_resumes_a_stream_cut_off_mid_way(
    clavata: ClavataClient, emulator: Emulator
) -> None:
    emulator.faults.add("Evaluate", grpc.StatusCode.INTERNAL, after_messages=3)
    out = batch.clavata_evaluate(
        clavata, pa.table({"text": _texts(40)}), policy_id="demo-policy", chunk_size=40
    )
    assert out.column("error").null_count == 40  # every row answered: the rest went again
    emulator.faults.add("Evaluate", grpc.StatusCode.PERMISSION_DENIED, times=1)
    out = batch.clavata_evaluate(
        clavata, pa.table({"text": _texts(10)}), policy_id="demo-policy", chunk_size=5
    )
    errors = out.column("error").to_pylist()
    assert sum(e is not None for e in errors) == 5 and "PERMISSION_DENIED" in next(e for e in errors if e)


def test_clarifai_predict_concepts_embeddings_and_item_statuses(
    base_url: str, api_key: str, images: dict[str, bytes]
) -> None:
    classify = Model(
        model_id="general-text-classification",
        user_id="clarifai",
        app_id="main",
        base_url=base_url,
        pat=api_key,
    )
    out = batch.clarifai_predict(
        classify, pa.table({"text": ["what a happy day", "awful and sad"] * 70}), top_k=2
    )
    assert out.num_rows == 140 and out.column("status").to_pylist() == ["SUCCESS"] * 140
    first = out.column("concepts")[1].as_py()
    assert len(first) == 2 and first[0]["name"] == "negative"
    embed = Model(
        model_id="general-text-embedding", user_id="clarifai", app_id="main", base_url=base_url, pat=api_key
    )
    out = batch.clarifai_predict(embed, pd.DataFrame({"text": ["a", "b"]}))
    assert len(out.loc[0, "embedding"]) == 512
    recognize = Model(
        model_id="general-image-recognition",
        user_id="clarifai",
        app_id="main",
        base_url=base_url,
        pat=api_key,
    )
    table = pa.table({"img": [images["png"], b"not an image at all"]})
    out = batch.clarifai_predict(recognize, table, text_column=None, bytes_column="img", input_type="image")
    assert out.column("status").to_pylist() == ["SUCCESS", "INPUT_FAILED"]
    assert out.column("error")[0].as_py() is None and "image" in out.column("error")[1].as_py()
    for model in (classify, embed, recognize):
        model.close()


def test_clarifai_upload_is_exactly_once_across_reruns(
    emulator: Emulator, api_key: str, base_url: str
) -> None:
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as user:
        user.create_app("batch-upload")
    inputs = Inputs(user_id=emulator.user_id, app_id="batch-upload", base_url=base_url, pat=api_key)
    keys = [f"row-{i}" for i in range(150)] + ["a key/with spaces"]
    table = pa.table({"key": keys, "text": [f"text {i}" for i in range(151)]})
    first = batch.clarifai_upload(inputs, table.slice(0, 100), key_column="key", chunk_size=32)
    assert first.column("status").to_pylist() == ["uploaded"] * 100
    again = batch.clarifai_upload(inputs, table, key_column="key", chunk_size=32)  # a rerun after a crash
    assert again.column("status").to_pylist() == ["uploaded"] * 151
    assert again.column("id")[150].as_py() == batch.clarifai_input_id("a key/with spaces")
    stored = [i.id for i in inputs.list_inputs()]
    assert sorted(stored) == sorted(again.column("id").to_pylist())  # each key once
    inputs.close()


def test_decthings_evaluate_and_add_entries(decthings: DecthingsClientSync) -> None:
    out = batch.decthings_evaluate(
        decthings,
        pa.table({"text": ["hello", "world", "again"]}),
        model_id="decthings-text-embedder",
        inputs={"input": "text"},
        outputs=["embedding"],
        chunk_size=2,
    )
    vectors = out.column("embedding").combine_chunks().to_numpy()
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    frame = pd.DataFrame({"x": [np.array([1.0, 2.0], "f4"), np.array([3.5], "f4")]})
    summed = batch.decthings_evaluate(
        decthings, frame, model_id="decthings-sum", inputs={"input": "x"}, outputs=["output"]
    )
    assert list(summed["output"]) == [3.0, 3.5]
    failed = batch.decthings_evaluate(
        decthings,
        pd.DataFrame({"x": ["not a number"]}),
        model_id="decthings-sum",
        inputs={"input": "x"},
        outputs=["output"],
    )
    assert failed.loc[0, "output"] is None and "failed" in failed.loc[0, "error"]

    created = decthings.dataset.create_dataset(
        {
            "name": "batch-entries",
            "description": "",
            "keys": [
                {"name": "id", "rules": {"shape": [], "allowedTypes": ["string"]}},
                {"name": "x", "rules": {"shape": [], "allowedTypes": ["f32"]}},
            ],
        }
    )
    table = pa.table({"key": [f"e{i}" for i in range(120)], "x": np.arange(120, dtype="f8")})
    options: dict[str, Any] = {"dataset_id": created["datasetId"], "key_column": "key", "keys": {"x": "x"}}
    first = batch.decthings_add_entries(
        decthings, table.slice(0, 50), types={"x": "f32"}, chunk_size=20, **options
    )
    assert first.column("status").to_pylist() == ["uploaded"] * 50
    existing = {key for _, key in batch.decthings_entry_ids(decthings, created["datasetId"], "id")}
    again = batch.decthings_add_entries(decthings, table, types={"x": "f32"}, existing=existing, **options)
    assert again.column("status").to_pylist() == ["uploaded"] * 120
    assert again.column("reason").to_pylist().count("already present") == 50
    stored = [key for _, key in batch.decthings_entry_ids(decthings, created["datasetId"], "id", page=7)]
    assert sorted(stored) == sorted(f"e{i}" for i in range(120))


def test_batch_functions_say_what_is_wrong(clavata: ClavataClient) -> None:
    with pytest.raises(UsageError, match="no column 'body'"):
        batch.clavata_evaluate(
            clavata, pa.table({"text": ["a"]}), policy_id="demo-policy", text_column="body"
        )
    with pytest.raises(UsageError, match="pyarrow Table or a pandas DataFrame"):
        batch.clavata_evaluate(clavata, [{"text": "a"}], policy_id="demo-policy")
    with pytest.raises(UsageError, match="max_in_flight"):
        batch.clavata_evaluate(clavata, pa.table({"text": ["a"]}), policy_id="demo-policy", max_in_flight=0)
    assert issubclass(EvaluationRefusedError, ApiError)
