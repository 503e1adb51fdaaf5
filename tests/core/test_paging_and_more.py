"""Pagers (sync and async) over page-token and page-number strategies; Chunker; wire values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modelwire._core.batching import Chunker, chunked
from modelwire._core.paging import AsyncPager, Page, PageNumber, Pager, PageToken
from modelwire._core.wire import OpenStrEnum, enum_converter, from_timestamp, to_timestamp
from modelwire._gen.clavata.gateway.v1 import gateway_pb2
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire._gen.google.protobuf import timestamp_pb2

JOBS = [public_pb2.Job(job_uuid=f"j{i}") for i in range(7)]


def _token_server(size: int) -> tuple[list[str], object]:
    seen: list[str] = []

    def fetch(request: gateway_pb2.ListJobsRequest) -> gateway_pb2.ListJobsResponse:
        seen.append(request.page_token)
        start = int(request.page_token or 0)
        end = start + size
        return gateway_pb2.ListJobsResponse(
            jobs=JOBS[start:end], next_page_token=str(end) if end < len(JOBS) else ""
        )

    return seen, fetch


def _shape_page(response: object, items: list[str]) -> Page[str]:
    return Page(items, response)


def test_token_pager_is_lazy_and_makes_no_extra_call() -> None:
    seen, fetch = _token_server(3)
    pager: Pager[str, Page[str]] = Pager(
        fetch,
        gateway_pb2.ListJobsRequest(),
        PageToken("jobs"),
        shape_item=lambda j: j.job_uuid,
        shape_page=_shape_page,
    )
    assert seen == []  # nothing fetched until iterated
    assert [j for j in pager] == [f"j{i}" for i in range(7)]
    assert seen == ["", "3", "6"] and pager.calls == 3


def test_max_items_trims_and_stops() -> None:
    seen, fetch = _token_server(3)
    pager: Pager[str, Page[str]] = Pager(
        fetch,
        gateway_pb2.ListJobsRequest(),
        PageToken("jobs"),
        shape_item=lambda j: j.job_uuid,
        shape_page=_shape_page,
        max_items=4,
    )
    assert list(pager) == ["j0", "j1", "j2", "j3"] and len(seen) == 2


async def test_async_pager_iterates_and_awaits_first_page() -> None:
    _, fetch = _token_server(5)

    async def afetch(request: gateway_pb2.ListJobsRequest) -> gateway_pb2.ListJobsResponse:
        return fetch(request)  # type: ignore[operator, no-any-return]

    def make() -> AsyncPager[str, Page[str]]:
        return AsyncPager(
            afetch,
            gateway_pb2.ListJobsRequest(),
            PageToken("jobs"),
            shape_item=lambda j: j.job_uuid,
            shape_page=_shape_page,
        )

    assert [j async for j in make()] == [f"j{i}" for i in range(7)]
    first = await make()
    assert len(first) == 5
    assert [len(p) async for p in make().pages()] == [5, 2]


def test_page_number_strategy_stops_on_short_page_or_known_total() -> None:
    class Req:
        def __init__(self, page: int = 1, per_page: int = 3) -> None:
            self.page, self.per_page = page, per_page

        def CopyFrom(self, other: Req) -> None:
            self.page, self.per_page = other.page, other.per_page

    class Resp:
        def __init__(self, items: list[int], total: int | None = None) -> None:
            self.items, self.total = items, total

    plain = PageNumber(items_field="items")
    assert plain.next_request(Req(1), Resp([1, 2])) is None
    nxt = plain.next_request(Req(1), Resp([1, 2, 3]))
    assert nxt is not None and nxt.page == 2
    with_total = PageNumber(items_field="items", total=lambda r: r.total)
    assert with_total.next_request(Req(2), Resp([4, 5, 6], total=6)) is None  # exactly full: no empty call


def test_chunker_batches_any_iterable() -> None:
    assert Chunker(range(7), 3).chunk() == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked((c for c in "abcd"), 2)) == [["a", "b"], ["c", "d"]]
    assert Chunker([], 5).chunk() == []
    with pytest.raises(ValueError, match="positive"):
        Chunker([1], 0)


def test_timestamps_are_aware_exact_and_none_when_unset() -> None:
    job = public_pb2.Job()
    assert from_timestamp(job, "completed") is None
    moment = datetime(1969, 12, 31, 23, 59, 58, 123456, tzinfo=timezone.utc)  # pre-epoch works
    job.created.CopyFrom(to_timestamp(moment))
    assert from_timestamp(job, "created") == moment
    naive = datetime(2026, 1, 1, 12, 0, 0)
    assert to_timestamp(naive) == timestamp_pb2.Timestamp(
        seconds=int(naive.replace(tzinfo=timezone.utc).timestamp())
    )
    plus_two = datetime(2026, 1, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert to_timestamp(plus_two) == to_timestamp(naive)


def test_unknown_enum_values_do_not_crash() -> None:
    class Outcome(OpenStrEnum):
        UNSPECIFIED = "UNSPECIFIED"
        FALSE = "FALSE"
        TRUE = "TRUE"
        FAILED = "FAILED"

    convert = enum_converter(Outcome, public_pb2.Outcome.DESCRIPTOR, "OUTCOME_")
    assert convert(public_pb2.OUTCOME_TRUE) is Outcome.TRUE
    assert convert(2) == "TRUE"  # str enum: compares equal to the name
    future = convert(9)
    assert future.value == "UNRECOGNIZED_9" and isinstance(future, Outcome)
    assert future != Outcome.TRUE


def test_views_are_read_only_comparable_and_picklable() -> None:
    import pickle

    from modelwire.clavata.types import Job, JobStatus

    pb = public_pb2.Job(job_uuid="j1", status=public_pb2.JOB_STATUS_COMPLETED, threshold=0.5)
    job = Job(pb)
    assert job.status is JobStatus.COMPLETED and job.completed is None
    assert job == Job(public_pb2.Job.FromString(pb.SerializeToString()))
    assert job != Job(public_pb2.Job(job_uuid="j2"))
    assert pickle.loads(pickle.dumps(job)) == job
    assert "job_uuid='j1'" in repr(job) and "COMPLETED" in repr(job)
    with pytest.raises(AttributeError):
        job.status = JobStatus.FAILED  # type: ignore[misc]
