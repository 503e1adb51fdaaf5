"""`app.models` and `Model`: the app's models and Clarifai's public ones.

Models are the legacy "concept models": `models.create` makes an ``embedding-classifier`` (the V2
type the legacy API created, a classifier transfer-learned on the general embeddings) whose
model-level `output_info` lists its concepts; `Model.train` asks for a new version, which trains on
the app's inputs labelled with those concepts, and waits for it with backoff.

Finding a model. `models.get(model_id=...)` looks in the app, then among Clarifai's public models
(clarifai/main). `models.get(name)` resolves a name once and caches name -> model id (filled by
these lookups, or all at once by `init_model_cache`; a deleted or renamed model is resolved
again). A legacy public name (``general-v1.3``) maps to today's model
(``general-image-recognition``); any other name is tried as an id in the app, then searched for
(PostModelsSearches: the app's models, then public ones; a name shared by several models is an
error, not a guess), then tried as a public model id. Making a ClarifaiApp costs no request.

What V2 no longer has:

* ``closed_environment``: V2's OutputConfig has no such field any more (the legacy API had
  ``bool closed_environment = 2``; clarifai-grpc 12.6.0 neither declares nor reserves it), so True
  is refused (False is what V2 does);
* model feedback (PostModelFeedback): `send_concept_feedback` / `send_region_feedback` store the
  feedback as an annotation of the input in the app (added from `url` first if the app lacks it),
  with the model and the FeedbackInfo in ``annotation_info.feedback``.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterator, Sequence
from typing import Any

from google.protobuf import json_format

from modelwire._core.errors import NotFoundError
from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire.clarifai.app import App
from modelwire.clarifai.errors import UserError, status_name
from modelwire.clarifai.legacy._wire import (
    DEFAULT_PER_PAGE,
    ITEM_OK,
    PUBLIC,
    api_error,
    app_name,
    as_json,
    call,
    derived,
    raise_for_items,
    scope_of,
    scoped_list,
    search_items,
    timestamp_text,
)
from modelwire.clarifai.legacy.types import (
    Concept,
    ConceptLike,
    FeedbackInfo,
    Image,
    Input,
    Region,
    Video,
    concept_list,
    id_list,
    struct_of,
)
from modelwire.clarifai.model import Model as ModernModel

MODEL_TYPE = "embedding-classifier"  # the type of the legacy API's custom concept models
# Legacy names and ids of Clarifai's public models -> their V2 ids in clarifai/main.
LEGACY_PUBLIC_MODELS = {
    "general-v1.3": "general-image-recognition",
    "aaa03c23b3724a16a56b629203edc62c": "general-image-recognition",
}
# Legacy model types -> the V2 model types they cover (other values are V2 type ids).
LEGACY_MODEL_TYPES = {
    "concept": ("embedding-classifier", "visual-classifier", "text-classifier"),
    "embed": ("visual-embedder", "text-embedder"),
    "facedetect": ("visual-detector",),
    "detect-concept": ("visual-detector",),
    "cluster": ("clusterer",),
}
CLOSED_ENVIRONMENT_GONE = (
    "closed_environment is not supported: the Clarifai V2 API removed it from the model's output "
    "config (models train with negatives when concepts_mutually_exclusive is False)"
)
_ACTIONS = ("merge", "remove", "overwrite")


def _type_matches(model_type_id: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    return model_type_id in LEGACY_MODEL_TYPES.get(wanted, (wanted,))


def _output_info(info: resources_pb2.Model) -> resources_pb2.OutputInfo:
    """The model's concepts and output config: the model's own (what create/update set), else its
    version's (public models keep them there)."""
    if info.output_info.data.concepts or not info.model_version.HasField("output_info"):
        return info.output_info
    return info.model_version.output_info


class Model:
    """A model of the app or a public one: `Model(api, item=None, model_id=None)` (app.models makes them)."""

    def __init__(
        self,
        api: App,
        item: resources_pb2.Model | dict[str, Any] | None = None,
        model_id: str | None = None,
        solutions: object = None,
    ) -> None:
        if solutions is not None:
            # 2.6.2's Models hands each Model its client of the Solutions API (moderation); V2 and
            # this client have none, and silently dropping it would hide that.
            raise UserError(
                "Model(solutions=...): the Solutions API client of clarifai 2.x is not offered here"
            )
        if item is None and not model_id:
            raise UserError("Model needs an item (the model) or a model_id")
        if isinstance(item, dict):
            item = json_format.ParseDict(item, resources_pb2.Model(), ignore_unknown_fields=True)
        self.api = api
        self._apply(item if item is not None else resources_pb2.Model(id=model_id or ""))

    def _apply(self, info: resources_pb2.Model) -> None:
        self._info = info
        self.model_id: str = info.id
        self.model_name: str = info.name or info.id
        self.user_id: str = info.user_id or self.api.user_id
        self.app_id: str = info.app_id or self.api.id
        self.model_type_id: str = info.model_type_id
        self.created_at = timestamp_text(info, "created_at")
        self.model_version: str | None = info.model_version.id or None
        output = _output_info(info)
        config = output.output_config
        self.output_info = as_json(output)
        self.concepts: list[str] = [c.id for c in output.data.concepts]
        self.concepts_mutually_exclusive: bool = config.concepts_mutually_exclusive
        self.closed_environment = False  # not in V2 (see the module docstring)
        self.hyper_parameters = (
            json_format.MessageToDict(config.hyper_params) if config.HasField("hyper_params") else None
        )

    @property
    def _scope(self) -> resources_pb2.UserAppIDSet | None:
        """The model's owner when it is not the app (None: the app's own model)."""
        return scope_of(self.api, self.user_id, self.app_id)

    def _call(self, name: str, **fields: Any) -> Any:
        return call(self.api, name, self._scope, model_id=self.model_id, **fields)

    def _modern(self) -> Any:
        """The modern Model, for one operation; it predicts with the newest trained version."""
        info = resources_pb2.Model()
        info.CopyFrom(self._info)
        info.ClearField("model_version")
        return derived(
            self.api,
            ModernModel,
            model_id=self.model_id,
            model_info=info,
            user_id=self.user_id,
            app_id=self.app_id,
        )

    # -- info and versions ------------------------------------------------------------------------------

    def get_info(self, verbose: bool = False) -> dict[str, Any]:
        """The model (GetModel) as JSON; with verbose, including its concepts (`output_info.data`)."""
        response = self._call("GetModel")
        self._apply(response.model)
        result = as_json(response)
        if not verbose:
            model = result.get("model", {})
            for holder in (model, model.get("model_version", {})):
                holder.get("output_info", {}).pop("data", None)
        return result

    def get_concept_ids(self) -> list[str]:
        """The ids of the concepts the model predicts (fetches the model's info first).

        Raises:
            ApiError: The model cannot be fetched.
        """
        self.get_info()
        return list(self.concepts)

    def get_version(self, version_id: str) -> dict[str, Any]:
        """One version of this model (GetModelVersion), as JSON.

        Returns:
            The response as a dict with snake_case keys (`model_version`, `status`).

        Raises:
            ApiError: No such version, or the call failed.
        """
        return as_json(self._call("GetModelVersion", version_id=version_id))

    def list_versions(self) -> dict[str, Any]:
        """Every version, newest first, as the JSON of one list response."""
        versions = scoped_list(
            self.api,
            "ListModelVersions",
            as_json,
            self._scope,
            items_field="model_versions",
            model_id=self.model_id,
        )
        ok = status_pb2.Status(code=status_code_pb2.SUCCESS, description="Ok")
        return {"status": as_json(ok), "model_versions": list(versions)}

    def delete_version(self, version_id: str) -> dict[str, Any]:
        """Delete one version of this model (DeleteModelVersion).

        Returns:
            The response's JSON (its `status`).

        Raises:
            ApiError: No such version, or the call failed.
        """
        return as_json(self._call("DeleteModelVersion", version_id=version_id))

    def create_version(self) -> dict[str, Any]:
        """A new version of the model, trained on its concepts as they are now (PostModelVersions,
        not waited for: `train(sync=False)`); the response as JSON."""
        return as_json(self._post_version())

    def evaluate(self) -> dict[str, Any]:
        """Evaluate this Model's version (PostModelVersionMetrics); the response as JSON. Needs
        `model_version` (a Model from `train()` or `models.get()` of a trained model has it)."""
        if not self.model_version:
            raise UserError("evaluate needs the model's version: set model.model_version = '<version id>'")
        return as_json(self._call("PostModelVersionMetrics", version_id=self.model_version))

    # -- concepts and settings --------------------------------------------------------------------------

    def update(
        self,
        action: str = "merge",
        model_name: str | None = None,
        concepts_mutually_exclusive: bool | None = None,
        closed_environment: bool | None = None,
        concept_ids: Sequence[str] | None = None,
    ) -> Model:
        """Patch the name, concepts (merge, remove or overwrite) or concepts_mutually_exclusive;
        with nothing to change, no request is made."""
        if action not in _ACTIONS:
            raise UserError(f"action must be one of {list(_ACTIONS)}, got {action!r}")
        if closed_environment:
            raise UserError(CLOSED_ENVIRONMENT_GONE)
        if model_name is None and concepts_mutually_exclusive is None and concept_ids is None:
            return self
        patch = resources_pb2.Model(id=self.model_id, name=model_name or "")
        if concept_ids is not None:
            ids = id_list(concept_ids, "concept_ids")
            patch.output_info.data.concepts.extend(resources_pb2.Concept(id=i) for i in ids)
        if concepts_mutually_exclusive is not None:
            patch.output_info.output_config.concepts_mutually_exclusive = bool(concepts_mutually_exclusive)
        response = call(self.api, "PatchModels", self._scope, models=[patch], action=action)
        self._apply(response.models[0])
        return self

    def merge_concepts(self, concept_ids: Sequence[str], overwrite: bool = False) -> Model:
        """Add concepts to the model (PatchModels); `overwrite=True` replaces its concepts instead.

        Returns:
            This `Model`, updated.

        Raises:
            ApiError: The call failed.
        """
        return self.update(action="overwrite" if overwrite else "merge", concept_ids=concept_ids)

    def add_concepts(self, concept_ids: Sequence[str]) -> Model:
        """Add concepts to the model: `merge_concepts` without overwriting.

        Returns:
            This `Model`, updated.
        """
        return self.merge_concepts(concept_ids)

    def delete_concepts(self, concept_ids: Sequence[str]) -> Model:
        """Remove concepts from the model (PatchModels with action "remove").

        Returns:
            This `Model`, updated.
        """
        return self.update(action="remove", concept_ids=concept_ids)

    # -- training ----------------------------------------------------------------------------------------

    def _post_version(self) -> Any:
        """PostModelVersions with the model's concepts and output config as they are now."""
        self._apply(self._call("GetModel").model)
        version = resources_pb2.ModelVersion()
        output = _output_info(self._info)
        version.output_info.data.concepts.extend(output.data.concepts)
        version.output_info.output_config.CopyFrom(output.output_config)
        return self._call("PostModelVersions", model_versions=[version])

    def train(self, sync: bool = True, timeout: float = 60) -> Model | dict[str, Any]:
        """Train a new version on the app's inputs labelled with the model's concepts. With sync,
        wait (polling with backoff, at most `timeout` seconds) and return the trained Model; an
        unsuccessful training raises ApiError, running out of time ApiClientError. Without sync,
        the PostModelVersions response as JSON."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise UserError(f"timeout must be a positive number of seconds, got {timeout!r}")
        response = self._post_version()
        if not sync:
            return as_json(response)
        version_id = response.model.model_version.id
        with self._modern() as modern:
            status = modern.wait_for_training(version_id, timeout=timeout)
        if status.code != status_code_pb2.MODEL_TRAINED:
            details = f"version {version_id} of model {self.model_id!r} ended {status_name(status.code)}"
            raise api_error(
                "GetModelVersion", status.code, status.description, f"{details}: {status.details}"
            )
        response.model.model_version.status.CopyFrom(status)
        self._apply(response.model)
        return self

    # -- predictions ------------------------------------------------------------------------------------

    def predict(
        self, inputs: Sequence[Input], model_output_info: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Predict Images/Videos (any number: batches of 128 are sent concurrently); the response
        as JSON, outputs in input order. `model_output_info` is `{"output_config": {...}}`
        (min_value, max_concepts, select_concepts, language, ...). A failed input has its own status
        in its output; when every input failed, ApiError is raised."""
        items = list(inputs)
        if not items or not all(isinstance(i, Input) for i in items):
            raise UserError("predict takes a non-empty list of Image or Video objects")
        info = dict(model_output_info or {})
        unknown = sorted(set(info) - {"output_config"})
        if unknown:
            raise UserError(f"model_output_info takes only 'output_config', got {unknown}")
        with self._modern() as modern:
            response = modern.predict([i._proto() for i in items], output_config=info.get("output_config"))
        if all(output.status.code not in ITEM_OK for output in response.outputs):
            raise_for_items("PostModelOutputs", response.outputs, lambda output: output.input.id)
        return as_json(response)

    def _predict_one(
        self,
        media: Input,
        lang: str | None,
        min_value: float | None,
        max_concepts: int | None,
        select_concepts: Sequence[ConceptLike] | None,
        sample_ms: int | None = None,
    ) -> dict[str, Any]:
        if sample_ms is not None and (
            isinstance(sample_ms, bool) or not isinstance(sample_ms, int) or sample_ms <= 0
        ):
            raise UserError(
                f"sample_ms must be a positive int (milliseconds between video frames), got {sample_ms!r}"
            )
        if min_value is not None and not (isinstance(min_value, (int, float)) and 0 <= min_value <= 1):
            raise UserError(f"min_value must be between 0 and 1, got {min_value!r}")
        if max_concepts is not None and (
            isinstance(max_concepts, bool) or not isinstance(max_concepts, int) or not 0 < max_concepts <= 200
        ):
            raise UserError(f"max_concepts must be an int from 1 to 200, got {max_concepts!r}")
        selected = [
            {"id": c.concept_id or "", "name": c.concept_name or ""}
            if isinstance(c, Concept)
            else {"name": c}
            for c in concept_list(select_concepts, "select_concepts")
        ]
        config = {
            "language": lang,
            "min_value": min_value,
            "max_concepts": max_concepts,
            "select_concepts": selected or None,
            "sample_ms": sample_ms,
        }
        chosen = {k: v for k, v in config.items() if v is not None}
        return self.predict([media], {"output_config": chosen} if chosen else None)

    def predict_by_url(
        self,
        url: str,
        lang: str | None = None,
        is_video: bool = False,
        min_value: float | None = None,
        max_concepts: int | None = None,
        select_concepts: Sequence[ConceptLike] | None = None,
        sample_ms: int | None = None,
    ) -> dict[str, Any]:
        """Predict on an image (or video) the API fetches from `url`.

        Args:
            url: The content's URL.
            lang: The language of the concept names returned (e.g. "en").
            is_video: Predict on a video (frame by frame) instead of an image.
            min_value: Only concepts scored at least this (0 to 1).
            max_concepts: At most this many concepts per output (1 to 200).
            select_concepts: Only these concepts (names or `Concept`s).
            sample_ms: For a video, milliseconds between sampled frames.

        Returns:
            The PostModelOutputs response as JSON (snake_case keys), one output.

        Raises:
            UserError: An argument is out of range.
            ApiError: The prediction failed.
        """
        media = Video(url=url) if is_video else Image(url=url)
        return self._predict_one(media, lang, min_value, max_concepts, select_concepts, sample_ms)

    def predict_by_filename(
        self,
        filename: str,
        lang: str | None = None,
        is_video: bool = False,
        min_value: float | None = None,
        max_concepts: int | None = None,
        select_concepts: Sequence[ConceptLike] | None = None,
        sample_ms: int | None = None,
    ) -> dict[str, Any]:
        """Predict on a local image (or video) file.

        Args:
            filename: The file to read.
            lang: The language of the concept names returned (e.g. "en").
            is_video: Predict on a video (frame by frame) instead of an image.
            min_value: Only concepts scored at least this (0 to 1).
            max_concepts: At most this many concepts per output (1 to 200).
            select_concepts: Only these concepts (names or `Concept`s).
            sample_ms: For a video, milliseconds between sampled frames.

        Returns:
            The PostModelOutputs response as JSON (snake_case keys), one output.

        Raises:
            UserError: The file cannot be read, or an argument is out of range.
            ApiError: The prediction failed.
        """
        media = Video(filename=filename) if is_video else Image(filename=filename)
        return self._predict_one(media, lang, min_value, max_concepts, select_concepts, sample_ms)

    def predict_by_bytes(
        self,
        raw_bytes: bytes,
        lang: str | None = None,
        is_video: bool = False,
        min_value: float | None = None,
        max_concepts: int | None = None,
        select_concepts: Sequence[ConceptLike] | None = None,
        sample_ms: int | None = None,
    ) -> dict[str, Any]:
        """Predict on an image (or video) given as raw bytes.

        Args:
            raw_bytes: The content's bytes.
            lang: The language of the concept names returned (e.g. "en").
            is_video: Predict on a video (frame by frame) instead of an image.
            min_value: Only concepts scored at least this (0 to 1).
            max_concepts: At most this many concepts per output (1 to 200).
            select_concepts: Only these concepts (names or `Concept`s).
            sample_ms: For a video, milliseconds between sampled frames.

        Returns:
            The PostModelOutputs response as JSON (snake_case keys), one output.

        Raises:
            UserError: `raw_bytes` is not bytes, or an argument is out of range.
            ApiError: The prediction failed.
        """
        if not isinstance(raw_bytes, (bytes, bytearray)):
            raise UserError(f"raw_bytes must be bytes, got {type(raw_bytes).__name__}")
        encoded = b64encode(raw_bytes)
        media = Video(base64=encoded) if is_video else Image(base64=encoded)
        return self._predict_one(media, lang, min_value, max_concepts, select_concepts, sample_ms)

    def predict_by_base64(
        self,
        base64_bytes: str | bytes,
        lang: str | None = None,
        is_video: bool = False,
        min_value: float | None = None,
        max_concepts: int | None = None,
        select_concepts: Sequence[ConceptLike] | None = None,
        sample_ms: int | None = None,
    ) -> dict[str, Any]:
        """Predict on an image (or video) given base64-encoded.

        Args:
            base64_bytes: The content, base64-encoded (str or bytes).
            lang: The language of the concept names returned (e.g. "en").
            is_video: Predict on a video (frame by frame) instead of an image.
            min_value: Only concepts scored at least this (0 to 1).
            max_concepts: At most this many concepts per output (1 to 200).
            select_concepts: Only these concepts (names or `Concept`s).
            sample_ms: For a video, milliseconds between sampled frames.

        Returns:
            The PostModelOutputs response as JSON (snake_case keys), one output.

        Raises:
            UserError: An argument is out of range.
            ApiError: The prediction failed.
        """
        media = Video(base64=base64_bytes) if is_video else Image(base64=base64_bytes)
        return self._predict_one(media, lang, min_value, max_concepts, select_concepts, sample_ms)

    # -- feedback (annotations, see the module docstring) -------------------------------------------------

    def _feedback(self, input_id: str, url: str | None, labels: Input, kind: str) -> dict[str, Any]:
        if not (labels.concepts or labels.not_concepts or labels.regions):
            raise UserError(f"{kind} feedback needs concepts, not_concepts or regions")
        if url is not None:
            # Add the input unless the app has it: SKIP reports an existing id instead of failing.
            added = self.api._request(
                "PostInputs",
                inputs=[Image(url=url, image_id=input_id)._proto()],
                input_id_conflict_resolution=resources_pb2.InputIDConflictResolution.SKIP,
            )
            raise_for_items(
                "PostInputs",
                added.inputs,
                lambda i: i.id,
                ignore=frozenset({status_code_pb2.INPUT_DUPLICATE}),
            )
        feedback: dict[str, Any] = {
            "kind": kind,
            "model_id": self.model_id,
            "model_user_id": self.user_id,
            "model_app_id": self.app_id,
        }
        if labels.feedback_info is not None:
            feedback.update(labels.feedback_info.dict())
        region_types = [r.region_info.feedback_type if r.region_info else None for r in labels.regions]
        if any(region_types):
            feedback["region_feedback_types"] = region_types
        annotation = resources_pb2.Annotation(input_id=input_id, data=labels._labels())
        annotation.annotation_info.update({"feedback": feedback})
        response = self.api._request("PostAnnotations", annotations=[annotation])
        raise_for_items("PostAnnotations", response.annotations, lambda a: a.input_id)
        return as_json(response)

    def send_concept_feedback(
        self,
        input_id: str,
        url: str | None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        feedback_info: FeedbackInfo | None = None,
    ) -> dict[str, Any]:
        """Record which concepts the input does (and does not) have, as feedback on this model."""
        labels = Input(input_id, concepts, not_concepts, feedback_info=feedback_info)
        return self._feedback(input_id, url, labels, "concept")

    def send_region_feedback(
        self,
        input_id: str,
        url: str | None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        regions: Sequence[Region] | None = None,
        feedback_info: FeedbackInfo | None = None,
    ) -> dict[str, Any]:
        """Record regions (with their concepts and feedback_type) of the input, as feedback on this model."""
        labels = Input(input_id, concepts, not_concepts, regions=regions, feedback_info=feedback_info)
        return self._feedback(input_id, url, labels, "region")

    # Last in the class: below it, `dict[...]` in an annotation would name this method.
    def dict(self) -> dict[str, Any]:
        """The model as the legacy JSON (id, name, concepts and output config)."""
        config = {
            "concepts_mutually_exclusive": self.concepts_mutually_exclusive,
            "closed_environment": self.closed_environment,
        }
        model: dict[str, Any] = {"id": self.model_id, "name": self.model_name}
        model["output_info"] = {"output_config": config}
        if self.concepts:
            model["output_info"]["data"] = {"concepts": [{"id": c} for c in self.concepts]}
        return {"model": model}

    def get_inputs(
        self, version_id: str | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> list[Input]:
        """One page of the inputs the model (or one version of it) trains on."""
        listing = scoped_list(
            self.api,
            "ListModelInputs",
            Input._from_proto,
            self._scope,
            items_field="inputs",
            page_no=page,
            per_page=per_page,
            model_id=self.model_id,
            version_id=version_id or "",
        )
        return list(listing)

    def __repr__(self) -> str:
        owner = f"{self.user_id}/{self.app_id}"
        return f"Model(model_id={self.model_id!r}, model_name={self.model_name!r}, owner={owner!r})"


class Models:
    """The models of the app, and Clarifai's public ones (`app.models`)."""

    def __init__(self, api: App) -> None:
        self.api = api
        self._cache: dict[str, tuple[str, str, str]] = {}  # model name -> (user_id, app_id, model_id)

    # -- the name cache --------------------------------------------------------------------------------

    def clear_model_cache(self) -> None:
        """Forget the model names resolved so far."""
        self._cache.clear()

    def init_model_cache(self) -> dict[str, dict[str, str]]:
        """Remember every model listed for the app now by name (a name several models share is left
        out: `get` refuses to guess); the cache as {name: {model_id, user_id, app_id}}."""
        by_name: dict[str, list[Model]] = {}
        for model in self.get_all():
            by_name.setdefault(model.model_name, []).append(model)
        for models in by_name.values():
            if len(models) == 1:
                self._remember(models[0])
        return {
            name: {"model_id": model_id, "user_id": user_id, "app_id": app_id}
            for name, (user_id, app_id, model_id) in self._cache.items()
        }

    def _remember(self, model: Model) -> Model:
        self._cache[model.model_name] = (model.user_id, model.app_id, model.model_id)
        return model

    def _model(self, info: resources_pb2.Model) -> Model:
        return Model(self.api, item=info)

    def _forget(self, model_id: str) -> None:
        for name in [n for n, (_, _, i) in self._cache.items() if i == model_id]:
            del self._cache[name]

    # -- finding -------------------------------------------------------------------------------------------

    def _fetch(self, model_id: str, scope: resources_pb2.UserAppIDSet | None = None) -> resources_pb2.Model:
        return call(self.api, "GetModel", scope, model_id=model_id).model  # type: ignore[no-any-return]

    def _not_found(self, what: str) -> Exception:
        return api_error(
            "GetModel",
            status_code_pb2.MODEL_DOES_NOT_EXIST,
            "Model does not exist",
            f"no model {what} in {app_name(self.api)} nor among Clarifai's public models",
        )

    def _by_id(self, model_id: str) -> resources_pb2.Model:
        try:
            return self._fetch(model_id)
        except NotFoundError:
            pass
        try:
            return self._fetch(LEGACY_PUBLIC_MODELS.get(model_id, model_id), PUBLIC)
        except NotFoundError:
            raise self._not_found(f"with id {model_id!r}") from None

    def _by_name(self, name: str, model_type: str | None) -> resources_pb2.Model:
        if name in LEGACY_PUBLIC_MODELS:
            return self._fetch(LEGACY_PUBLIC_MODELS[name], PUBLIC)
        try:
            return self._fetch(name)  # a model created without a name is named by its id
        except NotFoundError:
            pass
        named = [m for m in self._search(name, model_type) if (m.name or m.id) == name]
        if len(named) > 1:
            ids = sorted(m.id for m in named)
            raise UserError(f"{len(named)} models of the app are named {name!r} ({ids}): pass model_id=")
        if named:
            return named[0]
        try:
            return self._fetch(name, PUBLIC)
        except NotFoundError:
            raise self._not_found(f"named {name!r}") from None

    def get(
        self, model_name: str | None = None, model_id: str | None = None, model_type: str | None = None
    ) -> Model:
        """The model with this id (the app's, else a public one), or with this name (resolved once,
        then cached; `model_type` narrows the name search)."""
        if model_id:
            return self._model(self._by_id(model_id))
        if not model_name or not isinstance(model_name, str):
            raise UserError("models.get needs model_name='...' or model_id='...'")
        cached = self._cache.get(model_name)
        if cached is not None:
            user_id, app_id, cached_id = cached
            try:
                info = self._fetch(cached_id, scope_of(self.api, user_id, app_id))
                if (info.name or info.id) == model_name:
                    return self._model(info)
            except NotFoundError:
                pass
            self._forget(cached_id)  # deleted or renamed since: resolve the name again
        return self._remember(self._model(self._by_name(model_name, model_type)))

    def _search(self, name: str, model_type: str | None) -> Iterator[resources_pb2.Model]:
        """PostModelsSearches in the app: its models, then Clarifai's public ones (as in 2.x),
        of `model_type` (a V2 type id, or a legacy one: concept, embed, facedetect, cluster)."""
        found = search_items(
            self.api,
            "PostModelsSearches",
            lambda m: m,
            items_field="models",
            model_query=resources_pb2.ModelQuery(name=name),
        )
        return (m for m in found if _type_matches(m.model_type_id, model_type))

    def search(self, model_name: str, model_type: str | None = None) -> list[Model] | None:
        """Models whose name matches (`*` wildcards allowed), the app's then public ones; None if none."""
        if not isinstance(model_name, str) or not model_name:
            raise UserError(f"model_name must be a non-empty str, got {model_name!r}")
        return [self._model(info) for info in self._search(model_name, model_type)] or None

    # -- listing --------------------------------------------------------------------------------------------

    def _listing(
        self, public_only: bool, private_only: bool, page: int | None, per_page: int | None
    ) -> Iterator[Model]:
        if public_only and private_only:
            raise UserError("pass public_only=True or private_only=True, not both")
        if public_only:
            return scoped_list(
                self.api,
                "ListModels",
                self._model,
                PUBLIC,
                items_field="models",
                page_no=page,
                per_page=per_page,
            )
        # The app's listing includes Clarifai's public models unless told not to fetch from main.
        return self.api._list(
            "ListModels",
            self._model,
            page_no=page,
            per_page=per_page,
            items_field="models",
            dont_fetch_from_main=private_only,
        )

    def get_all(self, public_only: bool = False, private_only: bool = False) -> Iterator[Model]:
        """The models listed for the app, lazily: its own and public ones, or only one kind."""
        return self._listing(public_only, private_only, None, None)

    def get_by_page(
        self,
        public_only: bool = False,
        private_only: bool = False,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[Model]:
        """One page of the models visible to the app.

        Args:
            public_only: Only public models (e.g. Clarifai's).
            private_only: Only the app's own models.
            page: The page number (1-based).
            per_page: Models per page.

        Returns:
            The page's `Model`s (empty past the last page).
        """
        return list(self._listing(public_only, private_only, page, per_page))

    # -- creating and deleting --------------------------------------------------------------------------

    def create(
        self,
        model_id: str,
        model_name: str | None = None,
        concepts: Sequence[str] | None = None,
        concepts_mutually_exclusive: bool = False,
        closed_environment: bool = False,
        hyper_parameters: dict[str, Any] | None = None,
    ) -> Model:
        """A new concept model (embedding-classifier), named by its id unless model_name is given."""
        if not isinstance(model_id, str) or not model_id:
            raise UserError(f"model_id must be a non-empty str, got {model_id!r}")
        if closed_environment:
            raise UserError(CLOSED_ENVIRONMENT_GONE)
        model = resources_pb2.Model(id=model_id, name=model_name or model_id, model_type_id=MODEL_TYPE)
        output = model.output_info
        if concepts is not None:
            output.data.concepts.extend(resources_pb2.Concept(id=c) for c in id_list(concepts, "concepts"))
        output.output_config.concepts_mutually_exclusive = bool(concepts_mutually_exclusive)
        hyper = struct_of(hyper_parameters, "hyper_parameters")
        if hyper is not None:
            output.output_config.hyper_params.CopyFrom(hyper)
        return self._model(self.api._request("PostModels", models=[model]).model)

    def delete(self, model_id: str, version_id: str | None = None) -> dict[str, Any]:
        """Delete the model with all its versions, or only version `version_id`; the response as JSON."""
        if version_id:
            return as_json(self.api._request("DeleteModelVersion", model_id=model_id, version_id=version_id))
        self._forget(model_id)
        return as_json(self.api._request("DeleteModels", ids=[model_id]))

    def bulk_delete(self, model_ids: Sequence[str]) -> dict[str, Any]:
        """Delete these models with all their versions; the response as JSON."""
        ids = id_list(model_ids, "model_ids")
        for model_id in ids:
            self._forget(model_id)
        return as_json(self.api._request("DeleteModels", ids=ids))

    def delete_all(self) -> dict[str, Any]:
        """Delete every model of the app (see ClarifaiApp.wait_until_models_delete_finish)."""
        self.clear_model_cache()
        return as_json(self.api._request("DeleteModels", delete_all=True))
