"""The Model API: models, their states and snapshots, and evaluation.

Models are created at once (`isNowCreating: false`). What a model runs is one of the built-ins
(`builtins.py`), inherited through `fromExisting` and snapshots; `code` models get an empty initial
state and cannot run (their evaluations fail with an `exception` error saying so), since the
emulator executes no user code. State data is `[{key, data: bytes}]`: JSON lists the keys, one blob
per key follows, in order. Evaluation parameters are ParameterProviders: a list-data parameter's
tensors arrive as one blob (their serialized concatenation), in parameter order; a dataset
parameter `{"type": "dataset", datasetId, datasetKey}` reads every tensor of that key.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Final, Protocol

from modelwire.decthings.tensor import serialize_many
from modelwire.emulator.decthings import listing
from modelwire.emulator.decthings.builtins import (
    BUILTIN_CREATED_MS,
    BUILTINS,
    DECTHINGS_OWNER,
    ModelException,
    StateData,
    TensorParams,
    builtin,
)
from modelwire.emulator.decthings.datasets import DatasetService
from modelwire.emulator.decthings.db import dumps, loads, new_id, now_ms
from modelwire.emulator.decthings.errors import (
    ApiError,
    JsonObject,
    Reply,
    as_int,
    as_object,
    invalid_parameter,
    opt_object,
    opt_str,
    req_list,
    req_object,
    req_str,
    str_list,
    tags,
)
from modelwire.emulator.decthings.rules import empty_definitions, parse_definition_groups, read_tensors
from modelwire.emulator.store import Store

LANGUAGES: Final = ("go", "javascript", "typescript", "python", "rust")
CPUS: Final = (0.125, 0.25, 0.5, 1, 2)
DEFAULT_SPEC: Final[JsonObject] = {"cpus": 0.25, "memoryMebibytes": 256}
MAX_DURATIONS: Final = ("codeStartup", "instantiateModel", "createState", "train", "evaluate")
DEFAULT_MAX_DURATIONS: Final[JsonObject] = {
    "codeStartup": 60,
    "instantiateModel": 60,
    "createState": 300,
    "train": 3600,
    "evaluate": 60,
}
KEPT_EVALUATIONS: Final = 50  # finished evaluation results kept per model
NOT_RUNNABLE: Final = (
    "the modelwire emulator runs no model code: create the model with fromExisting from a built-in "
    "model (owner 'decthings') to get one that evaluates"
)
# Model settings a copy (fromExisting, snapshot, basedOnModelSnapshot) carries over.
_CONFIG: Final = (
    "language",
    "wasm",
    "image",
    "parameterDefinitions",
    "defaultLauncherSpecs",
    "maxDurationsSeconds",
    "filesystemSizeMebibytes",
    "builtin",
)


class TrainingView(Protocol):
    """What models need to know about training sessions (provided by the TrainingManager)."""

    def sessions_of(self, model_id: str) -> tuple[list[str], list[str]]:
        """(ongoing session ids, all session ids) of a model."""
        ...

    def forget_model(self, model_id: str) -> None:
        """Cancel and drop the sessions of a deleted model."""
        ...


class _NoTraining:
    def sessions_of(self, model_id: str) -> tuple[list[str], list[str]]:
        return [], []

    def forget_model(self, model_id: str) -> None:
        return None


def _image(language: str) -> JsonObject:
    runtime = {"python": "library/python", "go": "library/golang", "rust": "library/rust"}.get(
        language, "library/node"
    )
    return {"domain": "docker.io", "repository": runtime, "reference": "latest"}


def _spec(value: object, where: str) -> JsonObject:
    obj = as_object(value, where)
    cpus = obj.get("cpus")
    if cpus not in CPUS or isinstance(cpus, bool):
        raise invalid_parameter(f"{where}.cpus", f"must be one of {', '.join(map(str, CPUS))}, got {cpus!r}")
    spec: JsonObject = {
        "cpus": cpus,
        "memoryMebibytes": as_int(obj.get("memoryMebibytes"), f"{where}.memoryMebibytes", minimum=1),
    }
    for key in ("diskMebibytes", "swapMebibytes"):
        if obj.get(key) is not None:
            spec[key] = as_int(obj[key], f"{where}.{key}")
    return spec


def state_key_names(params: Mapping[str, Any], where: str, blobs: list[bytes]) -> list[str]:
    """The keys of uploaded state data: JSON `stateKeyNames` (the Python client) or `data` as
    [{key}] / [names]; one blob per key."""
    raw = params.get("stateKeyNames", params.get("data"))
    field = f"{where}.data" if where else "data"
    if not isinstance(raw, list):
        raise invalid_parameter(field, "must list the state's keys (one blob per key follows)")
    names = []
    for i, item in enumerate(raw):
        name = item.get("key") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise invalid_parameter(f"{field}[{i}]", "must be a key name (a non-empty string)")
        names.append(name)
    if len(set(names)) != len(names):
        raise invalid_parameter(field, f"names a key twice: {names}")
    if len(names) != len(blobs):
        raise invalid_parameter(field, f"{len(names)} keys but {len(blobs)} blobs: send one blob per key")
    return names


class ModelService:
    def __init__(self, store: Store, user_id: str, datasets: DatasetService) -> None:
        self.store = store
        self.user_id = user_id
        self.datasets = datasets
        self.training: TrainingView = _NoTraining()
        self._evaluations: dict[str, deque[JsonObject]] = {}
        self._evaluations_lock = threading.Lock()
        self._seed_builtins()

    # -- records ----------------------------------------------------------------------------------

    def _seed_builtins(self) -> None:
        with self.store.transaction() as conn:
            for b in BUILTINS.values():
                doc = {
                    "description": b.description,
                    "tags": b.tags,
                    "language": "python",
                    "wasm": False,
                    "image": _image("python"),
                    "parameterDefinitions": b.definitions,
                    "defaultLauncherSpecs": {"createState": DEFAULT_SPEC, "evaluate": DEFAULT_SPEC},
                    "maxDurationsSeconds": DEFAULT_MAX_DURATIONS,
                    "filesystemSizeMebibytes": 100,
                    "activeState": b.state_id,
                    "builtin": b.kind,
                }
                conn.execute(
                    "INSERT OR REPLACE INTO decthings_models (id, owner, name, created_ms, doc) "
                    "VALUES (?,?,?,?,?)",
                    (b.model_id, DECTHINGS_OWNER, b.name, BUILTIN_CREATED_MS, dumps(doc)),
                )
                conn.execute("DELETE FROM decthings_state_data WHERE model_id = ?", (b.model_id,))
                conn.execute(
                    "INSERT OR REPLACE INTO decthings_states (model_id, id, name, created_ms, doc) "
                    "VALUES (?,?,?,?,?)",
                    (
                        b.model_id,
                        b.state_id,
                        "default",
                        BUILTIN_CREATED_MS,
                        dumps({"trainingOperations": []}),
                    ),
                )
                self._write_data(conn, b.model_id, "state", b.state_id, b.create_state({}))

    def model_row(self, model_id: object, *, write: bool = False, name: str = "modelId") -> sqlite3.Row:
        if not isinstance(model_id, str):
            raise invalid_parameter(name, "must be a string")
        row = self.store.one("SELECT * FROM decthings_models WHERE id = ?", (model_id,))
        if row is None or row["owner"] not in (self.user_id, DECTHINGS_OWNER):
            raise ApiError("model_not_found")
        if write and row["owner"] != self.user_id:
            raise ApiError("access_denied")
        return row

    def state_row(self, model_id: str, state_id: object) -> sqlite3.Row:
        if not isinstance(state_id, str):
            raise invalid_parameter("stateId", "must be a string")
        row = self.store.one(
            "SELECT * FROM decthings_states WHERE model_id = ? AND id = ?", (model_id, state_id)
        )
        if row is None:
            raise ApiError("state_not_found")
        return row

    def _snapshot_row(self, model_id: str, snapshot_id: object, name: str = "snapshotId") -> sqlite3.Row:
        if not isinstance(snapshot_id, str):
            raise invalid_parameter(name, "must be a string")
        row = self.store.one(
            "SELECT * FROM decthings_snapshots WHERE model_id = ? AND id = ?", (model_id, snapshot_id)
        )
        if row is None:
            raise ApiError("snapshot_not_found")
        return row

    def data(self, model_id: str, kind: str, owner_id: str, keys: list[str] | None = None) -> StateData:
        rows = self.store.query(
            "SELECT key, data FROM decthings_state_data "
            "WHERE model_id = ? AND owner_kind = ? AND owner_id = ? ORDER BY position",
            (model_id, kind, owner_id),
        )
        found = {r["key"]: bytes(r["data"]) for r in rows}
        if keys is None:
            return found
        missing = [k for k in keys if k not in found]
        if missing:
            raise ApiError("state_key_not_found")
        return {k: found[k] for k in keys}

    @staticmethod
    def _write_data(
        conn: sqlite3.Connection, model_id: str, kind: str, owner_id: str, data: StateData
    ) -> None:
        conn.executemany(
            "INSERT INTO decthings_state_data (model_id, owner_kind, owner_id, position, key, data) "
            "VALUES (?,?,?,?,?,?)",
            [(model_id, kind, owner_id, i, k, v) for i, (k, v) in enumerate(data.items())],
        )

    def _key_sizes(self, model_id: str, kind: str, owner_id: str) -> list[JsonObject]:
        return [
            {"key": r["key"], "byteSize": r["size"]}
            for r in self.store.query(
                "SELECT key, LENGTH(data) AS size FROM decthings_state_data "
                "WHERE model_id = ? AND owner_kind = ? AND owner_id = ? ORDER BY position",
                (model_id, kind, owner_id),
            )
        ]

    def insert_state(
        self,
        conn: sqlite3.Connection,
        model_id: str,
        name: str,
        data: StateData,
        operations: list[str] | None = None,
    ) -> str:
        state_id = new_id()
        conn.execute(
            "INSERT INTO decthings_states (model_id, id, name, created_ms, doc) VALUES (?,?,?,?,?)",
            (model_id, state_id, name, now_ms(), dumps({"trainingOperations": operations or []})),
        )
        self._write_data(conn, model_id, "state", state_id, data)
        return state_id

    def _view(self, row: sqlite3.Row) -> JsonObject:
        doc = loads(row["doc"])
        model_id = row["id"]
        states = [
            {
                "id": s["id"],
                "name": s["name"],
                "trainingOperations": loads(s["doc"])["trainingOperations"],
                "createdAt": s["created_ms"],
                "beingDeleted": False,
                "state": self._key_sizes(model_id, "state", s["id"]),
                "mountedModels": [],
            }
            for s in self.store.query(
                "SELECT * FROM decthings_states WHERE model_id = ? ORDER BY created_ms, id", (model_id,)
            )
        ]
        snapshots = []
        for s in self.store.query(
            "SELECT * FROM decthings_snapshots WHERE model_id = ? ORDER BY created_ms, id", (model_id,)
        ):
            sdoc = loads(s["doc"])
            snapshots.append(
                {
                    "id": s["id"],
                    "name": s["name"],
                    "createdAt": s["created_ms"],
                    "filesystemSizeMebibytes": sdoc["filesystemSizeMebibytes"],
                    "parameterDefinitions": sdoc["parameterDefinitions"],
                    "defaultLauncherSpecs": sdoc["defaultLauncherSpecs"],
                    "maxDurationsSeconds": sdoc["maxDurationsSeconds"],
                    "image": sdoc["image"],
                    "state": {
                        "name": sdoc["stateName"],
                        "state": self._key_sizes(model_id, "snapshot", s["id"]),
                        "mountedModels": [],
                    },
                }
            )
        ongoing, sessions = self.training.sessions_of(model_id)
        view: JsonObject = {
            "id": model_id,
            "name": row["name"],
            "description": doc["description"],
            "createdAt": row["created_ms"],
            "tags": doc["tags"],
            "owner": {"userId": row["owner"], "username": row["owner"]},
            "access": "readwrite" if row["owner"] == self.user_id else "read",
            "beingCreated": False,
            "language": doc["language"],
            "wasm": doc["wasm"],
            "image": doc["image"],
            "parameterDefinitions": doc["parameterDefinitions"],
            "defaultLauncherSpecs": doc["defaultLauncherSpecs"],
            "maxDurationsSeconds": doc["maxDurationsSeconds"],
            "filesystemSizeMebibytes": doc["filesystemSizeMebibytes"],
            "ongoingTrainingSessions": ongoing,
            "trainingSessions": sessions,
            "states": states,
            "activeState": doc["activeState"],
            "snapshots": snapshots,
        }
        based = doc.get("basedOnSnapshot")
        if based is not None:
            gone = self.store.one(
                "SELECT 1 FROM decthings_snapshots WHERE model_id = ? AND id = ?",
                (based["modelId"], based["snapshotId"]),
            )
            view["basedOnSnapshot"] = {**based, "noLongerExists": gone is None}
        return view

    def _save_doc(
        self, conn: sqlite3.Connection, model_id: str, doc: JsonObject, name: str | None = None
    ) -> None:
        if name is None:
            conn.execute("UPDATE decthings_models SET doc = ? WHERE id = ?", (dumps(doc), model_id))
        else:
            conn.execute(
                "UPDATE decthings_models SET doc = ?, name = ? WHERE id = ?", (dumps(doc), name, model_id)
            )

    # -- parameters -------------------------------------------------------------------------------

    def resolve_params(self, items: list[Any], blobs: list[bytes], where: str = "params") -> TensorParams:
        """ParameterProviders -> {name: tensors}; one blob per list-data parameter, in order."""
        out: TensorParams = {}
        used = 0
        for i, item in enumerate(items):
            here = f"{where}[{i}]"
            obj = as_object(item, here)
            name = req_str(obj, "name", here, nonempty=True)
            if name in out:
                raise invalid_parameter(f"{here}.name", f"parameter {name!r} is given twice")
            data = obj.get("data")
            if data is None:
                if used >= len(blobs):
                    raise invalid_parameter(
                        here, "has no data: its tensors travel as the next blob, or give a dataset reference"
                    )
                out[name] = read_tensors(blobs[used], f"{here}.data")
                used += 1
                continue
            ref = as_object(data, f"{here}.data")
            if ref.get("type") != "dataset":
                raise invalid_parameter(
                    f"{here}.data",
                    'must be {"type": "dataset", "datasetId", "datasetKey"}; tensors travel as blobs',
                )
            out[name] = self.datasets.read_key(
                req_str(ref, "datasetId", f"{here}.data"), req_str(ref, "datasetKey", f"{here}.data")
            )
        if used != len(blobs):
            raise invalid_parameter(where, f"{len(blobs)} blobs were sent for {used} parameter(s) with data")
        return out

    def execution_location(self, params: Mapping[str, Any], default: JsonObject) -> JsonObject:
        """`executionLocation` (current API) or `launcherSpec` (older clients); temporary launchers only."""
        loc = params.get("executionLocation")
        if loc is None:
            spec = params.get("launcherSpec")
            return {
                "type": "temporaryLauncher",
                "spec": default if spec is None else _spec(spec, "launcherSpec"),
            }
        obj = as_object(loc, "executionLocation")
        if obj.get("type") == "persistentLauncher":
            raise ApiError("persistent_launcher_not_found")
        if obj.get("type") != "temporaryLauncher":
            raise invalid_parameter(
                "executionLocation.type", 'must be "temporaryLauncher" or "persistentLauncher"'
            )
        return {"type": "temporaryLauncher", "spec": _spec(obj.get("spec"), "executionLocation.spec")}

    def _check_mounts(self, params: Mapping[str, Any]) -> None:
        for i, mount in enumerate(
            req_list(params, "mountModels") if params.get("mountModels") is not None else []
        ):
            obj = as_object(mount, f"mountModels[{i}]")
            try:
                self.model_row(obj.get("modelId"), name=f"mountModels[{i}].modelId")
            except ApiError as exc:
                if exc.code == "model_not_found":
                    raise ApiError("model_to_mount_not_found") from None
                raise

    # -- models -----------------------------------------------------------------------------------

    def create_model(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        name = req_str(params, "name", nonempty=True)
        description = req_str(params, "description")
        options = req_object(params, "options")
        kind = options.get("type")
        new_tags = tags(options, "tags", "options") or []
        model_id = new_id()
        base: JsonObject = {"description": description, "tags": new_tags}
        if kind == "code":
            language = options.get("language")
            if language not in LANGUAGES:
                raise invalid_parameter(
                    "options.language", f"must be one of {', '.join(LANGUAGES)}, got {language!r}"
                )
            defs = options.get("parameterDefinitions")
            wasm = options.get("wasm", False)
            if not isinstance(wasm, bool):
                raise invalid_parameter("options.wasm", "must be a boolean")
            opt_str(options, "preset", "options")
            doc = {
                **base,
                "language": language,
                "wasm": wasm,
                "image": _image(str(language)),
                "parameterDefinitions": empty_definitions()
                if defs is None
                else parse_definition_groups(defs, "options.parameterDefinitions"),
                "defaultLauncherSpecs": {"createState": DEFAULT_SPEC, "evaluate": DEFAULT_SPEC},
                "maxDurationsSeconds": DEFAULT_MAX_DURATIONS,
                "filesystemSizeMebibytes": 100,
                "builtin": None,
            }
            state_name, data = "initial", {}
        elif kind == "fromExisting":
            source = self.model_row(options.get("modelId"), name="options.modelId")
            snapshot_id = opt_str(options, "snapshotId", "options")
            if snapshot_id is None:
                src = loads(source["doc"])
                state = self.state_row(source["id"], src["activeState"])
                state_name, data = state["name"], self.data(source["id"], "state", state["id"])
            else:
                snap = self._snapshot_row(source["id"], snapshot_id, "options.snapshotId")
                src = loads(snap["doc"])
                state_name, data = src["stateName"], self.data(source["id"], "snapshot", snap["id"])
            doc = {**base, **{k: src[k] for k in _CONFIG}}
        elif kind == "basedOnModelSnapshot":
            source = self.model_row(options.get("modelId"), name="options.modelId")
            snap = self._snapshot_row(source["id"], options.get("snapshotId"), "options.snapshotId")
            src = loads(snap["doc"])
            doc = {
                **base,
                **{k: src[k] for k in _CONFIG},
                "basedOnSnapshot": {"modelId": source["id"], "snapshotId": snap["id"]},
            }
            state_name, data = self._initial_state(options, blobs, source["id"], snap["id"], src)
        elif kind == "upload":
            raise invalid_parameter(
                "options.type",
                "upload (tflite/onnx model files) is not supported by the modelwire emulator; "
                "use fromExisting with a built-in model",
            )
        else:
            raise invalid_parameter(
                "options.type", f"must be code, upload, basedOnModelSnapshot or fromExisting, got {kind!r}"
            )
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO decthings_models (id, owner, name, created_ms, doc) VALUES (?,?,?,?,?)",
                (model_id, self.user_id, name, now_ms(), dumps({**doc, "activeState": ""})),
            )
            doc["activeState"] = self.insert_state(conn, model_id, state_name, data)
            self._save_doc(conn, model_id, doc)
        return {"modelId": model_id, "isNowCreating": False}, []

    def _initial_state(
        self, options: JsonObject, blobs: list[bytes], model_id: str, snapshot_id: str, snap: JsonObject
    ) -> tuple[str, StateData]:
        initial = req_object(options, "initialState", "options")
        method = initial.get("method")
        where = "options.initialState"
        if method == "copy":
            return snap["stateName"], self.data(model_id, "snapshot", snapshot_id)
        if method == "upload":
            name = req_str(initial, "name", where, nonempty=True)
            return name, dict(zip(state_key_names(initial, where, blobs), blobs, strict=True))
        if method == "create":
            name = req_str(initial, "name", where, nonempty=True)
            tensors = self.resolve_params(req_list(initial, "params", where), blobs, f"{where}.params")
            model = builtin(snap.get("builtin"))
            try:
                if model is None:
                    raise ModelException("codeStartup", NOT_RUNNABLE)
                return name, model.create_state(tensors)
            except ModelException as exc:
                raise invalid_parameter(
                    f"{where}.params", f"creating the state failed: {exc.details}"
                ) from None
        raise invalid_parameter(f"{where}.method", f"must be copy, create or upload, got {method!r}")

    def wait_for_model_to_be_created(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        self.model_row(params.get("modelId"))
        raise ApiError("model_already_created")

    def delete_model(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"), write=True)
        self.training.forget_model(row["id"])
        with self.store.transaction() as conn:
            for table in (
                "decthings_state_data",
                "decthings_states",
                "decthings_snapshots",
                "decthings_training",
            ):
                conn.execute(f"DELETE FROM {table} WHERE model_id = ?", (row["id"],))
            conn.execute("DELETE FROM decthings_models WHERE id = ?", (row["id"],))
        with self._evaluations_lock:
            self._evaluations.pop(row["id"], None)
        return {}, []

    def update_model(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        props = as_object(params.get("properties"), "properties")
        w = "properties"
        name = opt_str(props, "name", w, nonempty=True)
        description = opt_str(props, "description", w)
        new_tags = tags(props, "tags", w)
        defs = props.get("parameterDefinitions")
        specs = opt_object(props, "defaultLauncherSpecs", w)
        durations = opt_object(props, "maxDurationsSeconds", w)
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            doc = loads(row["doc"])
            if description is not None:
                doc["description"] = description
            if new_tags is not None:
                doc["tags"] = new_tags
            if defs is not None:
                doc["parameterDefinitions"] = parse_definition_groups(defs, f"{w}.parameterDefinitions")
            for key in ("createState", "evaluate"):
                if specs is not None and specs.get(key) is not None:
                    doc["defaultLauncherSpecs"][key] = _spec(specs[key], f"{w}.defaultLauncherSpecs.{key}")
            if durations is not None:
                doc["maxDurationsSeconds"] = {
                    k: as_int(durations.get(k), f"{w}.maxDurationsSeconds.{k}", minimum=1)
                    for k in MAX_DURATIONS
                }
            self._save_doc(conn, row["id"], doc, name)
        return {}, []

    def get_models(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        rows = self.store.query(
            "SELECT * FROM decthings_models WHERE owner IN (?, ?)", (self.user_id, DECTHINGS_OWNER)
        )
        flt = opt_object(params, "filter") or {}
        ids = str_list(flt, "ids", "filter")
        if ids is not None:  # cheap pre-filter before building the views
            rows = [r for r in rows if r["id"] in ids]
        views = [self._view(r) for r in rows]
        chosen, meta = listing.page(views, params, lambda v: {**v, "owner": v["owner"]["userId"]})
        return {"models": chosen, **meta}, []

    def set_filesystem_size(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        size = as_int(params.get("newFilesystemSizeMebibytes"), "newFilesystemSizeMebibytes", minimum=1)
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            doc = loads(row["doc"])
            doc["filesystemSizeMebibytes"] = size
            self._save_doc(conn, row["id"], doc)
        return {}, []

    def get_filesystem_usage(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        doc = loads(self.model_row(params.get("modelId"))["doc"])
        blocks = int(doc["filesystemSizeMebibytes"]) * 256  # 4 KiB blocks; the filesystem is empty
        return {
            "blockSize": 4096,
            "totalBlocks": blocks,
            "freeBlocks": blocks,
            "totalInodes": blocks // 4,
            "freeInodes": blocks // 4,
        }, []

    def set_image(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        image = {k: req_str(params, k, nonempty=True) for k in ("domain", "repository", "reference")}
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            doc = loads(row["doc"])
            doc["image"] = image
            self._save_doc(conn, row["id"], doc)
        return {}, []

    # -- states -----------------------------------------------------------------------------------

    def create_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"), write=True)
        name = req_str(params, "name", nonempty=True)
        doc = loads(row["doc"])
        self.execution_location(params, doc["defaultLauncherSpecs"]["createState"])
        self._check_mounts(params)
        tensors = self.resolve_params(req_list(params, "params"), blobs)
        started = time.perf_counter()
        model = builtin(doc.get("builtin"))
        try:
            if model is None:
                raise ModelException("codeStartup", NOT_RUNNABLE)
            data = model.create_state(tensors)
        except ModelException as exc:
            total = _ms_since(started)
            return {"failed": {"durations": {"total": total, "createLauncher": 0}, "error": exc.error()}}, []
        took = _ms_since(started)
        with self.store.transaction() as conn:
            self.model_row(row["id"], write=True)  # still there
            state_id = self.insert_state(conn, row["id"], name, data)
        durations = {"total": took, "createLauncher": 0, "codeStartup": 0, "createState": took}
        return {"success": {"durations": durations, "stateId": state_id}}, []

    def upload_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        name = req_str(params, "name", nonempty=True)
        keys = state_key_names(params, "", blobs)
        to_delete = str_list(params, "deleteStates") or []
        self._check_mounts(params)
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            active = loads(row["doc"])["activeState"]
            for state_id in to_delete:
                self.state_row(row["id"], state_id)
                if state_id == active:
                    raise ApiError("state_is_active")
            state_id = self.insert_state(conn, row["id"], name, dict(zip(keys, blobs, strict=True)))
            for old in to_delete:
                self._delete_state(conn, row["id"], old)
        return {"stateId": state_id}, []

    def get_creating_states(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        self.model_row(params.get("modelId"))
        return {"states": []}, []

    def wait_for_state_to_be_created(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"))
        self.state_row(row["id"], params.get("stateId"))
        raise ApiError("state_already_created")

    cancel_create_state = wait_for_state_to_be_created

    def update_model_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        props = as_object(params.get("properties"), "properties")
        name = opt_str(props, "name", "properties", nonempty=True)
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            state = self.state_row(row["id"], params.get("stateId"))
            if name is not None:
                conn.execute(
                    "UPDATE decthings_states SET name = ? WHERE model_id = ? AND id = ?",
                    (name, row["id"], state["id"]),
                )
        return {}, []

    def set_active_model_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            state = self.state_row(row["id"], params.get("stateId"))
            doc = loads(row["doc"])
            doc["activeState"] = state["id"]
            self._save_doc(conn, row["id"], doc)
        return {}, []

    @staticmethod
    def _delete_state(conn: sqlite3.Connection, model_id: str, state_id: str) -> None:
        conn.execute(
            "DELETE FROM decthings_state_data WHERE model_id = ? AND owner_kind = 'state' AND owner_id = ?",
            (model_id, state_id),
        )
        conn.execute("DELETE FROM decthings_states WHERE model_id = ? AND id = ?", (model_id, state_id))

    def delete_model_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            state = self.state_row(row["id"], params.get("stateId"))
            if loads(row["doc"])["activeState"] == state["id"]:
                raise ApiError("state_is_active")
            self._delete_state(conn, row["id"], state["id"])
        return {}, []

    def get_model_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"))
        state_id = params.get("stateId")
        if state_id is None:
            state_id = loads(row["doc"])["activeState"]
        state = self.state_row(row["id"], state_id)
        data = self.data(row["id"], "state", state["id"], str_list(params, "keys"))
        return {"data": [{"key": k} for k in data]}, list(data.values())

    # -- snapshots --------------------------------------------------------------------------------

    def snapshot_model(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        name = req_str(params, "snapshotName", nonempty=True)
        snapshot_id = new_id()
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            doc = loads(row["doc"])
            state = self.state_row(row["id"], doc["activeState"])
            sdoc = {**{k: doc[k] for k in _CONFIG}, "stateName": state["name"]}
            conn.execute(
                "INSERT INTO decthings_snapshots (model_id, id, name, created_ms, doc) VALUES (?,?,?,?,?)",
                (row["id"], snapshot_id, name, now_ms(), dumps(sdoc)),
            )
            self._write_data(
                conn, row["id"], "snapshot", snapshot_id, self.data(row["id"], "state", state["id"])
            )
        return {"snapshotId": snapshot_id}, []

    def update_snapshot(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        props = as_object(params.get("properties"), "properties")
        name = opt_str(props, "name", "properties", nonempty=True)
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            snap = self._snapshot_row(row["id"], params.get("snapshotId"))
            if name is not None:
                conn.execute(
                    "UPDATE decthings_snapshots SET name = ? WHERE model_id = ? AND id = ?",
                    (name, row["id"], snap["id"]),
                )
        return {}, []

    def delete_snapshot(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        with self.store.transaction() as conn:
            row = self.model_row(params.get("modelId"), write=True)
            snap = self._snapshot_row(row["id"], params.get("snapshotId"))
            conn.execute(
                "DELETE FROM decthings_state_data "
                "WHERE model_id = ? AND owner_kind = 'snapshot' AND owner_id = ?",
                (row["id"], snap["id"]),
            )
            conn.execute(
                "DELETE FROM decthings_snapshots WHERE model_id = ? AND id = ?", (row["id"], snap["id"])
            )
        return {}, []

    def get_snapshot_state(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"))
        snap = self._snapshot_row(row["id"], params.get("snapshotId"))
        data = self.data(row["id"], "snapshot", snap["id"], str_list(params, "keys"))
        return {"data": [{"key": k} for k in data]}, list(data.values())

    # -- evaluation -------------------------------------------------------------------------------

    def evaluate(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"))
        doc = loads(row["doc"])
        snapshot_id = opt_str(params, "snapshotId")
        tensors = self.resolve_params(req_list(params, "params"), blobs)
        if snapshot_id is None:
            kind, spec = doc.get("builtin"), doc["defaultLauncherSpecs"]["evaluate"]
            state = self.data(row["id"], "state", self.state_row(row["id"], doc["activeState"])["id"])
        else:
            snap = loads(self._snapshot_row(row["id"], snapshot_id)["doc"])
            kind, spec = snap.get("builtin"), snap["defaultLauncherSpecs"]["evaluate"]
            state = self.data(row["id"], "snapshot", snapshot_id)
        started_at, started = now_ms(), time.perf_counter()
        launcher = {"type": "temporaryLauncher", "spec": spec}
        model = builtin(kind)
        out_blobs: list[bytes] = []
        try:
            if model is None:
                raise ModelException("codeStartup", NOT_RUNNABLE)
            outputs = model.evaluate(state, tensors)
        except ModelException as exc:
            took = _ms_since(started)
            result: JsonObject = {
                "failed": {
                    "totalDuration": took,
                    "durations": {"createLauncher": 0, "codeStartup": 0}
                    | ({} if exc.at == "codeStartup" else {"createInstantiatedModel": 0, "evaluate": took}),
                    "executedOnLauncher": launcher,
                    "error": exc.error(),
                }
            }
        else:
            out_blobs = [serialize_many(ts) for _, ts in outputs]
            took = _ms_since(started)
            result = {
                "success": {
                    "totalDuration": took,
                    "durations": {
                        "createLauncher": 0,
                        "codeStartup": 0,
                        "createInstantiatedModel": 0,
                        "evaluate": took,
                    },
                    "executedOnLauncher": launcher,
                    "output": [{"name": name} for name, _ in outputs],
                }
            }
        self._remember(row["id"], started_at, result, out_blobs)
        return result, out_blobs

    def _remember(self, model_id: str, started_at: int, result: JsonObject, blobs: list[bytes]) -> None:
        record = {
            "id": new_id(),
            "startedAt": started_at,
            "finishedAt": now_ms(),
            "success": "success" in result,
            "result": result,
            "blobs": blobs,
        }
        with self._evaluations_lock:
            self._evaluations.setdefault(model_id, deque(maxlen=KEPT_EVALUATIONS)).append(record)

    def _evaluation(self, params: JsonObject) -> JsonObject:
        row = self.model_row(params.get("modelId"))
        evaluation_id = req_str(params, "evaluationId")
        with self._evaluations_lock:
            found = next((e for e in self._evaluations.get(row["id"], ()) if e["id"] == evaluation_id), None)
        if found is None:
            raise ApiError("evaluation_not_found")
        return found

    def get_evaluations(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        row = self.model_row(params.get("modelId"))
        with self._evaluations_lock:
            finished = [
                {k: e[k] for k in ("id", "startedAt", "finishedAt", "success")}
                for e in self._evaluations.get(row["id"], ())
            ]
        return {"running": [], "finished": finished}, []

    def get_finished_evaluation_result(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        found = self._evaluation(params)
        return found["result"], list(found["blobs"])

    def cancel_evaluation(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        self._evaluation(params)  # evaluations finish within the call: nothing is left to cancel
        return {}, []

    def set_used_persistent_launchers_for_evaluate(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        self.model_row(params.get("modelId"), write=True)
        if req_list(params, "persistentLaunchers"):
            raise ApiError("persistent_launcher_not_found")  # the emulator has no persistent launchers
        return {}, []

    def get_used_persistent_launchers_for_evaluate(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        self.model_row(params.get("modelId"))
        return {"usedPersistentLaunchers": []}, []


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
