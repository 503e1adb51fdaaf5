"""Typed Clavata responses: read-only views over the wire messages (pure, no I/O).

A view computes each field when it is read, so streaming thousands of responses costs little more
than the raw messages while every field stays typed. Datetimes are timezone-aware UTC and None
when unset; enum values the SDK does not know become `UNRECOGNIZED_<n>` members instead of errors.
`.proto` gives the underlying message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from modelwire._core.paging import Page
from modelwire._core.wire import OpenStrEnum, View, enum_converter, from_timestamp
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


outcome = enum_converter(Outcome, public_pb2.Outcome.DESCRIPTOR, "OUTCOME_")
job_status = enum_converter(JobStatus, public_pb2.JobStatus.DESCRIPTOR, "JOB_STATUS_")
job_type = enum_converter(JobType, public_pb2.JobType.DESCRIPTOR, "JOB_TYPE_")


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
class TokenUsage:
    input_tokens: int
    billed_tokens: int
    multiplier: float


class _Reviewed(View):
    """A report part with a `review_result` (outcome and score) on the wire."""

    __slots__ = ()

    @property
    def review_result(self) -> ReviewResult:
        return ReviewResult.from_proto(self._pb.review_result)

    @property
    def outcome(self) -> Outcome:
        return outcome(self._pb.review_result.outcome)

    @property
    def score(self) -> float:
        return self._pb.review_result.score  # type: ignore[no-any-return]


class ExceptionReport(_Reviewed):
    """An EXCEPT WHEN / UNLESS block: when its outcome is TRUE the section did not apply."""

    __slots__ = ()
    _fields = ("review_result", "assertions")

    @property
    def assertions(self) -> list[AssertionReport]:
        return _assertions(self._pb.assertion_evaluation_reports)


def _assertions(pbs: Any) -> list[AssertionReport]:
    return [AssertionReport(a.message, a.score) for a in pbs]


def _exception(parent: Any) -> ExceptionReport | None:
    present = parent.HasField("exception_evaluation_report")
    return ExceptionReport(parent.exception_evaluation_report) if present else None


class LabelReport(_Reviewed):
    """The report of one section (label) of a policy."""

    __slots__ = ()
    _fields = ("name", "message", "review_result", "assertions", "exception")

    @property
    def name(self) -> str:
        return self._pb.name  # type: ignore[no-any-return]

    @property
    def message(self) -> str:
        return self._pb.message  # type: ignore[no-any-return]

    @property
    def matched(self) -> bool:
        return self._pb.review_result.outcome == public_pb2.OUTCOME_TRUE  # type: ignore[no-any-return]

    @property
    def assertions(self) -> list[AssertionReport]:
        return _assertions(self._pb.assertion_evaluation_reports)

    @property
    def exception(self) -> ExceptionReport | None:
        return _exception(self._pb)


class Report(_Reviewed):
    """The evaluation of one piece of content against one policy.

    `label_matches` is the server's label -> score map of matched labels; `matches` is the same
    computed from the sections (what the published SDK offered).
    """

    __slots__ = ()
    _fields = (
        "policy_id",
        "policy_name",
        "policy_version_id",
        "review_result",
        "threshold",
        "content_hash",
        "content_metadata",
        "section_evaluation_reports",
        "label_matches",
        "token_usage",
    )

    @property
    def policy_id(self) -> str:
        return self._pb.policy_id  # type: ignore[no-any-return]

    @property
    def policy_name(self) -> str:
        """The policy's human-readable key (`policy_key` on the wire)."""
        return self._pb.policy_key  # type: ignore[no-any-return]

    @property
    def policy_version_id(self) -> str:
        return self._pb.policy_version_id  # type: ignore[no-any-return]

    @property
    def content_hash(self) -> str:
        return self._pb.content_hash  # type: ignore[no-any-return]

    @property
    def content_metadata(self) -> dict[str, str]:
        return dict(self._pb.content_metadata)

    @property
    def threshold(self) -> float:
        return self._pb.threshold  # type: ignore[no-any-return]

    @property
    def section_evaluation_reports(self) -> list[LabelReport]:
        return [LabelReport(s) for s in self._pb.section_evaluation_reports]

    sections = section_evaluation_reports

    @property
    def label_matches(self) -> dict[str, float]:
        return dict(self._pb.label_matches)

    @property
    def matches(self) -> dict[str, float]:
        true = public_pb2.OUTCOME_TRUE
        return {
            s.name: s.review_result.score
            for s in self._pb.section_evaluation_reports
            if s.review_result.outcome == true
        }

    @property
    def token_usage(self) -> TokenUsage | None:
        if not self._pb.HasField("token_usage"):
            return None
        usage = self._pb.token_usage
        return TokenUsage(usage.input_tokens, usage.billed_tokens, usage.multiplier)

    @property
    def exception(self) -> ExceptionReport | None:
        return _exception(self._pb)


def _report(parent: Any, field_name: str) -> Report | None:
    return Report(getattr(parent, field_name)) if parent.HasField(field_name) else None


class EvaluateResponse(View):
    """One streamed evaluation: one piece of content against the policy."""

    __slots__ = ()
    _fields = ("job_uuid", "content_hash", "policy_evaluation_report")

    @property
    def job_uuid(self) -> str:
        return self._pb.job_uuid  # type: ignore[no-any-return]

    @property
    def content_hash(self) -> str:
        return self._pb.content_hash  # type: ignore[no-any-return]

    @property
    def policy_evaluation_report(self) -> Report | None:
        return _report(self._pb, "policy_evaluation_report")

    report = policy_evaluation_report

    @property
    def matches(self) -> dict[str, float]:
        report = self.policy_evaluation_report
        return report.matches if report is not None else {}


class JobResult(View):
    __slots__ = ()
    _fields = ("uuid", "job_uuid", "content_hash", "report", "created")

    @property
    def uuid(self) -> str:
        return self._pb.uuid  # type: ignore[no-any-return]

    @property
    def job_uuid(self) -> str:
        return self._pb.job_uuid  # type: ignore[no-any-return]

    @property
    def content_hash(self) -> str:
        return self._pb.content_hash  # type: ignore[no-any-return]

    @property
    def report(self) -> Report | None:
        return _report(self._pb, "report")

    @property
    def created(self) -> datetime | None:
        return from_timestamp(self._pb, "created")

    @property
    def matches(self) -> dict[str, float]:
        report = self.report
        return report.matches if report is not None else {}


def _optional(pb: Any, name: str) -> str | None:
    return getattr(pb, name) if pb.HasField(name) else None


class Job(View):
    """An evaluation job (what CreateJob and GetJob return, flattened: no `.job` level)."""

    __slots__ = ()
    _fields = (
        "job_uuid",
        "status",
        "policy_id",
        "policy_version_id",
        "threshold",
        "created",
        "updated",
        "completed",
        "content_data",
        "results",
    )

    @property
    def job_uuid(self) -> str:
        return self._pb.job_uuid  # type: ignore[no-any-return]

    @property
    def customer_id(self) -> str:
        return self._pb.customer_id  # type: ignore[no-any-return]

    @property
    def status(self) -> JobStatus:
        return job_status(self._pb.status)

    @property
    def content_data(self) -> list[ContentData]:
        """The job's content as the service returns it: hashes and metadata, not the content."""
        return [ContentData.from_proto(c) for c in self._pb.content_data]

    @property
    def results(self) -> list[JobResult]:
        return [JobResult(r) for r in self._pb.results]

    @property
    def created(self) -> datetime | None:
        return from_timestamp(self._pb, "created")

    @property
    def updated(self) -> datetime | None:
        return from_timestamp(self._pb, "updated")

    @property
    def completed(self) -> datetime | None:
        return from_timestamp(self._pb, "completed")

    @property
    def policy_id(self) -> str | None:
        return _optional(self._pb, "policy_id")

    @property
    def policy_version_id(self) -> str | None:
        return _optional(self._pb, "policy_version_id")

    @property
    def threshold(self) -> float:
        return self._pb.threshold  # type: ignore[no-any-return]

    @property
    def job_type(self) -> JobType:
        return job_type(self._pb.job_type)


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
        pb = job.proto
        if pb.results:
            first = pb.results[0]
            return cls(pb.job_uuid, first.content_hash, _report(first, "report"), job.status)
        content_hash = pb.content_data[0].content_hash if pb.content_data else ""
        return cls(pb.job_uuid, content_hash, None, job.status)


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
