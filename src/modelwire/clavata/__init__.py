"""Clavata: content-safety evaluation of text and images against policies.

from modelwire.clavata import ClavataClient, EvaluateRequest, ContentData

client = ClavataClient.create()          # key from CLAVATA_API_KEY
for response in client.evaluate(EvaluateRequest(content="The quick brown fox", policy_id="...")):
    print(response)
"""

from modelwire._core.errors import (
    ApiError,
    DeadlineExceededError,
    InvalidArgumentError,
    MessageTimeoutError,
    NotFoundError,
    UnauthenticatedError,
    UnavailableError,
    UsageError,
)
from modelwire._core.retry import NO_RETRY, RetryPolicy
from modelwire.clavata.client import AsyncClavataClient, ClavataClient, JobTimeoutError
from modelwire.clavata.errors import ClavataError, EvaluationRefusedError, RefusalReason, RefusedContent
from modelwire.clavata.requests import (
    ContentData,
    CreateJobRequest,
    EvaluateLabelsRequest,
    EvaluateOneRequest,
    EvaluateRequest,
    GetJobRequest,
    ListJobsQuery,
    ListJobsQueryBuilder,
    TimeRange,
    VideoContent,
    Webhook,
)
from modelwire.clavata.types import (
    CreateJobResponse,
    EvaluateLabelsResponse,
    EvaluateOneResponse,
    EvaluateResponse,
    GetJobResponse,
    Job,
    JobResult,
    JobStatus,
    JobStatusName,
    LabelEvaluation,
    LabelEvaluationError,
    LabelEvaluationResult,
    LabelReport,
    ListJobsResponse,
    Outcome,
    OutcomeName,
    Report,
    ReviewResult,
)
from modelwire.clavata.webhooks import SeenDeliveries, WebhookVerificationError, sign_webhook, verify_webhook

__all__ = [
    "NO_RETRY",
    "ApiError",
    "AsyncClavataClient",
    "ClavataClient",
    "ClavataError",
    "ContentData",
    "CreateJobRequest",
    "CreateJobResponse",
    "DeadlineExceededError",
    "EvaluateLabelsRequest",
    "EvaluateLabelsResponse",
    "EvaluateOneRequest",
    "EvaluateOneResponse",
    "EvaluateRequest",
    "EvaluateResponse",
    "EvaluationRefusedError",
    "GetJobRequest",
    "GetJobResponse",
    "InvalidArgumentError",
    "Job",
    "JobResult",
    "JobStatus",
    "JobStatusName",
    "JobTimeoutError",
    "LabelEvaluation",
    "LabelEvaluationError",
    "LabelEvaluationResult",
    "LabelReport",
    "ListJobsQuery",
    "ListJobsQueryBuilder",
    "ListJobsResponse",
    "MessageTimeoutError",
    "NotFoundError",
    "Outcome",
    "OutcomeName",
    "RefusalReason",
    "RefusedContent",
    "Report",
    "RetryPolicy",
    "ReviewResult",
    "SeenDeliveries",
    "TimeRange",
    "UnauthenticatedError",
    "UnavailableError",
    "UsageError",
    "VideoContent",
    "Webhook",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
]
