"""Behavioural compatibility of modelwire's Decthings clients with the published decthings-api 0.0.4.

Decthings has no descriptors to compare: this check runs both clients against one emulator (started
here, in this process, with Decthings on a free HTTP port) and compares what they return. The
published client runs in its own venv (`${MODELWIRE_CACHE:-~/.cache/modelwire}/venvs/decthings`,
built once by scripts/compat.py's ensure_venv, shared with `make bench`), as a child process that
this script drives one call at a time; ours (DecthingsClientSync and DecthingsClient) run here.

Only the calls 0.0.4 gets right are made (see /work/shared/reference, A.3-A.6): get_models,
get_datasets, add_entries (at most 255 blobs per call), get_entries through its *async* client (its
sync one raises IndexError on datasets with several keys), evaluate with one tensor per output, and
API errors. Both sides act on the same dataset: the published clients add entries that ours read
back, and ours add entries that the published client reads back.

Every result is JSON-normalised the same way on both sides (`normalise`): tensors become
{type, shape, values}, bytes base64, and the values that differ from call to call (new version ids,
evaluation durations) their type only. An API error is the error dict: the published client's
second tuple item, ours the `.error` of the exception it raises. Every client's outcome of a check
must equal the first one's, and the expected value where the check has one.

    python scripts/compat.py --target decthings   # what `make compat` runs (with the others)
    python scripts/compat_decthings.py            # this check alone

Exit status (alone): 0 all match, 1 mismatches, 2 set-up failure. Only the standard library is
imported at module level: the child (`--child URL`, in the published venv) loads this file too.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIREMENT = "decthings-api==0.0.4"
PUBLISHED = "decthings-api 0.0.4"
API_KEY = "compat-decthings-key"
CHILD_TIMEOUT = 60.0  # seconds for the child to start or to answer one call
# The child's clients and ours, in the order their outcomes are compared (the first is the reference).
P_SYNC, P_ASYNC, O_SYNC, O_ASYNC = "published sync", "published async", "modelwire sync", "modelwire async"
ALL = (P_SYNC, P_ASYNC, O_SYNC, O_ASYNC)
NUMPY_TYPES = {
    "f32": "<f4",
    "f64": "<f8",
    "i8": "i1",
    "i16": "<i2",
    "i32": "<i4",
    "i64": "<i8",
    "u8": "u1",
    "u16": "<u2",
    "u32": "<u4",
    "u64": "<u8",
    "boolean": "bool",
}


class SetupError(Exception):
    """The check could not run (venv, child process, emulator): the message says why."""


# --------------------------------------------------------------------------------------------------
# Normalisation and tensors in JSON (both processes)


def _is_tensor(value: object) -> bool:
    return all(callable(getattr(value, a, None)) for a in ("type", "shape", "numpy", "item"))


def _volatile(path: Sequence[str]) -> bool:
    """Values that differ from call to call: new version ids and evaluation timings."""
    last = path[-1] if path else ""
    return last in {"newDatasetVersionId", "totalDuration"} or (len(path) >= 2 and path[-2] == "durations")


def normalise(value: Any, path: tuple[str, ...] = ()) -> Any:
    """`value` as plain JSON: tensors as {"tensor": type, "shape": [...], "values": [...]}, bytes as
    {"bytes": base64}, volatile values as "<their type>"."""
    if _volatile(path):
        return f"<{type(value).__name__}>"
    if _is_tensor(value):
        kind = value.type()
        flat = value.numpy().reshape(-1)
        if kind in ("string",):
            values: list[Any] = [str(v) for v in flat]
        elif kind in ("binary",):
            values = [base64.b64encode(bytes(v)).decode() for v in flat]
        elif kind in NUMPY_TYPES:
            values = flat.tolist()
        else:  # media elements: (format, data)
            values = [[str(v.format), base64.b64encode(bytes(v.data)).decode()] for v in flat]
        return {"tensor": kind, "shape": [int(d) for d in value.shape()], "values": values}
    if isinstance(value, dict):
        return {str(k): normalise(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v, (*path, str(i))) for i, v in enumerate(value)]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"unexpected": type(value).__name__, "repr": repr(value)}


def tensor_json(kind: str, shape: list[int], values: list[Any]) -> dict[str, Any]:
    """A tensor as it travels in the params this script sends (decoded by `decode_params`)."""
    return {"$tensor": {"type": kind, "shape": shape, "values": values}}


def decode_params(value: Any, tensor_class: Any) -> Any:
    """Params with every `tensor_json` replaced by a `tensor_class` (ours, or the published one)."""
    if isinstance(value, dict):
        if set(value) == {"$tensor"}:
            import numpy as np

            spec = value["$tensor"]
            kind, shape, values = spec["type"], list(spec["shape"]), spec["values"]
            if kind in NUMPY_TYPES:
                data = np.array(values, dtype=NUMPY_TYPES[kind]).reshape(shape)
            else:
                data = np.array(values, dtype=object).reshape(shape)
            return tensor_class(data, kind, shape)
        return {k: decode_params(v, tensor_class) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_params(v, tensor_class) for v in value]
    return value


def _call(client: Any, method: str) -> Callable[..., Any]:
    namespace, name = method.split(".")
    return getattr(getattr(client, namespace), name)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------------
# The published client's child process: one JSON request per line in, one outcome per line out


def child_main(url: str) -> int:
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: dict[str, Any]) -> None:
        protocol.write(json.dumps(obj) + "\n")
        protocol.flush()

    try:
        from importlib import metadata

        key = os.environ["DECTHINGS_COMPAT_KEY"]
        tensor_class = importlib.import_module("decthings_api.tensor").DecthingsTensor
        sync_client = importlib.import_module("decthings_api.client_sync").DecthingsClientSync(
            api_key=key, http_server_address=url
        )
        async_client = importlib.import_module("decthings_api.client").DecthingsClient(
            api_key=key, http_server_address=url
        )
        version = metadata.version("decthings-api")
    except BaseException:
        reply({"fatal": traceback.format_exc()})
        return 3
    reply({"ready": True, "decthings-api": version})
    loop = asyncio.new_event_loop()
    for line in sys.stdin:
        if not line.strip():
            break
        try:
            request = json.loads(line)
            params = decode_params(request["params"], tensor_class)
            if request["client"] == "sync":
                answer = _call(sync_client, request["method"])(params)
            else:
                answer = loop.run_until_complete(_call(async_client, request["method"])(params))
            result, error = answer
            reply({"error": normalise(error)} if error is not None else {"result": normalise(result)})
        except Exception as exc:
            reply({"exception": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
    loop.close()
    return 0


class Child:
    """The published clients, in their venv's python, driven one call at a time."""

    def __init__(self, python: Path, url: str, api_key: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
        env["DECTHINGS_COMPAT_KEY"] = api_key
        self._proc = subprocess.Popen(
            [str(python), "-I", str(Path(__file__).resolve()), "--child", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready = self._read()
        if not ready.get("ready"):
            raise SetupError(f"the {PUBLISHED} child did not start: {ready.get('fatal', ready)}")
        self.version = str(ready.get("decthings-api", "?"))

    def _read(self) -> dict[str, Any]:
        import selectors

        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            if not selector.select(CHILD_TIMEOUT):
                raise SetupError(f"the {PUBLISHED} child did not answer within {CHILD_TIMEOUT:.0f}s")
        line = self._proc.stdout.readline()
        if not line:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            raise SetupError(f"the {PUBLISHED} child exited ({self._proc.wait()}):\n{err[-3000:]}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def call(self, client: str, method: str, params: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"client": client, "method": method, "params": params}) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.write("\n")
                self._proc.stdin.close()
            except OSError:
                pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()


class Ours:
    """modelwire's DecthingsClientSync and DecthingsClient (on a private event loop)."""

    def __init__(self, url: str, api_key: str) -> None:
        from modelwire.decthings import DecthingsClient, DecthingsClientSync, DecthingsTensor

        self.tensor_class = DecthingsTensor
        self.sync = DecthingsClientSync(api_key=api_key, http_server_address=url)
        self.loop = asyncio.new_event_loop()
        self.async_ = DecthingsClient(api_key=api_key, http_server_address=url)

    def call(self, client: str, method: str, params: Any) -> dict[str, Any]:
        from modelwire.decthings import DecthingsApiError

        decoded = decode_params(params, self.tensor_class)
        try:
            if client == "sync":
                result = _call(self.sync, method)(decoded)
            else:
                result = self.loop.run_until_complete(_call(self.async_, method)(decoded))
        except DecthingsApiError as exc:
            return {"error": normalise(exc.error)}
        except Exception as exc:
            return {"exception": f"{type(exc).__name__}: {exc}"}
        return {"result": normalise(result)}

    def close(self) -> None:
        self.sync.close()
        self.loop.run_until_complete(self.async_.aclose())
        self.loop.close()


# --------------------------------------------------------------------------------------------------
# The checks


@dataclass
class Check:
    """One call, made by each of `clients` (in order; the first one's outcome is the reference)
    with its own params (`params[client]`, else `params[None]`)."""

    name: str
    method: str
    params: dict[str | None, Any]
    clients: tuple[str, ...] = ALL
    expected: Any = None  # the reference outcome's expected value, when known up front
    project: Callable[[Any], Any] = lambda outcome: outcome  # what of the outcome `expected` is about


@dataclass
class Result:
    mismatches: list[str] = field(default_factory=list)
    checks: int = 0
    calls: int = 0

    def summary(self) -> str:
        return (
            f"{self.checks} checks, {self.calls} calls compared "
            f"(get_models, get_datasets, add_entries, get_entries, evaluate, errors), "
            f"{len(self.mismatches)} mismatches"
        )


def differences(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """Where `a` and `b` (normalised JSON) differ, first difference first."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                mine = "missing" if k not in a else json.dumps(a[k])[:80]
                theirs = "missing" if k not in b else json.dumps(b[k])[:80]
                yield f"{path}.{k}: {mine} vs {theirs}"
            else:
                yield from differences(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path or '.'}: {json.dumps(a)[:160]} vs {json.dumps(b)[:160]}"


def _describe(outcome: dict[str, Any]) -> str:
    if "exception" in outcome:
        return f"raised {outcome['exception']}"
    return json.dumps(outcome)[:200]


def _tensor(kind: str, shape: list[int], values: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(as sent in params, as normalised in a result)."""
    return tensor_json(kind, shape, values), {"tensor": kind, "shape": shape, "values": values}


def _entries(first: int, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """n entries numbered from `first` for the dataset's keys `vec` (f32 [2,3]) and `label` (string []):
    (add_entries keys param, the normalised `vec` items, the normalised `label` items), by index."""
    vecs, labels, vec_items, label_items = [], [], [], []
    for i in range(first, first + n):
        sent, got = _tensor("f32", [2, 3], [i + k / 4 for k in range(6)])
        vecs.append(sent)
        vec_items.append({"index": i, "data": got})
        sent, got = _tensor("string", [], [f"entry {i}: h\u00e9llo"])
        labels.append(sent)
        label_items.append({"index": i, "data": got})
    # keys deliberately not sorted: both clients sort them on the wire
    return [{"key": "vec", "data": vecs}, {"key": "label", "data": labels}], vec_items, label_items


def _by_key(outcome: dict[str, Any]) -> Any:
    """get_entries' result as {key: items}, whatever order the keys come in."""
    result = outcome.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("keys"), list):
        return outcome
    return {k.get("key"): k.get("data") for k in result["keys"] if isinstance(k, dict)}


def _evaluate_output(outcome: dict[str, Any]) -> Any:
    try:
        return outcome["result"]["success"]["output"]
    except (KeyError, TypeError):
        return outcome


def run_checks(child: Child, ours: Ours) -> Result:
    result = Result()
    makers = {
        P_SYNC: lambda m, p: child.call("sync", m, p),
        P_ASYNC: lambda m, p: child.call("async", m, p),
        O_SYNC: lambda m, p: ours.call("sync", m, p),
        O_ASYNC: lambda m, p: ours.call("async", m, p),
    }

    def run(check: Check) -> dict[str, Any]:
        outcomes = {}
        for client in check.clients:
            params = check.params.get(client, check.params.get(None))
            outcomes[client] = makers[client](check.method, params)
            result.calls += 1
        result.checks += 1
        (first, reference), *others = outcomes.items()
        if "exception" in reference:
            result.mismatches.append(f"{check.name}: {first} {_describe(reference)}")
        for client, outcome in others:
            if outcome != reference:
                where = "; ".join(list(differences(outcome, reference))[:3]) or _describe(outcome)
                result.mismatches.append(f"{check.name}: {client} differs from {first}: {where}")
        if check.expected is not None and check.project(reference) != check.expected:
            got = check.project(reference)
            where = "; ".join(list(differences(got, check.expected))[:3])
            result.mismatches.append(f"{check.name}: {first} is not what was expected: {where}")
        return reference

    # Models: the built-ins, listed and filtered
    run(Check("get_models", "model.get_models", {None: {}}))
    run(Check("get_models filtered", "model.get_models", {None: {"filter": {"ids": ["decthings-sum"]}}}))

    # One dataset, two keys; every client adds its own entries, then everyone reads all of them back
    created = ours.sync.dataset.create_dataset(
        {
            "name": f"compat-{os.getpid()}",
            "description": "scripts/compat_decthings.py",
            "keys": [
                {"name": "vec", "rules": {"shape": [2, 3], "allowedTypes": ["f32"]}},
                {"name": "label", "rules": {"shape": [], "allowedTypes": ["string"]}},
            ],
        }
    )
    dataset = created["datasetId"]
    vec_items: list[Any] = []
    label_items: list[Any] = []
    add_params: dict[str | None, Any] = {}
    writers = (P_SYNC, O_SYNC, P_ASYNC, O_ASYNC)  # in this order: the entries' indexes follow it
    for n, client in enumerate(writers):
        keys, vecs, labels = _entries(len(vec_items), 2 + n)
        add_params[client] = {"datasetId": dataset, "keys": keys}
        vec_items += vecs
        label_items += labels
    run(
        Check(
            "add_entries",
            "dataset.add_entries",
            add_params,
            writers,
            expected={"result": {"newDatasetVersionId": "<str>"}},
        )
    )
    total = len(vec_items)
    every = {"vec": vec_items, "label": label_items}
    readers = (P_ASYNC, O_SYNC, O_ASYNC)  # not the published sync get_entries (IndexError on 2 keys)
    run(
        Check(
            "get_entries by index",
            "dataset.get_entries",
            {None: {"datasetId": dataset, "entries": list(range(total))}},
            readers,
            expected=every,
            project=_by_key,
        )
    )
    picked = [total - 1, 0, 3]
    run(
        Check(
            "get_entries picked",
            "dataset.get_entries",
            {None: {"datasetId": dataset, "entries": picked}},
            readers,
        )
    )
    run(
        Check(
            "get_entries range",
            "dataset.get_entries",
            {None: {"datasetId": dataset, "entries": {"start": 2, "end": 7}}},
            readers,
            expected={k: [item for item in v if 2 <= item["index"] < 7] for k, v in every.items()},
            project=_by_key,
        )
    )
    run(
        Check(
            "get_datasets",
            "dataset.get_datasets",
            {None: {"filter": {"ids": [dataset]}}},
            expected=total,
            project=lambda o: o.get("result", {}).get("datasets", [{}])[0].get("entries", {}).get("count"),
        )
    )

    # Evaluate: one tensor in, one tensor per output out (0.0.4 cannot read more than one)
    values = [1.5, -2.25, 4.0, 0.125]
    sent, _ = _tensor("f64", [2, 2], values)
    run(
        Check(
            "evaluate decthings-sum",
            "model.evaluate",
            {None: {"modelId": "decthings-sum", "params": [{"name": "input", "data": [sent]}]}},
            expected=[{"name": "output", "data": [{"tensor": "f64", "shape": [], "values": [sum(values)]}]}],
            project=_evaluate_output,
        )
    )
    sent, _ = _tensor("string", [], ["the quick brown fox jumps over the lazy dog"])
    embedding = run(
        Check(
            "evaluate decthings-text-embedder",
            "model.evaluate",
            {None: {"modelId": "decthings-text-embedder", "params": [{"name": "input", "data": [sent]}]}},
        )
    )
    outputs = _evaluate_output(embedding)
    shape = [t.get("shape") for o in outputs for t in o.get("data", [])] if isinstance(outputs, list) else []
    if shape != [[512]]:
        result.mismatches.append(f"evaluate decthings-text-embedder: output shapes {shape}, expected [[512]]")

    # API errors: the published client's error tuple item against our exception's .error
    run(
        Check(
            "error model_not_found",
            "model.evaluate",
            {None: {"modelId": "no-such-model", "params": [{"name": "input", "data": [sent]}]}},
            project=lambda o: o.get("error", {}).get("code"),
            expected="model_not_found",
        )
    )
    run(
        Check(
            "error dataset_not_found",
            "dataset.get_entries",
            {None: {"datasetId": "no-such-dataset", "entries": [0]}},
            (P_ASYNC, O_SYNC, O_ASYNC),
            project=lambda o: o.get("error", {}).get("code"),
            expected="dataset_not_found",
        )
    )
    wrong, _ = _tensor("f64", [2, 3], [0.0] * 6)
    label, _ = _tensor("string", [], ["wrong type"])
    run(
        Check(
            "error invalid_parameter",
            "dataset.add_entries",
            {
                None: {
                    "datasetId": dataset,
                    "keys": [{"key": "vec", "data": [wrong]}, {"key": "label", "data": [label]}],
                }
            },
            project=lambda o: o.get("error", {}).get("code"),
            expected="invalid_parameter",
        )
    )
    ours.sync.dataset.delete_dataset({"datasetId": dataset})
    return result


def check(python: Path) -> Result:
    """Start an emulator, the published child (`python`: its venv's) and our clients; run the checks."""
    from modelwire.emulator import Emulator

    with Emulator(api_key=API_KEY, http_port=0) as emulator:
        child = Child(python, emulator.decthings_url, emulator.api_key)
        try:
            ours = Ours(emulator.decthings_url, emulator.api_key)
            try:
                return run_checks(child, ours)
            finally:
                ours.close()
        finally:
            child.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"] and len(argv) == 2:
        return child_main(argv[1])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import compat

    try:
        python = compat.ensure_venv(compat.DECTHINGS_TARGET)
        result = check(python)
    except (compat.CompatError, SetupError) as exc:
        print(f"compat: error: decthings: {exc}", file=sys.stderr)
        return 2
    for line in result.mismatches:
        print(line)
    print(f"decthings ({REQUIREMENT}): {result.summary()}", flush=True)
    return 1 if result.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
