"""Workflow predictions (PostWorkflowResults) and the workflow graph.

PostWorkflowResults runs 1 to 32 inputs (else WORKFLOW_INVALID_REQUEST) through the nodes of the
workflow (or of its version `version_id`) in topological order (ties in node order). Each node's
model is one of the app's own models or a Clarifai public model (node `model.user_id`/`app_id` =
clarifai/main), with the node's `model_version.id` or its newest trained version
(WORKFLOW_REQUIRE_TRAINED_MODEL when there is none); runner-backed models are answered by their
runner with the workflow's inputs.

A node reads the workflow input, except when its first `node_inputs` entry is an embedder node
and the node's model is a classifier over embeddings of that size (embedding-classifier, or any
trained classifier): then it classifies that node's embedding of the input (embed -> classify
chaining), and fails for an input whose embedding failed.

PostWorkflows and PatchWorkflows (served by `catalog`) first check the nodes' models here
(`WorkflowsArea.checking_nodes`): each must exist, in the app or among Clarifai's public models,
with the version the node names (MODEL_DOES_NOT_EXIST naming the node), and a node needs a model id
(WORKFLOW_INVALID_ARGUMENT); the graph (unique node ids, known inputs, no cycle) is checked by
`topological_order` (WORKFLOW_INVALID_GRAPH).

Output settings: the version's defaults, then the node's `output_info_override`, then the
request's `output_config` (e.g. `min_value`). Each result has one output per node (nodes with
`suppress_output` are left out), its status SUCCESS, MIXED_STATUS or FAILURE over them; the
response status is MIXED_STATUS/FAILURE when some/all results did not fully succeed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.google.protobuf import timestamp_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.builtin_models import BUILTIN_OWNER
from modelwire.emulator.clarifai.context import Handler, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.labels import REMOVE, batch_status, new_id
from modelwire.emulator.clarifai.predicting import (
    EMBEDDING,
    OutputSettings,
    PredictionError,
    Sample,
    finish,
    model_ref,
    request_inputs,
    try_sample,
)
from modelwire.emulator.clarifai.records import WORKFLOW, WORKFLOW_VERSION, Owner, Records, timestamp
from modelwire.emulator.clarifai.registry import Deployed, Registry, runner_of, runner_request
from modelwire.emulator.clarifai.runners import RunnerHub

MAX_WORKFLOW_INPUTS = 32
Outputs = list[resources_pb2.Output]


def topological_order(
    workflow_id: str, nodes: Sequence[resources_pb2.WorkflowNode]
) -> list[resources_pb2.WorkflowNode]:
    """The nodes, each after the nodes it takes input from (ApiFailure for a bad graph)."""
    by_id = {node.id: node for node in nodes}
    if "" in by_id or len(by_id) != len(nodes):
        raise ApiFailure(S.WORKFLOW_INVALID_GRAPH, f"workflow {workflow_id!r}: every node needs a unique id")
    for node in nodes:
        for source in node.node_inputs:
            if source.node_id not in by_id:
                raise ApiFailure(
                    S.WORKFLOW_INVALID_GRAPH,
                    f"workflow {workflow_id!r}: node {node.id!r} takes input from unknown node "
                    f"{source.node_id!r}",
                )
    ordered: list[resources_pb2.WorkflowNode] = []
    placed: set[str] = set()
    while len(ordered) < len(nodes):
        ready = [n for n in nodes if n.id not in placed and all(s.node_id in placed for s in n.node_inputs)]
        if not ready:
            raise ApiFailure(S.WORKFLOW_INVALID_GRAPH, f"workflow {workflow_id!r}: its nodes form a cycle")
        ordered.append(ready[0])
        placed.add(ready[0].id)
    return ordered


@dataclass(frozen=True)
class Step:
    """One node, ready to run: locally (`deployed`, with its output `settings`) or by a runner."""

    node: resources_pb2.WorkflowNode
    owner: Owner
    model: resources_pb2.Model  # with its version, if it has one
    deployed: Deployed | None = None
    settings: OutputSettings = field(default_factory=OutputSettings)
    source: str = ""  # the node whose embedding it classifies ("": it reads the input)
    runner_id: str = ""
    override: resources_pb2.OutputInfo = field(default_factory=resources_pb2.OutputInfo)  # for the runner

    @property
    def embedding_dim(self) -> int | None:
        return None if self.deployed is None else self.deployed.predictor.embedding_dim()


class WorkflowsArea:
    def __init__(self, records: Records, registry: Registry, runners: RunnerHub) -> None:
        self._records = records
        self._registry = registry
        self._runners = runners

    def routes(self) -> dict[str, Route]:
        return {"PostWorkflowResults": Route(Scope.APP, self.post_workflow_results)}

    # -- checking nodes ---------------------------------------------------------------------------------

    def checking_nodes(self, routes: Mapping[str, Route]) -> dict[str, Route]:
        """The PostWorkflows and PatchWorkflows routes of `routes` (catalog's), made to check the
        models of the nodes they are given first (`check_nodes`); the graph itself (node ids,
        inputs, cycles) is checked by `topological_order` when the workflow is stored."""
        return {
            name: replace(routes[name], handler=self._checked(routes[name].handler))
            for name in ("PostWorkflows", "PatchWorkflows")
            if name in routes
        }

    def _checked(self, handler: Handler) -> Handler:
        def serve(caller: Caller, request: Any) -> Any:
            patch = hasattr(request, "action")
            if not patch or request.action != REMOVE:  # removed nodes need no model
                for workflow in request.workflows:
                    if not patch:  # the graph first (a patch's is checked once merged)
                        topological_order(workflow.id, workflow.nodes)
                    self.check_nodes(caller.owner, workflow)
            return handler(caller, request)

        return serve

    def check_nodes(self, owner: Owner, workflow: resources_pb2.Workflow) -> None:
        """Every node runs a model that exists (with its version, when it names one), as the real
        API checks: MODEL_DOES_NOT_EXIST naming the node otherwise, WORKFLOW_INVALID_ARGUMENT for
        a node without a model id."""
        for node in workflow.nodes:
            where = f"workflow {workflow.id!r} node {node.id!r}"
            if not node.model.id:
                raise ApiFailure(
                    S.WORKFLOW_INVALID_ARGUMENT, f"{where}: set model.id, the model the node runs"
                )
            model_owner = self._model_owner(owner, node.model, where)
            try:
                self._registry.model(model_owner, node.model.id)
                if node.model.model_version.id:
                    self._registry.version(model_owner, node.model.id, node.model.model_version.id)
            except ApiFailure as failure:
                raise ApiFailure(failure.code, f"{where}: {failure.details}") from None

    def post_workflow_results(
        self, caller: Caller, request: service_pb2.PostWorkflowResultsRequest
    ) -> service_pb2.PostWorkflowResultsResponse:
        owner = caller.owner
        inputs = request_inputs(request.inputs, MAX_WORKFLOW_INPUTS, S.WORKFLOW_INVALID_REQUEST)
        workflow = self._records.require(WORKFLOW, owner, request.workflow_id, resources_pb2.Workflow)
        nodes = self._nodes(owner, workflow, request.version_id)
        request_override = resources_pb2.OutputInfo(output_config=request.output_config)
        steps: list[Step] = []
        for node in topological_order(workflow.id, nodes):
            steps.append(self._step(owner, workflow.id, node, request_override, steps))
        samples = [try_sample(item) for item in inputs]
        outputs: dict[str, Outputs] = {}
        for step in steps:
            outputs[step.node.id] = self._run(step, inputs, samples, outputs)
        shown = [s for s in steps if not s.node.suppress_output]
        created = timestamp(time.time_ns())
        results = [
            self._result(item, [outputs[s.node.id][i] for s in shown], created)
            for i, item in enumerate(inputs)
        ]
        failed = sum(r.status.code != S.SUCCESS for r in results)
        return service_pb2.PostWorkflowResultsResponse(
            status=batch_status(failed, len(results), "inputs"), workflow=workflow, results=results
        )

    @staticmethod
    def _result(
        item: resources_pb2.Input, outputs: Outputs, created: timestamp_pb2.Timestamp
    ) -> resources_pb2.WorkflowResult:
        failed = sum(o.status.code != S.SUCCESS for o in outputs)
        return resources_pb2.WorkflowResult(
            id=new_id(),
            status=batch_status(failed, len(outputs), "nodes") if outputs else status(S.SUCCESS),
            created_at=created,
            input=item,
            outputs=outputs,
        )

    def _nodes(
        self, owner: Owner, workflow: resources_pb2.Workflow, version_id: str
    ) -> Sequence[resources_pb2.WorkflowNode]:
        if not version_id:
            return workflow.nodes
        version = self._records.require(
            WORKFLOW_VERSION, owner, version_id, resources_pb2.WorkflowVersion, workflow.id
        )
        return version.nodes

    # -- preparing a node -----------------------------------------------------------------------------

    def _step(
        self,
        owner: Owner,
        workflow_id: str,
        node: resources_pb2.WorkflowNode,
        request_override: resources_pb2.OutputInfo,
        earlier: Sequence[Step],
    ) -> Step:
        where = f"workflow {workflow_id!r} node {node.id!r}"
        model_owner = self._model_owner(owner, node.model, where)
        version_id = node.model.model_version.id
        try:
            model = self._registry.model(model_owner, node.model.id)
            runner_id = runner_of(model, resources_pb2.RunnerSelector())
            if runner_id:
                override = resources_pb2.OutputInfo()
                override.MergeFrom(node.output_info_override)
                override.MergeFrom(request_override)
                with_version = self._registry.with_version(model_owner, model, version_id)
                return Step(node, model_owner, with_version, runner_id=runner_id, override=override)
            deployed = self._registry.deployed(model_owner, model, version_id)
        except ApiFailure as failure:
            code = failure.code
            if code not in (S.MODEL_DOES_NOT_EXIST, S.MODEL_NOT_DEPLOYED):
                code = S.WORKFLOW_REQUIRE_TRAINED_MODEL  # the version's status says why
            raise ApiFailure(code, f"{where}: {failure.details}") from None
        return Step(
            node,
            model_owner,
            deployed.model,
            deployed,
            settings=deployed.settings(node.output_info_override, request_override),
            source=_source(node, deployed, earlier),
        )

    def _model_owner(self, owner: Owner, model: resources_pb2.Model, where: str) -> Owner:
        wanted = Owner(model.user_id or owner.user_id, model.app_id or owner.app_id)
        if wanted not in (owner, BUILTIN_OWNER):
            raise ApiFailure(
                S.MODEL_DOES_NOT_EXIST,
                f"{where}: use a model of this app or a Clarifai public model (user_id 'clarifai', "
                f"app_id 'main'), not one of app {wanted.app_id!r} of user {wanted.user_id!r}",
            )
        return wanted

    # -- running a node -------------------------------------------------------------------------------

    def _run(
        self,
        step: Step,
        inputs: Sequence[resources_pb2.Input],
        samples: Sequence[Sample | PredictionError],
        earlier: dict[str, Outputs],
    ) -> Outputs:
        if step.deployed is None:
            return self._run_remote(step, inputs)
        if step.source:
            samples = [_embedding_sample(output) for output in earlier[step.source]]
        return step.deployed.outputs(inputs, samples, step.settings)

    def _run_remote(self, step: Step, inputs: Sequence[resources_pb2.Input]) -> Outputs:
        request = runner_request(step.owner, step.model, inputs, step.override)
        response = self._runners.predict(step.owner.user_id, step.runner_id, request)
        created = timestamp(time.time_ns())
        ref = model_ref(step.model)
        outputs = []
        for i, item in enumerate(inputs):
            output = resources_pb2.Output()
            if i < len(response.outputs):
                output.CopyFrom(response.outputs[i])
            else:
                output.status.CopyFrom(response.status)
            outputs.append(finish(output, ref, item, created))
        return outputs


def _source(node: resources_pb2.WorkflowNode, deployed: Deployed, earlier: Sequence[Step]) -> str:
    """The node whose embedding this node classifies ("" when it reads the workflow input)."""
    if not node.node_inputs:
        return ""
    source = node.node_inputs[0].node_id
    dim = next((s.embedding_dim for s in earlier if s.node.id == source), None)
    return source if dim is not None and deployed.predictor.reads_embeddings(dim) else ""


def _embedding_sample(upstream: resources_pb2.Output) -> Sample | PredictionError:
    if upstream.status.code != S.SUCCESS or not upstream.data.embeddings:
        return PredictionError(
            S.MODEL_PREDICTION_FAILED,
            f"its input node failed for this input: {upstream.status.details or upstream.status.description}",
        )
    return Sample(EMBEDDING, vector=np.asarray(upstream.data.embeddings[0].vector, dtype=np.float32))
