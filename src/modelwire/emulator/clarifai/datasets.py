"""Datasets of the Clarifai emulator: datasets, their inputs, versions, metrics and exports.

Deleting a dataset removes its memberships and versions, not its inputs. PostDatasetInputs adds
the inputs listed in `dataset_inputs` (they must exist) and every hit of `search` (e.g. the
inputs of other datasets, as the SDK's merge does); it answers with the added memberships, each
input given by id only. A dataset version is a snapshot (see `exports`), ready at once
(DATASET_VERSION_READY) with its metrics under key "/"; GetDatasetVersion reads one (an unknown
dataset or version is CONN_DOES_NOT_EXIST). Its metrics groups (ListDatasetVersionMetricsGroups)
are those of `exports.groups`: an empty version has the INPUT_TYPE "total" group with zero counts.
GetDataset and ListDatasets show the latest version in `Dataset.version`.
PutDatasetVersionExports builds the archive in the background: PENDING, then IN_PROGRESS, then
SUCCESS with an http url on the emulator's file host (`files_server`; it needs the key, like a
private app's hosted content) and its size; put again to poll. Only CLARIFAI_DATA_PROTOBUF is
supported. PatchDatasets is the generic patch of `patching` ("merge", "overwrite" or "remove";
`version` is the service's) and answers with each dataset's latest version, as GetDataset does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai import exports
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.indexing import Indexes
from modelwire.emulator.clarifai.inputs import InputsArea
from modelwire.emulator.clarifai.labels import Labels, new_id
from modelwire.emulator.clarifai.patching import Patchable, patch_route
from modelwire.emulator.clarifai.records import (
    DATASET,
    DATASET_VERSION,
    IN_APP,
    INPUT,
    NEWEST_FIRST,
    Owner,
    Page,
    drop_unused_blobs,
    missing,
    order_of,
    placeholders,
    request_page,
    timestamp,
)

log = logging.getLogger("modelwire.emulator")

Format = resources_pb2.DatasetVersionExportFormat
# Embedded: a stored vector (images), or a processed text (embedded when read: content.input_vector).
_MEMBERS = f"""(SELECT d.user_id AS user_id, d.app_id AS app_id, d.dataset_id AS dataset_id, d.id AS id,
    d.created_ns AS created_ns, i.status AS status, i.kind AS kind, i.content_sha AS content_sha,
    (i.vector IS NOT NULL OR (i.kind = 'text' AND i.status = {int(S.INPUT_DOWNLOAD_SUCCESS)})) AS embedded,
    i.proto AS proto
    FROM clarifai_dataset_inputs d JOIN clarifai_inputs i
    ON i.user_id = d.user_id AND i.app_id = d.app_id AND i.id = d.id)"""
_EXPORT_BUSY = (S.DATASET_VERSION_EXPORT_PENDING, S.DATASET_VERSION_EXPORT_IN_PROGRESS)
VersionKey = tuple[str, str, str, str]  # user, app, dataset, version


class DatasetsArea:
    def __init__(self, ctx: Context, inputs: InputsArea, labels: Labels, indexes: Indexes) -> None:
        self._ctx = ctx
        self._records = ctx.records
        self._store = ctx.records.store
        self._inputs = inputs
        self._labels = labels
        self._indexes = indexes
        self._exporting: set[VersionKey] = set()
        self._groups: dict[VersionKey, list[resources_pb2.DatasetVersionMetricsGroup]] = {}
        self._lock = threading.Lock()

    def routes(self) -> dict[str, Route]:
        return {
            "PostDatasets": Route(Scope.APP, self.post_datasets),
            "GetDataset": Route(Scope.APP, self.get_dataset),
            "ListDatasets": Route(Scope.APP, self.list_datasets),
            "DeleteDatasets": Route(Scope.APP, self.delete_datasets),
            "PatchDatasets": patch_route(
                self._records,
                "PatchDatasets",
                Patchable(
                    DATASET,
                    "datasets",
                    S.CONN_INVALID_REQUEST,
                    fixed=frozenset({"version"}),
                    show=self._with_version,
                ),
                Scope.APP,
            ),
            "PostDatasetInputs": Route(Scope.APP, self.post_dataset_inputs),
            "ListDatasetInputs": Route(Scope.APP, self.list_dataset_inputs),
            "PostDatasetVersions": Route(Scope.APP, self.post_dataset_versions),
            "ListDatasetVersions": Route(Scope.APP, self.list_dataset_versions),
            "GetDatasetVersion": Route(Scope.APP, self.get_dataset_version),
            "DeleteDatasetVersions": Route(Scope.APP, self.delete_dataset_versions),
            "ListDatasetVersionMetricsGroups": Route(Scope.APP, self.list_dataset_version_metrics_groups),
            "PutDatasetVersionExports": Route(Scope.APP, self.put_dataset_version_exports),
        }

    def forget(self, owner: Owner) -> None:
        """Drop cached metrics groups of an app (it was deleted)."""
        with self._lock:
            for key in [k for k in self._groups if k[:2] == tuple(owner)]:
                del self._groups[key]

    # -- datasets --------------------------------------------------------------------------------

    def _dataset(self, owner: Owner, dataset_id: str) -> resources_pb2.Dataset:
        return self._records.require(DATASET, owner, dataset_id, resources_pb2.Dataset)

    def _with_version(self, owner: Owner, dataset: resources_pb2.Dataset) -> resources_pb2.Dataset:
        latest = self._records.listing(
            DATASET_VERSION, owner, resources_pb2.DatasetVersion, Page(1, 1), parent=dataset.id
        )
        if latest:
            dataset.version.CopyFrom(latest[0])
        return dataset

    def post_datasets(
        self, caller: Caller, request: service_pb2.PostDatasetsRequest
    ) -> service_pb2.MultiDatasetResponse:
        created = self._records.create(DATASET, caller.owner, list(request.datasets))
        return service_pb2.MultiDatasetResponse(datasets=created)

    def get_dataset(
        self, caller: Caller, request: service_pb2.GetDatasetRequest
    ) -> service_pb2.SingleDatasetResponse:
        dataset = self._dataset(caller.owner, request.dataset_id)
        return service_pb2.SingleDatasetResponse(dataset=self._with_version(caller.owner, dataset))

    def list_datasets(
        self, caller: Caller, request: service_pb2.ListDatasetsRequest
    ) -> service_pb2.MultiDatasetResponse:
        where, params = "", []
        text = (request.search or request.id).lower()
        if text:
            where, params = "instr(tag, ?) > 0", [text]
        datasets = self._records.listing(
            DATASET,
            caller.owner,
            resources_pb2.Dataset,
            request_page(request),
            where=where,
            params=params,
            order=order_of(request),
        )
        return service_pb2.MultiDatasetResponse(
            datasets=[self._with_version(caller.owner, d) for d in datasets]
        )

    def delete_datasets(
        self, caller: Caller, request: service_pb2.DeleteDatasetsRequest
    ) -> status_pb2.BaseResponse:
        owner = caller.owner
        ids = self._records.delete(DATASET, owner, list(request.dataset_ids))
        marks = placeholders(ids)
        with self._store.transaction() as conn:
            members = conn.execute(
                f"SELECT id FROM clarifai_dataset_inputs WHERE {IN_APP} AND dataset_id IN ({marks})",
                [*owner, *ids],
            ).fetchall()
            conn.execute(
                f"DELETE FROM clarifai_dataset_inputs WHERE {IN_APP} AND dataset_id IN ({marks})",
                [*owner, *ids],
            )
            conn.execute(
                f"DELETE FROM clarifai_objects WHERE kind = ? AND {IN_APP} AND parent IN ({marks})",
                [DATASET_VERSION.name, *owner, *ids],
            )
            self._drop_snapshots(conn, owner, f"dataset_id IN ({marks})", ids)
        self._indexes.touch(owner, {r["id"] for r in members})
        with self._lock:
            for key in [k for k in self._groups if k[:2] == tuple(owner) and k[2] in ids]:
                del self._groups[key]
        return status_pb2.BaseResponse()

    @staticmethod
    def _drop_snapshots(conn: sqlite3.Connection, owner: Owner, where: str, params: Sequence[Any]) -> None:
        """Delete dataset-version snapshot rows (and content nothing else refers to)."""
        condition = f"{IN_APP} AND {where}"
        shas = [
            r["content_sha"]
            for r in conn.execute(
                f"SELECT DISTINCT content_sha FROM clarifai_version_inputs WHERE {condition} "
                "AND content_sha IS NOT NULL",
                [*owner, *params],
            )
        ]
        conn.execute(f"DELETE FROM clarifai_version_inputs WHERE {condition}", [*owner, *params])
        drop_unused_blobs(conn, shas)

    # -- dataset inputs ----------------------------------------------------------------------------

    def post_dataset_inputs(
        self, caller: Caller, request: service_pb2.PostDatasetInputsRequest
    ) -> service_pb2.MultiDatasetInputResponse:
        owner = caller.owner
        self._dataset(owner, request.dataset_id)
        listed = list(dict.fromkeys(d.input.id for d in request.dataset_inputs))
        if "" in listed:
            raise ApiFailure(S.INPUT_INVALID_ARGUMENT, "every dataset_inputs[].input needs its id")
        present = self._labels.input_ids_present(owner, listed)
        absent = [i for i in listed if i not in present]
        if absent:
            raise missing(INPUT, absent, self._records.where(owner))
        if request.HasField("search"):
            listed = list(dict.fromkeys([*listed, *self._inputs.all_hits(owner, request.search)]))
        if not listed:
            raise ApiFailure(
                S.CONN_INVALID_REQUEST, "set dataset_inputs or a search selecting the inputs to add"
            )
        now = self._records.now()
        with self._store.transaction() as conn:
            added = [
                input_id
                for input_id in listed
                if conn.execute(
                    "INSERT OR IGNORE INTO clarifai_dataset_inputs "
                    "(user_id, app_id, dataset_id, id, created_ns) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (*owner, request.dataset_id, input_id, now),
                ).rowcount
            ]
        self._indexes.touch(owner, added)
        return service_pb2.MultiDatasetInputResponse(
            dataset_inputs=[
                resources_pb2.DatasetInput(created_at=timestamp(now), input=resources_pb2.Input(id=i))
                for i in added
            ]
        )

    def list_dataset_inputs(
        self, caller: Caller, request: service_pb2.ListDatasetInputsRequest
    ) -> service_pb2.MultiDatasetInputResponse:
        owner = caller.owner
        self._dataset(owner, request.dataset_id)
        rows = self._records.page_rows(
            _MEMBERS,
            f"{IN_APP} AND dataset_id = ?",
            [*owner, request.dataset_id],
            request_page(request),
        )
        rendered = self._inputs.render(owner, rows)
        return service_pb2.MultiDatasetInputResponse(
            dataset_inputs=[
                resources_pb2.DatasetInput(created_at=timestamp(row["created_ns"]), input=item)
                for row, item in zip(rows, rendered, strict=True)
            ]
        )

    # -- versions ------------------------------------------------------------------------------------

    def _snapshot(self, owner: Owner, dataset_id: str) -> list[tuple[Any, resources_pb2.Input]]:
        """(input row, export view) of every member, newest first."""
        rows = self._store.query(
            f"SELECT * FROM {_MEMBERS} WHERE {IN_APP} AND dataset_id = ? ORDER BY {NEWEST_FIRST}",
            (*owner, dataset_id),
        )
        labels: dict[str, list[resources_pb2.Annotation]] = defaultdict(list)
        for row in self._store.query(
            "SELECT a.input_id, a.proto FROM clarifai_annotations a JOIN clarifai_dataset_inputs d "
            "ON d.user_id = a.user_id AND d.app_id = a.app_id AND d.id = a.input_id "
            "WHERE a.user_id = ? AND a.app_id = ? AND d.dataset_id = ? ORDER BY a.created_ns",
            (*owner, dataset_id),
        ):
            labels[row["input_id"]].append(resources_pb2.Annotation.FromString(row["proto"]))
        return [
            (row, exports.export_view(resources_pb2.Input.FromString(row["proto"]), labels[row["id"]]))
            for row in rows
        ]

    def post_dataset_versions(
        self, caller: Caller, request: service_pb2.PostDatasetVersionsRequest
    ) -> service_pb2.MultiDatasetVersionResponse:
        owner = caller.owner
        self._dataset(owner, request.dataset_id)
        members = self._snapshot(owner, request.dataset_id)
        entries = [exports.Snapshot(view, row["kind"], bool(row["embedded"])) for row, view in members]
        summary = exports.metrics(entries)

        def prepare(version: resources_pb2.DatasetVersion) -> None:
            version.dataset_id = request.dataset_id
            version.status.CopyFrom(status(S.DATASET_VERSION_READY))
            version.metrics[exports.ROOT_PATH].CopyFrom(summary)
            version.ClearField("export_info")

        given = []
        for version in request.dataset_versions or [resources_pb2.DatasetVersion()]:
            copy = resources_pb2.DatasetVersion()
            copy.CopyFrom(version)
            copy.id = copy.id or new_id()
            given.append(copy)

        snapshot = [
            (
                row["id"],
                row["created_ns"],
                row["kind"],
                row["content_sha"],
                row["embedded"],
                view.SerializeToString(),
            )
            for row, view in members
        ]

        def store_snapshot(conn: sqlite3.Connection, version: resources_pb2.DatasetVersion) -> None:
            conn.executemany(
                "INSERT INTO clarifai_version_inputs (user_id, app_id, dataset_id, version_id, id, "
                "created_ns, kind, content_sha, embedded, proto) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*owner, request.dataset_id, version.id, *entry) for entry in snapshot],
            )

        created = self._records.create(
            DATASET_VERSION, owner, given, parent=request.dataset_id, prepare=prepare, also=store_snapshot
        )
        return service_pb2.MultiDatasetVersionResponse(dataset_versions=created)

    def list_dataset_versions(
        self, caller: Caller, request: service_pb2.ListDatasetVersionsRequest
    ) -> service_pb2.MultiDatasetVersionResponse:
        self._dataset(caller.owner, request.dataset_id)
        origins = [str(int(o)) for o in request.request_origins]
        where = f"facet IN ({placeholders(origins)})" if origins else ""
        versions = self._records.listing(
            DATASET_VERSION,
            caller.owner,
            resources_pb2.DatasetVersion,
            request_page(request),
            parent=request.dataset_id,
            where=where,
            params=origins,
        )
        return service_pb2.MultiDatasetVersionResponse(dataset_versions=versions)

    def get_dataset_version(
        self, caller: Caller, request: service_pb2.GetDatasetVersionRequest
    ) -> service_pb2.SingleDatasetVersionResponse:
        version = self._version(caller.owner, request.dataset_id, request.dataset_version_id)
        return service_pb2.SingleDatasetVersionResponse(dataset_version=version)

    def delete_dataset_versions(
        self, caller: Caller, request: service_pb2.DeleteDatasetVersionsRequest
    ) -> status_pb2.BaseResponse:
        owner = caller.owner
        self._dataset(owner, request.dataset_id)
        ids = self._records.delete(
            DATASET_VERSION, owner, list(request.dataset_version_ids), parent=request.dataset_id
        )
        with self._store.transaction() as conn:
            where = f"dataset_id = ? AND version_id IN ({placeholders(ids)})"
            self._drop_snapshots(conn, owner, where, [request.dataset_id, *ids])
        with self._lock:
            for version_id in ids:
                self._groups.pop((*owner, request.dataset_id, version_id), None)
        return status_pb2.BaseResponse()

    def _version(self, owner: Owner, dataset_id: str, version_id: str) -> resources_pb2.DatasetVersion:
        self._dataset(owner, dataset_id)
        return self._records.require(
            DATASET_VERSION, owner, version_id, resources_pb2.DatasetVersion, parent=dataset_id
        )

    def _entries(self, key: VersionKey) -> list[exports.Snapshot]:
        rows = self._store.query(
            f"SELECT kind, embedded, proto FROM clarifai_version_inputs WHERE {IN_APP} "
            "AND dataset_id = ? AND version_id = ? ORDER BY created_ns DESC, id",
            key,
        )
        return [
            exports.Snapshot(resources_pb2.Input.FromString(r["proto"]), r["kind"], bool(r["embedded"]))
            for r in rows
        ]

    def list_dataset_version_metrics_groups(
        self, caller: Caller, request: service_pb2.ListDatasetVersionMetricsGroupsRequest
    ) -> service_pb2.MultiDatasetVersionMetricsGroupResponse:
        owner = caller.owner
        self._version(owner, request.dataset_id, request.dataset_version_id)
        key: VersionKey = (*owner, request.dataset_id, request.dataset_version_id)
        with self._lock:
            cached = self._groups.get(key)
        if cached is None:  # versions never change: compute once
            cached = exports.groups(self._entries(key))
            with self._lock:
                self._groups[key] = cached
        wanted_types = set(request.types)
        wanted_paths = set(request.parent_paths)
        wanted_values = [v.SerializeToString(deterministic=True) for v in request.values]
        selected = [
            g
            for g in cached
            if (not wanted_types or g.type in wanted_types)
            and (not wanted_paths or g.parent_path in wanted_paths)
            and (not wanted_values or g.value.SerializeToString(deterministic=True) in wanted_values)
        ]
        page = request_page(request)
        return service_pb2.MultiDatasetVersionMetricsGroupResponse(
            dataset_version_metrics_groups=selected[page.offset : page.offset + page.per_page]
        )

    # -- exports ---------------------------------------------------------------------------------------

    def put_dataset_version_exports(
        self, caller: Caller, request: service_pb2.PutDatasetVersionExportsRequest
    ) -> service_pb2.MultiDatasetVersionExportResponse:
        owner = caller.owner
        version = self._version(owner, request.dataset_id, request.dataset_version_id)
        if len(request.exports) != 1:
            raise ApiFailure(S.CONN_INVALID_REQUEST, f"send exactly one export, got {len(request.exports)}")
        wanted = request.exports[0].format
        if wanted != Format.CLARIFAI_DATA_PROTOBUF:
            raise ApiFailure(
                S.CONN_INVALID_REQUEST,
                f"export format {Format.Name(wanted)} is not supported by the emulator; "
                "use CLARIFAI_DATA_PROTOBUF",
            )
        key: VersionKey = (*owner, request.dataset_id, request.dataset_version_id)
        with self._lock:
            current = version.export_info.clarifai_data_protobuf
            if not self._usable(key, current):
                current.CopyFrom(
                    resources_pb2.DatasetVersionExport(
                        format=wanted, status=status(S.DATASET_VERSION_EXPORT_PENDING)
                    )
                )
                self._records.update(DATASET_VERSION, owner, version, parent=request.dataset_id)
                self._exporting.add(key)
                self._ctx.workers.submit(self._export, key)
        return service_pb2.MultiDatasetVersionExportResponse(exports=[current])

    def _usable(self, key: VersionKey, export: resources_pb2.DatasetVersionExport) -> bool:
        """An export that is running in this process, or finished with its file still present."""
        if export.status.code in _EXPORT_BUSY:
            return key in self._exporting
        if export.status.code == S.DATASET_VERSION_EXPORT_SUCCESS:
            # Served by this process's file host (a restarted emulator has a new port and files).
            prefix = f"{self._ctx.hosting.base_url}/exports/"
            name = export.url[len(prefix) :] if export.url.startswith(prefix) else ""
            return bool(name) and (self._ctx.files.directory("exports") / name).is_file()
        return False

    def _set_export(self, key: VersionKey, export: resources_pb2.DatasetVersionExport) -> None:
        owner, dataset_id, version_id = Owner(key[0], key[1]), key[2], key[3]
        with self._lock:
            version = self._records.get(
                DATASET_VERSION, owner, version_id, resources_pb2.DatasetVersion, parent=dataset_id
            )
            if version is not None:  # not deleted meanwhile
                version.export_info.clarifai_data_protobuf.CopyFrom(export)
                self._records.update(DATASET_VERSION, owner, version, parent=dataset_id)

    def _export(self, key: VersionKey) -> None:
        export = resources_pb2.DatasetVersionExport(format=Format.CLARIFAI_DATA_PROTOBUF)
        try:
            if self._ctx.closed.is_set():
                return
            export.status.CopyFrom(status(S.DATASET_VERSION_EXPORT_IN_PROGRESS))
            self._set_export(key, export)
            # A random name: ids may hold any character, and the URL should not be guessable.
            path = self._ctx.files.directory("exports") / f"export-{uuid.uuid4().hex}.zip"
            export.size = exports.write_archive(path, self._batches(key))
            export.url = f"{self._ctx.hosting.base_url}/exports/{path.name}"
            export.status.CopyFrom(status(S.DATASET_VERSION_EXPORT_SUCCESS))
        except Exception as exc:  # reported in the export's status, like the real service
            log.exception("clarifai emulator: export of %s failed", key)
            export.status.CopyFrom(status(S.DATASET_VERSION_EXPORT_FAILED, f"{type(exc).__name__}: {exc}"))
        finally:
            if not self._ctx.closed.is_set():
                self._set_export(key, export)
            with self._lock:
                self._exporting.discard(key)

    def _batches(self, key: VersionKey) -> Iterator[Sequence[resources_pb2.Input]]:
        rows = self._store.query(
            f"SELECT kind, content_sha, proto FROM clarifai_version_inputs WHERE {IN_APP} "
            "AND dataset_id = ? AND version_id = ? ORDER BY created_ns DESC, id",
            key,
        )
        hosting = self._ctx.hosting
        for start in range(0, len(rows), exports.BATCH_SIZE):
            batch = []
            for row in rows[start : start + exports.BATCH_SIZE]:
                item = resources_pb2.Input.FromString(row["proto"])
                hosting.render(item.data, row["kind"], row["content_sha"])
                raw = (
                    hosting.blob(row["content_sha"]) if row["content_sha"] and row["kind"] != "text" else None
                )
                if raw is not None:
                    getattr(item.data, row["kind"]).base64 = raw
                batch.append(item)
            yield batch
