"""Retry decisions: jittered exponential backoff under one overall deadline.

Everything here is pure; the sync and async transports only differ in how they sleep.

* Retried codes: UNAVAILABLE and RESOURCE_EXHAUSTED (configurable).
* `google.rpc.RetryInfo` from the server wins over the computed backoff.
* Idempotent calls are retried on those codes. A non-idempotent call is retried only when the
  server explicitly said it may be (a RetryInfo detail), never blindly.
* The caller's `timeout` is one deadline for the whole call, retries and sleeps included.
* During an outage (the connection cannot be made, so the request was never sent), calls with a
  deadline do not burn their attempts: the next attempt waits for the channel to become ready
  (gRPC's wait_for_ready) for as long as the deadline allows, for writes too, since nothing was
  sent. Without a deadline, connection failures count as attempts like any other failure.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field, replace

import grpc

from modelwire._core import observe
from modelwire._core.config import check_timeout, is_int_at_least
from modelwire._core.errors import ApiError, UsageError, lost_in_flight

DEFAULT_RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried. `RetryPolicy(max_attempts=1)` (or `NO_RETRY`) disables it."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    retryable_codes: frozenset[grpc.StatusCode] = DEFAULT_RETRYABLE
    # Upper bound on a server-requested delay, so a bad RetryInfo cannot stall a caller for hours.
    max_server_delay: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not is_int_at_least(self.max_attempts, 1):
            raise UsageError(
                f"RetryPolicy.max_attempts must be an int >= 1 (1: no retries), got {self.max_attempts!r}"
            )
        numbers = (self.initial_backoff, self.max_backoff, self.multiplier, self.max_server_delay)
        if not all(_is_number(n) and n >= 0 for n in numbers) or self.multiplier < 1:
            raise UsageError("RetryPolicy backoffs must be finite numbers >= 0 and multiplier >= 1")

    def with_options(self, **changes: object) -> RetryPolicy:
        """A copy of this policy with some fields changed, e.g. `DEFAULT_RETRY.with_options(max_attempts=3)`.

        Raises:
            UsageError: A changed value is invalid (checked as in the constructor).
        """
        return replace(self, **changes)  # type: ignore[arg-type]

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay before retry number `attempt` (1-based)."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def delay(
        self, error: ApiError, *, attempt: int, idempotent: bool, remaining: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise `error`."""
        if attempt >= self.max_attempts or error.code not in self.retryable_codes:
            return None
        server_delay = error.retry_delay
        if not idempotent and server_delay is None:
            return None
        wait = min(server_delay, self.max_server_delay) if server_delay is not None else self.backoff(attempt)
        if remaining is not None and wait >= remaining:
            return None
        return wait


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


NO_RETRY = RetryPolicy(max_attempts=1)
DEFAULT_RETRY = RetryPolicy()


class Deadline:
    """One overall deadline shared by every attempt of a call."""

    __slots__ = ("_at",)

    def __init__(self, timeout: float | None, *, what: str = "timeout") -> None:
        seconds = check_timeout(timeout, what=what)
        self._at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        if self._at is None:
            return None
        return max(self._at - time.monotonic(), 0.0)


class Attempts:
    """The state of one logical call across attempts; shells ask it what to do after a failure."""

    __slots__ = ("_counted", "_deadline", "_idempotent", "_policy", "count", "method", "wait_for_ready")

    def __init__(self, policy: RetryPolicy, deadline: Deadline, idempotent: bool, method: str = "") -> None:
        self._policy = policy
        self.method = method  # for the retry log
        self._deadline = deadline
        self._idempotent = idempotent
        self.count = 0  # calls made
        self._counted = 0  # calls that count against max_attempts (outage reconnects do not)
        # Passed to gRPC on the next attempt: wait for the channel instead of failing fast.
        self.wait_for_ready: bool | None = None

    def timeout(self) -> float | None:
        """The per-attempt gRPC timeout: what is left of the overall deadline."""
        self.count += 1
        remaining = self._deadline.remaining()
        # A zero timeout would make gRPC fail at once with a confusing error; give it a sliver.
        return None if remaining is None else max(remaining, 0.001)

    def after_failure(self, error: ApiError) -> float:
        """The delay before retrying; raises `error` (with `attempts` set) when it should not retry."""
        error.attempts = self.count
        remaining = self._deadline.remaining()
        policy = self._policy
        if error.never_sent and remaining is not None and policy.max_attempts > 1:
            # An outage: nothing reached the server. Wait for the channel within the deadline
            # rather than spending attempts while gRPC reconnects.
            pause = policy.backoff(min(self.count, 4))
            if pause < remaining:
                self.wait_for_ready = True
                observe.log_retry(self.method or error.method, self.count, error, pause, outage=True)
                return pause
            raise error
        self._counted += 1
        wait = policy.delay(error, attempt=self._counted, idempotent=self._idempotent, remaining=remaining)
        if wait is None:
            if not self._idempotent and lost_in_flight(error):
                error.mark_outcome_unknown()
            raise error
        observe.log_retry(self.method or error.method, self.count, error, wait)
        return wait
