"""`Model`: versions, prediction, training and evaluation.

A Model made from App/User calls already holds its info, and prediction sends only what the call
needs (model id, version id, and the output_info overrides), so each predict batch costs exactly
one RPC. Inputs beyond the per-call limit (128) are chunked automatically; outputs come back in
input order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from modelwire._core.batching import chunked, run_batches
from modelwire._core.polling import poll
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.clarifai._base import op
from modelwire.clarifai._content import input_from_bytes, input_from_file, input_from_url
from modelwire.clarifai._proto import from_kwargs, of_type, to_message, to_messages
from modelwire.clarifai._resources import _Resource
from modelwire.clarifai.errors import ApiClientError, UserError, reject_not_offered, status_failure

MAX_MODEL_PREDICT_INPUTS = 128
R = TypeVar("R", service_pb2.MultiOutputResponse, service_pb2.PostWorkflowResultsResponse)
# What predict accepts for its overrides: dicts, or the messages themselves (from any origin).
InferenceParams = Mapping[str, Any] | Message
OutputConfigLike = Mapping[str, Any] | Message
TRAINABLE_MODEL_TYPES = (
    "visual-classifier",
    "visual-detector",
    "visual-segmenter",
    "visual-embedder",
    "clusterer",
    "text-classifier",
    "embedding-classifier",
    "text-to-text",
)
_NO_TEMPLATE = ("clusterer", "embedding-classifier")
_TRAINING = {status_code_pb2.MODEL_QUEUED_FOR_TRAINING, status_code_pb2.MODEL_TRAINING}
_EVALUATING = {status_code_pb2.MODEL_QUEUED_FOR_EVALUATION, status_code_pb2.MODEL_EVALUATING}


def merge_chunks(responses: Sequence[R]) -> R:
    """One response for a call made in chunks (predict, workflow results): the repeated fields of
    every chunk appended in order, and a status covering all chunks (the chunks' own when they
    agree, else MIXED_STATUS)."""
    if len(responses) == 1:
        return responses[0]  # nothing to merge: no copy of every output
    # Serialized messages concatenate into their merge (repeated fields append in order): one parse
    # of all the chunks costs ~0.6x copying every output into a new response with extend().
    merged = type(responses[0]).FromString(b"".join(r.SerializeToString() for r in responses))
    codes = {r.status.code for r in responses}
    code = status_code_pb2.SUCCESS if codes <= {status_code_pb2.SUCCESS} else status_code_pb2.MIXED_STATUS
    merged.status.CopyFrom(responses[-1].status if len(codes) == 1 else status_pb2.Status(code=code))
    return merged


def _struct(values: Mapping[str, Any] | Message | None, what: str) -> struct_pb2.Struct | None:
    """A dict (or a google.protobuf.Struct of any origin) as our Struct; None when empty."""
    if values is None:
        return None
    if not isinstance(values, Mapping) and not of_type(values, struct_pb2.Struct):
        raise UserError(f"{what} must be a dict (or a google.protobuf.Struct), got {type(values).__name__}")
    struct = to_message(values, struct_pb2.Struct, what=what)
    return struct if struct.fields else None


def check_all_failed(response: Any, name: str) -> Any:
    """`response`, unless every item failed (status FAILURE): then the ApiError the published SDK
    raises for it, naming the first item's failure. MIXED_STATUS is a result to read per item."""
    if response.status.code != status_code_pb2.FAILURE:
        return response
    status = type(response.status)()
    status.CopyFrom(response.status)
    items = response.outputs if hasattr(response, "outputs") else response.results
    first = next((item.status for item in items if item.status.code), None)
    if first is not None:
        reason = first.description + (f": {first.details}" if first.details else "")
        status.details = "; ".join(filter(None, [status.details, f"first failure: {reason}"]))
    error = status_failure(status, op(name).path, response=response)
    assert error is not None  # FAILURE is a failure
    raise error


class Model(_Resource):
    """A model: `Model(url=".../models/{id}[/model_version/{vid}]")` or by ids
    (`Model(model_id=..., user_id=..., app_id=...)`)."""

    _kind = "models"
    _info_type = resources_pb2.Model

    def __init__(
        self,
        url: str = "",
        model_id: str = "",
        model_version: dict[str, str] | None = None,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        reject_not_offered(kwargs, "Model")
        version = (model_version or {}).get("id", "")
        super().__init__(
            url, model_id, version, base_url, pat, token, kwargs.pop("model_info", None), **kwargs
        )
        if self.version_id and not self._info.model_version.id:
            self._info.model_version.id = self.version_id
        self.version_id = self._info.model_version.id
        self.training_params: dict[str, Any] = {}
        self._model_types: list[Any] | None = None

    @property
    def model_info(self) -> resources_pb2.Model:
        """The `Model` message as last fetched or built (`load_info()` refreshes it)."""
        return self._info  # type: ignore[no-any-return]

    def _with_version(self, model: resources_pb2.Model) -> Model:
        return self._derive(Model, model_id=model.id, model_info=model, app_id=self.app_id)

    def load_info(self) -> resources_pb2.Model:
        """Fetch the model (and its current version) from the API; refreshes `model_info`."""
        self._info = self._request("GetModel", model_id=self.id, version_id=self.version_id).model
        self.version_id = self._info.model_version.id or self.version_id
        return self.model_info

    # -- versions -----------------------------------------------------------------------------------

    def create_version(self, **kwargs: Any) -> Model:
        """A new model version (kwargs are ModelVersion fields); returns the Model at that version."""
        version = from_kwargs(resources_pb2.ModelVersion, kwargs, what="create_version")
        response = self._request("PostModelVersions", model_id=self.id, model_versions=[version])
        return self._with_version(response.model)

    def list_versions(self, page_no: int | None = None, per_page: int | None = None) -> Iterator[Model]:
        """The model's versions, newest first, as Models (no per-version refetch)."""

        def shape(version: resources_pb2.ModelVersion) -> Model:
            info = resources_pb2.Model()
            info.CopyFrom(self.model_info)
            info.model_version.CopyFrom(version)
            return self._with_version(info)

        return self._list(
            "ListModelVersions",
            shape,
            page_no=page_no,
            per_page=per_page,
            items_field="model_versions",
            model_id=self.id,
        )

    def delete_version(self, version_id: str) -> None:
        """Delete one version of this model (DeleteModelVersion).

        Args:
            version_id: The version's id.

        Raises:
            ApiError: No such version, or the call failed.
        """
        self._request("DeleteModelVersion", model_id=self.id, version_id=version_id)

    # -- prediction ----------------------------------------------------------------------------------

    def _predict_model(
        self, inference_params: InferenceParams | None, output_config: OutputConfigLike | None
    ) -> resources_pb2.Model | None:
        """The `model` field of a predict request: only the overrides, nothing else."""
        params = _struct(inference_params, "inference_params")
        if params is None and not output_config:
            return None  # the common case costs nothing
        # A dict (its select_concepts may hold Concept messages) or an OutputConfig, any origin.
        config = to_message(output_config or {}, resources_pb2.OutputConfig, what="output_config")
        model = resources_pb2.Model(id=self.id)
        model.model_version.id = self.version_id
        if params is not None:
            model.model_version.output_info.params.CopyFrom(params)
        if config.ByteSize():
            model.model_version.output_info.output_config.CopyFrom(config)
        return model

    def predict(
        self,
        inputs: Sequence[resources_pb2.Input],
        inference_params: InferenceParams | None = None,
        output_config: OutputConfigLike | None = None,
        *,
        max_workers: int = 4,
    ) -> service_pb2.MultiOutputResponse:
        """Predict on any number of inputs (chunked by 128, sent concurrently); outputs in input order.

        output_config: min_value, max_concepts, select_concepts, ... (a dict or an OutputConfig);
        inference_params: the model's own parameters (a dict or a Struct). A failed item gives
        MIXED_STATUS with that output's status set; when every item failed, ApiError is raised.
        """
        items = to_messages(inputs, resources_pb2.Input, what="inputs")  # clarifai-grpc's too
        if not items:
            raise UserError("predict needs at least one input")
        template = service_pb2.PostModelOutputsRequest(user_app_id=self.user_app_id, model_id=self.id)
        if self.version_id:  # each field set only when given: the hot path's request costs less
            template.version_id = self.version_id
        model = self._predict_model(inference_params, output_config)
        if model is not None:
            template.model.CopyFrom(model)
        if len(items) <= MAX_MODEL_PREDICT_INPUTS:
            # The common case is one batch: one request, no chunking machinery. This path is what
            # bench's clarifai_predict holds to the bare stub's cost.
            template.inputs.extend(items)
            return check_all_failed(self._grpc_request("PostModelOutputs", template), "PostModelOutputs")  # type: ignore[no-any-return]

        def call(batch: list[resources_pb2.Input]) -> service_pb2.MultiOutputResponse:
            request = service_pb2.PostModelOutputsRequest()
            request.CopyFrom(template)
            request.inputs.extend(batch)
            return self._grpc_request("PostModelOutputs", request)  # type: ignore[no-any-return]

        merged = merge_chunks(
            run_batches(call, list(chunked(items, MAX_MODEL_PREDICT_INPUTS)), max_workers=max_workers)
        )
        return check_all_failed(merged, "PostModelOutputs")  # type: ignore[no-any-return]

    def predict_by_bytes(
        self,
        input_bytes: bytes,
        input_type: str | None = None,
        inference_params: InferenceParams | None = None,
        output_config: OutputConfigLike | None = None,
    ) -> service_pb2.MultiOutputResponse:
        """Predict on raw bytes; input_type (image, text, video, audio) is sniffed when omitted."""
        return self.predict([input_from_bytes(input_bytes, input_type)], inference_params, output_config)

    def predict_by_filepath(
        self,
        filepath: str,
        input_type: str | None = None,
        inference_params: InferenceParams | None = None,
        output_config: OutputConfigLike | None = None,
    ) -> service_pb2.MultiOutputResponse:
        """Predict on a local file; `input_type` (image, text, video, audio) is sniffed when omitted.

        Args:
            filepath: The file to read.
            input_type: "image", "text", "video" or "audio"; guessed from the content when None.
            inference_params: Model parameters for this call (e.g. `{"temperature": 0.5}`).
            output_config: `min_value`, `max_concepts`, `select_concepts` (a dict or an `OutputConfig`).

        Returns:
            The `MultiOutputResponse`, one output.

        Raises:
            UserError: The file cannot be read, or its type cannot be told.
            ApiError: The prediction failed.
        """
        return self.predict([input_from_file(filepath, input_type)], inference_params, output_config)

    def predict_by_url(
        self,
        url: str,
        input_type: str | None = None,
        inference_params: InferenceParams | None = None,
        output_config: OutputConfigLike | None = None,
    ) -> service_pb2.MultiOutputResponse:
        """Predict on content the API fetches from `url`.

        Args:
            url: The content's URL.
            input_type: "image", "text", "video" or "audio"; guessed from the URL when None.
            inference_params: Model parameters for this call (e.g. `{"temperature": 0.5}`).
            output_config: `min_value`, `max_concepts`, `select_concepts` (a dict or an `OutputConfig`).

        Returns:
            The `MultiOutputResponse`, one output.

        Raises:
            UserError: The input type cannot be told from the URL.
            ApiError: The prediction failed.
        """
        return self.predict([input_from_url(url, input_type)], inference_params, output_config)

    # -- training parameters ------------------------------------------------------------------------------

    def _trainable_type(self) -> str:
        if not self.model_info.model_type_id:
            self.load_info()
        model_type = self.model_info.model_type_id
        if model_type not in TRAINABLE_MODEL_TYPES:
            raise UserError(
                f"model type {model_type!r} is not trainable (trainable: {list(TRAINABLE_MODEL_TYPES)})"
            )
        return model_type

    def _type_fields(self) -> list[dict[str, Any]]:
        """This model type's fields from ListModelTypes (fetched once per Model)."""
        model_type = self._trainable_type()
        if self._model_types is None:
            self._model_types = list(self._request("ListModelTypes").model_types)
        for candidate in self._model_types:
            if candidate.id == model_type:
                as_dict = json_format.MessageToDict(candidate, preserving_proto_field_name=True)
                return list(as_dict.get("model_type_fields", []))
        raise UserError(f"the API does not describe model type {model_type!r}")

    @staticmethod
    def _param_name(field: dict[str, Any]) -> str:
        return str(field["path"]).split(".")[-1]

    def list_training_templates(self) -> list[str]:
        """The training templates this model type offers (ids for `get_params(template=...)`).

        Returns:
            The template ids; empty for a type without templates.

        Raises:
            UserError: The model type is not trainable.
        """
        for field in self._type_fields():
            if self._param_name(field) == "template":
                return [option["id"] for option in field.get("model_type_enum_options", [])]
        return []

    def get_params(
        self, template: str | None = None, save_to: str = "params.yaml", *, yaml_file: str | None = None
    ) -> dict[str, Any]:
        """The training parameters for this model type (and template), also written to `save_to`.

        `yaml_file=` is the name the SDK reference documents (and its examples use) for `save_to`."""
        if yaml_file is not None:
            if save_to not in ("params.yaml", yaml_file):
                raise UserError(f"save_to={save_to!r} and yaml_file={yaml_file!r} name two files; pass one")
            save_to = yaml_file
        model_type = self._trainable_type()
        if template is None and model_type not in _NO_TEMPLATE:
            raise UserError(f"pass template= for model type {model_type!r}; see list_training_templates()")
        if template is not None and model_type in _NO_TEMPLATE:
            raise UserError(f"model type {model_type!r} takes no template")
        if not save_to.endswith((".yaml", ".yml")):
            raise UserError(f"save_to must be a .yaml file, got {save_to!r}")
        params: dict[str, Any] = {}
        if model_type != "clusterer":
            params.update(dataset_id="", dataset_version_id="")
        if model_type not in ("clusterer", "text-to-text"):
            params["concepts"] = []
        params["train_params"] = {}
        for field in self._type_fields():
            path = str(field["path"]).split(".")
            name = path[-1]
            if (
                field.get("internal_only")
                or name in ("dataset_id", "dataset_version_id")
                or path[1] in ("dataset", "data")
            ):
                continue
            if name == "template":
                options = {o["id"]: o for o in field.get("model_type_enum_options", [])}
                if template not in options:
                    raise UserError(f"template {template!r} is not one of {sorted(options)}")
                params["train_params"]["template"] = template
                for sub in options[template].get("model_type_fields", []):
                    if not sub.get("internal_only"):
                        params["train_params"][self._param_name(sub)] = sub.get("default_value")
            elif path[0] == "train_info":
                params["train_params"][name] = field.get("default_value")
            elif path[0] == "output_info" and len(path) > 1 and path[1] == "output_config":
                params[name] = field.get("default_value")
            elif path[0] == "output_info":
                params.setdefault("inference_params", {})[name] = field.get("default_value")
        import yaml  # lazy: PyYAML is only needed to write or read params files

        Path(save_to).write_text(yaml.safe_dump(params, sort_keys=False))
        self.training_params.update(params)
        return params

    def _all_param_names(self) -> list[str]:
        nested = [k for v in self.training_params.values() if isinstance(v, dict) for k in v]
        return [*self.training_params, *nested]

    def update_params(self, **kwargs: Any) -> None:
        """Change loaded training parameters by name (nested names such as `epochs` work too)."""
        self._trainable_type()
        if not self.training_params:
            raise UserError("call get_params() first to load this model type's parameters")
        unknown = sorted(set(kwargs) - set(self._all_param_names()))
        if unknown:
            raise UserError(f"unknown parameter(s) {unknown}; known: {sorted(set(self._all_param_names()))}")
        for key, value in kwargs.items():
            _replace(self.training_params, key, value)

    def get_param_info(self, param: str) -> dict[str, Any]:
        """The API's description of one training parameter (type, default, description, ...)."""
        if not self.training_params:
            raise UserError("call get_params() first to load this model type's parameters")
        if param not in self._all_param_names():
            raise UserError(f"unknown parameter {param!r} for model type {self.model_info.model_type_id!r}")
        template = self.training_params.get("train_params", {}).get("template")
        for field in self._type_fields():
            candidates = [field]
            if self._param_name(field) == "template" and param != "template":
                candidates = [
                    sub
                    for option in field.get("model_type_enum_options", [])
                    if option["id"] == template
                    for sub in option.get("model_type_fields", [])
                ]
            for candidate in candidates:
                if self._param_name(candidate) == param:
                    info = {
                        k: v
                        for k, v in candidate.items()
                        if k not in ("placeholder", "model_type_enum_options")
                    }
                    info["param"] = param
                    return info
        raise UserError(f"the API has no description of {param!r}")

    # -- training ----------------------------------------------------------------------------------

    def train(self, yaml_file: str | None = None) -> str:
        """Start training a new version from a params YAML (or the loaded params); its version id."""
        model_type = self._trainable_type()
        if yaml_file:
            import yaml  # lazy: PyYAML is only needed to write or read params files

            try:
                params = yaml.safe_load(Path(yaml_file).read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise UserError(f"cannot read training params {yaml_file!r}: {exc}") from None
        elif self.training_params:
            params = self.training_params
        else:
            raise UserError("pass yaml_file= or call get_params() first")
        if not isinstance(params, dict) or not isinstance(params.get("train_params"), dict):
            raise UserError("training params need a 'train_params' mapping (see get_params())")
        concepts = list(params.get("concepts") or [])
        if concepts and model_type not in ("clusterer", "text-to-text"):
            known = {c.id for c in self._list("ListConcepts", items_field="concepts")}
            missing = sorted(set(concepts) - known)
            if missing:
                raise UserError(f"concept(s) {missing} do not exist in app {self.app_id!r}")
        version = resources_pb2.ModelVersion()
        train = dict(params["train_params"])
        for key in ("dataset_id", "dataset_version_id"):
            if params.get(key):
                train[key] = params[key]
        version.train_info.params.update(train)
        version.output_info.data.concepts.extend(resources_pb2.Concept(id=c) for c in concepts)
        inference = _struct(params.get("inference_params"), "inference_params")
        if inference is not None:
            version.output_info.params.CopyFrom(inference)
        if params.get("concepts_mutually_exclusive") is not None:
            version.output_info.output_config.concepts_mutually_exclusive = bool(
                params["concepts_mutually_exclusive"]
            )
        response = self._request("PostModelVersions", model_id=self.id, model_versions=[version])
        self._info = response.model
        self.version_id = response.model.model_version.id
        return self.version_id

    def training_status(
        self, version_id: str | None = None, training_logs: bool = False
    ) -> status_pb2.Status:
        """The status of a version's training (this model's version when version_id is omitted)."""
        chosen = version_id or self.version_id
        if not chosen:
            raise UserError("no model version: pass version_id= or use a Model with a version")
        version = self._request("GetModelVersion", model_id=self.id, version_id=chosen).model_version
        if training_logs and version.train_log:
            from modelwire.clarifai._download import fetch

            # The API names the log's URL, so its host may receive the credential.
            Path(f"{chosen}.log").write_bytes(fetch(version.train_log, self._conn, source="api"))
        return version.status  # type: ignore[no-any-return]

    def wait_for_training(self, version_id: str | None = None, timeout: float = 600.0) -> status_pb2.Status:
        """Poll training_status until training ends; the final status (MODEL_TRAINED or a failure)."""
        return poll(
            lambda: self.training_status(version_id),
            lambda status: status.code not in _TRAINING,
            timeout=timeout,
            on_timeout=lambda status, waited: ApiClientError(
                f"training of {self.id} still {status.description or status.code!r} after {waited:.0f}s"
            ),
        )

    # -- evaluation --------------------------------------------------------------------------------

    def evaluate(
        self,
        dataset_id: str | None = None,
        dataset_app_id: str | None = None,
        dataset_user_id: str | None = None,
        eval_id: str | None = None,
        extended_metrics: dict[str, Any] | None = None,
        eval_info: dict[str, Any] | None = None,
        dataset: Any = None,
        dataset_version_id: str | None = None,
    ) -> resources_pb2.EvalMetrics:
        """Start evaluating this version (on a dataset, or the training's held-out split).

        The positional order is the SDK reference's; clarifai 12.5.0's `dataset=` (a Dataset, which
        stands for every `dataset_*` argument) and `dataset_version_id=` are taken by keyword."""
        if not self.version_id:
            raise UserError("evaluate needs a model version: train first or pass model_version={'id': ...}")
        if dataset is not None:
            named = {
                "dataset_id": dataset_id,
                "dataset_app_id": dataset_app_id,
                "dataset_user_id": dataset_user_id,
                "dataset_version_id": dataset_version_id,
            }
            given = [name for name, value in named.items() if value]
            if given:
                raise UserError(f"evaluate: pass dataset= or {', '.join(given)}, not both")
            dataset_id, dataset_app_id, dataset_user_id = dataset.id, dataset.app_id, dataset.user_id
            version = getattr(dataset, "version", None)
            dataset_version_id = getattr(version, "id", "") or getattr(dataset, "version_id", "")
        metrics = resources_pb2.EvalMetrics(id=eval_id or "")
        metrics.model.id, metrics.model.app_id, metrics.model.user_id = self.id, self.app_id, self.user_id
        metrics.model.model_version.id = self.version_id
        if dataset_id:
            truth = metrics.ground_truth_dataset
            truth.id, truth.app_id = dataset_id, dataset_app_id or self.app_id
            truth.user_id = dataset_user_id or self.user_id
            if dataset_version_id:
                truth.version.id = dataset_version_id
        elif dataset_version_id:
            raise UserError("evaluate: dataset_version_id needs dataset_id (or dataset=)")
        if extended_metrics:
            metrics.extended_metrics.user_metrics.update(extended_metrics)
        if eval_info:
            metrics.eval_info.params.update(eval_info)
        return self._request("PostEvaluations", eval_metrics=[metrics]).eval_metrics[0]  # type: ignore[no-any-return]

    def get_eval_by_id(
        self,
        eval_id: str,
        label_counts: bool = False,
        test_set: bool = False,
        binary_metrics: bool = False,
        confusion_matrix: bool = False,
        metrics_by_class: bool = False,
        metrics_by_area: bool = False,
    ) -> resources_pb2.EvalMetrics:
        """One evaluation of this model (GetEvaluation), with the metric groups asked for.

        Args:
            eval_id: The evaluation's id (as `evaluate` returned it).
            label_counts: Include the per-concept label counts.
            test_set: Include the test set's inputs and predictions.
            binary_metrics: Include the binary metrics.
            confusion_matrix: Include the confusion matrix.
            metrics_by_class: Include per-concept precision, recall and F1.
            metrics_by_area: Include the metrics by area (detection).

        Returns:
            The `EvalMetrics` message.

        Raises:
            ApiError: No such evaluation, or the call failed.
        """
        fields = resources_pb2.FieldsValue(
            label_counts=label_counts,
            test_set=test_set,
            binary_metrics=binary_metrics,
            confusion_matrix=confusion_matrix,
            metrics_by_class=metrics_by_class,
            metrics_by_area=metrics_by_area,
        )
        return self._request("GetEvaluation", evaluation_id=eval_id, fields=fields).eval_metrics  # type: ignore[no-any-return]

    def get_latest_eval(
        self,
        label_counts: bool = False,
        test_set: bool = False,
        binary_metrics: bool = False,
        confusion_matrix: bool = False,
        metrics_by_class: bool = False,
        metrics_by_area: bool = False,
    ) -> resources_pb2.EvalMetrics | None:
        """This version's newest evaluation (with the requested fields once evaluated); None if none."""
        listed = next(
            self._list(
                "ListModelVersionEvaluations",
                per_page=1,
                page_no=1,
                items_field="eval_metrics",
                model_id=self.id,
                model_version_id=self.version_id,
            ),
            None,
        )
        if listed is None or listed.status.code != status_code_pb2.MODEL_EVALUATED:
            return listed
        return self.get_eval_by_id(
            listed.id,
            label_counts,
            test_set,
            binary_metrics,
            confusion_matrix,
            metrics_by_class,
            metrics_by_area,
        )

    def wait_for_evaluation(self, eval_id: str, timeout: float = 600.0) -> resources_pb2.EvalMetrics:
        """Poll until the evaluation is done; the evaluation (check its status)."""
        return poll(
            lambda: self.get_eval_by_id(eval_id),
            lambda metrics: metrics.status.code not in _EVALUATING,
            timeout=timeout,
            on_timeout=lambda _, waited: ApiClientError(
                f"evaluation {eval_id} still running after {waited:.0f}s"
            ),
        )


def _replace(tree: dict[str, Any], key: str, value: Any) -> None:
    for name, current in tree.items():
        if name == key:
            tree[name] = value
        elif isinstance(current, dict):
            _replace(current, key, value)
