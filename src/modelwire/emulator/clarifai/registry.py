"""Models as the emulator's RPCs use them: models, their versions and weights, and predictors.

A model's versions are stored under it (`MODEL_VERSION`, newest first); trained weights go to
`clarifai_model_weights`. The built-in models (see `builtin_models`) are stored under user
``clarifai``, app ``main`` when the emulator starts.

A model predicts with a TRAINED version: the requested one, or by default its newest trained
one. Its predictor is the built-in one, its trained classifier (weights), or for an embedder type
the general embedding of its modality. A model is served by a runner instead when its `metadata`
has ``runner_id`` (an emulator convention: a Struct string field) or when the request names one in
``runner_selector.runner.id``; see `runners`.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.builtin_models import (
    BUILTIN_OWNER,
    BUILTIN_PREDICTORS,
    CREATED_NS,
    builtin_app,
    builtin_models,
    builtin_workflows,
)
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.learning import LinearModel
from modelwire.emulator.clarifai.model_types import EMBEDDERS
from modelwire.emulator.clarifai.predicting import (
    Embedder,
    OutputSettings,
    PredictionError,
    Predictor,
    Sample,
    TrainedClassifier,
    finish,
    model_ref,
    run,
    settings_of,
)
from modelwire.emulator.clarifai.records import (
    APP,
    IN_APP,
    MODEL,
    MODEL_VERSION,
    WORKFLOW,
    WORKFLOW_VERSION,
    Owner,
    Page,
    Records,
    placeholders,
    timestamp,
)

RUNNER_ID_KEY = "runner_id"  # Model.metadata key binding a model to a runner (emulator convention)
TRAINED = S.MODEL_TRAINED
_CACHED_WEIGHTS = 64


def runner_of(model: resources_pb2.Model, selector: resources_pb2.RunnerSelector) -> str:
    """The runner that serves a prediction ("" when the emulator computes it)."""
    if selector.runner.id:
        return selector.runner.id
    bound = model.metadata.fields.get(RUNNER_ID_KEY)
    return bound.string_value if bound is not None else ""


@dataclass(frozen=True)
class Deployed:
    """A model with the version that predicts, and how."""

    model: resources_pb2.Model  # model_version set
    predictor: Predictor

    def settings(self, *overrides: resources_pb2.OutputInfo) -> OutputSettings:
        """The version's output settings under the request's overrides."""
        try:
            return settings_of(self.model.model_version.output_info, *overrides)
        except ValueError as exc:
            raise ApiFailure(S.MODEL_INVALID_ARGUMENT, f"output_info.params: {exc}") from None

    def outputs(
        self,
        inputs: Sequence[resources_pb2.Input],
        samples: Sequence[Sample | PredictionError],
        settings: OutputSettings,
        into: RepeatedCompositeFieldContainer[resources_pb2.Output] | None = None,
    ) -> list[resources_pb2.Output]:
        """One output per input; made in `into` (a response's outputs) when given, so the
        response need not copy them."""
        created = timestamp(time.time_ns())
        ref = model_ref(self.model)
        made = resources_pb2.Output if into is None else into.add
        return [
            finish(run(self.predictor, sample, settings, made()), ref, item, created)
            for item, sample in zip(inputs, samples, strict=True)
        ]


class Registry:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._weights: OrderedDict[tuple[str, ...], LinearModel] = OrderedDict()
        self._lock = threading.Lock()

    def seed_builtins(self) -> None:
        """Store the app clarifai/main with its models and workflows (again: a newer emulator may
        have changed them)."""
        with self._records.store.transaction() as conn:
            save = functools.partial(self._records.save, conn, owner=BUILTIN_OWNER, created_ns=CREATED_NS)
            save(kind=APP, message=builtin_app())
            for model, version in builtin_models():
                save(kind=MODEL, message=model)
                save(kind=MODEL_VERSION, message=version, parent=model.id)
            for workflow in builtin_workflows():
                save(kind=WORKFLOW, message=workflow)
                save(kind=WORKFLOW_VERSION, message=workflow.version, parent=workflow.id)

    # -- lookups ---------------------------------------------------------------------------------------

    def model(self, owner: Owner, model_id: str) -> resources_pb2.Model:
        return self._records.require(MODEL, owner, model_id, resources_pb2.Model)

    def version(self, owner: Owner, model_id: str, version_id: str) -> resources_pb2.ModelVersion:
        return self._records.require(MODEL_VERSION, owner, version_id, resources_pb2.ModelVersion, model_id)

    def latest(
        self, owner: Owner, model_id: str, *, trained: bool = False
    ) -> resources_pb2.ModelVersion | None:
        where, params = ("facet = ?", [str(TRAINED)]) if trained else ("", [])
        found = self._records.listing(
            MODEL_VERSION,
            owner,
            resources_pb2.ModelVersion,
            Page(1, 1),
            parent=model_id,
            where=where,
            params=params,
        )
        return found[0] if found else None

    def with_version(
        self, owner: Owner, model: resources_pb2.Model, version_id: str = ""
    ) -> resources_pb2.Model:
        """The model with the given version, or its newest one (none when it has no version)."""
        version = self.version(owner, model.id, version_id) if version_id else self.latest(owner, model.id)
        result = resources_pb2.Model()
        result.CopyFrom(model)
        if version is not None:
            result.model_version.CopyFrom(version)
        return result

    # -- versions and weights ---------------------------------------------------------------------------

    def set_status(self, owner: Owner, model_id: str, version_id: str, new: status_pb2.Status) -> bool:
        """Give a version a new status; False if it no longer exists."""
        return self._update(owner, model_id, version_id, lambda version: version.status.CopyFrom(new))

    def store_trained(
        self, owner: Owner, model_id: str, version_id: str, weights: LinearModel, input_count: int
    ) -> bool:
        """Mark a version trained, with its weights; False if it no longer exists."""

        def trained(version: resources_pb2.ModelVersion) -> None:
            version.status.CopyFrom(status(TRAINED))
            version.completed_at.CopyFrom(version.modified_at)
            version.total_input_count = input_count
            version.active_concept_count = len(weights.concept_ids)

        return self._update(owner, model_id, version_id, trained, weights)

    def _update(
        self,
        owner: Owner,
        model_id: str,
        version_id: str,
        edit: Callable[[resources_pb2.ModelVersion], None],
        weights: LinearModel | None = None,
    ) -> bool:
        with self._records.store.transaction() as conn:
            version = self._records.get(
                MODEL_VERSION, owner, version_id, resources_pb2.ModelVersion, model_id
            )
            if version is None:
                return False
            version.modified_at.CopyFrom(timestamp(self._records.now()))
            edit(version)
            if weights is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO clarifai_model_weights "
                    "(user_id, app_id, model_id, version_id, data) VALUES (?, ?, ?, ?, ?)",
                    (*owner, model_id, version_id, weights.to_bytes()),
                )
            self._records.save(conn, MODEL_VERSION, owner, version, parent=model_id, created_ns=0)
        return True

    def weights(self, owner: Owner, model_id: str, version_id: str) -> LinearModel | None:
        key = (*owner, model_id, version_id)
        with self._lock:
            if key in self._weights:
                self._weights.move_to_end(key)
                return self._weights[key]
        row = self._records.store.one(
            f"SELECT data FROM clarifai_model_weights WHERE {IN_APP} AND model_id = ? AND version_id = ?", key
        )
        if row is None:
            return None
        model = LinearModel.from_bytes(bytes(row["data"]))
        with self._lock:
            self._weights[key] = model
            while len(self._weights) > _CACHED_WEIGHTS:
                self._weights.popitem(last=False)
        return model

    def forget(self, owner: Owner) -> None:
        """Drop the cached weights of an app (it was deleted)."""
        with self._lock:
            for key in [k for k in self._weights if k[:2] == tuple(owner)]:
                del self._weights[key]

    def delete_versions(self, owner: Owner, model_id: str, version_ids: Sequence[str] | None) -> None:
        """Forget the weights (and cached weights) of versions (all of the model's with None)."""
        where, params = f"{IN_APP} AND model_id = ?", [*owner, model_id]
        if version_ids is not None:
            where += f" AND version_id IN ({placeholders(version_ids)})"
            params += list(version_ids)
        self._records.store.execute(f"DELETE FROM clarifai_model_weights WHERE {where}", params)
        with self._lock:
            for key in [k for k in self._weights if k[:3] == (*owner, model_id)]:
                if version_ids is None or key[3] in version_ids:
                    del self._weights[key]

    # -- predicting ---------------------------------------------------------------------------------------

    def deployed(self, owner: Owner, model: resources_pb2.Model, version_id: str = "") -> Deployed:
        """The model ready to predict locally (ApiFailure when it cannot)."""
        version = (
            self.version(owner, model.id, version_id)
            if version_id
            else self.latest(owner, model.id, trained=True)
        )
        if version is None:
            self._no_trained_version(owner, model)
        if version.status.code != TRAINED:
            raise ApiFailure(
                version.status.code,
                f"version {version.id!r} of model {model.id!r} is {S.Name(version.status.code)}, "
                "not trained: predict with a trained version",
            )
        full = resources_pb2.Model()
        full.CopyFrom(model)
        full.model_version.CopyFrom(version)
        return Deployed(full, self._predictor(owner, full))

    def _no_trained_version(self, owner: Owner, model: resources_pb2.Model) -> NoReturn:
        latest = self.latest(owner, model.id)
        if latest is None:
            raise ApiFailure(
                S.MODEL_UNTRAINED,
                f"model {model.id!r} has no version: create or train one with PostModelVersions",
            )
        raise ApiFailure(
            latest.status.code,
            f"model {model.id!r} has no trained version yet (its newest, {latest.id!r}, is "
            f"{S.Name(latest.status.code)}): wait for training to finish, or train a new version",
        )

    def _predictor(self, owner: Owner, model: resources_pb2.Model) -> Predictor:
        if owner == BUILTIN_OWNER and model.id in BUILTIN_PREDICTORS:
            return BUILTIN_PREDICTORS[model.id]
        version = model.model_version
        weights = self.weights(owner, model.id, version.id)
        if weights is not None:
            names = {c.id: c.name or c.id for c in version.output_info.data.concepts}
            return TrainedClassifier(model.id, weights, names)
        kind = EMBEDDERS.get(model.model_type_id)
        if kind is not None:
            return Embedder(model.id, kind)
        raise ApiFailure(
            S.MODEL_NOT_DEPLOYED,
            f"model {model.id!r} (type {model.model_type_id or 'unset'!r}) cannot run in the emulator: "
            f"bind it to a runner with metadata.{RUNNER_ID_KEY} or runner_selector.runner.id",
        )


def runner_request(
    owner: Owner,
    model: resources_pb2.Model,
    inputs: Sequence[resources_pb2.Input],
    override: resources_pb2.OutputInfo,
) -> service_pb2.PostModelOutputsRequest:
    """The PostModelOutputs request a runner receives: the model with its version and the caller's
    output overrides merged into its output_info."""
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=owner.user_id, app_id=owner.app_id),
        model_id=model.id,
        version_id=model.model_version.id,
        inputs=inputs,
        model=model,
    )
    request.model.model_version.output_info.MergeFrom(override)
    return request
