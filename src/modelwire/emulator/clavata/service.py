"""The emulated Clavata gateway: GatewayService and LabelsService over the real wire contract.

Evaluation uses the keyword policy engine (`policy.py`); refusals come from the prechecks
(`prechecks.py`) as FAILED_PRECONDITION with PrecheckFailure details, like the real gateway.
Jobs persist in SQLite and move PENDING -> RUNNING -> COMPLETED on a worker pool; completed jobs
with a webhook are POSTed (signed, retried) to loopback listeners.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import grpc

from modelwire._core.config import is_loopback
from modelwire._core.errors import detail_any, grpc_status
from modelwire._gen.clavata.gateway.v1 import (
    errs_pb2,
    gateway_pb2,
    gateway_pb2_grpc,
    labels_pb2,
    labels_pb2_grpc,
)
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire._gen.google.protobuf import timestamp_pb2
from modelwire._gen.google.rpc import status_pb2
from modelwire.emulator.clavata import policy as engine
from modelwire.emulator.clavata.prechecks import ContentFetchError, fetch_url, precheck, precheck_image_bytes
from modelwire.emulator.clavata.webhooks import WebhookDispatcher
from modelwire.emulator.ids import uuid4_str
from modelwire.emulator.store import Store

log = logging.getLogger("modelwire.emulator")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS clavata_jobs (
        job_uuid TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        policy_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        created_ns INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL,
        completed_ns INTEGER,
        job BLOB NOT NULL,
        request BLOB
    )""",
    "CREATE INDEX IF NOT EXISTS clavata_jobs_listing ON clavata_jobs (customer_id, created_ns, job_uuid)",
]
T = TypeVar("T")
_TERMINAL = (public_pb2.JOB_STATUS_COMPLETED, public_pb2.JOB_STATUS_FAILED, public_pb2.JOB_STATUS_CANCELED)


class _Abort(Exception):
    """Raised inside request handling; turned into a gRPC status by the servicer."""

    def __init__(self, code: grpc.StatusCode, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []

    def send(self, context: grpc.ServicerContext) -> NoReturn:
        status = status_pb2.Status(
            code=self.code.value[0], message=self.message, details=[detail_any(d) for d in self.details]
        )
        context.abort_with_status(grpc_status(status))
        raise AssertionError("unreachable")  # abort_with_status always raises


def _ts(ns: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(ns)
    return ts


def _add_result(
    job: public_pb2.Job, report: public_pb2.PolicyEvaluationReport, created_ns: int | None = None
) -> public_pb2.PolicyEvaluationReport:
    # Field by field: a quarter cheaper than add()'s keyword arguments, with the same result.
    result = job.results.add()
    result.uuid = uuid4_str()
    result.job_uuid = job.job_uuid
    result.content_hash = report.content_hash
    result.report.CopyFrom(report)
    # In place: no Timestamp to build and copy (what FromNanoseconds sets, for a time of today).
    created = result.created
    created.seconds, created.nanos = divmod(
        time.time_ns() if created_ns is None else created_ns, 1_000_000_000
    )
    return report


def customer_id_for(api_key: str) -> str:
    return "cust-" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


class ClavataEmulator:
    """State and behaviour of the emulated Clavata gateway (one per Emulator)."""

    def __init__(
        self,
        *,
        store: Store,
        policies: engine.PolicyBook,
        api_key: str,
        job_delay: float = 0.0,
        webhook_attempts: int = 5,
        webhook_backoff: float = 0.2,
        content_dirs: Sequence[Path] = (),
    ) -> None:
        self.store = store
        self.content_dirs = tuple(content_dirs)  # where image_url may name file:// content
        self.policies = policies
        self._api_key = api_key
        self.customer_id = customer_id_for(api_key)
        self.job_delay = job_delay
        self.webhooks = WebhookDispatcher(secret=api_key, attempts=webhook_attempts, backoff=webhook_backoff)
        self._runner = ThreadPoolExecutor(max_workers=4, thread_name_prefix="clavata-jobs")
        self._closed = threading.Event()
        store.migrate(_SCHEMA)
        self._labels = self._label_index()
        self._resume_unfinished()

    # -- wiring -----------------------------------------------------------------------------

    def authenticate(self, metadata: Mapping[str, str]) -> str | None:
        """None when the call carries this emulator's key as `authorization: Bearer <key>`."""
        value = metadata.get("authorization")
        if not value:
            return "missing authorization metadata: send 'authorization: Bearer <API key>'"
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "authorization must be 'Bearer <API key>'"
        if token.strip() != self._api_key:
            return "invalid API key"
        return None

    def register(self, server: grpc.Server) -> None:
        gateway_pb2_grpc.add_GatewayServiceServicer_to_server(_Gateway(self), server)
        labels_pb2_grpc.add_LabelsServiceServicer_to_server(_Labels(self), server)

    def close(self) -> None:
        # Running jobs see _closed and finish quickly; wait for them so none writes to a closed store.
        self._closed.set()
        self._runner.shutdown(wait=True, cancel_futures=True)
        self.webhooks.close()

    # -- content -------------------------------------------------------------------------------

    def _policy(self, policy_id: str) -> engine.Policy:
        if not policy_id:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "policy_id is required")
        try:
            return self.policies.get(policy_id)
        except engine.UnknownPolicyError as exc:
            raise _Abort(grpc.StatusCode.NOT_FOUND, str(exc)) from None

    @staticmethod
    def _threshold(request: Any, policy: engine.Policy) -> float:
        if not request.HasField("threshold"):
            return policy.threshold
        if not 0.0 <= request.threshold <= 1.0:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"threshold must be in [0, 1], got {request.threshold}"
            )
        return float(request.threshold)

    def _check_contents(self, contents: Any) -> list[public_pb2.ContentData]:
        """Validate and precheck every item; refuse them all together, as the gateway does."""
        if not contents:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "content_data is required: send at least one item")
        failures: list[errs_pb2.PrecheckFailure] = []
        for index, content in enumerate(contents):
            kind = content.WhichOneof("content")
            if kind is None:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"content_data[{index}] has no content: set text, image, image_url, video or audio_url",
                )
            failure = None
            if kind == "image":
                failure = precheck(content, self.policies.blocklist)
            elif kind == "image_url":
                try:
                    data = fetch_url(content.image_url, file_roots=self.content_dirs)
                except ContentFetchError as exc:
                    raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"content_data[{index}]: {exc}") from None
                failure = precheck_image_bytes(
                    data, self.policies.blocklist, details_hash=engine.content_hash(content)
                )
            if failure is not None:
                failures.append(failure)
        if failures:
            raise _Abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{len(failures)} of {len(contents)} content item(s) refused by prechecks",
                list(failures),
            )
        return list(contents)

    # -- jobs ------------------------------------------------------------------------------------

    def _new_job(
        self,
        policy: engine.Policy,
        threshold: float,
        contents: list[public_pb2.ContentData],
        hashes: Sequence[str],
    ) -> public_pb2.Job:
        now = _ts(time.time_ns())
        job = public_pb2.Job(
            job_uuid=uuid4_str(),
            customer_id=self.customer_id,
            status=public_pb2.JOB_STATUS_PENDING,
            threshold=threshold,
            policy_id=policy.id,
            policy_version_id=policy.version_id,
            job_type=public_pb2.JOB_TYPE_STANDARD,
        )
        job.metadata.customer_id = self.customer_id
        job.metadata.threshold = threshold
        job.created.CopyFrom(now)
        job.updated.CopyFrom(now)
        for content, hashed in zip(contents, hashes, strict=True):
            entry = job.content_data.add(content_hash=hashed)
            if content.metadata:  # an empty map passed as an argument still costs its copy
                entry.metadata.update(content.metadata)
        return job

    def _save(self, job: public_pb2.Job, request: bytes | None = None) -> None:
        completed = job.completed.ToNanoseconds() if job.HasField("completed") else None
        self.store.execute(
            """INSERT INTO clavata_jobs (job_uuid, customer_id, policy_id, status, created_ns, updated_ns,
                   completed_ns, job, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(job_uuid) DO UPDATE SET status=excluded.status, updated_ns=excluded.updated_ns,
                   completed_ns=excluded.completed_ns, job=excluded.job,
                   request=COALESCE(excluded.request, clavata_jobs.request)""",
            (
                job.job_uuid,
                job.customer_id,
                job.policy_id,
                job.status,
                job.created.ToNanoseconds(),
                job.updated.ToNanoseconds(),
                completed,
                job.SerializeToString(),
                request,
            ),
        )

    def _set_status(self, job: public_pb2.Job, status: int) -> None:
        now = time.time_ns()
        job.status = status  # type: ignore[assignment]
        job.updated.CopyFrom(_ts(now))
        if status in _TERMINAL:
            job.completed.CopyFrom(_ts(now))
        self._save(job)

    def _evaluate_into(
        self, job: public_pb2.Job, policy: engine.Policy, contents: list[public_pb2.ContentData]
    ) -> None:
        # The job lists each content's hash already: the engine need not hash it again.
        for content, item in zip(contents, job.content_data, strict=True):
            _add_result(job, engine.evaluate(policy, content, job.threshold, hashed=item.content_hash))

    def create_job(self, request: gateway_pb2.CreateJobRequest) -> public_pb2.Job:
        policy = self._policy(request.policy_id)
        threshold = self._threshold(request, policy)
        if request.HasField("webhook"):
            self._check_webhook(request.webhook.url)
        contents = self._check_contents(request.content_data)
        job = self._new_job(policy, threshold, contents, [engine.content_hash(c) for c in contents])
        if request.wait_for_completion:
            self._evaluate_into(job, policy, contents)
            self._set_status(job, public_pb2.JOB_STATUS_COMPLETED)
            self._notify(job, request)
            return job
        self._save(job, request.SerializeToString())
        self._runner.submit(self._run_job, job.job_uuid)
        return job

    def _run_job(self, job_uuid: str) -> None:
        row = self.store.one("SELECT job, request FROM clavata_jobs WHERE job_uuid = ?", (job_uuid,))
        if row is None or self._closed.is_set():
            return
        job = public_pb2.Job.FromString(row["job"])
        request = gateway_pb2.CreateJobRequest.FromString(row["request"])
        try:  # a job interrupted by close() stays RUNNING in a file store and resumes on restart
            self._set_status(job, public_pb2.JOB_STATUS_RUNNING)
            if self.job_delay and self._closed.wait(self.job_delay):
                return
            self._evaluate_into(job, self.policies.get(job.policy_id), list(request.content_data))
            self._set_status(job, public_pb2.JOB_STATUS_COMPLETED)
        except Exception:  # a failed evaluation fails the job, like the real service
            log.exception("clavata emulator: job %s failed", job_uuid)
            del job.results[:]
            self._set_status(job, public_pb2.JOB_STATUS_FAILED)
        self._notify(job, request)

    def _resume_unfinished(self) -> None:
        """Jobs left PENDING/RUNNING by a previous run of a file-backed emulator run again."""
        rows = self.store.query(
            "SELECT job_uuid FROM clavata_jobs WHERE status IN (?, ?) AND request IS NOT NULL",
            (public_pb2.JOB_STATUS_PENDING, public_pb2.JOB_STATUS_RUNNING),
        )
        for row in rows:
            self._runner.submit(self._run_job, row["job_uuid"])

    def _check_webhook(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"webhook url must be an absolute https URL, got {url!r}"
            )
        if not is_loopback(parts.hostname):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the emulator delivers webhooks only to loopback addresses (got {parts.hostname!r}); "
                "point the webhook at a local listener such as http://127.0.0.1:<port>/hook",
            )

    def _notify(self, job: public_pb2.Job, request: gateway_pb2.CreateJobRequest) -> None:
        if request.HasField("webhook"):
            self.webhooks.deliver(job, request.webhook.url, dict(request.webhook.extra_headers))

    def get_job(self, job_uuid: str) -> public_pb2.Job:
        if not job_uuid:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "job_uuid is required")
        row = self.store.one(
            "SELECT job FROM clavata_jobs WHERE job_uuid = ? AND customer_id = ?",
            (job_uuid, self.customer_id),
        )
        if row is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"job {job_uuid!r} not found")
        return public_pb2.Job.FromString(row["job"])

    # -- listing -----------------------------------------------------------------------------------

    def list_jobs(self, request: gateway_pb2.ListJobsRequest) -> gateway_pb2.ListJobsResponse:
        if request.page_size < 0:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"page_size must be >= 0, got {request.page_size}")
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        query = request.query
        fingerprint = hashlib.sha256(query.SerializeToString(deterministic=True)).hexdigest()[:16]
        where: list[str] = ["customer_id = ?"]
        params: list[object] = [self.customer_id]
        if query.status:
            where.append("status = ?")
            params.append(query.status)
        if query.HasField("policy_id"):
            where.append("policy_id = ?")
            params.append(query.policy_id)
        for name, column in (
            ("created_time_range", "created_ns"),
            ("updated_time_range", "updated_ns"),
            ("completed_time_range", "completed_ns"),
        ):
            if query.HasField(name):  # type: ignore[arg-type]
                clause, values = _range_clause(getattr(query, name), column, f"query.{name}")
                where += clause
                params += values
        if request.page_token:
            created, last_uuid = _read_token(request.page_token, fingerprint)
            where.append("(created_ns < ? OR (created_ns = ? AND job_uuid < ?))")
            params += [created, created, last_uuid]
        rows = self.store.query(
            f"SELECT job, created_ns, job_uuid FROM clavata_jobs WHERE {' AND '.join(where)} "
            "ORDER BY created_ns DESC, job_uuid DESC LIMIT ?",
            [*params, size + 1],  # one extra row tells whether another page exists
        )
        response = gateway_pb2.ListJobsResponse(
            jobs=[public_pb2.Job.FromString(r["job"]) for r in rows[:size]]
        )
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = _make_token(last["created_ns"], last["job_uuid"], fingerprint)
        return response

    # -- labels ------------------------------------------------------------------------------------

    def _label_index(self) -> dict[str, tuple[engine.Policy, engine.Section, str, str]]:
        """Every policy section is also a label: by version uuid, by "policy:label", by label name."""
        index: dict[str, tuple[engine.Policy, engine.Section, str, str]] = {}
        for pol in self.policies:
            for section in pol.sections:
                label_id = f"{pol.id}:{section.label}"
                version = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{pol.version_id}/{section.label}"))
                entry = (pol, section, label_id, version)
                index[version] = index[label_id.lower()] = entry
                index.setdefault(section.label.lower(), entry)
        return index

    def evaluate_labels(self, request: labels_pb2.EvaluateLabelsRequest) -> labels_pb2.EvaluateLabelsResponse:
        if not 1 <= len(request.label_version_ids) <= 10:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"label_version_ids must hold 1 to 10 ids, got {len(request.label_version_ids)}",
            )
        (content,) = self._check_contents([request.content_data])
        response = labels_pb2.EvaluateLabelsResponse(content_hash=engine.content_hash(content))
        job_uuid = uuid4_str()
        for requested in request.label_version_ids:
            result = response.results.add(label_version_id=requested, job_uuid=job_uuid)
            entry = self._labels.get(requested) or self._labels.get(requested.lower())
            if entry is None:
                result.error = f"label version {requested!r} not found"
                continue
            pol, section, label_id, version = entry
            result.label_id, result.label_version_id = label_id, version
            threshold = request.threshold if request.HasField("threshold") else pol.threshold
            report = engine.evaluate(pol, content, threshold)
            section_report = next(s for s in report.section_evaluation_reports if s.name == section.label)
            evaluation = result.evaluation
            evaluation.score = section_report.review_result.score
            evaluation.outcome = section_report.review_result.outcome
            evaluation.threshold = threshold
            if request.include_evaluation_report:
                del report.section_evaluation_reports[:]
                report.section_evaluation_reports.append(section_report)
                evaluation.report.CopyFrom(report)
        return response

    # -- streaming evaluation ------------------------------------------------------------------------

    def evaluate(
        self, request: gateway_pb2.EvaluateRequest, context: grpc.ServicerContext
    ) -> Iterator[gateway_pb2.EvaluateResponse]:
        policy = self._policy(request.policy_id)
        threshold = self._threshold(request, policy)
        contents = self._check_contents(request.content_data)
        hashes = [engine.content_hash(c) for c in contents]  # hashed once: for the job and the reports
        job = self._new_job(policy, threshold, contents, hashes)
        self._set_status(job, public_pb2.JOB_STATUS_RUNNING)
        # Each streamed response and when it was sent: the job's results, added when the stream
        # ends (until then the job is stored without results anyway).
        sent: list[tuple[gateway_pb2.EvaluateResponse, int]] = []
        try:
            for start, end in _runs(len(contents)):
                responses, failure = _evaluate_all(
                    job.job_uuid, policy, contents[start:end], hashes[start:end], threshold
                )
                for response in responses:
                    if not context.is_active():
                        return
                    sent.append((response, time.time_ns()))
                    yield response
                if failure is not None:
                    raise failure
        finally:
            for response, created_ns in sent:
                _add_result(job, response.policy_evaluation_report, created_ns)
            done = len(sent) == len(contents)
            self._set_status(job, public_pb2.JOB_STATUS_COMPLETED if done else public_pb2.JOB_STATUS_CANCELED)


# Items a stream evaluates before it sends them: the engine runs over several items in a row,
# with warm caches, instead of alternating with gRPC's work for every message (about a fifth of
# the emulator's CPU per streamed item; runs of 64 cost ~3% less than runs of 16). The first run
# is short, so the first message still leaves at once.
_FIRST_RUN, _RUN = 8, 64


def _runs(count: int) -> list[tuple[int, int]]:
    """(start, end) of the runs of items evaluated together: 8, then 64 at a time."""
    return list(itertools.pairwise([0, *range(min(_FIRST_RUN, count), count, _RUN), count]))


def _evaluate_all(
    job_uuid: str,
    policy: engine.Policy,
    contents: Sequence[public_pb2.ContentData],
    hashes: Sequence[str],
    threshold: float,
) -> tuple[list[gateway_pb2.EvaluateResponse], Exception | None]:
    """The responses for `contents` up to the first that fails, and that failure (None if none):
    the items before a failure are still streamed, as when each was evaluated just before its send."""
    responses: list[gateway_pb2.EvaluateResponse] = []
    try:
        for content, hashed in zip(contents, hashes, strict=True):
            response = gateway_pb2.EvaluateResponse(job_uuid=job_uuid, content_hash=hashed)
            # Evaluated into the response: the report is not built apart and then copied in.
            engine.evaluate(policy, content, threshold, hashed=hashed, into=response.policy_evaluation_report)
            responses.append(response)
    except Exception as exc:
        return responses, exc
    return responses, None


# google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def _nanoseconds(ts: timestamp_pb2.Timestamp, where: str) -> int:
    if not (_MIN_SECONDS <= ts.seconds <= _MAX_SECONDS and 0 <= ts.nanos < 1_000_000_000):
        raise _Abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{where} is not a valid Timestamp (seconds={ts.seconds}, nanos={ts.nanos}): seconds must "
            "be within years 1-9999 and nanos in [0, 999999999]",
        )
    return int(ts.ToNanoseconds())


def _range_clause(time_range: public_pb2.TimeRange, column: str, where: str) -> tuple[list[str], list[int]]:
    clauses: list[str] = []
    values: list[int] = []
    low, high = (">=", "<=") if time_range.inclusive else (">", "<")
    if time_range.HasField("start"):
        clauses.append(f"{column} IS NOT NULL AND {column} {low} ?")
        values.append(_nanoseconds(time_range.start, f"{where}.start"))
    if time_range.HasField("end"):
        clauses.append(f"{column} IS NOT NULL AND {column} {high} ?")
        values.append(_nanoseconds(time_range.end, f"{where}.end"))
    return clauses, values


def _make_token(created_ns: int, job_uuid: str, fingerprint: str) -> str:
    raw = json.dumps({"c": created_ns, "u": job_uuid, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str, fingerprint: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        created, job_uuid, query = int(data["c"]), str(data["u"]), data["q"]
    except (ValueError, KeyError, TypeError):
        raise _Abort(
            grpc.StatusCode.INVALID_ARGUMENT, "page_token is malformed; pass the token from the last response"
        ) from None
    if query != fingerprint:
        raise _Abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_token belongs to a different query; keep the filters unchanged while paging",
        )
    return created, job_uuid


def _unexpected(name: str) -> _Abort:
    # gRPC would answer UNKNOWN with the exception text; keep internals in the log instead.
    log.exception("clavata emulator: %s failed", name)
    return _Abort(grpc.StatusCode.INTERNAL, f"the emulator failed to serve {name}; see its log")


def _unary(name: str, context: Any, call: Callable[[], T]) -> T:
    try:
        return call()
    except _Abort as abort:
        abort.send(context)
    except Exception:
        _unexpected(name).send(context)


class _Gateway(gateway_pb2_grpc.GatewayServiceServicer):
    def __init__(self, emulator: ClavataEmulator) -> None:
        self._e = emulator

    def Evaluate(self, request: Any, context: Any) -> Iterator[gateway_pb2.EvaluateResponse]:
        try:
            yield from self._e.evaluate(request, context)
        except _Abort as abort:
            abort.send(context)
        except Exception:
            _unexpected("Evaluate").send(context)

    def CreateJob(self, request: Any, context: Any) -> gateway_pb2.CreateJobResponse:
        return _unary(
            "CreateJob", context, lambda: gateway_pb2.CreateJobResponse(job=self._e.create_job(request))
        )

    def GetJob(self, request: Any, context: Any) -> gateway_pb2.GetJobResponse:
        return _unary(
            "GetJob", context, lambda: gateway_pb2.GetJobResponse(job=self._e.get_job(request.job_uuid))
        )

    def ListJobs(self, request: Any, context: Any) -> gateway_pb2.ListJobsResponse:
        return _unary("ListJobs", context, lambda: self._e.list_jobs(request))


class _Labels(labels_pb2_grpc.LabelsServiceServicer):
    def __init__(self, emulator: ClavataEmulator) -> None:
        self._e = emulator

    def EvaluateLabels(self, request: Any, context: Any) -> labels_pb2.EvaluateLabelsResponse:
        return _unary("EvaluateLabels", context, lambda: self._e.evaluate_labels(request))
