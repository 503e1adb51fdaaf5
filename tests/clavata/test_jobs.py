"""Jobs: create, get, wait, list with pages and filters (sync and async clients)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from modelwire.clavata import (
    AsyncClavataClient,
    CreateJobRequest,
    EvaluateOneRequest,
    GetJobRequest,
    InvalidArgumentError,
    JobStatus,
    JobTimeoutError,
    ListJobsQuery,
    ListJobsQueryBuilder,
    NotFoundError,
    Outcome,
    TimeRange,
    UsageError,
)
from modelwire.emulator import Emulator


def test_create_job_returns_pending_then_completes(client: Any) -> None:
    job = client.create_job(CreateJobRequest(content=["kill", "calm"], policy_id="demo-policy"))
    assert job.status == JobStatus.PENDING
    assert job.results == []
    assert job.completed is None  # unset, not the 1970 epoch
    assert job.created is not None and job.created.tzinfo is not None
    assert all(c.content_hash.startswith("fnv1a128::") for c in job.content_data)

    done = client.wait_for_job(job, timeout=10)
    assert done.status == JobStatus.COMPLETED
    assert [r.report.outcome for r in done.results] == [Outcome.TRUE, Outcome.FALSE]
    assert done.completed is not None and done.completed >= done.created
    assert done.results[0].matches == {"Violence": pytest.approx(0.8)}
    assert client.get_job(GetJobRequest(job.job_uuid)) == done


def test_wait_for_completion_returns_finished_job(client: Any) -> None:
    job = client.create_job(content="attack", policy_id="demo-policy", wait_for_completion=True)
    assert job.status == JobStatus.COMPLETED and len(job.results) == 1
    assert job.policy_id == "demo-policy" and job.policy_version_id
    assert job.threshold == pytest.approx(0.5)


def test_job_status_moves_through_running(client: Any, emulator: Emulator) -> None:
    emulator.clavata.job_delay = 0.5
    try:
        job = client.create_job(content="x", policy_id="demo-policy")
        seen = {job.status}
        while not (current := client.get_job(job.job_uuid)).status.finished:
            seen.add(current.status)
        seen.add(current.status)
    finally:
        emulator.clavata.job_delay = 0.0
    assert {JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED} <= seen


def test_get_unknown_job_is_not_found(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_job("00000000-0000-0000-0000-000000000000")
    assert "not found" in caught.value.message


def _fresh_policy_jobs(client: Any, count: int) -> tuple[str, set[str], datetime]:
    """Create `count` completed jobs on the spam policy, the only jobs in a fresh time window."""
    start = datetime.now(timezone.utc)
    uuids = {
        client.create_job(content=f"job {i}", policy_id="spam-policy", wait_for_completion=True).job_uuid
        for i in range(count)
    }
    return "spam-policy", uuids, start


def test_list_jobs_pages_lazily_with_exact_call_count(client: Any) -> None:
    policy, uuids, start = _fresh_policy_jobs(client, 7)
    window = TimeRange(start=start, end=datetime.now(timezone.utc) + timedelta(seconds=1))
    pager = client.list_jobs(ListJobsQuery(created_time_range=window, policy_id=policy, page_size=3))
    listed = [job.job_uuid for job in pager]
    assert set(listed) == uuids and len(listed) == 7
    assert pager.calls == 3  # ceil(7 / 3): no extra call for an empty page

    pages = list(client.list_jobs(created_time_range=window, policy_id=policy, page_size=3).pages())
    assert [len(p.jobs) for p in pages] == [3, 3, 1]
    assert pages[0].next_page_token and pages[-1].next_page_token is None
    created = [j.created for p in pages for j in p.jobs]
    assert created == sorted(created, reverse=True)  # newest first


def test_list_jobs_filters_by_status(client: Any) -> None:
    pending = client.create_job(content="later", policy_id="harassment-policy")
    completed_only = client.list_jobs(status="COMPLETED", policy_id="harassment-policy", max_items=50)
    assert all(j.status == JobStatus.COMPLETED for j in completed_only)
    client.wait_for_job(pending)
    assert any(j.job_uuid == pending.job_uuid for j in client.list_jobs(status="COMPLETED", page_size=1000))


def test_list_jobs_max_items_stops_early(client: Any) -> None:
    _fresh_policy_jobs(client, 4)
    pager = client.list_jobs(page_size=2, max_items=3)
    assert len(list(pager)) == 3
    assert pager.calls == 2


def test_query_builder_pages_until_the_end(sync_client: Any) -> None:
    policy, uuids, start = _fresh_policy_jobs(sync_client, 5)
    builder = (
        ListJobsQueryBuilder()
        .set_created_time_range(start, datetime.now(timezone.utc) + timedelta(seconds=1))
        .set_policy_id(policy)
        .set_page_size(2)
    )
    seen: list[str] = []
    for _ in range(10):  # the published SDK looped on page 1 forever; bounded here
        page = next(iter(sync_client.list_jobs(builder.build()).pages()))
        seen += [j.job_uuid for j in page.jobs]
        if not page.next_page_token:
            break
        builder = builder.build_next(page)
    assert set(seen) == uuids and len(seen) == 5


async def test_async_list_jobs_is_awaitable_for_the_first_page(emulator: Emulator, api_key: str) -> None:
    async with AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client:
        await client.create_job(
            request=CreateJobRequest(content="a", policy_id="demo-policy", wait_for_completion=True)
        )
        first = await client.list_jobs(request=ListJobsQuery(page_size=1))
        assert len(first.jobs) == 1 and first.next_page_token
        count = 0
        async for _job in client.list_jobs(page_size=2, max_items=3):
            count += 1
        assert count == 3


def test_tampered_page_token_is_rejected(client: Any) -> None:
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2

    with pytest.raises(InvalidArgumentError) as caught:
        list(client.list_jobs(gateway_pb2.ListJobsRequest(page_token="not-a-token")))
    assert "page_token" in caught.value.message


def test_wait_for_job_times_out_with_the_last_state(client: Any, emulator: Emulator) -> None:
    emulator.clavata.job_delay = 2.0
    try:
        job = client.create_job(content="slow", policy_id="demo-policy")
        with pytest.raises(JobTimeoutError) as caught:
            client.wait_for_job(job, timeout=0.3)
    finally:
        emulator.clavata.job_delay = 0.0
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.job.job_uuid == job.job_uuid
    assert not caught.value.job.status.finished
    assert "wait longer" in str(caught.value)


def test_request_and_keyword_filters_cannot_be_mixed(client: Any) -> None:
    with pytest.raises(UsageError, match="not both"):
        client.list_jobs(ListJobsQuery(page_size=5), status="COMPLETED")
    with pytest.raises(UsageError, match="not both"):
        client.evaluate_one(EvaluateOneRequest(content="x", policy_id="demo-policy"), threshold=0.2)
