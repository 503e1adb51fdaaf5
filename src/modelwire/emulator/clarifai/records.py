"""SQLite tables of the Clarifai emulator and the generic operations on stored protos.

Every resource is stored as its serialized proto plus the indexed columns that filters and paging
need. Catalog resources (apps, datasets, dataset versions, models, model versions, evaluations,
workflows, workflow versions, modules, runners, concepts, concept relations, inputs-add jobs) share
`clarifai_objects`; inputs, annotations, dataset membership, dataset-version snapshots, content
blobs, trained model weights and app keys have their own tables. Every row carries
(user_id, app_id), so deleting an app is one DELETE per table.

Listings are newest first: created_at descending, then id ascending, so paging is deterministic.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from google.protobuf.message import Message

from modelwire._gen.google.protobuf import timestamp_pb2
from modelwire.emulator.clarifai.failures import ApiFailure, Code, S
from modelwire.emulator.store import Store

M = TypeVar("M", bound=Message)

DEFAULT_PER_PAGE = 128  # the real API's default when per_page is 0 / unset
MAX_PER_PAGE = 1000  # larger requests are clamped, as the real API does
NEWEST_FIRST = "created_ns DESC, id ASC"
IN_APP = "user_id = ? AND app_id = ?"  # rows of one app: params (*owner)
_IN_CHUNK = 500  # values per IN (...) query
MAX_ID_LENGTH = 255
_BAD_ID = re.compile(r"[\s/]")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS clarifai_objects (
        kind TEXT NOT NULL, user_id TEXT NOT NULL, app_id TEXT NOT NULL, parent TEXT NOT NULL,
        id TEXT NOT NULL, created_ns INTEGER NOT NULL, tag TEXT NOT NULL, facet TEXT NOT NULL,
        proto BLOB NOT NULL, PRIMARY KEY (kind, user_id, app_id, parent, id))""",
    """CREATE INDEX IF NOT EXISTS clarifai_objects_listing
        ON clarifai_objects (kind, user_id, app_id, parent, created_ns DESC, id)""",
    """CREATE TABLE IF NOT EXISTS clarifai_inputs (
        user_id TEXT NOT NULL, app_id TEXT NOT NULL, id TEXT NOT NULL, created_ns INTEGER NOT NULL,
        status INTEGER NOT NULL, job_id TEXT NOT NULL, kind TEXT NOT NULL, content_sha TEXT,
        vector BLOB, proto BLOB NOT NULL, PRIMARY KEY (user_id, app_id, id))""",
    """CREATE INDEX IF NOT EXISTS clarifai_inputs_listing
        ON clarifai_inputs (user_id, app_id, created_ns DESC, id)""",
    "CREATE INDEX IF NOT EXISTS clarifai_inputs_job ON clarifai_inputs (user_id, app_id, job_id, status)",
    # Only a restart's resume read inputs by status alone: a scan then costs less than keeping an
    # index current on every upload and status change (databases made before drop theirs).
    "DROP INDEX IF EXISTS clarifai_inputs_status",
    """CREATE TABLE IF NOT EXISTS clarifai_annotations (
        user_id TEXT NOT NULL, app_id TEXT NOT NULL, id TEXT NOT NULL, input_id TEXT NOT NULL,
        created_ns INTEGER NOT NULL, status INTEGER NOT NULL, input_level INTEGER NOT NULL,
        proto BLOB NOT NULL, PRIMARY KEY (user_id, app_id, id))""",
    """CREATE INDEX IF NOT EXISTS clarifai_annotations_input
        ON clarifai_annotations (user_id, app_id, input_id)""",
    """CREATE TABLE IF NOT EXISTS clarifai_dataset_inputs (
        user_id TEXT NOT NULL, app_id TEXT NOT NULL, dataset_id TEXT NOT NULL, id TEXT NOT NULL,
        created_ns INTEGER NOT NULL, PRIMARY KEY (user_id, app_id, dataset_id, id))""",
    """CREATE INDEX IF NOT EXISTS clarifai_dataset_inputs_input
        ON clarifai_dataset_inputs (user_id, app_id, id)""",
    """CREATE TABLE IF NOT EXISTS clarifai_version_inputs (
        user_id TEXT NOT NULL, app_id TEXT NOT NULL, dataset_id TEXT NOT NULL, version_id TEXT NOT NULL,
        id TEXT NOT NULL, created_ns INTEGER NOT NULL, kind TEXT NOT NULL, content_sha TEXT,
        embedded INTEGER NOT NULL, proto BLOB NOT NULL,
        PRIMARY KEY (user_id, app_id, dataset_id, version_id, id))""",
    """CREATE TABLE IF NOT EXISTS clarifai_blobs (sha TEXT PRIMARY KEY, data BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS clarifai_inputs_content ON clarifai_inputs (content_sha)",
    "CREATE INDEX IF NOT EXISTS clarifai_version_inputs_content ON clarifai_version_inputs (content_sha)",
    """CREATE TABLE IF NOT EXISTS clarifai_model_weights (
        user_id TEXT NOT NULL, app_id TEXT NOT NULL, model_id TEXT NOT NULL, version_id TEXT NOT NULL,
        data BLOB NOT NULL, PRIMARY KEY (user_id, app_id, model_id, version_id))""",
    """CREATE TABLE IF NOT EXISTS clarifai_keys (
        key TEXT PRIMARY KEY, user_id TEXT NOT NULL, app_id TEXT NOT NULL, created_ns INTEGER NOT NULL)""",
]
# Tables whose rows belong to one app (DeleteApp empties them for that app).
APP_TABLES = (
    "clarifai_objects",
    "clarifai_inputs",
    "clarifai_annotations",
    "clarifai_dataset_inputs",
    "clarifai_version_inputs",
    "clarifai_model_weights",
    "clarifai_keys",
)


def _any(message: Message) -> Any:
    """The same message, for reading fields that several message types share by name."""
    return message


class Owner(NamedTuple):
    """Whose a resource is: (user_id, app_id); app_id is "" for user-level resources."""

    user_id: str
    app_id: str


def _blank(_: Message) -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    """A stored resource type and the status codes that report problems with it."""

    name: str  # the `kind` column, and how messages name it ("dataset version")
    missing: Code
    invalid: Code
    duplicate: Code
    # Two indexed columns for List filters: `tag`, the lower-cased text that search-like fields
    # match as a substring (runners: compute cluster id), and `facet`, one exact-match value.
    tag: Callable[[Message], str] = field(default=_blank)
    facet: Callable[[Message], str] = field(default=_blank)
    parent_name: str = ""  # the kind of the parent of a child object (dataset versions: "dataset")


def _text_of(*names: str) -> Callable[[Message], str]:
    def tag(message: Message) -> str:
        return " ".join(str(getattr(message, name, "")) for name in names).lower()

    return tag


APP = Kind(
    "app", S.CONN_DOES_NOT_EXIST, S.CONN_INVALID_REQUEST, S.CONN_INVALID_REQUEST, _text_of("id", "name")
)
DATASET = Kind(
    "dataset",
    S.CONN_DOES_NOT_EXIST,
    S.CONN_INVALID_REQUEST,
    S.CONN_INVALID_REQUEST,
    _text_of("id", "description"),
)
DATASET_VERSION = Kind(
    "dataset version",
    S.CONN_DOES_NOT_EXIST,
    S.CONN_INVALID_REQUEST,
    S.DATASET_VERSION_CONFLICT,
    facet=lambda m: str(getattr(m, "request_origin", "")),
    parent_name="dataset",
)
MODEL = Kind(
    "model",
    S.MODEL_DOES_NOT_EXIST,
    S.MODEL_INVALID_ARGUMENT,
    S.MODEL_INVALID_ARGUMENT,
    _text_of("id", "name", "description"),
    lambda m: str(getattr(m, "model_type_id", "")),
)
# Model versions live under their model (parent); facet: the status code (trained_only listings,
# resuming training after a restart).
MODEL_VERSION = Kind(
    "model version",
    S.MODEL_DOES_NOT_EXIST,
    S.MODEL_INVALID_ARGUMENT,
    S.MODEL_INVALID_ARGUMENT,
    facet=lambda m: str(int(_any(m).status.code)),
    parent_name="model",
)
# Evaluations of a model version live under its model; facet: the version id.
EVALUATION = Kind(
    "evaluation",
    S.CONN_DOES_NOT_EXIST,
    S.EVALUATION_INVALID_ARGUMENT,
    S.EVALUATION_INVALID_ARGUMENT,
    facet=lambda m: str(_any(m).model.model_version.id),
    parent_name="model",
)
WORKFLOW = Kind(
    "workflow",
    S.WORKFLOW_DOES_NOT_EXIST,
    S.WORKFLOW_INVALID_ARGUMENT,
    S.WORKFLOW_DUPLICATE,
    _text_of("id", "description"),
)
WORKFLOW_VERSION = Kind(
    "workflow version",
    S.WORKFLOW_DOES_NOT_EXIST,
    S.WORKFLOW_INVALID_ARGUMENT,
    S.WORKFLOW_DUPLICATE,
    parent_name="workflow",
)
MODULE = Kind(
    "module",
    S.MODULE_DOES_NOT_EXIST,
    S.MODULE_INVALID_ARGUMENT,
    S.MODULE_INVALID_ARGUMENT,
    _text_of("id", "description"),
)
RUNNER = Kind(
    "runner",
    S.RUNNER_DOES_NOT_EXIST,
    S.RUNNER_INVALID_ARGUMENT,
    S.RUNNER_INVALID_ARGUMENT,
    lambda m: str(_any(m).nodepool.compute_cluster.id),
    lambda m: str(_any(m).nodepool.id),
)
CONCEPT = Kind(
    "concept",
    S.CONN_DOES_NOT_EXIST,
    S.CONCEPTS_INVALID_REQUEST,
    S.CONCEPTS_INVALID_REQUEST,
    _text_of("name"),
    lambda m: str(getattr(m, "language", "")),
)
# Relations between two concepts of an app (subject, predicate, object); facet: the predicate.
CONCEPT_RELATION = Kind(
    "concept relation",
    S.CONN_DOES_NOT_EXIST,
    S.CONCEPTS_INVALID_REQUEST,
    S.CONCEPTS_INVALID_REQUEST,
    lambda m: f"{_any(m).subject_concept.id} {_any(m).object_concept.id}",
    lambda m: str(_any(m).predicate),
)
INPUTS_ADD_JOB = Kind(
    "inputs add job", S.CONN_DOES_NOT_EXIST, S.INPUT_INVALID_REQUEST, S.INPUT_INVALID_REQUEST
)
# API keys (user-level records; their secret is the id, also in clarifai_keys); facet: the key's app.
KEY = Kind(
    "key",
    S.CONN_DOES_NOT_EXIST,
    S.CONN_INVALID_REQUEST,
    S.CONN_INVALID_REQUEST,
    facet=lambda m: str(_any(m).apps[0].id) if len(_any(m).apps) == 1 else "",
)
# Inputs and annotations live in their own tables; these only name their codes.
INPUT = Kind("input", S.INPUT_DOES_NOT_EXIST, S.INPUT_INVALID_ARGUMENT, S.INPUT_DUPLICATE)
ANNOTATION = Kind(
    "annotation", S.CONN_DOES_NOT_EXIST, S.ANNOTATION_INVALID_ARGUMENT, S.ANNOTATION_INVALID_ARGUMENT
)


def missing(kind: Kind, ids: Iterable[str], where: str) -> ApiFailure:
    names = ", ".join(repr(i) for i in ids)
    return ApiFailure(kind.missing, f"{kind.name} {names} does not exist in {where}")


def check_id(kind: Kind, value: str) -> None:
    """Ids are 1 to 255 characters without whitespace or '/' (they appear in REST paths)."""
    if not value:
        raise ApiFailure(kind.invalid, f"{kind.name} id is required: set the `id` field")
    if len(value) > MAX_ID_LENGTH or _BAD_ID.search(value):
        raise ApiFailure(
            kind.invalid,
            f"{kind.name} id {value!r} is invalid: use 1 to {MAX_ID_LENGTH} characters without "
            "whitespace or '/'",
        )


@dataclass(frozen=True)
class Page:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_of(page: int, per_page: int) -> Page:
    """Clarifai paging: page 0 means 1; per_page 0 means 128; more than 1000 is clamped to 1000."""
    return Page(max(int(page), 1), min(int(per_page) or DEFAULT_PER_PAGE, MAX_PER_PAGE))


def request_page(request: Message) -> Page:
    """The page of a List request (its `page`/`per_page`, whatever their field numbers)."""
    return page_of(getattr(request, "page", 0), getattr(request, "per_page", 0))


def search_filter(*texts: str) -> tuple[str, list[Any]]:
    """A substring filter on the objects' `tag` text from a request's search-like fields (the first
    one set wins)."""
    text = next((t for t in texts if t), "").lower()
    return ("instr(tag, ?) > 0", [text]) if text else ("", [])


def order_of(request: Message) -> str:
    """ORDER BY for a List request that may carry `sort_ascending` / `sort_by_id` (default: newest
    first)."""
    fields = request.DESCRIPTOR.fields_by_name
    ascending = "sort_ascending" in fields and bool(_any(request).sort_ascending)
    if "sort_by_id" in fields and _any(request).sort_by_id:
        return "id ASC" if ascending else "id DESC"
    return "created_ns ASC, id ASC" if ascending else NEWEST_FIRST


def timestamp(ns: int) -> timestamp_pb2.Timestamp:
    # What Timestamp.FromNanoseconds sets, built in one C call (it is Python, and on every write).
    seconds, nanos = divmod(ns, 1_000_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def stamp(message: Message, owner: Owner, now_ns: int, *, created: bool = True) -> None:
    """Set the owner and time fields that this message type has (user_id, app_id, created_at,
    modified_at)."""
    fields = message.DESCRIPTOR.fields_by_name
    target = _any(message)
    if "user_id" in fields:
        target.user_id = owner.user_id
    if "app_id" in fields and owner.app_id:
        target.app_id = owner.app_id
    now = timestamp(now_ns)
    if created and "created_at" in fields:
        target.created_at.CopyFrom(now)
    if "modified_at" in fields:
        target.modified_at.CopyFrom(now)


def placeholders(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def drop_unused_blobs(conn: sqlite3.Connection, shas: Sequence[str] | None) -> None:
    """Delete content that no input and no dataset-version snapshot refers to any more (among
    `shas`, or everywhere when None)."""
    unused = (
        "NOT EXISTS (SELECT 1 FROM clarifai_inputs i WHERE i.content_sha = clarifai_blobs.sha) "
        "AND NOT EXISTS (SELECT 1 FROM clarifai_version_inputs v WHERE v.content_sha = clarifai_blobs.sha)"
    )
    if shas is None:
        conn.execute(f"DELETE FROM clarifai_blobs WHERE {unused}")
    elif shas:
        conn.execute(f"DELETE FROM clarifai_blobs WHERE sha IN ({placeholders(shas)}) AND {unused}", shas)


class Records:
    """Generic storage of protos, shared by every area of the emulator."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(SCHEMA)
        self._clock_lock = threading.Lock()
        self._last_ns = 0

    def now(self) -> int:
        """Nanoseconds since the epoch, strictly increasing in steps of at least 1 µs, so creation
        order is total (and survives the float seconds the search engine uses)."""
        with self._clock_lock:
            self._last_ns = max(time.time_ns(), self._last_ns + 1000)
            return self._last_ns

    # -- generic listing -------------------------------------------------------------------------

    def page_rows(
        self, source: str, where: str, params: Sequence[Any], page: Page, order: str = NEWEST_FIRST
    ) -> list[sqlite3.Row]:
        """One page of rows of `source` (a table or join with `created_ns` and `id`)."""
        return self.store.query(
            f"SELECT * FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, page.per_page, page.offset],
        )

    def rows_in(
        self, table: str, owner: Owner, column: str, values: Sequence[str], columns: str = "*"
    ) -> list[sqlite3.Row]:
        """Rows of one app whose `column` is one of `values` (queried in chunks)."""
        rows: list[sqlite3.Row] = []
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            rows += self.store.query(
                f"SELECT {columns} FROM {table} WHERE {IN_APP} AND {column} IN ({placeholders(chunk)})",
                [*owner, *chunk],
            )
        return rows

    # -- catalog objects -------------------------------------------------------------------------

    @staticmethod
    def _scope(kind: Kind, owner: Owner, parent: str) -> tuple[str, list[Any]]:
        if kind is APP:  # an app's row has app_id = its own id; apps are listed per user
            return "kind = ? AND user_id = ? AND parent = ?", [kind.name, owner.user_id, parent]
        return "kind = ? AND user_id = ? AND app_id = ? AND parent = ?", [
            kind.name,
            owner.user_id,
            owner.app_id,
            parent,
        ]

    def get(self, kind: Kind, owner: Owner, object_id: str, cls: type[M], parent: str = "") -> M | None:
        where, params = self._scope(kind, owner, parent)
        row = self.store.one(
            f"SELECT proto FROM clarifai_objects WHERE {where} AND id = ?", [*params, object_id]
        )
        return None if row is None else cls.FromString(row["proto"])

    def require(self, kind: Kind, owner: Owner, object_id: str, cls: type[M], parent: str = "") -> M:
        if not object_id:
            raise ApiFailure(kind.invalid, f"{kind.name} id is required")
        found = self.get(kind, owner, object_id, cls, parent)
        if found is None:
            raise missing(kind, [object_id], self.where(owner, parent, kind.parent_name))
        return found

    def existing_ids(self, kind: Kind, owner: Owner, ids: Sequence[str], parent: str = "") -> set[str]:
        if not ids:
            return set()
        where, params = self._scope(kind, owner, parent)
        rows = self.store.query(
            f"SELECT id FROM clarifai_objects WHERE {where} AND id IN ({placeholders(ids)})", [*params, *ids]
        )
        return {r["id"] for r in rows}

    def listing(
        self,
        kind: Kind,
        owner: Owner,
        cls: type[M],
        page: Page,
        *,
        parent: str = "",
        where: str = "",
        params: Sequence[Any] = (),
        order: str = NEWEST_FIRST,
    ) -> list[M]:
        scope, scope_params = self._scope(kind, owner, parent)
        condition = f"{scope} AND {where}" if where else scope
        rows = self.page_rows("clarifai_objects", condition, [*scope_params, *params], page, order)
        return [cls.FromString(r["proto"]) for r in rows]

    def save(
        self,
        conn: sqlite3.Connection,
        kind: Kind,
        owner: Owner,
        message: Message,
        *,
        parent: str = "",
        created_ns: int,
        replace: bool = True,
    ) -> None:
        """Insert one object, replacing (or with `replace=False` keeping) an existing one; inside the
        caller's transaction. A replaced object keeps its creation time and place in listings."""
        object_id = str(_any(message).id)
        app_id = object_id if kind is APP else owner.app_id
        conflict = (
            "DO UPDATE SET tag = excluded.tag, facet = excluded.facet, proto = excluded.proto"
            if replace
            else "DO NOTHING"
        )
        conn.execute(
            f"""INSERT INTO clarifai_objects
                   (kind, user_id, app_id, parent, id, created_ns, tag, facet, proto)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (kind, user_id, app_id, parent, id) {conflict}""",
            (
                kind.name,
                owner.user_id,
                app_id,
                parent,
                object_id,
                created_ns,
                kind.tag(message),
                kind.facet(message),
                message.SerializeToString(),
            ),
        )

    def update(self, kind: Kind, owner: Owner, message: Message, parent: str = "") -> None:
        """Replace a stored object (its creation time and so its place in listings are kept)."""
        with self.store.transaction() as conn:
            self.save(conn, kind, owner, message, parent=parent, created_ns=0)

    def create(
        self,
        kind: Kind,
        owner: Owner,
        messages: Sequence[M],
        *,
        parent: str = "",
        prepare: Callable[[M], None] | None = None,
        also: Callable[[sqlite3.Connection, M], None] | None = None,
    ) -> list[M]:
        """Create objects atomically: ids are required and unique; owner and times are stamped.
        `prepare` checks or completes each one first; `also` stores what goes with each one, in the
        same transaction."""
        if not messages:
            raise ApiFailure(kind.invalid, f"no {kind.name} given: send at least one")
        created: list[M] = []
        seen: set[str] = set()
        for message in messages:
            item = type(message)()
            item.CopyFrom(message)
            object_id = str(_any(item).id)
            check_id(kind, object_id)
            if object_id in seen:
                raise ApiFailure(kind.duplicate, f"{kind.name} id {object_id!r} appears twice in the request")
            seen.add(object_id)
            if prepare is not None:
                prepare(item)
            created.append(item)
        # Checked and inserted in one transaction: concurrent creates cannot both take an id.
        with self.store.transaction() as conn:
            clash = self.existing_ids(kind, owner, sorted(seen), parent)
            if clash:
                raise ApiFailure(
                    kind.duplicate,
                    f"{kind.name} {', '.join(map(repr, sorted(clash)))} already exists in "
                    f"{self.where(owner, parent, kind.parent_name)}",
                )
            for item in created:
                now = self.now()
                stamp(item, owner if kind is not APP else Owner(owner.user_id, ""), now)
                self.save(conn, kind, owner, item, parent=parent, created_ns=now)
                if also is not None:
                    also(conn, item)
        return created

    def delete(self, kind: Kind, owner: Owner, ids: Sequence[str], parent: str = "") -> list[str]:
        """Delete objects by id; all must exist (nothing is deleted otherwise)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            raise ApiFailure(kind.invalid, f"no {kind.name} ids given: list the ids to delete")
        absent = [i for i in wanted if i not in self.existing_ids(kind, owner, wanted, parent)]
        if absent:
            raise missing(kind, absent, self.where(owner, parent, kind.parent_name))
        where, params = self._scope(kind, owner, parent)
        self.store.execute(
            f"DELETE FROM clarifai_objects WHERE {where} AND id IN ({placeholders(wanted)})",
            [*params, *wanted],
        )
        return wanted

    def all_ids(self, kind: Kind, owner: Owner, parent: str = "") -> list[str]:
        where, params = self._scope(kind, owner, parent)
        return [r["id"] for r in self.store.query(f"SELECT id FROM clarifai_objects WHERE {where}", params)]

    @staticmethod
    def delete_under(conn: sqlite3.Connection, kind: Kind, owner: Owner, parents: Sequence[str]) -> None:
        """Delete the children of `kind` of the given parents (e.g. the versions of deleted models)."""
        if parents:
            conn.execute(
                f"DELETE FROM clarifai_objects WHERE kind = ? AND {IN_APP} "
                f"AND parent IN ({placeholders(parents)})",
                [kind.name, *owner, *parents],
            )

    @staticmethod
    def where(owner: Owner, parent: str = "", parent_name: str = "parent") -> str:
        place = (
            f"app {owner.app_id!r} of user {owner.user_id!r}" if owner.app_id else f"user {owner.user_id!r}"
        )
        return f"{parent_name} {parent!r} of {place}" if parent else place

    def delete_app(self, owner: Owner) -> None:
        with self.store.transaction() as conn:
            for table in APP_TABLES:
                conn.execute(
                    f"DELETE FROM {table} WHERE user_id = ? AND app_id = ?", (owner.user_id, owner.app_id)
                )
            drop_unused_blobs(conn, None)
