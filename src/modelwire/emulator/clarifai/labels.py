"""Labels of the Clarifai emulator: concepts and annotations.

Every concept used in a label (input data, annotation data or a region's data) becomes an app
concept (name defaulting to the id). An input's own `data.concepts` and `data.regions` are its
input-level annotation (`input_level` true), created with every input, as in Clarifai (empty,
`data {}`, for an input added without labels; ANNOTATION_SUCCESS, the app owner's `user_id`) and
kept equal to it by PatchInputs, PatchAnnotations and DeleteAnnotations.

Patch actions (`action`): "merge" (default) adds or updates concepts by id, regions by id and
metadata keys (recursively; a null value deletes the key); "overwrite" replaces the concepts,
regions and metadata that the patch sets; "remove" deletes the listed concepts and regions (by id)
and metadata keys. Deletes ignore unknown ids, so they are safe to retry. DeleteAnnotations needs
`input_ids`: alone, every annotation of those inputs goes; with `ids`, one input id per annotation
id (same number and order, as the real API takes them).

ListAnnotations lists successful annotations (all statuses with `list_all_annotations`, or the
given `statuses`); every annotation here is the app owner's, made by hand, so filters on other
`user_ids`, on `model_version_ids` or on a `task_id` match nothing. PatchConcepts supports the
"overwrite" action (name, language, definition, metadata). PostConceptsSearches matches concept
names case-insensitively, `*` matching any run of characters, in `language` when given.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import ApiFailure, Code, S, status
from modelwire.emulator.clarifai.indexing import Indexes, label_concepts
from modelwire.emulator.clarifai.queries import struct_dict
from modelwire.emulator.clarifai.records import (
    ANNOTATION,
    CONCEPT,
    IN_APP,
    NEWEST_FIRST,
    Owner,
    check_id,
    missing,
    page_of,
    placeholders,
    request_page,
    stamp,
    timestamp,
)
from modelwire.emulator.ids import uuid4_hex

MERGE, OVERWRITE, REMOVE = "merge", "overwrite", "remove"
ACTIONS = (MERGE, OVERWRITE, REMOVE)
DEFAULT_LANGUAGE = "en"


def new_id() -> str:
    return uuid4_hex()


def action_of(action: str, code: Code) -> str:
    chosen = action or MERGE
    if chosen not in ACTIONS:
        raise ApiFailure(code, f"action {action!r} is unknown: use 'merge', 'overwrite' or 'remove'")
    return chosen


def batch_status(failed: int, total: int, what: str) -> Any:
    """SUCCESS, MIXED_STATUS when some items failed, FAILURE when all did."""
    if not failed:
        return status(S.SUCCESS)
    if failed < total:
        return status(S.MIXED_STATUS, f"{failed} of {total} {what} failed; see each item's status")
    return status(S.FAILURE, f"all {total} {what} failed; see each item's status")


# -- pure label edits --------------------------------------------------------------------------------


def normalize_concepts(data: resources_pb2.Data) -> str | None:
    """Give id-less concepts their name as id; a message when a concept has neither."""
    for concept in label_concepts(data):
        if not concept.id:
            if not concept.name:
                return "a concept needs an id (or a name, used as its id)"
            concept.id = concept.name
    return None


def _merge_dict(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_dict(merged[key], value)
        else:
            merged[key] = value
    return merged


def _remove_keys(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    kept = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and value and isinstance(kept.get(key), dict):
            kept[key] = _remove_keys(kept[key], value)
        else:
            kept.pop(key, None)
    return kept


def edit_struct(target: struct_pb2.Struct, patch: struct_pb2.Struct, action: str) -> None:
    current = struct_dict(target)
    change = struct_dict(patch)
    if action == MERGE:
        result = _merge_dict(current, change)
    elif action == REMOVE:
        result = _remove_keys(current, change)
    else:
        result = {k: v for k, v in change.items() if v is not None}
    target.Clear()
    target.update(result)


def _edit_by_id(target: RepeatedCompositeFieldContainer[Any], patch: Sequence[Any], action: str) -> None:
    if action == OVERWRITE:
        del target[:]
        target.extend(patch)
        return
    ids = {item.id for item in patch}
    kept = [item for item in target if item.id not in ids]
    del target[:]
    target.extend(kept)
    if action == MERGE:
        target.extend(patch)


def edit_data(target: resources_pb2.Data, patch: resources_pb2.Data, action: str) -> None:
    """Apply a patch to a label's data (concepts, regions, metadata, geo)."""
    for region in patch.regions:
        region.id = region.id or new_id()
    if patch.concepts or action != OVERWRITE:
        _edit_by_id(target.concepts, list(patch.concepts), action)
    if patch.regions or action != OVERWRITE:
        _edit_by_id(target.regions, list(patch.regions), action)
    if patch.HasField("metadata"):
        edit_struct(target.metadata, patch.metadata, action)
    if patch.HasField("geo"):
        if action == REMOVE:
            target.ClearField("geo")
        else:
            target.geo.CopyFrom(patch.geo)


def is_empty(data: resources_pb2.Data) -> bool:
    return not (data.concepts or data.regions or (data.HasField("metadata") and data.metadata.fields))


# -- storage helpers shared with inputs ----------------------------------------------------------------


_SAVE_ANNOTATION = """INSERT INTO clarifai_annotations
           (user_id, app_id, id, input_id, created_ns, status, input_level, proto)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, app_id, id) DO UPDATE SET
           status = excluded.status, proto = excluded.proto"""
_ANNOTATION_SUCCESS = status(S.ANNOTATION_SUCCESS)  # only ever copied from


def _annotation_row(
    owner: Owner, annotation: resources_pb2.Annotation, created_ns: int
) -> tuple[str, str, str, str, int, int, int, bytes]:
    """The values of `_SAVE_ANNOTATION` for one annotation."""
    return (
        owner.user_id,
        owner.app_id,
        annotation.id,
        annotation.input_id,
        created_ns,
        annotation.status.code,
        int(annotation.input_level),
        annotation.SerializeToString(),
    )


class Labels:
    """Concept and annotation storage used by the inputs and labels RPCs."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._records = ctx.records

    def ensure_concepts(
        self, conn: sqlite3.Connection, owner: Owner, concepts: Iterable[resources_pb2.Concept]
    ) -> None:
        """Create the app concepts that labels use and the app does not have yet."""
        for concept in concepts:
            now = self._records.now()
            app_concept = resources_pb2.Concept(
                id=concept.id,
                name=concept.name or concept.id,
                value=1.0,
                language=concept.language or DEFAULT_LANGUAGE,
            )
            stamp(app_concept, owner, now)
            self._records.save(conn, CONCEPT, owner, app_concept, created_ns=now, replace=False)

    @staticmethod
    def save_annotation(
        conn: sqlite3.Connection, owner: Owner, annotation: resources_pb2.Annotation, created_ns: int
    ) -> None:
        conn.execute(_SAVE_ANNOTATION, _annotation_row(owner, annotation, created_ns))

    def sync_input_level(self, conn: sqlite3.Connection, owner: Owner, item: resources_pb2.Input) -> None:
        """Make the input-level annotation hold the input's own concepts and regions (creating
        it, empty for an input without labels, when the input has none)."""
        self.sync_input_levels(conn, owner, [item])

    def sync_input_levels(
        self, conn: sqlite3.Connection, owner: Owner, items: Sequence[resources_pb2.Input]
    ) -> None:
        """`sync_input_level` for inputs of distinct ids (at most a request's worth), with one query
        for their annotations and one statement to store them."""
        found: dict[str, sqlite3.Row] = {}
        ids = [item.id for item in items]
        for row in conn.execute(
            f"SELECT input_id, proto, created_ns FROM clarifai_annotations WHERE {IN_APP} "
            f"AND input_id IN ({placeholders(ids)}) AND input_level = 1",
            (*owner, *ids),
        ):
            found.setdefault(row["input_id"], row)  # the first, as a query per input would give
        rows = []
        for item in items:
            row = found.get(item.id)
            now = self._records.now()
            stamped = timestamp(now)
            if row is None:
                annotation = resources_pb2.Annotation(
                    id=new_id(),
                    input_id=item.id,
                    input_level=True,
                    user_id=owner.user_id,
                    status=_ANNOTATION_SUCCESS,
                    created_at=stamped,
                )
                created = now
            else:
                annotation = resources_pb2.Annotation.FromString(row["proto"])
                created = row["created_ns"]
                annotation.data.ClearField("concepts")
                annotation.data.ClearField("regions")
            annotation.data.SetInParent()  # `data {}` even without labels, as the real API sends
            if item.data.concepts or item.data.regions:
                annotation.data.concepts.extend(item.data.concepts)
                annotation.data.regions.extend(item.data.regions)
                self.ensure_concepts(conn, owner, label_concepts(item.data))
            annotation.modified_at.CopyFrom(stamped)
            rows.append(_annotation_row(owner, annotation, created))
        conn.executemany(_SAVE_ANNOTATION, rows)

    def apply_to_input(
        self, conn: sqlite3.Connection, owner: Owner, input_id: str, labels: resources_pb2.Data | None
    ) -> None:
        """Copy an input-level annotation's concepts and regions (None: cleared) back to its input."""
        row = conn.execute(
            f"SELECT proto FROM clarifai_inputs WHERE {IN_APP} AND id = ?", (*owner, input_id)
        ).fetchone()
        if row is None:
            return
        item = resources_pb2.Input.FromString(row["proto"])
        item.data.ClearField("concepts")
        item.data.ClearField("regions")
        if labels is not None:
            item.data.concepts.extend(labels.concepts)
            item.data.regions.extend(labels.regions)
        item.modified_at.CopyFrom(timestamp(self._records.now()))
        conn.execute(
            f"UPDATE clarifai_inputs SET proto = ? WHERE {IN_APP} AND id = ?",
            (item.SerializeToString(), *owner, input_id),
        )

    def input_ids_present(self, owner: Owner, ids: Sequence[str]) -> set[str]:
        return {r["id"] for r in self._records.rows_in("clarifai_inputs", owner, "id", ids, "id")}

    def annotation_rows(self, owner: Owner, ids: Sequence[str]) -> dict[str, Any]:
        return {r["id"]: r for r in self._records.rows_in("clarifai_annotations", owner, "id", ids)}


def _glob(name: str) -> str:
    """A concept-name query as a regex: `*` matches any run of characters, the rest is literal."""
    return "^" + ".*".join(re.escape(part) for part in name.split("*")) + "$"


class LabelsArea:
    """Annotations and concepts RPCs."""

    def __init__(self, ctx: Context, labels: Labels, indexes: Indexes) -> None:
        self._ctx = ctx
        self._records = ctx.records
        self._labels = labels
        self._indexes = indexes

    def routes(self) -> dict[str, Route]:
        return {
            "PostAnnotations": Route(Scope.APP, self.post_annotations),
            "ListAnnotations": Route(Scope.APP, self.list_annotations),
            "PatchAnnotations": Route(Scope.APP, self.patch_annotations),
            "DeleteAnnotations": Route(Scope.APP, self.delete_annotations),
            "ListConcepts": Route(Scope.APP, self.list_concepts),
            "GetConcept": Route(Scope.APP, self.get_concept),
            "PostConcepts": Route(Scope.APP, self.post_concepts),
            "PatchConcepts": Route(Scope.APP, self.patch_concepts),
            "PostConceptsSearches": Route(Scope.APP, self.post_concepts_searches),
        }

    # -- annotations -----------------------------------------------------------------------------------

    def _check_annotation(
        self, annotation: resources_pb2.Annotation, inputs: set[str], taken: set[str]
    ) -> status_pb2.Status | None:
        try:
            check_id(ANNOTATION, annotation.id)
        except ApiFailure as failure:
            return failure.status()
        if annotation.id in taken:
            return status(S.ANNOTATION_INVALID_ARGUMENT, f"annotation id {annotation.id!r} already exists")
        if annotation.input_id not in inputs:
            return status(S.INPUT_DOES_NOT_EXIST, f"input {annotation.input_id!r} does not exist in this app")
        problem = normalize_concepts(annotation.data)
        return None if problem is None else status(S.ANNOTATION_INVALID_ARGUMENT, problem)

    def post_annotations(
        self, caller: Caller, request: service_pb2.PostAnnotationsRequest
    ) -> service_pb2.MultiAnnotationResponse:
        if not request.annotations:
            raise ApiFailure(S.ANNOTATION_INVALID_ARGUMENT, "no annotations given: send at least one")
        owner = caller.owner
        items = [resources_pb2.Annotation() for _ in request.annotations]
        for item, given in zip(items, request.annotations, strict=True):
            item.CopyFrom(given)
            item.id = item.id or new_id()
        good: list[resources_pb2.Annotation] = []
        # Checks and inserts in one transaction: concurrent posts cannot both take an id.
        with self._records.store.transaction() as conn:
            taken = set(self._labels.annotation_rows(owner, [a.id for a in items]))
            inputs = self._labels.input_ids_present(owner, sorted({a.input_id for a in items}))
            for item in items:
                problem = self._check_annotation(item, inputs, taken)
                if problem is not None:
                    item.status.CopyFrom(problem)
                    continue
                taken.add(item.id)
                item.input_level = False
                item.user_id = owner.user_id  # who made it (every annotation here is the owner's)
                item.status.CopyFrom(status(S.ANNOTATION_SUCCESS))
                good.append(item)
            for item in good:
                now = self._records.now()
                item.created_at.CopyFrom(timestamp(now))
                item.modified_at.CopyFrom(timestamp(now))
                self._labels.save_annotation(conn, owner, item, now)
                self._labels.ensure_concepts(conn, owner, label_concepts(item.data))
        self._indexes.touch(owner, {a.input_id for a in good})
        response = service_pb2.MultiAnnotationResponse(annotations=items)
        response.status.CopyFrom(batch_status(len(items) - len(good), len(items), "annotations"))
        return response

    def list_annotations(
        self, caller: Caller, request: service_pb2.ListAnnotationsRequest
    ) -> service_pb2.MultiAnnotationResponse:
        owner = caller.owner
        where = [IN_APP]
        params: list[Any] = list(owner)
        for column, values in (("id", list(request.ids)), ("input_id", list(request.input_ids))):
            if values:
                where.append(f"{column} IN ({placeholders(values)})")
                params += values
        codes = [int(s.code) for s in request.statuses if s.code]
        if codes:
            where.append(f"status IN ({placeholders(codes)})")
            params += codes
        elif not request.list_all_annotations:  # by default only successful (trusted) annotations
            where.append("status = ?")
            params.append(S.ANNOTATION_SUCCESS)
        if (
            (request.user_ids and owner.user_id not in request.user_ids)
            or request.model_version_ids
            or request.task_id
        ):
            return (
                service_pb2.MultiAnnotationResponse()
            )  # every annotation here is the user's own, made by hand
        rows = self._records.page_rows(
            "clarifai_annotations", " AND ".join(where), params, request_page(request)
        )
        return service_pb2.MultiAnnotationResponse(
            annotations=[resources_pb2.Annotation.FromString(r["proto"]) for r in rows]
        )

    def patch_annotations(
        self, caller: Caller, request: service_pb2.PatchAnnotationsRequest
    ) -> service_pb2.MultiAnnotationResponse:
        owner = caller.owner
        action = action_of(request.action, S.ANNOTATION_INVALID_ARGUMENT)
        ids = [a.id for a in request.annotations]
        if not ids or not all(ids):
            raise ApiFailure(S.ANNOTATION_INVALID_ARGUMENT, "every annotation to patch needs its id")
        rows = self._labels.annotation_rows(owner, ids)
        absent = [i for i in ids if i not in rows]
        if absent:
            raise missing(ANNOTATION, absent, self._records.where(owner))
        patched: list[resources_pb2.Annotation] = []
        with self._records.store.transaction() as conn:
            for given in request.annotations:
                patch = resources_pb2.Data()
                patch.CopyFrom(given.data)
                problem = normalize_concepts(patch)
                if problem is not None:
                    raise ApiFailure(S.ANNOTATION_INVALID_ARGUMENT, f"annotation {given.id!r}: {problem}")
                annotation = resources_pb2.Annotation.FromString(rows[given.id]["proto"])
                edit_data(annotation.data, patch, action)
                if given.HasField("annotation_info"):
                    edit_struct(annotation.annotation_info, given.annotation_info, action)
                now = self._records.now()
                annotation.modified_at.CopyFrom(timestamp(now))
                self._store_patched(conn, owner, annotation, request.delete_if_empty_data)
                patched.append(annotation)
        self._indexes.touch(owner, {a.input_id for a in patched})
        return service_pb2.MultiAnnotationResponse(annotations=patched)

    def _store_patched(
        self,
        conn: sqlite3.Connection,
        owner: Owner,
        annotation: resources_pb2.Annotation,
        delete_if_empty: bool,
    ) -> None:
        if delete_if_empty and is_empty(annotation.data):
            conn.execute(
                f"DELETE FROM clarifai_annotations WHERE {IN_APP} AND id = ?",
                (*owner, annotation.id),
            )
            if annotation.input_level:
                self._labels.apply_to_input(conn, owner, annotation.input_id, None)
            return
        self._labels.save_annotation(conn, owner, annotation, 0)
        self._labels.ensure_concepts(conn, owner, label_concepts(annotation.data))
        if annotation.input_level:
            self._labels.apply_to_input(conn, owner, annotation.input_id, annotation.data)

    def delete_annotations(
        self, caller: Caller, request: service_pb2.DeleteAnnotationsRequest
    ) -> status_pb2.BaseResponse:
        owner = caller.owner
        ids, input_ids = list(request.ids), list(request.input_ids)
        if not input_ids:
            raise ApiFailure(
                S.ANNOTATION_INVALID_ARGUMENT,
                "input_ids is required: list the inputs whose annotations to delete (with ids, one "
                "input id per annotation id)",
            )
        if ids and len(ids) != len(input_ids):
            raise ApiFailure(
                S.ANNOTATION_INVALID_ARGUMENT,
                f"ids and input_ids must pair up: got {len(ids)} annotation id(s) and "
                f"{len(input_ids)} input id(s)",
            )
        column, values = ("id", ids) if ids else ("input_id", input_ids)
        paired = dict(zip(ids, input_ids, strict=True)) if ids else {}
        wanted = "id, input_id, input_level"
        with self._records.store.transaction() as conn:
            rows = self._records.rows_in("clarifai_annotations", owner, column, values, wanted)
            # With ids, an annotation goes only when it is of the input paired with its id.
            doomed = [r for r in rows if not ids or paired.get(r["id"]) == r["input_id"]]
            gone = [r["id"] for r in doomed]
            for start in range(0, len(gone), 500):
                chunk = gone[start : start + 500]
                conn.execute(
                    f"DELETE FROM clarifai_annotations WHERE {IN_APP} AND id IN ({placeholders(chunk)})",
                    [*owner, *chunk],
                )
            for row in doomed:
                if row["input_level"]:
                    self._labels.apply_to_input(conn, owner, row["input_id"], None)
        self._indexes.touch(owner, {r["input_id"] for r in doomed})
        return status_pb2.BaseResponse()

    # -- concepts --------------------------------------------------------------------------------------

    def list_concepts(
        self, caller: Caller, request: service_pb2.ListConceptsRequest
    ) -> service_pb2.MultiConceptResponse:
        concepts = self._records.listing(CONCEPT, caller.owner, resources_pb2.Concept, request_page(request))
        return service_pb2.MultiConceptResponse(concepts=concepts)

    def get_concept(
        self, caller: Caller, request: service_pb2.GetConceptRequest
    ) -> service_pb2.SingleConceptResponse:
        concept = self._records.require(CONCEPT, caller.owner, request.concept_id, resources_pb2.Concept)
        return service_pb2.SingleConceptResponse(concept=concept)

    def post_concepts(
        self, caller: Caller, request: service_pb2.PostConceptsRequest
    ) -> service_pb2.MultiConceptResponse:
        def prepare(concept: resources_pb2.Concept) -> None:
            concept.name = concept.name or concept.id
            concept.language = concept.language or DEFAULT_LANGUAGE
            concept.value = 1.0

        created = self._records.create(CONCEPT, caller.owner, list(request.concepts), prepare=prepare)
        return service_pb2.MultiConceptResponse(concepts=created)

    def patch_concepts(
        self, caller: Caller, request: service_pb2.PatchConceptsRequest
    ) -> service_pb2.MultiConceptResponse:
        if request.action != OVERWRITE:
            raise ApiFailure(
                S.CONCEPTS_INVALID_REQUEST, f"action must be 'overwrite' (got {request.action!r})"
            )
        owner = caller.owner
        patched = []
        for given in request.concepts:
            concept = self._records.require(CONCEPT, owner, given.id, resources_pb2.Concept)
            for name in ("name", "language", "definition"):
                if getattr(given, name):
                    setattr(concept, name, getattr(given, name))
            if given.HasField("metadata"):
                concept.metadata.CopyFrom(given.metadata)
            patched.append(concept)
        for concept in patched:
            self._records.update(CONCEPT, owner, concept)
        self._indexes.drop(owner)  # names feed concept filters by name: rebuild on the next search
        return service_pb2.MultiConceptResponse(concepts=patched)

    def post_concepts_searches(
        self, caller: Caller, request: service_pb2.PostConceptsSearchesRequest
    ) -> service_pb2.MultiConceptResponse:
        query = request.concept_query
        pattern = re.compile(_glob(query.name or "*"), re.IGNORECASE)
        rows = self._records.store.query(
            f"SELECT proto FROM clarifai_objects WHERE kind = ? AND {IN_APP} ORDER BY {NEWEST_FIRST}",
            (CONCEPT.name, *caller.owner),
        )
        matches = []
        for row in rows:
            concept = resources_pb2.Concept.FromString(row["proto"])
            language_ok = not query.language or (concept.language or DEFAULT_LANGUAGE) == query.language
            if language_ok and pattern.match(concept.name or concept.id):
                matches.append(concept)
        page = page_of(request.pagination.page, request.pagination.per_page)
        return service_pb2.MultiConceptResponse(concepts=matches[page.offset : page.offset + page.per_page])
