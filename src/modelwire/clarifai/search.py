"""`Search(user_id, app_id, top_k, metric).query(ranks, filters)`: vector and filter search.

Each rank or filter is a dict; every documented key maps to the wire (`PostInputsSearches`):

| key | goes to |
|---|---|
| image_url, image_bytes, text_raw | `annotation.data.image.url` / `image.base64` / `text.raw` |
| concepts: [{id, name, language, value}] | `annotation.data.concepts` |
| metadata: dict | `annotation.data.metadata` |
| geo_point: {longitude, latitude, geo_limit} | `annotation.data.geo` (limit in kilometers) |
| input_types (filters) | `input.data.<type>` present (image, video, text, audio; any of them) |
| input_dataset_ids (filters) | `input.dataset_ids` |
| input_status_code (filters) | `input.status.code` |

`query` yields one `MultiSearchResponse` per page, as the published SDK does (`response.hits`:
score, input). With `top_k` the pages hold exactly that many hits in all (or fewer if the app has
fewer), paged with one fixed page size so pages never overlap.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

from modelwire._core.paging import Page, Pager
from modelwire._core.wire import bad_input_as
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire.clarifai._base import BaseClient, op
from modelwire.clarifai._proto import merge_into, of_type
from modelwire.clarifai.errors import UserError, reject_not_offered

DEFAULT_TOP_K = 10
DEFAULT_PER_PAGE = 128  # pages of a full listing with pagination=True
MAX_PER_PAGE = 1000  # the API's largest page, and the published SDK's size for page_no alone
METRICS = {
    "cosine": resources_pb2.Search.COSINE_DISTANCE,
    "euclidean": resources_pb2.Search.EUCLIDEAN_DISTANCE,
}
ALGORITHMS = ("nearest_neighbor", "brute_force")
INPUT_TYPES = ("image", "video", "text", "audio")
_DATA_KEYS = ("image_url", "image_bytes", "text_raw", "concepts", "metadata", "geo_point")
_FILTER_KEYS = ("input_types", "input_dataset_ids", "input_status_code")
_CONCEPT_KEYS = {"id", "name", "language", "value"}


def _data_for(spec: dict[str, Any], where: str) -> resources_pb2.Data | None:
    """The annotation data a rank/filter dict describes, or None when it has no data keys."""
    if not any(k in spec for k in _DATA_KEYS):
        return None
    data = resources_pb2.Data()
    if "image_url" in spec:
        url = spec["image_url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "file://")):
            raise UserError(f"{where}: image_url must be an http(s):// (or file://) URL, got {url!r}")
        data.image.url = url
    if "image_bytes" in spec:
        if not isinstance(spec["image_bytes"], (bytes, bytearray)) or not spec["image_bytes"]:
            raise UserError(f"{where}: image_bytes must be non-empty bytes")
        data.image.base64 = bytes(spec["image_bytes"])
    if "text_raw" in spec:
        if not isinstance(spec["text_raw"], str) or not spec["text_raw"].strip():
            raise UserError(f"{where}: text_raw must be a non-empty str")
        data.text.raw = spec["text_raw"]
    if "metadata" in spec:
        if not isinstance(spec["metadata"], dict) and not of_type(spec["metadata"], type(data.metadata)):
            raise UserError(f"{where}: metadata must be a dict (or a google.protobuf.Struct)")
        merge_into(data.metadata, spec["metadata"], what=f"{where}: metadata")
    if "concepts" in spec:
        _add_concepts(data, spec["concepts"], where)
    if "geo_point" in spec:
        _add_geo(data, spec["geo_point"], where)
    return data


def _add_concepts(data: resources_pb2.Data, concepts: Any, where: str) -> None:
    if not isinstance(concepts, list) or not concepts:
        raise UserError(f"{where}: concepts must be a non-empty list of dicts")
    for i, concept in enumerate(concepts):
        if not isinstance(concept, dict) or not set(concept) <= _CONCEPT_KEYS:
            raise UserError(f"{where}: concepts[{i}] must be a dict with keys from {sorted(_CONCEPT_KEYS)}")
        if not (concept.get("id") or concept.get("name")):
            raise UserError(f"{where}: concepts[{i}] needs an 'id' or a 'name'")
        value = concept.get("value", 1)
        if value not in (0, 1):
            raise UserError(f"{where}: concepts[{i}].value must be 0 or 1, got {value!r}")
        data.concepts.add(
            id=concept.get("id", ""),
            name=concept.get("name", ""),
            language=concept.get("language", ""),
            value=value,
        )


def _add_geo(data: resources_pb2.Data, geo: Any, where: str) -> None:
    if not isinstance(geo, dict) or not {"longitude", "latitude", "geo_limit"} <= set(geo):
        raise UserError(f"{where}: geo_point must be a dict with longitude, latitude and geo_limit (km)")
    try:
        lon, lat, limit = float(geo["longitude"]), float(geo["latitude"]), float(geo["geo_limit"])
    except (TypeError, ValueError):
        raise UserError(f"{where}: geo_point values must be numbers") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or limit <= 0:
        raise UserError(f"{where}: geo_point needs -180<=longitude<=180, -90<=latitude<=90, geo_limit>0")
    data.geo.geo_point.longitude, data.geo.geo_point.latitude = lon, lat
    data.geo.geo_limit.type, data.geo.geo_limit.value = "withinKilometers", limit


def _check_keys(spec: Any, allowed: Sequence[str], where: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise UserError(f"{where} must be a dict, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise UserError(f"{where}: unknown key(s) {unknown}; allowed: {list(allowed)}")
    return spec


def build_rank(spec: Any, where: str) -> resources_pb2.Rank | None:
    data = _data_for(_check_keys(spec, _DATA_KEYS, where), where)
    return resources_pb2.Rank(annotation=resources_pb2.Annotation(data=data)) if data is not None else None


def build_filter(spec: Any, where: str) -> resources_pb2.Filter | None:
    """Without mutating the caller's dict (the published client popped keys out of it)."""
    spec = _check_keys(spec, (*_DATA_KEYS, *_FILTER_KEYS), where)
    result = resources_pb2.Filter()
    data = _data_for(spec, where)
    if data is not None:
        result.annotation.data.CopyFrom(data)
    if "input_types" in spec:
        types = spec["input_types"]
        if not isinstance(types, list) or not types or not set(types) <= set(INPUT_TYPES):
            raise UserError(f"{where}: input_types must be a non-empty list from {list(INPUT_TYPES)}")
        for kind in types:
            getattr(result.input.data, kind).SetInParent()
    if "input_dataset_ids" in spec:
        ids = spec["input_dataset_ids"]
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise UserError(f"{where}: input_dataset_ids must be a list of dataset ids")
        result.input.dataset_ids.extend(ids)
    if "input_status_code" in spec:
        code = spec["input_status_code"]
        if isinstance(code, bool) or not isinstance(code, int):
            raise UserError(f"{where}: input_status_code must be an int such as 30000")
        result.input.status.code = code  # type: ignore[assignment]
    return result if result.ByteSize() else None


class Search(BaseClient):
    """`Search(user_id, app_id, top_k=10, metric="cosine")`."""

    def __init__(
        self,
        user_id: str = "",
        app_id: str = "",
        top_k: int | None = None,
        metric: str = "cosine",
        algorithm: str = "nearest_neighbor",
        pagination: bool = False,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        reject_not_offered(kwargs, "Search")
        if metric not in METRICS:
            raise UserError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
        if algorithm not in ALGORITHMS:
            raise UserError(f"algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}")
        if top_k is not None and pagination:
            raise UserError("top_k and pagination=True cannot be combined: use one")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise UserError(f"top_k must be a positive int, got {top_k!r}")
        super().__init__(
            user_id=user_id or None, app_id=app_id, base_url=base_url, pat=pat, token=token, **kwargs
        )
        if not self.app_id:
            raise UserError("Search needs app_id='...'")
        self.top_k = None if pagination else (top_k or DEFAULT_TOP_K)
        self.metric = metric
        # The published attribute: the wire name of the metric ("COSINE_DISTANCE", ...).
        self.metric_distance = resources_pb2.Search.Metric.Name(METRICS[metric])
        self.algorithm = algorithm
        self.pagination = pagination

    @bad_input_as(UserError)
    def _search(self, ranks: Sequence[Any] | None, filters: Sequence[Any] | None) -> resources_pb2.Search:
        search = resources_pb2.Search(algorithm=self.algorithm, metric=METRICS[self.metric])
        for i, spec in enumerate(ranks or []):
            rank = build_rank(spec, f"ranks[{i}]")
            if rank is not None:
                search.query.ranks.append(rank)
        for i, spec in enumerate(filters or []):
            built = build_filter(spec, f"filters[{i}]")
            if built is not None:
                search.query.filters.append(built)
        return search

    def query(
        self,
        ranks: Sequence[dict[str, Any]] | None = None,
        filters: Sequence[dict[str, Any]] | None = None,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[service_pb2.MultiSearchResponse]:
        """Yield one `MultiSearchResponse` per page of hits, best first, as published
        (`for response in search.query(...): response.hits`).

        With `top_k` the pages hold exactly `top_k` hits in all (fewer if the app has fewer). With
        `pagination=True`: one page when `page_no` or `per_page` is given (page 1 and 1000 hits
        unless told), else every page. A page without hits is not yielded."""
        search = self._search(ranks, filters)
        if self.top_k is not None:
            if page_no is not None or per_page is not None:
                raise UserError("page_no/per_page need Search(pagination=True) (this search uses top_k)")
            # One fixed page size, so pages never overlap; the pager trims the last to top_k.
            return self._pages(search, 1, min(self.top_k, MAX_PER_PAGE), max_hits=self.top_k)
        for name, value in (("page_no", page_no), ("per_page", per_page)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise UserError(f"{name} must be a positive int, got {value!r}")
        if per_page is not None and per_page > MAX_PER_PAGE:
            raise UserError(f"per_page must be at most {MAX_PER_PAGE} (the API's limit), got {per_page}")
        if page_no is None and per_page is None:
            return self._pages(search, 1, DEFAULT_PER_PAGE, max_hits=None)
        size = per_page or MAX_PER_PAGE
        return self._pages(search, page_no or 1, size, max_hits=size)

    def _pages(
        self, search: resources_pb2.Search, page: int, per_page: int, *, max_hits: int | None
    ) -> Iterator[service_pb2.MultiSearchResponse]:
        request = op("PostInputsSearches").request_type(
            user_app_id=self.user_app_id,
            searches=[search],
            pagination=service_pb2.Pagination(page=page, per_page=per_page),
        )
        pager: Pager[Any, Page[Any]] = Pager(
            functools.partial(self._grpc_request, "PostInputsSearches"),
            request,
            _SearchPages(),
            shape_item=lambda hit: hit,
            shape_page=_trimmed,
            max_items=max_hits,
        )
        return (page.response for page in pager.pages() if page.items)


class _SearchPages:
    """Numbered pages whose number sits in the request's `pagination` (not at its top level, where
    the core's PageNumber looks): a page shorter than `per_page` is the last."""

    def items(self, response: Any) -> Sequence[Any]:
        return response.hits  # type: ignore[no-any-return]

    def next_request(self, request: Any, response: Any) -> Any | None:
        if len(response.hits) < request.pagination.per_page:
            return None
        following = type(request)()
        following.CopyFrom(request)
        following.pagination.page += 1
        return following


def _trimmed(response: Any, hits: list[Any]) -> Page[Any]:
    """The page, its response holding only the hits the pager kept (the last of top_k)."""
    if len(hits) < len(response.hits):
        del response.hits[len(hits) :]
    return Page(hits, response)
