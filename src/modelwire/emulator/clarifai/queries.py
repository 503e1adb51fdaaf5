"""PostInputsSearches queries as the search engine's `Rank` and `Filter` values.

`Query.ranks[].annotation.data` ranks by image (url or base64), text (raw or url), predicted
concepts, metadata, geo (point + limit), raw embeddings, or `annotation.input_id` (the stored
embedding of an existing input: "more like this"); one `Rank` proto may set several, each counts
as a rank. `Query.filters[]` filter on annotation data (concepts, metadata, geo point + limit or a
two-corner geo box) and on `Filter.input`: `id` (that input only), `data.image|text|video|audio`
select input types (OR) and, with a `url`, the inputs added from that URL; `dataset_ids` (OR),
`status.code`.

Concepts mean different things in ranks and filters, as in the real API: a concept *filter*
matches annotated concepts (the labels given to inputs, see `search.Filter`), a concept *rank*
matches what the app's base model sees, the *predicted* concepts (see `predicted`: the built-in
prediction for the input's type, general-image-recognition for images, general-text-classification
for text). A rank's ``annotation.data.concepts`` is a predicted-concept term: a concept with
value > 0 needs the input's prediction to score it above 0.5, one with value 0 needs it at or
below 0.5 ("inputs that don't have the concept"); only the inputs that meet the term are hits (so
several concept ranks must all hold), ranked by the mean predicted score of its value > 0 concepts.
Inputs without a prediction (unprocessed, failed, video, audio) never match.

The deprecated `Query.ands` of older clients (the legacy 2.x search terms) is read too; all its
terms must hold:

* `And.input` / `And.annotation` filter as above (`{"input": {"data": {"concepts": [...]}}}`,
  metadata, geo, `image.url` = "search by original URL", `input.id`);
* `And.output.input` ranks by content similarity: its `data.image|text` (url or base64), or the
  stored embedding of the input `output.input.id` (the empty `data.image` sent with an id is
  only a type hint);
* `And.output.data.concepts` are a predicted-concept term, as a concept rank is (above); `negate`
  inverts the match (and does not rank). Other `output.data` fields rank as `Rank` data does
  (concepts in `output.input.data` are refused: predicted ones go in `output.data`).

Empty ranks and filters (`ranks=[{}]`, `filters=[{}]`, as the published SDK sends by default) mean
"none", as on the real API: with no other rank, the filtered inputs come newest first.

Not supported, and refused with a clear SEARCH_INVALID_REQUEST rather than ignored: negated ranks
(other than predicted-concept terms), `Filter.last_updated_time_range`, filtering by uploaded
bytes, ranking by video or audio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf import json_format
from numpy.typing import NDArray

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai import search
from modelwire.emulator.clarifai.failures import ApiFailure, S
from modelwire.emulator.clavata.prechecks import ContentFetchError

ALGORITHMS = ("", "nearest_neighbor", "brute_force")  # accepted; the emulator always ranks exhaustively
DEFAULT_GEO_UNIT = "withinKilometers"
PREDICTED = 0.5  # an input's prediction has a concept that scores above this (see `predicted`)
Prediction = Mapping[str, float]  # predicted concept id (lower case) -> score


def invalid(details: str) -> ApiFailure:
    return ApiFailure(S.SEARCH_INVALID_REQUEST, details)


@dataclass(frozen=True)
class Resolver:
    """What a query may need from outside: URL content, stored embeddings of inputs, and the
    predictions of the app's inputs (by input id, see `predicted`)."""

    fetch: Callable[[str], bytes]
    input_vector: Callable[[str], tuple[NDArray[np.float32], str]]  # (vector, kind) or ApiFailure
    predictions: Callable[[], Mapping[str, Prediction]]


def metric_of(proto: resources_pb2.Search) -> search.Metric:
    """COSINE_DISTANCE → cosine; EUCLIDEAN_DISTANCE or unset → euclidean (the real default)."""
    if proto.algorithm not in ALGORITHMS:
        raise invalid(f"algorithm {proto.algorithm!r} is unknown: use 'nearest_neighbor' or 'brute_force'")
    return "cosine" if proto.metric == resources_pb2.Search.COSINE_DISTANCE else "euclidean"


def struct_dict(struct: Any) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(struct)
    return result


def _concepts(concepts: Iterable[resources_pb2.Concept], where: str) -> list[tuple[str, float]]:
    pairs = []
    for concept in concepts:
        key = concept.id or concept.name
        if not key:
            raise invalid(f"{where}: a concept needs an id or a name")
        pairs.append((key, float(concept.value)))
    return pairs


def _circle(geo: resources_pb2.Geo, where: str) -> tuple[float, float, float]:
    if not geo.HasField("geo_limit") or geo.geo_limit.value <= 0:
        raise invalid(f"{where}: a geo point needs geo_limit{{type, value > 0}}, e.g. withinKilometers")
    try:
        km = search.geo_limit_km(geo.geo_limit.type or DEFAULT_GEO_UNIT, geo.geo_limit.value)
    except ValueError as exc:
        raise invalid(f"{where}: {exc}") from None
    return float(geo.geo_point.longitude), float(geo.geo_point.latitude), km


def _box(geo: resources_pb2.Geo, where: str) -> tuple[tuple[float, float], tuple[float, float]]:
    if len(geo.geo_box) != 2:
        raise invalid(f"{where}: geo_box needs exactly two corner points, got {len(geo.geo_box)}")
    first, second = (p.geo_point for p in geo.geo_box)
    return (first.longitude, first.latitude), (second.longitude, second.latitude)


def _make(factory: Callable[..., Any], where: str, **kwargs: Any) -> Any:
    try:
        return factory(**kwargs)
    except ValueError as exc:
        raise invalid(f"{where}: {exc}") from None


# -- ranks -------------------------------------------------------------------------------------------


def _content_ranks(data: resources_pb2.Data, where: str, resolver: Resolver) -> list[search.Rank]:
    ranks: list[search.Rank] = []
    if data.HasField("image"):
        image = data.image
        if not (image.base64 or image.url):
            raise invalid(f"{where}: the image needs a url or base64 bytes")
        try:
            raw = bytes(image.base64) if image.base64 else resolver.fetch(image.url)
        except ContentFetchError as exc:
            raise ApiFailure(S.INPUT_INVALID_URL, f"{where}: {exc}") from None
        ranks.append(_make(search.Rank, where, image_bytes=raw))
    if data.HasField("text"):
        text = data.text.raw
        if not text and data.text.url:
            try:
                text = resolver.fetch(data.text.url).decode("utf-8", "replace")
            except ContentFetchError as exc:
                raise ApiFailure(S.INPUT_INVALID_URL, f"{where}: {exc}") from None
        ranks.append(_make(search.Rank, where, text=text))
    for kind in ("video", "audio"):
        if data.HasField(kind):
            raise invalid(f"{where}: ranking by {kind} is not supported (there is no {kind} embedding model)")
    return ranks


def _data_ranks(data: resources_pb2.Data, where: str, resolver: Resolver) -> list[search.Rank]:
    """The ranks of everything in `data` but its concepts (the caller's: see `_predicted_rank`)."""
    ranks = _content_ranks(data, where, resolver)
    if data.HasField("metadata") and data.metadata.fields:
        ranks.append(_make(search.Rank, where, metadata=struct_dict(data.metadata)))
    if data.HasField("geo"):
        ranks.append(_make(search.Rank, where, geo=_circle(data.geo, where)))
    for embedding in data.embeddings:
        ranks.append(_make(search.Rank, where, vector=list(embedding.vector)))
    return ranks


def _annotation_ranks(
    annotation: resources_pb2.Annotation, where: str, resolver: Resolver
) -> list[search.Rank]:
    ranks = _data_ranks(annotation.data, where, resolver)
    if annotation.input_id:
        vector, kind = resolver.input_vector(annotation.input_id)
        ranks.append(_make(search.Rank, where, vector=vector, vector_kind=kind))
    if annotation.data.concepts:  # predicted concepts: a filter too (see filters_of)
        ranks += _predicted_rank(annotation.data.concepts, where, resolver)
    elif not ranks:
        raise invalid(f"{where} sets nothing to rank by: set annotation.data (image, text, concepts, ...)")
    return ranks


def _predicted(
    concepts: Iterable[resources_pb2.Concept], where: str, resolver: Resolver
) -> tuple[set[str], dict[str, float]]:
    """The inputs whose predictions meet every concept of a predicted-concept term, and their
    mean predicted score over the term's value > 0 concepts."""
    wanted = [(key.casefold(), value > 0.0) for key, value in _concepts(concepts, where)]
    positive = [key for key, present in wanted if present]
    matches: set[str] = set()
    scores: dict[str, float] = {}
    for input_id, prediction in resolver.predictions().items():
        if all((prediction.get(key, 0.0) > PREDICTED) == present for key, present in wanted):
            matches.add(input_id)
            if positive:
                scores[input_id] = sum(prediction[key] for key in positive) / len(positive)
    return matches, scores


def _predicted_rank(
    concepts: Sequence[resources_pb2.Concept], where: str, resolver: Resolver
) -> list[search.Rank]:
    """How a predicted-concept term ranks the inputs that meet it (`filters_of` keeps only those):
    by their mean predicted score of its value > 0 concepts; not at all without such a concept."""
    if not any(c.value > 0 for c in concepts):
        return []
    _, scores = _predicted(concepts, where, resolver)
    return [search.Rank(scores=scores)]


def _type_hints_dropped(data: resources_pb2.Data) -> resources_pb2.Data:
    """The data without content messages that carry no content (`{"image": {}}` next to an id)."""
    result = resources_pb2.Data()
    result.CopyFrom(data)
    for kind in ("image", "video", "audio"):
        part = getattr(result, kind)
        if result.HasField(kind) and not (part.url or part.base64):
            result.ClearField(kind)
    if result.HasField("text") and not (result.text.raw or result.text.url):
        result.ClearField("text")
    return result


def _output_ranks(clause: resources_pb2.And, where: str, resolver: Resolver) -> list[search.Rank]:
    output = clause.output
    others = resources_pb2.Data()
    others.CopyFrom(output.data)
    others.ClearField("concepts")
    content = output.input.data
    if content.concepts:
        raise invalid(
            f"{where}.input.data.concepts: put predicted concepts in output.data.concepts, annotated "
            "ones in an input term (input.data.concepts)"
        )
    if output.input.id:
        content = _type_hints_dropped(content)
    found = _data_ranks(others, where, resolver) + _data_ranks(content, where + ".input", resolver)
    if output.input.id:
        vector, kind = resolver.input_vector(output.input.id)
        found.append(_make(search.Rank, where + ".input.id", vector=vector, vector_kind=kind))
    if clause.negate and found:
        raise invalid(
            f"{where}: negated ranks are not supported by the emulator (only predicted-concept terms, "
            "output.data.concepts alone, can be negated)"
        )
    if output.data.concepts:  # a filter (see filters_of); ranked by the predicted scores unless negated
        if not clause.negate:
            found += _predicted_rank(output.data.concepts, where, resolver)
    elif not found:
        raise invalid(f"{where} sets nothing to rank by")
    return found


def is_empty_rank(rank: resources_pb2.Rank) -> bool:
    """A rank that sets nothing (``ranks=[{}]``, what the published `Search.query` sends when only
    filters are given): "no ranking", as on the real API."""
    return rank.annotation.ByteSize() == 0


def ranks_of(query: resources_pb2.Query, resolver: Resolver) -> list[search.Rank]:
    ranks: list[search.Rank] = []
    for i, rank in enumerate(query.ranks):
        where = f"query.ranks[{i}]"
        if is_empty_rank(rank):
            continue
        if rank.negate:
            raise invalid(f"{where}: negated ranks are not supported by the emulator; use a negated filter")
        ranks += _annotation_ranks(rank.annotation, where, resolver)
    for i, clause in enumerate(query.ands):
        if clause.HasField("output"):
            ranks += _output_ranks(clause, f"query.ands[{i}].output", resolver)
    return ranks


# -- filters -----------------------------------------------------------------------------------------


def _merge_metadata(first: dict[str, Any] | None, second: dict[str, Any]) -> dict[str, Any]:
    return second if first is None else {**first, **second}


def _filter(flt: resources_pb2.Filter, where: str) -> search.Filter:
    if flt.HasField("last_updated_time_range"):
        raise invalid(f"{where}: last_updated_time_range is not supported by the emulator")
    urls: list[str] = []
    for kind in ("image", "text", "video", "audio"):
        if flt.annotation.data.HasField(kind):
            raise invalid(
                f"{where}: annotation.data.{kind} cannot filter; select input types with "
                f"input.data.{kind} (empty) or rank by content"
            )
        part = getattr(flt.input.data, kind)
        if kind != "text" and part.base64:
            raise invalid(
                f"{where}: input.data.{kind}.base64 cannot filter; rank by content (ranks, or ands[].output)"
            )
        if part.url:
            urls.append(part.url)
    if len(urls) > 1:
        raise invalid(f"{where}: filter by one content url at a time, got {len(urls)}")
    concepts: list[tuple[str, float]] = []
    metadata: dict[str, Any] | None = None
    geo: tuple[float, float, float] | None = None
    geo_box = None
    for data in (flt.annotation.data, flt.input.data):
        concepts += _concepts(data.concepts, where)
        if data.HasField("metadata") and data.metadata.fields:
            metadata = _merge_metadata(metadata, struct_dict(data.metadata))
        if data.HasField("geo"):
            if data.geo.geo_box:
                geo_box = _box(data.geo, where)
            else:
                geo = _circle(data.geo, where)
    input_types = {kind for kind in ("image", "text", "video", "audio") if flt.input.data.HasField(kind)}
    result: search.Filter = _make(
        search.Filter,
        where,
        concepts=concepts,
        metadata=metadata,
        input_types=input_types or None,
        dataset_ids=set(flt.input.dataset_ids) or None,
        status_code=int(flt.input.status.code) or None,
        geo=geo,
        geo_box=geo_box,
        input_ids={flt.input.id} if flt.input.id else None,
        url=urls[0] if urls else None,
        negate=flt.negate,
    )
    return result


def filters_of(query: resources_pb2.Query, resolver: Resolver) -> list[search.Filter]:
    filters = [_filter(flt, f"query.filters[{i}]") for i, flt in enumerate(query.filters)]
    for i, rank in enumerate(query.ranks):
        if rank.annotation.data.concepts:  # only the inputs that meet a predicted-concept rank
            matches, _ = _predicted(rank.annotation.data.concepts, f"query.ranks[{i}]", resolver)
            filters.append(search.Filter(input_ids=matches))
    for i, clause in enumerate(query.ands):
        if clause.HasField("input") or clause.HasField("annotation"):
            proto = resources_pb2.Filter(
                input=clause.input, annotation=clause.annotation, negate=clause.negate
            )
            filters.append(_filter(proto, f"query.ands[{i}]"))
        if clause.HasField("output") and clause.output.data.concepts:
            where = f"query.ands[{i}].output"
            matches, _ = _predicted(clause.output.data.concepts, where, resolver)
            filters.append(search.Filter(input_ids=matches, negate=clause.negate))
    return filters


# -- annotation searches -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotationFilter:
    """One `Query.filters[]` entry of PostAnnotationsSearches: what it asks of each annotation
    itself, and (`inputs`, a filter as PostInputsSearches reads it) of the annotation's input."""

    concepts: tuple[tuple[str, bool], ...]  # (concept id or name, wanted positive?)
    info: dict[str, Any] | None  # contained in the annotation's annotation_info
    annotation_id: str
    input_id: str
    user_id: str
    status_code: int
    by_others: bool  # a model version, task or worker made it: no annotation here is
    inputs: resources_pb2.Filter | None
    negate: bool

    def holds(self, annotation: resources_pb2.Annotation, input_passes: bool) -> bool:
        found = {
            key: concept.value > 0
            for concept in _label_concepts(annotation.data)
            for key in (concept.id, concept.name)
            if key
        }
        ok = (
            not self.by_others
            and input_passes
            and all(found.get(key, False) == positive for key, positive in self.concepts)
            and (not self.annotation_id or annotation.id == self.annotation_id)
            and (not self.input_id or annotation.input_id == self.input_id)
            and (not self.user_id or annotation.user_id == self.user_id)
            and (not self.status_code or annotation.status.code == self.status_code)
            and (
                self.info is None
                or search.metadata_contains(struct_dict(annotation.annotation_info), self.info)
            )
        )
        return ok != self.negate


def _label_concepts(data: resources_pb2.Data) -> Iterable[resources_pb2.Concept]:
    yield from data.concepts
    for region in data.regions:
        yield from region.data.concepts


def annotation_filters_of(query: resources_pb2.Query) -> list[AnnotationFilter]:
    """The filters of an annotation search. A filter that sets nothing means "none" (it is left
    out), as on the real API; concepts, `annotation_info`, `id`, `input_id`, `user_id` and
    `status` are the annotation's own, everything else (input types, datasets, metadata, geo,
    ...) is asked of its input."""
    if query.ands:
        raise invalid(
            "query.ands (the deprecated search terms) cannot search annotations: use filters and ranks"
        )
    found: list[AnnotationFilter] = []
    for i, flt in enumerate(query.filters):
        where = f"query.filters[{i}]"
        own = flt.annotation
        rest = resources_pb2.Filter()
        rest.CopyFrom(flt)
        rest.negate = False
        rest.annotation.Clear()
        rest.annotation.data.CopyFrom(own.data)
        rest.annotation.data.ClearField("concepts")
        rest.annotation.data.ClearField("regions")  # empty regions: a type hint, nothing to filter
        if own.data.regions:
            raise invalid(f"{where}: annotation.data.regions cannot filter; filter by their concepts")
        if rest.annotation.data.ByteSize() == 0:
            rest.ClearField("annotation")
        inputs = rest if rest.ByteSize() else None
        if inputs is not None:
            _filter(inputs, where)  # refused now, with this filter's place, if it cannot run
        concepts = tuple((key, value > 0.0) for key, value in _concepts(own.data.concepts, where))
        info = struct_dict(own.annotation_info) if own.annotation_info.fields else None
        chosen = AnnotationFilter(
            concepts=concepts,
            info=info,
            annotation_id=own.id,
            input_id=own.input_id,
            user_id=own.user_id,
            status_code=int(own.status.code),
            by_others=bool(own.model_version_id or own.task_id or own.HasField("worker")),
            inputs=inputs,
            negate=flt.negate,
        )
        if chosen == AnnotationFilter((), None, "", "", "", 0, False, None, flt.negate):
            continue  # sets nothing: no filter (negate alone inverts nothing)
        found.append(chosen)
    return found
