"""Every Clavata RPC the SDK calls, declared once (path, types, idempotency)."""

from modelwire._core.transport import Op
from modelwire._gen.clavata.gateway.v1 import gateway_pb2, labels_pb2

_GATEWAY = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"]
_LABELS = labels_pb2.DESCRIPTOR.services_by_name["LabelsService"]

# Evaluation has no effect a repeat could double (results are per call), so it may be retried
# before its first response; CreateJob makes a job (and fires a webhook), so it is not.
EVALUATE = Op.of(
    _GATEWAY, "Evaluate", gateway_pb2.EvaluateRequest, gateway_pb2.EvaluateResponse, idempotent=True
)
CREATE_JOB = Op.of(
    _GATEWAY, "CreateJob", gateway_pb2.CreateJobRequest, gateway_pb2.CreateJobResponse, idempotent=False
)
GET_JOB = Op.of(_GATEWAY, "GetJob", gateway_pb2.GetJobRequest, gateway_pb2.GetJobResponse, idempotent=True)
LIST_JOBS = Op.of(
    _GATEWAY, "ListJobs", gateway_pb2.ListJobsRequest, gateway_pb2.ListJobsResponse, idempotent=True
)
EVALUATE_LABELS = Op.of(
    _LABELS,
    "EvaluateLabels",
    labels_pb2.EvaluateLabelsRequest,
    labels_pb2.EvaluateLabelsResponse,
    idempotent=True,
)
