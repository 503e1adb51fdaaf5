"""Plain records of the Clarifai emulator: one table-driven mechanism for the Post / Get / List /
Patch / Delete RPCs of resources the service only stores (compute clusters, nodepools, deployments,
API keys).

Each resource is a `PlainRecord` row in `RECORDS`-like tables: its `Kind` (status codes), proto
class, the RPC names' plural and singular (`PostComputeClusters`, `GetComputeCluster`, ...), who may
call it, an optional parent named by a request field (nodepools live in a compute cluster), and
hooks for what the service checks or computes. Request and response fields are found from the
descriptors (the repeated field of the record type, `<singular>_id`, `ids`), so a new plain
resource is a table row and its protos, not a handler per RPC. Patch* is `patching.patch_route`.

Semantics, as on the real API:
* Post: ids follow the id rules (`records.check_id`; generated where the service makes them, as
  for keys); an id taken or repeated is the kind's duplicate code; a missing parent is the
  parent's "does not exist" code; nothing is stored unless every record is good; owner and times
  are stamped; fields the service computes are set by it.
* Get: the kind's "does not exist" code for an unknown id (or an unknown parent).
* List: newest first, `page` from 1 and `per_page` (0 -> 128, at most 1000); request filters
  (where the resource has them) narrow the listing before paging.
* Delete: every id must exist, else nothing is deleted.

The resources (all user-level and PAT-only, as `cl_auth_type` says in clarifai-grpc 12.6.0):
* compute clusters: need `cloud_provider.id` and `region`; `key` (the SDK sends the creator's PAT
  there) is never stored or shown. Deleting a cluster deletes its nodepools; a cluster whose
  nodepools carry deployments cannot be deleted (COMPUTE_CLUSTER_INVALID_REQUEST).
* nodepools, under `compute_cluster_id`: need an instance type; `min_instances <= max_instances`;
  their `status` is READY. A nodepool that deployments use cannot be deleted.
* deployments: name existing nodepools (in `nodepools` or `deployment_nodepools`) and a worker
  (a model or workflow that exists). `worker` is what runs, and follows `desired_worker` at once
  here; PatchDeployments takes only "overwrite" (as the real backend) and ignores `worker`.
* keys (`emulator/clarifai/keys.py`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from modelwire._core.wire import is_repeated
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Route
from modelwire.emulator.clarifai.failures import ApiFailure, Code, S
from modelwire.emulator.clarifai.labels import MERGE, OVERWRITE, REMOVE, new_id
from modelwire.emulator.clarifai.patching import Patchable, patch_route
from modelwire.emulator.clarifai.records import (
    MODEL,
    WORKFLOW,
    Kind,
    Owner,
    Page,
    Records,
    check_id,
    missing,
    request_page,
)

_V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]

COMPUTE_CLUSTER = Kind(
    "compute cluster",
    S.COMPUTE_CLUSTER_DOES_NOT_EXIST,
    S.COMPUTE_CLUSTER_INVALID_ARGUMENT,
    S.COMPUTE_CLUSTER_INVALID_ARGUMENT,
)
NODEPOOL = Kind(
    "nodepool",
    S.NODEPOOL_DOES_NOT_EXIST,
    S.NODEPOOL_INVALID_ARGUMENT,
    S.NODEPOOL_INVALID_ARGUMENT,
    parent_name="compute cluster",
)
DEPLOYMENT = Kind(
    "deployment", S.DEPLOYMENT_DOES_NOT_EXIST, S.DEPLOYMENT_INVALID_ARGUMENT, S.DEPLOYMENT_INVALID_ARGUMENT
)

# (caller, request, record): check or complete one record before it is stored.
Prepare = Callable[[Caller, Any, Any], None]
# (connection, caller, record): store what goes with a new record, in the same transaction.
Also = Callable[[sqlite3.Connection, Caller, Any], None]
# (request, record) -> whether a List request's filters keep the record.
Keep = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Parent:
    """Where a child record lives: the request field naming its parent, the parent's kind and
    class, and the record's field that points at the parent (set by the service)."""

    request_field: str
    kind: Kind
    cls: type[Message]
    link: str


@dataclass(frozen=True)
class PlainRecord:
    """One stored resource and how its RPCs treat it (see the module docstring)."""

    kind: Kind
    cls: type[Message]
    plural: str  # RPC names: Post<plural>, List<plural>, Delete<plural>, Patch<plural>
    singular: str  # RPC names: Get<singular> (and Delete<singular> when the service deletes one)
    scope: Scope
    invalid_request: Code  # a malformed request (no records, unknown patch action)
    parent: Parent | None = None
    generate_id: bool = False  # the service makes the id when none is given
    computed: frozenset[str] = frozenset()  # set by the service: cleared on Post, left by Patch
    fixed: frozenset[str] = frozenset()  # given on Post, never changed by Patch
    patch_actions: tuple[str, ...] = (MERGE, OVERWRITE, REMOVE)
    prepare: Prepare | None = None
    also: Also | None = None
    keep: Keep | None = None
    before_delete: Callable[[Caller, Sequence[str], str], None] | None = None  # (caller, ids, parent)
    after_delete: Callable[[sqlite3.Connection, Caller, Sequence[str], str], None] | None = None
    show: Callable[[Any], Any] | None = None
    patch_finish: Callable[[Any, Any], None] | None = None  # (before, after) of a patched record

    @property
    def id_field(self) -> str:
        return _snake(self.singular) + "_id"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _records_field(message: Descriptor, cls: type[Message]) -> FieldDescriptor:
    """The field of `message` that holds records of `cls` (repeated or single)."""
    wanted = cls.DESCRIPTOR.full_name
    for candidate in message.fields:
        if candidate.message_type is not None and candidate.message_type.full_name == wanted:
            return candidate
    raise LookupError(f"{message.full_name} has no {wanted} field")


def _answer(method: MethodDescriptor, cls: type[Message]) -> Callable[[Any], Message]:
    """Builds `method`'s response around its record(s) of `cls` (one, or a list)."""
    response_class: Any = GetMessageClass(method.output_type)
    field = _records_field(method.output_type, cls).name

    def answer(records: Any) -> Message:
        response: Message = response_class(**{field: records})
        return response

    return answer


def _copy(message: Any) -> Any:
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


class PlainRecords:
    """The routes of every PlainRecord (`routes(specs)`), over one `Records` store."""

    def __init__(self, records: Records) -> None:
        self._records = records

    # -- shared steps ------------------------------------------------------------------------------

    def _parent_of(self, spec: PlainRecord, caller: Caller, request: Any) -> str:
        if spec.parent is None:
            return ""
        parent_id: str = getattr(request, spec.parent.request_field)
        if not parent_id:
            raise ApiFailure(
                spec.kind.invalid,
                f"{spec.parent.request_field} is required: name the {spec.parent.kind.name} of the "
                f"{spec.kind.name}s",
            )
        self._records.require(spec.parent.kind, caller.owner, parent_id, spec.parent.cls)
        return parent_id

    def _show(self, spec: PlainRecord, record: Any) -> Any:
        return record if spec.show is None else spec.show(record)

    # -- RPCs --------------------------------------------------------------------------------------

    def _post(self, spec: PlainRecord, rpc: str) -> Route:
        method = _V2.methods_by_name[rpc]
        given_field = _records_field(method.input_type, spec.cls).name
        answer = _answer(method, spec.cls)

        def handler(caller: Caller, request: Any) -> Message:
            parent = self._parent_of(spec, caller, request)
            given = [_copy(r) for r in getattr(request, given_field)]
            if not given:
                raise ApiFailure(
                    spec.invalid_request, f"no {spec.kind.name} given: list them in `{given_field}`"
                )
            for record in given:
                for name in spec.computed:
                    record.ClearField(name)
                if spec.generate_id and not record.id:
                    record.id = new_id()
                check_id(spec.kind, record.id)

            def prepare(record: Any) -> None:
                if spec.parent is not None:
                    link = getattr(record, spec.parent.link)
                    if link.id and link.id != parent:
                        raise ApiFailure(
                            spec.kind.invalid,
                            f"{spec.kind.name} {record.id!r}: {spec.parent.link}.id {link.id!r} differs "
                            f"from {spec.parent.request_field} {parent!r}: leave it empty or make them equal",
                        )
                    link.id = parent
                    if "user_id" in link.DESCRIPTOR.fields_by_name:
                        link.user_id = caller.user_id
                if spec.prepare is not None:
                    spec.prepare(caller, request, record)

            also = None
            if spec.also is not None:
                hook = spec.also

                def also(conn: sqlite3.Connection, record: Any) -> None:
                    hook(conn, caller, record)

            created = self._records.create(
                spec.kind, caller.owner, given, parent=parent, prepare=prepare, also=also
            )
            return answer([self._show(spec, r) for r in created])

        return Route(spec.scope, handler)

    def _get(self, spec: PlainRecord, rpc: str) -> Route:
        answer = _answer(_V2.methods_by_name[rpc], spec.cls)

        def handler(caller: Caller, request: Any) -> Message:
            parent = self._parent_of(spec, caller, request)
            record = self._records.require(
                spec.kind, caller.owner, getattr(request, spec.id_field), spec.cls, parent
            )
            return answer(self._show(spec, record))

        return Route(spec.scope, handler)

    def _list(self, spec: PlainRecord, rpc: str) -> Route:
        answer = _answer(_V2.methods_by_name[rpc], spec.cls)

        def handler(caller: Caller, request: Any) -> Message:
            parent = self._parent_of(spec, caller, request)
            page = request_page(request)
            if spec.keep is None:
                found = self._records.listing(spec.kind, caller.owner, spec.cls, page, parent=parent)
            else:  # filters in Python over the (small) set of records, then the page
                every = self._records.listing(
                    spec.kind, caller.owner, spec.cls, request_page_all(), parent=parent
                )
                kept = [r for r in every if spec.keep(request, r)]
                found = kept[page.offset : page.offset + page.per_page]
            return answer([self._show(spec, r) for r in found])

        return Route(spec.scope, handler)

    def _delete(self, spec: PlainRecord, rpc: str) -> Route:
        method = _V2.methods_by_name[rpc]
        fields = method.input_type.fields_by_name
        many = "ids" in fields and is_repeated(fields["ids"])

        def handler(caller: Caller, request: Any) -> Message:
            parent = self._parent_of(spec, caller, request)
            if many:
                ids = list(dict.fromkeys(request.ids))
            else:
                one = getattr(request, spec.id_field)
                ids = [one] if one else []
            if not ids:
                raise ApiFailure(
                    spec.invalid_request, f"no {spec.kind.name} ids given: name the ones to delete"
                )
            owner = caller.owner
            absent = [i for i in ids if i not in self._records.existing_ids(spec.kind, owner, ids, parent)]
            if absent:
                raise missing(spec.kind, absent, self._records.where(owner, parent, spec.kind.parent_name))
            if spec.before_delete is not None:
                spec.before_delete(caller, ids, parent)
            self._records.delete(spec.kind, owner, ids, parent)
            if spec.after_delete is not None:
                with self._records.store.transaction() as conn:
                    spec.after_delete(conn, caller, ids, parent)
            return status_pb2.BaseResponse()

        return Route(spec.scope, handler)

    def _patch(self, spec: PlainRecord, rpc: str) -> Route:
        items = _records_field(_V2.methods_by_name[rpc].input_type, spec.cls).name
        finish = None
        if spec.patch_finish is not None:
            hook = spec.patch_finish

            def finish(conn: sqlite3.Connection, owner: Owner, before: Any, after: Any) -> None:
                hook(before, after)

        patchable = Patchable(
            spec.kind,
            items,
            spec.invalid_request,
            actions=spec.patch_actions,
            fixed=spec.computed | spec.fixed,
            finish=finish,
            show=None if spec.show is None else (lambda owner, record: self._show(spec, record)),
        )
        return patch_route(self._records, rpc, patchable, spec.scope)

    def routes(self, specs: Sequence[PlainRecord]) -> dict[str, Route]:
        """The Route of every RPC of `specs` that our protos declare (Patch of child records is not
        generic: `patching` acts on top-level records)."""
        declared = _V2.methods_by_name
        routes: dict[str, Route] = {}
        for spec in specs:
            makers: dict[str, Callable[[PlainRecord, str], Route]] = {
                f"Post{spec.plural}": self._post,
                f"Get{spec.singular}": self._get,
                f"List{spec.plural}": self._list,
                f"Delete{spec.plural}": self._delete,
                f"Delete{spec.singular}": self._delete,
            }
            if spec.parent is None:
                makers[f"Patch{spec.plural}"] = self._patch
            for rpc, make in makers.items():
                if rpc in declared:
                    routes[rpc] = make(spec, rpc)
        return routes


def request_page_all() -> Page:
    """Every record, for listings filtered in Python."""
    return Page(1, 2**31)


# -- compute orchestration ---------------------------------------------------------------------------


class ComputeRecords:
    """The compute-orchestration resources: their checks and the specs of their RPCs."""

    def __init__(self, records: Records) -> None:
        self._records = records

    def specs(self) -> list[PlainRecord]:
        clusters = PlainRecord(
            COMPUTE_CLUSTER,
            resources_pb2.ComputeCluster,
            "ComputeClusters",
            "ComputeCluster",
            Scope.PAT_USER,
            S.COMPUTE_CLUSTER_INVALID_REQUEST,
            # `key` is a credential, never kept; where a cluster runs cannot change.
            computed=frozenset({"key"}),
            fixed=frozenset({"cloud_provider", "region"}),
            prepare=self._check_cluster,
            before_delete=self._clusters_unused,
            after_delete=self._drop_nodepools,
        )
        nodepools = PlainRecord(
            NODEPOOL,
            resources_pb2.Nodepool,
            "Nodepools",
            "Nodepool",
            Scope.PAT_USER,
            S.NODEPOOL_INVALID_REQUEST,
            parent=Parent(
                "compute_cluster_id", COMPUTE_CLUSTER, resources_pb2.ComputeCluster, "compute_cluster"
            ),
            computed=frozenset({"status", "status_description", "node_count"}),
            prepare=self._check_nodepool,
            before_delete=self._nodepools_unused,
        )
        deployments = PlainRecord(
            DEPLOYMENT,
            resources_pb2.Deployment,
            "Deployments",
            "Deployment",
            Scope.PAT_USER,
            S.DEPLOYMENT_INVALID_REQUEST,
            # `worker` is observed state: Patch sets `desired_worker` (see _worker_follows_desired).
            fixed=frozenset({"worker"}),
            patch_actions=(OVERWRITE,),
            prepare=self._check_deployment,
            keep=_deployment_matches,
            patch_finish=_worker_follows_desired,
        )
        return [clusters, nodepools, deployments]

    @staticmethod
    def _check_cluster(caller: Caller, request: Any, cluster: resources_pb2.ComputeCluster) -> None:
        for name, value in (("cloud_provider.id", cluster.cloud_provider.id), ("region", cluster.region)):
            if not value:
                raise ApiFailure(
                    S.COMPUTE_CLUSTER_INVALID_ARGUMENT,
                    f"compute cluster {cluster.id!r}: {name} is required (e.g. 'aws', 'us-east-1')",
                )

    @staticmethod
    def _check_nodepool(caller: Caller, request: Any, nodepool: resources_pb2.Nodepool) -> None:
        if not nodepool.instance_types or not all(t.id for t in nodepool.instance_types):
            raise ApiFailure(
                S.NODEPOOL_INVALID_ARGUMENT,
                f"nodepool {nodepool.id!r}: name at least one instance type (instance_types[].id)",
            )
        if nodepool.max_instances < nodepool.min_instances:
            raise ApiFailure(
                S.NODEPOOL_INVALID_ARGUMENT,
                f"nodepool {nodepool.id!r}: max_instances ({nodepool.max_instances}) is below "
                f"min_instances ({nodepool.min_instances})",
            )
        nodepool.status = resources_pb2.Nodepool.NODEPOOL_STATUS_READY

    def _check_deployment(self, caller: Caller, request: Any, deployment: resources_pb2.Deployment) -> None:
        owner = caller.owner
        places = _nodepools_of(deployment)
        if not places:
            raise ApiFailure(
                S.DEPLOYMENT_INVALID_ARGUMENT,
                f"deployment {deployment.id!r}: name at least one nodepool (nodepools[].id and "
                "nodepools[].compute_cluster.id)",
            )
        for cluster_id, nodepool_id in places:
            if not cluster_id or not nodepool_id:
                raise ApiFailure(
                    S.DEPLOYMENT_INVALID_ARGUMENT,
                    f"deployment {deployment.id!r}: every nodepool needs its id and compute_cluster.id",
                )
            self._records.require(COMPUTE_CLUSTER, owner, cluster_id, resources_pb2.ComputeCluster)
            self._records.require(NODEPOOL, owner, nodepool_id, resources_pb2.Nodepool, cluster_id)
        if not deployment.HasField("desired_worker"):
            # The published SDK sends `worker`: on Post it is what the deployment should run.
            deployment.desired_worker.CopyFrom(deployment.worker)
        if deployment.desired_worker.WhichOneof("worker") is None:
            raise ApiFailure(
                S.DEPLOYMENT_INVALID_ARGUMENT,
                f"deployment {deployment.id!r}: set worker.model or worker.workflow (what it runs)",
            )
        self._check_worker(caller, deployment.desired_worker)
        deployment.worker.CopyFrom(deployment.desired_worker)
        if not deployment.user_id:
            deployment.user_id = caller.user_id

    def _check_worker(self, caller: Caller, worker: resources_pb2.Worker) -> None:
        which = worker.WhichOneof("worker")
        if which == "model":
            model = worker.model
            owner = Owner(model.user_id or caller.user_id, model.app_id)
            if not model.id or not model.app_id:
                raise ApiFailure(
                    S.DEPLOYMENT_INVALID_ARGUMENT, "worker.model needs its id and app_id (and user_id)"
                )
            self._records.require(MODEL, owner, model.id, resources_pb2.Model)
        elif which == "workflow":
            workflow = worker.workflow
            owner = Owner(workflow.user_id or caller.user_id, workflow.app_id)
            if not workflow.id or not workflow.app_id:
                raise ApiFailure(
                    S.DEPLOYMENT_INVALID_ARGUMENT, "worker.workflow needs its id and app_id (and user_id)"
                )
            self._records.require(WORKFLOW, owner, workflow.id, resources_pb2.Workflow)
        else:
            raise ApiFailure(
                S.DEPLOYMENT_INVALID_ARGUMENT, "a deployment's worker is a model or a workflow, not a user"
            )

    def _deployments(self, owner: Owner) -> list[resources_pb2.Deployment]:
        return self._records.listing(DEPLOYMENT, owner, resources_pb2.Deployment, request_page_all())

    def _nodepools_unused(self, caller: Caller, ids: Sequence[str], cluster_id: str) -> None:
        doomed = {(cluster_id, i) for i in ids}
        for deployment in self._deployments(caller.owner):
            used = doomed & set(_nodepools_of(deployment))
            if used:
                raise ApiFailure(
                    S.NODEPOOL_INVALID_REQUEST,
                    f"nodepool {sorted(used)[0][1]!r} is used by deployment {deployment.id!r}: "
                    "delete the deployment first",
                )

    def _clusters_unused(self, caller: Caller, ids: Sequence[str], parent: str) -> None:
        doomed = set(ids)
        for deployment in self._deployments(caller.owner):
            used = sorted(c for c, _ in _nodepools_of(deployment) if c in doomed)
            if used:
                raise ApiFailure(
                    S.COMPUTE_CLUSTER_INVALID_REQUEST,
                    f"compute cluster {used[0]!r} has nodepools used by deployment {deployment.id!r}: "
                    "delete the deployment first",
                )

    def _drop_nodepools(
        self, conn: sqlite3.Connection, caller: Caller, ids: Sequence[str], parent: str
    ) -> None:
        self._records.delete_under(conn, NODEPOOL, caller.owner, ids)


def _nodepools_of(deployment: resources_pb2.Deployment) -> list[tuple[str, str]]:
    """(compute cluster id, nodepool id) of every nodepool a deployment names."""
    places = [(n.compute_cluster.id, n.id) for n in deployment.nodepools]
    places += [
        (d.nodepool.compute_cluster.id or d.compute_cluster.id, d.nodepool.id or d.id)
        for d in deployment.deployment_nodepools
    ]
    return list(dict.fromkeys(places))


def _deployment_matches(
    request: service_pb2.ListDeploymentsRequest, deployment: resources_pb2.Deployment
) -> bool:
    places = _nodepools_of(deployment)
    if request.nodepool_id and not any(n == request.nodepool_id for _, n in places):
        return False
    if request.compute_cluster_id and not any(c == request.compute_cluster_id for c, _ in places):
        return False
    worker = deployment.worker
    if request.model_version_ids and worker.model.model_version.id not in request.model_version_ids:
        return False
    return not (
        request.workflow_version_ids and worker.workflow.version.id not in request.workflow_version_ids
    )


def _worker_follows_desired(before: resources_pb2.Deployment, after: resources_pb2.Deployment) -> None:
    # `worker` is observed state: here the deployment runs what it should at once.
    after.worker.CopyFrom(after.desired_worker)
