"""`App`: datasets, models, modules, workflows, concepts, inputs and search within one app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai._auth import parse_clarifai_url
from modelwire.clarifai._base import BaseClient, client_options, op
from modelwire.clarifai._proto import from_kwargs
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.model import TRAINABLE_MODEL_TYPES, Model
from modelwire.clarifai.module import Module
from modelwire.clarifai.user import _check_filters
from modelwire.clarifai.workflow import Workflow

if TYPE_CHECKING:
    from modelwire.clarifai.dataset import Dataset
    from modelwire.clarifai.inputs import Inputs
    from modelwire.clarifai.search import Search


class App(BaseClient):
    """An app: `App(url="https://clarifai.com/{user}/{app}")` or `App(app_id=..., user_id=...)`."""

    def __init__(
        self,
        url: str = "",
        app_id: str = "",
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        user_id = kwargs.pop("user_id", None)
        if url:
            parsed = parse_clarifai_url(url)
            user_id, app_id = parsed["user_id"], parsed["app_id"]
        if not app_id:
            raise UserError("App needs app_id='...' or url='https://clarifai.com/<user>/<app>'")
        info = kwargs.pop("app_info", None)
        options = client_options(kwargs)
        super().__init__(
            user_id=user_id,
            app_id=app_id,
            base_url=base_url,
            pat=pat,
            token=token,
            **options,
        )
        self.id = app_id
        self.app_info: resources_pb2.App = info or from_kwargs(
            resources_pb2.App, {"id": app_id, **kwargs}, what="App"
        )

    # -- children ----------------------------------------------------------------------------------

    def _child(self, cls: type[Any], **kwargs: Any) -> Any:
        return self._derive(cls, app_id=self.id, **kwargs)

    def inputs(self) -> Inputs:
        from modelwire.clarifai.inputs import Inputs

        return self._child(Inputs)  # type: ignore[no-any-return]

    def search(self, **kwargs: Any) -> Search:
        """A Search over this app (top_k=, metric=, ... as for Search)."""
        from modelwire.clarifai.search import Search

        return self._child(Search, **kwargs)  # type: ignore[no-any-return]

    def _dataset(self, info: resources_pb2.Dataset) -> Dataset:
        from modelwire.clarifai.dataset import Dataset

        return self._child(Dataset, dataset_id=info.id, dataset_info=info)  # type: ignore[no-any-return]

    # -- datasets ------------------------------------------------------------------------------------

    def create_dataset(self, dataset_id: str, **kwargs: Any) -> Dataset:
        dataset = from_kwargs(resources_pb2.Dataset, {"id": dataset_id, **kwargs}, what="create_dataset")
        return self._dataset(self._request("PostDatasets", datasets=[dataset]).datasets[0])

    def dataset(self, dataset_id: str, dataset_version_id: str = "", **kwargs: Any) -> Dataset:
        info = self._request("GetDataset", dataset_id=dataset_id).dataset
        if dataset_version_id:
            info.version.id = dataset_version_id
        return self._dataset(info)

    def delete_dataset(self, dataset_id: str) -> None:
        self._request("DeleteDatasets", dataset_ids=[dataset_id])

    def list_datasets(self, page_no: int | None = None, per_page: int | None = None) -> Iterator[Dataset]:
        return self._list(
            "ListDatasets", self._dataset, page_no=page_no, per_page=per_page, items_field="datasets"
        )

    # -- models ----------------------------------------------------------------------------------------

    def _model(self, info: resources_pb2.Model) -> Model:
        return self._derive(Model, model_id=info.id, model_info=info, app_id=info.app_id or self.id)

    def create_model(self, model_id: str, **kwargs: Any) -> Model:
        """Create a model; kwargs are Model fields (model_type_id, description, notes, ...)."""
        model = from_kwargs(resources_pb2.Model, {"id": model_id, **kwargs}, what="create_model")
        return self._model(self._request("PostModels", models=[model]).model)

    def model(self, model_id: str, model_version_id: str = "", **kwargs: Any) -> Model:
        """The existing model (one GetModel; `user_id=`/`app_id=` reach another app's model)."""
        other = {k: kwargs.pop(k) for k in ("user_id", "app_id") if k in kwargs}
        scope = resources_pb2.UserAppIDSet(
            user_id=other.get("user_id", self.user_id), app_id=other.get("app_id", self.id)
        )
        request = op("GetModel").request_type(
            user_app_id=scope, model_id=model_id, version_id=model_version_id
        )
        info = self._grpc_request("GetModel", request).model
        return self._derive(
            Model, model_id=info.id, model_info=info, user_id=scope.user_id, app_id=scope.app_id
        )

    def delete_model(self, model_id: str) -> None:
        self._request("DeleteModels", ids=[model_id])

    def list_models(
        self,
        filter_by: dict[str, Any] | None = None,
        only_in_app: bool = True,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[Model]:
        """Models visible to the app (only its own with only_in_app); no per-model refetch."""
        filters = _check_filters(op("ListModels").request_type, filter_by, "list_models filter_by")
        items = self._list("ListModels", page_no=page_no, per_page=per_page, items_field="models", **filters)
        return (self._model(m) for m in items if not only_in_app or m.app_id in ("", self.id))

    def list_trainable_model_types(self) -> list[str]:
        return list(TRAINABLE_MODEL_TYPES)

    # -- workflows ------------------------------------------------------------------------------------

    def _workflow(self, info: resources_pb2.Workflow) -> Workflow:
        return self._derive(Workflow, workflow_id=info.id, workflow_info=info, app_id=info.app_id or self.id)

    def create_workflow(
        self, config_filepath: str, generate_new_id: bool = False, display: bool = True
    ) -> Workflow:
        """Create a workflow from a YAML config (`workflow: {id, nodes: [{id, model, node_inputs}]}`)."""
        workflow = workflow_from_yaml(config_filepath)
        if generate_new_id:
            workflow.id = f"{workflow.id}-{uuid.uuid4().hex[:8]}" if workflow.id else uuid.uuid4().hex
        created = self._request("PostWorkflows", workflows=[workflow]).workflows[0]
        if display:
            print(describe_workflow(created))
        return self._workflow(created)

    def workflow(self, workflow_id: str, **kwargs: Any) -> Workflow:
        return self._workflow(self._request("GetWorkflow", workflow_id=workflow_id).workflow)

    def delete_workflow(self, workflow_id: str) -> None:
        self._request("DeleteWorkflows", ids=[workflow_id])

    def list_workflows(
        self,
        filter_by: dict[str, Any] | None = None,
        only_in_app: bool = True,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[Workflow]:
        filters = _check_filters(op("ListWorkflows").request_type, filter_by, "list_workflows filter_by")
        items = self._list(
            "ListWorkflows", page_no=page_no, per_page=per_page, items_field="workflows", **filters
        )
        return (self._workflow(w) for w in items if not only_in_app or w.app_id in ("", self.id))

    # -- modules ------------------------------------------------------------------------------------------

    def _module(self, info: resources_pb2.Module) -> Module:
        return self._derive(Module, module_id=info.id, module_info=info, app_id=info.app_id or self.id)

    def create_module(self, module_id: str, description: str, **kwargs: Any) -> Module:
        module = from_kwargs(
            resources_pb2.Module,
            {"id": module_id, "description": description, **kwargs},
            what="create_module",
        )
        return self._module(self._request("PostModules", modules=[module]).modules[0])

    def module(self, module_id: str, module_version_id: str = "", **kwargs: Any) -> Module:
        info = self._request("GetModule", module_id=module_id).module
        if module_version_id:
            info.module_version.id = module_version_id
        return self._module(info)

    def delete_module(self, module_id: str) -> None:
        self._request("DeleteModules", ids=[module_id])

    def list_modules(
        self,
        filter_by: dict[str, Any] | None = None,
        only_in_app: bool = True,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[Module]:
        filters = _check_filters(op("ListModules").request_type, filter_by, "list_modules filter_by")
        items = self._list(
            "ListModules", page_no=page_no, per_page=per_page, items_field="modules", **filters
        )
        return (self._module(m) for m in items if not only_in_app or m.app_id in ("", self.id))

    def list_installed_module_versions(
        self, filter_by: dict[str, Any] | None = None, page_no: int | None = None, per_page: int | None = None
    ) -> Iterator[Module]:
        request_type = op("ListInstalledModuleVersions").request_type
        filters = _check_filters(request_type, filter_by, "list_installed_module_versions filter_by")

        def shape(installed: Any) -> Module:
            version = installed.module_version
            info = resources_pb2.Module(id=version.module_id, app_id=version.app_id, user_id=version.user_id)
            info.module_version.CopyFrom(version)
            return self._derive(Module, module_id=info.id, module_info=info, app_id=version.app_id or self.id)

        return self._list(
            "ListInstalledModuleVersions",
            shape,
            page_no=page_no,
            per_page=per_page,
            items_field="installed_module_versions",
            **filters,
        )

    # -- concepts -------------------------------------------------------------------------------------------

    def list_concepts(
        self, page_no: int | None = None, per_page: int | None = None
    ) -> Iterator[resources_pb2.Concept]:
        return self._list("ListConcepts", page_no=page_no, per_page=per_page, items_field="concepts")

    def __repr__(self) -> str:
        return f"App(id={self.id!r}, user_id={self.user_id!r}, base_url={self.base_url!r})"


def workflow_from_yaml(config_filepath: str | Path) -> resources_pb2.Workflow:
    """A Workflow message from a YAML config; errors say which node and key is wrong."""
    path = Path(config_filepath)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read workflow config {path}: {exc}") from None
    spec = data.get("workflow") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("nodes"), list) or not spec["nodes"]:
        raise UserError(f"{path}: expected 'workflow:' with 'id' and a non-empty 'nodes:' list")
    workflow = resources_pb2.Workflow(id=str(spec.get("id", "")))
    seen: set[str] = set()
    for index, node in enumerate(spec["nodes"]):
        where = f"{path}: nodes[{index}]"
        if not isinstance(node, dict) or not node.get("id") or not isinstance(node.get("model"), dict):
            raise UserError(f"{where}: each node needs 'id' and a 'model:' mapping")
        model = node["model"]
        if not model.get("model_id"):
            raise UserError(f"{where}: model needs 'model_id'")
        added = workflow.nodes.add(id=str(node["id"]))
        added.model.id = str(model["model_id"])
        added.model.model_version.id = str(model.get("model_version_id", ""))
        added.model.user_id = str(model.get("user_id", ""))
        added.model.app_id = str(model.get("app_id", ""))
        added.model.model_type_id = str(model.get("model_type_id", ""))
        for parent in node.get("node_inputs", []) or []:
            parent_id = parent.get("node_id") if isinstance(parent, dict) else None
            if parent_id not in seen:
                raise UserError(f"{where}: node_inputs names {parent_id!r}, which is not an earlier node")
            added.node_inputs.add(node_id=parent_id)
        seen.add(added.id)
    return workflow


def describe_workflow(workflow: resources_pb2.Workflow) -> str:
    lines = [f"workflow {workflow.id}"]
    for node in workflow.nodes:
        parents = ", ".join(i.node_id for i in node.node_inputs) or "input"
        lines.append(f"  {node.id}: {node.model.id} <- {parents}")
    return "\n".join(lines)
