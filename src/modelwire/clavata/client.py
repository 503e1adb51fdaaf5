"""`ClavataClient` (sync) and `AsyncClavataClient`: the same surface, the same pure parts.

Each method builds its request (pure), makes one transport call (auth, deadline, retries, error
mapping live in `_core`), and shapes the response (pure). The async client differs only by
`await`. Methods take the request positionally or as `request=` (both forms appear in Clavata's
documentation), or a raw generated message.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf import message

from modelwire._core.channel import ChannelOptions, aio_channel, check_interceptors, sync_channel
from modelwire._core.config import check_timeout, resolve_endpoint, resolve_secret
from modelwire._core.errors import ConfigurationError, UsageError
from modelwire._core.paging import AsyncPager, Pager, PageToken
from modelwire._core.pickling import carried
from modelwire._core.retry import DEFAULT_RETRY, RetryPolicy
from modelwire._core.streams import AnyAsyncStream, SyncStream
from modelwire._core.transport import DEFAULT, AsyncTransport, CallSettings, SyncTransport
from modelwire._gen.clavata.gateway.v1 import gateway_pb2
from modelwire._version import __version__
from modelwire.clavata import _ops
from modelwire.clavata.errors import ClavataError, refusal_from
from modelwire.clavata.requests import (
    CreateJobRequest,
    EvaluateLabelsRequest,
    EvaluateOneRequest,
    EvaluateRequest,
    GetJobRequest,
    ListJobsQuery,
)
from modelwire.clavata.types import (
    EvaluateLabelsResponse,
    EvaluateOneResponse,
    EvaluateResponse,
    Job,
    ListJobsResponse,
)

DEFAULT_HOST = "gateway.app.clavata.ai"
DEFAULT_PORT = 443
M = TypeVar("M", bound=message.Message)
C = TypeVar("C")
H = TypeVar("H")


class JobTimeoutError(ClavataError, TimeoutError):
    """`wait_for_job` gave up; `job` is the last state seen."""

    def __init__(self, job: Job, waited: float) -> None:
        self.job = job
        super().__init__(
            f"job {job.job_uuid} still {job.status.value} after {waited:.1f}s; wait longer or poll later"
        )


def _build(helper: type[H], build: dict[str, Any]) -> H:
    """The helper made from keyword arguments; a missing or unknown one is a UsageError."""
    try:
        inspect.signature(helper).bind(**build)
    except TypeError as exc:  # only the binding: errors inside the helper keep their own type
        fields = ", ".join(inspect.signature(helper).parameters)
        raise UsageError(f"{helper.__name__}: {exc} (its fields: {fields})") from None
    return helper(**build)


def _as_proto(request: Any, helper: type[Any], proto: type[M], **build: Any) -> M:
    """A request given as the helper, as the generated message, or as keyword arguments."""
    if request is None:
        if not build:
            raise UsageError(f"pass a {helper.__name__} (or its fields as keyword arguments)")
        request = _build(helper, build)
    elif build:
        raise UsageError(f"pass either a {helper.__name__} or keyword arguments, not both")
    if isinstance(request, proto):
        return request
    if isinstance(request, helper):
        return request.to_proto()  # type: ignore[no-any-return]
    raise UsageError(f"expected a {helper.__name__}, got {type(request).__name__}")


def _get_job_proto(request: GetJobRequest | str | Job) -> gateway_pb2.GetJobRequest:
    if isinstance(request, (Job, str)):
        request = GetJobRequest(request if isinstance(request, str) else request.job_uuid)
    return _as_proto(request, GetJobRequest, gateway_pb2.GetJobRequest)


def _list_jobs_proto(request: ListJobsQuery | None, filters: dict[str, Any]) -> gateway_pb2.ListJobsRequest:
    if request is not None and filters:
        raise UsageError("pass either a ListJobsQuery or filter keyword arguments, not both")
    if isinstance(request, gateway_pb2.ListJobsRequest):
        return request
    query = request if request is not None else _build(ListJobsQuery, filters)
    if not isinstance(query, ListJobsQuery):
        raise UsageError(f"expected a ListJobsQuery, got {type(query).__name__}")
    return query.to_proto_request()


def _evaluate_one_proto(
    request: EvaluateOneRequest | None, build: dict[str, Any]
) -> gateway_pb2.CreateJobRequest:
    if request is not None and build:
        raise UsageError("pass either an EvaluateOneRequest or keyword arguments, not both")
    one = request if request is not None else _build(EvaluateOneRequest, build)
    if not isinstance(one, EvaluateOneRequest):
        raise UsageError(f"expected an EvaluateOneRequest, got {type(one).__name__}")
    return one.to_create_job().to_proto()


def _per_call(timeout: Any, what: str = "timeout") -> Any:
    """A per-call timeout checked now (the transport checks it only when the call is made, which
    for a lazy pager is its first page): DEFAULT (the client's), None or positive seconds."""
    return timeout if timeout is DEFAULT else check_timeout(timeout, what=what)


def _job(response: gateway_pb2.CreateJobResponse | gateway_pb2.GetJobResponse) -> Job:
    return Job.from_proto(response.job)


_JOB_PAGES = PageToken(items_field="jobs")


class _Polling:
    """Delays between polls of a job: 50 ms doubling to 1 s, within an overall timeout."""

    def __init__(self, timeout: float | None) -> None:
        self.start = time.monotonic()
        self.timeout = check_timeout(timeout)  # None: poll until the job finishes
        self._delay = 0.05

    def next_delay(self, job: Job) -> float:
        """Seconds to wait before polling again; raises JobTimeoutError when out of time."""
        waited = time.monotonic() - self.start
        delay, self._delay = self._delay, min(self._delay * 2, 1.0)
        if self.timeout is None:
            return delay
        if waited >= self.timeout:
            raise JobTimeoutError(job, waited)
        return min(delay, self.timeout - waited)


class _Beta(Generic[C]):
    """`client.beta.evaluate_labels(...)`, as in the published SDK."""

    def __init__(self, client: C) -> None:
        self._client = client

    def evaluate_labels(self, request: EvaluateLabelsRequest | None = None, **kwargs: Any) -> Any:
        return self._client.evaluate_labels(request, **kwargs)  # type: ignore[attr-defined]


class _ClavataBase:
    """Configuration shared by both clients: endpoint, credentials, call settings."""

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        auth_token: str | None = None,
        secure: bool | None = None,
        timeout: float | None = 60.0,
        retry: RetryPolicy | None = None,
        channel_options: ChannelOptions = (),
        credentials: grpc.ChannelCredentials | None = None,
        interceptors: Sequence[Any] | None = None,
    ) -> None:
        """A client of the Clavata gateway; every argument falls back to the environment, then a default.

        Args:
            host: The gateway's host (`CLAVATA_HOST`, or the host of `CLAVATA_EMULATOR_HOST`;
                default `gateway.app.clavata.ai`).
            port: Its port (`CLAVATA_PORT`; default 443).
            auth_token: The API key (`CLAVATA_API_KEY`).
            secure: TLS (the default) or plaintext; None: plaintext only for the emulator variable or a
                loopback host.
            timeout: Seconds per call, retries included (None: no deadline); overridable per call.
            retry: The retry policy (`RetryPolicy()` by default; `NO_RETRY` disables retries).
            channel_options: gRPC channel options, passed through.
            credentials: gRPC channel credentials (custom CAs, mTLS), passed through.
            interceptors: gRPC client interceptors: `grpc.*ClientInterceptor`s for ClavataClient,
                `grpc.aio` ones for AsyncClavataClient (see docs/observability.md).

        Raises:
            ConfigurationError: No key was given or found, or an argument is malformed.
        """
        self.endpoint = resolve_endpoint(
            host=host,
            port=port,
            secure=secure,
            provider="CLAVATA",
            default_host=DEFAULT_HOST,
            default_port=DEFAULT_PORT,
        )
        self._token = resolve_secret(
            auth_token, "CLAVATA_API_KEY", what="Clavata API key", how="pass auth_token='...'"
        )
        self._settings = CallSettings(
            metadata=(
                ("authorization", f"Bearer {self._token.reveal()}"),
                ("x-clavata-client", f"modelwire:{__version__}"),
            ),
            timeout=check_timeout(timeout, error=ConfigurationError),
            retry=retry or DEFAULT_RETRY,
            secrets=(self._token,),
            specializers=(refusal_from,),
        )
        self._channel_options = channel_options
        self._credentials = credentials
        self._interceptors = check_interceptors(interceptors, aio=self._aio)
        self._open()

    _aio = False  # which kind of gRPC interceptors the client takes

    def _open(self) -> None:
        """Set up the transport (each client's own kind). The constructor stays the base's, so
        both clients show clavata-sdk's keyword arguments (`host=`, `port=`, `auth_token=`,
        `secure=`) plus ours to `inspect.signature` and IDEs."""
        raise NotImplementedError

    @classmethod
    def create(cls, auth_token: str | None = None, **kwargs: Any) -> Any:
        """A client for the production gateway (or CLAVATA_EMULATOR_HOST); key from CLAVATA_API_KEY."""
        return cls(auth_token=auth_token, **kwargs)

    def __repr__(self) -> str:
        name, endpoint = type(self).__name__, self.endpoint
        return f"{name}(target={endpoint.target!r}, secure={endpoint.secure}, auth_token='***')"

    # A pickled client carries its configuration, never a channel: the copy opens its own on the
    # other side (a Ray worker, a multiprocessing child). The key travels as the client holds it.
    _CONNECTED = ("_t", "beta")

    def __getstate__(self) -> dict[str, Any]:
        """The client's configuration for pickling (endpoint, key, call settings), without its channel.

        Its `interceptors=` go along (the copy's channel uses them), so they must pickle.

        Raises:
            UsageError: The client was built with `credentials=` (gRPC channel credentials cannot be
                pickled), or with interceptors that do not pickle: build the client where it is
                used instead.
        """
        if self.__dict__.get("_credentials") is not None:
            raise UsageError(
                f"a {type(self).__name__} built with credentials= cannot be pickled (gRPC channel "
                "credentials are not picklable): build the client where it is used, e.g. in a Ray "
                "operator's constructor"
            )
        carried(self.__dict__.get("_interceptors"), client=type(self).__name__, what="interceptors=")
        return {k: v for k, v in self.__dict__.items() if k not in self._CONNECTED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the configuration and connect anew (channels are opened lazily, on first call)."""
        self.__dict__.update(state)
        self._open()


class ClavataClient(_ClavataBase):
    """Synchronous Clavata client. Thread-safe; close it (or use `with`) when done."""

    def _open(self) -> None:
        channel = sync_channel(
            self.endpoint,
            options=self._channel_options,
            credentials=self._credentials,
            interceptors=self._interceptors,
        )
        self._t = SyncTransport(channel, self._settings)
        self.beta: _Beta[ClavataClient] = _Beta(self)

    @classmethod
    def create(cls, auth_token: str | None = None, **kwargs: Any) -> ClavataClient:
        """A client for the production gateway (or `CLAVATA_EMULATOR_HOST` when set).

        Args:
            auth_token: The API key; `CLAVATA_API_KEY` when omitted.
            **kwargs: Any other constructor argument (`host=`, `port=`, `secure=`, `timeout=`,
                `retry=`, `channel_options=`, `credentials=`).

        Returns:
            A new `ClavataClient`.

        Raises:
            ConfigurationError: No key was given or found, or the endpoint is malformed.
        """
        return cls(auth_token=auth_token, **kwargs)

    def evaluate(
        self,
        request: EvaluateRequest | None = None,
        *,
        message_timeout: float | None = None,
        stream_timeout: float | None = DEFAULT,
        **build: Any,
    ) -> SyncStream[EvaluateResponse]:
        """Stream one EvaluateResponse per piece of content, as each completes.

        Iterate it (`for r in ...`; `async for` works too). Leaving early cancels the call; use
        `with` or `.close()` when you keep a reference. `stream_timeout` bounds the whole stream,
        `message_timeout` the wait for each message.
        """
        pb = _as_proto(request, EvaluateRequest, gateway_pb2.EvaluateRequest, **build)
        return self._t.stream(
            _ops.EVALUATE,
            pb,
            EvaluateResponse.from_proto,
            timeout=stream_timeout,
            message_timeout=message_timeout,
        )

    def evaluate_one(
        self, request: EvaluateOneRequest | None = None, *, timeout: float | None = DEFAULT, **build: Any
    ) -> EvaluateOneResponse:
        """Evaluate one piece of content as a job; `report` is None if the job has no result yet."""
        response = self._t.unary(_ops.CREATE_JOB, _evaluate_one_proto(request, build), timeout=timeout)
        return EvaluateOneResponse.from_job(_job(response))

    def create_job(
        self, request: CreateJobRequest | None = None, *, timeout: float | None = DEFAULT, **build: Any
    ) -> Job:
        """Create a job; returns it PENDING unless the request waits for completion."""
        pb = _as_proto(request, CreateJobRequest, gateway_pb2.CreateJobRequest, **build)
        return _job(self._t.unary(_ops.CREATE_JOB, pb, timeout=timeout))

    def get_job(self, request: GetJobRequest | str | Job, *, timeout: float | None = DEFAULT) -> Job:
        """A job with its results, by GetJobRequest, job uuid or Job."""
        return _job(self._t.unary(_ops.GET_JOB, _get_job_proto(request), timeout=timeout))

    def wait_for_job(self, job: Job | str, *, timeout: float | None = 60.0) -> Job:
        """Poll until the job is COMPLETED, FAILED or CANCELED; JobTimeoutError after `timeout`
        seconds (None: no limit)."""
        polling = _Polling(timeout)
        current = self.get_job(job)
        while not current.status.finished:
            time.sleep(polling.next_delay(current))
            current = self.get_job(current)
        return current

    def list_jobs(
        self,
        request: ListJobsQuery | None = None,
        *,
        max_items: int | None = None,
        timeout: float | None = DEFAULT,
        **filters: Any,
    ) -> Pager[Job, ListJobsResponse]:
        """Every job matching the query, fetched lazily page by page.

        Iterate for jobs, or `.pages()` for ListJobsResponse pages. Filters: a ListJobsQuery, or
        its fields as keywords (status=, policy_id=, created_time_range=, page_size=, ...).
        """
        per_page = _per_call(timeout)  # checked now, not at the first page
        return Pager(
            lambda pb: self._t.unary(_ops.LIST_JOBS, pb, timeout=per_page),
            _list_jobs_proto(request, filters),
            _JOB_PAGES,
            shape_item=Job.from_proto,
            shape_page=ListJobsResponse.shape,
            max_items=max_items,
        )

    def evaluate_labels(
        self, request: EvaluateLabelsRequest | None = None, *, timeout: float | None = DEFAULT, **build: Any
    ) -> EvaluateLabelsResponse:
        """Evaluate one piece of content against 1-10 label versions (beta)."""
        pb = _as_proto(request, EvaluateLabelsRequest, _ops.EVALUATE_LABELS.request_type, **build)
        return EvaluateLabelsResponse.from_proto(self._t.unary(_ops.EVALUATE_LABELS, pb, timeout=timeout))

    def close(self) -> None:
        """Close the channel. Calls made afterwards raise `ClientClosedError`; closing twice is harmless."""
        self._t.close()

    def __enter__(self) -> ClavataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Evaluate streams of at least this many items are read by a thread (see AsyncClavataClient.evaluate).
# Measured here: a thread start costs ~115 us of CPU, the reader saves ~15 us per message against
# grpc.aio (54 -> 40 us), so it pays from ~8 items; 16 leaves a margin.
THREADED_STREAM_ITEMS = 16


class AsyncClavataClient(_ClavataBase):
    """Asyncio Clavata client: the same methods as ClavataClient, awaited.

    `evaluate` returns an async stream directly (`async for r in client.evaluate(...)`);
    `list_jobs` returns an async pager that can also be awaited for its first page.
    """

    _aio = True

    def _open(self) -> None:
        self._t = AsyncTransport(
            lambda: aio_channel(
                self.endpoint,
                options=self._channel_options,
                credentials=self._credentials,
                interceptors=self._interceptors,
            ),
            self._settings,
            reader_channel_factory=lambda: sync_channel(
                self.endpoint,
                options=self._channel_options,
                credentials=self._credentials,
                interceptors=self._interceptors,  # its sync ones, for threaded streams
            ),
        )
        self.beta: _Beta[AsyncClavataClient] = _Beta(self)

    @classmethod
    def create(cls, auth_token: str | None = None, **kwargs: Any) -> AsyncClavataClient:
        """Async twin of `ClavataClient.create`: an `AsyncClavataClient` for the production gateway.

        Args:
            auth_token: The API key; `CLAVATA_API_KEY` when omitted.
            **kwargs: Any other constructor argument, as for `ClavataClient`.

        Raises:
            ConfigurationError: No key was given or found, or the endpoint is malformed.
        """
        return cls(auth_token=auth_token, **kwargs)

    async def connect(self) -> None:
        """Open the channel now rather than on the first call (optional)."""
        _ = self._t.channel

    def evaluate(
        self,
        request: EvaluateRequest | None = None,
        *,
        message_timeout: float | None = None,
        stream_timeout: float | None = DEFAULT,
        **build: Any,
    ) -> AnyAsyncStream[EvaluateResponse]:
        """Stream one EvaluateResponse per piece of content (`async for`; `aclose()` or leaving
        early cancels the call). Requests of THREADED_STREAM_ITEMS items or more are read by a
        thread on a sync channel and handed to the loop in batches (less CPU per message than
        grpc.aio); shorter ones are read on the loop."""
        pb = _as_proto(request, EvaluateRequest, gateway_pb2.EvaluateRequest, **build)
        return self._t.stream(
            _ops.EVALUATE,
            pb,
            EvaluateResponse.from_proto,
            timeout=stream_timeout,
            message_timeout=message_timeout,
            threaded=len(pb.content_data) >= THREADED_STREAM_ITEMS,
        )

    async def evaluate_one(
        self, request: EvaluateOneRequest | None = None, *, timeout: float | None = DEFAULT, **build: Any
    ) -> EvaluateOneResponse:
        """Async twin of `ClavataClient.evaluate_one`: one piece of content evaluated as a job.

        Args:
            request: An `EvaluateOneRequest`, or its fields as keyword arguments (`content=`,
                `policy_id=`, ...).
            timeout: Seconds for the call, retries included (the client's `timeout` by default).

        Returns:
            The `EvaluateOneResponse`; its `report` is None while the job has no result yet.

        Raises:
            UsageError: The request is malformed (raised before sending).
            EvaluationRefusedError: The service refused the content.
            ApiError: The call failed (a subclass per gRPC code).
        """
        response = await self._t.unary(_ops.CREATE_JOB, _evaluate_one_proto(request, build), timeout=timeout)
        return EvaluateOneResponse.from_job(_job(response))

    async def create_job(
        self, request: CreateJobRequest | None = None, *, timeout: float | None = DEFAULT, **build: Any
    ) -> Job:
        """Async twin of `ClavataClient.create_job`: create an evaluation job.

        Args:
            request: A `CreateJobRequest` (or the generated message), or its fields as keyword arguments.
            timeout: Seconds for the call, retries included (the client's `timeout` by default).

        Returns:
            The `Job`, PENDING unless the request sets `wait_for_completion=True`.

        Raises:
            UsageError: The request is malformed (raised before sending).
            ApiError: The call failed; a write whose outcome is unknown has `outcome_unknown=True`.
        """
        pb = _as_proto(request, CreateJobRequest, gateway_pb2.CreateJobRequest, **build)
        response = await self._t.unary(_ops.CREATE_JOB, pb, timeout=timeout)
        return _job(response)

    async def get_job(self, request: GetJobRequest | str | Job, *, timeout: float | None = DEFAULT) -> Job:
        """Async twin of `ClavataClient.get_job`: a job with its results.

        Args:
            request: A `GetJobRequest`, a job uuid or a `Job`.
            timeout: Seconds for the call, retries included (the client's `timeout` by default).

        Returns:
            The `Job` as the service has it now.

        Raises:
            NotFoundError: No job has that uuid.
            ApiError: The call failed otherwise.
        """
        response = await self._t.unary(_ops.GET_JOB, _get_job_proto(request), timeout=timeout)
        return _job(response)

    async def wait_for_job(self, job: Job | str, *, timeout: float | None = 60.0) -> Job:
        """Async twin of `ClavataClient.wait_for_job`: poll until the job is COMPLETED, FAILED or CANCELED.

        Polls with `asyncio.sleep` between calls (50 ms doubling to 1 s), so the event loop stays free.

        Args:
            job: A `Job` or a job uuid.
            timeout: Seconds to wait in all (None: no limit).

        Returns:
            The finished `Job`.

        Raises:
            JobTimeoutError: The job had not finished after `timeout` seconds (its `job` is the last state).
            ApiError: A poll failed.
        """
        polling = _Polling(timeout)
        current = await self.get_job(job)
        while not current.status.finished:
            await asyncio.sleep(polling.next_delay(current))
            current = await self.get_job(current)
        return current

    def list_jobs(
        self,
        request: ListJobsQuery | None = None,
        *,
        max_items: int | None = None,
        timeout: float | None = DEFAULT,
        **filters: Any,
    ) -> AsyncPager[Job, ListJobsResponse]:
        """Async twin of `ClavataClient.list_jobs`: every matching job, fetched lazily page by page.

        Returns an `AsyncPager` at once (no call is made until it is read): `async for job in ...`
        for jobs, `.pages()` for `ListJobsResponse` pages, or `await` it for the first page.

        Args:
            request: A `ListJobsQuery`, or None and its fields as keyword arguments (`status=`,
                `policy_id=`, `created_time_range=`, `page_size=`, ...).
            max_items: Stop after this many jobs (None: all of them).
            timeout: Seconds for each page's call (the client's `timeout` by default).

        Raises:
            UsageError: A filter is malformed (raised at once, not at the first page).
        """
        per_page = _per_call(timeout)
        return AsyncPager(
            lambda pb: self._t.unary(_ops.LIST_JOBS, pb, timeout=per_page),
            _list_jobs_proto(request, filters),
            _JOB_PAGES,
            shape_item=Job.from_proto,
            shape_page=ListJobsResponse.shape,
            max_items=max_items,
        )

    async def evaluate_labels(
        self, request: EvaluateLabelsRequest | None = None, *, timeout: float | None = DEFAULT, **build: Any
    ) -> EvaluateLabelsResponse:
        """Async twin of `ClavataClient.evaluate_labels`: content against 1-10 label versions (beta).

        Args:
            request: An `EvaluateLabelsRequest`, or its fields as keyword arguments.
            timeout: Seconds for the call, retries included (the client's `timeout` by default).

        Returns:
            The `EvaluateLabelsResponse`, one result per label version.

        Raises:
            UsageError: The request is malformed (raised before sending).
            ApiError: The call failed.
        """
        pb = _as_proto(request, EvaluateLabelsRequest, _ops.EVALUATE_LABELS.request_type, **build)
        return EvaluateLabelsResponse.from_proto(
            await self._t.unary(_ops.EVALUATE_LABELS, pb, timeout=timeout)
        )

    async def close(self) -> None:
        """Async twin of `ClavataClient.close`: close the channels; later calls raise `ClientClosedError`."""
        await self._t.close()

    async def __aenter__(self) -> AsyncClavataClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
