"""Fault injection and a call log for the emulator.

Tests (and users rehearsing failure handling) can make the emulator fail the next N calls of a
method with any status code, optionally carrying `google.rpc.RetryInfo`, after some streamed
messages, or after a delay:

    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=2)
    emulator.faults.add("Evaluate", grpc.StatusCode.INTERNAL, after_messages=3)

The call log records every call's method and final status (CANCELLED when the client went away),
so tests can assert server-side effects such as "breaking out of the loop cancelled the call".
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import grpc

from modelwire._core.errors import detail_any, grpc_status
from modelwire._gen.google.protobuf import duration_pb2
from modelwire._gen.google.rpc import error_details_pb2, status_pb2


def _matches(pattern: str, method: str) -> bool:
    """A pattern is a full path (/pkg.Service/Method), a bare method name, or a glob."""
    if pattern.startswith("/"):
        return fnmatch.fnmatchcase(method, pattern)
    return fnmatch.fnmatchcase(method.rsplit("/", 1)[-1], pattern)


@dataclass
class Fault:
    """One injected failure (what `FaultInjector.add` returns).

    Attributes:
        pattern: The calls it applies to: a method name, a full path or a glob.
        code: The gRPC status the calls fail with.
        message: The status message.
        times: How many calls it fails.
        retry_delay: When set, the status carries a `google.rpc.RetryInfo` with this delay (seconds).
        after_messages: Fail a server stream after this many messages (0: before the first).
        delay: Seconds to wait before failing (or, with code OK, before answering).
        hits: How many calls it has failed so far.
    """

    pattern: str
    code: grpc.StatusCode
    message: str = "injected fault"
    times: int = 1
    retry_delay: float | None = None
    after_messages: int = 0
    delay: float = 0.0
    hits: int = 0

    def status(self) -> status_pb2.Status:
        """The `google.rpc.Status` the calls fail with (with RetryInfo when `retry_delay` is set)."""
        details = []
        if self.retry_delay is not None:
            delay = duration_pb2.Duration()
            delay.FromNanoseconds(int(self.retry_delay * 1e9))
            details.append(detail_any(error_details_pb2.RetryInfo(retry_delay=delay)))
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)

    def abort(self, context: grpc.ServicerContext) -> None:
        """Fail the call behind `context` with this fault's status."""
        context.abort_with_status(grpc_status(self.status()))


class FaultInjector:
    """The emulator's injected failures (`emulator.faults`): each gRPC call takes the first that matches.

    ```py
    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=2)  # the next 2 GetJob calls
    emulator.faults.add("Evaluate", grpc.StatusCode.INTERNAL, after_messages=3)  # mid-stream
    ```
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        method: str,
        code: grpc.StatusCode,
        *,
        message: str = "injected fault",
        times: int = 1,
        retry_delay: float | None = None,
        after_messages: int = 0,
        delay: float = 0.0,
    ) -> Fault:
        """Fail the next `times` calls matching `method` (name, full path or glob)."""
        fault = Fault(method, code, message, times, retry_delay, after_messages, delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """The first fault with calls left that matches `method`, counting the hit; None if none."""
        with self._lock:
            for fault in self._faults:
                if fault.hits < fault.times and _matches(fault.pattern, method):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        """Remove every fault, used up or not."""
        with self._lock:
            self._faults.clear()


@dataclass
class CallRecord:
    """One call the emulator served.

    Attributes:
        method: The full method path, e.g. `/clavata.gateway.v1.GatewayService/Evaluate`.
        code: Its final status name ("OK", "CANCELLED", ...; "OK" while it runs).
        messages: Messages streamed so far.
        started: When it started (`time.monotonic()`).
        finished: When it finished, or None while it runs.
    """

    method: str
    code: str = "OK"
    messages: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None


class CallLog:
    """The calls the emulator served, with their final status: the most recent `keep` in full
    (a long-running `modelwire serve` must not grow without bound) and counts of all of them."""

    def __init__(self, keep: int = 100_000) -> None:
        self._records: deque[CallRecord] = deque(maxlen=keep)
        self._totals: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def start(self, method: str) -> CallRecord:
        """Record the start of a call of `method` and return its record."""
        record = CallRecord(method)
        with self._lock:
            self._records.append(record)
            self._totals[method.rsplit("/", 1)[-1]] += 1
        return record

    def finish(self, record: CallRecord, code: str) -> None:
        """Record how a call ended (the first finish wins, so a client's cancel is kept)."""
        with self._changed:
            if record.finished is None:
                record.code = code
                record.finished = time.monotonic()
                self._changed.notify_all()

    def records(self, method: str | None = None) -> list[CallRecord]:
        """The kept records, oldest first; only calls matching `method` (name, path or glob) when given."""
        with self._lock:
            return [r for r in self._records if method is None or _matches(method, r.method)]

    def counts(self) -> Counter[str]:
        """Calls served so far, by method name (all of them, not only the kept records)."""
        with self._lock:
            return Counter(self._totals)

    def wait_for(self, method: str, code: str, *, count: int = 1, timeout: float = 5.0) -> list[CallRecord]:
        """Block until `count` calls of `method` have finished with `code` (e.g. "CANCELLED").

        Returns those calls (possibly fewer than `count` when the timeout passed first).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    r
                    for r in self._records
                    if r.finished is not None and r.code == code and _matches(method, r.method)
                ]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._changed.wait(left)

    def clear(self) -> None:
        """Forget every record and count."""
        with self._lock:
            self._records.clear()
            self._totals.clear()
