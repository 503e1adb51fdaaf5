"""Ray Data operators and writers for Clavata, Clarifai and Decthings (`pip install 'modelwire[ray]'`).

Each operator is a callable class for `Dataset.map_batches`: its constructor builds one client per
worker (from a client you pass, which pickles as its configuration and reconnects on the worker,
from `client_kwargs`, or from the worker's environment), and each call runs one batch through the
engine-agnostic functions of `modelwire.integrations.batch`:

    ds.map_batches(
        ClavataEvaluate,
        fn_constructor_kwargs={"policy_id": "demo-policy"},
        concurrency=2,            # actors: each holds one client
        batch_format="pyarrow",   # or "pandas"
    )

Per worker, at most `max_in_flight` calls are in flight (each with the core's retries and
deadline); Ray's streaming executor applies backpressure between operators and shows each
operator's progress. Actors that die are restarted and their batches retried by Ray, so every
input row comes out once: failures become rows with an `error` column, never a failed job
(unless `strict=True`).

Writes: `write_clarifai_inputs` (or `ClarifaiInputsDatasink` for `Dataset.write_datasink`) and
`write_decthings_entries` upload rows keyed by a column of yours, exactly once across reruns, and
return a summary of what landed, failed (with the reason) or is unknown.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from modelwire._core.errors import UsageError, needs_extra

with needs_extra("ray", "modelwire.integrations.ray", ("ray", "pyarrow", "pandas")):
    import ray.data
    from ray.data import Datasink
    from ray.data.block import BlockAccessor

from modelwire._core.writes import WriteSummary
from modelwire.integrations import batch as batches
from modelwire.integrations.batch import FAILED, UNKNOWN, UPLOADED, Batch

__all__ = [
    "ClarifaiInputsDatasink",
    "ClarifaiPredict",
    "ClarifaiUpload",
    "ClavataEvaluate",
    "DecthingsAddEntries",
    "DecthingsEvaluate",
    "summary_of",
    "write_clarifai_inputs",
    "write_decthings_entries",
]

log = logging.getLogger("modelwire.integrations")
C = TypeVar("C")
# An I/O-bound operator waits on the network: a fraction of a CPU per actor leaves room for the
# stages around it (on a 2-CPU machine, two actors at 1 CPU each would starve the readers).
DEFAULT_NUM_CPUS = 0.25


def _client(make: Callable[..., C], given: C | None, kwargs: Mapping[str, Any] | None) -> C:
    """The worker's client: the one given (unpickled, so connected anew here), else one built
    from `kwargs`, else from the worker's environment."""
    if given is not None:
        if kwargs:
            raise UsageError("pass a client or client_kwargs=, not both")
        return given
    return make(**dict(kwargs or {}))


class _Operator(Generic[C]):
    """Holds the worker's client and closes it when the actor goes away."""

    client: C

    def __del__(self) -> None:
        close = getattr(getattr(self, "client", None), "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # an actor being torn down: nothing left to tell
                close()


class ClavataEvaluate(_Operator[Any]):
    """Evaluate text / image rows against a Clavata policy (see `batch.clavata_evaluate`).

    Adds `outcome`, `score`, `matched_sections`, `content_hash`, `refusal_reason` and `error`.
    `client` is a `ClavataClient` (pickled as its configuration), `client_kwargs` its constructor
    arguments; neither: `ClavataClient()` from the worker's environment.
    """

    def __init__(
        self,
        *,
        policy_id: str,
        client: Any = None,
        client_kwargs: Mapping[str, Any] | None = None,
        text_column: str | None = "text",
        image_column: str | None = None,
        image_url_column: str | None = None,
        threshold: float | None = None,
        chunk_size: int = 64,
        max_in_flight: int = 4,
        strict: bool = False,
        prefix: str = "",
    ) -> None:
        from modelwire.clavata import ClavataClient

        self.client = _client(ClavataClient, client, client_kwargs)
        self.options: dict[str, Any] = {
            "policy_id": policy_id,
            "text_column": text_column,
            "image_column": image_column,
            "image_url_column": image_url_column,
            "threshold": threshold,
            "chunk_size": chunk_size,
            "max_in_flight": max_in_flight,
            "strict": strict,
            "prefix": prefix,
        }

    def __call__(self, batch: Batch) -> Batch:
        return batches.clavata_evaluate(self.client, batch, **self.options)


class ClarifaiPredict(_Operator[Any]):
    """Predict rows with a Clarifai model or workflow (see `batch.clarifai_predict`).

    Adds `concepts`, `embedding`, `status` and `error`. Give `model` (a `Model` or `Workflow`,
    pickled as its configuration), or `model_kwargs` (for `Model(...)`, e.g. `{"url": ...}`) or
    `workflow_kwargs` (for `Workflow(...)`); credentials come from the worker's environment
    unless the kwargs name them.
    """

    def __init__(
        self,
        *,
        model: Any = None,
        model_kwargs: Mapping[str, Any] | None = None,
        workflow_kwargs: Mapping[str, Any] | None = None,
        text_column: str | None = "text",
        bytes_column: str | None = None,
        url_column: str | None = None,
        input_type: str | None = None,
        top_k: int = 5,
        output_config: Mapping[str, Any] | None = None,
        inference_params: Mapping[str, Any] | None = None,
        output_model_id: str | None = None,
        chunk_size: int | None = None,
        max_in_flight: int = 4,
        strict: bool = False,
        prefix: str = "",
    ) -> None:
        from modelwire.clarifai import Model, Workflow

        if sum(x is not None for x in (model, model_kwargs, workflow_kwargs)) != 1:
            raise UsageError("pass one of model=, model_kwargs= or workflow_kwargs=")
        if model is not None:
            self.client = model
        elif model_kwargs is not None:
            self.client = Model(**dict(model_kwargs))
        else:
            self.client = Workflow(**dict(workflow_kwargs or {}))
        self.options: dict[str, Any] = {
            "text_column": text_column,
            "bytes_column": bytes_column,
            "url_column": url_column,
            "input_type": input_type,
            "top_k": top_k,
            "output_config": output_config,
            "inference_params": inference_params,
            "output_model_id": output_model_id,
            "chunk_size": chunk_size,
            "max_in_flight": max_in_flight,
            "strict": strict,
            "prefix": prefix,
        }

    def __call__(self, batch: Batch) -> Batch:
        return batches.clarifai_predict(self.client, batch, **self.options)


class DecthingsEvaluate(_Operator[Any]):
    """Evaluate a Decthings model on tensor columns (see `batch.decthings_evaluate`).

    Adds one column per name in `outputs` (NumPy-backed tensors) and `error`. `client` is a
    `DecthingsClientSync` (pickled as its configuration), `client_kwargs` its constructor
    arguments; neither: `DecthingsClientSync()` from the worker's environment.
    """

    def __init__(
        self,
        *,
        model_id: str,
        inputs: Mapping[str, str],
        outputs: Sequence[str],
        client: Any = None,
        client_kwargs: Mapping[str, Any] | None = None,
        types: Mapping[str, str] | None = None,
        snapshot_id: str | None = None,
        chunk_size: int = 64,
        max_in_flight: int = 4,
        strict: bool = False,
        prefix: str = "",
    ) -> None:
        from modelwire.decthings import DecthingsClientSync

        self.client = _client(DecthingsClientSync, client, client_kwargs)
        self.options: dict[str, Any] = {
            "model_id": model_id,
            "inputs": dict(inputs),
            "outputs": list(outputs),
            "types": types,
            "snapshot_id": snapshot_id,
            "chunk_size": chunk_size,
            "max_in_flight": max_in_flight,
            "strict": strict,
            "prefix": prefix,
        }

    def __call__(self, batch: Batch) -> Batch:
        return batches.decthings_evaluate(self.client, batch, **self.options)


class ClarifaiUpload(_Operator[Any]):
    """Upload rows as Clarifai inputs keyed by `key_column`; one summary row each (see
    `batch.clarifai_upload`). `inputs` is an `Inputs` for the app (pickled as its configuration),
    or `inputs_kwargs` its constructor arguments (`user_id=`, `app_id=`, ...)."""

    def __init__(
        self,
        *,
        key_column: str,
        inputs: Any = None,
        inputs_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        from modelwire.clarifai import Inputs

        self.client = _client(Inputs, inputs, inputs_kwargs)
        self.options: dict[str, Any] = {"key_column": key_column, **options}

    def __call__(self, batch: Batch) -> Batch:
        return batches.clarifai_upload(self.client, batch, **self.options)


class DecthingsAddEntries(_Operator[Any]):
    """Add rows as Decthings dataset entries keyed by `key_column`; one summary row each (see
    `batch.decthings_add_entries`; `write_decthings_entries` runs it with the read-back that makes
    it exactly once)."""

    def __init__(
        self,
        *,
        dataset_id: str,
        key_column: str,
        keys: Mapping[str, str],
        client: Any = None,
        client_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        from modelwire.decthings import DecthingsClientSync

        self.client = _client(DecthingsClientSync, client, client_kwargs)
        self.options: dict[str, Any] = {
            "dataset_id": dataset_id,
            "key_column": key_column,
            "keys": dict(keys),
            **options,
        }

    def __call__(self, batch: Batch) -> Batch:
        return batches.decthings_add_entries(self.client, batch, **self.options)


# -- writes ----------------------------------------------------------------------------------------


def summary_of(rows: Iterable[Mapping[str, Any]]) -> WriteSummary:
    """A `WriteSummary` (uploaded ids, failed and unknown ids with reasons) of summary rows."""
    summary = WriteSummary()
    for row in rows:
        key, status, reason = str(row["id"] or row["key"]), row["status"], row["reason"] or ""
        if status == UPLOADED:
            summary.uploaded.append(key)
        elif status == UNKNOWN:
            summary.unknown[key] = reason
        else:
            summary.failed[key] = reason
    return summary


def _map_options(concurrency: int, batch_size: int | None, num_cpus: float) -> dict[str, Any]:
    return {
        "concurrency": concurrency,
        "batch_size": batch_size,
        "num_cpus": num_cpus,
        "batch_format": "pyarrow",
    }


def write_clarifai_inputs(
    ds: ray.data.Dataset,
    *,
    key_column: str,
    inputs: Any = None,
    inputs_kwargs: Mapping[str, Any] | None = None,
    concurrency: int = 2,
    batch_size: int | None = 512,
    num_cpus: float = DEFAULT_NUM_CPUS,
    **options: Any,
) -> ray.data.Dataset:
    """Upload every row of `ds` as a Clarifai input whose id comes from `key_column`; returns the
    materialized summary: one row per input row with `key`, `id`, `status` (`uploaded`, `failed`,
    `unknown`) and `reason`.

    Exactly once: ids are derived from the keys, and an id that already exists counts as uploaded,
    so rerunning after a crash (or Ray retrying a batch) stores nothing twice and uploads only what
    is missing. `options` go to `batch.clarifai_upload` (`text_column=`, `bytes_column=`,
    `url_column=`, `labels_column=`, `metadata_columns=`, `dataset_id=`, `max_in_flight=`, ...).
    """
    summary = ds.map_batches(
        ClarifaiUpload,
        fn_constructor_kwargs={
            "key_column": key_column,
            "inputs": inputs,
            "inputs_kwargs": inputs_kwargs,
            **options,
        },
        **_map_options(concurrency, batch_size, num_cpus),
    )
    materialized: ray.data.Dataset = summary.materialize()
    return materialized


class ClarifaiInputsDatasink(Datasink[list[dict[str, Any]]]):  # type: ignore[misc,unused-ignore]
    """`ds.write_datasink(ClarifaiInputsDatasink(key_column="id", inputs_kwargs={...}))`: the same
    upload as `write_clarifai_inputs` from Ray's write tasks; afterwards `sink.rows` holds the
    summary rows and `sink.summary` their `WriteSummary`."""

    def __init__(
        self,
        *,
        key_column: str,
        inputs: Any = None,
        inputs_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if inputs is not None and inputs_kwargs:
            raise UsageError("pass inputs= or inputs_kwargs=, not both")
        self._inputs = inputs
        self._inputs_kwargs = dict(inputs_kwargs or {})
        self._options = {"key_column": key_column, **options}
        self.rows: list[dict[str, Any]] = []
        self.summary = WriteSummary()

    def write(self, blocks: Iterable[Any], ctx: Any) -> list[dict[str, Any]]:
        """Upload the blocks of one write task; its summary rows."""
        from modelwire.clarifai import Inputs

        inputs = _client(Inputs, self._inputs, self._inputs_kwargs)
        rows: list[dict[str, Any]] = []
        for block in blocks:
            table = BlockAccessor.for_block(block).to_arrow()
            rows += batches.clarifai_upload(inputs, table, **self._options).to_pylist()
        return rows

    def on_write_complete(self, write_result: Any) -> None:
        """Gather every task's summary rows (on the driver)."""
        self.rows = [row for rows in write_result.write_returns for row in rows]
        self.summary = summary_of(self.rows)


def write_decthings_entries(
    ds: ray.data.Dataset,
    *,
    dataset_id: str,
    key_column: str,
    keys: Mapping[str, str],
    id_key: str = "id",
    client: Any = None,
    client_kwargs: Mapping[str, Any] | None = None,
    concurrency: int = 1,
    batch_size: int | None = 500,
    num_cpus: float = DEFAULT_NUM_CPUS,
    **options: Any,
) -> ray.data.Dataset:
    """Add every row of `ds` as an entry of Decthings dataset `dataset_id`, exactly once by
    `key_column`, stored under the dataset's string key `id_key`; returns the materialized summary
    (`key`, `id`, `status`, `reason`).

    Decthings entries carry no ids, so the ids are read from the dataset: before the run (rows
    already there are not sent: "already present") and after it, when entries a retried batch
    added twice are removed (the first of each key kept) and `unknown` rows are settled by whether
    their key is there. `keys` maps the dataset's other keys to columns; `options` go to
    `batch.decthings_add_entries` (`types=`, `chunk_size=`, `max_in_flight=`).
    """
    from modelwire.decthings import DecthingsClientSync

    driver = _client(DecthingsClientSync, client, client_kwargs)
    existing = sorted({key for _, key in batches.decthings_entry_ids(driver, dataset_id, id_key)})
    summary: ray.data.Dataset = ds.map_batches(
        DecthingsAddEntries,
        fn_constructor_kwargs={
            "dataset_id": dataset_id,
            "key_column": key_column,
            "keys": dict(keys),
            "id_key": id_key,
            "existing": existing,
            "client": client,
            "client_kwargs": client_kwargs,
            **options,
        },
        **_map_options(concurrency, batch_size, num_cpus),
    ).materialize()
    written = {str(row["key"]) for row in summary.select_columns(["key"]).iter_rows()}
    stored = batches.decthings_entry_ids(driver, dataset_id, id_key)
    duplicates = _second_copies(stored, written)
    if duplicates:
        driver.dataset.remove_entries({"datasetId": dataset_id, "entries": duplicates})
        log.info("removed %d entries a retried batch had added twice", len(duplicates))
    present = {key for _, key in stored}
    if client is None:
        driver.close()
    statuses = {row["status"] for row in summary.select_columns(["status"]).iter_rows()}
    if UNKNOWN not in statuses:
        return summary
    settled: ray.data.Dataset = summary.map_batches(
        functools.partial(_settle, present=present), batch_format="pyarrow", num_cpus=num_cpus
    ).materialize()
    return settled


def _second_copies(stored: Sequence[tuple[int, str]], keys: set[str]) -> list[int]:
    """Indexes of every entry after the first with the same key, among `keys`."""
    seen: Counter[str] = Counter()
    extra = []
    for index, key in stored:
        if key in keys:
            seen[key] += 1
            if seen[key] > 1:
                extra.append(index)
    return extra


def _settle(batch: Batch, present: set[str]) -> Batch:
    """Unknown rows of a Decthings write, settled by the read-back: there (uploaded) or not (failed)."""
    import pyarrow as pa

    rows = batch.to_pylist()
    for row in rows:
        if row["status"] == UNKNOWN:
            landed = row["id"] in present
            row["status"] = UPLOADED if landed else FAILED
            row["reason"] = (
                "found on read-back" if landed else f"not stored ({row['reason']}); rerun to add it"
            )
    return pa.Table.from_pylist(rows, schema=batch.schema)
