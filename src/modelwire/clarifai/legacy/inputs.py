"""`app.inputs`: add, read, label, delete and search the app's inputs.

Adding is PostInputs (batches of <= 128, sent concurrently); reading GetInput, ListInputs and
GetInputCount; labels and metadata PatchInputs (merge, overwrite or remove); deleting DeleteInputs
(delete_all lists the ids first: V2's DeleteInputs takes ids only); searching PostInputsSearches
with the query a `SearchQueryBuilder` makes (see `legacy.search`). A failed item of a batch raises
one ApiError that names every failed input (the others were still added).

Outputs. V2 has no per-input outputs resource, so:

* `get_outputs(input_id)` predicts the stored image with Clarifai's general model
  (clarifai/main `general-image-recognition`, what the legacy app's base model was) and applies
  the input's output corrections;
* `merge_outputs_concepts` / `remove_outputs_concepts` store those corrections as one annotation
  per input, id ``outputs-<input_id>``, whose concepts have value 1 (merged: shown with score 1)
  or 0 (removed: hidden). Being annotations, corrections also count in concept searches.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any, cast

from modelwire._core.batching import chunked, run_batches
from modelwire._core.errors import NotFoundError
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai.app import App
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.inputs import Inputs as ModernInputs
from modelwire.clarifai.legacy._wire import (
    DEFAULT_PER_PAGE,
    ITEM_OK,
    MAX_BATCH,
    as_json,
    derived,
    raise_for_items,
    search_items,
)
from modelwire.clarifai.legacy.geo import Geo, GeoBox, GeoLimit, GeoPoint
from modelwire.clarifai.legacy.search import InputSearchTerm, OutputSearchTerm, SearchQueryBuilder, SearchTerm
from modelwire.clarifai.legacy.types import (
    CROP_UNSUPPORTED,
    ApiStatus,
    ConceptLike,
    Image,
    Input,
    InputCounts,
    _Media,
    id_list,
    label,
)
from modelwire.clarifai.lister import _check_page_args
from modelwire.clarifai.model import Model as ModernModel

ACTIONS = ("merge", "overwrite", "remove")
OUTPUTS_MODEL = "general-image-recognition"  # Clarifai's general model, in clarifai/main
_DELETED = ApiStatus(status_code_pb2.SUCCESS, "Ok")
ConceptPair = ConceptLike | tuple[ConceptLike, bool]
SearchResult = list[Input] | dict[str, Any]  # the matching inputs, or (raw=True) the response JSON


def outputs_annotation_id(input_id: str) -> str:
    return f"outputs-{input_id}"


def _value_of(item: ConceptPair) -> tuple[ConceptLike, float]:
    """A concept of a bulk concept list: an id, a Concept, or an (id, positive?) pair."""
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[1], bool):
            raise UserError(f"a concept pair must be (concept_id, True|False), got {item!r}")
        return item[0], 1.0 if item[1] else 0.0
    return item, 1.0


class Inputs:
    """The inputs of the app (`app.inputs`)."""

    def __init__(self, api: App) -> None:
        self.api = api

    # -- adding ------------------------------------------------------------------------------------

    def _post(self, images: list[Input]) -> list[Input]:
        response = self.api._request("PostInputs", inputs=[i._proto() for i in images])
        raise_for_items("PostInputs", response.inputs, lambda item: item.id)
        return [Input._from_proto(i) for i in response.inputs]

    def create_image(self, image: Image) -> Image:
        """Add one image input (PostInputs).

        Args:
            image: The `Image`, with its content (url, file_obj, base64 or filename) and labels.

        Returns:
            The created `Image`.

        Raises:
            UserError: `image` is not an `Image`.
            ApiError: The API refused the input.
        """
        if not isinstance(image, Image):
            raise UserError(f"create_image takes an Image, got {type(image).__name__}")
        return cast(Image, self._post([image])[0])  # the API returns what it was sent: an image

    def bulk_create_images(self, images: Sequence[Image]) -> list[Image]:
        """Add any number of images (batches of 128, sent concurrently); the created Images."""
        items: list[Input] = list(images)
        if not items or not all(isinstance(i, _Media) for i in items):
            raise UserError("bulk_create_images takes a non-empty list of Image objects")
        results = run_batches(self._post, list(chunked(items, MAX_BATCH)), max_workers=4)
        return cast("list[Image]", [created for batch in results for created in batch])

    def _create(
        self,
        source: dict[str, Any],
        image_id: str | None,
        concepts: Sequence[ConceptLike] | None,
        not_concepts: Sequence[ConceptLike] | None,
        crop: Sequence[float] | None,
        metadata: dict[str, Any] | None,
        geo: Geo | None,
        allow_duplicate_url: bool,
    ) -> Image:
        """create_image of an Image with content from `source` (the create_image_from_* methods)."""
        image = Image(
            **source,
            crop=crop,
            image_id=image_id,
            concepts=concepts,
            not_concepts=not_concepts,
            metadata=metadata,
            geo=geo,
            allow_dup_url=allow_duplicate_url,
        )
        return self.create_image(image)

    def create_image_from_url(
        self,
        url: str,
        image_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        crop: Sequence[float] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        allow_duplicate_url: bool = False,
    ) -> Image:
        """Add an image the API fetches from `url`.

        Args:
            url: The image's URL.
            image_id: The input's id (the API makes one when None).
            concepts: Concepts present in the image (ids or `Concept`s).
            not_concepts: Concepts absent from it (negative examples).
            crop: Refused: V2 has no crop (a `UserError` says what to do instead).
            metadata: Any JSON-like dict stored with the input.
            geo: A `Geo` with the input's `GeoPoint`.
            allow_duplicate_url: Allow an image whose URL the app already holds.

        Returns:
            The created `Image`.

        Raises:
            UserError: An argument is malformed, or `crop` was given.
            ApiError: The API refused the input (e.g. a duplicate URL).
        """
        return self._create(
            {"url": url}, image_id, concepts, not_concepts, crop, metadata, geo, allow_duplicate_url
        )

    def create_image_from_filename(
        self,
        filename: str,
        image_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        crop: Sequence[float] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        allow_duplicate_url: bool = False,
    ) -> Image:
        """Add an image from a local file.

        Args:
            filename: The image file to read.
            image_id: The input's id (the API makes one when None).
            concepts: Concepts present in the image (ids or `Concept`s).
            not_concepts: Concepts absent from it (negative examples).
            crop: Refused: V2 has no crop (a `UserError` says what to do instead).
            metadata: Any JSON-like dict stored with the input.
            geo: A `Geo` with the input's `GeoPoint`.
            allow_duplicate_url: Allow an image whose URL the app already holds.

        Returns:
            The created `Image`.

        Raises:
            UserError: The file cannot be read, an argument is malformed, or `crop` was given.
            ApiError: The API refused the input.
        """
        return self._create(
            {"filename": filename}, image_id, concepts, not_concepts, crop, metadata, geo, allow_duplicate_url
        )

    def create_image_from_bytes(
        self,
        img_bytes: bytes,
        image_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        crop: Sequence[float] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        allow_duplicate_url: bool = False,
    ) -> Image:
        """Add an image from its raw bytes.

        Args:
            img_bytes: The image's bytes.
            image_id: The input's id (the API makes one when None).
            concepts: Concepts present in the image (ids or `Concept`s).
            not_concepts: Concepts absent from it (negative examples).
            crop: Refused: V2 has no crop (a `UserError` says what to do instead).
            metadata: Any JSON-like dict stored with the input.
            geo: A `Geo` with the input's `GeoPoint`.
            allow_duplicate_url: Allow an image whose URL the app already holds.

        Returns:
            The created `Image`.

        Raises:
            UserError: `img_bytes` is not bytes, an argument is malformed, or `crop` was given.
            ApiError: The API refused the input.
        """
        if not isinstance(img_bytes, (bytes, bytearray)):
            raise UserError(f"img_bytes must be the raw bytes of an image, got {type(img_bytes).__name__}")
        source = {"file_obj": io.BytesIO(img_bytes)}
        return self._create(
            source, image_id, concepts, not_concepts, crop, metadata, geo, allow_duplicate_url
        )

    def create_image_from_base64(
        self,
        base64_bytes: str | bytes,
        image_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        crop: Sequence[float] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        allow_duplicate_url: bool = False,
    ) -> Image:
        """Add an image from its base64 encoding.

        Args:
            base64_bytes: The image, base64-encoded (str or bytes).
            image_id: The input's id (the API makes one when None).
            concepts: Concepts present in the image (ids or `Concept`s).
            not_concepts: Concepts absent from it (negative examples).
            crop: Refused: V2 has no crop (a `UserError` says what to do instead).
            metadata: Any JSON-like dict stored with the input.
            geo: A `Geo` with the input's `GeoPoint`.
            allow_duplicate_url: Allow an image whose URL the app already holds.

        Returns:
            The created `Image`.

        Raises:
            UserError: An argument is malformed, or `crop` was given.
            ApiError: The API refused the input.
        """
        return self._create(
            {"base64": base64_bytes},
            image_id,
            concepts,
            not_concepts,
            crop,
            metadata,
            geo,
            allow_duplicate_url,
        )

    # -- reading -----------------------------------------------------------------------------------

    def check_status(self) -> InputCounts:
        """The app's inputs by processing state (to_process, processed, errors, ...)."""
        return InputCounts._from_response(self.api._request("GetInputCount"))

    def get(self, input_id: str) -> Input:
        """One input by id (GetInput).

        Returns:
            The `Image` or `Video` (an `Input`).

        Raises:
            ApiError: No such input (a `NotFoundError`), or the call failed.
        """
        return Input._from_proto(self.api._request("GetInput", input_id=input_id).input)

    def _listing(self, page: int | None, per_page: int | None, ignore_error: bool) -> Iterator[Input]:
        items = self.api._list(
            "ListInputs", Input._from_proto, page_no=page, per_page=per_page, items_field="inputs"
        )
        if not ignore_error:
            return items
        return (i for i in items if i.status is None or i.status.code in ITEM_OK)

    def get_all(self, ignore_error: bool = False) -> Iterator[Input]:
        """Every input, newest first, lazily; ignore_error leaves out inputs that failed to process."""
        return self._listing(None, None, ignore_error)

    def get_by_page(
        self, page: int = 1, per_page: int = DEFAULT_PER_PAGE, ignore_error: bool = False
    ) -> list[Input]:
        """One page of the app's inputs, newest first.

        Args:
            page: The page number (1-based).
            per_page: Inputs per page.
            ignore_error: Leave out inputs that failed to process.

        Returns:
            The page's inputs (empty past the last page).
        """
        return list(self._listing(page, per_page, ignore_error))

    # -- deleting ----------------------------------------------------------------------------------

    def delete(self, input_id: str | Sequence[str]) -> ApiStatus:
        """Delete one input (or a list of them)."""
        ids = [input_id] if isinstance(input_id, str) else id_list(input_id, "input_id")
        if not all(ids):
            raise UserError("input_id must be a non-empty str (or a list of them)")
        with derived(self.api, ModernInputs, app_id=self.api.id) as inputs:
            inputs.delete_inputs(ids)
        return _DELETED

    def delete_all(self) -> ApiStatus:
        """Delete every input of the app (see ClarifaiApp.wait_until_inputs_delete_finish)."""
        with derived(self.api, ModernInputs, app_id=self.api.id) as inputs:
            inputs.delete_inputs([i.id for i in inputs.list_inputs()])
        return _DELETED

    # -- labels and metadata -------------------------------------------------------------------------

    def _patch(self, items: Sequence[resources_pb2.Input], action: str) -> list[Input]:
        if action not in ACTIONS:
            raise UserError(f"action must be one of {list(ACTIONS)}, got {action!r}")
        patched: list[Input] = []
        for batch in chunked(items, MAX_BATCH):
            response = self.api._request("PatchInputs", inputs=batch, action=action)
            raise_for_items("PatchInputs", response.inputs, lambda item: item.id)
            patched += [Input._from_proto(i) for i in response.inputs]
        return patched

    @staticmethod
    def _labels(input_id: str, **labels: Any) -> resources_pb2.Input:
        if not isinstance(input_id, str) or not input_id:
            raise UserError(f"input_id must be a non-empty str, got {input_id!r}")
        return Input(input_id, **labels)._proto(content=False)

    def merge_concepts(
        self,
        input_id: str,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        overwrite: bool = False,
    ) -> Input:
        """Add concepts (and negative concepts) to an input; overwrite=True replaces its concepts."""
        item = self._labels(input_id, concepts=concepts, not_concepts=not_concepts)
        return self._patch([item], "overwrite" if overwrite else "merge")[0]

    def add_concepts(
        self,
        input_id: str,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
    ) -> Input:
        """Add concepts (and negative concepts) to an input: `merge_concepts` without overwriting.

        Returns:
            The updated `Input`.

        Raises:
            UserError: `input_id` is empty or a concept is malformed.
            ApiError: No such input, or the call failed.
        """
        return self.merge_concepts(input_id, concepts, not_concepts)

    def delete_concepts(self, input_id: str, concepts: Sequence[ConceptLike]) -> Input:
        """Remove concepts from an input (PatchInputs with action "remove").

        Returns:
            The updated `Input`.

        Raises:
            UserError: `input_id` is empty or a concept is malformed.
            ApiError: No such input, or the call failed.
        """
        return self._patch([self._labels(input_id, concepts=concepts)], "remove")[0]

    def _bulk(
        self, input_ids: str | Sequence[str], concept_lists: Sequence[Sequence[ConceptPair]]
    ) -> list[resources_pb2.Input]:
        # The published docstring passes a single id as a string: take it as a list of one.
        ids = [input_ids] if isinstance(input_ids, str) else id_list(input_ids, "input_ids")
        if isinstance(concept_lists, str) or len(concept_lists) != len(ids):
            raise UserError(f"concept_lists must hold one list of concepts per input id ({len(ids)})")
        items = []
        for input_id, concepts in zip(ids, concept_lists, strict=True):
            if isinstance(concepts, (str, tuple)) or not isinstance(concepts, Sequence):
                raise UserError(f"the concepts of input {input_id!r} must be a list, got {concepts!r}")
            item = self._labels(input_id)
            item.data.concepts.extend(label(*_value_of(c)) for c in concepts)
            items.append(item)
        return items

    def bulk_merge_concepts(
        self, input_ids: str | Sequence[str], concept_lists: Sequence[Sequence[ConceptPair]]
    ) -> list[Input]:
        """Merge concepts into several inputs: per input a list of ids, Concepts or (id, positive?) pairs."""
        return self._patch(self._bulk(input_ids, concept_lists), "merge")

    def bulk_delete_concepts(
        self, input_ids: str | Sequence[str], concept_lists: Sequence[Sequence[ConceptPair]]
    ) -> list[Input]:
        """Remove concepts from several inputs: per input id, a list of concept ids or `Concept`s.

        Args:
            input_ids: The inputs' ids (a single id is taken as a list of one).
            concept_lists: One list of concepts per input id.

        Returns:
            The updated inputs.

        Raises:
            UserError: The lists do not match the ids one to one.
            ApiError: An input failed; the error names every failed one (the others were updated).
        """
        return self._patch(self._bulk(input_ids, concept_lists), "remove")

    def merge_metadata(self, input_id: str, metadata: dict[str, Any]) -> Input:
        """Merge keys into the input's metadata (nested dicts merge too)."""
        if not isinstance(metadata, dict) or not metadata:
            raise UserError(f"metadata must be a non-empty dict, got {metadata!r}")
        return self._patch([self._labels(input_id, metadata=metadata)], "merge")[0]

    def bulk_update(self, images: Sequence[Input], action: str = "merge") -> list[Input]:
        """Patch the concepts, metadata, geo and regions of inputs (found by their input_id)."""
        items = list(images)
        if not items or not all(isinstance(i, Input) and i.input_id for i in items):
            raise UserError("bulk_update takes a non-empty list of Images that have an image_id")
        return self._patch([i._proto(content=False) for i in items], action)

    def update(self, image: Input, action: str = "merge") -> Input:
        """Patch one input, as `bulk_update` does a list of them."""
        if not isinstance(image, Input):
            raise UserError(
                f"update takes one Image (with an image_id), got {type(image).__name__}; "
                "for a list of Images use bulk_update"
            )
        return self.bulk_update([image], action)[0]

    # -- outputs (see the module docstring) ------------------------------------------------------------

    def get_outputs(self, input_id: str) -> dict[str, Any]:
        """The general model's prediction for the stored image, with the input's output corrections
        applied; `outputs[0].input` is the stored input."""
        stored = self.api._request("GetInput", input_id=input_id).input
        if not stored.data.image.url:
            kind = "still being processed" if stored.data.HasField("image") else "not an image"
            raise UserError(f"input {input_id!r} is {kind}: get_outputs predicts processed images")
        query = resources_pb2.Input(id=stored.id)
        query.data.image.url = stored.data.image.url
        with derived(
            self.api, ModernModel, model_id=OUTPUTS_MODEL, user_id="clarifai", app_id="main"
        ) as model:
            response = model.predict([query])
        raise_for_items("PostModelOutputs", response.outputs, lambda output: output.input.id)
        corrections = self.api._request("ListAnnotations", ids=[outputs_annotation_id(input_id)]).annotations
        output = response.outputs[0]
        for annotation in corrections:
            _apply_corrections(output.data.concepts, annotation.data.concepts)
        output.input.CopyFrom(stored)
        return as_json(response)

    def _correct_outputs(self, input_id: str, concept_ids: Sequence[str], value: float) -> dict[str, Any]:
        annotation = resources_pb2.Annotation(id=outputs_annotation_id(input_id), input_id=input_id)
        annotation.data.concepts.extend(
            resources_pb2.Concept(id=i, value=value) for i in id_list(concept_ids, "concept_ids")
        )
        annotation.annotation_info.update({"legacy_outputs": {"model_id": OUTPUTS_MODEL}})
        try:
            response = self.api._request("PatchAnnotations", annotations=[annotation], action="merge")
        except NotFoundError:  # the input's first correction
            response = self.api._request("PostAnnotations", annotations=[annotation])
            raise_for_items("PostAnnotations", response.annotations, lambda a: a.input_id)
        return as_json(response)

    def merge_outputs_concepts(self, input_id: str, concept_ids: Sequence[str]) -> dict[str, Any]:
        """Show these concepts in the input's outputs (score 1); the correction annotation as JSON."""
        return self._correct_outputs(input_id, concept_ids, 1.0)

    def remove_outputs_concepts(self, input_id: str, concept_ids: Sequence[str]) -> dict[str, Any]:
        """Hide these concepts from the input's outputs; the correction annotation as JSON."""
        return self._correct_outputs(input_id, concept_ids, 0.0)

    # -- searching ---------------------------------------------------------------------------------------

    def search(
        self, qb: SearchQueryBuilder, page: int = 1, per_page: int = DEFAULT_PER_PAGE, raw: bool = False
    ) -> SearchResult:
        """One page of the inputs matching every term of `qb`, best first (each with its `score`);
        with raw=True, that page's response as JSON (`hits`: score and input) instead."""
        if not isinstance(qb, SearchQueryBuilder):
            raise UserError(f"search takes a SearchQueryBuilder, got {type(qb).__name__}")
        if raw:
            _check_page_args(page, per_page)
            response = self.api._request(
                "PostInputsSearches",
                searches=[resources_pb2.Search(query=qb._query())],
                pagination=service_pb2.Pagination(page=page, per_page=per_page),
            )
            return as_json(response)
        hits = search_items(
            self.api,
            "PostInputsSearches",
            lambda hit: Input._from_proto(hit.input, hit.score),
            items_field="hits",
            page=page,
            per_page=per_page,
            searches=[resources_pb2.Search(query=qb._query())],
        )
        return list(hits)

    def _search_terms(
        self,
        terms: Sequence[SearchTerm],
        page: int,
        per_page: int,
        raw: bool,
        language: str | None = None,
    ) -> SearchResult:
        qb = SearchQueryBuilder(language)
        for term in terms:
            qb.add_term(term)
        return self.search(qb, page, per_page, raw)

    def search_by_annotated_concepts(
        self,
        concept: str | None = None,
        concepts: Sequence[str] | None = None,
        value: bool = True,
        values: Sequence[bool] | None = None,
        concept_id: str | None = None,
        concept_ids: Sequence[str] | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        raw: bool = False,
    ) -> SearchResult:
        """Inputs labelled with (value=False: not labelled with) every given concept."""
        terms = [
            InputSearchTerm(concept=name, concept_id=cid, value=v)
            for name, cid, v in _concept_terms(concept, concepts, value, values, concept_id, concept_ids)
        ]
        return self._search_terms(terms, page, per_page, raw)

    def search_by_predicted_concepts(
        self,
        concept: str | None = None,
        concepts: Sequence[str] | None = None,
        value: bool = True,
        values: Sequence[bool] | None = None,
        concept_id: str | None = None,
        concept_ids: Sequence[str] | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        lang: str | None = None,
        raw: bool = False,
    ) -> SearchResult:
        """Inputs in which models see every given concept (names in `lang` when given)."""
        terms = [
            OutputSearchTerm(concept=name, concept_id=cid, value=v)
            for name, cid, v in _concept_terms(concept, concepts, value, values, concept_id, concept_ids)
        ]
        return self._search_terms(terms, page, per_page, raw, lang)

    def search_by_geo(
        self,
        geo_point: GeoPoint | None = None,
        geo_limit: GeoLimit | None = None,
        geo_box: GeoBox | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        raw: bool = False,
    ) -> SearchResult:
        """Inputs within `geo_limit` (default 10 miles, as in 2.x) of `geo_point`, or inside `geo_box`."""
        if geo_point is not None and geo_limit is None:
            geo_limit = GeoLimit()
        geo = Geo(geo_point=geo_point, geo_limit=geo_limit, geo_box=geo_box)
        return self._search_terms([InputSearchTerm(geo=geo)], page, per_page, raw)

    def search_by_image(
        self,
        image_id: str | None = None,
        image: Image | None = None,
        url: str | None = None,
        imgbytes: bytes | None = None,
        base64bytes: str | bytes | None = None,
        fileobj: Any = None,
        filename: str | None = None,
        crop: Sequence[float] | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        raw: bool = False,
    ) -> SearchResult:
        """Inputs visually similar to one image given by exactly one of the arguments."""
        if crop is not None:
            raise UserError(CROP_UNSUPPORTED)
        sources = {
            "image_id": image_id,
            "image": image,
            "url": url,
            "imgbytes": imgbytes,
            "base64bytes": base64bytes,
            "fileobj": fileobj,
            "filename": filename,
        }
        given = [name for name, v in sources.items() if v is not None]
        if len(given) != 1:
            raise UserError(f"search_by_image takes exactly one of {list(sources)}, got {given or 'none'}")
        if image_id is not None:
            term = OutputSearchTerm(input_id=image_id)
        else:
            if imgbytes is not None and not isinstance(imgbytes, (bytes, bytearray)):
                raise UserError(f"imgbytes must be the raw bytes of an image, got {type(imgbytes).__name__}")
            query = image or Image(
                url=url,
                file_obj=io.BytesIO(imgbytes) if imgbytes is not None else fileobj,
                base64=base64bytes,
                filename=filename,
            )
            term = _image_term(query)
        return self._search_terms([term], page, per_page, raw)

    def search_by_metadata(
        self, metadata: dict[str, Any], page: int = 1, per_page: int = DEFAULT_PER_PAGE, raw: bool = False
    ) -> SearchResult:
        """Inputs whose metadata contains `metadata` (nested dicts match nested keys)."""
        if not isinstance(metadata, dict) or not metadata:
            raise UserError(f"metadata must be a non-empty dict, got {metadata!r}")
        return self._search_terms([InputSearchTerm(metadata=metadata)], page, per_page, raw)

    def search_by_original_url(
        self, url: str, page: int = 1, per_page: int = DEFAULT_PER_PAGE, raw: bool = False
    ) -> SearchResult:
        """Inputs added from exactly this URL."""
        return self._search_terms([InputSearchTerm(url=url)], page, per_page, raw)


def _image_term(image: Image) -> OutputSearchTerm:
    if not isinstance(image, Image):
        raise UserError(f"image must be an Image, got {type(image).__name__}")
    if image.url:
        return OutputSearchTerm(url=image.url)
    if image.base64 is not None:
        return OutputSearchTerm(base64=image.base64)
    if image.input_id:
        return OutputSearchTerm(input_id=image.input_id)
    raise UserError("the Image to search by has no url, content or image_id")


def _concept_terms(
    concept: str | None,
    concepts: Sequence[str] | None,
    value: bool,
    values: Sequence[bool] | None,
    concept_id: str | None,
    concept_ids: Sequence[str] | None,
) -> list[tuple[str | None, str | None, bool]]:
    """(name, id, value) per concept to search for, from the legacy concept arguments."""
    given = {"concept": concept, "concepts": concepts, "concept_id": concept_id, "concept_ids": concept_ids}
    named = [name for name, v in given.items() if v is not None]
    if len(named) != 1:
        raise UserError(
            f"pass exactly one of concept, concepts, concept_id or concept_ids, got {named or 'none'}"
        )
    if concept is not None or concept_id is not None:
        if values is not None:
            raise UserError("values goes with concepts= or concept_ids=; use value= for one concept")
        return [(concept, concept_id, value)]
    many = id_list(concepts or concept_ids or [], named[0])
    chosen = list(values) if values is not None else [value] * len(many)
    if len(chosen) != len(many):
        raise UserError(f"values must have one value per concept ({len(many)}), got {len(chosen)}")
    if concepts is not None:
        return [(name, None, v) for name, v in zip(many, chosen, strict=True)]
    return [(None, cid, v) for cid, v in zip(many, chosen, strict=True)]


def _apply_corrections(predicted: Any, corrections: Sequence[resources_pb2.Concept]) -> None:
    """Predicted concepts with corrections applied: merged ones first (score 1), removed ones gone."""
    corrected = {c.id for c in corrections}
    kept = [
        resources_pb2.Concept(id=c.id, name=c.name, value=c.value, app_id=c.app_id)
        for c in predicted
        if c.id not in corrected
    ]
    merged = [
        resources_pb2.Concept(id=c.id, name=c.name or c.id, value=1.0) for c in corrections if c.value > 0
    ]
    del predicted[:]
    predicted.extend(merged + kept)
