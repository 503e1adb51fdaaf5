"""Request helpers for Clavata calls, named as in the Clavata SDK documentation.

Each helper validates its input when built and says what to change; `to_proto()` is pure.
`content=` accepts a string (text), bytes (an image), a `ContentData`, or a list of those.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from modelwire._core.errors import UsageError
from modelwire._core.wire import to_timestamp
from modelwire._gen.clavata.gateway.v1 import gateway_pb2, labels_pb2
from modelwire._gen.clavata.shared.v1 import public_pb2, shared_pb2

_KINDS = ("text", "image", "image_url", "video", "audio_url")
MAX_LABEL_VERSIONS = 10


MAX_UINT32 = 2**32 - 1


def check_text(value: Any, what: str) -> str:
    """`value` as a str protobuf can encode; a UsageError naming `what` otherwise.

    Protobuf strings are UTF-8, so a lone surrogate (e.g. from `bytes.decode(errors="surrogateescape")`)
    would otherwise surface as a raw UnicodeEncodeError from deep inside message construction.
    """
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a str, got {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UsageError(
                f"{what} is not valid text: it holds an unpaired surrogate (U+{ord(value[exc.start]):04X}) "
                f"at position {exc.start}, which UTF-8 cannot encode; clean it (e.g. decode the source "
                'bytes with errors="replace") before sending'
            ) from None
    return value


@dataclass(frozen=True)
class VideoContent:
    """A video by URL, optionally sampled to `num_frames` frames."""

    url: str
    num_frames: int | None = None

    def __post_init__(self) -> None:
        check_text(self.url, "VideoContent.url")
        frames = self.num_frames
        if frames is not None and (
            isinstance(frames, bool) or not isinstance(frames, int) or not 0 <= frames <= MAX_UINT32
        ):
            raise UsageError(f"VideoContent.num_frames must be an int in 0..{MAX_UINT32}, got {frames!r}")


def _check_str_map(value: Mapping[str, str] | None, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{what} must be a dict of str to str, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise UsageError(
                f"{what} must map str to str; {key!r}: {item!r} is {type(key).__name__} -> "
                f"{type(item).__name__} (convert the value with str() if that is what you mean)"
            )
        check_text(key, f"{what} key")
        check_text(item, f"{what}[{key!r}]")
    return dict(value)


@dataclass
class ContentData:
    """One piece of content: exactly one of text, image (bytes), image_url, video, audio_url.

    `metadata` is echoed back in the report's `content_metadata`, handy for correlating
    streamed results. `content_hash` is filled in by the service on responses.
    """

    text: str | None = None
    image: bytes | None = None
    image_url: str | None = None
    # fourth, as in clavata-sdk: `ContentData(text, image, image_url, metadata)` binds the same
    metadata: dict[str, str] = field(default_factory=dict)
    video: VideoContent | str | None = None
    audio_url: str | None = None
    labels: list[str] = field(default_factory=list)
    title: str | None = None
    content_type: str | None = None
    content_hash: str | None = None

    def __post_init__(self) -> None:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) > 1:
            raise UsageError(
                f"ContentData holds one piece of content, but {' and '.join(given)} were all set; "
                "make one ContentData per piece"
            )
        for name in ("text", "image_url", "audio_url", "title", "content_type"):
            value = getattr(self, name)
            if value is not None:
                check_text(value, f"ContentData.{name}")
        if self.image is not None:
            if not isinstance(self.image, (bytes, bytearray, memoryview)):
                raise UsageError(f"ContentData.image must be bytes, got {type(self.image).__name__}")
            self.image = bytes(self.image)
        if isinstance(self.video, str):
            self.video = VideoContent(self.video)
        elif self.video is not None and not isinstance(self.video, VideoContent):
            raise UsageError(
                f"ContentData.video must be a URL or VideoContent, got {type(self.video).__name__}"
            )
        self.metadata = _check_str_map(self.metadata, "ContentData.metadata")
        if isinstance(self.labels, (str, bytes)) or not isinstance(self.labels, Iterable):
            raise UsageError(f"ContentData.labels must be a list of str, got {type(self.labels).__name__}")
        self.labels = [check_text(x, f"ContentData.labels[{i}]") for i, x in enumerate(self.labels)]

    @property
    def kind(self) -> str | None:
        """Which kind of content is set: "text", "image", "image_url", "video", "audio_url" or None."""
        return next((k for k in _KINDS if getattr(self, k) is not None), None)

    def __repr__(self) -> str:
        # Never dump megabytes of image bytes into a log line.
        shown = {k: getattr(self, k) for k in _KINDS if getattr(self, k) is not None}
        if "image" in shown:
            shown["image"] = f"<{len(self.image or b'')} bytes>"
        extras = {
            k: getattr(self, k) for k in ("metadata", "labels", "title", "content_hash") if getattr(self, k)
        }
        return f"ContentData({', '.join(f'{k}={v!r}' for k, v in {**shown, **extras}.items())})"

    def to_proto(self) -> public_pb2.ContentData:
        """The `ContentData` wire message.

        Raises:
            UsageError: No content is set.
        """
        kind = self.kind
        if kind is None:
            raise UsageError(
                "ContentData is empty: set one of text=, image=, image_url=, video= or audio_url="
            )
        pb = public_pb2.ContentData(metadata=self.metadata, labels=self.labels)
        if isinstance(self.video, VideoContent):
            pb.video.url = self.video.url
            if self.video.num_frames is not None:
                pb.video.num_frames = self.video.num_frames
        else:
            setattr(pb, kind, getattr(self, kind))
        if self.title is not None:
            pb.title = self.title
        if self.content_type:
            pb.content_type = self.content_type
        return pb

    @classmethod
    def from_proto(cls, pb: public_pb2.ContentData) -> ContentData:
        """A `ContentData` from its wire message (as jobs return it: hashes and metadata)."""
        kind = pb.WhichOneof("content")
        values: dict[str, Any] = {}
        if kind == "video":
            values["video"] = VideoContent(
                pb.video.url, pb.video.num_frames if pb.video.HasField("num_frames") else None
            )
        elif kind is not None:
            values[kind] = getattr(pb, kind)
        return cls(
            **values,
            metadata=dict(pb.metadata),
            labels=list(pb.labels),
            title=pb.title if pb.HasField("title") else None,
            content_type=pb.content_type or None,
            content_hash=pb.content_hash or None,
        )


ContentLike = str | bytes | ContentData
Content = ContentLike | Iterable[ContentLike]


def _one(item: Any, where: str) -> ContentData:
    if isinstance(item, ContentData):
        return item
    if isinstance(item, str):
        return ContentData(text=check_text(item, where))
    if isinstance(item, (bytes, bytearray, memoryview)):
        return ContentData(image=bytes(item))
    kind = type(item).__name__
    raise UsageError(f"{where}: expected str (text), bytes (an image) or ContentData, got {kind}")


def as_contents(content: Content, *, what: str = "content") -> list[ContentLike]:
    """Normalise `content=` to a non-empty list of str (text), bytes (an image) or ContentData.

    Plain strings and bytes stay as they are (each becomes a ContentData on the wire): wrapping
    thousands of texts in validated objects only to unwrap them again is pure overhead.
    """
    if content is None:
        raise UsageError(f"{what} is required: pass a str, bytes, ContentData or a list of them")
    if isinstance(content, str):
        return [check_text(content, what)]
    if isinstance(content, (bytes, ContentData)):
        return [content]
    if isinstance(content, (bytearray, memoryview)):
        return [bytes(content)]
    if not isinstance(content, Iterable):
        kind = type(content).__name__
        raise UsageError(f"{what}: expected str, bytes, ContentData or a list of them, got {kind}")
    items: list[ContentLike] = list(content)
    for index, item in enumerate(items):
        if isinstance(item, str):
            check_text(item, f"{what}[{index}]")
        elif not isinstance(item, (bytes, ContentData)):
            items[index] = _one(item, f"{what}[{index}]")  # bytearray/memoryview, or a clear error
    if not items:
        raise UsageError(f"{what} is empty: pass at least one piece of content")
    return items


def _protos(content: Content) -> list[public_pb2.ContentData]:
    """Wire messages for content already normalised by `as_contents`."""
    return [content_to_proto(item) for item in cast("list[ContentLike]", content)]


def content_to_proto(item: ContentLike) -> public_pb2.ContentData:
    if isinstance(item, str):
        return public_pb2.ContentData(text=item)
    if isinstance(item, bytes):
        return public_pb2.ContentData(image=item)
    return item.to_proto()


def _check_policy(policy_id: Any) -> str:
    if not isinstance(policy_id, str) or not policy_id.strip():
        raise UsageError(f"policy_id must be a non-empty str (the policy's id), got {policy_id!r}")
    return check_text(policy_id, "policy_id")


def _check_threshold(threshold: float | None) -> float | None:
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise UsageError(f"threshold must be a number in [0, 1], got {threshold!r}")
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"threshold must be within [0, 1], got {threshold}")
    return float(threshold)


def options_to_map(options: Mapping[str, str | bool] | None) -> dict[str, str]:
    """`{"expedited": True}` -> `{"expedited": "true"}`; validates the keys the service knows."""
    if options is not None and not isinstance(options, Mapping):
        raise UsageError(f"options must be a dict of option name to str/bool, got {type(options).__name__}")
    out: dict[str, str] = {}
    for key, value in (options or {}).items():
        if not isinstance(key, str):
            raise UsageError(f"option names must be str, got {key!r}")
        check_text(key, "option name")
        if not isinstance(value, (str, bool, int, float)):
            raise UsageError(f"option {key!r} must be a str or bool, got {type(value).__name__}")
        text = (
            ("true" if value else "false")
            if isinstance(value, bool)
            else check_text(str(value), f"option {key!r}")
        )
        if key == "expedited" and text.lower() not in ("true", "false"):
            raise UsageError(f'option "expedited" must be True/False or "true"/"false", got {value!r}')
        out[key] = text.lower() if key == "expedited" else text
    return out


def _check_flag(value: Any, what: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise UsageError(f"{what} must be True or False, got {type(value).__name__} {value!r}")


def _validate_policy_request(request: EvaluateRequest | CreateJobRequest) -> None:
    request.content = as_contents(request.content)
    request.policy_id = _check_policy(request.policy_id)
    request.threshold = _check_threshold(request.threshold)
    options_to_map(request.options)
    for flag in ("expedited", "include_evaluation_report", "wait_for_completion"):
        _check_flag(getattr(request, flag, None), flag)


def _fill_policy_request(
    pb: gateway_pb2.EvaluateRequest | gateway_pb2.CreateJobRequest,
    request: EvaluateRequest | CreateJobRequest,
) -> None:
    """The fields EvaluateRequest and CreateJobRequest share, set only when given."""
    if request.threshold is not None:
        pb.threshold = request.threshold
    if request.expedited is not None:
        pb.expedited = request.expedited
    if mapped := options_to_map(request.options):
        pb.options.options.update(mapped)


@dataclass
class EvaluateRequest:
    """Evaluate content against a policy; results stream back one per piece of content."""

    content: Content
    policy_id: str
    threshold: float | None = None
    options: dict[str, str | bool] | None = None
    expedited: bool | None = None
    include_evaluation_report: bool | None = None

    def __post_init__(self) -> None:
        _validate_policy_request(self)

    @property
    def contents(self) -> list[ContentData]:
        """The content as ContentData objects (`content` may hold plain str / bytes)."""
        return [_one(item, "content") for item in cast("list[ContentLike]", self.content)]

    def to_proto(self) -> gateway_pb2.EvaluateRequest:
        """The `EvaluateRequest` wire message (pure: no I/O)."""
        pb = gateway_pb2.EvaluateRequest(content_data=_protos(self.content), policy_id=self.policy_id)
        _fill_policy_request(pb, self)
        if self.include_evaluation_report is not None:
            pb.include_evaluation_report = self.include_evaluation_report
        return pb


def _check_webhook_url(value: Any) -> str:
    url = check_text(value, "webhook url")
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("https", "http") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced "[" in the host
        valid = False
    if not valid:
        raise UsageError(f"webhook url must be an absolute https:// URL, got {url!r}")
    return url


@dataclass
class Webhook:
    """Where the service POSTs the finished job; extra headers are sent prefixed `X-Webhook-`."""

    url: str
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = _check_webhook_url(self.url)
        self.extra_headers = _check_str_map(self.extra_headers, "extra_headers")


@dataclass
class CreateJobRequest:
    """Create an evaluation job. It returns at once (PENDING) unless `wait_for_completion=True`;
    poll with `get_job` / `wait_for_job`, or add a webhook with `add_webhook(url)`."""

    content: Content
    policy_id: str
    wait_for_completion: bool = False
    threshold: float | None = None
    options: dict[str, str | bool] | None = None
    expedited: bool | None = None
    webhook: Webhook | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        _validate_policy_request(self)

    @property
    def contents(self) -> list[ContentData]:
        """The content as ContentData objects (`content` may hold plain str / bytes)."""
        return [_one(item, "content") for item in cast("list[ContentLike]", self.content)]

    def add_webhook(self, url: str, extra_headers: dict[str, str] | None = None) -> CreateJobRequest:
        """Ask the service to POST the job to `url` when it completes. Returns the request."""
        self.webhook = Webhook(url, dict(extra_headers or {}))
        return self

    def to_proto(self) -> gateway_pb2.CreateJobRequest:
        """The `CreateJobRequest` wire message, webhook included (pure: no I/O)."""
        pb = gateway_pb2.CreateJobRequest(
            content_data=_protos(self.content),
            policy_id=self.policy_id,
            wait_for_completion=bool(self.wait_for_completion),
        )
        _fill_policy_request(pb, self)
        if self.webhook is not None:
            pb.webhook.url = self.webhook.url
            pb.webhook.extra_headers.update(self.webhook.extra_headers)
        return pb


@dataclass
class EvaluateOneRequest:
    """Evaluate one piece of content as a job and return its report (waits by default)."""

    content: ContentLike
    policy_id: str
    wait_for_completion: bool = True
    threshold: float | None = None
    options: dict[str, str | bool] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.content, (str, bytes, bytearray, memoryview, ContentData)):
            raise UsageError("EvaluateOneRequest takes one piece of content; use create_job for several")
        self.content = _one(self.content, "content")
        self.policy_id = _check_policy(self.policy_id)
        self.threshold = _check_threshold(self.threshold)
        options_to_map(self.options)
        _check_flag(self.wait_for_completion, "wait_for_completion")

    def to_create_job(self) -> CreateJobRequest:
        """The `CreateJobRequest` this one-item evaluation is sent as."""
        return CreateJobRequest(
            self.content, self.policy_id, self.wait_for_completion, self.threshold, self.options
        )


@dataclass
class GetJobRequest:
    """Get one job by its uuid.

    Args:
        job_uuid: The job's uuid (non-empty).

    Raises:
        UsageError: `job_uuid` is empty or not a str.
    """

    job_uuid: str

    def __post_init__(self) -> None:
        if not isinstance(self.job_uuid, str) or not self.job_uuid.strip():
            raise UsageError(f"job_uuid must be a non-empty str, got {self.job_uuid!r}")
        check_text(self.job_uuid, "job_uuid")

    def to_proto(self) -> gateway_pb2.GetJobRequest:
        """The `GetJobRequest` wire message."""
        return gateway_pb2.GetJobRequest(job_uuid=self.job_uuid)


@dataclass
class TimeRange:
    """A time window; either end may be open. Naive datetimes are taken as UTC."""

    start: datetime | None = None
    end: datetime | None = None
    inclusive: bool = True

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, datetime):
                raise UsageError(f"TimeRange.{name} must be a datetime, got {type(value).__name__}")
        _check_flag(self.inclusive, "TimeRange.inclusive")
        if (
            self.start
            and self.end
            and to_timestamp(self.start).ToNanoseconds() > to_timestamp(self.end).ToNanoseconds()
        ):
            raise UsageError(f"TimeRange starts after it ends ({self.start} > {self.end})")

    def to_proto(self) -> public_pb2.TimeRange:
        """The `TimeRange` wire message (naive datetimes taken as UTC)."""
        pb = public_pb2.TimeRange(inclusive=self.inclusive)
        if self.start is not None:
            pb.start.CopyFrom(to_timestamp(self.start))
        if self.end is not None:
            pb.end.CopyFrom(to_timestamp(self.end))
        return pb


_STATUS_NAMES = {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELED"}
MAX_PAGE_SIZE = 1000


@dataclass
class ListJobsQuery:
    """Filters for `list_jobs`: time ranges, status, policy; `page_size` is jobs per call."""

    created_time_range: TimeRange | None = None
    updated_time_range: TimeRange | None = None
    completed_time_range: TimeRange | None = None
    status: str | None = None
    page_size: int | None = None
    policy_id: str | None = None
    _next_page_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("created_time_range", "updated_time_range", "completed_time_range"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, TimeRange):
                raise UsageError(f"{name} must be a TimeRange, got {type(value).__name__}")
        if self.status is not None:
            name = str(self.status).upper().removeprefix("JOB_STATUS_")
            if name not in _STATUS_NAMES:
                raise UsageError(f"status must be one of {sorted(_STATUS_NAMES)}, got {self.status!r}")
            self.status = name
        if self.page_size is not None and (
            isinstance(self.page_size, bool)
            or not isinstance(self.page_size, int)
            or not 0 < self.page_size <= MAX_PAGE_SIZE
        ):
            raise UsageError(f"page_size must be an int in 1..{MAX_PAGE_SIZE}, got {self.page_size!r}")
        if self.policy_id is not None:
            _check_policy(self.policy_id)

    def to_proto(self) -> gateway_pb2.ListJobsRequest.Query:
        """The query part of the `ListJobsRequest` wire message (no paging fields)."""
        query = gateway_pb2.ListJobsRequest.Query()
        for name in ("created_time_range", "updated_time_range", "completed_time_range"):
            value = getattr(self, name)
            if value is not None:
                getattr(query, name).CopyFrom(value.to_proto())
        if self.status is not None:
            query.status = public_pb2.JobStatus.Value(f"JOB_STATUS_{self.status}")
        if self.policy_id is not None:
            query.policy_id = self.policy_id
        return query

    def to_proto_request(self) -> gateway_pb2.ListJobsRequest:
        """The ListJobsRequest actually sent: the query, page size and page token."""
        return gateway_pb2.ListJobsRequest(
            query=self.to_proto(), page_size=self.page_size or 0, page_token=self._next_page_token or ""
        )


class ListJobsQueryBuilder:
    """Fluent builder of a ListJobsQuery (the published SDK's interface, working)."""

    def __init__(self) -> None:
        self._query = ListJobsQuery()

    def set_created_time_range(
        self, start: datetime, end: datetime, inclusive: bool = True
    ) -> ListJobsQueryBuilder:
        """Only jobs created between `start` and `end`. Returns the builder.

        Raises:
            UsageError: The range is malformed (e.g. it starts after it ends).
        """
        self._query.created_time_range = TimeRange(start, end, inclusive)
        return self

    def set_updated_time_range(
        self, start: datetime, end: datetime, inclusive: bool = True
    ) -> ListJobsQueryBuilder:
        """Only jobs last updated between `start` and `end`. Returns the builder.

        Raises:
            UsageError: The range is malformed (e.g. it starts after it ends).
        """
        self._query.updated_time_range = TimeRange(start, end, inclusive)
        return self

    def set_completed_time_range(
        self, start: datetime, end: datetime, inclusive: bool = True
    ) -> ListJobsQueryBuilder:
        """Only jobs completed between `start` and `end`. Returns the builder.

        Raises:
            UsageError: The range is malformed (e.g. it starts after it ends).
        """
        self._query.completed_time_range = TimeRange(start, end, inclusive)
        return self

    def set_status(self, status: str) -> ListJobsQueryBuilder:
        """Only jobs in `status`: PENDING, RUNNING, COMPLETED, FAILED or CANCELED. Returns the builder.

        Raises:
            UsageError: `status` is not one of those.
        """
        self._query.status = status
        self._query.__post_init__()
        return self

    def set_policy_id(self, policy_id: str) -> ListJobsQueryBuilder:
        """Only jobs evaluated against `policy_id`. Returns the builder.

        Raises:
            UsageError: `policy_id` is empty or not a str.
        """
        self._query.policy_id = _check_policy(policy_id)
        return self

    def set_page_size(self, page_size: int) -> ListJobsQueryBuilder:
        """Jobs per call (1-1000). Returns the builder.

        Raises:
            UsageError: `page_size` is out of range.
        """
        self._query.page_size = page_size
        self._query.__post_init__()
        return self

    def build(self) -> ListJobsQuery:
        """The `ListJobsQuery` built so far (pass it to `list_jobs`)."""
        return self._query

    def build_next(self, response: Any) -> ListJobsQueryBuilder:
        """Point the query at the page after `response` (a ListJobsResponse)."""
        self._query._next_page_token = getattr(response, "next_page_token", None) or None
        return self


@dataclass
class EvaluateLabelsRequest:
    """Evaluate one piece of content against 1-10 published label versions (beta)."""

    content: ContentLike
    label_version_ids: list[str]
    threshold: float | None = None
    include_evaluation_report: bool = False
    global_context: str | None = None
    bypass_cache: bool | None = None

    def __post_init__(self) -> None:
        self.content = _one(self.content, "content")
        given = self.label_version_ids
        if not isinstance(given, (str, Iterable)) or isinstance(given, (bytes, bytearray)):
            raise UsageError(f"label_version_ids must be a list of str, got {type(given).__name__}")
        ids = [given] if isinstance(given, str) else list(given)
        if not 1 <= len(ids) <= MAX_LABEL_VERSIONS or not all(isinstance(i, str) and i for i in ids):
            raise UsageError(
                f"label_version_ids must hold 1 to {MAX_LABEL_VERSIONS} non-empty ids, got {len(ids)}; "
                "split larger sets over several calls"
            )
        self.label_version_ids = [check_text(i, f"label_version_ids[{n}]") for n, i in enumerate(ids)]
        self.threshold = _check_threshold(self.threshold)
        if self.global_context is not None:
            check_text(self.global_context, "global_context")
        _check_flag(self.include_evaluation_report, "include_evaluation_report")
        _check_flag(self.bypass_cache, "bypass_cache")

    def to_proto(self) -> labels_pb2.EvaluateLabelsRequest:
        """The `EvaluateLabelsRequest` wire message (pure: no I/O)."""
        assert isinstance(self.content, ContentData)
        pb = labels_pb2.EvaluateLabelsRequest(
            content_data=self.content.to_proto(), label_version_ids=self.label_version_ids
        )
        if self.threshold is not None:
            pb.threshold = self.threshold
        if self.include_evaluation_report:
            pb.include_evaluation_report = True
        if self.global_context is not None:
            pb.global_context = self.global_context
        if self.bypass_cache is not None:
            pb.label_eval_options.CopyFrom(shared_pb2.LabelEvalOptions(bypass_cache=self.bypass_cache))
        return pb
