"""Catalog RPCs of the Clarifai emulator: apps, workflows, modules, runners and the user.

These store the protos they are given (stamped with owner and times) and list them newest first.
Ids are required and unique (per user for apps and runners, per app otherwise). DeleteApp removes
everything in the app, including its app keys. Deleting catalog objects needs every id to exist
(nothing is deleted otherwise), unlike DeleteInputs. Models are in `models`.

User clarifai's app ``main`` and its workflows are seeded with the built-in models (see
`builtin_models`); any key reads them (`public`). ListWorkflows without an app lists across apps.

PostWorkflows checks the graph (unique node ids, known inputs, no cycle; node models are resolved
when the workflow runs, see `workflows`) and records the workflow's first version, shown in
`Workflow.version` and listed by ListWorkflowVersions.

PatchApp, PatchApps and PatchWorkflows are the generic patch of `patching` (PatchApp(s): actions
"overwrite" and "remove", PAT only; workflows: "merge", "overwrite" and "remove"). A workflow patch
that changes the nodes is checked like PostWorkflows and records a new version (the workflow's
`version`); `version` itself is the service's, as are an app's `extra_info`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from google.protobuf.message import Message

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import S
from modelwire.emulator.clarifai.labels import OVERWRITE, REMOVE, new_id
from modelwire.emulator.clarifai.patching import Patchable, patch_route
from modelwire.emulator.clarifai.public import list_across_apps
from modelwire.emulator.clarifai.records import (
    APP,
    MODULE,
    RUNNER,
    WORKFLOW,
    WORKFLOW_VERSION,
    Kind,
    Owner,
    order_of,
    request_page,
    search_filter,
    stamp,
)
from modelwire.emulator.clarifai.workflows import topological_order


class CatalogArea:
    def __init__(self, ctx: Context, on_app_deleted: Callable[[Owner], None]) -> None:
        self._ctx = ctx
        self._records = ctx.records
        self._on_app_deleted = on_app_deleted

    def routes(self) -> dict[str, Route]:
        apps = Patchable(
            APP, "apps", S.CONN_INVALID_REQUEST, actions=(OVERWRITE, REMOVE), fixed=frozenset({"extra_info"})
        )
        workflows = Patchable(
            WORKFLOW,
            "workflows",
            S.WORKFLOW_INVALID_REQUEST,
            fixed=frozenset({"version"}),
            check=_check_nodes,
            finish=self._new_version_on_new_nodes,
        )
        return {
            "GetUser": Route(Scope.USER, self.get_user),
            "PostApps": Route(Scope.PAT_USER, self.post_apps),
            "GetApp": Route(Scope.APP, self.get_app),
            "ListApps": Route(Scope.PAT_USER, self.list_apps),
            "DeleteApp": Route(Scope.PAT_APP, self.delete_app),
            "PatchApp": patch_route(self._records, "PatchApp", replace(apps, items="app"), Scope.PAT_APP),
            "PatchApps": patch_route(self._records, "PatchApps", apps, Scope.PAT_USER),
            "PostWorkflows": Route(Scope.APP, self.post_workflows),
            "PatchWorkflows": patch_route(self._records, "PatchWorkflows", workflows, Scope.APP),
            "GetWorkflow": Route(Scope.APP, self.get_workflow),
            "ListWorkflows": Route(Scope.APP, self.list_workflows),
            "DeleteWorkflows": Route(Scope.APP, self.delete_workflows),
            "ListWorkflowVersions": Route(Scope.APP, self.list_workflow_versions),
            "PostModules": Route(Scope.APP, self.post_modules),
            "GetModule": Route(Scope.APP, self.get_module),
            "ListModules": Route(Scope.APP, self.list_modules),
            "DeleteModules": Route(Scope.APP, self.delete_modules),
            "ListModuleVersions": Route(Scope.APP, self.list_module_versions),
            "ListInstalledModuleVersions": Route(Scope.APP, self.list_installed_module_versions),
            "PostRunners": Route(Scope.PAT_USER, self.post_runners),
            "GetRunner": Route(Scope.PAT_USER, self.get_runner),
            "ListRunners": Route(Scope.PAT_USER, self.list_runners),
            "DeleteRunners": Route(Scope.PAT_USER, self.delete_runners),
        }

    def _list(
        self,
        kind: Kind,
        owner: Owner,
        cls: type[Message],
        request: Message,
        where: str = "",
        params: list[Any] | None = None,
    ) -> list[Any]:
        return self._records.listing(
            kind, owner, cls, request_page(request), where=where, params=params or [], order=order_of(request)
        )

    def _delete(
        self, kind: Kind, owner: Owner, ids: list[str], delete_all: bool = False, children: Kind | None = None
    ) -> status_pb2.BaseResponse:
        if delete_all:
            ids = self._records.all_ids(kind, owner)
            if not ids:
                return status_pb2.BaseResponse()
        deleted = self._records.delete(kind, owner, ids)
        if children is not None:
            with self._records.store.transaction() as conn:
                self._records.delete_under(conn, children, owner, deleted)
        return status_pb2.BaseResponse()

    # -- user and apps -----------------------------------------------------------------------------

    def get_user(self, caller: Caller, request: service_pb2.GetUserRequest) -> service_pb2.SingleUserResponse:
        return service_pb2.SingleUserResponse(user=resources_pb2.User(id=caller.user_id))

    def post_apps(self, caller: Caller, request: service_pb2.PostAppsRequest) -> service_pb2.MultiAppResponse:
        return service_pb2.MultiAppResponse(apps=self._records.create(APP, caller.owner, list(request.apps)))

    def get_app(self, caller: Caller, request: service_pb2.GetAppRequest) -> service_pb2.SingleAppResponse:
        app = self._records.require(APP, caller.owner, caller.app_id, resources_pb2.App)
        return service_pb2.SingleAppResponse(app=app)

    def list_apps(self, caller: Caller, request: service_pb2.ListAppsRequest) -> service_pb2.MultiAppResponse:
        where, params = search_filter(request.search, request.query, request.name, request.id)
        return service_pb2.MultiAppResponse(
            apps=self._list(APP, caller.owner, resources_pb2.App, request, where, params)
        )

    def delete_app(self, caller: Caller, request: service_pb2.DeleteAppRequest) -> status_pb2.BaseResponse:
        self._records.delete_app(caller.owner)
        self._on_app_deleted(caller.owner)
        return status_pb2.BaseResponse()

    # -- workflows ------------------------------------------------------------------------------------

    def post_workflows(
        self, caller: Caller, request: service_pb2.PostWorkflowsRequest
    ) -> service_pb2.MultiWorkflowResponse:
        owner = caller.owner

        def prepare(workflow: resources_pb2.Workflow) -> None:
            topological_order(workflow.id, workflow.nodes)
            self._set_version(owner, workflow)

        def record_version(conn: sqlite3.Connection, workflow: resources_pb2.Workflow) -> None:
            self._record_version(conn, owner, workflow)

        created = self._records.create(
            WORKFLOW, owner, list(request.workflows), prepare=prepare, also=record_version
        )
        return service_pb2.MultiWorkflowResponse(workflows=created)

    def _set_version(self, owner: Owner, workflow: resources_pb2.Workflow) -> None:
        """Give the workflow a new version holding its nodes (recorded by `_record_version`)."""
        version = resources_pb2.WorkflowVersion(id=new_id(), workflow_id=workflow.id, nodes=workflow.nodes)
        version.metadata.CopyFrom(workflow.metadata)
        version.description = workflow.description
        stamp(version, owner, self._records.now())
        workflow.version.CopyFrom(version)

    def _record_version(
        self, conn: sqlite3.Connection, owner: Owner, workflow: resources_pb2.Workflow
    ) -> None:
        version = workflow.version
        created = version.created_at.ToNanoseconds()
        self._records.save(conn, WORKFLOW_VERSION, owner, version, parent=workflow.id, created_ns=created)

    def _new_version_on_new_nodes(
        self,
        conn: sqlite3.Connection,
        owner: Owner,
        before: resources_pb2.Workflow,
        after: resources_pb2.Workflow,
    ) -> None:
        if list(after.nodes) != list(before.nodes):
            self._set_version(owner, after)
            self._record_version(conn, owner, after)

    def list_workflow_versions(
        self, caller: Caller, request: service_pb2.ListWorkflowVersionsRequest
    ) -> service_pb2.MultiWorkflowVersionResponse:
        self._records.require(WORKFLOW, caller.owner, request.workflow_id, resources_pb2.Workflow)
        versions = self._records.listing(
            WORKFLOW_VERSION,
            caller.owner,
            resources_pb2.WorkflowVersion,
            request_page(request),
            parent=request.workflow_id,
        )
        return service_pb2.MultiWorkflowVersionResponse(workflow_versions=versions)

    def get_workflow(
        self, caller: Caller, request: service_pb2.GetWorkflowRequest
    ) -> service_pb2.SingleWorkflowResponse:
        workflow = self._records.require(WORKFLOW, caller.owner, request.workflow_id, resources_pb2.Workflow)
        return service_pb2.SingleWorkflowResponse(workflow=workflow)

    def list_workflows(
        self, caller: Caller, request: service_pb2.ListWorkflowsRequest
    ) -> service_pb2.MultiWorkflowResponse:
        where, params = search_filter(request.search, request.query, request.search_term, request.id)
        if not caller.app_id:  # across apps (see `public`)
            workflows = list_across_apps(
                self._records, WORKFLOW, resources_pb2.Workflow, caller, request, where, params
            )
        else:
            workflows = self._list(WORKFLOW, caller.owner, resources_pb2.Workflow, request, where, params)
        return service_pb2.MultiWorkflowResponse(workflows=workflows)

    def delete_workflows(
        self, caller: Caller, request: service_pb2.DeleteWorkflowsRequest
    ) -> status_pb2.BaseResponse:
        return self._delete(
            WORKFLOW, caller.owner, list(request.ids), request.delete_all, children=WORKFLOW_VERSION
        )

    # -- modules ------------------------------------------------------------------------------------

    def post_modules(
        self, caller: Caller, request: service_pb2.PostModulesRequest
    ) -> service_pb2.MultiModuleResponse:
        return service_pb2.MultiModuleResponse(
            modules=self._records.create(MODULE, caller.owner, list(request.modules))
        )

    def get_module(
        self, caller: Caller, request: service_pb2.GetModuleRequest
    ) -> service_pb2.SingleModuleResponse:
        module = self._records.require(MODULE, caller.owner, request.module_id, resources_pb2.Module)
        return service_pb2.SingleModuleResponse(module=module)

    def list_modules(
        self, caller: Caller, request: service_pb2.ListModulesRequest
    ) -> service_pb2.MultiModuleResponse:
        where, params = search_filter(request.search, request.name)
        return service_pb2.MultiModuleResponse(
            modules=self._list(MODULE, caller.owner, resources_pb2.Module, request, where, params)
        )

    def delete_modules(
        self, caller: Caller, request: service_pb2.DeleteModulesRequest
    ) -> status_pb2.BaseResponse:
        return self._delete(MODULE, caller.owner, list(request.ids))

    def list_module_versions(
        self, caller: Caller, request: service_pb2.ListModuleVersionsRequest
    ) -> service_pb2.MultiModuleVersionResponse:
        self._records.require(MODULE, caller.owner, request.module_id, resources_pb2.Module)
        return service_pb2.MultiModuleVersionResponse()  # module versions cannot be created here

    def list_installed_module_versions(
        self, caller: Caller, request: service_pb2.ListInstalledModuleVersionsRequest
    ) -> service_pb2.MultiInstalledModuleVersionResponse:
        return service_pb2.MultiInstalledModuleVersionResponse()  # nothing can be installed here

    # -- runners (user-level: user_app_id.app_id is ignored) ---------------------------------------------

    def post_runners(
        self, caller: Caller, request: service_pb2.PostRunnersRequest
    ) -> service_pb2.MultiRunnerResponse:
        def place(runner: resources_pb2.Runner) -> None:
            if request.nodepool_id:
                runner.nodepool.id = request.nodepool_id
            if request.compute_cluster_id:
                runner.nodepool.compute_cluster.id = request.compute_cluster_id

        created = self._records.create(RUNNER, caller.owner, list(request.runners), prepare=place)
        return service_pb2.MultiRunnerResponse(runners=created)

    def get_runner(
        self, caller: Caller, request: service_pb2.GetRunnerRequest
    ) -> service_pb2.SingleRunnerResponse:
        runner = self._records.require(RUNNER, caller.owner, request.runner_id, resources_pb2.Runner)
        return service_pb2.SingleRunnerResponse(runner=runner)

    def list_runners(
        self, caller: Caller, request: service_pb2.ListRunnersRequest
    ) -> service_pb2.MultiRunnerResponse:
        where, params = [], []
        for column, value in (("facet", request.nodepool_id), ("tag", request.compute_cluster_id)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        runners = self._list(RUNNER, caller.owner, resources_pb2.Runner, request, " AND ".join(where), params)
        return service_pb2.MultiRunnerResponse(runners=runners)

    def delete_runners(
        self, caller: Caller, request: service_pb2.DeleteRunnersRequest
    ) -> status_pb2.BaseResponse:
        return self._delete(RUNNER, caller.owner, list(request.ids))


def _check_nodes(before: resources_pb2.Workflow, after: resources_pb2.Workflow) -> None:
    """A patch that changes the nodes must leave a valid graph (as PostWorkflows checks)."""
    if list(after.nodes) != list(before.nodes):
        topological_order(after.id, after.nodes)
