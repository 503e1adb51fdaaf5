"""Model RPCs of the Clarifai emulator: model types, models, versions, training and predictions.

Models (PostModels, GetModel, ListModels, DeleteModels) are stored as given, without a version;
GetModel and ListModels show the newest version in `model.model_version` (GetModel: the one of
`version_id` when set). Deleting a model deletes its versions, their weights and evaluations.
Clarifai's public models (`builtin_models`) are read with user_app_id clarifai/main.

PostModelVersions (one version per request) needs an existing model of the caller's app:

* With ``train_info.params.dataset_id`` it trains: the model type must be trainable
  (text-classifier, visual-classifier, embedding-classifier), ``output_info.data.concepts`` must
  list existing app concepts, and the params must fit the template (`model_types`; defaults are
  filled in and stored). The version starts MODEL_QUEUED_FOR_TRAINING; a worker moves it to
  MODEL_TRAINING, then MODEL_TRAINED or MODEL_TRAINING_FAILED (see `training`). Each phase lasts
  `Timing.train_delay`. Versions still training when the emulator stops train again on restart.
* Without it the version is only recorded (e.g. a description): MODEL_TRAINED, except for the
  trainable types (MODEL_UNTRAINED: there are no weights).

Either way ``output_info.output_config`` and ``output_info.params`` are stored as the version's
defaults for predictions. ListModelVersions is newest first (``trained_only`` supported).

PostModelOutputs predicts 1 to 128 inputs (else PREDICT_INVALID_REQUEST) with ``version_id`` or
the newest trained version; without one the status is the newest version's (e.g.
MODEL_TRAINING) or MODEL_UNTRAINED when there is none. ``model.model_version.output_info`` in the
request overrides the version's output settings (`predicting`). Outputs follow the inputs' order;
an input that fails gets its own status, and the response is MIXED_STATUS (FAILURE if all
failed). Runner-backed models are answered by their runner (`runners`).
"""

from __future__ import annotations

from collections.abc import Sequence

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.labels import batch_status, new_id
from modelwire.emulator.clarifai.model_types import (
    DATASET_ID,
    DATASET_VERSION_ID,
    MODEL_TYPES,
    TRAINABLE,
    text_param,
    training_plan,
)
from modelwire.emulator.clarifai.predicting import request_inputs, settings_of, try_sample
from modelwire.emulator.clarifai.records import (
    CONCEPT,
    EVALUATION,
    MODEL,
    MODEL_VERSION,
    Owner,
    order_of,
    request_page,
    search_filter,
)
from modelwire.emulator.clarifai.registry import Registry, runner_of, runner_request
from modelwire.emulator.clarifai.runners import RunnerHub
from modelwire.emulator.clarifai.training import Trainer

MAX_PREDICT_INPUTS = 128


def _clear_server_fields(version: resources_pb2.ModelVersion) -> None:
    """Drop what the server sets itself from a version given by the client."""
    for name in ("status", "metrics", "completed_at", "total_input_count", "active_concept_count"):
        version.ClearField(name)


class ModelsArea:
    def __init__(self, ctx: Context, registry: Registry, trainer: Trainer, runners: RunnerHub) -> None:
        self._records = ctx.records
        self._registry = registry
        self._trainer = trainer
        self._runners = runners

    def routes(self) -> dict[str, Route]:
        return {
            "ListModelTypes": Route(Scope.USER, self.list_model_types, public=True),
            "GetModelType": Route(Scope.USER, self.get_model_type, public=True),
            "PostModels": Route(Scope.APP, self.post_models),
            "GetModel": Route(Scope.APP, self.get_model, public=True),
            "ListModels": Route(Scope.APP, self.list_models, public=True),
            "DeleteModels": Route(Scope.APP, self.delete_models),
            "PostModelVersions": Route(Scope.APP, self.post_model_versions),
            "GetModelVersion": Route(Scope.APP, self.get_model_version, public=True),
            "ListModelVersions": Route(Scope.APP, self.list_model_versions, public=True),
            "DeleteModelVersion": Route(Scope.APP, self.delete_model_version),
            "PostModelOutputs": Route(Scope.APP, self.post_model_outputs, public=True),
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
        # Versions are made by PostModelVersions; GetModel shows the newest one.
        (model,) = self._records.create(
            MODEL, caller.owner, models, prepare=lambda m: m.ClearField("model_version")
        )
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
        if not params.fields:
            return False
        if model.model_type_id not in TRAINABLE:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT,
                f"model {model.id!r} of type {model.model_type_id or 'unset'!r} cannot be trained here "
                f"(trainable types: {', '.join(TRAINABLE)})",
            )
        dataset = text_param(params, DATASET_ID)
        if not dataset:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT, "set train_info.params.dataset_id to the dataset to train on"
            )
        try:
            plan = training_plan(params)
        except ValueError as exc:
            raise ApiFailure(S.MODEL_INVALID_ARGUMENT, f"train_info.params: {exc}") from None
        params.CopyFrom(plan.struct(dataset, text_param(params, DATASET_VERSION_ID)))
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
        return service_pb2.SingleModelVersionResponse(model_version=version)

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
        outputs = deployed.outputs(inputs, [try_sample(i) for i in inputs], deployed.settings(override))
        failed = sum(o.status.code != S.SUCCESS for o in outputs)
        return service_pb2.MultiOutputResponse(
            status=batch_status(failed, len(outputs), "inputs"), outputs=outputs
        )
