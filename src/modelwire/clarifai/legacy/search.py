"""Legacy search terms, translated to a V2 `PostInputsSearches` query of ranks and filters.

An `InputSearchTerm` matches what inputs *are* (what was added), so each of its fields is a
filter; an `OutputSearchTerm` matches what models *see* in them, so each of its fields is a rank:

| term | V2 query |
|---|---|
| InputSearchTerm(url=) | filter `input.data.image.url` (the URL it was added from) |
| InputSearchTerm(input_id=) | filter `input.id` |
| InputSearchTerm(concept= / concept_id=, value=) | filter `annotation.data.concepts` [{name / id, value}] |
| InputSearchTerm(metadata=) | filter `annotation.data.metadata` (containment) |
| InputSearchTerm(geo=) | filter `annotation.data.geo` (point + limit, or box) |
| OutputSearchTerm(url= / base64=) | rank `annotation.data.image` {url / base64} (visual similarity) |
| OutputSearchTerm(input_id=) | rank `annotation.input_id` (similar to a stored input) |
| OutputSearchTerm(concept= / concept_id=, value=) | rank `annotation.data.concepts` (predicted concepts) |

All terms of a `SearchQueryBuilder` must hold (AND); its `language` applies to concept names.
Concept, metadata and image terms are built by `modelwire.clarifai.search`'s builders.
A term with no field set, or (OutputSearchTerm) with more than one image source, is refused;
`crop` is refused because V2 images have no crop.
"""

from __future__ import annotations

from typing import Any, TypeVar

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.legacy._wire import as_json
from modelwire.clarifai.legacy.geo import Geo
from modelwire.clarifai.legacy.types import CROP_UNSUPPORTED, content_bytes
from modelwire.clarifai.search import build_filter, build_rank

T = TypeVar("T")


def _built(part: T | None) -> T:
    """A rank or filter from the shared builders (always built: every spec here has data)."""
    assert part is not None
    return part


def _concept_specs(
    concept: str | None, concept_id: str | None, value: Any, language: str | None
) -> list[dict[str, Any]]:
    """Builder specs for a term's concept (by name) and concept_id: one each, when set."""
    value = int(value) if isinstance(value, bool) else value
    extra = {"value": value, **({"language": language} if language else {})}
    named = [("name", concept), ("id", concept_id)]
    return [{"concepts": [{key: given, **extra}]} for key, given in named if given]


class SearchTerm:
    """The base of `InputSearchTerm` and `OutputSearchTerm`, the terms a SearchQueryBuilder takes."""

    def _add_to(self, query: resources_pb2.Query, language: str | None, where: str) -> None:
        raise NotImplementedError

    def dict(self) -> dict[str, Any]:
        """The V2 query this term alone makes."""
        query = resources_pb2.Query()
        self._add_to(query, None, type(self).__name__)
        return as_json(query)


class InputSearchTerm(SearchTerm):
    """Match inputs by what was added: `InputSearchTerm(url=, input_id=, concept=, concept_id=,
    value=True, metadata=, geo=)`. Several fields in one term must all match."""

    def __init__(
        self,
        url: str | None = None,
        input_id: str | None = None,
        concept: str | None = None,
        concept_id: str | None = None,
        value: bool = True,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
    ) -> None:
        if all(v is None for v in (url, input_id, concept, concept_id, metadata, geo)):
            raise UserError(
                "InputSearchTerm needs one of url, input_id, concept, concept_id, metadata or geo"
            )
        if geo is not None and not isinstance(geo, Geo):
            raise UserError(f"geo must be a Geo, got {type(geo).__name__}")
        for name, text in (
            ("url", url),
            ("input_id", input_id),
            ("concept", concept),
            ("concept_id", concept_id),
        ):
            if text is not None and (not isinstance(text, str) or not text):
                raise UserError(f"InputSearchTerm {name} must be a non-empty str, got {text!r}")
        self.url = url
        self.input_id = input_id
        self.concept = concept
        self.concept_id = concept_id
        self.value = value
        self.metadata = metadata
        self.geo = geo

    def _add_to(self, query: resources_pb2.Query, language: str | None, where: str) -> None:
        filters = query.filters
        if self.url is not None:
            filters.add().input.data.image.url = self.url
        if self.input_id is not None:
            filters.add().input.id = self.input_id
        for spec in _concept_specs(self.concept, self.concept_id, self.value, language):
            filters.append(_built(build_filter(spec, where)))
        if self.metadata is not None:
            filters.append(_built(build_filter({"metadata": self.metadata}, where)))
        if self.geo is not None:
            if self.geo.geo_point is not None and self.geo.geo_limit is None:
                raise UserError(f"{where}: a geo search needs a geo_limit with its geo_point (or a geo_box)")
            filters.add().annotation.data.geo.CopyFrom(self.geo._proto())

    def __repr__(self) -> str:
        fields = {k: v for k, v in vars(self).items() if v is not None and k != "value"}
        return f"InputSearchTerm({', '.join(f'{k}={v!r}' for k, v in fields.items())}, value={self.value!r})"


class OutputSearchTerm(SearchTerm):
    """Rank inputs by what models see: `OutputSearchTerm(url=, base64=, input_id=)` for visual
    similarity, `OutputSearchTerm(concept=, concept_id=, value=True)` for predicted concepts."""

    def __init__(
        self,
        url: str | None = None,
        base64: str | bytes | None = None,
        input_id: str | None = None,
        concept: str | None = None,
        concept_id: str | None = None,
        value: bool = True,
        crop: Any = None,
    ) -> None:
        if crop is not None:
            raise UserError(CROP_UNSUPPORTED)
        visual = [n for n, v in (("url", url), ("base64", base64), ("input_id", input_id)) if v is not None]
        if len(visual) > 1:
            raise UserError(
                f"OutputSearchTerm takes one image source (url, base64 or input_id), got {visual}"
            )
        if not visual and concept is None and concept_id is None:
            raise UserError("OutputSearchTerm needs one of url, base64, input_id, concept or concept_id")
        if input_id is not None and (not isinstance(input_id, str) or not input_id):
            raise UserError(f"OutputSearchTerm input_id must be a non-empty str, got {input_id!r}")
        self.url = url
        self.base64 = base64
        self.input_id = input_id
        self.concept = concept
        self.concept_id = concept_id
        self.value = value
        self._image_bytes = content_bytes(None, base64, None)

    def _add_to(self, query: resources_pb2.Query, language: str | None, where: str) -> None:
        ranks = query.ranks
        if self.url is not None:
            ranks.append(_built(build_rank({"image_url": self.url}, where)))
        if self._image_bytes is not None:
            ranks.append(_built(build_rank({"image_bytes": self._image_bytes}, where)))
        if self.input_id is not None:
            ranks.add().annotation.input_id = self.input_id
        for spec in _concept_specs(self.concept, self.concept_id, self.value, language):
            ranks.append(_built(build_rank(spec, where)))

    def __repr__(self) -> str:
        shown = {
            k: v for k, v in vars(self).items() if v is not None and not k.startswith("_") and k != "value"
        }
        if "base64" in shown:
            shown["base64"] = "..."
        return f"OutputSearchTerm({', '.join(f'{k}={v!r}' for k, v in shown.items())}, value={self.value!r})"


class SearchQueryBuilder:
    """Terms that must all match: `qb = SearchQueryBuilder(language=None); qb.add_term(term)`."""

    def __init__(self, language: str | None = None) -> None:
        self.language = language
        self.terms: list[SearchTerm] = []

    def add_term(self, term: SearchTerm) -> None:
        """Add a term; every term must match (they are ANDed).

        Args:
            term: An `InputSearchTerm` (what the inputs are: url, input_id, concepts, metadata, geo) or an
                `OutputSearchTerm` (what the model predicts for them: concepts, a similar image).

        Raises:
            UserError: `term` is neither.
        """
        if not isinstance(term, (InputSearchTerm, OutputSearchTerm)):
            raise UserError(
                f"add_term takes an InputSearchTerm or an OutputSearchTerm, got {type(term).__name__}"
            )
        self.terms.append(term)

    def _query(self) -> resources_pb2.Query:
        query = resources_pb2.Query()
        for i, term in enumerate(self.terms):
            term._add_to(query, self.language, f"term {i} ({type(term).__name__})")
        return query

    def dict(self) -> dict[str, Any]:
        """The V2 query sent to PostInputsSearches."""
        return as_json(self._query())
