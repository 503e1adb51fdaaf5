"""`Workflow`: predictions through a graph of models, versions, and YAML export that round-trips."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from modelwire._core.batching import chunked
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire.clarifai._content import input_from_bytes, input_from_file, input_from_url
from modelwire.clarifai._proto import to_message, to_messages
from modelwire.clarifai._resources import _Resource
from modelwire.clarifai.errors import UserError, reject_not_offered
from modelwire.clarifai.model import check_all_failed, merge_chunks

MAX_WORKFLOW_PREDICT_INPUTS = 32


class Workflow(_Resource):
    """A workflow: `Workflow(url=".../workflows/{id}")` or by ids; `output_config` applies to predictions."""

    _kind = "workflows"
    _info_type = resources_pb2.Workflow

    def __init__(
        self,
        url: str = "",
        workflow_id: str = "",
        workflow_version: dict[str, str] | None = None,
        output_config: Mapping[str, Any] | Message | None = None,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        reject_not_offered(kwargs, "Workflow")
        version = (workflow_version or {}).get("id", "")
        info = kwargs.pop("workflow_info", None)
        super().__init__(url, workflow_id, version, base_url, pat, token, info, **kwargs)
        # A dict (as published; select_concepts may hold Concept messages) or an OutputConfig.
        chosen = output_config if output_config is not None else {"min_value": 0}
        self.output_config = dict(chosen) if isinstance(chosen, Mapping) else chosen
        self._output_config = to_message(chosen, resources_pb2.OutputConfig, what="output_config")

    @property
    def workflow_info(self) -> resources_pb2.Workflow:
        """The `Workflow` message as last fetched or built."""
        return self._info  # type: ignore[no-any-return]

    def predict(
        self, inputs: Sequence[resources_pb2.Input], workflow_state_id: str | None = None
    ) -> service_pb2.PostWorkflowResultsResponse:
        """Run the workflow on inputs (chunked by 32); one result per input, in input order.

        An input that failed gives MIXED_STATUS with its result's status set; when every input
        failed, ApiError is raised (as published)."""
        items = to_messages(inputs, resources_pb2.Input, what="inputs")  # clarifai-grpc's too
        if not items:
            raise UserError("predict needs at least one input")
        fields: dict[str, Any] = {
            "workflow_id": self.id,
            "version_id": self.version_id,
            "output_config": self._output_config,
        }
        if workflow_state_id:
            fields["workflow_state"] = resources_pb2.WorkflowState(id=workflow_state_id)
        responses = [
            self._request("PostWorkflowResults", inputs=batch, **fields)
            for batch in chunked(items, MAX_WORKFLOW_PREDICT_INPUTS)
        ]
        return check_all_failed(merge_chunks(responses), "PostWorkflowResults")  # type: ignore[no-any-return]

    def predict_by_bytes(
        self, input_bytes: bytes, input_type: str | None = None
    ) -> service_pb2.PostWorkflowResultsResponse:
        """Run the workflow on raw bytes; `input_type` (image, text, video, audio) is sniffed when omitted.

        Returns:
            The `PostWorkflowResultsResponse`, one result.

        Raises:
            UserError: The input type cannot be told.
            ApiError: The prediction failed.
        """
        return self.predict([input_from_bytes(input_bytes, input_type)])

    def predict_by_filepath(
        self, filepath: str, input_type: str | None = None
    ) -> service_pb2.PostWorkflowResultsResponse:
        """Run the workflow on a local file; `input_type` is sniffed when omitted.

        Returns:
            The `PostWorkflowResultsResponse`, one result.

        Raises:
            UserError: The file cannot be read, or its type cannot be told.
            ApiError: The prediction failed.
        """
        return self.predict([input_from_file(filepath, input_type)])

    def predict_by_url(
        self, url: str, input_type: str | None = None
    ) -> service_pb2.PostWorkflowResultsResponse:
        """Run the workflow on content the API fetches from `url`; `input_type` is guessed when omitted.

        Returns:
            The `PostWorkflowResultsResponse`, one result.

        Raises:
            UserError: The input type cannot be told from the URL.
            ApiError: The prediction failed.
        """
        return self.predict([input_from_url(url, input_type)])

    def list_versions(self, page_no: int | None = None, per_page: int | None = None) -> Iterator[Workflow]:
        """The workflow's versions, fetched lazily page by page.

        Args:
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Versions per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Workflow`, each pinned to one version.
        """

        def shape(version: resources_pb2.WorkflowVersion) -> Workflow:
            return self._derive(
                Workflow,
                workflow_id=self.id,
                workflow_info=self.workflow_info,
                workflow_version={"id": version.id},
                app_id=self.app_id,
                output_config=self.output_config,
            )

        return self._list(
            "ListWorkflowVersions",
            shape,
            page_no=page_no,
            per_page=per_page,
            items_field="workflow_versions",
            workflow_id=self.id,
        )

    def export(self, out_path: str) -> Path:
        """Write the workflow as YAML that `App.create_workflow` reads back."""
        import yaml  # lazy: PyYAML is only needed to write a workflow config

        workflow = self._request("GetWorkflow", workflow_id=self.id).workflow
        path = Path(out_path)
        path.write_text(yaml.safe_dump(workflow_to_config(workflow), sort_keys=False))
        return path


def workflow_to_config(workflow: resources_pb2.Workflow) -> dict[str, Any]:
    """The YAML structure `App.create_workflow` reads (`workflow_from_yaml` is its inverse)."""
    nodes = []
    for node in workflow.nodes:
        model: dict[str, Any] = {"model_id": node.model.id}
        for key, value in (
            ("model_version_id", node.model.model_version.id),
            ("user_id", node.model.user_id),
            ("app_id", node.model.app_id),
            ("model_type_id", node.model.model_type_id),
        ):
            if value:
                model[key] = value
        entry: dict[str, Any] = {"id": node.id, "model": model}
        if node.node_inputs:
            entry["node_inputs"] = [{"node_id": i.node_id} for i in node.node_inputs]
        nodes.append(entry)
    return {"workflow": {"id": workflow.id, "nodes": nodes}}
