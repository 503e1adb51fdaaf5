"""Typed Clavata responses, shaped from the wire messages (pure functions, no I/O).

Datetimes are timezone-aware UTC and None when unset; enum values the SDK does not know become
`UNRECOGNIZED_<n>` members instead of errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from modelwire._core.paging import Page
from modelwire._core.wire import OpenStrEnum, enum_names, from_timestamp, open_enum
from modelwire._gen.clavata.gateway.v1 import gateway_pb2, labels_pb2
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.clavata.requests import ContentData

OutcomeName = Literal["TRUE", "FALSE", "FAILED", "UNSPECIFIED"]
JobStatusName = Literal["UNSPECIFIED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELED"]


class Outcome(OpenStrEnum):
    """Pseudo-boolean result; compares equal to its name ("TRUE", "FALSE", ...)."""

    UNSPECIFIED = "UNSPECIFIED"
    FALSE = "FALSE"
    TRUE = "TRUE"
    FAILED = "FAILED"


class JobStatus(OpenStrEnum):
    """Job lifecycle; compares equal to its name ("PENDING", "COMPLETED", ...)."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class JobType(OpenStrEnum):
    UNSPECIFIED = "UNSPECIFIED"
    STANDARD = "STANDARD"
    BATCH = "BATCH"
    FREE = "FREE"
    TEST = "TEST"


_OUTCOMES = enum_names(public_pb2.Outcome.DESCRIPTOR)
_STATUSES = enum_names(public_pb2.JobStatus.DESCRIPTOR)
_JOB_TYPES = enum_names(public_pb2.JobType.DESCRIPTOR)


def outcome(number: int) -> Outcome:
    return open_enum(Outcome, number, "OUTCOME_", _OUTCOMES)


def job_status(number: int) -> JobStatus:
    return open_enum(JobStatus, number, "JOB_STATUS_", _STATUSES)


@dataclass(frozen=True, slots=True)
class ReviewResult:
    outcome: Outcome
    score: float

    @classmethod
    def from_proto(cls, pb: public_pb2.PolicyEvaluationReport.ReviewResult) -> ReviewResult:
        return cls(outcome(pb.outcome), pb.score)


@dataclass(frozen=True, slots=True)
class AssertionReport:
    """One assertion of a section (e.g. a matched phrase) and its score."""

    message: str
    score: float


@dataclass(frozen=True, slots=True)
class ExceptionReport:
    """An EXCEPT WHEN / UNLESS block: when its outcome is TRUE the section did not apply."""

    review_result: ReviewResult
    assertions: list[AssertionReport]


def _assertions(pbs: Any) -> list[AssertionReport]:
    return [AssertionReport(a.message, a.score) for a in pbs]


def _exception(parent: Any, field_name: str) -> ExceptionReport | None:
    if not parent.HasField(field_name):
        return None
    pb = getattr(parent, field_name)
    return ExceptionReport(
        ReviewResult.from_proto(pb.review_result), _assertions(pb.assertion_evaluation_reports)
    )


@dataclass(frozen=True, slots=True)
class LabelReport:
    """The report of one section (label) of a policy."""

    name: str
    message: str
    review_result: ReviewResult
    assertions: list[AssertionReport] = field(default_factory=list)
    exception: ExceptionReport | None = None

    @property
    def outcome(self) -> Outcome:
        return self.review_result.outcome

    @property
    def score(self) -> float:
        return self.review_result.score

    @property
    def matched(self) -> bool:
        return self.review_result.outcome == Outcome.TRUE

    @classmethod
    def from_proto(cls, pb: public_pb2.PolicyEvaluationReport.SectionEvaluationReport) -> LabelReport:
        return cls(
            name=pb.name,
            message=pb.message,
            review_result=ReviewResult.from_proto(pb.review_result),
            assertions=_assertions(pb.assertion_evaluation_reports),
            exception=_exception(pb, "exception_evaluation_report"),
        )


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int
    billed_tokens: int
    multiplier: float


@dataclass(frozen=True, slots=True)
class Report:
    """The evaluation of one piece of content against one policy.

    `label_matches` is the server's label -> score map of matched labels; `matches` is the same
    computed from the sections (what the published SDK offered).
    """

    policy_id: str
    policy_name: str
    policy_version_id: str
    section_evaluation_reports: list[LabelReport]
    content_hash: str
    content_metadata: dict[str, str]
    review_result: ReviewResult
    threshold: float
    label_matches: dict[str, float] = field(default_factory=dict)
    token_usage: TokenUsage | None = None
    exception: ExceptionReport | None = None

    @property
    def outcome(self) -> Outcome:
        return self.review_result.outcome

    @property
    def score(self) -> float:
        return self.review_result.score

    @property
    def sections(self) -> list[LabelReport]:
        return self.section_evaluation_reports

    @property
    def matches(self) -> dict[str, float]:
        return {s.name: s.review_result.score for s in self.section_evaluation_reports if s.matched}

    @classmethod
    def from_proto(cls, pb: public_pb2.PolicyEvaluationReport) -> Report:
        usage = pb.token_usage if pb.HasField("token_usage") else None
        return cls(
            policy_id=pb.policy_id,
            policy_name=pb.policy_key,
            policy_version_id=pb.policy_version_id,
            section_evaluation_reports=[LabelReport.from_proto(s) for s in pb.section_evaluation_reports],
            content_hash=pb.content_hash,
            content_metadata=dict(pb.content_metadata),
            review_result=ReviewResult.from_proto(pb.review_result),
            threshold=pb.threshold,
            label_matches=dict(pb.label_matches),
            token_usage=(
                TokenUsage(usage.input_tokens, usage.billed_tokens, usage.multiplier)
                if usage is not None
                else None
            ),
            exception=_exception(pb, "exception_evaluation_report"),
        )


def _report(parent: Any, field_name: str) -> Report | None:
    return Report.from_proto(getattr(parent, field_name)) if parent.HasField(field_name) else None


@dataclass(frozen=True, slots=True)
class EvaluateResponse:
    """One streamed evaluation: one piece of content against the policy."""

    job_uuid: str
    content_hash: str
    policy_evaluation_report: Report | None

    @property
    def report(self) -> Report | None:
        return self.policy_evaluation_report

    @property
    def matches(self) -> dict[str, float]:
        return self.policy_evaluation_report.matches if self.policy_evaluation_report else {}

    @classmethod
    def from_proto(cls, pb: gateway_pb2.EvaluateResponse) -> EvaluateResponse:
        return cls(pb.job_uuid, pb.content_hash, _report(pb, "policy_evaluation_report"))


@dataclass(frozen=True, slots=True)
class JobResult:
    uuid: str
    job_uuid: str
    content_hash: str
    report: Report | None
    created: datetime | None

    @property
    def matches(self) -> dict[str, float]:
        return self.report.matches if self.report else {}

    @classmethod
    def from_proto(cls, pb: public_pb2.JobResult) -> JobResult:
        return cls(
            pb.uuid, pb.job_uuid, pb.content_hash, _report(pb, "report"), from_timestamp(pb, "created")
        )


def _optional(pb: Any, name: str) -> str | None:
    return getattr(pb, name) if pb.HasField(name) else None


@dataclass(frozen=True, slots=True)
class Job:
    """An evaluation job (what CreateJob and GetJob return, flattened: no `.job` level)."""

    job_uuid: str
    customer_id: str
    status: JobStatus
    content_data: list[ContentData]
    results: list[JobResult]
    created: datetime | None
    updated: datetime | None
    completed: datetime | None
    policy_id: str | None
    policy_version_id: str | None
    threshold: float
    job_type: JobType = JobType.UNSPECIFIED

    @classmethod
    def from_proto(cls, pb: public_pb2.Job) -> Job:
        return cls(
            job_uuid=pb.job_uuid,
            customer_id=pb.customer_id,
            status=job_status(pb.status),
            content_data=[ContentData.from_proto(c) for c in pb.content_data],
            results=[JobResult.from_proto(r) for r in pb.results],
            created=from_timestamp(pb, "created"),
            updated=from_timestamp(pb, "updated"),
            completed=from_timestamp(pb, "completed"),
            policy_id=_optional(pb, "policy_id"),
            policy_version_id=_optional(pb, "policy_version_id"),
            threshold=pb.threshold,
            job_type=open_enum(JobType, pb.job_type, "JOB_TYPE_", _JOB_TYPES),
        )


# The published SDK returned the flattened Job under these names.
CreateJobResponse = Job
GetJobResponse = Job


@dataclass
class ListJobsResponse(Page[Job]):
    """One page of jobs. `jobs` is the page's items; `next_page_token` is None on the last page."""

    next_page_token: str | None = None

    @property
    def jobs(self) -> list[Job]:
        return self.items

    @classmethod
    def shape(cls, pb: gateway_pb2.ListJobsResponse, items: list[Job]) -> ListJobsResponse:
        return cls(items=items, response=pb, next_page_token=pb.next_page_token or None)


@dataclass(frozen=True, slots=True)
class EvaluateOneResponse:
    """One piece of content evaluated as a job. `report` is None while the job has no result yet."""

    job_uuid: str
    content_hash: str
    report: Report | None
    status: JobStatus

    @property
    def matches(self) -> dict[str, float]:
        return self.report.matches if self.report else {}

    @classmethod
    def from_job(cls, job: Job) -> EvaluateOneResponse:
        first = job.results[0] if job.results else None
        content_hash = first.content_hash if first else (job.content_data[0].content_hash or "")
        return cls(job.job_uuid, content_hash or "", first.report if first else None, job.status)


@dataclass(frozen=True, slots=True)
class LabelEvaluation:
    score: float
    outcome: Outcome
    threshold: float
    report: Report | None


@dataclass(frozen=True, slots=True)
class LabelEvaluationError:
    message: str


@dataclass(frozen=True, slots=True)
class LabelEvaluationResult:
    """The result for one label version: `evaluation` or `error` is set."""

    label_id: str
    label_version_id: str
    job_uuid: str
    evaluation: LabelEvaluation | None
    error: LabelEvaluationError | None

    @classmethod
    def from_proto(cls, pb: labels_pb2.EvaluateLabelsResponse.LabelResult) -> LabelEvaluationResult:
        evaluation = error = None
        kind = pb.WhichOneof("result")
        if kind == "evaluation":
            ev = pb.evaluation
            evaluation = LabelEvaluation(ev.score, outcome(ev.outcome), ev.threshold, _report(ev, "report"))
        elif kind == "error":
            error = LabelEvaluationError(pb.error)
        return cls(pb.label_id, pb.label_version_id, pb.job_uuid, evaluation, error)


@dataclass(frozen=True, slots=True)
class EvaluateLabelsResponse:
    content_hash: str
    results: list[LabelEvaluationResult]

    @classmethod
    def from_proto(cls, pb: labels_pb2.EvaluateLabelsResponse) -> EvaluateLabelsResponse:
        return cls(pb.content_hash, [LabelEvaluationResult.from_proto(r) for r in pb.results])
