"""Inputs of the Clarifai emulator: upload, asynchronous processing, listing, patching, search.

PostInputs accepts 1 to 128 inputs. Each gets its own status: a duplicate id (already in the app,
or twice in the request) is INPUT_DUPLICATE "Input has a duplicate ID."; bad content, unknown
dataset ids or concepts without an id are INPUT_INVALID_ARGUMENT; the request status is SUCCESS,
MIXED_STATUS or FAILURE accordingly. Valid inputs are stored as INPUT_DOWNLOAD_PENDING and
processed by the worker pool in chunks (`content.process_input`), ending INPUT_DOWNLOAD_SUCCESS
or INPUT_DOWNLOAD_FAILED with the reason; inputs still pending when the emulator stops are
processed after a restart. `input_id_conflict_resolution` SKIP reports duplicates without failing
the request; SUFFIX renames them `<id>-<n>`.

An inputs-add job's progress counts its inputs that still exist, by status; its status is
JOB_QUEUED, JOB_RUNNING, JOB_COMPLETED or JOB_CANCELLED. ListInputsAddJobs lists the app's jobs
newest first, a page at a time (GetInputsAddJob reads one). CancelInputsAddJob fails the job's
pending inputs. DeleteInputs ignores unknown ids (so it is safe to retry, and `ids=[]` succeeds) and
takes any number of ids, deleted atomically.

GetInputCount counts the app's inputs by processing status: `to_process` (INPUT_DOWNLOAD_PENDING),
`processing` (in progress), `processed` (INPUT_DOWNLOAD_SUCCESS) and `errors` (failed or
cancelled); the reindex counts are always 0 (nothing is reindexed here).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai import search
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.content import (
    Outcome,
    content_kinds,
    fetch,
    has_content,
    input_vector,
    instant_outcome,
    process_input,
)
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.indexing import Indexes, label_concepts
from modelwire.emulator.clarifai.labels import (
    Labels,
    action_of,
    batch_status,
    edit_data,
    new_id,
    normalize_concepts,
)
from modelwire.emulator.clarifai.predicted import Predictions
from modelwire.emulator.clarifai.queries import (
    Resolver,
    annotation_filters_of,
    filters_of,
    invalid,
    metric_of,
    ranks_of,
)
from modelwire.emulator.clarifai.records import (
    DATASET,
    IN_APP,
    INPUT,
    INPUTS_ADD_JOB,
    NEWEST_FIRST,
    Owner,
    check_id,
    drop_unused_blobs,
    missing,
    page_of,
    placeholders,
    request_page,
    timestamp,
)
from modelwire.emulator.clarifai.views import InputViews

log = logging.getLogger("modelwire.emulator")

MAX_INPUTS_PER_CALL = 128
CHUNK = 32  # inputs per worker task: small enough to spread a batch over the pool
DELETE_CHUNK = 500  # ids per DELETE ... IN (...): any number of ids stays under SQLite's variable limit
PENDING, IN_PROGRESS = S.INPUT_DOWNLOAD_PENDING, S.INPUT_DOWNLOAD_IN_PROGRESS
_PENDING = status(PENDING)  # only ever copied from
SUCCESS, FAILED = S.INPUT_DOWNLOAD_SUCCESS, S.INPUT_DOWNLOAD_FAILED
DUPLICATE_ID = "Input has a duplicate ID."  # clients match this text
Conflict = resources_pb2.InputIDConflictResolution


def _ids_with_status(ids: Sequence[str]) -> str:
    """`id IN (...) AND status = ?`, answered through the primary key: without the `+` SQLite picks
    the status index for a long IN list and scans every pending input of every app, each time."""
    return f"id IN ({placeholders(ids)}) AND +status = ?"


def _public(item: resources_pb2.Input) -> resources_pb2.Input:
    """A copy without uploaded bytes (responses never echo them)."""
    copy = resources_pb2.Input()
    copy.CopyFrom(item)
    _drop_uploads(copy)
    return copy


def _drop_uploads(item: resources_pb2.Input) -> None:
    for kind in ("image", "video", "audio"):
        if item.data.HasField(kind):
            getattr(item.data, kind).ClearField("base64")


class InputsArea:
    def __init__(self, ctx: Context, labels: Labels, indexes: Indexes, views: InputViews) -> None:
        self._ctx = ctx
        self._records = ctx.records
        self._store = ctx.records.store
        self._labels = labels
        self._indexes = indexes
        self._views = views
        self._predictions = Predictions(ctx.records)

    def routes(self) -> dict[str, Route]:
        return {
            "PostInputs": Route(Scope.APP, self.post_inputs),
            "GetInputsAddJob": Route(Scope.APP, self.get_inputs_add_job),
            "CancelInputsAddJob": Route(Scope.APP, self.cancel_inputs_add_job),
            "GetInput": Route(Scope.APP, self.get_input),
            "ListInputs": Route(Scope.APP, self.list_inputs),
            "PatchInputs": Route(Scope.APP, self.patch_inputs),
            "DeleteInputs": Route(Scope.APP, self.delete_inputs),
            "GetInputCount": Route(Scope.APP, self.get_input_count),
            "PostInputsSearches": Route(Scope.APP, self.post_inputs_searches),
            "PostAnnotationsSearches": Route(Scope.APP, self.post_annotations_searches),
            "ListInputsAddJobs": Route(Scope.APP, self.list_inputs_add_jobs),
        }

    # -- PostInputs --------------------------------------------------------------------------------

    def _problem(
        self, item: resources_pb2.Input, taken: set[str], datasets: set[str], resolution: int
    ) -> status_pb2.Status | None:
        """Why `item` cannot be added (None: it can; SUFFIX may rename it)."""
        try:
            check_id(INPUT, item.id)
        except ApiFailure as failure:
            return failure.status()
        kinds = content_kinds(item.data)
        if len(kinds) != 1:
            got = " and ".join(kinds) or "none"
            return status(
                S.INPUT_INVALID_ARGUMENT,
                f"input {item.id!r} needs exactly one of data.image, data.video, data.audio, "
                f"data.text (got {got})",
            )
        if not has_content(item.data, kinds[0]):
            field = "raw or url" if kinds[0] == "text" else "url or base64"
            return status(S.INPUT_INVALID_ARGUMENT, f"input {item.id!r}: data.{kinds[0]} needs {field}")
        problem = normalize_concepts(item.data)
        if problem is not None:
            return status(S.INPUT_INVALID_ARGUMENT, f"input {item.id!r}: {problem}")
        unknown = sorted(set(item.dataset_ids) - datasets)
        if unknown:
            return status(
                S.INPUT_INVALID_ARGUMENT,
                f"input {item.id!r}: dataset {', '.join(map(repr, unknown))} does not exist in this app "
                "(create it with PostDatasets first)",
            )
        if item.id in taken:
            if resolution != Conflict.SUFFIX:
                return status(S.INPUT_DUPLICATE, DUPLICATE_ID, description=DUPLICATE_ID)
            base, n = item.id, 1
            while f"{base}-{n}" in taken:
                n += 1
            item.id = f"{base}-{n}"
        return None

    def post_inputs(
        self, caller: Caller, request: service_pb2.PostInputsRequest
    ) -> service_pb2.MultiInputResponse:
        owner = caller.owner
        count = len(request.inputs)
        if not 1 <= count <= MAX_INPUTS_PER_CALL:
            raise ApiFailure(
                S.INPUT_INVALID_REQUEST,
                f"send 1 to {MAX_INPUTS_PER_CALL} inputs per PostInputs call, got {count}: "
                "split them into batches",
            )
        job_id = request.inputs_add_job_id or new_id()
        check_id(INPUTS_ADD_JOB, job_id)
        items = []
        for given in request.inputs:
            item = resources_pb2.Input()
            item.CopyFrom(given)
            item.id = item.id or new_id()
            items.append(item)
        accepted, skipped = [], 0
        # Checks and inserts in one transaction: concurrent posts cannot both take an id.
        with self._store.transaction() as conn:
            if self._records.get(INPUTS_ADD_JOB, owner, job_id, resources_pb2.InputsAddJob) is not None:
                raise ApiFailure(
                    S.INPUT_INVALID_REQUEST, f"inputs_add_job_id {job_id!r} is already used in this app"
                )
            taken = self._labels.input_ids_present(owner, [i.id for i in items])
            wanted = sorted({d for i in items for d in i.dataset_ids})
            datasets = self._records.existing_ids(DATASET, owner, wanted)
            for item in items:
                problem = self._problem(item, taken, datasets, request.input_id_conflict_resolution)
                if problem is None:
                    taken.add(item.id)
                    accepted.append(item)
                else:
                    item.status.CopyFrom(problem)
                    skip = request.input_id_conflict_resolution == Conflict.SKIP
                    skipped += problem.code == S.INPUT_DUPLICATE and skip
            job = self._create(conn, owner, job_id, accepted)
        self._indexes.touch(owner, [i.id for i in accepted])
        self._submit(owner, [i.id for i in accepted])
        response = service_pb2.MultiInputResponse(inputs=items, inputs_add_job=job)
        for shown in response.inputs:  # copies already: drop their uploaded bytes in place
            _drop_uploads(shown)
        response.status.CopyFrom(batch_status(count - len(accepted) - skipped, count, "inputs"))
        return response

    def _create(
        self, conn: sqlite3.Connection, owner: Owner, job_id: str, items: list[resources_pb2.Input]
    ) -> resources_pb2.InputsAddJob:
        job = resources_pb2.InputsAddJob(id=job_id)
        now = self._records.now()
        job.created_at.CopyFrom(timestamp(now))
        job.modified_at.CopyFrom(timestamp(now))
        self._records.save(conn, INPUTS_ADD_JOB, owner, job, created_ns=now)
        rows, memberships = [], []
        for item in items:
            now = self._records.now()
            stamped = timestamp(now)
            item.created_at.CopyFrom(stamped)
            item.modified_at.CopyFrom(stamped)
            item.status.CopyFrom(_PENDING)
            stored = item
            if item.dataset_ids:  # membership lives in clarifai_dataset_inputs
                stored = resources_pb2.Input()
                stored.CopyFrom(item)
                stored.ClearField("dataset_ids")
            kind = content_kinds(item.data)[0]
            rows.append((*owner, item.id, now, PENDING, job_id, kind, stored.SerializeToString()))
            memberships += [(*owner, dataset_id, item.id, now) for dataset_id in item.dataset_ids]
        # One statement per table for the whole request, not one per input.
        conn.executemany(
            "INSERT INTO clarifai_inputs (user_id, app_id, id, created_ns, status, job_id, kind, proto) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO clarifai_dataset_inputs (user_id, app_id, dataset_id, id, created_ns) "
            "VALUES (?, ?, ?, ?, ?)",
            memberships,
        )
        self._labels.sync_input_levels(conn, owner, items)  # every input has one, empty without labels
        return self._job_view(owner, job)

    # -- processing ----------------------------------------------------------------------------------

    def _submit(self, owner: Owner, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), CHUNK):
            self._ctx.workers.submit(self._run_chunk, owner, list(ids[start : start + CHUNK]))

    def _run_chunk(self, owner: Owner, ids: list[str]) -> None:
        try:
            self._process(owner, ids)
        except Exception as exc:  # a bug, not bad content: fail the inputs visibly, never silently
            log.exception("clarifai emulator: processing inputs %s failed", ids)
            failed = status(FAILED, f"the emulator failed to process this input: {type(exc).__name__}: {exc}")
            stuck = _ids_with_status(ids)
            self._indexes.touch(owner, self._set_status(owner, stuck, [*ids, IN_PROGRESS], failed))

    def _set_status(self, owner: Owner, where: str, params: list[Any], new: status_pb2.Status) -> list[str]:
        """Give the app's inputs that match `where` the status `new` (dropping any uploaded bytes);
        returns their ids."""
        with self._store.transaction() as conn:
            rows = conn.execute(
                f"SELECT id, proto FROM clarifai_inputs WHERE {IN_APP} AND {where}", [*owner, *params]
            ).fetchall()
            for row in rows:
                item = _public(resources_pb2.Input.FromString(row["proto"]))
                item.status.CopyFrom(new)
                conn.execute(
                    f"UPDATE clarifai_inputs SET status = ?, proto = ? WHERE {IN_APP} AND id = ?",
                    (new.code, item.SerializeToString(), *owner, row["id"]),
                )
        return [r["id"] for r in rows]

    def _process(self, owner: Owner, ids: list[str]) -> None:
        if self._ctx.closed.is_set():
            return
        with self._store.transaction() as conn:
            rows = conn.execute(
                f"SELECT id, kind, proto FROM clarifai_inputs WHERE {IN_APP} AND {_ids_with_status(ids)}",
                [*owner, *ids, PENDING],
            ).fetchall()
            # Raw text needs no fetch and no decoding: it is done here, in the transaction that
            # claims it (one read and one write per input instead of two of each).
            instant: list[tuple[resources_pb2.Input, Outcome]] = []
            later: list[tuple[resources_pb2.Input, str]] = []
            for row in rows:
                item, kind = resources_pb2.Input.FromString(row["proto"]), row["kind"]
                outcome = instant_outcome(item, kind)
                if outcome is not None:
                    instant.append((item, outcome))
                else:
                    later.append((item, kind))
            self._finish(conn, owner, instant)
            if later:
                later_ids = [item.id for item, _ in later]
                conn.execute(
                    f"UPDATE clarifai_inputs SET status = ? WHERE {IN_APP} AND {_ids_with_status(later_ids)}",
                    [IN_PROGRESS, *owner, *later_ids, PENDING],
                )
        if later:
            outcomes = [process_input(item, kind) for item, kind in later]
            if self._ctx.closed.is_set():
                return  # left IN_PROGRESS: a file-backed emulator resumes them on restart
            with self._store.transaction() as conn:
                self._finish(conn, owner, self._current(conn, owner, outcomes))
        self._indexes.touch(owner, [r["id"] for r in rows])

    @staticmethod
    def _current(
        conn: sqlite3.Connection, owner: Owner, outcomes: Sequence[Outcome]
    ) -> list[tuple[resources_pb2.Input, Outcome]]:
        """Each outcome with its input as stored now (labels may have been patched while it was
        processed; inputs deleted or cancelled meanwhile are left out)."""
        ids = [outcome.input.id for outcome in outcomes]
        current_protos = {
            row["id"]: row["proto"]
            for row in conn.execute(
                f"SELECT id, proto FROM clarifai_inputs WHERE {IN_APP} AND {_ids_with_status(ids)}",
                [*owner, *ids, IN_PROGRESS],
            )
        }
        return [
            (resources_pb2.Input.FromString(current_protos[o.input.id]), o)
            for o in outcomes
            if o.input.id in current_protos
        ]

    def _finish(
        self, conn: sqlite3.Connection, owner: Owner, done: Sequence[tuple[resources_pb2.Input, Outcome]]
    ) -> None:
        """Store processed inputs over their `current` form: only content and status change.
        One statement of each kind for the lot, not one per input."""
        updates, blobs = [], []
        for current, outcome in done:
            if outcome.input is not current:
                getattr(current.data, outcome.kind).CopyFrom(getattr(outcome.input.data, outcome.kind))
            current.status.CopyFrom(outcome.status)
            current.modified_at.CopyFrom(timestamp(self._records.now()))
            vector = None if outcome.vector is None else outcome.vector.astype(np.float32).tobytes()
            sha = outcome.sha
            updates.append(
                (outcome.status.code, sha, vector, current.SerializeToString(), *owner, outcome.input.id)
            )
            if outcome.content is not None:
                blobs.append((sha, outcome.content))
        conn.executemany(
            "UPDATE clarifai_inputs SET status = ?, content_sha = ?, vector = ?, proto = ? "
            f"WHERE {IN_APP} AND id = ?",
            updates,
        )
        conn.executemany("INSERT OR IGNORE INTO clarifai_blobs (sha, data) VALUES (?, ?)", blobs)

    def resume(self) -> None:
        """Process inputs left pending or in progress by a previous run (file-backed store)."""
        with self._store.transaction() as conn:
            conn.execute("UPDATE clarifai_inputs SET status = ? WHERE status = ?", (PENDING, IN_PROGRESS))
            rows = conn.execute(
                "SELECT user_id, app_id, id FROM clarifai_inputs WHERE status = ? "
                "ORDER BY user_id, app_id, created_ns",
                (PENDING,),
            ).fetchall()
        by_app: dict[Owner, list[str]] = {}
        for row in rows:
            by_app.setdefault(Owner(row["user_id"], row["app_id"]), []).append(row["id"])
        for owner, ids in by_app.items():
            self._submit(owner, ids)

    # -- jobs ----------------------------------------------------------------------------------------

    def _job_view(self, owner: Owner, job: resources_pb2.InputsAddJob) -> resources_pb2.InputsAddJob:
        counts = {
            r["status"]: r["n"]
            for r in self._store.query(
                f"SELECT status, COUNT(*) AS n FROM clarifai_inputs WHERE {IN_APP} AND job_id = ? "
                "GROUP BY status",
                (*owner, job.id),
            )
        }
        progress = job.progress
        progress.pending_count = counts.pop(PENDING, 0)
        progress.in_progress_count = counts.pop(IN_PROGRESS, 0)
        progress.success_count = counts.pop(SUCCESS, 0)
        progress.failed_count = sum(counts.values())
        if job.status.code != S.JOB_CANCELLED:
            if progress.pending_count + progress.in_progress_count == 0:
                code = S.JOB_COMPLETED
            elif progress.in_progress_count + progress.success_count + progress.failed_count:
                code = S.JOB_RUNNING
            else:
                code = S.JOB_QUEUED
            job.status.CopyFrom(status(code))
        return job

    def get_inputs_add_job(
        self, caller: Caller, request: service_pb2.GetInputsAddJobRequest
    ) -> service_pb2.SingleInputsAddJobResponse:
        job = self._records.require(INPUTS_ADD_JOB, caller.owner, request.id, resources_pb2.InputsAddJob)
        return service_pb2.SingleInputsAddJobResponse(inputs_add_job=self._job_view(caller.owner, job))

    def list_inputs_add_jobs(
        self, caller: Caller, request: service_pb2.ListInputsAddJobsRequest
    ) -> service_pb2.MultiInputsAddJobResponse:
        jobs = self._records.listing(
            INPUTS_ADD_JOB, caller.owner, resources_pb2.InputsAddJob, request_page(request)
        )
        return service_pb2.MultiInputsAddJobResponse(
            inputs_add_jobs=[self._job_view(caller.owner, job) for job in jobs]
        )

    def cancel_inputs_add_job(
        self, caller: Caller, request: service_pb2.CancelInputsAddJobRequest
    ) -> service_pb2.SingleInputsAddJobResponse:
        owner = caller.owner
        job = self._records.require(INPUTS_ADD_JOB, owner, request.id, resources_pb2.InputsAddJob)
        if self._job_view(owner, job).status.code == S.JOB_COMPLETED:
            return service_pb2.SingleInputsAddJobResponse(inputs_add_job=job)
        failed = status(FAILED, f"inputs add job {job.id!r} was cancelled before this input was processed")
        cancelled = self._set_status(owner, "job_id = ? AND status = ?", [job.id, PENDING], failed)
        job.status.CopyFrom(status(S.JOB_CANCELLED))
        job.modified_at.CopyFrom(timestamp(self._records.now()))
        self._records.update(INPUTS_ADD_JOB, owner, job)
        self._indexes.touch(owner, cancelled)
        return service_pb2.SingleInputsAddJobResponse(inputs_add_job=self._job_view(owner, job))

    # -- reading ---------------------------------------------------------------------------------------

    def render(self, owner: Owner, rows: Sequence[Any]) -> list[resources_pb2.Input]:
        items = self._views.render(owner, rows)
        for item, row in zip(items, rows, strict=True):
            if item.status.code != row["status"]:  # the column wins (IN_PROGRESS is not in the proto)
                item.status.CopyFrom(status(row["status"]))
            if row["status"] in (PENDING, IN_PROGRESS):
                item.CopyFrom(_public(item))
        return items

    def get_input(
        self, caller: Caller, request: service_pb2.GetInputRequest
    ) -> service_pb2.SingleInputResponse:
        check_id(INPUT, request.input_id)
        rows = self._views.rows(caller.owner, [request.input_id])
        if not rows:
            raise missing(INPUT, [request.input_id], self._records.where(caller.owner))
        return service_pb2.SingleInputResponse(input=self.render(caller.owner, list(rows.values()))[0])

    def list_inputs(
        self, caller: Caller, request: service_pb2.ListInputsRequest
    ) -> service_pb2.MultiInputResponse:
        owner = caller.owner
        where, params = [IN_APP], list[Any](owner)
        if request.ids:
            where.append(f"id IN ({placeholders(request.ids)})")
            params += list(request.ids)
        if request.status.code:
            where.append("status = ?")
            params.append(int(request.status.code))
        rows = self._records.page_rows("clarifai_inputs", " AND ".join(where), params, request_page(request))
        return service_pb2.MultiInputResponse(inputs=self.render(owner, rows))

    def get_input_count(
        self, caller: Caller, request: service_pb2.GetInputCountRequest
    ) -> service_pb2.SingleInputCountResponse:
        counts = {
            r["status"]: r["n"]
            for r in self._store.query(
                f"SELECT status, COUNT(*) AS n FROM clarifai_inputs WHERE {IN_APP} GROUP BY status",
                caller.owner,
            )
        }
        result = resources_pb2.InputCount(
            processed=counts.pop(SUCCESS, 0),
            to_process=counts.pop(PENDING, 0),
            processing=counts.pop(IN_PROGRESS, 0),
        )
        result.errors = sum(counts.values())
        return service_pb2.SingleInputCountResponse(counts=result)

    # -- changing ------------------------------------------------------------------------------------

    def patch_inputs(
        self, caller: Caller, request: service_pb2.PatchInputsRequest
    ) -> service_pb2.MultiInputResponse:
        owner = caller.owner
        action = action_of(request.action, S.INPUT_INVALID_REQUEST)
        ids = [i.id for i in request.inputs]
        if not ids or not all(ids):
            raise ApiFailure(S.INPUT_INVALID_REQUEST, "every input to patch needs its id")
        with self._store.transaction() as conn:
            rows = {
                r["id"]: r
                for r in conn.execute(
                    f"SELECT id, proto FROM clarifai_inputs WHERE {IN_APP} AND id IN ({placeholders(ids)})",
                    [*owner, *ids],
                )
            }
            absent = [i for i in ids if i not in rows]
            if absent:
                raise missing(INPUT, absent, self._records.where(owner))
            for given in request.inputs:
                self._patch_one(
                    conn, owner, resources_pb2.Input.FromString(rows[given.id]["proto"]), given, action
                )
        self._indexes.touch(owner, ids)
        patched = self._views.rows(owner, ids)
        return service_pb2.MultiInputResponse(
            inputs=self.render(owner, [patched[i] for i in ids if i in patched])
        )

    def _patch_one(
        self,
        conn: sqlite3.Connection,
        owner: Owner,
        item: resources_pb2.Input,
        given: resources_pb2.Input,
        action: str,
    ) -> None:
        patch = resources_pb2.Data()
        patch.CopyFrom(given.data)
        for kind in content_kinds(patch):
            patch.ClearField(kind)  # content is immutable; labels and metadata change
        problem = normalize_concepts(patch)
        if problem is not None:
            raise ApiFailure(S.INPUT_INVALID_ARGUMENT, f"input {given.id!r}: {problem}")
        edit_data(item.data, patch, action)
        item.modified_at.CopyFrom(timestamp(self._records.now()))
        conn.execute(
            f"UPDATE clarifai_inputs SET proto = ? WHERE {IN_APP} AND id = ?",
            (item.SerializeToString(), *owner, item.id),
        )
        self._labels.sync_input_level(conn, owner, item)
        self._labels.ensure_concepts(conn, owner, label_concepts(item.data))

    def delete_inputs(
        self, caller: Caller, request: service_pb2.DeleteInputsRequest
    ) -> status_pb2.BaseResponse:
        self.delete_ids(caller.owner, list(dict.fromkeys(request.ids)))
        return status_pb2.BaseResponse()

    def delete_ids(self, owner: Owner, ids: Sequence[str]) -> None:
        """Delete inputs with their annotations and dataset memberships (unknown ids are ignored),
        all in one transaction however many there are."""
        if not ids:
            return
        shas: list[str] = []
        with self._store.transaction() as conn:
            for start in range(0, len(ids), DELETE_CHUNK):
                chunk = list(ids[start : start + DELETE_CHUNK])
                marks = placeholders(chunk)
                shas += [
                    r["content_sha"]
                    for r in conn.execute(
                        f"SELECT content_sha FROM clarifai_inputs WHERE {IN_APP} AND id IN ({marks}) "
                        "AND content_sha IS NOT NULL",
                        [*owner, *chunk],
                    )
                ]
                for table, column in (
                    ("clarifai_inputs", "id"),
                    ("clarifai_annotations", "input_id"),
                    ("clarifai_dataset_inputs", "id"),
                ):
                    conn.execute(
                        f"DELETE FROM {table} WHERE {IN_APP} AND {column} IN ({marks})",
                        [*owner, *chunk],
                    )
            unique = sorted(set(shas))
            for start in range(0, len(unique), DELETE_CHUNK):
                drop_unused_blobs(conn, unique[start : start + DELETE_CHUNK])
        self._indexes.touch(owner, ids)

    # -- search --------------------------------------------------------------------------------------

    def _input_vector(self, owner: Owner, input_id: str) -> tuple[NDArray[np.float32], str]:
        row = self._store.one(
            f"SELECT kind, vector, proto FROM clarifai_inputs WHERE {IN_APP} AND id = ?",
            (*owner, input_id),
        )
        if row is None:
            raise missing(INPUT, [input_id], self._records.where(owner))
        vector = input_vector(row["kind"], row["vector"], resources_pb2.Input.FromString(row["proto"]))
        if vector is None:
            raise ApiFailure(
                S.SEARCH_BY_NOT_FULLY_INDEXED_INPUT,
                f"input {input_id!r} has no embedding ({row['kind']} inputs are embedded once processed "
                "successfully; video and audio are not embedded)",
            )
        return vector, row["kind"]

    def query(
        self, owner: Owner, proto: resources_pb2.Search
    ) -> tuple[list[search.Rank], list[search.Filter], search.Metric]:
        """The engine's form of a Search proto (ApiFailure when it cannot be run)."""
        resolver = Resolver(
            fetch=fetch,
            input_vector=lambda input_id: self._input_vector(owner, input_id),
            predictions=functools.cache(lambda: self._predictions.of_app(owner)),
        )
        metric = metric_of(proto)
        return ranks_of(proto.query, resolver), filters_of(proto.query, resolver), metric

    def all_hits(self, owner: Owner, proto: resources_pb2.Search) -> list[str]:
        """Ids of every hit of a search, best first."""
        ranks, filters, metric = self.query(owner, proto)
        return [hit.input_id for hit in self._every_hit(owner, ranks, filters, metric)]

    def _every_hit(
        self, owner: Owner, ranks: list[search.Rank], filters: list[search.Filter], metric: search.Metric
    ) -> list[search.Hit]:
        index = self._indexes.get(owner)
        hits: list[search.Hit] = []
        page = 1
        while True:
            batch = self._run(index, ranks, filters, metric, page, search.MAX_PER_PAGE)
            hits += batch
            if len(batch) < search.MAX_PER_PAGE:
                return hits
            page += 1

    @staticmethod
    def _run(
        index: search.SearchIndex,
        ranks: list[search.Rank],
        filters: list[search.Filter],
        metric: search.Metric,
        page: int,
        per_page: int,
    ) -> list[search.Hit]:
        try:
            return search.search(index, ranks, filters, metric, page=page, per_page=per_page)
        except ValueError as exc:  # e.g. image bytes that do not decode, a blank text query
            raise invalid(str(exc)) from None

    def post_inputs_searches(
        self, caller: Caller, request: service_pb2.PostInputsSearchesRequest
    ) -> service_pb2.MultiSearchResponse:
        if len(request.searches) != 1:
            raise invalid(f"send exactly one search per request, got {len(request.searches)}")
        owner = caller.owner
        proto = request.searches[0]
        ranks, filters, metric = self.query(owner, proto)
        index = self._indexes.get(owner)
        response = service_pb2.MultiSearchResponse(id=new_id(), query=proto.query, searches=[proto])
        if request.only_count:
            total = search.count(index, ranks, filters, metric)
            response.hit_counts.add(estimated_total=total)
            return response
        page = page_of(request.pagination.page, request.pagination.per_page)
        hits = self._run(index, ranks, filters, metric, page.page, page.per_page)
        rows = self._views.rows(owner, [h.input_id for h in hits])
        rendered = {i.id: i for i in self.render(owner, list(rows.values()))}
        for hit in hits:
            if hit.input_id in rendered:  # deleted since the index snapshot: skip
                response.hits.add(
                    score=hit.score, input=rendered[hit.input_id], user_id=owner.user_id, app_id=owner.app_id
                )
        return response

    def post_annotations_searches(
        self, caller: Caller, request: service_pb2.PostAnnotationsSearchesRequest
    ) -> service_pb2.MultiSearchResponse:
        """Annotations that pass every filter (see `queries.annotation_filters_of`), each a hit
        with its input. Ranks rank the annotations' inputs as PostInputsSearches does (an
        annotation scores what its input scores; annotations of inputs that are not hits are
        not either), ties and unranked searches newest annotation first. Empty ranks and filters
        mean "none"; annotations of every status are searched."""
        if len(request.searches) != 1:
            raise invalid(f"send exactly one search per request, got {len(request.searches)}")
        owner = caller.owner
        proto = request.searches[0]
        wanted = annotation_filters_of(proto.query)
        ranking = resources_pb2.Search(algorithm=proto.algorithm, metric=proto.metric)
        ranking.query.ranks.extend(proto.query.ranks)
        ranks, rank_filters, metric = self.query(owner, ranking)
        scores: dict[str, float] | None = None
        if ranks or rank_filters:
            scores = {hit.input_id: hit.score for hit in self._every_hit(owner, ranks, rank_filters, metric)}
        passing = [
            None
            if flt.inputs is None
            else set(
                self.all_hits(owner, resources_pb2.Search(query=resources_pb2.Query(filters=[flt.inputs])))
            )
            for flt in wanted
        ]
        found: list[tuple[float, resources_pb2.Annotation]] = []
        for row in self._store.query(
            f"SELECT input_id, proto FROM clarifai_annotations WHERE {IN_APP} ORDER BY {NEWEST_FIRST}", owner
        ):
            if scores is not None and row["input_id"] not in scores:
                continue
            annotation = resources_pb2.Annotation.FromString(row["proto"])
            held = (
                flt.holds(annotation, ids is None or annotation.input_id in ids)
                for flt, ids in zip(wanted, passing, strict=True)
            )
            if all(held):
                found.append((1.0 if scores is None else scores[row["input_id"]], annotation))
        if scores is not None:
            found.sort(key=lambda hit: -hit[0])  # stable: newest first among equal scores
        page = page_of(request.pagination.page, request.pagination.per_page)
        chosen = found[page.offset : page.offset + page.per_page]
        rows = self._views.rows(owner, sorted({a.input_id for _, a in chosen}))
        rendered = {i.id: i for i in self.render(owner, list(rows.values()))}
        response = service_pb2.MultiSearchResponse(id=new_id(), query=proto.query, searches=[proto])
        for score, annotation in chosen:
            if annotation.input_id in rendered:  # deleted meanwhile: skip
                response.hits.add(
                    score=score,
                    input=rendered[annotation.input_id],
                    annotation=annotation,
                    user_id=owner.user_id,
                    app_id=owner.app_id,
                )
        return response
