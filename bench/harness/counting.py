"""RPC counts and phase timing: CallCounter (a gRPC interceptor on every channel it wraps) and
PhaseClock (wall, CPU and server CPU time and the RPCs of each named phase of a round).

The published SDKs' child processes import this module, in their own venvs, to count and time
exactly as the bench process does: what they use (CallCounter, PhaseClock, PhaseSample, Sample,
Outcome, contenders.time_sync / time_async, the rounds shared by both sides such as clarifai_round /
clarifai_predict_round and what those call, the clarifai_sdk_* and published drivers, and the
modules those live in) must need nothing beyond the standard library and grpc at import time; the
drivers import the published SDK when called (published_module), in the child only."""

from __future__ import annotations

import collections
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.harness.processes import process_cpu_seconds
from bench.harness.samples import Outcome, PhaseSample


def _method_name(method: str | bytes) -> str:
    """`Method` of a gRPC path `/package.Service/Method`."""
    text = method.decode() if isinstance(method, bytes) else method
    return text.rsplit("/", 1)[-1]


def _holds_no_items(response: Any) -> bool:
    """True when no repeated field of the response message is set (an empty page of a listing)."""
    from modelwire._core.wire import is_repeated

    return not any(is_repeated(fd) for fd, _ in response.ListFields())


@functools.cache
def _counting_interceptor_class() -> type[Any]:
    import grpc

    class CountingInterceptor(
        grpc.UnaryUnaryClientInterceptor,
        grpc.UnaryStreamClientInterceptor,
        grpc.StreamUnaryClientInterceptor,
        grpc.StreamStreamClientInterceptor,
    ):
        """Counts every call it sees; for unary List* calls, also those answered with no items."""

        def __init__(self, counter: CallCounter) -> None:
            self.counter = counter

        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            name = self.counter.started(details.method)
            outcome = continuation(details, request)
            if name.startswith("List"):
                outcome.add_done_callback(lambda done: self.counter.finished(name, done))
            return outcome

        def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
            self.counter.started(details.method)
            return continuation(details, request)

        def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
            self.counter.started(details.method)
            return continuation(details, requests)

        def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
            self.counter.started(details.method)
            return continuation(details, requests)

    return CountingInterceptor


class CallCounter:
    """Counts the RPCs made over the channels it wraps, by method name, on the client side (a gRPC
    interceptor); thread-safe. Both SDKs are counted this way, each in its own process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: collections.Counter[str] = collections.Counter()
        self._empty: collections.Counter[str] = collections.Counter()

    def started(self, method: str | bytes) -> str:
        name = _method_name(method)
        with self._lock:
            self._calls[name] += 1
        return name

    def finished(self, name: str, outcome: Any) -> None:
        try:
            empty = outcome.exception() is None and _holds_no_items(outcome.result())
        except Exception:
            return
        if empty:
            with self._lock:
                self._empty[name] += 1

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """(calls, empty List* answers) by method so far."""
        with self._lock:
            return dict(self._calls), dict(self._empty)

    def wrap(self, channel: Any) -> Any:
        import grpc

        return grpc.intercept_channel(channel, _counting_interceptor_class()(self))

    def patch_channels(self) -> Callable[[], None]:
        """Make grpc.insecure_channel / grpc.secure_channel return counted channels (whoever calls
        them: an SDK builds its channel itself); returns the function that undoes it."""
        import grpc

        originals = {name: getattr(grpc, name) for name in ("insecure_channel", "secure_channel")}

        def counted(make: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(make)
            def build(*args: Any, **kwargs: Any) -> Any:
                return self.wrap(make(*args, **kwargs))

            return build

        for name, make in originals.items():
            setattr(grpc, name, counted(make))

        def undo() -> None:
            for name, make in originals.items():
                setattr(grpc, name, make)

        return undo

    @contextlib.contextmanager
    def counting_channels(self) -> Iterator[None]:
        """Channels made inside are counted (for as long as they live)."""
        undo = self.patch_channels()
        try:
            yield
        finally:
            undo()


def _minus(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in sorted(after.items()) if v != before.get(k, 0)}


class PhaseClock:
    """Times the named phases of one round (`with clock.phase("upload"): ...`): wall and process CPU
    time, the server's CPU time (when `server_pid` is given) and the RPCs `counter` saw meanwhile.
    A phase that handles its own number of items says so (`phase("batch_32", messages=1280)`), and
    one that times its calls one by one appends their wall times to the list `phase()` yields."""

    def __init__(self, counter: CallCounter | None = None, server_pid: int | None = None) -> None:
        self._counter = counter
        self._server_pid = server_pid
        self.phases: dict[str, PhaseSample] = {}

    def _server(self) -> float | None:
        return process_cpu_seconds(self._server_pid) if self._server_pid else None

    @contextlib.contextmanager
    def phase(self, name: str, messages: int | None = None) -> Iterator[list[float]]:
        calls, empty = self._counter.snapshot() if self._counter else ({}, {})
        server = self._server()
        call_seconds: list[float] = []
        cpu, wall = time.process_time(), time.perf_counter()
        yield call_seconds
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_after = self._server()
        calls_after, empty_after = self._counter.snapshot() if self._counter else ({}, {})
        self.phases[name] = PhaseSample(
            wall,
            cpu,
            None if server is None or server_after is None else server_after - server,
            _minus(calls_after, calls),
            _minus(empty_after, empty),
            messages,
            call_seconds,
        )

    def outcome(self, messages: int, check: int) -> Outcome:
        return Outcome(messages, check, dict(self.phases))
