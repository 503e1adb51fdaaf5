"""Model RPCs of the Clarifai emulator: model types, models, versions, training and predictions.

Models (PostModels, GetModel, ListModels, DeleteModels) are stored as given, without a version;
GetModel and ListModels show the newest version in `model.model_version` (GetModel: the one of
`version_id` when set). Deleting a model deletes its versions, their weights and evaluations.
Clarifai's public models (`builtin_models`) are read with user_app_id clarifai/main. ListModels
without an app lists across apps (the user's, clarifai's, or every user's public ones; see
`public`).

ListModelConcepts lists the concepts of a version (`version_id`, else the newest trained one, else
the newest), or of the model's ``output_info.data.concepts`` when the version lists none, once
each, in their order; an unnamed concept takes the name of the app's concept. `search` keeps those
whose id or name contains it (case-insensitively); `page`/`per_page` page them.

PatchModels edits models of the app (all must exist, else MODEL_DOES_NOT_EXIST and nothing
changes; MultiModelResponse has no per-item status). With `action` "merge" (default) or
"overwrite" it sets the non-empty `name`, `display_name`, `description` and `notes` it is given;
`metadata` is merged (recursively, a null value deletes the key), removed (the listed keys) or
overwritten like PatchInputs does; ``output_info.data.concepts`` are added (or replaced by id), removed
by id, or replace the model's list ("overwrite"; concepts are taken by id, or by name when the id is
empty, and named after the app concept when it has one); ``output_info.output_config`` is merged
(fields set in the patch win; proto3 cannot send `false`/0 in a merge, use "overwrite") or
replaced. "remove" only removes concepts and metadata keys (and ignores those text fields).
`model_type_id` cannot change (MODEL_INVALID_ARGUMENT); `model_version` and `version_count` are
the service's. Every other field (toolkits, use_cases, languages, visibility, image, ...) follows the
generic patch of `patching`: "remove" takes list items away, and the image when the patch names its
url.

PostModelsSearches searches the app's models (newest first) and then Clarifai's public models:
``model_query.name`` matches a model's id, `name` or `display_name` case-insensitively, as a
substring, or as a whole when it has `*` wildcards (any run of characters);
``model_query.model_type_id`` is a model type id, or a legacy 2.x model type: "concept"
(classifiers) or "embed" (embedders). Both are optional; `pagination` pages the matches.

ListModelInputs lists the inputs a version was trained on: the processed inputs of its training
dataset (``train_info.params.dataset_id``, or the snapshot of ``dataset_version_id``) of the
modality it reads that carry one of its concepts (value > 0), or for a version trained without a
dataset the app's processed inputs of that modality labelled with one of its concepts — held-out
inputs included (they are training inputs; see `training`). Without `version_id` the newest trained
version (else the newest version) is used. When there is no such version, or it has no training
info, it lists the app's inputs that an annotation labels (value > 0) with one of the model's
``output_info.data.concepts`` (and the version's). Newest first, paged with `page`/`per_page`. An
unknown model or version is MODEL_DOES_NOT_EXIST.

PostModelVersions (one version per request) needs an existing model of the caller's app:

* A version of a trainable type (text-classifier, visual-classifier, embedding-classifier)
  trains: with ``train_info.params.dataset_id`` on that dataset, without one (or with an empty
  one) on the app's inputs labelled with its concepts, as the real API (and legacy
  ``Model.train``) does. Its ``output_info.data.concepts`` must list existing app concepts (without
  a dataset, a version that lists none learns the model's ``output_info.data.concepts`` and takes
  the model's ``output_config`` unless it sets one), and the params must fit the template
  (`model_types`; defaults are filled in and stored; ``dataset_version_id`` needs ``dataset_id``).
  The version starts MODEL_QUEUED_FOR_TRAINING; a worker moves it to MODEL_TRAINING, then
  MODEL_TRAINED or MODEL_TRAINING_FAILED (see `training`). Each phase lasts `Timing.train_delay`.
  Versions still training when the emulator stops train again on restart.
* A version with nothing to learn (no train_info.params, and neither it nor the model lists
  concepts) is only recorded (e.g. a description): MODEL_UNTRAINED for the trainable types (there
  are no weights), MODEL_TRAINED for the others, which cannot take train_info.params.

Either way ``output_info.output_config`` and ``output_info.params`` are stored as the version's
defaults for predictions. ListModelVersions is newest first (``trained_only`` supported).
GetModelVersion and ListModelVersions show the version's newest evaluation (summary) in
`metrics`; PostModelVersionMetrics starts one (see `evaluations`).

PostModelOutputs predicts 1 to 128 inputs (else PREDICT_INVALID_REQUEST) with ``version_id`` or
the newest trained version; without one the status is the newest version's (e.g.
MODEL_TRAINING) or MODEL_UNTRAINED when there is none. ``model.model_version.output_info`` in the
request overrides the version's output settings (`predicting`). Outputs follow the inputs' order;
an input that fails gets its own status, and the response is MIXED_STATUS (FAILURE if all
failed). Runner-backed models are answered by their runner (`runners`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.builtin_models import BUILTIN_OWNER
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.evaluations import latest_metrics
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.indexing import label_concepts
from modelwire.emulator.clarifai.inputs import InputsArea
from modelwire.emulator.clarifai.labels import (
    MERGE,
    OVERWRITE,
    REMOVE,
    action_of,
    batch_status,
    edit_struct,
    new_id,
)
from modelwire.emulator.clarifai.model_types import (
    DATASET_ID,
    DATASET_VERSION_ID,
    EMBEDDING_CLASSIFIER,
    IMAGE,
    MODEL_TYPES,
    TEXT,
    TEXT_CLASSIFIER,
    TEXT_EMBEDDER,
    TRAINABLE,
    VISUAL_CLASSIFIER,
    VISUAL_EMBEDDER,
    text_param,
    training_plan,
)
from modelwire.emulator.clarifai.patching import ALWAYS_FIXED, apply_patch
from modelwire.emulator.clarifai.predicting import SUCCESS, request_inputs, settings_of, try_sample
from modelwire.emulator.clarifai.public import list_across_apps
from modelwire.emulator.clarifai.records import (
    CONCEPT,
    EVALUATION,
    IN_APP,
    MODEL,
    MODEL_VERSION,
    NEWEST_FIRST,
    Owner,
    Page,
    missing,
    order_of,
    page_of,
    request_page,
    search_filter,
    timestamp,
)
from modelwire.emulator.clarifai.registry import Registry, runner_of, runner_request
from modelwire.emulator.clarifai.runners import RunnerHub
from modelwire.emulator.clarifai.training import AppRef, DatasetRef, Trainer, app_labelled, training_ref

MAX_PREDICT_INPUTS = 128
# Legacy (clarifai 2.x) model types accepted in ModelQuery.model_type_id, and the types they mean.
LEGACY_TYPES: dict[str, frozenset[str]] = {
    "concept": frozenset({TEXT_CLASSIFIER, VISUAL_CLASSIFIER, EMBEDDING_CLASSIFIER}),
    "embed": frozenset({TEXT_EMBEDDER, VISUAL_EMBEDDER}),
}
_TEXTS = ("name", "display_name", "description", "notes")  # the text fields PatchModels sets
# Fields PatchModels handles itself, or that are the service's; the rest are patched generically.
_OWN_FIELDS = ALWAYS_FIXED | frozenset(
    {*_TEXTS, "metadata", "output_info", "model_type_id", "model_version", "version_count"}
)
ModelTest = Callable[[resources_pb2.Model], bool]


def _clear_server_fields(version: resources_pb2.ModelVersion) -> None:
    """Drop what the server sets itself from a version given by the client."""
    for name in ("status", "metrics", "completed_at", "total_input_count", "active_concept_count"):
        version.ClearField(name)


def _new_model(model: resources_pb2.Model) -> None:
    """A model as PostModels stores it: named after its id unless named (as the real API does; the
    published `User.list_models` needs a name), and without a version (PostModelVersions makes
    them; GetModel shows the newest)."""
    model.ClearField("model_version")
    if not model.name:
        model.name = model.id


def _glob(pattern: str) -> re.Pattern[str]:
    """`*` matches any run of characters, the rest literally; the whole text must match."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE | re.DOTALL)


def name_matcher(query: str) -> ModelTest:
    """Whether a model matches ModelQuery.name (see the module docstring)."""
    if not query:
        return lambda model: True
    if "*" in query:
        pattern = _glob(query)
        return lambda model: any(pattern.fullmatch(t) for t in _names(model))
    wanted = query.casefold()
    return lambda model: any(wanted in t.casefold() for t in _names(model))


def _names(model: resources_pb2.Model) -> list[str]:
    return [t for t in (model.id, model.name, model.display_name) if t]


def type_matcher(type_id: str) -> ModelTest:
    if not type_id:
        return lambda model: True
    types = LEGACY_TYPES.get(type_id.casefold(), frozenset({type_id}))
    return lambda model: model.model_type_id in types


def _edit_concepts(target: resources_pb2.Data, patch: Sequence[resources_pb2.Concept], action: str) -> None:
    if action == OVERWRITE:
        del target.concepts[:]
        target.concepts.extend(patch)
        return
    ids = {c.id for c in patch}
    kept = [c for c in target.concepts if c.id not in ids]
    del target.concepts[:]
    target.concepts.extend(kept)
    if action == MERGE:
        target.concepts.extend(patch)


class ModelsArea:
    def __init__(
        self, ctx: Context, registry: Registry, trainer: Trainer, runners: RunnerHub, inputs: InputsArea
    ) -> None:
        self._records = ctx.records
        self._hosting = ctx.hosting
        self._registry = registry
        self._trainer = trainer
        self._runners = runners
        self._inputs = inputs

    def routes(self) -> dict[str, Route]:
        return {
            "ListModelTypes": Route(Scope.USER, self.list_model_types),
            "GetModelType": Route(Scope.USER, self.get_model_type),
            "PostModels": Route(Scope.APP, self.post_models),
            "GetModel": Route(Scope.APP, self.get_model),
            "ListModels": Route(Scope.APP, self.list_models),
            "DeleteModels": Route(Scope.APP, self.delete_models),
            "PatchModels": Route(Scope.APP, self.patch_models),
            "PostModelsSearches": Route(Scope.APP, self.post_models_searches),
            "ListModelInputs": Route(Scope.APP, self.list_model_inputs),
            "ListModelConcepts": Route(Scope.APP, self.list_model_concepts),
            "PostModelVersions": Route(Scope.APP, self.post_model_versions),
            "GetModelVersion": Route(Scope.APP, self.get_model_version),
            "ListModelVersions": Route(Scope.APP, self.list_model_versions),
            "DeleteModelVersion": Route(Scope.APP, self.delete_model_version),
            "PostModelOutputs": Route(Scope.APP, self.post_model_outputs),
        }

    # -- model types -----------------------------------------------------------------------------------

    def list_model_types(
        self, caller: Caller, request: service_pb2.ListModelTypesRequest
    ) -> service_pb2.MultiModelTypeResponse:
        page = request_page(request)
        specs = list(MODEL_TYPES.values())[page.offset : page.offset + page.per_page]
        return service_pb2.MultiModelTypeResponse(model_types=[spec.proto() for spec in specs])

    def get_model_type(
        self, caller: Caller, request: service_pb2.GetModelTypeRequest
    ) -> service_pb2.SingleModelTypeResponse:
        spec = MODEL_TYPES.get(request.model_type_id)
        if spec is None:
            raise ApiFailure(
                S.CONN_DOES_NOT_EXIST,
                f"model type {request.model_type_id!r} does not exist (known: {', '.join(MODEL_TYPES)})",
            )
        return service_pb2.SingleModelTypeResponse(model_type=spec.proto())

    # -- models ----------------------------------------------------------------------------------------

    def post_models(
        self, caller: Caller, request: service_pb2.PostModelsRequest
    ) -> service_pb2.SingleModelResponse:
        models = list(request.models) or ([request.model] if request.HasField("model") else [])
        if len(models) != 1:
            raise ApiFailure(
                S.MODEL_INVALID_REQUEST, f"send exactly one model in `models`, got {len(models)}"
            )
        (model,) = self._records.create(MODEL, caller.owner, models, prepare=_new_model)
        return service_pb2.SingleModelResponse(model=model)

    def get_model(
        self, caller: Caller, request: service_pb2.GetModelRequest
    ) -> service_pb2.SingleModelResponse:
        model = self._registry.model(caller.owner, request.model_id)
        return service_pb2.SingleModelResponse(
            model=self._registry.with_version(caller.owner, model, request.version_id)
        )

    def list_models(
        self, caller: Caller, request: service_pb2.ListModelsRequest
    ) -> service_pb2.MultiModelResponse:
        where, params = search_filter(request.search, request.query, request.name)
        if request.model_type_id:
            where = f"{where} AND facet = ?" if where else "facet = ?"
            params.append(request.model_type_id)
        if not caller.app_id:  # across apps (see `public`)
            found = list_across_apps(
                self._records, MODEL, resources_pb2.Model, caller, request, where, params
            )
            return service_pb2.MultiModelResponse(
                models=[self._registry.with_version(Owner(m.user_id, m.app_id), m) for m in found]
            )
        models = self._records.listing(
            MODEL,
            caller.owner,
            resources_pb2.Model,
            request_page(request),
            where=where,
            params=params,
            order=order_of(request),
        )
        return service_pb2.MultiModelResponse(
            models=[self._registry.with_version(caller.owner, m) for m in models]
        )

    def patch_models(
        self, caller: Caller, request: service_pb2.PatchModelsRequest
    ) -> service_pb2.MultiModelResponse:
        owner = caller.owner
        action = action_of(request.action, S.MODEL_INVALID_REQUEST)
        if not request.models:
            raise ApiFailure(S.MODEL_INVALID_REQUEST, "no models given: list the models to patch in `models`")
        ids = list(dict.fromkeys(m.id for m in request.models))
        if "" in ids:
            raise ApiFailure(S.MODEL_INVALID_REQUEST, "every model to patch needs its id")
        with self._records.store.transaction() as conn:
            found = {i: self._records.get(MODEL, owner, i, resources_pb2.Model) for i in ids}
            absent = [i for i, model in found.items() if model is None]
            if absent:
                raise missing(MODEL, absent, self._records.where(owner))
            models = {i: m for i, m in found.items() if m is not None}
            for given in request.models:
                self._patch_one(owner, models[given.id], given, action)
            now = timestamp(self._records.now())
            for model in models.values():
                model.modified_at.CopyFrom(now)
                self._records.save(conn, MODEL, owner, model, created_ns=0)
        return service_pb2.MultiModelResponse(
            models=[self._registry.with_version(owner, models[i]) for i in ids]
        )

    def _patch_one(
        self, owner: Owner, model: resources_pb2.Model, given: resources_pb2.Model, action: str
    ) -> None:
        if given.model_type_id and given.model_type_id != model.model_type_id:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT,
                f"model {model.id!r} is a {model.model_type_id or 'untyped'!r} model: model_type_id cannot "
                f"change (got {given.model_type_id!r}); create a new model instead",
            )
        if action != REMOVE:
            for name in _TEXTS:
                if getattr(given, name):
                    setattr(model, name, getattr(given, name))
        if given.HasField("metadata"):
            edit_struct(model.metadata, given.metadata, action)
        info = given.output_info
        if info.data.concepts:
            _edit_concepts(model.output_info.data, self._model_concepts(owner, info.data.concepts), action)
        if info.HasField("output_config") and action != REMOVE:
            if action == OVERWRITE:
                model.output_info.output_config.CopyFrom(info.output_config)
            else:
                model.output_info.output_config.MergeFrom(info.output_config)
        apply_patch(
            model, given, action, fixed=_OWN_FIELDS, code=S.MODEL_INVALID_ARGUMENT, what=f"model {model.id!r}"
        )

    def _model_concepts(
        self, owner: Owner, given: Iterable[resources_pb2.Concept]
    ) -> list[resources_pb2.Concept]:
        """The patch's concepts by id (once each), named after their app concepts when they exist."""
        result: dict[str, resources_pb2.Concept] = {}
        for concept in given:
            concept_id = concept.id or concept.name
            if not concept_id:
                raise ApiFailure(
                    S.MODEL_INVALID_ARGUMENT, "a concept in output_info.data.concepts needs an id (or a name)"
                )
            name = self._concept_name(owner, concept_id, concept.name)
            result[concept_id] = resources_pb2.Concept(id=concept_id, name=name, language=concept.language)
        return list(result.values())

    def post_models_searches(
        self, caller: Caller, request: service_pb2.PostModelsSearchesRequest
    ) -> service_pb2.MultiModelResponse:
        query = request.model_query
        by_name, by_type = name_matcher(query.name), type_matcher(query.model_type_id)
        owners = [caller.owner] if caller.owner == BUILTIN_OWNER else [caller.owner, BUILTIN_OWNER]
        matches: list[tuple[Owner, resources_pb2.Model]] = []
        for owner in owners:
            rows = self._records.store.query(
                f"SELECT proto FROM clarifai_objects WHERE kind = ? AND {IN_APP} AND parent = '' "
                f"ORDER BY {NEWEST_FIRST}",
                (MODEL.name, *owner),
            )
            for row in rows:
                model = resources_pb2.Model.FromString(row["proto"])
                if by_name(model) and by_type(model):
                    matches.append((owner, model))
        page = page_of(request.pagination.page, request.pagination.per_page)
        chosen = matches[page.offset : page.offset + page.per_page]
        return service_pb2.MultiModelResponse(
            models=[self._registry.with_version(owner, model) for owner, model in chosen]
        )

    def list_model_concepts(
        self, caller: Caller, request: service_pb2.ListModelConceptsRequest
    ) -> service_pb2.MultiConceptResponse:
        owner = caller.owner
        model = self._registry.model(owner, request.model_id)
        version = self._chosen_version(owner, model.id, request.version_id)
        listed = version.output_info.data.concepts if version is not None else ()
        concepts = self._named_concepts(owner, listed or model.output_info.data.concepts)
        wanted = request.search.casefold()
        if wanted:
            concepts = [c for c in concepts if wanted in c.id.casefold() or wanted in c.name.casefold()]
        page = request_page(request)
        return service_pb2.MultiConceptResponse(concepts=concepts[page.offset : page.offset + page.per_page])

    def _chosen_version(
        self, owner: Owner, model_id: str, version_id: str
    ) -> resources_pb2.ModelVersion | None:
        """The version asked for, else the newest trained one, else the newest (None: no version)."""
        if version_id:
            return self._registry.version(owner, model_id, version_id)
        return self._registry.latest(owner, model_id, trained=True) or self._registry.latest(owner, model_id)

    def _concept_name(self, owner: Owner, concept_id: str, given: str) -> str:
        """A model concept's name: the one given, else its app concept's, else its id."""
        if given:
            return given
        known = self._records.get(CONCEPT, owner, concept_id, resources_pb2.Concept)
        return (known.name if known is not None else "") or concept_id

    def _named_concepts(
        self, owner: Owner, concepts: Iterable[resources_pb2.Concept]
    ) -> list[resources_pb2.Concept]:
        """A model's concepts (once each, in order), named as the app's concepts when unnamed."""
        result: dict[str, resources_pb2.Concept] = {}
        for concept in concepts:
            concept_id = concept.id or concept.name
            if not concept_id or concept_id in result:
                continue
            name = self._concept_name(owner, concept_id, concept.name)
            result[concept_id] = resources_pb2.Concept(
                id=concept_id, name=name, value=concept.value, language=concept.language, app_id=owner.app_id
            )
        return list(result.values())

    def list_model_inputs(
        self, caller: Caller, request: service_pb2.ListModelInputsRequest
    ) -> service_pb2.MultiInputResponse:
        owner = caller.owner
        model = self._registry.model(owner, request.model_id)
        version = self._chosen_version(owner, model.id, request.version_id)
        page = request_page(request)
        if version is not None and version.train_info.params.fields:  # a version that trains
            ref = training_ref(owner, version)
            kinds = self._modality(owner, model, version)
            if isinstance(ref, AppRef):
                return service_pb2.MultiInputResponse(inputs=self._app_training_inputs(ref, kinds, page))
            concepts = {c.id for c in version.output_info.data.concepts}
            return service_pb2.MultiInputResponse(inputs=self._training_inputs(ref, concepts, kinds, page))
        concepts = {c.id or c.name for c in model.output_info.data.concepts}
        if version is not None:
            concepts |= {c.id for c in version.output_info.data.concepts}
        return service_pb2.MultiInputResponse(inputs=self._labelled_inputs(owner, concepts - {""}, page))

    def _modality(
        self, owner: Owner, model: resources_pb2.Model, version: resources_pb2.ModelVersion
    ) -> tuple[str, ...]:
        """The input kinds a version reads: its weights' modality, else its type's (both for an
        untrained embedding-classifier)."""
        weights = self._registry.weights(owner, model.id, version.id)
        if weights is not None:
            return (weights.modality,)
        spec = MODEL_TYPES.get(model.model_type_id)
        return (spec.modality,) if spec is not None and spec.modality else (TEXT, IMAGE)

    def _training_inputs(
        self, ref: DatasetRef, concepts: set[str], kinds: tuple[str, ...], page: Page
    ) -> list[resources_pb2.Input]:
        owner = ref.owner
        marks = ",".join("?" * len(kinds))
        if ref.version_id:
            rows = self._records.store.query(
                f"SELECT id, kind, content_sha, proto FROM clarifai_version_inputs WHERE {IN_APP} "
                f"AND dataset_id = ? AND version_id = ? AND embedded = 1 AND kind IN ({marks}) "
                f"ORDER BY {NEWEST_FIRST}",
                (*owner, ref.dataset_id, ref.version_id, *kinds),
            )
        else:
            rows = self._records.store.query(
                "SELECT i.* FROM clarifai_dataset_inputs d JOIN clarifai_inputs i "
                "ON i.user_id = d.user_id AND i.app_id = d.app_id AND i.id = d.id "
                f"WHERE d.user_id = ? AND d.app_id = ? AND d.dataset_id = ? AND i.status = ? "
                f"AND i.kind IN ({marks}) ORDER BY i.created_ns DESC, i.id ASC",
                (*owner, ref.dataset_id, S.INPUT_DOWNLOAD_SUCCESS, *kinds),
            )
        used = [
            row
            for row in rows
            if any(
                c.id in concepts and c.value > 0
                for c in resources_pb2.Input.FromString(row["proto"]).data.concepts
            )
        ][page.offset : page.offset + page.per_page]
        if not ref.version_id:
            return self._inputs.render(owner, used)
        items = []
        for row in used:  # a snapshot: the inputs as they were when the version was made
            item = resources_pb2.Input.FromString(row["proto"])
            item.dataset_ids[:] = [ref.dataset_id]
            self._hosting.render(item.data, row["kind"], row["content_sha"])
            items.append(item)
        return items

    def _app_training_inputs(
        self, ref: AppRef, kinds: tuple[str, ...], page: Page
    ) -> list[resources_pb2.Input]:
        rows = [row for row, _ in app_labelled(self._records, ref) if row["kind"] in kinds]
        rows.sort(key=lambda r: (-r["created_ns"], r["id"]))
        return self._inputs.render(ref.owner, rows[page.offset : page.offset + page.per_page])

    def _labelled_inputs(self, owner: Owner, concepts: set[str], page: Page) -> list[resources_pb2.Input]:
        if not concepts:
            return []
        labelled = {
            row["input_id"]
            for row in self._records.store.query(
                f"SELECT input_id, proto FROM clarifai_annotations WHERE {IN_APP} AND status = ?",
                (*owner, S.ANNOTATION_SUCCESS),
            )
            if any(
                c.id in concepts and c.value > 0
                for c in label_concepts(resources_pb2.Annotation.FromString(row["proto"]).data)
            )
        }
        rows = self._records.rows_in("clarifai_inputs", owner, "id", sorted(labelled))
        rows.sort(key=lambda r: (-r["created_ns"], r["id"]))
        return self._inputs.render(owner, rows[page.offset : page.offset + page.per_page])

    def delete_models(
        self, caller: Caller, request: service_pb2.DeleteModelsRequest
    ) -> status_pb2.BaseResponse:
        owner = caller.owner
        ids = self._records.all_ids(MODEL, owner) if request.delete_all else list(request.ids)
        if request.delete_all and not ids:
            return status_pb2.BaseResponse()
        deleted = self._records.delete(MODEL, owner, ids)
        with self._records.store.transaction() as conn:
            for kind in (MODEL_VERSION, EVALUATION):
                self._records.delete_under(conn, kind, owner, deleted)
        for model_id in deleted:
            self._registry.delete_versions(owner, model_id, None)
        return status_pb2.BaseResponse()

    # -- versions ---------------------------------------------------------------------------------------

    def post_model_versions(
        self, caller: Caller, request: service_pb2.PostModelVersionsRequest
    ) -> service_pb2.SingleModelResponse:
        owner = caller.owner
        model = self._registry.model(owner, request.model_id)
        if len(request.model_versions) > 1:
            raise ApiFailure(
                S.MODEL_INVALID_REQUEST, f"send one version per request, got {len(request.model_versions)}"
            )
        version = resources_pb2.ModelVersion()
        if request.model_versions:
            version.CopyFrom(request.model_versions[0])
        _clear_server_fields(version)
        version.id = version.id or new_id()
        version.description = version.description or request.description
        try:
            settings_of(version.output_info)
        except ValueError as exc:
            raise ApiFailure(S.MODEL_INVALID_ARGUMENT, f"output_info.params: {exc}") from None
        trains = self._prepare_training(owner, model, version)
        if trains:
            code = S.MODEL_QUEUED_FOR_TRAINING
        else:
            code = S.MODEL_UNTRAINED if model.model_type_id in TRAINABLE else S.MODEL_TRAINED
        version.status.CopyFrom(status(code))
        (created,) = self._records.create(MODEL_VERSION, owner, [version], parent=model.id)
        if trains:
            self._trainer.submit(owner, model.id, created.id)
        model.model_version.CopyFrom(created)
        return service_pb2.SingleModelResponse(model=model)

    def _prepare_training(
        self, owner: Owner, model: resources_pb2.Model, version: resources_pb2.ModelVersion
    ) -> bool:
        """Whether the version trains; if so, checks and completes its train_info and concepts."""
        params = version.train_info.params
        if model.model_type_id not in TRAINABLE:
            if not params.fields:
                return False
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT,
                f"model {model.id!r} of type {model.model_type_id or 'unset'!r} cannot be trained here "
                f"(trainable types: {', '.join(TRAINABLE)})",
            )
        dataset, dataset_version = text_param(params, DATASET_ID), text_param(params, DATASET_VERSION_ID)
        if not dataset:
            if dataset_version:
                raise ApiFailure(
                    S.MODEL_INVALID_ARGUMENT,
                    f"train_info.params.dataset_version_id {dataset_version!r} needs "
                    "train_info.params.dataset_id (the dataset it is a version of)",
                )
            output = version.output_info
            if not output.data.concepts:  # the app's inputs labelled with the model's concepts
                if not params.fields and not model.output_info.data.concepts:
                    return False  # nothing to learn: only recorded
                output.data.concepts.extend(model.output_info.data.concepts)
                if not output.HasField("output_config") and model.output_info.HasField("output_config"):
                    output.output_config.CopyFrom(model.output_info.output_config)
        try:
            plan = training_plan(params)
        except ValueError as exc:
            raise ApiFailure(S.MODEL_INVALID_ARGUMENT, f"train_info.params: {exc}") from None
        params.CopyFrom(plan.struct(dataset, dataset_version))
        concepts = self._concepts(owner, version.output_info.data.concepts)
        version.output_info.data.ClearField("concepts")
        version.output_info.data.concepts.extend(concepts)
        return True

    def _concepts(self, owner: Owner, given: Sequence[resources_pb2.Concept]) -> list[resources_pb2.Concept]:
        """The concepts to learn, with their app names (ApiFailure unless they are app concepts)."""
        ids = list(dict.fromkeys(c.id or c.name for c in given))
        if not ids or "" in ids:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT, "list the concepts to learn (by id) in output_info.data.concepts"
            )
        found = {i: self._records.get(CONCEPT, owner, i, resources_pb2.Concept) for i in ids}
        known = {i: concept for i, concept in found.items() if concept is not None}
        absent = [i for i in ids if i not in known]
        if absent:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT,
                f"concept {', '.join(map(repr, absent))} does not exist in {self._records.where(owner)}: "
                "label inputs with it (or create it with PostConcepts) first",
            )
        return [resources_pb2.Concept(id=i, name=known[i].name or i) for i in ids]

    def get_model_version(
        self, caller: Caller, request: service_pb2.GetModelVersionRequest
    ) -> service_pb2.SingleModelVersionResponse:
        self._registry.model(caller.owner, request.model_id)
        version = self._registry.version(caller.owner, request.model_id, request.version_id)
        self._with_metrics(caller.owner, request.model_id, [version])
        return service_pb2.SingleModelVersionResponse(model_version=version)

    def _with_metrics(
        self, owner: Owner, model_id: str, versions: Iterable[resources_pb2.ModelVersion]
    ) -> None:
        """Show each version's newest evaluation (summary) in its `metrics`."""
        for version in versions:
            metrics = latest_metrics(self._records, owner, model_id, version.id)
            if metrics is not None:
                version.metrics.CopyFrom(metrics)

    def list_model_versions(
        self, caller: Caller, request: service_pb2.ListModelVersionsRequest
    ) -> service_pb2.MultiModelVersionResponse:
        self._registry.model(caller.owner, request.model_id)
        where, params = ("facet = ?", [str(S.MODEL_TRAINED)]) if request.trained_only else ("", [])
        versions = self._records.listing(
            MODEL_VERSION,
            caller.owner,
            resources_pb2.ModelVersion,
            request_page(request),
            parent=request.model_id,
            where=where,
            params=params,
            order=order_of(request),
        )
        self._with_metrics(caller.owner, request.model_id, versions)
        return service_pb2.MultiModelVersionResponse(model_versions=versions)

    def delete_model_version(
        self, caller: Caller, request: service_pb2.DeleteModelVersionRequest
    ) -> status_pb2.BaseResponse:
        owner = caller.owner
        self._registry.model(owner, request.model_id)
        self._records.delete(MODEL_VERSION, owner, [request.version_id], parent=request.model_id)
        self._records.store.execute(
            "DELETE FROM clarifai_objects WHERE kind = ? AND user_id = ? AND app_id = ? AND parent = ? "
            "AND facet = ?",
            (EVALUATION.name, *owner, request.model_id, request.version_id),
        )
        self._registry.delete_versions(owner, request.model_id, [request.version_id])
        return status_pb2.BaseResponse()

    # -- predictions --------------------------------------------------------------------------------------

    def post_model_outputs(
        self, caller: Caller, request: service_pb2.PostModelOutputsRequest
    ) -> service_pb2.MultiOutputResponse:
        owner = caller.owner
        inputs = request_inputs(request.inputs, MAX_PREDICT_INPUTS, S.PREDICT_INVALID_REQUEST)
        model = self._registry.model(owner, request.model_id)
        override = request.model.model_version.output_info
        runner_id = runner_of(model, request.runner_selector)
        if runner_id:
            with_version = self._registry.with_version(owner, model, request.version_id)
            forwarded = runner_request(owner, with_version, inputs, override)
            return self._runners.predict(owner.user_id, runner_id, forwarded)
        deployed = self._registry.deployed(owner, model, request.version_id)
        response = service_pb2.MultiOutputResponse()
        samples = [try_sample(i) for i in inputs]
        outputs = deployed.outputs(inputs, samples, deployed.settings(override), into=response.outputs)
        failed = sum(o.status.code != SUCCESS for o in outputs)
        response.status.CopyFrom(batch_status(failed, len(outputs), "inputs"))
        return response
