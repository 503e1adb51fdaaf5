"""The client-side transforms between a method's Python-facing params/result and its wire form.

Most methods are plain JSON. The rest move data into or out of blobs:

* A list of DecthingsTensors under `data` (a ParameterProvider, anywhere in the params) leaves
  the JSON; it becomes one blob holding the tensors serialized back to back. A dataset reference
  (`{"type": "dataset", ...}`) stays in the JSON. Blob order is the order met in the params.
* Any other `bytes` value leaves the JSON and becomes one blob (create_model upload data,
  write_to_* data, FS.write data).
* `Dataset.addEntries` / `addEntriesToNeedsReview`: `keys` becomes the sorted key names and the
  blobs are entry-major, key-minor, one serialized tensor each.
* State data `[{"key", "data": bytes}]` becomes `stateKeyNames` plus one blob per key.
* FS path names are bytes in Python and base64 strings in the JSON.
* Results: evaluate outputs, dataset entries, state data and FS reads get their blobs back.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelwire._core.errors import UsageError
from modelwire.decthings.protocol import MAX_BLOBS
from modelwire.decthings.tensor import DecthingsTensor, TensorFormatError

Encoder = Callable[[str, Mapping[str, Any]], tuple[Any, list[bytes]]]
Decoder = Callable[[str, Any, list[bytes]], Any]


class DecthingsUsageError(UsageError, TypeError):
    """Params that cannot be sent as given; the message says what to change.

    Also a TypeError: decthings-api 0.0.4 raises TypeError for params it cannot send, and code
    written for it may catch that."""

    __module__ = "modelwire.decthings"  # its public path, for tracebacks and pickle


def _is_tensor_list(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(t, DecthingsTensor) for t in value)


def _extract(value: Any, blobs: list[bytes], where: str) -> Any:
    """A JSON-ready copy of `value` with tensor lists and bytes moved into `blobs`."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DecthingsUsageError(f"{where}: keys must be strings, got {key!r}")
            if key == "data" and isinstance(value.get("name"), str) and _is_tensor_list(item):
                # A ParameterProvider: its tensors travel as one blob.
                blobs.append(b"".join(t.serialize() for t in item))
                continue
            if isinstance(item, (bytes, bytearray, memoryview)):
                blobs.append(bytes(item))
                continue
            out[key] = _extract(item, blobs, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_extract(item, blobs, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, DecthingsTensor):
        raise DecthingsUsageError(
            f"{where}: a DecthingsTensor must be inside a list under 'data' "
            '(e.g. {"name": "input", "data": [tensor]})'
        )
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise DecthingsUsageError(f"{where}: {type(value).__name__} cannot be sent as JSON")


def encode_default(where: str, params: Mapping[str, Any]) -> tuple[Any, list[bytes]]:
    blobs: list[bytes] = []
    return _extract(params, blobs, where), blobs


def _entry_keys(where: str, params: Mapping[str, Any]) -> tuple[list[str], list[list[DecthingsTensor]]]:
    keys = params.get("keys")
    if not isinstance(keys, (list, tuple)) or not keys:
        raise DecthingsUsageError(
            f'{where}: "keys" must be a non-empty list of {{"key": name, "data": [tensors]}}'
        )
    by_name: dict[str, list[DecthingsTensor]] = {}
    for i, item in enumerate(keys):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise DecthingsUsageError(f'{where}: keys[{i}] must be {{"key": name, "data": [tensors]}}')
        name = item["key"]
        data = item.get("data")
        if not isinstance(data, (list, tuple)) or not all(isinstance(t, DecthingsTensor) for t in data):
            raise DecthingsUsageError(f'{where}: keys[{i}] ("{name}") data must be a list of DecthingsTensor')
        if name in by_name:
            raise DecthingsUsageError(f'{where}: key "{name}" is given twice; give each key once')
        by_name[name] = list(data)
    counts = {name: len(data) for name, data in by_name.items()}
    if len(set(counts.values())) != 1:
        raise DecthingsUsageError(
            f"{where}: every key needs one tensor per entry, but the counts differ: {counts}"
        )
    names = sorted(by_name)
    return names, [by_name[n] for n in names]


def entry_batches(where: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """add_entries params split so each call stays within the 255-blob limit (entry boundaries)."""
    names, columns = _entry_keys(where, params)
    n = len(columns[0])
    per_call = max(MAX_BLOBS // len(names), 1)
    if len(names) > MAX_BLOBS:
        raise DecthingsUsageError(f"{where}: {len(names)} keys exceed the {MAX_BLOBS}-blob limit of one call")
    if n <= per_call:
        return [dict(params)]
    batches = []
    for start in range(0, n, per_call):
        batch = dict(params)
        batch["keys"] = [
            {"key": name, "data": col[start : start + per_call]}
            for name, col in zip(names, columns, strict=True)
        ]
        batches.append(batch)
    return batches


def encode_entries(where: str, params: Mapping[str, Any]) -> tuple[Any, list[bytes]]:
    names, columns = _entry_keys(where, params)
    blobs = [t.serialize() for row in zip(*columns, strict=True) for t in row]
    rest = {k: v for k, v in params.items() if k != "keys"}
    body, extra = encode_default(where, rest)
    if extra:
        raise DecthingsUsageError(f"{where}: only keys[].data may hold tensors or bytes")
    body["keys"] = names
    return body, blobs


def _state_data(where: str, items: object) -> tuple[list[str], list[bytes]]:
    if not isinstance(items, (list, tuple)):
        raise DecthingsUsageError(f'{where}: state data must be a list of {{"key": name, "data": bytes}}')
    names, blobs = [], []
    for i, item in enumerate(items):
        if not (isinstance(item, Mapping) and isinstance(item.get("key"), str)):
            raise DecthingsUsageError(f'{where}[{i}] must be {{"key": name, "data": bytes}}')
        data = item.get("data")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecthingsUsageError(f'{where}[{i}] ("{item["key"]}") data must be bytes')
        names.append(item["key"])
        blobs.append(bytes(data))
    return names, blobs


def encode_upload_state(where: str, params: Mapping[str, Any]) -> tuple[Any, list[bytes]]:
    names, blobs = _state_data(f"{where}.data", params.get("data"))
    body, extra = encode_default(where, {k: v for k, v in params.items() if k != "data"})
    body["stateKeyNames"] = names
    return body, [*extra, *blobs]


def encode_create_model(where: str, params: Mapping[str, Any]) -> tuple[Any, list[bytes]]:
    options = params.get("options")
    initial = options.get("initialState") if isinstance(options, Mapping) else None
    if isinstance(options, Mapping) and isinstance(initial, Mapping) and initial.get("method") == "upload":
        names, blobs = _state_data(f"{where}.options.initialState.data", initial.get("data"))
        new_initial = {k: v for k, v in initial.items() if k != "data"}
        new_initial["stateKeyNames"] = names
        new_params = dict(params)
        new_params["options"] = {**options, "initialState": new_initial}
        body, extra = encode_default(where, new_params)
        return body, [*extra, *blobs]
    return encode_default(where, params)


def encode_write(where: str, params: Mapping[str, Any]) -> tuple[Any, list[bytes]]:
    """write_to_* / send_to_remote_inspector / FS.write: `data` (bytes or str) is blob 0."""
    data = params.get("data")
    if isinstance(data, str):
        params = {**params, "data": data.encode()}
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecthingsUsageError(f"{where}.data must be bytes or str, got {type(data).__name__}")
    encode = encode_fs if where.startswith("FS.") else encode_default
    return encode(where, params)


_FS_NAMES = ("name", "newname", "link")


def _b64(where: str, value: object) -> str:
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DecthingsUsageError(f"{where} must be bytes or str, got {type(value).__name__}")
    return base64.b64encode(bytes(value)).decode()


def encode_fs(where: str, params: Mapping[str, Any]) -> tuple[Any, list[bytes]]:
    names = {k: _b64(f"{where}.{k}", params[k]) for k in _FS_NAMES if k in params}
    body, blobs = encode_default(where, {k: v for k, v in params.items() if k not in _FS_NAMES})
    body.update(names)
    return body, blobs


def _tensors(where: str, blob: bytes) -> list[DecthingsTensor]:
    try:
        return DecthingsTensor.deserialize_many(blob)
    except TensorFormatError as exc:
        raise TensorFormatError(f"{where}: {exc}") from None


def decode_outputs(where: str, result: Any, blobs: list[bytes]) -> Any:
    """evaluate-like results: blob i holds the tensors of output i."""
    if not isinstance(result, dict):
        return result
    for branch in ("success", "evaluationSuccess"):
        success = result.get(branch)
        outputs = success.get("output") if isinstance(success, dict) else None
        if isinstance(outputs, list):
            for i, out in enumerate(outputs):
                if isinstance(out, dict) and i < len(blobs):
                    out["data"] = _tensors(f"{where} output {out.get('name', i)!r}", blobs[i])
    return result


def decode_entries(where: str, result: Any, blobs: list[bytes]) -> Any:
    """Raw `{keys: [names], indexes: [...]}` + one blob per (index, key) -> per-key entry lists."""
    if not isinstance(result, dict) or not isinstance(result.get("keys"), list):
        return result
    names: list[str] = result["keys"]
    indexes: list[int] = result.pop("indexes", [])
    if len(blobs) != len(names) * len(indexes):
        raise TensorFormatError(
            f"{where}: expected {len(names) * len(indexes)} blobs ({len(indexes)} entries x "
            f"{len(names)} keys), got {len(blobs)}"
        )
    columns: list[list[dict[str, Any]]] = [[] for _ in names]
    pos = 0
    for index in indexes:
        for col in columns:
            tensor, end = DecthingsTensor.deserialize(blobs[pos])
            if end != len(blobs[pos]):
                raise TensorFormatError(f"{where}: entry {index} holds more than one tensor")
            col.append({"index": index, "data": tensor})
            pos += 1
    result["keys"] = [{"key": name, "data": col} for name, col in zip(names, columns, strict=True)]
    return result


def decode_state(where: str, result: Any, blobs: list[bytes]) -> Any:
    """get_model_state / get_snapshot_state: key names + one blob per key -> [{key, data}]."""
    if not isinstance(result, dict):
        return result
    names = result.pop("stateKeyNames", None)
    if names is None and isinstance(result.get("data"), list):
        names = [d.get("key") for d in result["data"] if isinstance(d, dict)]
    if isinstance(names, list):
        result["data"] = [{"key": k, "data": b} for k, b in zip(names, blobs, strict=False)]
    return result


def decode_fs_read(where: str, result: Any, blobs: list[bytes]) -> Any:
    if isinstance(result, dict) and blobs:
        result["data"] = blobs[0]
    return result


def decode_fs_readlink(where: str, result: Any, blobs: list[bytes]) -> Any:
    if isinstance(result, dict) and blobs:
        result["link"] = blobs[0]
    return result


def decode_fs_readdir(where: str, result: Any, blobs: list[bytes]) -> Any:
    entries = result.get("entries") if isinstance(result, dict) else None
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("basename"), str):
                entry["basename"] = base64.b64decode(entry["basename"])
    return result


def decode_training_metrics(where: str, result: Any, blobs: list[bytes]) -> Any:
    """One blob per metric entry, counted across all metrics in order: entry `data` tensors."""
    metrics = result.get("metrics") if isinstance(result, dict) else None
    if not isinstance(metrics, list):
        return result
    pos = 0
    for metric in metrics:
        for entry in metric.get("entries", []) if isinstance(metric, dict) else []:
            if isinstance(entry, dict) and pos < len(blobs):
                entry["data"], _ = DecthingsTensor.deserialize(blobs[pos])
                pos += 1
    return result


def decode_default(where: str, result: Any, blobs: list[bytes]) -> Any:
    return result


_ENCODERS: dict[str, Encoder] = {
    "Dataset.addEntries": encode_entries,
    "Dataset.addEntriesToNeedsReview": encode_entries,
    "Dataset.finalizeNeedsReviewEntries": encode_entries,
    "Spawned.writeToSpawnedCommand": encode_write,
    "Terminal.writeToTerminalSession": encode_write,
    "Language.writeToLanguageServer": encode_write,
    "Debug.sendToRemoteInspector": encode_write,
    "FS.write": encode_write,
    "Model.uploadState": encode_upload_state,
    "Model.createModel": encode_create_model,
}
_DECODERS: dict[str, Decoder] = {
    "Dataset.getEntries": decode_entries,
    "Dataset.getNeedsReviewEntries": decode_entries,
    "Model.evaluate": decode_outputs,
    "Model.getFinishedEvaluationResult": decode_outputs,
    "Debug.callEvaluate": decode_outputs,
    "Model.getModelState": decode_state,
    "Model.getSnapshotState": decode_state,
    "Debug.downloadStateData": decode_state,
    "Model.getTrainingMetrics": decode_training_metrics,
    "Debug.getTrainingMetrics": decode_training_metrics,
    "FS.read": decode_fs_read,
    "FS.readlink": decode_fs_readlink,
    "FS.readdir": decode_fs_readdir,
}


def encoder_for(api: str, method: str) -> Encoder:
    default = encode_fs if api == "FS" else encode_default
    return _ENCODERS.get(f"{api}.{method}", default)


def decoder_for(api: str, method: str) -> Decoder:
    return _DECODERS.get(f"{api}.{method}", decode_default)


def event_blobs(api: str, event: str, params: Any, blobs: Sequence[bytes]) -> Any:
    """Binary event payloads (stdout, stderr, data, remoteInspectorData) arrive as blob 0."""
    if isinstance(params, dict) and blobs:
        params["data"] = blobs[0]
    return params
