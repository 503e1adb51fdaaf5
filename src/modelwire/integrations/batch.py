"""Bulk evaluation, prediction and upload over batches of rows, for any engine.

Each function takes a client and a batch of rows — a pyarrow `Table` or a pandas `DataFrame` — and
returns the same kind of batch: the input columns with result columns added (evaluate, predict), or
one summary row per input row (uploads). So the same call serves Ray Data's `map_batches` (see
`modelwire.integrations.ray`), Spark's `mapInPandas` and Dask's `map_partitions`.

What every function shares:

* **Per-row outcomes.** A row that was refused or failed gets its reason in the `error` column
  (and the rest of its result columns null); it never fails the batch. `strict=True` raises the
  first error instead (after every call of the batch has finished).
* **Bounded concurrency.** A batch is split into chunks (one RPC each) and at most `max_in_flight`
  chunks are in flight at once, through the core's bounded executor; each call gets the client's
  retries and deadline.
* **Nothing lost.** Every input row comes out once, in input order.

Uploads key each row by a column of the caller's: the Clarifai input id is derived from the key
(the same key, the same id, on every run), so a rerun uploads only what is missing, and existing
inputs count as uploaded. The summary row says `uploaded`, `failed` (with the reason) or `unknown`
(sent, no verdict: a rerun settles it).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from modelwire._core.batching import chunked, run_batches
from modelwire._core.config import is_int_at_least
from modelwire._core.errors import ApiError, ModelwireError, RpcCode, UsageError
from modelwire._core.writes import WriteSummary, account_failed_batch, failure_reason

if TYPE_CHECKING:
    from modelwire.clarifai import Inputs, Model, Workflow
    from modelwire.clavata import ClavataClient
    from modelwire.decthings import DecthingsClientSync

__all__ = [
    "CLARIFAI_PREDICT_COLUMNS",
    "CLAVATA_COLUMNS",
    "ROW_TAG",
    "SUMMARY_COLUMNS",
    "clarifai_input_id",
    "clarifai_predict",
    "clarifai_upload",
    "clavata_evaluate",
    "decthings_add_entries",
    "decthings_entry_ids",
    "decthings_evaluate",
    "num_rows",
]

# Batches are pyarrow Tables or pandas DataFrames (neither library is a dependency of the SDK).
Batch = Any

# The metadata key that tags each streamed Clavata item with its row (echoed in the report).
ROW_TAG = "modelwire-row"
CLAVATA_COLUMNS = ("outcome", "score", "matched_sections", "content_hash", "refusal_reason", "error")
CLARIFAI_PREDICT_COLUMNS = ("concepts", "embedding", "status", "error")
SUMMARY_COLUMNS = ("key", "id", "status", "reason")
UPLOADED, FAILED, UNKNOWN = "uploaded", "failed", "unknown"
ALREADY_PRESENT = "already present"
# How many times a Clavata stream cut off mid-way (after answering some rows) is resumed with the
# rows it did not answer: evaluation has no side effects, and each resumption made progress.
RESUMES = 3
# Codes for which one bad item fails a whole multi-item call: the chunk is split to find it.
_PER_ITEM_CODES = (RpcCode.INVALID_ARGUMENT, RpcCode.FAILED_PRECONDITION)


# -- batches -------------------------------------------------------------------------------------


def _is_arrow(batch: Batch) -> bool:
    module = type(batch).__module__
    if module.startswith("pyarrow"):
        return True
    if module.startswith("pandas"):
        return False
    raise UsageError(
        f"a batch must be a pyarrow Table or a pandas DataFrame, got {type(batch).__name__} "
        '(in Ray Data: map_batches(..., batch_format="pyarrow" or "pandas"))'
    )


def num_rows(batch: Batch) -> int:
    """The number of rows of a pyarrow Table or pandas DataFrame."""
    return int(batch.num_rows) if _is_arrow(batch) else len(batch)


def _column(batch: Batch, name: str) -> list[Any]:
    names = list(batch.column_names) if _is_arrow(batch) else [str(c) for c in batch.columns]
    if name not in names:
        raise UsageError(f"the batch has no column {name!r}; its columns: {', '.join(names)}")
    if _is_arrow(batch):
        return batch.column(name).to_pylist()  # type: ignore[no-any-return]
    return list(batch[name])


def _cells(batch: Batch, name: str) -> list[Any]:
    """A column's values with their NumPy dtypes kept (a float32 column gives float32 scalars, a
    tensor column one array per row): what tensors are built from."""
    _column(batch, name)  # the missing-column error
    if not _is_arrow(batch):
        return list(batch[name].to_numpy())
    import pyarrow as pa

    column = batch.column(name)
    if isinstance(column.type, pa.ExtensionType):
        return list(column.combine_chunks().to_numpy())
    return list(column.to_numpy(zero_copy_only=False))


def _optional_column(batch: Batch, name: str | None, rows: int) -> list[Any]:
    return _column(batch, name) if name else [None] * rows


def _present(value: Any) -> bool:
    """False for None and NaN (pandas' missing value), True for anything else."""
    if value is None:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa

    concept = pa.struct([("name", pa.string()), ("value", pa.float64())])
    return {
        "outcome": pa.string(),
        "score": pa.float64(),
        "matched_sections": pa.list_(pa.string()),
        "content_hash": pa.string(),
        "refusal_reason": pa.string(),
        "error": pa.string(),
        "concepts": pa.list_(concept),
        "embedding": pa.list_(pa.float32()),
        "status": pa.string(),
        "id": pa.string(),
        "reason": pa.string(),
    }


def _tensor_array(values: list[Any]) -> Any:
    """Decthings outputs as one arrow column: plain numbers for scalars, a tensor column (Ray's
    tensor type when Ray is there, else arrow's fixed-shape tensor) for same-shape arrays, and a
    list column otherwise; rows without a value are null."""
    import pyarrow as pa

    arrays = [np.asarray(v) for v in values if v is not None]
    if not arrays:
        return pa.nulls(len(values))
    if all(a.ndim == 0 for a in arrays) and not any(a.dtype == object for a in arrays):
        return pa.array([None if v is None else np.asarray(v).item() for v in values])
    shapes = {a.shape for a in arrays}
    numeric = all(a.dtype != object for a in arrays)
    if len(shapes) == 1 and numeric and len(arrays) == len(values):
        stacked = np.stack(arrays)
        try:
            from ray.data.extensions import ArrowTensorArray

            return ArrowTensorArray.from_numpy(stacked)
        except ImportError:
            return pa.FixedShapeTensorArray.from_numpy_ndarray(stacked)
    return pa.array([None if v is None else np.asarray(v).tolist() for v in values])


def _with_columns(
    batch: Batch,
    columns: Mapping[str, list[Any]],
    kinds: Mapping[str, str] | None = None,
    tensors: Collection[str] = (),
) -> Batch:
    """`batch` with `columns` added (replacing any of the same name). `kinds` names each column's
    arrow type in `_arrow_types` when it differs from the column's name (a prefixed name, say)."""
    if not _is_arrow(batch):
        out = batch.copy(deep=False)
        for name, values in columns.items():
            out[name] = values
        return out
    import pyarrow as pa

    types = _arrow_types()
    out = batch
    for name, values in columns.items():
        if name in tensors:
            array = _tensor_array(values)
        else:
            array = pa.array(values, type=types.get((kinds or {}).get(name, name)))
        if name in out.column_names:
            out = out.drop_columns([name])
        out = out.append_column(name, array)
    return out


def _new_batch(like: Batch, columns: Mapping[str, list[Any]]) -> Batch:
    """A batch of the same kind as `like` holding only `columns`."""
    if _is_arrow(like):
        import pyarrow as pa

        types = _arrow_types()
        return pa.table({name: pa.array(values, type=types.get(name)) for name, values in columns.items()})
    import pandas as pd

    return pd.DataFrame(dict(columns))


def _check_chunking(chunk_size: int, max_in_flight: int, limit: int) -> None:
    if not is_int_at_least(chunk_size, 1) or chunk_size > limit:
        raise UsageError(f"chunk_size must be an int between 1 and {limit}, got {chunk_size!r}")
    if not is_int_at_least(max_in_flight, 1):
        raise UsageError(f"max_in_flight must be a positive int, got {max_in_flight!r}")


def _named(prefix: str, names: Sequence[str]) -> dict[str, str]:
    return {name: f"{prefix}{name}" for name in names}


class _Errors:
    """The first error of a batch, raised at the end in strict mode (every chunk finishes first)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.first: BaseException | None = None
        self._lock = threading.Lock()

    def note(self, error: BaseException) -> None:
        with self._lock:
            if self.first is None:
                self.first = error

    def raise_first(self) -> None:
        if self.strict and self.first is not None:
            raise self.first


def _error_text(error: BaseException) -> str:
    return failure_reason(error)


# -- Clavata ---------------------------------------------------------------------------------------


@dataclass
class _ClavataRow:
    outcome: str | None = None
    score: float | None = None
    matched_sections: list[str] | None = None
    content_hash: str | None = None
    refusal_reason: str | None = None
    error: str | None = None


def clavata_evaluate(
    client: ClavataClient,
    batch: Batch,
    *,
    policy_id: str,
    text_column: str | None = "text",
    image_column: str | None = None,
    image_url_column: str | None = None,
    threshold: float | None = None,
    chunk_size: int = 64,
    max_in_flight: int = 4,
    strict: bool = False,
    prefix: str = "",
) -> Batch:
    """Evaluate each row's content against a Clavata policy; the batch with result columns added.

    Each row holds one piece of content: text in `text_column`, image bytes in `image_column` or
    an image URL in `image_url_column` (exactly one of them set per row). Rows are streamed in
    chunks of `chunk_size` (one `evaluate` stream each, at most `max_in_flight` at once).

    Columns added (each name after `prefix`): `outcome` ("TRUE"/"FALSE"), `score`,
    `matched_sections` (labels of the matched sections), `content_hash`, `refusal_reason`
    (e.g. "UNSUPPORTED_FORMAT" for refused content) and `error`. A refused or failed row has
    `error` set and no outcome. The service refuses a whole stream when one item is refused, so
    a refused chunk is split until the refused rows are found; a stream cut off mid-way is
    resumed (up to RESUMES times) with the rows it did not answer.

    Raises:
        UsageError: A named column is missing, or an argument is malformed.
        ApiError: With `strict=True`, the first row's failure (an `EvaluationRefusedError` for a
            refusal).
    """
    from modelwire.clavata import ContentData, EvaluateRequest, EvaluationRefusedError

    _check_chunking(chunk_size, max_in_flight, 10_000)
    rows = num_rows(batch)
    sources = {
        "text": _optional_column(batch, text_column, rows),
        "image": _optional_column(batch, image_column, rows),
        "image_url": _optional_column(batch, image_url_column, rows),
    }
    if not (text_column or image_column or image_url_column):
        raise UsageError("name the content: text_column=, image_column= or image_url_column=")
    results = [_ClavataRow() for _ in range(rows)]
    errors = _Errors(strict)

    def content(i: int) -> ContentData | None:
        given = {kind: values[i] for kind, values in sources.items() if _present(values[i])}
        if len(given) != 1:
            what = "no content" if not given else f"more than one kind of content ({', '.join(given)})"
            message = f"row {i} has {what}: set exactly one of the content columns"
            results[i].error = message
            errors.note(UsageError(message))
            return None
        kind, value = next(iter(given.items()))
        if kind == "image" and not isinstance(value, (bytes, bytearray, memoryview)):
            value = bytes(value)
        return ContentData(**{kind: value}, metadata={ROW_TAG: str(i)})

    def fill(i: int, response: Any) -> None:
        report = response.report
        row = results[i]
        row.content_hash = response.content_hash or (report.content_hash if report else None)
        if report is None:
            row.error = "the service sent no report for this item"
            return
        row.outcome = str(report.outcome)
        row.score = float(report.score)
        row.matched_sections = list(report.matches)

    def fail(indexes: Sequence[int], error: BaseException) -> None:
        errors.note(error)
        text = _error_text(error)
        for i in indexes:
            results[i].error = text

    def refuse(i: int, error: Any) -> None:
        errors.note(error)
        refusal = error.refusals[0] if error.refusals else None
        results[i].error = _error_text(error)
        results[i].refusal_reason = refusal.reason.name if refusal else "UNKNOWN"
        results[i].content_hash = refusal.content_hash if refusal and refusal.content_hash else None

    def evaluate(indexes: list[int], contents: dict[int, ContentData], resumes: int = RESUMES) -> None:
        answered: list[int] = []
        untagged = iter(indexes)
        try:
            request = EvaluateRequest(
                content=[contents[i] for i in indexes], policy_id=policy_id, threshold=threshold
            )
            with client.evaluate(request) as stream:
                for response in stream:
                    report = response.report
                    tag = report.content_metadata.get(ROW_TAG) if report is not None else None
                    # Tagged by row; a service that did not echo the tag answers in order.
                    i = int(tag) if tag is not None and tag.isdigit() else next(untagged)
                    fill(i, response)
                    answered.append(i)
        except EvaluationRefusedError as err:
            split(indexes, answered, contents, err, refusal=True)
            return
        except ApiError as err:
            rest = [i for i in indexes if i not in set(answered)]
            if answered and resumes:  # cut off mid-stream after some progress: the rest again
                evaluate(rest, contents, resumes - 1)
            elif err.rpc_code in _PER_ITEM_CODES:
                split(indexes, answered, contents, err, refusal=False)
            else:
                fail(rest, err)
            return
        rest = [i for i in indexes if i not in set(answered)]
        if rest and resumes:
            evaluate(rest, contents, resumes - 1)
        elif rest:
            fail(rest, ApiError("the stream ended without an answer for this item", code=RpcCode.UNKNOWN))

    def split(
        indexes: list[int], answered: list[int], contents: dict[int, ContentData], err: Any, *, refusal: bool
    ) -> None:
        rest = [i for i in indexes if i not in set(answered)]
        if len(rest) == 1:
            if refusal:
                refuse(rest[0], err)
            else:
                fail(rest, err)
            return
        half = len(rest) // 2
        evaluate(rest[:half], contents)
        evaluate(rest[half:], contents)

    def work(indexes: list[int]) -> None:
        contents = {i: c for i in indexes if (c := content(i)) is not None}
        if contents:
            evaluate(list(contents), contents)

    run_batches(work, list(chunked(range(rows), chunk_size)), max_workers=max_in_flight)
    errors.raise_first()
    names = _named(prefix, CLAVATA_COLUMNS)
    columns = {names[c]: [getattr(r, c) for r in results] for c in CLAVATA_COLUMNS}
    return _with_columns(batch, columns, {v: k for k, v in names.items()})


# -- Clarifai predict ------------------------------------------------------------------------------


def _clarifai_input(text: Any, data: Any, url: Any, input_type: str | None) -> Any:
    """One row as a Clarifai Input (exactly one of text, bytes or URL)."""
    from modelwire.clarifai._content import input_from_bytes, input_from_url

    given = [v for v in (text, data, url) if _present(v)]
    if len(given) != 1:
        what = "no content" if not given else "more than one kind of content"
        raise UsageError(f"the row has {what}: set exactly one of the text, bytes or URL columns")
    if _present(text):
        return input_from_bytes(str(text).encode("utf-8"), "text")
    if _present(data):
        return input_from_bytes(bytes(data), input_type)
    return input_from_url(str(url), input_type)


def _status_name(status: Any) -> str:
    from modelwire._gen.clarifai.api.status import status_code_pb2

    try:
        return status_code_pb2.StatusCode.Name(status.code)
    except ValueError:
        return f"STATUS_{status.code}"


def _status_reason(status: Any) -> str:
    text = status.description or _status_name(status)
    return f"{text}: {status.details}" if status.details else text


def clarifai_predict(
    predictor: Model | Workflow,
    batch: Batch,
    *,
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
) -> Batch:
    """Predict each row with a Clarifai `Model` or `Workflow`; the batch with result columns added.

    Each row holds one input: text in `text_column`, bytes (an image, say; `input_type` or sniffed)
    in `bytes_column`, or a URL in `url_column`. Rows go in chunks of `chunk_size` (128 for a
    model, 32 for a workflow: one PostModelOutputs / PostWorkflowResults each), at most
    `max_in_flight` at once.

    Columns added (each after `prefix`): `concepts` (the top `top_k` as {name, value}), `embedding`
    (the first embedding's vector, float32; null when the output has none), `status` (the item's
    status code name, e.g. "SUCCESS") and `error` (the reason when the item or its call failed).
    For a workflow, concepts and embedding come from the last node output that has them, or from
    the output of the model `output_model_id`.

    Raises:
        UsageError: A named column is missing, or an argument is malformed.
        ApiError: With `strict=True`, the first failure.
    """
    from modelwire.clarifai import Model
    from modelwire.clarifai.model import MAX_MODEL_PREDICT_INPUTS
    from modelwire.clarifai.workflow import MAX_WORKFLOW_PREDICT_INPUTS

    is_model = isinstance(predictor, Model)
    limit = MAX_MODEL_PREDICT_INPUTS if is_model else MAX_WORKFLOW_PREDICT_INPUTS
    size = limit if chunk_size is None else chunk_size
    _check_chunking(size, max_in_flight, limit)
    if not is_int_at_least(top_k, 0):
        raise UsageError(f"top_k must be an int >= 0, got {top_k!r}")
    if not (text_column or bytes_column or url_column):
        raise UsageError("name the input: text_column=, bytes_column= or url_column=")
    rows = num_rows(batch)
    texts = _optional_column(batch, text_column, rows)
    datas = _optional_column(batch, bytes_column, rows)
    urls = _optional_column(batch, url_column, rows)
    concepts: list[Any] = [None] * rows
    embeddings: list[Any] = [None] * rows
    statuses: list[str | None] = [None] * rows
    error_texts: list[str | None] = [None] * rows
    errors = _Errors(strict)

    def outputs_of(item: Any) -> list[Any]:
        if is_model:
            return [item]
        chosen = [o for o in item.outputs if output_model_id is None or o.model.id == output_model_id]
        return list(reversed(chosen))  # the last node first

    def fill(i: int, item: Any) -> None:
        statuses[i] = _status_name(item.status)
        if item.status.code not in (0, _success_code()):
            error_texts[i] = _status_reason(item.status)
            errors.note(ApiError(error_texts[i] or "", code=RpcCode.UNKNOWN))
            return
        outputs = outputs_of(item)
        with_concepts = next((o for o in outputs if o.data.concepts), None)
        if with_concepts is not None:
            ranked = sorted(with_concepts.data.concepts, key=lambda c: -c.value)[:top_k]
            concepts[i] = [{"name": c.name or c.id, "value": float(c.value)} for c in ranked]
        else:
            concepts[i] = []
        with_embedding = next((o for o in outputs if o.data.embeddings), None)
        if with_embedding is not None:
            embeddings[i] = np.asarray(with_embedding.data.embeddings[0].vector, dtype=np.float32).tolist()

    def work(indexes: list[int]) -> None:
        items, sent = [], []
        for i in indexes:
            try:
                items.append(_clarifai_input(texts[i], datas[i], urls[i], input_type))
                sent.append(i)
            except ModelwireError as err:
                errors.note(err)
                error_texts[i] = _error_text(err)
        if not items:
            return
        try:
            if is_model:
                response = predictor.predict(  # type: ignore[call-arg]
                    items, inference_params=inference_params, output_config=output_config
                )
            else:
                response = predictor.predict(items)
        except ApiError as err:
            # Every item failed (or the call did): per-item statuses when the response has them.
            answer = getattr(err, "response", None)
            per_item = list(_items_of(answer)) if answer is not None else []
            if len(per_item) == len(sent):
                for i, item in zip(sent, per_item, strict=True):
                    fill(i, item)
                    if error_texts[i] is None:
                        error_texts[i] = _error_text(err)
            else:
                errors.note(err)
                for i in sent:
                    error_texts[i] = _error_text(err)
            return
        answered = list(_items_of(response))
        if len(answered) != len(sent):
            lost = ApiError(f"{len(answered)} outputs for {len(sent)} inputs", code=RpcCode.UNKNOWN)
            errors.note(lost)
            for i in sent:
                error_texts[i] = _error_text(lost)
            return
        for i, item in zip(sent, answered, strict=True):
            fill(i, item)

    run_batches(work, list(chunked(range(rows), size)), max_workers=max_in_flight)
    errors.raise_first()
    names = _named(prefix, CLARIFAI_PREDICT_COLUMNS)
    return _with_columns(
        batch,
        {
            names["concepts"]: concepts,
            names["embedding"]: embeddings,
            names["status"]: statuses,
            names["error"]: error_texts,
        },
        {v: k for k, v in names.items()},
    )


def _items_of(response: Any) -> Sequence[Any]:
    return response.outputs if hasattr(response, "outputs") else response.results  # type: ignore[no-any-return]


def _success_code() -> int:
    # Read lazily: Clarifai's generated modules load only when Clarifai is used.
    from modelwire._gen.clarifai.api.status import status_code_pb2

    return int(status_code_pb2.SUCCESS)


# -- Clarifai upload -------------------------------------------------------------------------------

_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")


def clarifai_input_id(key: Any, prefix: str = "") -> str:
    """The input id for a row key: the key itself when it is a valid id (letters, digits, `_`, `-`,
    `.`, at most 48), else a digest of it. The same key always gives the same id."""
    text = str(key)
    candidate = f"{prefix}{text}"
    if _VALID_ID.match(candidate):
        return candidate
    return f"{prefix}k{hashlib.sha256(text.encode('utf-8')).hexdigest()[:40]}"


def _summary_rows(
    keys: Sequence[Any], ids: Sequence[str | None], summary: WriteSummary, early: Mapping[int, str]
) -> dict[str, list[Any]]:
    """One summary row per input row: uploaded, failed (reason) or unknown (reason)."""
    status: list[str] = []
    reason: list[str | None] = []
    uploaded = set(summary.uploaded)
    for i, input_id in enumerate(ids):
        if i in early or input_id is None:
            status.append(FAILED)
            reason.append(early.get(i, "no id"))
        elif input_id in summary.failed:
            status.append(FAILED)
            reason.append(summary.failed[input_id])
        elif input_id in summary.unknown:
            status.append(UNKNOWN)
            reason.append(summary.unknown[input_id])
        elif input_id in uploaded:
            status.append(UPLOADED)
            reason.append(None)
        else:  # cannot happen: the core's summaries account for every id
            status.append(UNKNOWN)
            reason.append("not accounted for by the upload")
    return {"key": [str(k) for k in keys], "id": list(ids), "status": status, "reason": reason}


def clarifai_upload(
    inputs: Inputs,
    batch: Batch,
    *,
    key_column: str,
    text_column: str | None = "text",
    bytes_column: str | None = None,
    url_column: str | None = None,
    input_type: str | None = None,
    labels_column: str | None = None,
    metadata_columns: Sequence[str] = (),
    dataset_id: str | None = None,
    id_prefix: str = "",
    chunk_size: int = 128,
    max_in_flight: int = 4,
    strict: bool = False,
) -> Batch:
    """Upload each row as a Clarifai input whose id comes from `key_column`; one summary row each.

    The upload is `Inputs.upload_inputs_bulk`: batches of `chunk_size`, at most `max_in_flight` at
    once, each add-job waited for, inputs that failed processing retried then removed. An id that
    already exists (an earlier run, or a retried Ray task) counts as uploaded: so a rerun uploads
    only what is missing, and the app holds each key once.

    Returns a batch with columns `key` (as text), `id` (the input id), `status` (`uploaded`,
    `failed`, `unknown`) and `reason` (null when uploaded). `unknown` means the request was sent
    and no verdict came back: rerun to settle it.

    Raises:
        UsageError: A named column is missing, or an argument is malformed.
        ModelwireError: With `strict=True`, when any row is not uploaded (`err.summary` says which).
    """
    from modelwire.clarifai.inputs import MAX_UPLOAD_BATCH_SIZE, UploadSummary

    _check_chunking(chunk_size, max_in_flight, MAX_UPLOAD_BATCH_SIZE)
    rows = num_rows(batch)
    keys = _column(batch, key_column)
    texts = _optional_column(batch, text_column, rows)
    datas = _optional_column(batch, bytes_column, rows)
    urls = _optional_column(batch, url_column, rows)
    labels = _optional_column(batch, labels_column, rows)
    metadata = {name: _column(batch, name) for name in metadata_columns}
    ids: list[str | None] = []
    early: dict[int, str] = {}
    items = []
    seen: set[str] = set()
    for i in range(rows):
        if not _present(keys[i]) or str(keys[i]) == "":
            ids.append(None)
            early[i] = f"row {i} has no key in {key_column!r}"
            continue
        input_id = clarifai_input_id(keys[i], id_prefix)
        ids.append(input_id)
        if input_id in seen:
            continue  # the same key twice in one batch: one input, both rows report it
        try:
            item = _clarifai_input(texts[i], datas[i], urls[i], input_type)
        except ModelwireError as err:
            early[i] = _error_text(err)
            continue
        item.id = input_id
        if dataset_id:
            item.dataset_ids.append(dataset_id)
        if _present(labels[i]):
            names = [labels[i]] if isinstance(labels[i], str) else list(labels[i])
            for name in names:
                concept = item.data.concepts.add()
                concept.id = concept.name = str(name)
                concept.value = 1.0
        for name, values in metadata.items():
            if _present(values[i]):
                value = values[i]
                item.data.metadata[name] = value if isinstance(value, (str, int, float, bool)) else str(value)
        seen.add(input_id)
        items.append(item)
    summary: WriteSummary = UploadSummary()
    error: ModelwireError | None = None
    if items:
        try:
            summary = inputs.upload_inputs_bulk(
                items, batch_size=chunk_size, max_workers=max_in_flight, show_progress=False
            )
        except ModelwireError as err:
            if not isinstance(err.summary, WriteSummary):
                raise  # not a write failure (e.g. bad arguments): nothing was sent
            summary, error = err.summary, err
    out = _summary_rows(keys, ids, summary, early)
    if strict:
        _raise_unless_uploaded(out, summary, error)
    return _new_batch(batch, out)


def _raise_unless_uploaded(
    out: Mapping[str, list[Any]], summary: WriteSummary, error: ModelwireError | None
) -> None:
    """Strict mode of the uploads: the write's own error, else one naming the rows not uploaded."""
    if error is not None:
        raise error
    rows = zip(out["key"], out["reason"], out["status"], strict=True)
    missed = [(key, reason) for key, reason, status in rows if status != UPLOADED]
    if missed:
        shown = "; ".join(f"{k}: {r}" for k, r in missed[:5]) + (" ..." if len(missed) > 5 else "")
        problem = UsageError(f"{len(missed)} of {len(out['key'])} rows were not uploaded ({shown})")
        problem.summary = summary
        raise problem


# -- Decthings -------------------------------------------------------------------------------------

_DTYPE_TYPES = {
    "float32": "f32",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint16": "u16",
    "uint32": "u32",
    "uint64": "u64",
    "bool": "boolean",
}

_TYPE_DTYPES = {kind: dtype for dtype, kind in _DTYPE_TYPES.items()}


def _tensor(value: Any, data_type: Any) -> Any:
    """A cell as a DecthingsTensor: arrays and lists keep their shape, scalars are shape []."""
    from modelwire.decthings import DecthingsTensor

    if isinstance(value, DecthingsTensor):
        return value
    if isinstance(value, str):
        return DecthingsTensor([value], data_type or "string", [])
    if isinstance(value, (bytes, bytearray, memoryview)):
        return DecthingsTensor([bytes(value)], data_type or "binary", [])
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind in "US":
        kind = data_type or ("string" if array.dtype.kind == "U" or array.size == 0 else "binary")
        if array.size and isinstance(array.reshape(-1)[0], str):
            kind = data_type or "string"
        return DecthingsTensor(array.reshape(-1).tolist(), cast("Any", kind), list(array.shape))
    chosen = data_type or _DTYPE_TYPES.get(array.dtype.name)
    if chosen is None:
        raise UsageError(f"no Decthings type for numpy dtype {array.dtype}: pass types={{...}}")
    wanted = _TYPE_DTYPES.get(chosen)
    if wanted is not None and array.dtype.name != wanted:
        array = array.astype(wanted)  # types= names it: a float64 cell read as f32, say
    return DecthingsTensor(array, cast("Any", chosen))


def _output_value(tensor: Any) -> Any:
    array = tensor.numpy()
    return array.item() if array.ndim == 0 and array.dtype != object else array


def decthings_evaluate(
    client: DecthingsClientSync,
    batch: Batch,
    *,
    model_id: str,
    inputs: Mapping[str, str],
    outputs: Sequence[str],
    types: Mapping[str, str] | None = None,
    snapshot_id: str | None = None,
    chunk_size: int = 64,
    max_in_flight: int = 4,
    strict: bool = False,
    prefix: str = "",
) -> Batch:
    """Evaluate a Decthings model on each row; the batch with one column per output added.

    `inputs` maps the model's input parameter names to columns (each cell one tensor: a number, a
    string, a list or a NumPy array; `types` names the Decthings type of a parameter where the
    dtype does not tell, e.g. {"input": "f32"}). `outputs` names the output parameters to keep:
    each becomes a column of NumPy arrays (numbers for scalars). Rows go in chunks of `chunk_size`
    (one `model.evaluate` each, at most `max_in_flight` at once).

    An evaluation that failed (`{"failed": ...}`: the model raised) or an API error sets `error`
    on the chunk's rows and leaves their outputs null.

    Raises:
        UsageError: A named column is missing, or an argument is malformed.
        ModelwireError: With `strict=True`, the first failure.
    """
    _check_chunking(chunk_size, max_in_flight, 10_000)
    if not inputs:
        raise UsageError("inputs= maps the model's input parameters to columns, e.g. {'input': 'text'}")
    if not outputs:
        raise UsageError("outputs= names the output parameters to keep, e.g. ['embedding']")
    rows = num_rows(batch)
    cells = {param: _cells(batch, column) for param, column in inputs.items()}
    results: dict[str, list[Any]] = {name: [None] * rows for name in outputs}
    error_texts: list[str | None] = [None] * rows
    errors = _Errors(strict)
    chosen_types = dict(types or {})

    def fail(indexes: Sequence[int], error: BaseException) -> None:
        errors.note(error)
        for i in indexes:
            error_texts[i] = _error_text(error)

    def work(indexes: list[int]) -> None:
        try:
            params = [
                {"name": param, "data": [_tensor(values[i], chosen_types.get(param)) for i in indexes]}
                for param, values in cells.items()
            ]
        except ModelwireError as err:
            fail(indexes, err)
            return
        request: dict[str, Any] = {"modelId": model_id, "params": params}
        if snapshot_id:
            request["snapshotId"] = snapshot_id
        try:
            result = client.model.evaluate(cast("Any", request))
        except ModelwireError as err:
            fail(indexes, err)
            return
        if "failed" in result:
            fail(indexes, ApiError(f"the evaluation failed: {result['failed']}", code=RpcCode.UNKNOWN))
            return
        produced = {o["name"]: o["data"] for o in result["success"]["output"]}
        for name in outputs:
            tensors = produced.get(name)
            if tensors is None or len(tensors) != len(indexes):
                fail(indexes, ApiError(f"the model gave no {name!r} for every row", code=RpcCode.UNKNOWN))
                return
        for name in outputs:
            for i, tensor in zip(indexes, produced[name], strict=True):
                results[name][i] = _output_value(tensor)

    run_batches(work, list(chunked(range(rows), chunk_size)), max_workers=max_in_flight)
    errors.raise_first()
    columns = {f"{prefix}{name}": values for name, values in results.items()}
    columns[f"{prefix}error"] = error_texts
    kinds = {f"{prefix}error": "error"}
    return _with_columns(batch, columns, kinds, tensors=[f"{prefix}{name}" for name in outputs])


def decthings_entry_ids(
    client: DecthingsClientSync, dataset_id: str, id_key: str, *, page: int = 1000
) -> list[tuple[int, str]]:
    """Every entry's (index, id) of a Decthings dataset whose key `id_key` holds each entry's id
    (a string scalar), in index order: what `decthings_add_entries` checks a rerun against."""
    total = client.dataset.get_datasets({"filter": {"ids": [dataset_id]}})["datasets"]
    if not total:
        raise UsageError(f"no Decthings dataset {dataset_id!r}")
    count = int(total[0]["entries"]["count"])
    found: list[tuple[int, str]] = []
    for start in range(0, count, page):
        got = client.dataset.get_entries(
            {"datasetId": dataset_id, "entries": {"start": start, "end": start + page}}
        )
        by_key = {k["key"]: k["data"] for k in got["keys"]}
        if id_key not in by_key:
            raise UsageError(f"dataset {dataset_id!r} has no key {id_key!r}: its keys are {sorted(by_key)}")
        found += [(int(e["index"]), str(e["data"].item())) for e in by_key[id_key]]
    return found


def decthings_add_entries(
    client: DecthingsClientSync,
    batch: Batch,
    *,
    dataset_id: str,
    key_column: str,
    keys: Mapping[str, str],
    id_key: str = "id",
    types: Mapping[str, str] | None = None,
    existing: Collection[str] = (),
    chunk_size: int = 100,
    max_in_flight: int = 2,
    strict: bool = False,
) -> Batch:
    """Add each row as an entry of a Decthings dataset, its key stored under the dataset key
    `id_key` (a string scalar); one summary row each.

    `keys` maps the dataset's other keys to columns (cells as for `decthings_evaluate`). Entries
    carry no ids of their own, so exactly-once needs the stored key: rows whose key is in
    `existing` (`decthings_entry_ids` read before the run) are not sent again and count as
    uploaded ("already present"). Chunks of `chunk_size` rows go in one `add_entries` each (at most
    `max_in_flight` at once); a failed chunk's rows are `failed`, or `unknown` when the request may
    have landed (resolve by reading the ids back: `modelwire.integrations.ray.write_decthings_entries`
    does).

    Returns a batch with columns `key`, `id` (the key as stored), `status` and `reason`.
    """
    _check_chunking(chunk_size, max_in_flight, 10_000)
    rows = num_rows(batch)
    row_keys = _column(batch, key_column)
    cells = {name: _cells(batch, column) for name, column in keys.items()}
    chosen_types = dict(types or {})
    present = set(existing)
    summary = WriteSummary()
    lock = threading.Lock()
    early: dict[int, str] = {}
    ids: list[str | None] = []
    todo: list[int] = []
    seen: set[str] = set()
    for i in range(rows):
        if not _present(row_keys[i]) or str(row_keys[i]) == "":
            ids.append(None)
            early[i] = f"row {i} has no key in {key_column!r}"
            continue
        key = str(row_keys[i])
        ids.append(key)
        if key in present:
            summary.uploaded.append(key)
        elif key not in seen:
            seen.add(key)
            todo.append(i)

    def work(indexes: list[int]) -> None:
        names = [str(row_keys[i]) for i in indexes]
        try:
            data = [{"key": id_key, "data": [_tensor(n, "string") for n in names]}]
            data += [
                {"key": name, "data": [_tensor(values[i], chosen_types.get(name)) for i in indexes]}
                for name, values in cells.items()
            ]
        except ModelwireError as err:
            with lock:
                summary.mark(names, _error_text(err), landed_maybe=False)
            return
        try:
            client.dataset.add_entries(cast("Any", {"datasetId": dataset_id, "keys": data}))
        except ModelwireError as err:
            with lock:
                account_failed_batch(summary, names, err)
            return
        with lock:
            summary.uploaded += names

    run_batches(work, list(chunked(todo, chunk_size)), max_workers=max_in_flight)
    out: dict[str, list[Any]] = _summary_rows(row_keys, ids, summary, early)
    for i, stored in enumerate(ids):
        if stored is not None and stored in present and out["status"][i] == UPLOADED:
            out["reason"][i] = ALREADY_PRESENT
    if strict:
        _raise_unless_uploaded(out, summary, None)
    return _new_batch(batch, out)
