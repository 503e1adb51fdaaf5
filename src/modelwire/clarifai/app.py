"""`App`: datasets, models, modules, workflows, concepts (and their relations), inputs and search
within one app.

The `patch_*` methods take an `action` ("merge", "overwrite" or "remove") and the resource's
fields as keyword arguments, as clarifai 12.5.0 does (`visibility=10`, `image_url=...` included),
and return the patched resource as the API answers it (the published client rebuilt it from the
arguments).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai._auth import parse_clarifai_url
from modelwire.clarifai._base import BaseClient, client_options, op
from modelwire.clarifai._patching import (
    ACTIONS,
    PREDICATES,
    check_action,
    check_id,
    check_ids,
    resource_fields,
    same_length,
)
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
        """The app's `Inputs` (upload, list, annotate, delete), sharing this app's connection.

        Returns:
            An `Inputs` client scoped to this app; no call is made.
        """
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
        """Create a dataset in the app (PostDatasets).

        Args:
            dataset_id: The new dataset's id.
            **kwargs: Other Dataset fields (description, notes, metadata, ...).

        Returns:
            The created `Dataset`.

        Raises:
            UserError: A keyword is not a Dataset field or has the wrong type.
            ApiError: The API refused it (e.g. the id exists already).
        """
        dataset = from_kwargs(resources_pb2.Dataset, {"id": dataset_id, **kwargs}, what="create_dataset")
        return self._dataset(self._request("PostDatasets", datasets=[dataset]).datasets[0])

    def dataset(self, dataset_id: str, dataset_version_id: str = "", **kwargs: Any) -> Dataset:
        """An existing dataset (one GetDataset call).

        Args:
            dataset_id: The dataset's id.
            dataset_version_id: A version to pin the returned `Dataset` to (optional).

        Returns:
            The `Dataset`.

        Raises:
            ApiError: No such dataset (a `NotFoundError`), or the call failed.
        """
        info = self._request("GetDataset", dataset_id=dataset_id).dataset
        if dataset_version_id:
            info.version.id = dataset_version_id
        return self._dataset(info)

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset (DeleteDatasets); its inputs stay in the app.

        Raises:
            ApiError: No such dataset, or the call failed.
        """
        self._request("DeleteDatasets", dataset_ids=[dataset_id])

    def patch_dataset(self, dataset_id: str, action: str = "merge", **kwargs: Any) -> Dataset:
        """Patch a dataset (PatchDatasets): kwargs are Dataset fields (description, notes,
        metadata, visibility=10, image_url=...); `action` is "merge", "overwrite" or "remove"."""
        patch = _patch_of(resources_pb2.Dataset, dataset_id, action, kwargs, "patch_dataset")
        return self._dataset(self._request("PatchDatasets", datasets=[patch], action=action).datasets[0])

    def list_datasets(self, page_no: int | None = None, per_page: int | None = None) -> Iterator[Dataset]:
        """The app's datasets, fetched lazily page by page.

        Args:
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Datasets per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Dataset`.
        """
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

    def model(
        self,
        model_id: str,
        model_version_id: str | dict[str, Any] = "",
        *,
        model_version: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Model:
        """The existing model (one GetModel; `user_id=`/`app_id=` reach another app's model).

        The version is the seed's `model_version_id=` or clarifai 12.5.0's `model_version={"id": ...}`
        (a dict in second place, as 12.5.0 calls it positionally, counts as the latter).
        """
        version_id = _requested_version(model_version_id, model_version)
        other = {k: kwargs.pop(k) for k in ("user_id", "app_id") if k in kwargs}
        if kwargs:
            raise UserError(f"App.model: unknown argument(s) {sorted(kwargs)}; known: user_id, app_id")
        scope = resources_pb2.UserAppIDSet(
            user_id=other.get("user_id", self.user_id), app_id=other.get("app_id", self.id)
        )
        request = op("GetModel").request_type(user_app_id=scope, model_id=model_id, version_id=version_id)
        info = self._grpc_request("GetModel", request).model
        return self._derive(
            Model, model_id=info.id, model_info=info, user_id=scope.user_id, app_id=scope.app_id
        )

    def delete_model(self, model_id: str) -> None:
        """Delete a model with all its versions (DeleteModels).

        Raises:
            ApiError: No such model, or the call failed.
        """
        self._request("DeleteModels", ids=[model_id])

    def patch_model(self, model_id: str, action: str = "merge", **kwargs: Any) -> Model:
        """Patch a model (PatchModels): kwargs are Model fields (description, notes, toolkits,
        use_cases, languages, metadata, visibility=10, image_url=...)."""
        patch = _patch_of(resources_pb2.Model, model_id, action, kwargs, "patch_model")
        return self._model(self._request("PatchModels", models=[patch], action=action).models[0])

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
        """The model type ids `create_model` can train, e.g. "embedding-classifier" (no call is made)."""
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
            import uuid  # lazy: uuid imports platform, for this one call

            workflow.id = f"{workflow.id}-{uuid.uuid4().hex[:8]}" if workflow.id else uuid.uuid4().hex
        created = self._request("PostWorkflows", workflows=[workflow]).workflows[0]
        if display:
            print(describe_workflow(created))
        return self._workflow(created)

    def workflow(self, workflow_id: str, **kwargs: Any) -> Workflow:
        """An existing workflow (one GetWorkflow call).

        Args:
            workflow_id: The workflow's id.

        Returns:
            The `Workflow`.

        Raises:
            ApiError: No such workflow (a `NotFoundError`), or the call failed.
        """
        return self._workflow(self._request("GetWorkflow", workflow_id=workflow_id).workflow)

    def delete_workflow(self, workflow_id: str) -> None:
        """Delete a workflow (DeleteWorkflows); the models it uses stay.

        Raises:
            ApiError: No such workflow, or the call failed.
        """
        self._request("DeleteWorkflows", ids=[workflow_id])

    def patch_workflow(
        self, workflow_id: str, action: str = "merge", config_filepath: str | None = None, **kwargs: Any
    ) -> Workflow:
        """Patch a workflow (PatchWorkflows): kwargs are Workflow fields (description, notes,
        metadata, visibility=10, image_url=...); `config_filepath`, a YAML config as for
        `create_workflow`, gives its nodes (a new workflow version)."""
        if config_filepath:
            if "nodes" in kwargs:
                raise UserError("patch_workflow takes the nodes from config_filepath or nodes=, not both")
            kwargs["nodes"] = list(workflow_from_yaml(config_filepath).nodes)
        patch = _patch_of(resources_pb2.Workflow, workflow_id, action, kwargs, "patch_workflow")
        return self._workflow(self._request("PatchWorkflows", workflows=[patch], action=action).workflows[0])

    def list_workflows(
        self,
        filter_by: dict[str, Any] | None = None,
        only_in_app: bool = True,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[Workflow]:
        """The workflows visible to the app, fetched lazily page by page.

        Args:
            filter_by: ListWorkflows request fields to filter on, e.g. `{"query": "demo"}`.
            only_in_app: Only the app's own workflows (not public ones listed with them).
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Workflows per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Workflow`.

        Raises:
            UserError: `filter_by` names a field ListWorkflows does not have.
        """
        filters = _check_filters(op("ListWorkflows").request_type, filter_by, "list_workflows filter_by")
        items = self._list(
            "ListWorkflows", page_no=page_no, per_page=per_page, items_field="workflows", **filters
        )
        return (self._workflow(w) for w in items if not only_in_app or w.app_id in ("", self.id))

    # -- modules ------------------------------------------------------------------------------------------

    def _module(self, info: resources_pb2.Module) -> Module:
        return self._derive(Module, module_id=info.id, module_info=info, app_id=info.app_id or self.id)

    def create_module(self, module_id: str, description: str, **kwargs: Any) -> Module:
        """Create a module in the app (PostModules).

        Args:
            module_id: The new module's id.
            description: What the module does (required by the API).
            **kwargs: Other Module fields.

        Returns:
            The created `Module`.

        Raises:
            UserError: A keyword is not a Module field or has the wrong type.
            ApiError: The API refused it.
        """
        module = from_kwargs(
            resources_pb2.Module,
            {"id": module_id, "description": description, **kwargs},
            what="create_module",
        )
        return self._module(self._request("PostModules", modules=[module]).modules[0])

    def module(self, module_id: str, module_version_id: str = "", **kwargs: Any) -> Module:
        """An existing module (one GetModule call).

        Args:
            module_id: The module's id.
            module_version_id: A version to pin the returned `Module` to (optional).

        Returns:
            The `Module`.

        Raises:
            ApiError: No such module, or the call failed.
        """
        info = self._request("GetModule", module_id=module_id).module
        if module_version_id:
            info.module_version.id = module_version_id
        return self._module(info)

    def delete_module(self, module_id: str) -> None:
        """Delete a module (DeleteModules).

        Raises:
            ApiError: No such module, or the call failed.
        """
        self._request("DeleteModules", ids=[module_id])

    def list_modules(
        self,
        filter_by: dict[str, Any] | None = None,
        only_in_app: bool = True,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[Module]:
        """The modules visible to the app, fetched lazily page by page.

        Args:
            filter_by: ListModules request fields to filter on.
            only_in_app: Only the app's own modules.
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Modules per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Module`.

        Raises:
            UserError: `filter_by` names a field ListModules does not have.
        """
        filters = _check_filters(op("ListModules").request_type, filter_by, "list_modules filter_by")
        items = self._list(
            "ListModules", page_no=page_no, per_page=per_page, items_field="modules", **filters
        )
        return (self._module(m) for m in items if not only_in_app or m.app_id in ("", self.id))

    def list_installed_module_versions(
        self, filter_by: dict[str, Any] | None = None, page_no: int | None = None, per_page: int | None = None
    ) -> Iterator[Module]:
        """The module versions installed in the app, fetched lazily page by page.

        Args:
            filter_by: ListInstalledModuleVersions request fields to filter on.
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Items per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Module`, each pinned to its installed version.
        """
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
        """The app's concepts, fetched lazily page by page.

        Args:
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Concepts per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Concept` messages.
        """
        return self._list("ListConcepts", page_no=page_no, per_page=per_page, items_field="concepts")

    def create_concepts(self, concept_ids: Sequence[str], concepts: Sequence[str] = ()) -> None:
        """Add concepts to the app (PostConcepts): one per id, named by `concepts` (one name per
        id; the ids when not given)."""
        ids = check_ids(concept_ids, "concept_ids")
        names = check_ids(concepts, "concepts")
        same_length("concepts", names, "concept id", ids)
        if not ids:
            raise UserError("create_concepts needs at least one concept id")
        made = [resources_pb2.Concept(id=i, name=n) for i, n in zip(ids, names or ids, strict=True)]
        self._request("PostConcepts", concepts=made)

    def create_concept_relations(
        self, subject_concept_id: str, object_concept_ids: Sequence[str], predicates: Sequence[str]
    ) -> None:
        """Relate a concept to others (PostConceptRelations): one predicate per object concept,
        "hyponym" (the subject is a kind of the object), "hypernym" (its parent) or "synonym"."""
        subject = check_id(subject_concept_id, "subject_concept_id")
        objects = check_ids(object_concept_ids, "object_concept_ids")
        predicates = check_ids(predicates, "predicates")
        if not objects or len(predicates) != len(objects):
            raise UserError(
                "create_concept_relations needs one predicate per object concept, and at least one: "
                f"got {len(objects)} object(s) and {len(predicates)} predicate(s)"
            )
        for index, predicate in enumerate(predicates):
            if predicate not in PREDICATES:
                raise UserError(f"predicates[{index}] must be one of {list(PREDICATES)}, got {predicate!r}")
        relations = [
            resources_pb2.ConceptRelation(object_concept=resources_pb2.Concept(id=o), predicate=p)
            for o, p in zip(objects, predicates, strict=True)
        ]
        self._request("PostConceptRelations", concept_id=subject, concept_relations=relations)

    def search_concept_relations(
        self,
        concept_id: str | None = None,
        predicate: str | None = None,
        page_no: int | None = None,
        per_page: int | None = None,
        show_tree: bool = False,
    ) -> Iterator[resources_pb2.ConceptRelation]:
        """The app's concept relations (ListConceptRelations), lazily: those of `concept_id` seen
        from it, else each relation once; only `predicate` ones when given. With `show_tree`, the
        hierarchy (parents over their kinds) is printed once the listing ends."""
        if concept_id is not None:
            check_id(concept_id, "concept_id")
        if predicate is not None and predicate not in PREDICATES:
            raise UserError(f"predicate must be one of {list(PREDICATES)} (or None), got {predicate!r}")
        items: Iterator[resources_pb2.ConceptRelation] = self._list(
            "ListConceptRelations",
            page_no=page_no,
            per_page=per_page,
            items_field="concept_relations",
            concept_id=concept_id or "",
            predicate=predicate or "",
        )
        return _printing_tree(items) if show_tree else items

    def delete_concept_relations(self, concept_id: str, concept_relation_ids: Sequence[str] = ()) -> None:
        """Delete relations of a concept (DeleteConceptRelations); all of them when no ids are given."""
        check_id(concept_id, "concept_id")
        ids = check_ids(concept_relation_ids, "concept_relation_ids")
        if not ids:
            ids = [r.id for r in self.search_concept_relations(concept_id=concept_id)]
            if not ids:
                return  # nothing to delete
        self._request("DeleteConceptRelations", concept_id=concept_id, ids=ids)

    def __repr__(self) -> str:
        return f"App(id={self.id!r}, user_id={self.user_id!r}, base_url={self.base_url!r})"


def _patch_of(cls: type[Any], resource_id: str, action: str, kwargs: dict[str, Any], what: str) -> Any:
    """The patch message of one resource (pure): its id, and its fields from kwargs."""
    check_id(resource_id, f"{what}: the id")
    check_action(action, ACTIONS, what)
    return from_kwargs(cls, {**resource_fields(kwargs), "id": resource_id}, what=what)


def concept_relations_tree(relations: Sequence[resources_pb2.ConceptRelation]) -> str:
    """The hierarchy of `relations` as text: each parent (hypernym) over its kinds (hyponyms);
    synonyms as concepts of their own, as the published SDK draws them."""
    children: dict[str, list[str]] = {}
    for relation in relations:
        subject, obj = relation.subject_concept.id, relation.object_concept.id
        if relation.predicate == "hyponym":
            children.setdefault(obj, []).append(subject)
        elif relation.predicate == "hypernym":
            children.setdefault(subject, []).append(obj)
        else:
            children.setdefault(subject, [])
            children.setdefault(obj, [])
    lines = []
    for parent, kinds in children.items():
        lines.append(parent)
        lines += [f"{'└──' if i == len(kinds) - 1 else '├──'} {kind}" for i, kind in enumerate(kinds)]
    return "\n".join(lines)


def _printing_tree(
    items: Iterator[resources_pb2.ConceptRelation],
) -> Iterator[resources_pb2.ConceptRelation]:
    seen = []
    for item in items:
        seen.append(item)
        yield item
    print(concept_relations_tree(seen))


def workflow_from_yaml(config_filepath: str | Path) -> resources_pb2.Workflow:
    """A Workflow message from a YAML config; errors say which node and key is wrong."""
    import yaml  # lazy: PyYAML is only needed to read a workflow config

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


def _requested_version(version_id: str | dict[str, Any], version: dict[str, Any] | None) -> str:
    """The version App.model asks for: the seed's `model_version_id` or 12.5.0's `model_version`."""
    if isinstance(version_id, dict) and version is None:
        return _requested_version("", version_id)
    if not isinstance(version_id, str):
        raise UserError(f"model_version_id must be a str, got {version_id!r}")
    if version is None:
        return version_id
    if not isinstance(version, dict) or not set(version) <= {"id"}:
        raise UserError(f'model_version must be {{"id": "<version id>"}}, got {version!r}')
    chosen = str(version.get("id", ""))
    if version_id and chosen and chosen != version_id:
        raise UserError(
            f"model_version_id={version_id!r} and model_version={version!r} name different versions; pass one"
        )
    return version_id or chosen
