"""The search index of each app, built from SQLite on first use and kept current incrementally.

Writers only `touch` the ids of inputs they changed (cheap, no reads); the next search of that app
re-reads just those inputs. After a restart an app's index is rebuilt from the database the first
time it is searched.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, cast

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai import search
from modelwire.emulator.clarifai.content import input_vector
from modelwire.emulator.clarifai.queries import struct_dict
from modelwire.emulator.clarifai.records import CONCEPT, IN_APP, Owner, Records, placeholders

_CHUNK = 500  # ids per IN (...) query


def label_concepts(data: resources_pb2.Data) -> Iterable[resources_pb2.Concept]:
    """The concepts of a label: its own and those of its regions."""
    yield from data.concepts
    for region in data.regions:
        yield from region.data.concepts


class Indexes:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._indexes: dict[Owner, search.SearchIndex] = {}
        self._stale: dict[Owner, set[str]] = {}
        self._lock = threading.Lock()  # guards the two dicts
        self._build = threading.Lock()  # one build/refresh at a time

    def touch(self, owner: Owner, ids: Iterable[str]) -> None:
        """Mark inputs as changed (added, updated or deleted)."""
        with self._lock:
            if owner in self._indexes:
                self._stale.setdefault(owner, set()).update(ids)

    def drop(self, owner: Owner) -> None:
        with self._lock:
            self._indexes.pop(owner, None)
            self._stale.pop(owner, None)

    def get(self, owner: Owner) -> search.SearchIndex:
        """The app's index, current as of this call."""
        with self._build:
            with self._lock:
                index = self._indexes.get(owner)
                if index is None:  # registered first, so writes during the load are marked stale
                    index = self._indexes[owner] = search.SearchIndex()
                    self._stale[owner] = set()
                    load_all = True
                else:
                    load_all = False
            if load_all:
                for doc in self.documents(owner, None):
                    index.add(doc)
            with self._lock:
                stale = self._stale.get(owner, set())
                self._stale[owner] = set()
            if stale:
                self._refresh(owner, index, sorted(stale))
            return index

    def _refresh(self, owner: Owner, index: search.SearchIndex, ids: Sequence[str]) -> None:
        docs = self.documents(owner, ids)
        for doc in docs:
            index.add(doc)
        for gone in set(ids) - {d.input_id for d in docs}:
            index.remove(gone)

    # -- documents from the database ---------------------------------------------------------------

    def _rows(self, sql: str, owner: Owner, ids: Sequence[str] | None, column: str) -> list[Any]:
        store = self._records.store
        if ids is None:
            return store.query(sql, owner)
        rows: list[Any] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows += store.query(f"{sql} AND {column} IN ({placeholders(chunk)})", [*owner, *chunk])
        return rows

    def documents(self, owner: Owner, ids: Sequence[str] | None) -> list[search.Document]:
        """Search documents of the app's inputs (all of them when `ids` is None)."""
        where = IN_APP
        inputs = self._rows(
            f"SELECT id, kind, status, created_ns, vector, proto FROM clarifai_inputs WHERE {where}",
            owner,
            ids,
            "id",
        )
        if not inputs:
            return []
        labels: dict[str, list[resources_pb2.Data]] = defaultdict(list)
        for row in self._rows(
            f"SELECT input_id, proto FROM clarifai_annotations WHERE {where}", owner, ids, "input_id"
        ):
            labels[row["input_id"]].append(resources_pb2.Annotation.FromString(row["proto"]).data)
        datasets: dict[str, set[str]] = defaultdict(set)
        for row in self._rows(
            f"SELECT id, dataset_id FROM clarifai_dataset_inputs WHERE {where}", owner, ids, "id"
        ):
            datasets[row["id"]].add(row["dataset_id"])
        names = self._concept_names(owner)
        return [self._document(row, labels[row["id"]], datasets[row["id"]], names) for row in inputs]

    def _concept_names(self, owner: Owner) -> dict[str, str]:
        rows = self._records.store.query(
            f"SELECT id, proto FROM clarifai_objects WHERE kind = ? AND {IN_APP}",
            (CONCEPT.name, *owner),
        )
        return {r["id"]: resources_pb2.Concept.FromString(r["proto"]).name for r in rows}

    @staticmethod
    def _document(
        row: Any, labels: list[resources_pb2.Data], dataset_ids: set[str], names: dict[str, str]
    ) -> search.Document:
        item = resources_pb2.Input.FromString(row["proto"])
        concepts: dict[str, float] = {}
        concept_names: dict[str, str] = {}
        for data in [item.data, *labels]:
            for concept in label_concepts(data):
                key = concept.id or concept.name
                concepts[key] = max(concepts.get(key, float("-inf")), float(concept.value))
                name = concept.name or names.get(key)
                if name:
                    concept_names[key] = name
        geo = None
        if item.data.HasField("geo") and item.data.geo.HasField("geo_point"):
            geo = (float(item.data.geo.geo_point.longitude), float(item.data.geo.geo_point.latitude))
        vector = input_vector(row["kind"], row["vector"], item)
        metadata = struct_dict(item.data.metadata) if item.data.HasField("metadata") else {}
        kind = str(row["kind"])
        url = getattr(item.data, kind).url if kind in search.KINDS else ""
        return search.Document(
            input_id=row["id"],
            kind=cast(search.Kind, row["kind"]),
            vector=vector,
            concepts=concepts,
            concept_names=concept_names,
            metadata=metadata,
            dataset_ids=dataset_ids,
            status_code=int(row["status"]),
            geo=geo,
            created_at=row["created_ns"] / 1e9,
            url=url,
        )
