"""Retries, deadlines, auth failures and secret redaction, through real faults on the emulator."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from modelwire._core.errors import ResourceExhaustedError, RpcErrorSummary
from modelwire.clavata import (
    NO_RETRY,
    ApiError,
    DeadlineExceededError,
    RetryPolicy,
    UnauthenticatedError,
    UnavailableError,
)
from modelwire.emulator import Emulator

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.05)


def _count(emulator: Emulator, method: str) -> int:
    return len(emulator.calls.records(method))


def test_idempotent_call_is_retried_through_unavailable(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=FAST)
    job = client.create_job(content="x", policy_id="demo-policy", wait_for_completion=True)
    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=2)
    before = _count(emulator, "GetJob")
    assert client.get_job(job.job_uuid).job_uuid == job.job_uuid
    assert _count(emulator, "GetJob") == before + 3


def test_resource_exhausted_is_retried_too(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=FAST)
    emulator.faults.add("ListJobs", grpc.StatusCode.RESOURCE_EXHAUSTED, times=1)
    before = _count(emulator, "ListJobs")
    next(iter(client.list_jobs(page_size=1)), None)
    assert _count(emulator, "ListJobs") == before + 2


def test_retries_give_up_after_max_attempts(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=FAST.with_options(max_attempts=3))
    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=10, message="backend down")
    before = _count(emulator, "GetJob")
    with pytest.raises(UnavailableError) as caught:
        client.get_job("anything")
    assert caught.value.attempts == 3
    assert caught.value.message == "backend down"
    assert _count(emulator, "GetJob") == before + 3
    assert isinstance(caught.value.__cause__, RpcErrorSummary)
    assert caught.value.__cause__.code == grpc.StatusCode.UNAVAILABLE


def test_non_idempotent_create_job_is_not_retried_blindly(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=FAST)
    emulator.faults.add("CreateJob", grpc.StatusCode.UNAVAILABLE, times=1)
    before = _count(emulator, "CreateJob")
    with pytest.raises(UnavailableError):
        client.create_job(content="x", policy_id="demo-policy")
    assert _count(emulator, "CreateJob") == before + 1


def test_create_job_is_retried_when_the_server_says_so(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=FAST)
    emulator.faults.add("CreateJob", grpc.StatusCode.RESOURCE_EXHAUSTED, times=1, retry_delay=0.05)
    before = _count(emulator, "CreateJob")
    job = client.create_job(content="x", policy_id="demo-policy")
    assert job.job_uuid
    assert _count(emulator, "CreateJob") == before + 2


def test_retry_info_is_hydrated_on_the_error(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=NO_RETRY)
    emulator.faults.add("GetJob", grpc.StatusCode.RESOURCE_EXHAUSTED, retry_delay=2.5, message="slow down")
    with pytest.raises(ResourceExhaustedError) as caught:
        client.get_job("x")
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.retry_delay == pytest.approx(2.5)


def test_a_server_delay_beyond_the_deadline_is_not_waited_for(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=FAST)
    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, retry_delay=30, times=1)
    before = _count(emulator, "GetJob")
    with pytest.raises(UnavailableError):
        client.get_job("x", timeout=1.0)
    assert _count(emulator, "GetJob") == before + 1


def test_per_call_timeout_overrides_the_default(make_client: Any, emulator: Emulator) -> None:
    client = make_client(timeout=30)
    emulator.faults.add("GetJob", grpc.StatusCode.OK, delay=1.0)
    with pytest.raises(DeadlineExceededError) as caught:
        client.get_job("x", timeout=0.2)
    assert "timeout" in str(caught.value)


def test_client_default_deadline_applies(make_client: Any, emulator: Emulator) -> None:
    client = make_client(timeout=0.2)
    emulator.faults.add("GetJob", grpc.StatusCode.OK, delay=1.0)
    with pytest.raises(DeadlineExceededError):
        client.get_job("x")


def test_wrong_key_is_unauthenticated_and_not_retried(make_client: Any, emulator: Emulator) -> None:
    client = make_client(auth_token="definitely-wrong-key", retry=FAST)
    before = _count(emulator, "GetJob")
    with pytest.raises(UnauthenticatedError) as caught:
        client.get_job("x")
    text = str(caught.value)
    assert "invalid API key" in text and "definitely-wrong-key" not in text
    assert "API key" in (caught.value.hint or "")
    assert _count(emulator, "GetJob") == before + 1


def test_keys_are_redacted_from_server_messages(make_client: Any, emulator: Emulator, api_key: str) -> None:
    client = make_client(retry=NO_RETRY)
    emulator.faults.add("GetJob", grpc.StatusCode.INTERNAL, message=f"boom while using {api_key}")
    with pytest.raises(ApiError) as caught:
        client.get_job("x")
    assert api_key not in str(caught.value) and "***" in str(caught.value)
    assert api_key not in repr(client)


def test_unreachable_server_is_a_clear_unavailable_error(make_client: Any) -> None:
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(port=port, retry=NO_RETRY, timeout=5)
    with pytest.raises(UnavailableError) as caught:
        client.get_job("x")
    assert "host, port and TLS" in str(caught.value)
