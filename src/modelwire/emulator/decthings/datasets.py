"""The Dataset API: datasets of typed entries, plus the 'needs review' folder.

Wire conventions (A.4): adding entries sends JSON `keys` = the key names (clients sort them) and one
blob per (entry, key), entry-major, each blob exactly one serialized tensor; getEntries answers
`{keys: [names], indexes: [...]}` plus one blob per (index, key), index-major. Every change to the
data makes a new `versionId`; writes and reads that pass `datasetVersionId` are refused with
`incorrect_version_id` (carrying the current id) when it is stale.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any, Final

from modelwire.decthings.tensor import DecthingsTensor
from modelwire.emulator.decthings import listing
from modelwire.emulator.decthings.db import dumps, loads, new_id, now_ms, placeholders
from modelwire.emulator.decthings.errors import (
    ApiError,
    JsonObject,
    Reply,
    as_int,
    as_object,
    int_list,
    invalid_parameter,
    opt_object,
    opt_str,
    req_list,
    req_str,
    tags,
)
from modelwire.emulator.decthings.rules import parse_definitions, read_one_tensor, violation
from modelwire.emulator.store import Store

MAIN: Final = "main"
REVIEW: Final = "review"
_CHUNK: Final = 500

Entry = list[tuple[str, bytes]]  # (key, serialized tensor) for each key of one entry


class DatasetService:
    def __init__(self, store: Store, user_id: str) -> None:
        self.store = store
        self.user_id = user_id

    # -- records ----------------------------------------------------------------------------------

    def _row(self, dataset_id: object) -> sqlite3.Row:
        if not isinstance(dataset_id, str):
            raise invalid_parameter("datasetId", "must be a string")
        row = self.store.one("SELECT * FROM decthings_datasets WHERE id = ?", (dataset_id,))
        if row is None or row["owner"] != self.user_id:
            raise ApiError("dataset_not_found", datasetId=dataset_id)
        return row

    def _check_version(self, row: sqlite3.Row, params: Mapping[str, Any]) -> None:
        wanted = opt_str(params, "datasetVersionId")
        if wanted is not None and wanted != row["version_id"]:
            raise ApiError("incorrect_version_id", datasetVersionId=row["version_id"])

    def _stats(self, dataset_id: str) -> dict[str, JsonObject]:
        stats = {folder: {"count": 0, "totalByteSize": 0} for folder in (MAIN, REVIEW)}
        for r in self.store.query(
            "SELECT folder, COUNT(DISTINCT position) AS n, COALESCE(SUM(LENGTH(data)), 0) AS size "
            "FROM decthings_entries WHERE dataset_id = ? GROUP BY folder",
            (dataset_id,),
        ):
            stats[r["folder"]] = {"count": r["n"], "totalByteSize": r["size"]}
        return stats

    def _view(self, row: sqlite3.Row) -> JsonObject:
        doc = loads(row["doc"])
        stats = self._stats(row["id"])
        return {
            "id": row["id"],
            "name": row["name"],
            "description": doc["description"],
            "createdAt": row["created_ms"],
            "tags": doc["tags"],
            "owner": {"userId": row["owner"], "username": row["owner"]},
            "access": "readwrite" if row["owner"] == self.user_id else "read",
            "keys": doc["keys"],
            "entries": stats[MAIN],
            "needsReviewEntries": stats[REVIEW],
            "entriesWaitingToBeDeleted": {"count": 0, "totalByteSize": 0},
            "versionId": row["version_id"],
        }

    def _name_free(self, name: str, except_id: str = "") -> None:
        taken = self.store.one(
            "SELECT id FROM decthings_datasets WHERE owner = ? AND name = ? AND id != ?",
            (self.user_id, name, except_id),
        )
        if taken is not None:
            raise ApiError("name_already_used")

    # -- dataset CRUD -----------------------------------------------------------------------------

    def create_dataset(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        name = req_str(params, "name", nonempty=True)
        description = req_str(params, "description")
        keys = parse_definitions(req_list(params, "keys"), "keys")
        if not keys:
            raise invalid_parameter("keys", "a dataset needs at least one key")
        doc = {"description": description, "tags": tags(params, "tags") or [], "keys": keys}
        dataset_id, version = new_id(), new_id()
        with self.store.transaction() as conn:
            self._name_free(name)
            conn.execute(
                "INSERT INTO decthings_datasets (id, owner, name, created_ms, version_id, doc) "
                "VALUES (?,?,?,?,?,?)",
                (dataset_id, self.user_id, name, now_ms(), version, dumps(doc)),
            )
        return {"datasetId": dataset_id, "datasetVersionId": version}, []

    def update_dataset(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        props = as_object(params.get("properties"), "properties")
        name = opt_str(props, "name", "properties", nonempty=True)
        description = opt_str(props, "description", "properties")
        new_tags = tags(props, "tags", "properties")
        with self.store.transaction() as conn:
            row = self._row(params.get("datasetId"))
            doc = loads(row["doc"])
            if description is not None:
                doc["description"] = description
            if new_tags is not None:
                doc["tags"] = new_tags
            if name is not None:
                self._name_free(name, row["id"])
            conn.execute(
                "UPDATE decthings_datasets SET name = ?, doc = ? WHERE id = ?",
                (name if name is not None else row["name"], dumps(doc), row["id"]),
            )
        return {}, []

    def delete_dataset(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        with self.store.transaction() as conn:
            row = self._row(params.get("datasetId"))
            conn.execute("DELETE FROM decthings_entries WHERE dataset_id = ?", (row["id"],))
            conn.execute("DELETE FROM decthings_datasets WHERE id = ?", (row["id"],))
        return {}, []

    def get_datasets(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        if "datasetIds" in params and "filter" not in params:  # the pre-2024 form of the call
            params = {**params, "filter": {"ids": params["datasetIds"]}}
        rows = self.store.query("SELECT * FROM decthings_datasets WHERE owner = ?", (self.user_id,))
        views = [self._view(r) for r in rows]
        chosen, meta = listing.page(views, params, lambda v: {**v, "owner": v["owner"]["userId"]})
        return {"datasets": chosen, **meta}, []

    # -- entries ----------------------------------------------------------------------------------

    def _decode_entries(
        self, row: sqlite3.Row, params: Mapping[str, Any], blobs: list[bytes], expected: int | None = None
    ) -> list[Entry]:
        """The entries carried by the blobs, each checked against the dataset's key rules."""
        definitions = {k["name"]: k for k in loads(row["doc"])["keys"]}
        raw = params.get("keys")
        if raw is None:
            names = sorted(definitions)
        elif isinstance(raw, list):
            names = []
            for i, item in enumerate(raw):
                name = item.get("key") if isinstance(item, dict) else item
                if not isinstance(name, str):
                    raise invalid_parameter(f"keys[{i}]", "must be a key name")
                names.append(name)
        else:
            raise invalid_parameter("keys", "must be an array of the dataset's key names")
        if len(set(names)) != len(names) or set(names) != set(definitions):
            raise invalid_parameter(
                "keys",
                f"must name each of the dataset's keys exactly once: {sorted(definitions)}, got {names}",
            )
        if not blobs:
            raise invalid_parameter("keys", "no data was sent: each key needs at least one tensor")
        if len(blobs) % len(names):
            raise invalid_parameter(
                "keys",
                f"every key needs the same number of tensors: {len(blobs)} tensors for {len(names)} keys",
            )
        count = len(blobs) // len(names)
        if expected is not None and count != expected:
            raise invalid_parameter("keys", f"each key needs {expected} tensors (one per index), got {count}")
        entries = []
        for i in range(count):
            entry = []
            for j, name in enumerate(names):
                blob = blobs[i * len(names) + j]
                tensor = read_one_tensor(blob, "keys")
                reason = violation(tensor, definitions[name]["rules"])
                if reason is not None:
                    raise invalid_parameter("keys", f"entry {i} of key {name!r}: {reason}")
                entry.append((name, blob))
            entries.append(entry)
        return entries

    @staticmethod
    def _count(conn: sqlite3.Connection, dataset_id: str, folder: str) -> int:
        return int(
            conn.execute(
                "SELECT COUNT(DISTINCT position) FROM decthings_entries WHERE dataset_id = ? AND folder = ?",
                (dataset_id, folder),
            ).fetchone()[0]
        )

    def _append(self, conn: sqlite3.Connection, dataset_id: str, folder: str, entries: list[Entry]) -> None:
        start = self._count(conn, dataset_id, folder)
        conn.executemany(
            "INSERT INTO decthings_entries (dataset_id, folder, position, key, data) VALUES (?,?,?,?,?)",
            [
                (dataset_id, folder, start + i, k, blob)
                for i, entry in enumerate(entries)
                for k, blob in entry
            ],
        )

    def _remove(self, conn: sqlite3.Connection, dataset_id: str, folder: str, indexes: list[int]) -> int:
        """Delete entries at `indexes` (all in range), renumber the rest densely; bytes removed."""
        removed = 0
        for i in range(0, len(indexes), _CHUNK):
            chunk = indexes[i : i + _CHUNK]
            where = f"dataset_id = ? AND folder = ? AND position IN ({placeholders(chunk)})"
            removed += conn.execute(
                f"SELECT COALESCE(SUM(LENGTH(data)), 0) FROM decthings_entries WHERE {where}",
                (dataset_id, folder, *chunk),
            ).fetchone()[0]
            conn.execute(f"DELETE FROM decthings_entries WHERE {where}", (dataset_id, folder, *chunk))
        left = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT position FROM decthings_entries WHERE dataset_id = ? AND folder = ? "
                "ORDER BY position",
                (dataset_id, folder),
            )
        ]
        # Ascending order: each target index is free (deleted or already moved down).
        for new, old in enumerate(left):
            if new != old:
                conn.execute(
                    "UPDATE decthings_entries SET position = ? "
                    "WHERE dataset_id = ? AND folder = ? AND position = ?",
                    (new, dataset_id, folder, old),
                )
        return int(removed)

    def _new_version(self, conn: sqlite3.Connection, dataset_id: str) -> str:
        version = new_id()
        conn.execute("UPDATE decthings_datasets SET version_id = ? WHERE id = ?", (version, dataset_id))
        return version

    def _in_range(
        self, conn: sqlite3.Connection, dataset_id: str, folder: str, indexes: list[int]
    ) -> list[int]:
        count = self._count(conn, dataset_id, folder)
        bad = [i for i in indexes if i >= count]
        if bad:
            raise ApiError("index_out_of_range")
        return sorted(set(indexes))

    def _add(self, params: JsonObject, blobs: list[bytes], folder: str) -> Reply:
        with self.store.transaction() as conn:
            row = self._row(params.get("datasetId"))
            self._check_version(row, params)
            self._append(conn, row["id"], folder, self._decode_entries(row, params, blobs))
            return {"newDatasetVersionId": self._new_version(conn, row["id"])}, []

    def add_entries(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        return self._add(params, blobs, MAIN)

    def add_entries_to_needs_review(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        return self._add(params, blobs, REVIEW)

    def finalize_needs_review_entries(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        indexes = int_list(params, "indexes")
        if len(set(indexes)) != len(indexes):
            raise invalid_parameter("indexes", "lists an index twice")
        with self.store.transaction() as conn:
            row = self._row(params.get("datasetId"))
            self._check_version(row, params)
            entries = self._decode_entries(row, params, blobs, expected=len(indexes))
            targets = self._in_range(conn, row["id"], REVIEW, indexes)
            removed = self._remove(conn, row["id"], REVIEW, targets)
            self._append(conn, row["id"], MAIN, entries)
            version = self._new_version(conn, row["id"])
        return {"newDatasetVersionId": version, "removedBytesFromNeedsReview": removed}, []

    def _remove_entries(self, params: JsonObject, folder: str) -> tuple[str, int]:
        indexes = int_list(params, "entries")
        with self.store.transaction() as conn:
            row = self._row(params.get("datasetId"))
            self._check_version(row, params)
            removed = self._remove(conn, row["id"], folder, self._in_range(conn, row["id"], folder, indexes))
            return self._new_version(conn, row["id"]), removed

    def remove_entries(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        version, removed = self._remove_entries(params, MAIN)
        return {
            "newDatasetVersionId": version,
            "removedBytes": removed,
            "newWaitingToRemoveBytes": 0,
            "newWaitingToRemoveAmount": 0,
        }, []

    def remove_needs_review_entries(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        version, removed = self._remove_entries(params, REVIEW)
        return {"newDatasetVersionId": version, "removedBytes": removed}, []

    def _get(self, params: JsonObject, folder: str) -> Reply:
        with self.store.transaction() as conn:
            row = self._row(params.get("datasetId"))
            self._check_version(row, params)
            count = self._count(conn, row["id"], folder)
            indexes = _requested(params, count)
            names = sorted(k["name"] for k in loads(row["doc"])["keys"])
            data: dict[tuple[int, str], bytes] = {}
            for i in range(0, len(indexes), _CHUNK):
                chunk = indexes[i : i + _CHUNK]
                for r in conn.execute(
                    "SELECT position, key, data FROM decthings_entries WHERE dataset_id = ? AND folder = ? "
                    f"AND position IN ({placeholders(chunk)})",
                    (row["id"], folder, *chunk),
                ):
                    data[(r["position"], r["key"])] = bytes(r["data"])
        return {"keys": names, "indexes": indexes}, [data[(i, k)] for i in indexes for k in names]

    def get_entries(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        return self._get(params, MAIN)

    def get_needs_review_entries(self, params: JsonObject, blobs: list[bytes]) -> Reply:
        return self._get(params, REVIEW)

    # -- for models -------------------------------------------------------------------------------

    def read_key(self, dataset_id: str, key: str) -> list[DecthingsTensor]:
        """Every tensor of `key` in the dataset's entries, in index order (dataset parameters)."""
        row = self.store.one("SELECT * FROM decthings_datasets WHERE id = ?", (dataset_id,))
        if row is None or row["owner"] != self.user_id:
            raise ApiError("dataset_not_found", datasetId=dataset_id)
        if key not in {k["name"] for k in loads(row["doc"])["keys"]}:
            raise ApiError("dataset_key_not_found", datasetId=dataset_id, datasetKey=key)
        rows = self.store.query(
            "SELECT data FROM decthings_entries WHERE dataset_id = ? AND folder = ? AND key = ? "
            "ORDER BY position",
            (dataset_id, MAIN, key),
        )
        return [DecthingsTensor.deserialize(bytes(r["data"]))[0] for r in rows]


def _requested(params: Mapping[str, Any], count: int) -> list[int]:
    """The existing indexes among those asked for: a list (order kept, repeats dropped) or a
    {start, end} range (end exclusive)."""
    value = params.get("entries")
    if isinstance(value, list):
        asked = [as_int(v, f"entries[{i}]") for i, v in enumerate(value)]
        return [i for i in dict.fromkeys(asked) if i < count]
    if isinstance(value, dict):
        rng = opt_object(params, "entries") or {}
        start = as_int(rng.get("start"), "entries.start")
        end = as_int(rng.get("end"), "entries.end")
        if end < start:
            raise invalid_parameter("entries.end", f"must not be below start ({start}), got {end}")
        return list(range(start, min(end, count)))
    raise invalid_parameter("entries", 'must be an array of indexes or {"start": number, "end": number}')
