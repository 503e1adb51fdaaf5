"""Typed Clavata responses: read-only views over the wire messages (pure, no I/O).

A view computes each field when it is read, so streaming thousands of responses costs little more
than the raw messages while every field stays typed. Datetimes are timezone-aware UTC and None
when unset; enum values the SDK does not know become `UNRECOGNIZED_<n>` members instead of errors.
`.proto` gives the underlying message.
"""

from __future__ import annotations

import functools
import math
import struct
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
        """True for COMPLETED, FAILED and CANCELED: the job will not change again."""
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
_FLOAT32 = struct.Struct("<f")


@functools.lru_cache(maxsize=4096)
def float32_score(value: float) -> float:
    """A score as every view shows it: its float32 value, by the shortest decimal that round-trips
    through float32 (0.800000011920929 -> 0.8; 0.9600000000000001 -> 0.96).

    The wire holds one score in two widths (`label_matches` is float32, section scores are doubles),
    so each is rounded to float32 and shown by its shortest form: one score reads the same
    everywhere, and nothing float32 holds is lost.
    """
    if not math.isfinite(value):
        return value
    try:
        target = _FLOAT32.unpack(_FLOAT32.pack(value))[0]
    except OverflowError:  # beyond float32's range: no float32 form to show
        return value
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        shown = float(f"{target:.{digits}g}")
        try:
            if _FLOAT32.unpack(_FLOAT32.pack(shown))[0] == target:
                return shown
        except OverflowError:  # rounded up past float32's largest value (near 3.4e38): more digits
            continue
    return float(target)


def _scores(pairs: Any) -> dict[str, float]:
    return {name: float32_score(score) for name, score in pairs}


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """An outcome and its score, as the wire's `review_result` holds them.

    Attributes:
        outcome: TRUE when the policy (or section) matched, FALSE when not.
        score: The score in [0, 1] the outcome was decided from.
    """

    outcome: Outcome
    score: float

    @classmethod
    def from_proto(cls, pb: public_pb2.PolicyEvaluationReport.ReviewResult) -> ReviewResult:
        """A `ReviewResult` from its wire message."""
        return cls(outcome(pb.outcome), float32_score(pb.score))


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
        """The outcome and score together, as a `ReviewResult`."""
        return ReviewResult.from_proto(self._pb.review_result)

    @property
    def outcome(self) -> Outcome:
        """TRUE when this matched, FALSE when not (`Outcome`)."""
        return outcome(self._pb.review_result.outcome)

    @property
    def score(self) -> float:
        """The score in [0, 1] the outcome was decided from."""
        return float32_score(self._pb.review_result.score)


class ExceptionReport(_Reviewed):
    """An EXCEPT WHEN / UNLESS block: when its outcome is TRUE the section did not apply."""

    __slots__ = ()
    _fields = ("review_result", "assertions")

    @property
    def assertions(self) -> list[AssertionReport]:
        return _assertions(self._pb.assertion_evaluation_reports)


def _assertions(pbs: Any) -> list[AssertionReport]:
    return [AssertionReport(a.message, float32_score(a.score)) for a in pbs]


def _exception(parent: Any) -> ExceptionReport | None:
    present = parent.HasField("exception_evaluation_report")
    return ExceptionReport(parent.exception_evaluation_report) if present else None


class LabelReport(_Reviewed):
    """The report of one section (label) of a policy."""

    __slots__ = ()
    _fields = ("name", "message", "review_result", "assertions", "exception")

    @property
    def name(self) -> str:
        """The section's (label's) name, e.g. "Violence"."""
        return self._pb.name  # type: ignore[no-any-return]

    @property
    def message(self) -> str:
        """The section's message, as the policy states it."""
        return self._pb.message  # type: ignore[no-any-return]

    @property
    def matched(self) -> bool:
        """Whether the section matched (its outcome is TRUE)."""
        return self._pb.review_result.outcome == public_pb2.OUTCOME_TRUE  # type: ignore[no-any-return]

    @property
    def assertions(self) -> list[AssertionReport]:
        """The section's assertions (e.g. matched phrases), each with its score."""
        return _assertions(self._pb.assertion_evaluation_reports)

    @property
    def exception(self) -> ExceptionReport | None:
        """The section's EXCEPT WHEN / UNLESS report, or None when it has none."""
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
        """The id of the policy the content was evaluated against."""
        return self._pb.policy_id  # type: ignore[no-any-return]

    @property
    def policy_name(self) -> str:
        """The policy's human-readable key (`policy_key` on the wire)."""
        return self._pb.policy_key  # type: ignore[no-any-return]

    @property
    def policy_version_id(self) -> str:
        """The id of the policy version that was applied."""
        return self._pb.policy_version_id  # type: ignore[no-any-return]

    @property
    def content_hash(self) -> str:
        """The content's hash (`fnv1a128::...`), as the service computed it."""
        return self._pb.content_hash  # type: ignore[no-any-return]

    @property
    def content_metadata(self) -> dict[str, str]:
        """The `metadata` given with the content, echoed back."""
        return dict(self._pb.content_metadata)

    @property
    def threshold(self) -> float:
        """The threshold the policy outcome was decided against."""
        return self._pb.threshold  # type: ignore[no-any-return]

    @property
    def section_evaluation_reports(self) -> list[LabelReport]:
        """One `LabelReport` per section (label) of the policy; also `sections`."""
        return [LabelReport(s) for s in self._pb.section_evaluation_reports]

    sections = section_evaluation_reports

    @property
    def label_matches(self) -> dict[str, float]:
        """The server's map of matched labels to their scores."""
        return _scores(self._pb.label_matches.items())

    @property
    def matches(self) -> dict[str, float]:
        """Matched sections to their scores, computed from the sections (the published SDK's `matches`)."""
        true = public_pb2.OUTCOME_TRUE
        return _scores(
            (s.name, s.review_result.score)
            for s in self._pb.section_evaluation_reports
            if s.review_result.outcome == true
        )

    @property
    def token_usage(self) -> TokenUsage | None:
        """Tokens used and billed, or None when the service did not report them."""
        if not self._pb.HasField("token_usage"):
            return None
        usage = self._pb.token_usage
        return TokenUsage(usage.input_tokens, usage.billed_tokens, float32_score(usage.multiplier))

    @property
    def exception(self) -> ExceptionReport | None:
        """The policy-level EXCEPT WHEN / UNLESS report, or None when it has none."""
        return _exception(self._pb)


def _report(parent: Any, field_name: str) -> Report | None:
    return Report(getattr(parent, field_name)) if parent.HasField(field_name) else None


class EvaluateResponse(View):
    """One streamed evaluation: one piece of content against the policy."""

    __slots__ = ()
    _fields = ("job_uuid", "content_hash", "policy_evaluation_report")

    @property
    def job_uuid(self) -> str:
        """The uuid of the job the stream runs as."""
        return self._pb.job_uuid  # type: ignore[no-any-return]

    @property
    def content_hash(self) -> str:
        """The hash of the piece of content this response is about."""
        return self._pb.content_hash  # type: ignore[no-any-return]

    @property
    def policy_evaluation_report(self) -> Report | None:
        """The `Report` for this piece of content (also `report`), or None when absent."""
        return _report(self._pb, "policy_evaluation_report")

    report = policy_evaluation_report

    @property
    def matches(self) -> dict[str, float]:
        """Matched sections to their scores (empty without a report)."""
        report = self.policy_evaluation_report
        return report.matches if report is not None else {}


class JobResult(View):
    """The result for one piece of content of a job."""

    __slots__ = ()
    _fields = ("uuid", "job_uuid", "content_hash", "report", "created")

    @property
    def uuid(self) -> str:
        """The result's own uuid."""
        return self._pb.uuid  # type: ignore[no-any-return]

    @property
    def job_uuid(self) -> str:
        """The uuid of the job it belongs to."""
        return self._pb.job_uuid  # type: ignore[no-any-return]

    @property
    def content_hash(self) -> str:
        """The hash of the piece of content it is about."""
        return self._pb.content_hash  # type: ignore[no-any-return]

    @property
    def report(self) -> Report | None:
        """The `Report`, or None when the result has none."""
        return _report(self._pb, "report")

    @property
    def created(self) -> datetime | None:
        """When the result was created (timezone-aware UTC), or None."""
        return from_timestamp(self._pb, "created")

    @property
    def matches(self) -> dict[str, float]:
        """Matched sections to their scores (empty without a report)."""
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
        """The job's uuid."""
        return self._pb.job_uuid  # type: ignore[no-any-return]

    @property
    def customer_id(self) -> str:
        """The id of the customer (account) the job belongs to."""
        return self._pb.customer_id  # type: ignore[no-any-return]

    @property
    def status(self) -> JobStatus:
        """Where the job is in its lifecycle (`JobStatus`; `.finished` once it is done)."""
        return job_status(self._pb.status)

    @property
    def content_data(self) -> list[ContentData]:
        """The job's content as the service returns it: hashes and metadata, not the content."""
        return [ContentData.from_proto(c) for c in self._pb.content_data]

    @property
    def results(self) -> list[JobResult]:
        """One `JobResult` per piece of content evaluated so far."""
        return [JobResult(r) for r in self._pb.results]

    @property
    def created(self) -> datetime | None:
        """When the job was created (timezone-aware UTC), or None."""
        return from_timestamp(self._pb, "created")

    @property
    def updated(self) -> datetime | None:
        """When the job last changed (timezone-aware UTC), or None."""
        return from_timestamp(self._pb, "updated")

    @property
    def completed(self) -> datetime | None:
        """When the job finished (timezone-aware UTC), or None while it runs."""
        return from_timestamp(self._pb, "completed")

    @property
    def policy_id(self) -> str | None:
        """The policy the job evaluates against, or None when unset."""
        return _optional(self._pb, "policy_id")

    @property
    def policy_version_id(self) -> str | None:
        """The policy version applied, or None when unset."""
        return _optional(self._pb, "policy_version_id")

    @property
    def threshold(self) -> float:
        """The threshold outcomes are decided against."""
        return self._pb.threshold  # type: ignore[no-any-return]

    @property
    def job_type(self) -> JobType:
        """The kind of job (STANDARD, BATCH, ...)."""
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
        """The page's jobs (the same list as `items`)."""
        return self.items

    @classmethod
    def shape(cls, pb: gateway_pb2.ListJobsResponse, items: list[Job]) -> ListJobsResponse:
        """A page from its wire message and its already-shaped jobs (used by the pager)."""
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
        """Matched sections to their scores (empty without a report)."""
        return self.report.matches if self.report else {}

    @classmethod
    def from_job(cls, job: Job) -> EvaluateOneResponse:
        """The one-item view of a `Job` (its first result, if any)."""
        pb = job.proto
        if pb.results:
            first = pb.results[0]
            return cls(pb.job_uuid, first.content_hash, _report(first, "report"), job.status)
        content_hash = pb.content_data[0].content_hash if pb.content_data else ""
        return cls(pb.job_uuid, content_hash, None, job.status)


@dataclass(frozen=True, slots=True)
class LabelEvaluation:
    """The evaluation of the content against one label version.

    Attributes:
        score: The label's score in [0, 1].
        outcome: TRUE when the label matched.
        threshold: The threshold the outcome was decided against.
        report: The full `Report` when `include_evaluation_report` was set, else None.
    """

    score: float
    outcome: Outcome
    threshold: float
    report: Report | None


@dataclass(frozen=True, slots=True)
class LabelEvaluationError:
    """Why one label version could not be evaluated.

    Attributes:
        message: The service's explanation.
    """

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
        """A `LabelEvaluationResult` from its wire message."""
        evaluation = error = None
        kind = pb.WhichOneof("result")
        if kind == "evaluation":
            ev = pb.evaluation
            score = float32_score(ev.score)
            evaluation = LabelEvaluation(score, outcome(ev.outcome), ev.threshold, _report(ev, "report"))
        elif kind == "error":
            error = LabelEvaluationError(pb.error)
        return cls(pb.label_id, pb.label_version_id, pb.job_uuid, evaluation, error)


@dataclass(frozen=True, slots=True)
class EvaluateLabelsResponse:
    """What `evaluate_labels` returns: one result per label version asked for.

    Attributes:
        content_hash: The hash of the evaluated content.
        results: One `LabelEvaluationResult` per label version.
    """

    content_hash: str
    results: list[LabelEvaluationResult]

    @classmethod
    def from_proto(cls, pb: labels_pb2.EvaluateLabelsResponse) -> EvaluateLabelsResponse:
        """An `EvaluateLabelsResponse` from its wire message."""
        return cls(pb.content_hash, [LabelEvaluationResult.from_proto(r) for r in pb.results])
