"""Search engine of the Clarifai emulator: filter and rank stored inputs (no gRPC, no SQL).

Plain data in, ranked input ids out. The caller converts ``PostInputsSearches`` queries into
`Rank` and `Filter` values and `Hit` lists back into protos.

Filters
    Every set criterion of a `Filter` must hold (AND), `Filter.negate` inverts the filter's
    result, and all filters must hold (AND). A filter with no criterion set matches everything
    and ignores ``negate`` (the SDK sends ``filters=[{}]`` by default). Empty collections count as
    unset, as an empty repeated field does on the wire, except ``input_ids`` (see below).

    * ``concepts``: all listed; ``(id or name, 1)`` needs the concept with a value > 0,
      ``(id or name, 0)`` needs it absent or with value 0 ("not positive").
    * ``metadata``: containment, like JSON ``@>`` (see `metadata_contains`).
    * ``input_types``: any of them (OR); ``dataset_ids``: in any of them (OR).
    * ``status_code``: equal. ``geo_box``: inside the box spanned by two (lon, lat) corners.
      ``geo``: (lon, lat, radius_km) great-circle (haversine) distance <= radius. Inputs without a
      geo point fail geo criteria.
    * ``input_ids``: one of them; None is unset, and an empty set matches no input (the caller
      resolved a criterion to the inputs that meet it, and none does).
    * ``url``: the content URL the input was added with (`Document.url`) equals it.

Ranks
    Each `Rank` sets exactly one criterion, scores the inputs it applies to in [0, 1] and makes
    them hits:

    * ``text``: text inputs with `TEXT_DIM` vectors, by embedding similarity (the query is embedded
      with `embed_text`; IDF from the indexed text inputs reweights both sides when the index has
      ``text_idf``). ``image_bytes``: image inputs with `IMAGE_DIM` vectors (`embed_image`). There
      is no cross-modal model, so text never ranks images and vice versa. ``vector``: a raw query
      embedding; scores inputs whose vector has the same length, of ``vector_kind`` if given.
      Inputs with no vector or an all-zero one are not scored.
    * ``concepts``: mean over the listed concepts of the match strength: for ``value > 0`` the
      input's concept value (clipped to [0, 1]) if positive, for ``value 0`` 1 if the input has
      the concept with value 0 (explicitly negative); inputs with strength 0 are not hits.
    * ``metadata``: 1 for inputs whose metadata contains it, others are not hits.
    * ``geo``: (lon, lat, limit_km): ``1 - distance / limit_km`` for inputs within the limit.
    * ``scores``: scores the caller computed, by input id (clipped to [0, 1]); the inputs listed
      are the hits (an empty mapping applies to none).

    Vector similarity per metric (vectors compared in float64):

    * ``cosine``: ``(1 + cos) / 2``, in [0, 1], 1 for the same direction.
    * ``euclidean``: ``1 / (1 + d)``, in (0, 1], 1 at distance 0; higher score = shorter distance,
      so hits come in distance order.

    For unit-length vectors (every embedder here) ``d² = 2 - 2 cos``, so both metrics order a
    single vector rank the same way; they differ for unnormalised vectors and in how scores
    combine across ranks. With several ranks, an input's score is the sum of the scores of the
    ranks that apply to it divided by the number of ranks, so a metadata or concept rank boosts
    the embedding hits that also match it.

    With no ranks, every input passing the filters is a hit with score 1.0, newest (`created_at`)
    first.

Order and pages
    Hits are distinct inputs ordered by score descending, ties broken by input id ascending, so a
    ranking is a total, deterministic order. ``top_k`` truncates it; ``page`` (1-based) and
    ``per_page`` return exactly that slice, so pages 1..k with ``per_page=p`` concatenate to the
    first ``k*p`` hits.
"""

from __future__ import annotations

import bisect
import copy
import math
import threading
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from modelwire.emulator.clarifai.embeddings import (
    TEXT_DIM,
    TextIdf,
    embed_image,
    embed_text,
    is_zero,
)

__all__ = [
    "DEFAULT_PER_PAGE",
    "EARTH_RADIUS_KM",
    "INPUT_DOWNLOAD_SUCCESS",
    "KINDS",
    "MAX_PER_PAGE",
    "METRICS",
    "Document",
    "Filter",
    "Hit",
    "Kind",
    "Metric",
    "Rank",
    "SearchIndex",
    "count",
    "geo_limit_km",
    "haversine_km",
    "metadata_contains",
    "search",
]

Kind = Literal["text", "image", "video", "audio"]
Metric = Literal["cosine", "euclidean"]
KINDS: tuple[str, ...] = get_args(Kind)
METRICS: tuple[str, ...] = get_args(Metric)

DEFAULT_PER_PAGE = 128  # Clarifai's server default when per_page is unset (0)
MAX_PER_PAGE = 1000  # Clarifai's documented maximum
INPUT_DOWNLOAD_SUCCESS = 30000
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

_KM_PER_UNIT = {
    "withinkilometers": 1.0,
    "withinmiles": 1.609344,
    "withindegrees": math.pi / 180.0 * EARTH_RADIUS_KM,
    "withinradians": EARTH_RADIUS_KM,
}
# Rows scored per step: bounds the float64 temporaries to a few MiB whatever the index size.
_CHUNK_ROWS = 4096


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(eq=False)
class Document:
    """One stored input as the search engine sees it. The index keeps its own copy on `add`.

    ``vector`` is the input's IDF-free embedding (`embed_text` / `embed_image` output, or any
    finite 1-D vector). ``concepts`` maps concept id to value (1 positive, 0 negative);
    ``concept_names`` maps concept id to name so filters and ranks can name concepts either way.
    ``geo`` is (longitude, latitude) in degrees; ``url`` the URL its content was added from ("" for
    uploaded bytes).
    """

    input_id: str
    kind: Kind
    vector: NDArray[np.float32] | None = None
    concepts: dict[str, float] = field(default_factory=dict)
    concept_names: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    dataset_ids: set[str] = field(default_factory=set)
    status_code: int = INPUT_DOWNLOAD_SUCCESS
    geo: tuple[float, float] | None = None
    created_at: float = 0.0
    url: str = ""


@dataclass(frozen=True)
class Hit:
    input_id: str
    score: float


def _check_point(lon: float, lat: float, what: str) -> tuple[float, float]:
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"{what}: longitude must be in [-180, 180], got {lon}")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"{what}: latitude must be in [-90, 90], got {lat}")
    return lon, lat


def _check_circle(value: tuple[float, float, float], what: str) -> tuple[float, float, float]:
    if len(value) != 3:
        raise ValueError(f"{what} must be (longitude, latitude, kilometres), got {value!r}")
    lon, lat = _check_point(value[0], value[1], what)
    km = float(value[2])
    if not (math.isfinite(km) and km > 0.0):
        raise ValueError(f"{what}: the distance limit must be a positive number of km, got {km}")
    return lon, lat, km


def _check_concepts(value: Sequence[tuple[str, float]], what: str) -> tuple[tuple[str, float], ...]:
    result = []
    for item in value:
        if len(item) != 2 or not isinstance(item[0], str) or not item[0]:
            raise ValueError(f"{what}: expected (concept id or name, value) pairs, got {item!r}")
        concept_value = float(item[1])
        if not math.isfinite(concept_value):
            raise ValueError(f"{what}: concept {item[0]!r} has a non-finite value {item[1]!r}")
        result.append((item[0], concept_value))
    return tuple(result)


def _as_vector(value: Any, what: str) -> NDArray[np.float32]:
    array = np.array(value, dtype=np.float32)  # a copy: later changes by the caller do not leak in
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D vector, got shape {array.shape}")
    if not bool(np.all(np.isfinite(array))):
        raise ValueError(f"{what} contains NaN or infinite values")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Rank:
    """One ranking criterion: set exactly one of the fields (``vector_kind`` only qualifies
    ``vector``). See the module docstring for how each is scored."""

    vector: NDArray[np.float32] | None = None
    vector_kind: Kind | None = None
    text: str | None = None
    image_bytes: bytes | None = None
    concepts: Sequence[tuple[str, float]] = ()
    metadata: Mapping[str, Any] | None = None
    geo: tuple[float, float, float] | None = None  # (longitude, latitude, limit_km)
    scores: Mapping[str, float] | None = None  # by input id

    def __post_init__(self) -> None:
        given = [
            name
            for name, present in (
                ("vector", self.vector is not None),
                ("text", self.text is not None),
                ("image_bytes", self.image_bytes is not None),
                ("concepts", bool(self.concepts)),
                ("metadata", self.metadata is not None),
                ("geo", self.geo is not None),
                ("scores", self.scores is not None),
            )
            if present
        ]
        if not given:
            raise ValueError(
                "empty rank: set one of vector, text, image_bytes, concepts, metadata, geo or scores"
            )
        if len(given) > 1:
            raise ValueError(f"a rank sets exactly one criterion, got {', '.join(given)}")
        if self.vector is not None:
            vector = _as_vector(self.vector, "rank vector")
            if not bool(np.any(vector)):
                raise ValueError("rank vector is all zeros: it has no direction to rank by")
            object.__setattr__(self, "vector", vector)
        if self.vector_kind is not None:
            if self.vector is None:
                raise ValueError("vector_kind only applies to a vector rank")
            if self.vector_kind not in KINDS:
                raise ValueError(f"unknown vector_kind {self.vector_kind!r}; expected one of {KINDS}")
        if self.text is not None and (not isinstance(self.text, str) or not self.text.strip()):
            raise ValueError("text rank must be a non-blank string")
        if self.image_bytes is not None:
            if not isinstance(self.image_bytes, (bytes, bytearray, memoryview)):
                raise ValueError(f"image_bytes rank must be bytes, got {type(self.image_bytes).__name__}")
            if not self.image_bytes:
                raise ValueError("image_bytes rank is empty")
        object.__setattr__(self, "concepts", _check_concepts(self.concepts, "concept rank"))
        if self.metadata is not None and not isinstance(self.metadata, Mapping):
            raise ValueError(f"metadata rank must be a mapping, got {type(self.metadata).__name__}")
        if self.geo is not None:
            object.__setattr__(self, "geo", _check_circle(self.geo, "geo rank"))
        if self.scores is not None:
            object.__setattr__(self, "scores", _check_scores(self.scores))


def _check_scores(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"scores rank must be a mapping of input id to score, got {type(value).__name__}")
    scores: dict[str, float] = {}
    for input_id, score in value.items():
        number = float(score)
        if not isinstance(input_id, str) or not math.isfinite(number):
            raise ValueError(f"scores rank: expected input id -> finite score, got {input_id!r}: {score!r}")
        scores[input_id] = min(max(number, 0.0), 1.0)
    return scores


@dataclass(frozen=True, eq=False)
class Filter:
    """Conditions on inputs; all set ones must hold, ``negate`` inverts the result.

    ``geo_box`` is two (longitude, latitude) corners in any order (boxes crossing the
    antimeridian are not supported); ``geo`` is (longitude, latitude, radius_km).
    """

    concepts: Sequence[tuple[str, float]] = ()
    metadata: Mapping[str, Any] | None = None
    input_types: Set[str] | None = None
    dataset_ids: Set[str] | None = None
    status_code: int | None = None
    geo_box: tuple[tuple[float, float], tuple[float, float]] | None = None
    geo: tuple[float, float, float] | None = None
    input_ids: Set[str] | None = None  # None: unset; empty: no input
    url: str | None = None
    negate: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "concepts", _check_concepts(self.concepts, "concept filter"))
        if self.input_ids is not None:
            if isinstance(self.input_ids, str):
                raise ValueError("input_ids must be a set of ids, not a string")
            object.__setattr__(self, "input_ids", frozenset(self.input_ids))
        if self.url is not None and (not isinstance(self.url, str) or not self.url):
            raise ValueError(f"url filter must be a non-empty string, got {self.url!r}")
        if self.metadata is not None and not isinstance(self.metadata, Mapping):
            raise ValueError(f"metadata filter must be a mapping, got {type(self.metadata).__name__}")
        if self.input_types:
            if isinstance(self.input_types, str):
                raise ValueError("input_types must be a set of kinds, not a string")
            unknown = sorted(set(self.input_types) - set(KINDS))
            if unknown:
                raise ValueError(f"unknown input types {unknown}; expected a subset of {KINDS}")
            object.__setattr__(self, "input_types", frozenset(self.input_types))
        if self.dataset_ids:
            if isinstance(self.dataset_ids, str):
                raise ValueError("dataset_ids must be a set of ids, not a string")
            object.__setattr__(self, "dataset_ids", frozenset(self.dataset_ids))
        if self.geo_box is not None:
            if len(self.geo_box) != 2:
                raise ValueError(f"geo_box must be two (longitude, latitude) corners, got {self.geo_box!r}")
            corners = (
                _check_point(*self.geo_box[0], what="geo_box"),
                _check_point(*self.geo_box[1], what="geo_box"),
            )
            object.__setattr__(self, "geo_box", corners)
        if self.geo is not None:
            object.__setattr__(self, "geo", _check_circle(self.geo, "geo filter"))

    @property
    def is_empty(self) -> bool:
        return not (
            self.concepts
            or self.metadata is not None
            or self.input_types
            or self.dataset_ids
            or self.status_code is not None
            or self.geo_box is not None
            or self.geo is not None
            or self.input_ids is not None
            or self.url is not None
        )


# ---------------------------------------------------------------------------------------------
# Helpers


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (longitude, latitude) points in degrees."""
    result = _haversine(np.array([a[0]]), np.array([a[1]]), b[0], b[1])
    return float(result[0])


def _haversine(
    lons: NDArray[np.float64], lats: NDArray[np.float64], lon: float, lat: float
) -> NDArray[np.float64]:
    lam1, phi1 = np.radians(lons), np.radians(lats)
    lam2, phi2 = math.radians(lon), math.radians(lat)
    h = np.sin((phi2 - phi1) / 2.0) ** 2 + np.cos(phi1) * math.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    # The clip guards arcsin against rounding just above 1 for antipodal points.
    result: NDArray[np.float64] = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return result


def geo_limit_km(limit_type: str, value: float) -> float:
    """Convert a Clarifai ``GeoLimit`` (type "withinKilometers", "withinMiles", "withinDegrees" or
    "withinRadians") to kilometres."""
    factor = _KM_PER_UNIT.get(limit_type.lower())
    if factor is None:
        raise ValueError(
            f"unknown geo limit type {limit_type!r}; expected withinKilometers, withinMiles, "
            "withinDegrees or withinRadians"
        )
    return float(value) * factor


def _json_equal(a: Any, b: Any) -> bool:
    # JSON true is not the number 1 (Python's True == 1 would say it is).
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)  # protobuf Struct numbers are doubles: 3 matches 3.0
    return type(a) is type(b) and bool(a == b)


def metadata_contains(value: Any, query: Any) -> bool:
    """Whether JSON-like ``value`` contains ``query``, like PostgreSQL's ``jsonb @>``.

    A mapping contains a mapping when every query key is present with a contained value (nested
    to any depth). A list contains a list when every query element is contained in some element,
    and contains a scalar equal to one of its elements. Scalars must be equal (numbers compare as
    doubles; booleans only equal booleans).
    """
    if isinstance(query, Mapping):
        return isinstance(value, Mapping) and all(
            key in value and metadata_contains(value[key], sub) for key, sub in query.items()
        )
    if isinstance(query, (list, tuple)):
        return isinstance(value, (list, tuple)) and all(
            any(metadata_contains(element, sub) for element in value) for sub in query
        )
    if isinstance(value, (list, tuple)):
        return any(_json_equal(element, query) for element in value)
    return _json_equal(value, query)


def _copy_document(doc: Document) -> Document:
    if not isinstance(doc, Document):
        raise TypeError(f"expected a Document, got {type(doc).__name__}")
    if not isinstance(doc.input_id, str) or not doc.input_id:
        raise ValueError("document input_id must be a non-empty string")
    if doc.kind not in KINDS:
        raise ValueError(f"document {doc.input_id!r}: unknown kind {doc.kind!r}; expected one of {KINDS}")
    vector = None if doc.vector is None else _as_vector(doc.vector, f"document {doc.input_id!r} vector")
    geo = None if doc.geo is None else _check_point(doc.geo[0], doc.geo[1], f"document {doc.input_id!r} geo")
    created_at = float(doc.created_at)
    if not math.isfinite(created_at):
        raise ValueError(f"document {doc.input_id!r}: created_at must be finite")
    return Document(
        input_id=doc.input_id,
        kind=doc.kind,
        vector=vector,
        concepts={str(k): float(v) for k, v in doc.concepts.items()},
        concept_names={str(k): str(v) for k, v in doc.concept_names.items()},
        metadata=copy.deepcopy(dict(doc.metadata)),
        dataset_ids={str(d) for d in doc.dataset_ids},
        status_code=int(doc.status_code),
        geo=geo,
        created_at=created_at,
        url=str(doc.url),
    )


def _concept_lookup(doc: Document) -> dict[str, float]:
    """Concept values keyed by id and by name (ids win over a clashing name)."""
    lookup: dict[str, float] = {}
    for concept_id in sorted(doc.concepts):
        name = doc.concept_names.get(concept_id)
        if name is not None and name not in doc.concepts:
            # Two concepts sharing a name: the more positive value decides.
            lookup[name] = max(lookup.get(name, -math.inf), doc.concepts[concept_id])
    lookup.update(doc.concepts)
    return lookup


# ---------------------------------------------------------------------------------------------
# Index


@dataclass(frozen=True)
class _Group:
    """The vectors of one (kind, dim) pair, in the space they are scored in."""

    kind: str
    dim: int
    positions: NDArray[np.intp]  # rows -> positions in the snapshot
    matrix: NDArray[np.float32]
    norms: NDArray[np.float64]
    idf: NDArray[np.float64] | None


@dataclass(frozen=True)
class _Snapshot:
    """An immutable view of the index, sorted by input id (position = tie-break rank)."""

    ids: list[str]
    docs: list[Document]
    kinds: NDArray[np.int8]
    created_at: NDArray[np.float64]
    status: NDArray[np.int64]
    lon: NDArray[np.float64]  # NaN without a geo point
    lat: NDArray[np.float64]
    concept_lookups: list[dict[str, float]]
    groups: dict[tuple[str, int], _Group]

    def __len__(self) -> int:
        return len(self.ids)


def _row_norms(matrix: NDArray[np.float32]) -> NDArray[np.float64]:
    squares = np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64)
    result: NDArray[np.float64] = np.sqrt(squares)
    return result


def _build_group(
    kind: str, dim: int, positions: list[int], vectors: list[NDArray[np.float32]], idf: bool
) -> _Group:
    matrix = np.stack(vectors)  # float32: documents were validated and converted on add
    weights: NDArray[np.float64] | None = None
    if idf:
        weights = TextIdf.from_vectors(matrix).weights()
        matrix = matrix * weights.astype(np.float32)
        # IDF changes row lengths; renormalise so the text space stays unit-length.
        norms = _row_norms(matrix)
        matrix = matrix / np.where(norms > 0.0, norms, 1.0).astype(np.float32)[:, None]
    return _Group(
        kind=kind,
        dim=dim,
        positions=np.array(positions, dtype=np.intp),
        matrix=matrix,
        norms=_row_norms(matrix),
        idf=weights,
    )


class SearchIndex:
    """The searchable inputs of one app. Thread-safe; searches work on an immutable snapshot that
    is rebuilt lazily after a change, so scoring is vectorised and never blocks writers.

    With ``text_idf`` (the default), text vectors of length `TEXT_DIM` are scored in an IDF-weighted
    space whose document frequencies come from the indexed text inputs.
    """

    def __init__(self, *, text_idf: bool = True) -> None:
        self.text_idf = text_idf
        self._docs: dict[str, Document] = {}
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def add(self, doc: Document) -> None:
        """Add or replace (same input id) an input. The index stores a validated copy."""
        stored = _copy_document(doc)
        with self._lock:
            self._docs[stored.input_id] = stored
            self._snapshot = None

    def remove(self, input_id: str) -> bool:
        """Remove an input; False if it was not indexed."""
        with self._lock:
            if self._docs.pop(input_id, None) is None:
                return False
            self._snapshot = None
            return True

    def get(self, input_id: str) -> Document | None:
        """A copy of the stored input, or None."""
        with self._lock:
            doc = self._docs.get(input_id)
        return None if doc is None else _copy_document(doc)

    def __len__(self) -> int:
        with self._lock:
            return len(self._docs)

    def __contains__(self, input_id: object) -> bool:
        with self._lock:
            return input_id in self._docs

    def _get_snapshot(self) -> _Snapshot:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._build()
            return self._snapshot

    def _build(self) -> _Snapshot:
        ids = sorted(self._docs)
        docs = [self._docs[i] for i in ids]
        grouped: dict[tuple[str, int], tuple[list[int], list[NDArray[np.float32]]]] = {}
        for position, doc in enumerate(docs):
            if doc.vector is not None:
                rows = grouped.setdefault((doc.kind, doc.vector.size), ([], []))
                rows[0].append(position)
                rows[1].append(doc.vector)
        groups = {
            key: _build_group(key[0], key[1], positions, vectors, self.text_idf and key == ("text", TEXT_DIM))
            for key, (positions, vectors) in grouped.items()
        }
        nan = float("nan")
        return _Snapshot(
            ids=ids,
            docs=docs,
            kinds=np.array([KINDS.index(d.kind) for d in docs], dtype=np.int8),
            created_at=np.array([d.created_at for d in docs], dtype=np.float64),
            status=np.array([d.status_code for d in docs], dtype=np.int64),
            lon=np.array([d.geo[0] if d.geo else nan for d in docs], dtype=np.float64),
            lat=np.array([d.geo[1] if d.geo else nan for d in docs], dtype=np.float64),
            concept_lookups=[_concept_lookup(d) for d in docs],
            groups=groups,
        )


# ---------------------------------------------------------------------------------------------
# Filtering


def _concept_positive(lookup: Mapping[str, float], key: str) -> bool:
    return lookup.get(key, 0.0) > 0.0


def _position(snap: _Snapshot, input_id: str) -> int | None:
    """Where an input is in the snapshot (its ids are sorted), or None."""
    position = bisect.bisect_left(snap.ids, input_id)
    return position if position < len(snap.ids) and snap.ids[position] == input_id else None


def _membership(snap: _Snapshot, ids: Iterable[str]) -> NDArray[np.bool_]:
    mask = np.zeros(len(snap), dtype=bool)
    for input_id in ids:
        position = _position(snap, input_id)
        if position is not None:
            mask[position] = True
    return mask


def _filter_mask(snap: _Snapshot, flt: Filter) -> NDArray[np.bool_]:
    mask = np.ones(len(snap), dtype=bool)
    if flt.input_types:
        codes = [KINDS.index(kind) for kind in flt.input_types]
        mask &= np.isin(snap.kinds, codes)
    if flt.status_code is not None:
        mask &= snap.status == flt.status_code
    if flt.geo_box is not None:
        (lon1, lat1), (lon2, lat2) = flt.geo_box
        with np.errstate(invalid="ignore"):  # NaN (no geo point) compares False, as intended
            mask &= (snap.lon >= min(lon1, lon2)) & (snap.lon <= max(lon1, lon2))
            mask &= (snap.lat >= min(lat1, lat2)) & (snap.lat <= max(lat1, lat2))
    if flt.geo is not None:
        lon, lat, radius = flt.geo
        with np.errstate(invalid="ignore"):
            mask &= _haversine(snap.lon, snap.lat, lon, lat) <= radius
    if flt.input_ids is not None:
        mask &= _membership(snap, flt.input_ids)
    # The remaining criteria need Python objects; only test inputs still in the running.
    python_checks = flt.concepts or flt.dataset_ids or flt.metadata is not None or flt.url is not None
    if python_checks:
        for position in np.flatnonzero(mask):
            doc = snap.docs[position]
            lookup = snap.concept_lookups[position]
            ok = all(_concept_positive(lookup, key) == (value > 0.0) for key, value in flt.concepts)
            if ok and flt.dataset_ids:
                ok = not doc.dataset_ids.isdisjoint(flt.dataset_ids)
            if ok and flt.metadata is not None:
                ok = metadata_contains(doc.metadata, flt.metadata)
            if ok and flt.url is not None:
                ok = doc.url == flt.url
            mask[position] = ok
    return ~mask if flt.negate else mask


# ---------------------------------------------------------------------------------------------
# Ranking


def _score_group(group: _Group, query: NDArray[np.float64], metric: Metric) -> NDArray[np.float64]:
    if group.idf is not None:
        query = query * group.idf
        query_norm = float(np.linalg.norm(query))
        query = query / query_norm if query_norm > 0 else query
    query_norm = float(np.linalg.norm(query))
    scores = np.empty(group.matrix.shape[0], dtype=np.float64)
    for start in range(0, group.matrix.shape[0], _CHUNK_ROWS):
        block = group.matrix[start : start + _CHUNK_ROWS].astype(np.float64)
        if metric == "cosine":
            norms = group.norms[start : start + _CHUNK_ROWS] * query_norm
            cos = np.divide(block @ query, norms, out=np.zeros(block.shape[0]), where=norms > 0)
            scores[start : start + block.shape[0]] = (np.clip(cos, -1.0, 1.0) + 1.0) / 2.0
        else:
            distance = np.sqrt(np.sum((block - query) ** 2, axis=1))
            scores[start : start + block.shape[0]] = 1.0 / (1.0 + distance)
    return scores


def _vector_rank(
    snap: _Snapshot, query: NDArray[np.float32], kind: str | None, metric: Metric
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    scores = np.zeros(len(snap), dtype=np.float64)
    applies = np.zeros(len(snap), dtype=bool)
    query64 = query.astype(np.float64)
    for group_kind, dim in sorted(snap.groups):
        if dim != query.size or (kind is not None and group_kind != kind):
            continue
        group = snap.groups[group_kind, dim]
        scored = group.norms > 0  # an all-zero vector (blank text) has no direction to compare
        scores[group.positions] = _score_group(group, query64, metric)
        applies[group.positions[scored]] = True
    return scores, applies


def _concept_rank(snap: _Snapshot, concepts: Sequence[tuple[str, float]]) -> NDArray[np.float64]:
    scores = np.zeros(len(snap), dtype=np.float64)
    for position, lookup in enumerate(snap.concept_lookups):
        total = 0.0
        for key, value in concepts:
            have = lookup.get(key)
            if have is None:
                continue
            if value > 0.0:
                total += min(max(have, 0.0), 1.0)
            elif have <= 0.0:
                total += 1.0
        scores[position] = total / len(concepts)
    return scores


def _rank_scores(
    snap: _Snapshot, rank: Rank, metric: Metric
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Scores in [0, 1] for every input, and which inputs the rank applies to."""
    if rank.vector is not None:
        return _vector_rank(snap, rank.vector, rank.vector_kind, metric)
    if rank.text is not None:
        query = embed_text(rank.text)
        if is_zero(query):
            raise ValueError("text rank is blank")
        return _vector_rank(snap, query, "text", metric)
    if rank.image_bytes is not None:
        return _vector_rank(snap, embed_image(rank.image_bytes), "image", metric)
    if rank.concepts:
        scores = _concept_rank(snap, rank.concepts)
        return scores, scores > 0.0
    if rank.metadata is not None:
        applies = np.array([metadata_contains(d.metadata, rank.metadata) for d in snap.docs], dtype=bool)
        return applies.astype(np.float64), applies
    if rank.scores is not None:
        scores = np.zeros(len(snap), dtype=np.float64)
        applies = np.zeros(len(snap), dtype=bool)
        for input_id, score in rank.scores.items():
            position = _position(snap, input_id)
            if position is not None:
                scores[position], applies[position] = score, True
        return scores, applies
    assert rank.geo is not None  # Rank.__post_init__ guarantees exactly one criterion
    lon, lat, limit = rank.geo
    with np.errstate(invalid="ignore"):
        distance = _haversine(snap.lon, snap.lat, lon, lat)
        applies = distance <= limit
    return np.where(applies, 1.0 - distance / limit, 0.0), applies


def _best(primary: NDArray[np.float64], positions: NDArray[np.intp], limit: int) -> NDArray[np.intp]:
    """Indices of the `limit` best entries, best first: larger `primary`, then smaller position."""
    n = primary.size
    if limit <= 0 or n == 0:
        return np.zeros(0, dtype=np.intp)
    if limit < n:
        # Keep every entry tied with the limit-th best, so the exact tie-break below decides.
        threshold = np.partition(primary, n - limit)[n - limit]
        keep = np.flatnonzero(primary >= threshold)
    else:
        keep = np.arange(n)
    order = np.lexsort((positions[keep], -primary[keep]))
    result: NDArray[np.intp] = keep[order][:limit]
    return result


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")


def _ranking(
    snap: _Snapshot, ranks: Sequence[Rank], filters: Sequence[Filter], metric: Metric
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Candidate positions, their scores and their ordering key (higher = better)."""
    for rank in ranks:
        if not isinstance(rank, Rank):
            raise TypeError(f"ranks must be Rank values, got {type(rank).__name__}")
    for flt in filters:
        if not isinstance(flt, Filter):
            raise TypeError(f"filters must be Filter values, got {type(flt).__name__}")
    mask = np.ones(len(snap), dtype=bool)
    for flt in filters:
        if not flt.is_empty:
            mask &= _filter_mask(snap, flt)
    if not ranks:
        positions = np.flatnonzero(mask)
        return positions, np.ones(positions.size), snap.created_at[positions]
    total = np.zeros(len(snap), dtype=np.float64)
    any_applies = np.zeros(len(snap), dtype=bool)
    for rank in ranks:
        scores, applies = _rank_scores(snap, rank, metric)
        total += np.where(applies, scores, 0.0)
        any_applies |= applies
    positions = np.flatnonzero(mask & any_applies)
    scores = total[positions] / len(ranks)
    return positions, scores, scores


def search(
    index: SearchIndex,
    ranks: Sequence[Rank] = (),
    filters: Sequence[Filter] = (),
    metric: Metric = "cosine",
    *,
    top_k: int | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> list[Hit]:
    """One page of the ranking of the inputs that pass every filter (see the module docstring).

    ``top_k`` caps the ranking's length; ``per_page`` defaults to ``top_k`` if given, else to
    `DEFAULT_PER_PAGE`, and may not exceed `MAX_PER_PAGE`.
    """
    _check_metric(metric)
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be an integer >= 1, got {page!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be an integer >= 1, got {top_k!r}")
    if per_page is None:
        per_page = min(top_k, MAX_PER_PAGE) if top_k is not None else DEFAULT_PER_PAGE
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"per_page must be an integer >= 1, got {per_page!r}")
    if per_page > MAX_PER_PAGE:
        raise ValueError(f"per_page must be at most {MAX_PER_PAGE}, got {per_page}")
    snap = index._get_snapshot()
    positions, scores, key = _ranking(snap, list(ranks), list(filters), metric)
    length = positions.size if top_k is None else min(positions.size, top_k)
    start = (page - 1) * per_page
    stop = min(start + per_page, length)
    if start >= stop:
        return []
    best = _best(key, positions, stop)[start:stop]
    return [Hit(snap.ids[positions[i]], float(scores[i])) for i in best]


def count(
    index: SearchIndex,
    ranks: Sequence[Rank] = (),
    filters: Sequence[Filter] = (),
    metric: Metric = "cosine",
) -> int:
    """The number of hits in the full ranking (before ``top_k`` and pagination)."""
    _check_metric(metric)
    positions, _, _ = _ranking(index._get_snapshot(), list(ranks), list(filters), metric)
    return int(positions.size)
