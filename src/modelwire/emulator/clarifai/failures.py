"""Clarifai statuses: every response carries `status` (field 1) and failures travel there, with
gRPC OK, as the real API does.

`description` is the code's standard text (the one Clarifai documents for it; clients match on
some, e.g. "Model does not exist"); `details` says what exactly went wrong and what to change.
"""

from __future__ import annotations

from typing import TypeAlias

from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2

Code: TypeAlias = status_code_pb2.StatusCode.ValueType
S = status_code_pb2.StatusCode

# The standard descriptions of the codes this emulator returns (others fall back to the code name).
_DESCRIPTIONS: dict[int, str] = {
    S.SUCCESS: "Ok",
    S.MIXED_STATUS: "Mixed Success",
    S.FAILURE: "Failure",
    S.NOT_IMPLEMENTED: "Not implemented",
    S.CONN_CREDENTIALS_INVALID: "Invalid authentication credentials",
    S.CONN_INSUFFICIENT_SCOPES: "API key has insufficient scopes",
    S.CONN_KEY_INVALID: "Invalid API key or Invalid API key/application pair",
    S.CONN_KEY_NOT_FOUND: "API key not found",
    S.CONN_BAD_REQUEST_FORMAT: "Bad request format",
    S.CONN_DOES_NOT_EXIST: "Resource does not exist",
    S.CONN_INVALID_REQUEST: "Invalid request",
    S.MODEL_DOES_NOT_EXIST: "Model does not exist",
    S.MODEL_INVALID_ARGUMENT: "Invalid model argument",
    S.MODEL_INVALID_REQUEST: "Invalid model request",
    S.WORKFLOW_DUPLICATE: "Workflow with this ID already exists",
    S.WORKFLOW_DOES_NOT_EXIST: "Workflow does not exist",
    S.WORKFLOW_INVALID_ARGUMENT: "Invalid workflow argument",
    S.WORKFLOW_INVALID_GRAPH: "Invalid workflow graph",
    S.WORKFLOW_INVALID_REQUEST: "Invalid workflow request",
    S.ANNOTATION_SUCCESS: "Annotation success",
    S.ANNOTATION_INVALID_ARGUMENT: "Invalid annotation argument",
    S.MODULE_DOES_NOT_EXIST: "Module does not exist",
    S.MODULE_INVALID_ARGUMENT: "Invalid module argument",
    S.MODULE_INVALID_REQUEST: "Invalid module request",
    S.RUNNER_DOES_NOT_EXIST: "Runner does not exist",
    S.RUNNER_INVALID_ARGUMENT: "Invalid runner argument",
    S.RUNNER_INVALID_REQUEST: "Invalid runner request",
    S.INPUT_DOWNLOAD_SUCCESS: "Download complete",
    S.INPUT_DOWNLOAD_PENDING: "Download pending",
    S.INPUT_DOWNLOAD_FAILED: "Download failed",
    S.INPUT_DOWNLOAD_IN_PROGRESS: "Download in progress",
    S.INPUT_DUPLICATE: "Input has a duplicate ID.",
    S.INPUT_DOES_NOT_EXIST: "Input does not exist",
    S.INPUT_INVALID_ARGUMENT: "Invalid input argument",
    S.INPUT_INVALID_URL: "Invalid input URL",
    S.INPUT_INVALID_REQUEST: "Invalid input request",
    S.SEARCH_INVALID_REQUEST: "Invalid search request",
    S.SEARCH_BY_NOT_FULLY_INDEXED_INPUT: "Input is not fully indexed yet",
    S.CONCEPTS_INVALID_REQUEST: "Invalid concepts request",
    S.JOB_QUEUED: "Job is queued",
    S.JOB_RUNNING: "Job is running",
    S.JOB_COMPLETED: "Job is completed",
    S.JOB_CANCELLED: "Job was cancelled",
    S.DATASET_VERSION_READY: "Dataset version is ready",
    S.DATASET_VERSION_CONFLICT: "Dataset version conflict",
    S.DATASET_VERSION_EXPORT_SUCCESS: "Dataset version export succeeded",
    S.DATASET_VERSION_EXPORT_PENDING: "Dataset version export pending",
    S.DATASET_VERSION_EXPORT_FAILED: "Dataset version export failed",
    S.DATASET_VERSION_EXPORT_IN_PROGRESS: "Dataset version export in progress",
    S.INTERNAL_UNCATEGORIZED: "Internal error",
}


def describe(code: Code) -> str:
    known = _DESCRIPTIONS.get(code)
    if known is not None:
        return known
    return S.Name(code).replace("_", " ").capitalize()


def status(code: Code, details: str = "", description: str | None = None) -> status_pb2.Status:
    return status_pb2.Status(
        code=code, description=describe(code) if description is None else description, details=details
    )


class ApiFailure(Exception):
    """Raised while handling a request; becomes the response's status (with gRPC OK)."""

    def __init__(self, code: Code, details: str, description: str | None = None) -> None:
        super().__init__(f"{S.Name(code)}: {details}")
        self.code = code
        self.details = details
        self.description = description

    def status(self) -> status_pb2.Status:
        return status(self.code, self.details, self.description)
