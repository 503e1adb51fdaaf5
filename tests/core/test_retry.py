"""The pure retry decision and deadline bookkeeping."""

from __future__ import annotations

import random

import grpc
import pytest

from modelwire._core.errors import ApiError, UnavailableError
from modelwire._core.retry import Attempts, Deadline, RetryPolicy
from modelwire._gen.google.protobuf import duration_pb2
from modelwire._gen.google.rpc import error_details_pb2


def _error(code: grpc.StatusCode, retry_delay: float | None = None) -> ApiError:
    details = []
    if retry_delay is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(retry_delay * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    return ApiError.for_code(code)("x", code=code, details=details)


def test_backoff_is_jittered_exponential_and_capped() -> None:
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, multiplier=2.0, rng=random.Random(7))
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        samples = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # full jitter spans the range


@pytest.mark.parametrize(
    ("code", "idempotent", "retried"),
    [
        (grpc.StatusCode.UNAVAILABLE, True, True),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, True, True),
        (grpc.StatusCode.INTERNAL, True, False),
        (grpc.StatusCode.INVALID_ARGUMENT, True, False),
        (grpc.StatusCode.UNAVAILABLE, False, False),
    ],
)
def test_which_failures_are_retried(code: grpc.StatusCode, idempotent: bool, retried: bool) -> None:
    delay = RetryPolicy().delay(_error(code), attempt=1, idempotent=idempotent, remaining=None)
    assert (delay is not None) is retried


def test_server_retry_info_wins_and_allows_non_idempotent_retry() -> None:
    policy = RetryPolicy()
    error = _error(grpc.StatusCode.RESOURCE_EXHAUSTED, retry_delay=1.5)
    assert policy.delay(error, attempt=1, idempotent=False, remaining=None) == pytest.approx(1.5)
    assert policy.delay(error, attempt=1, idempotent=False, remaining=1.0) is None  # past the deadline
    huge = _error(grpc.StatusCode.UNAVAILABLE, retry_delay=3600)
    assert policy.delay(huge, attempt=1, idempotent=True, remaining=None) == policy.max_server_delay


def test_attempts_stop_at_the_limit_and_raise_the_error() -> None:
    attempts = Attempts(RetryPolicy(max_attempts=2, initial_backoff=0), Deadline(None), idempotent=True)
    attempts.timeout()
    assert attempts.after_failure(UnavailableError("down", code=grpc.StatusCode.UNAVAILABLE)) == 0
    attempts.timeout()
    with pytest.raises(UnavailableError) as caught:
        attempts.after_failure(UnavailableError("down", code=grpc.StatusCode.UNAVAILABLE))
    assert caught.value.attempts == 2


def test_deadline_shrinks_per_attempt_timeouts() -> None:
    deadline = Deadline(10.0)
    first = deadline.remaining()
    assert first is not None and 9.0 < first <= 10.0
    assert Deadline(None).remaining() is None
    with pytest.raises(ValueError, match="positive"):
        Deadline(0)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    assert RetryPolicy().with_options(max_attempts=2).max_attempts == 2
