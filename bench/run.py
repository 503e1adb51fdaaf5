"""modelwire benchmarks: our clients against the raw generated stubs and the published SDKs.

    .venv/bin/python bench/run.py                      # every scenario (what `make bench` runs)
    .venv/bin/python bench/run.py --quick              # few items, 3 rounds: a smoke run in seconds
    .venv/bin/python bench/run.py --rounds 11 --items 5000 --scenario clavata_stream
    .venv/bin/python bench/run.py --skip-published     # leave out the published SDKs (no venv is needed)

Each scenario starts its server in its own process, so the server never competes with the clients
for this interpreter's GIL, and stops it when done: the emulator (`python -m modelwire.cli serve`)
for the end-to-end scenarios, or a bench-local replay server that streams responses recorded from
the emulator, so that the client, not the server, is the bottleneck. With two or more CPUs the
server is pinned to the last one and the clients to the others (--no-pin: not).
Every contender is warmed up, then the rounds run interleaved (round-robin, the order rotating each
round) so that drift on the machine hits all contenders alike. Per contender the table shows the
median throughput over the rounds (and its min/max), the client process's CPU time per message and
how busy the server was (per phase, for rounds in parts such as upload then list, together with the
RPCs each phase made); the ratios compare medians from this one run against the targets. A MISS
is reported, not an error: the exit status is 0 unless a server or a required (modelwire or
raw-stub) contender failed. See bench/README.md for how to read the numbers.

Full results go to bench/results/<scenario>.json (bench/results/ is gitignored).

Adding a scenario: write a function `(ScenarioContext) -> Plan` that starts its server through the
context (`ctx.emulator(...)`, or `ctx.serve(...)` for a server of its own), builds its contenders
(see SyncSession / AsyncSession / SubprocessContender; PhaseClock / CallCounter for rounds in parts)
and the comparisons to report, and register it in SCENARIOS. Server processes, pinning, the
interleaved rounds and the table are shared.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import functools
import gc
import importlib.util
import itertools
import json
import math
import os
import platform
import random
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = ROOT / "bench" / "results"
API_KEY = "bench-key-0123456789"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0  # seconds for a server / a subprocess contender to come up
ROUND_TIMEOUT = 600.0  # seconds for one round of a subprocess contender
SERVER_BOUND = 0.85  # server CPU / wall time from which a round counts as limited by the server


class BenchError(Exception):
    """The benchmark itself cannot go on (a server did not start, a required contender failed)."""


class Unavailable(Exception):
    """A contender cannot run here (e.g. the published SDK's venv could not be built); the reason says why."""


def _log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "  | (no output)"
    return "\n".join("  | " + line for line in text.rstrip().splitlines()[-lines:]) or "  | (no output)"


# --------------------------------------------------------------------------------------------------
# Server processes: the emulator, or a bench-local server, each in its own process


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time the threads of process `pid` have used so far (Linux: /proc schedstat, in ns), else None."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return total / 1e9


@dataclass(frozen=True)
class ServerProcess:
    """A server the contenders talk to, running in a child process."""

    name: str  # "emulator", "replay server": used in logs and in the table's note
    host: str
    port: int
    api_key: str
    pid: int
    log_path: Path  # the child's stdout and stderr (exists while the server runs)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """CPU time the server's threads have used so far, else None (see process_cpu_seconds)."""
        return process_cpu_seconds(self.pid)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass(frozen=True)
class Pinning:
    """CPUs for the server and for the clients, so neither preempts the other on a small machine."""

    server: frozenset[int]
    client: frozenset[int]

    def describe(self) -> str:
        return f"server on CPU {_cpus(self.server)}, clients on CPU {_cpus(self.client)}"


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def plan_pinning(enabled: bool) -> tuple[Pinning | None, str]:
    """The last usable CPU for the server, the others for the clients (None: no pinning, and why)."""
    if not enabled:
        return None, "not pinned (--no-pin)"
    if not hasattr(os, "sched_getaffinity"):
        return None, "not pinned (no CPU affinity on this platform)"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, f"not pinned (only {len(cpus)} usable CPU)"
    pinning = Pinning(server=frozenset(cpus[-1:]), client=frozenset(cpus[:-1]))
    return pinning, pinning.describe()


def pin_this_process(cpus: frozenset[int]) -> None:
    """Every thread of this process onto `cpus` (threads and processes started later inherit it)."""
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, cpus)


_LISTENING = re.compile(r"listening on (\S+):(\d+)")


def _wait_connectable(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def server_process(
    name: str,
    cmd: Sequence[str],
    *,
    api_key: str = API_KEY,
    cpus: frozenset[int] | None = None,
    ready: re.Pattern[str] = _LISTENING,
    timeout: float = STARTUP_TIMEOUT,
) -> Iterator[ServerProcess]:
    """`cmd` in a child process (on `cpus` if given) that prints `ready` (HOST, PORT groups) once it
    serves; yields once it accepts connections, and always stops it (SIGTERM, then SIGKILL)."""
    slug = re.sub(r"\W+", "-", name)
    with tempfile.TemporaryDirectory(prefix=f"modelwire-bench-{slug}-") as tmp:
        log_path = Path(tmp) / f"{slug}.log"
        mine = os.sched_getaffinity(0) if cpus else None
        with log_path.open("wb") as log_file:
            if cpus:
                os.sched_setaffinity(0, cpus)  # the child inherits this thread's affinity
            try:
                proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
                )
            finally:
                if mine:
                    os.sched_setaffinity(0, mine)
        try:
            deadline = time.monotonic() + timeout
            match: re.Match[str] | None = None
            while match is None:
                match = ready.search(log_path.read_text(errors="replace"))
                if match is not None:
                    break
                if proc.poll() is not None:
                    raise BenchError(
                        f"the {name} exited with status {proc.returncode} before listening "
                        f"({' '.join(cmd)}):\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"the {name} did not report listening within {timeout:.0f}s:\n{_tail(log_path)}"
                    )
                time.sleep(0.05)
            host, port = match.group(1), int(match.group(2))
            try:
                _wait_connectable(host, port, deadline)
            except OSError as exc:
                raise BenchError(f"the {name} says {host}:{port} but refuses connections: {exc}") from exc
            yield ServerProcess(
                name=name, host=host, port=port, api_key=api_key, pid=proc.pid, log_path=log_path
            )
        finally:
            if proc.poll() is None:
                proc.terminate()  # SIGTERM: both `modelwire serve` and the replay server stop and exit
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def emulator_command(api_key: str = API_KEY, extra_args: Sequence[str] = ()) -> list[str]:
    """`modelwire serve` on a free port of HOST, with this interpreter (the venv's)."""
    return [
        sys.executable,
        "-m",
        "modelwire.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        "--api-key",
        api_key,
        *extra_args,
    ]


# --------------------------------------------------------------------------------------------------
# Contenders: something that runs one timed round at a time


@dataclass(frozen=True)
class PhaseSample:
    """One timed phase of a round (a round may have several, e.g. upload then list): wall time, the
    client process's CPU time, the server's CPU time and the RPCs the client made meanwhile; the
    items it handled when they differ from the round's, and the wall time of each of its calls
    when the phase times them one by one (per-call latency)."""

    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float | None = None
    calls: dict[str, int] = field(default_factory=dict)  # RPCs by method name (see CallCounter)
    empty: dict[str, int] = field(default_factory=dict)  # List* calls that returned no items
    messages: int | None = None  # items handled in this phase (None: the round's)
    call_seconds: list[float] = field(default_factory=list)  # wall time of each timed call, in order

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhaseSample:
        server = data.get("server_cpu_seconds")
        return cls(
            seconds=float(data["seconds"]),
            cpu_seconds=float(data["cpu_seconds"]),
            server_cpu_seconds=None if server is None else float(server),
            calls={str(k): int(v) for k, v in data.get("calls", {}).items()},
            empty={str(k): int(v) for k, v in data.get("empty", {}).items()},
            messages=None if data.get("messages") is None else int(data["messages"]),
            call_seconds=[float(s) for s in data.get("call_seconds", [])],
        )


@dataclass(frozen=True)
class Sample:
    """One timed round. `check` is a scenario-defined count (e.g. matched outcomes): every round of
    every contender must report the same, which proves they all read what they were meant to.
    `phases` times the parts of a round separately, when the scenario has parts."""

    messages: int
    seconds: float
    cpu_seconds: float  # CPU time of the client's whole process (its gRPC threads included)
    check: int
    server_cpu_seconds: float | None = None  # the server's CPU time during the round
    phases: dict[str, PhaseSample] = field(default_factory=dict)

    def part(self, phase: str | None = None) -> tuple[float, float, float | None]:
        """(wall seconds, client CPU seconds, server CPU seconds) of the round or of one of its phases."""
        if phase is None:
            return self.seconds, self.cpu_seconds, self.server_cpu_seconds
        p = self.phases[phase]
        return p.seconds, p.cpu_seconds, p.server_cpu_seconds

    def messages_of(self, phase: str | None = None) -> int:
        """The items the round handled, or one of its phases (its own count, else the round's)."""
        own = None if phase is None else self.phases[phase].messages
        return self.messages if own is None else own

    def rate_of(self, phase: str | None = None) -> float:
        seconds, messages = self.part(phase)[0], self.messages_of(phase)
        return messages / seconds if seconds > 0 else 0.0

    def cpu_us_of(self, phase: str | None = None) -> float:
        messages = self.messages_of(phase)
        return self.part(phase)[1] * 1e6 / messages if messages else 0.0

    def server_busy_of(self, phase: str | None = None) -> float | None:
        """The server's CPU time over the wall time: near 1.0 (one core) = server-bound."""
        seconds, _, server = self.part(phase)
        return None if server is None or seconds <= 0 else server / seconds

    @property
    def server_busy(self) -> float | None:
        return self.server_busy_of()

    @property
    def rate(self) -> float:
        return self.rate_of()

    @property
    def cpu_us_per_message(self) -> float:
        return self.cpu_us_of()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "messages": self.messages,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "check": self.check,
            "rate": self.rate,
            "cpu_us_per_message": self.cpu_us_per_message,
            "server_cpu_seconds": self.server_cpu_seconds,
        }
        if self.phases:
            out["phases"] = {name: p.to_json() for name, p in self.phases.items()}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sample:
        """What a child process reports (see SubprocessContender)."""
        return cls(
            int(data["messages"]),
            float(data["seconds"]),
            float(data["cpu_seconds"]),
            int(data["check"]),
            phases={name: PhaseSample.from_json(p) for name, p in data.get("phases", {}).items()},
        )


CallResult = tuple[int, int]  # (messages consumed, check count) returned by one call


@dataclass(frozen=True)
class Outcome:
    """What one call returns when its round has phases (timed by a PhaseClock); else a CallResult."""

    messages: int
    check: int
    phases: dict[str, PhaseSample]


# -- RPC counts and phase timing -------------------------------------------------------------------
#
# The published SDKs' child processes load this file (by path, in their own venvs) to count and time
# exactly as this process does: what they use (CallCounter, PhaseClock, PhaseSample, Sample, Outcome,
# _time_sync, the rounds shared by both sides such as clarifai_round / clarifai_predict_round and what
# those call, the clarifai_sdk_* drivers) must need nothing beyond the standard library and grpc at
# import time; the drivers import the published SDK when called (_published), in the child only.


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


def check_listing(what: str, listed: Sequence[str], expected: Sequence[str]) -> int:
    """The number of ids listed, which must be exactly `expected` (any order); BenchError otherwise."""
    want, got = set(expected), set(listed)
    if len(listed) == len(expected) and got == want:
        return len(listed)
    missing, unexpected = len(want - got), len(got - want)
    duplicates = len(listed) - len(got)
    raise BenchError(
        f"{what}: listed {len(listed)} inputs for {len(expected)} uploaded "
        f"({missing} missing, {unexpected} unexpected, {duplicates} duplicated)"
    )


class Contender:
    """Base: `start()` (may raise Unavailable), `prepare()` then `run_round()` for each round, `close()`.

    `optional` contenders (the published SDKs) that cannot start or fail are reported and dropped;
    a failure of a required one aborts the benchmark.
    """

    def __init__(self, key: str, label: str, *, optional: bool = False) -> None:
        self.key = key
        self.label = label
        self.optional = optional
        self.info: dict[str, Any] = {}

    def start(self) -> None:
        pass

    def prepare(self) -> None:
        """Untimed set-up before each round (e.g. a fresh app to upload into)."""

    def run_round(self) -> Sample:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _sample(result: CallResult | Outcome, wall: float, cpu: float) -> Sample:
    if isinstance(result, Outcome):
        return Sample(result.messages, wall, cpu, result.check, phases=result.phases)
    messages, check = result
    return Sample(messages, wall, cpu, check)


def _time_sync(call: Callable[[], CallResult | Outcome]) -> Sample:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return _sample(result, wall, cpu)


async def _time_async(call: Callable[[], Awaitable[CallResult | Outcome]]) -> Sample:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = await call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return _sample(result, wall, cpu)


@dataclass
class SyncSession:
    """An opened sync client: `call` runs one round's work, untimed setup is done already;
    `prepare` runs before each round, untimed. `info` goes to the results (e.g. set-up RPCs)."""

    call: Callable[[], CallResult | Outcome]
    close: Callable[[], None] = lambda: None
    prepare: Callable[[], None] = lambda: None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class AsyncSession:
    call: Callable[[], Awaitable[CallResult | Outcome]]
    close: Callable[[], Awaitable[None]]


class SyncContender(Contender):
    """In this process, on this thread: `open()` builds the client once, each round calls it."""

    def __init__(self, key: str, label: str, open: Callable[[], SyncSession], *, optional: bool = False):
        super().__init__(key, label, optional=optional)
        self._open = open
        self._session: SyncSession | None = None

    def start(self) -> None:
        self._session = self._open()
        self.info.update(self._session.info)

    def prepare(self) -> None:
        assert self._session is not None, "start() first"
        self._session.prepare()

    def run_round(self) -> Sample:
        assert self._session is not None, "start() first"
        return _time_sync(self._session.call)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class AsyncContender(Contender):
    """In this process, on a private event loop kept for all its rounds (so its channel stays open)."""

    def __init__(
        self, key: str, label: str, open: Callable[[], Awaitable[AsyncSession]], *, optional: bool = False
    ):
        super().__init__(key, label, optional=optional)
        self._open = open
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: AsyncSession | None = None

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._session = self._loop.run_until_complete(self._open())

    def run_round(self) -> Sample:
        assert self._loop is not None, "start() first"
        assert self._session is not None
        return self._loop.run_until_complete(_time_async(self._session.call))

    def close(self) -> None:
        if self._loop is None:
            return
        try:
            if self._session is not None:
                self._loop.run_until_complete(self._session.close())
        finally:
            self._session = None
            self._loop.close()
            self._loop = None


class SubprocessContender(Contender):
    """A child process (e.g. another venv's python) driven one round at a time over a line protocol.

    The child prints one JSON line when ready (`{"ready": true, ...info}`), then for every `round`
    line on its stdin runs one timed round and prints `{"messages", "seconds", "cpu_seconds",
    "check"}` and optionally `"phases"` (Sample.to_json), or `{"error": "..."}`; it exits on EOF.
    It is idle while the others run. `argv` is called at start and may raise Unavailable.
    `round_args`, if given, is called (untimed) before each round and its JSON sent on the line
    (`round {"app_id": ...}`).
    """

    def __init__(
        self,
        key: str,
        label: str,
        argv: Callable[[], list[str]],
        *,
        cwd: Path,
        optional: bool = True,
        round_args: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(key, label, optional=optional)
        self._argv = argv
        self._cwd = cwd
        self._round_args = round_args
        self._round_line = b"round\n"
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_path = cwd / f"{key}.stderr"
        self._stderr: IO[bytes] | None = None
        self._buffer = b""

    def start(self) -> None:
        argv = self._argv()
        self._stderr = self._stderr_path.open("wb")
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd=self._cwd
        )
        ready = self._read(STARTUP_TIMEOUT)
        if not ready.get("ready"):
            raise BenchError(f"{self.label}: unexpected first line from the child: {ready}")
        self.info.update({k: v for k, v in ready.items() if k != "ready"})

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{self.label}: no answer from the child within {timeout:.0f}s")
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = self._proc.wait()
                raise BenchError(
                    f"{self.label}: the child exited (status {code}):\n{_tail(self._stderr_path)}"
                )
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise BenchError(f"{self.label}: the child printed {line[:200]!r}, not JSON") from exc
        if "error" in answer:
            raise BenchError(f"{self.label}: the child failed:\n{answer['error']}")
        return answer

    def prepare(self) -> None:
        if self._round_args is not None:
            self._round_line = f"round {json.dumps(self._round_args())}\n".encode()

    def run_round(self) -> Sample:
        assert self._proc is not None, "start() first"
        assert self._proc.stdin is not None
        self._proc.stdin.write(self._round_line)
        self._proc.stdin.flush()
        return Sample.from_json(self._read(ROUND_TIMEOUT))

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()  # EOF: the child closes its client and exits
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


# --------------------------------------------------------------------------------------------------
# Running contenders: warm-up, then interleaved rounds


@dataclass
class ContenderResult:
    key: str
    label: str
    status: str = "ok"  # ok | skipped (could not start) | failed (broke during the rounds)
    reason: str | None = None
    samples: list[Sample] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.samples)

    def phases(self) -> list[str]:
        """The phases every sample has (in the order the first one ran them)."""
        if not self.samples:
            return []
        return [p for p in self.samples[0].phases if all(p in s.phases for s in self.samples)]

    def rates(self, phase: str | None = None) -> list[float]:
        return [s.rate_of(phase) for s in self.samples]

    def median_rate(self, phase: str | None = None) -> float | None:
        return statistics.median(self.rates(phase)) if self.ok else None

    def median_seconds(self, phase: str | None = None) -> float | None:
        return statistics.median(s.part(phase)[0] for s in self.samples) if self.ok else None

    def median_cpu_us(self, phase: str | None = None) -> float | None:
        return statistics.median(s.cpu_us_of(phase) for s in self.samples) if self.ok else None

    def median_server_busy(self, phase: str | None = None) -> float | None:
        busy = [b for s in self.samples if (b := s.server_busy_of(phase)) is not None]
        return statistics.median(busy) if self.ok and busy else None

    def calls(self, phase: str, method: str) -> list[int]:
        """Per round: the calls of `method` in `phase`."""
        return [s.phases[phase].calls.get(method, 0) for s in self.samples]

    def call_seconds(self, phase: str) -> list[float]:
        """The wall time of every timed call of `phase`, over all the rounds."""
        return [t for s in self.samples for t in s.phases[phase].call_seconds]

    def to_json(self) -> dict[str, Any]:
        rates = self.rates()
        phases = {
            phase: {
                "median_rate": self.median_rate(phase),
                "median_seconds": self.median_seconds(phase),
                "median_cpu_us_per_message": self.median_cpu_us(phase),
                "median_server_busy": self.median_server_busy(phase),
                "median_calls": {
                    m: statistics.median(self.calls(phase, m))
                    for m in sorted({m for s in self.samples for m in s.phases[phase].calls})
                },
                **latency_summary(self.call_seconds(phase)),
            }
            for phase in (self.phases() if self.ok else [])
        }
        return {
            "label": self.label,
            "status": self.status,
            "reason": self.reason,
            "median_rate": self.median_rate(),
            "min_rate": min(rates) if self.ok else None,
            "max_rate": max(rates) if self.ok else None,
            "median_cpu_us_per_message": self.median_cpu_us(),
            "median_server_busy": self.median_server_busy(),
            **({"phases": phases} if phases else {}),
            "info": self.info,
            "samples": [s.to_json() for s in self.samples],
        }


def _describe_sample(key: str, sample: Sample) -> str:
    if not sample.phases:
        return f"{key} {sample.rate:,.0f}/s"
    return f"{key} " + " ".join(f"{name} {p.seconds:.2f}s" for name, p in sample.phases.items())


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"


def run_interleaved(
    contenders: Sequence[Contender],
    *,
    rounds: int,
    warmup: int,
    messages: int,
    server_cpu: Callable[[], float | None] = lambda: None,
    expected_check: int | None = None,
) -> dict[str, ContenderResult]:
    """Start each contender, warm each up, then `rounds` rounds round-robin (order rotating).

    Every sample must hold `messages` messages and the same `check` as every other sample, and
    `expected_check` when given (e.g. what the server is known to have sent).
    `server_cpu` (the server's CPU seconds so far) is read around each round.
    """
    results = {c.key: ContenderResult(c.key, c.label) for c in contenders}
    active: list[Contender] = []
    # the check every sample must report: the expected one, else the first sample's once seen
    reference: list[int] = [] if expected_check is None else [expected_check]
    seen = "the others saw" if expected_check is None else "the server sent"

    def drop(c: Contender, status: str, reason: str) -> None:
        results[c.key].status, results[c.key].reason = status, reason
        _log(f"{c.label}: {status}: {reason}")
        if c in active:
            active.remove(c)
        with contextlib.suppress(Exception):
            c.close()

    def one_round(c: Contender) -> Sample | None:
        try:
            c.prepare()
            before = server_cpu()
            sample = c.run_round()
            after = server_cpu()
            if before is not None and after is not None:
                sample = dataclasses.replace(sample, server_cpu_seconds=after - before)
            if sample.messages != messages:
                raise BenchError(f"{c.label}: consumed {sample.messages} messages, expected {messages}")
            if not reference:
                reference.append(sample.check)
            elif sample.check != reference[0]:
                raise BenchError(f"{c.label}: check count {sample.check}, {seen} {reference[0]}")
        except Exception as exc:
            if not c.optional:
                raise
            drop(c, "failed", _reason(exc))
            return None
        return sample

    try:
        for c in contenders:
            try:
                c.start()
            except Unavailable as exc:
                drop(c, "skipped", str(exc))
                continue
            except Exception as exc:
                if not c.optional:
                    raise
                drop(c, "skipped", _reason(exc))
                continue
            results[c.key].info = c.info
            active.append(c)
        for c in list(active):
            for _ in range(warmup):
                if one_round(c) is None:
                    break
        for r in range(rounds):
            shift = r % len(active) if active else 0
            for c in active[shift:] + active[:shift]:
                sample = one_round(c)
                if sample is not None:
                    results[c.key].samples.append(sample)
            if active:
                line = ", ".join(_describe_sample(c.key, results[c.key].samples[-1]) for c in active)
                _log(f"round {r + 1}/{rounds}: {line}")
    finally:
        for c in active:
            with contextlib.suppress(Exception):
                c.close()
    return results


# --------------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Comparison:
    """numerator's median throughput / denominator's, against a target: of whole rounds, or of a phase
    (`phase`, and `denominator_phase` when the denominator's differs). Both sides handle the same
    items, so the throughput ratio is also the denominator's median time / the numerator's."""

    numerator: str
    denominator: str
    target: float | None  # None: a reference row, reported without a verdict
    strict: bool = False  # True: must exceed the target ("ahead of"); False: at least the target
    phase: str | None = None
    denominator_phase: str | None = None  # None: the same as `phase`
    title: str | None = None  # the row's name in the table (default: "[phase: ]numerator / denominator")

    @property
    def bottom_phase(self) -> str | None:
        return self.denominator_phase or self.phase

    def name(self, results: dict[str, ContenderResult]) -> str:
        if self.title:
            return self.title
        prefix = f"{self.phase}: " if self.phase else ""
        return f"{prefix}{results[self.numerator].label} / {results[self.denominator].label}"

    def verdict(self, value: float | None) -> str:
        if value is None:
            return "SKIP"
        if self.target is None:
            return "info"
        return "PASS" if (value > self.target if self.strict else value >= self.target) else "MISS"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'>' if self.strict else '>='} {self.target:.2f}x"


@dataclass(frozen=True)
class CallBudget:
    """A contender may make at most `most` calls of `method` in `phase`, and at least `least`
    (`least=most`: exactly that many), in every round."""

    contender: str
    phase: str
    method: str
    most: int
    why: str
    least: int = 0

    def _counts(self, results: dict[str, ContenderResult]) -> list[int]:
        r = results[self.contender]
        return r.calls(self.phase, self.method) if r.ok and self.phase in r.phases() else []

    def worst(self, results: dict[str, ContenderResult]) -> int | None:
        """The most calls any round made (None: the contender did not run)."""
        counts = self._counts(results)
        return max(counts) if counts else None

    def fewest(self, results: dict[str, ContenderResult]) -> int | None:
        counts = self._counts(results)
        return min(counts) if counts else None

    def verdict(self, results: dict[str, ContenderResult]) -> str:
        worst, fewest = self.worst(results), self.fewest(results)
        if worst is None or fewest is None:
            return "SKIP"
        return "PASS" if self.least <= fewest and worst <= self.most else "MISS"

    @property
    def budget_text(self) -> str:
        if self.least == self.most:
            return f"== {self.most}"
        return f"<= {self.most}" if self.least == 0 else f"{self.least}-{self.most}"


@dataclass
class Plan:
    """What a scenario runs: its contenders, how many messages one round consumes, what to compare."""

    description: str
    messages: int
    contenders: list[Contender]
    comparisons: list[Comparison]
    server: ServerProcess | None = None  # the server whose CPU time is measured ("server busy")
    expected_check: int | None = None  # the check every round must report, when known up front
    unit: str = "msgs/s"
    item: str = "msg"  # what `messages` counts, for "client CPU us/<item>"
    details: dict[str, Any] = field(default_factory=dict)
    call_methods: tuple[str, ...] = ()  # the RPC table's first columns (phased rounds), in this order
    budgets: list[CallBudget] = field(default_factory=list)


@dataclass(frozen=True)
class ScenarioContext:
    items: int | None  # --items, or None for the scenario's default
    quick: bool
    skip_published: bool
    workdir: Path  # a temporary directory for this scenario
    server_cpus: frozenset[int] | None  # where server processes run (None: not pinned)
    stack: contextlib.ExitStack  # servers started through serve() stop when the scenario ends

    def serve(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        api_key: str = API_KEY,
        ready: re.Pattern[str] = _LISTENING,
        timeout: float = STARTUP_TIMEOUT,
    ) -> ServerProcess:
        """`cmd` as a server process (see server_process), pinned, stopped with the scenario."""
        _log(f"starting the {name}")
        return self.stack.enter_context(
            server_process(name, cmd, api_key=api_key, cpus=self.server_cpus, ready=ready, timeout=timeout)
        )

    def emulator(self, *extra_args: str) -> ServerProcess:
        """`modelwire serve` in its own process, e.g. `ctx.emulator("--http-port", "0")`."""
        return self.serve("emulator", emulator_command(API_KEY, extra_args))


@dataclass(frozen=True)
class Scenario:
    name: str  # results file name and --scenario value
    title: str
    plan: Callable[[ScenarioContext], Plan]
    rounds: int = 7  # timed rounds unless --rounds / --quick say otherwise
    warmup: int = 2  # warm-up rounds per contender unless --warmup / --quick say otherwise


# -- the published SDKs' venvs (built by scripts/compat.py) ----------------------------------------


def _compat() -> ModuleType:
    """scripts/compat.py, imported by path (it is a script, not a package)."""
    name = "modelwire_bench_compat"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "compat.py")
        if spec is None or spec.loader is None:
            raise Unavailable(f"cannot load {ROOT / 'scripts' / 'compat.py'}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def _ensure_venv(compat: ModuleType, target: Any) -> Path:
    try:
        return Path(compat.ensure_venv(target))
    except compat.CompatError as exc:
        raise Unavailable(f"the published SDK's venv could not be built: {exc}") from exc
    except OSError as exc:
        raise Unavailable(f"the published SDK's venv could not be built: {exc!r}") from exc


def published_python(target_name: str) -> Path:
    """The python of the venv scripts/compat.py keeps for `target_name`, built on first use."""
    compat = _compat()
    target = next((t for t in compat.TARGETS if t.name == target_name), None)
    if target is None:
        raise Unavailable(f"scripts/compat.py has no target {target_name!r}")
    return _ensure_venv(compat, target)


def bench_python(name: str, requirement: str) -> Path:
    """The python of a bench-only venv `name` with `requirement` (a published SDK whose protos
    `make compat` does not check), built on first use by scripts/compat.py's ensure_venv, in the
    same cache outside the repo (`${MODELWIRE_CACHE:-~/.cache/modelwire}/venvs/<name>`)."""
    compat = _compat()
    if any(t.name == name for t in compat.TARGETS):
        raise Unavailable(f"{name!r} is a compat target's venv: use published_python({name!r})")
    return _ensure_venv(compat, compat.Target(name=name, requirement=requirement, imports=(), package=""))


# -- clavata streaming evaluate --------------------------------------------------------------------

CLAVATA_POLICY = "demo-policy"
CLAVATA_ITEMS = 2000
CLAVATA_QUICK_ITEMS = 60

_BENIGN = (
    "the weather is lovely today",
    "please review my pull request",
    "lunch at noon by the river",
    "our quarterly numbers look fine",
    "the cat sat on the warm mat",
    "remember to water the plants",
    "a quiet evening with a good book",
    "the train leaves at seven",
    "new release notes are online",
    "we painted the fence blue",
)
_FLAGGED = (
    "they plan to attack at dawn",
    "I will kill the lights",
    "he drew his sword",
    "beat up the old car for parts",
    "kill it in the video game",  # excepted by `unless`: counts as not matched
)


def clavata_texts(n: int, seed: int = 20251123) -> list[str]:
    """n short texts, about one in ten using a demo-policy word; deterministic."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        phrase = rng.choice(_FLAGGED) if rng.random() < 0.1 else rng.choice(_BENIGN)
        out.append(f"{phrase} ({i})")
    return out


# Run by the published SDK's venv python: python -I -c CLAVATA_SDK_CHILD HOST PORT KEY POLICY TEXTS_JSON
CLAVATA_SDK_CHILD = r"""
import asyncio, gc, json, platform, sys, time, traceback
from importlib import metadata

def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

try:
    host, port, key, policy_id, texts_path = sys.argv[1:6]
    with open(texts_path) as f:
        texts = json.load(f)
    import google.protobuf, grpc
    from clavata_sdk import ClavataClient, ContentData, EvaluateRequest
    client = ClavataClient(host=host, port=int(port), auth_token=key, secure=False)
except BaseException:
    reply({"error": traceback.format_exc()})
    sys.exit(3)

async def evaluate():
    request = EvaluateRequest(
        content=[ContentData(text=t) for t in texts], policy_id=policy_id, threshold=None
    )
    messages = matched = 0
    async for response in client.evaluate(request=request):
        messages += 1
        if response.policy_evaluation_report.review_result.outcome == "TRUE":
            matched += 1
    return messages, matched

async def timed():
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    messages, matched = await evaluate()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"messages": messages, "seconds": wall, "cpu_seconds": cpu, "check": matched}

loop = asyncio.new_event_loop()
reply({
    "ready": True,
    "clavata_sdk": metadata.version("clavata-sdk"),
    "grpc": grpc.__version__,
    "protobuf": google.protobuf.__version__,
    "python": platform.python_version(),
    "executable": sys.executable,
})
for line in sys.stdin:
    if line.strip() != "round":
        break
    try:
        reply(loop.run_until_complete(timed()))
    except BaseException:
        reply({"error": traceback.format_exc()})
        sys.exit(4)
loop.run_until_complete(client.close())
loop.close()
"""


def clavata_items(ctx: ScenarioContext, default: int = CLAVATA_ITEMS) -> int:
    return ctx.items or (CLAVATA_QUICK_ITEMS if ctx.quick else default)


def clavata_raw_request(texts: Sequence[str]) -> Callable[[], gateway_pb2.EvaluateRequest]:
    """Builds the EvaluateRequest for `texts` with the generated classes (what a raw-stub user does;
    the raw contenders build it in every round)."""
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire._gen.clavata.shared.v1 import public_pb2

    def build() -> gateway_pb2.EvaluateRequest:
        return gateway_pb2.EvaluateRequest(
            content_data=[public_pb2.ContentData(text=t) for t in texts], policy_id=CLAVATA_POLICY
        )

    return build


def clavata_plan(
    ctx: ScenarioContext,
    server: ServerProcess,
    texts: list[str],
    *,
    served_by: str,
    expected_check: int | None = None,
    details: dict[str, Any] | None = None,
) -> Plan:
    """The five clavata streaming contenders and their comparisons, against `server`.

    Every contender does what a user does per call: build the request from `texts`, call
    `Evaluate`, consume the whole stream and read each response's outcome; the check is the
    number of TRUE outcomes.
    """
    import grpc

    from modelwire._gen.clavata.gateway.v1 import gateway_pb2_grpc
    from modelwire._gen.clavata.shared.v1 import public_pb2
    from modelwire.clavata import AsyncClavataClient, ClavataClient, EvaluateRequest, Outcome

    n = len(texts)
    metadata = (("authorization", f"Bearer {server.api_key}"),)
    proto_true = public_pb2.OUTCOME_TRUE
    raw_request = clavata_raw_request(texts)

    def open_raw_sync() -> SyncSession:
        channel = grpc.insecure_channel(server.target)
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        def call() -> CallResult:
            messages = matched = 0
            for response in stub.Evaluate(raw_request(), metadata=metadata):
                messages += 1
                if response.policy_evaluation_report.review_result.outcome == proto_true:
                    matched += 1
            return messages, matched

        return SyncSession(call, channel.close)

    def open_modelwire_sync() -> SyncSession:
        client = ClavataClient(host=server.host, port=server.port, auth_token=server.api_key)

        def call() -> CallResult:
            messages = matched = 0
            for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                messages += 1
                report = response.report
                if report is not None and report.outcome == Outcome.TRUE:
                    matched += 1
            return messages, matched

        return SyncSession(call, client.close)

    async def open_raw_aio() -> AsyncSession:
        channel = grpc.aio.insecure_channel(server.target)
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)

        async def call() -> CallResult:
            messages = matched = 0
            async for response in stub.Evaluate(raw_request(), metadata=metadata):
                messages += 1
                if response.policy_evaluation_report.review_result.outcome == proto_true:
                    matched += 1
            return messages, matched

        async def close() -> None:
            await channel.close()

        return AsyncSession(call, close)

    async def open_modelwire_async() -> AsyncSession:
        client = AsyncClavataClient(host=server.host, port=server.port, auth_token=server.api_key)
        await client.connect()

        async def call() -> CallResult:
            messages = matched = 0
            async for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                messages += 1
                report = response.report
                if report is not None and report.outcome == Outcome.TRUE:
                    matched += 1
            return messages, matched

        return AsyncSession(call, client.close)

    async def open_modelwire_sync_async_for() -> AsyncSession:
        # The Clavata docs' own form: `ClavataClient.create()`, then `async for` over `evaluate`.
        client = ClavataClient(host=server.host, port=server.port, auth_token=server.api_key)

        async def call() -> CallResult:
            messages = matched = 0
            async for response in client.evaluate(EvaluateRequest(content=texts, policy_id=CLAVATA_POLICY)):
                messages += 1
                report = response.report
                if report is not None and report.outcome == Outcome.TRUE:
                    matched += 1
            return messages, matched

        async def close() -> None:
            client.close()

        return AsyncSession(call, close)

    def published_argv() -> list[str]:
        if ctx.skip_published:
            raise Unavailable("--skip-published")
        python = published_python("clavata")
        texts_path = ctx.workdir / "clavata_texts.json"
        texts_path.write_text(json.dumps(texts))
        return [
            str(python),
            "-I",
            "-c",
            CLAVATA_SDK_CHILD,
            server.host,
            str(server.port),
            server.api_key,
            CLAVATA_POLICY,
            str(texts_path),
        ]

    facade, ahead = 0.95, 1.0
    return Plan(
        description=(
            f"one Evaluate call streaming {n} short texts against {CLAVATA_POLICY}, served by {served_by}; "
            "each response's outcome is read; a round = build the request + call + consume the whole stream"
        ),
        messages=n,
        contenders=[
            SyncContender("raw_sync", "raw sync stub", open_raw_sync),
            SyncContender("modelwire_sync", "modelwire ClavataClient", open_modelwire_sync),
            AsyncContender("raw_aio", "raw aio stub", open_raw_aio),
            AsyncContender("modelwire_async", "modelwire AsyncClavataClient", open_modelwire_async),
            AsyncContender(
                "modelwire_sync_async_for",
                "modelwire ClavataClient, `async for` (the docs' form)",
                open_modelwire_sync_async_for,
            ),
            SubprocessContender("clavata_sdk", "clavata-sdk 1.1.0 (async)", published_argv, cwd=ctx.workdir),
        ],
        comparisons=[
            Comparison("modelwire_sync", "raw_sync", facade),
            Comparison("modelwire_async", "raw_aio", facade),
            Comparison("modelwire_sync", "clavata_sdk", ahead, strict=True),
            Comparison("modelwire_async", "clavata_sdk", ahead, strict=True),
            Comparison("modelwire_sync_async_for", "clavata_sdk", ahead, strict=True),
            # Both read long streams on a reader thread now: parity is the target (CPU/msg tells).
            Comparison("modelwire_sync_async_for", "modelwire_async", facade),
        ],
        server=server,
        expected_check=expected_check,
        details={"policy_id": CLAVATA_POLICY, "items": n, **(details or {})},
    )


def clavata_stream(ctx: ScenarioContext) -> Plan:
    """End to end against the emulator: its policy engine runs per item, so it is the bottleneck."""
    texts = clavata_texts(clavata_items(ctx))
    return clavata_plan(ctx, ctx.emulator(), texts, served_by="the emulator (end to end)")


# -- clavata streaming evaluate, replayed: the client's overhead -----------------------------------
#
# The emulator evaluates every item with its policy engine, which keeps its process about 100% busy
# at ~10k messages/s: every contender is then capped alike. The replay server records what the
# emulator streams for the bench's texts once, at start-up, and then only sends those bytes back.

# Rounds here run ~3x as fast as against the emulator: 10000 items keep a round at ~0.3 s, where
# 2000 (~0.07 s) gave round-to-round spreads of 10-20% on the 2-core reference machine, 10000 ~5-10%.
# clavata_texts() is deterministic: the first 2000 texts are clavata_stream's.
CLAVATA_REPLAY_ITEMS = 10000
CLAVATA_SERVICE = "clavata.gateway.v1.GatewayService"
CLAVATA_EVALUATE = f"/{CLAVATA_SERVICE}/Evaluate"
_REPLAY_LISTENING = re.compile(r"replay server listening on (\S+):(\d+)")
_REPLAY_RECORDED = re.compile(r"^replay recorded: (\{.*\})$", re.MULTILINE)


def record_clavata_stream(texts: Sequence[str], api_key: str = API_KEY) -> list[bytes]:
    """The serialized EvaluateResponses, as on the wire, that the real emulator (in this process,
    stopped afterwards) streams for `texts`."""
    import grpc

    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire.emulator import Emulator

    emulator = Emulator(host=HOST, api_key=api_key).start()
    try:
        with grpc.insecure_channel(emulator.address) as channel:
            evaluate: grpc.UnaryStreamMultiCallable[gateway_pb2.EvaluateRequest, bytes] = (
                channel.unary_stream(
                    CLAVATA_EVALUATE,
                    request_serializer=gateway_pb2.EvaluateRequest.SerializeToString,
                    response_deserializer=None,  # keep the bytes
                )
            )
            return list(
                evaluate(clavata_raw_request(texts)(), metadata=(("authorization", f"Bearer {api_key}"),))
            )
    finally:
        emulator.stop()


def describe_recording(responses: Sequence[bytes]) -> dict[str, int]:
    """What the recorded responses hold: the TRUE outcomes (the rounds' check) and the report shapes."""
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire._gen.clavata.shared.v1 import public_pb2

    reports = [gateway_pb2.EvaluateResponse.FromString(r).policy_evaluation_report for r in responses]
    return {
        "responses": len(responses),
        "bytes": sum(len(r) for r in responses),
        "true_outcomes": sum(r.review_result.outcome == public_pb2.OUTCOME_TRUE for r in reports),
        "sections": sum(len(r.section_evaluation_reports) for r in reports),
        "assertions": sum(
            len(s.assertion_evaluation_reports) for r in reports for s in r.section_evaluation_reports
        ),
        "label_matches": sum(len(r.label_matches) for r in reports),
        "with_token_usage": sum(r.HasField("token_usage") for r in reports),
    }


async def serve_replay(responses: Sequence[bytes], host: str) -> None:
    """Serve `Evaluate` on a free port of `host` until SIGTERM / SIGINT: for a request of n content
    items, stream the first n recorded responses as they are (no serializer on either side)."""
    import grpc

    from modelwire._gen.clavata.gateway.v1 import gateway_pb2

    # Counting the items by parsing the whole request with the generated class (upb, in C) costs
    # ~0.03 us per item; scanning the wire format for field 1 in Python ~0.18 us: the parse it is.
    parse_request = gateway_pb2.EvaluateRequest.FromString
    recorded = len(responses)

    async def evaluate(
        request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        # the `authorization` metadata is accepted and ignored
        wanted = len(parse_request(request).content_data)
        if wanted > recorded:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"{wanted} content items, but only {recorded} recorded"
            )
        for response in itertools.islice(responses, wanted):
            yield response

    handler = grpc.method_handlers_generic_handler(
        CLAVATA_SERVICE,
        {
            "Evaluate": grpc.unary_stream_rpc_method_handler(
                evaluate, request_deserializer=None, response_serializer=None
            )
        },
    )
    server = grpc.aio.server(
        handlers=[handler],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 64 * 2**20)],
    )
    port = server.add_insecure_port(f"{host}:0")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    print(f"replay server listening on {host}:{port}", flush=True)
    await stop.wait()
    await server.stop(None)


def replay_server_main(spec_path: Path) -> int:
    """The replay server's process (`run.py --replay-server SPEC.json`, started by
    start_replay_server): record from the emulator, print what was recorded, serve until SIGTERM."""
    spec = json.loads(spec_path.read_text())
    started = time.perf_counter()
    responses = record_clavata_stream(spec["texts"], spec["api_key"])
    summary: dict[str, Any] = {**describe_recording(responses), "seconds": time.perf_counter() - started}
    print(f"replay recorded: {json.dumps(summary)}", flush=True)
    gc.collect()
    asyncio.run(serve_replay(responses, spec["host"]))
    return 0


def start_replay_server(ctx: ScenarioContext, texts: Sequence[str]) -> tuple[ServerProcess, dict[str, Any]]:
    """The replay server for `texts` in its own process (pinned like the emulator), and what it recorded."""
    spec = ctx.workdir / "replay_spec.json"
    spec.write_text(json.dumps({"texts": list(texts), "host": HOST, "api_key": API_KEY}))
    server = ctx.serve(
        "replay server",
        [sys.executable, str(Path(__file__).resolve()), "--replay-server", str(spec)],
        ready=_REPLAY_LISTENING,
        timeout=STARTUP_TIMEOUT + len(texts) / 1000,  # the recording runs at ~10k items/s
    )
    match = _REPLAY_RECORDED.search(server.log_text())
    if match is None:
        raise BenchError(f"the replay server did not say what it recorded:\n{_tail(server.log_path)}")
    recording: dict[str, Any] = json.loads(match.group(1))
    if recording["responses"] != len(texts):
        raise BenchError(
            f"the replay server recorded {recording['responses']} responses for {len(texts)} texts"
        )
    return server, recording


def clavata_stream_replay(ctx: ScenarioContext) -> Plan:
    """The same contenders against the replay server: the client, not the server, is the bottleneck."""
    texts = clavata_texts(clavata_items(ctx, CLAVATA_REPLAY_ITEMS))
    server, recording = start_replay_server(ctx, texts)
    return clavata_plan(
        ctx,
        server,
        texts,
        served_by="a replay server (the emulator's responses, recorded once, sent back as bytes)",
        expected_check=int(recording["true_outcomes"]),
        details={"recording": recording},
    )


# -- clarifai: upload text inputs in bulk, then list them back -------------------------------------
#
# Both SDKs against the same emulator, each round into a fresh app: build N text inputs and upload
# them with the SDK's bulk path (which waits for the add-jobs), then list the app's inputs back twice:
# with the SDK's default page size, and 1000 per page. Every listing must return exactly the ids
# uploaded. RPCs are counted on the client side by the same interceptor in both processes
# (CallCounter): `modelwire serve` keeps its call log (Emulator.calls) to itself.

CLARIFAI_ITEMS = 10_000
CLARIFAI_QUICK_ITEMS = 300  # three upload batches (128, 128, 44) and three default pages
CLARIFAI_USER = "demo"  # the emulator's user; its API key is this user's PAT
CLARIFAI_BATCH = 128  # inputs per PostInputs in both bulk uploads (the API's and both SDKs' maximum)
CLARIFAI_PAGE = 1000  # page size of the per_page listing: the API's maximum, so the fewest calls
CLARIFAI_OUR_DEFAULT_PAGE = 128  # modelwire's list_inputs() without per_page
CLARIFAI_SDK_VENV = "clarifai-sdk"  # bench-only venv: `make compat` checks clarifai-grpc, not this
CLARIFAI_SDK_REQUIREMENT = "clarifai==12.5.0"
CLARIFAI_METHODS = ("PostInputs", "GetInputsAddJob", "ListInputs", "DeleteInputs")
UPLOAD, LIST_DEFAULT, LIST_PAGED = "upload", "list_default", f"list_{CLARIFAI_PAGE}"


def clarifai_items(n: int) -> list[tuple[str, str]]:
    """n (input id, text) pairs, deterministic (the texts are clavata_texts(n))."""
    return [(f"bench-{i:05d}", text) for i, text in enumerate(clavata_texts(n))]


def clarifai_round(
    clock: PhaseClock,
    expected: Sequence[str],
    upload: Callable[[], None],
    list_default: Callable[[], Sequence[str]],
    list_paged: Callable[[], Sequence[str]],
) -> Outcome:
    """One round of clarifai_upload_list, the same for both SDKs (the child runs it too): `upload`
    builds the inputs and uploads them; each listing returns the ids it listed, which are then
    checked (untimed) against `expected`."""
    with clock.phase(UPLOAD):
        upload()
    listed = 0
    for name, listing in ((LIST_DEFAULT, list_default), (LIST_PAGED, list_paged)):
        with clock.phase(name):
            ids = listing()
        listed = check_listing(name, ids, expected)
    return clock.outcome(listed, listed)


# The published clarifai SDK runs in a child process (its clarifai-grpc descriptors collide with our
# generated modules'): python -I -c CLARIFAI_SDK_CHILD BENCH_RUN_PY CONFIG_JSON, in its venv. The child
# loads this file (as module `modelwire_bench`), counts every channel made from then on with a
# CallCounter, and calls the driver the config names: a function of this file, `(config, counter) ->
# SdkRound`, which does the untimed set-up (its RPCs are reported on the ready line as `setup_calls`).
# Per `round {args}` line, the SdkRound prepares the round (untimed) and returns its call, which the
# child times with _time_sync: so both sides count, time and check alike.
CLARIFAI_SDK_CHILD = r"""
import importlib.util, json, logging, os, platform, sys, traceback
from importlib import metadata

protocol = os.fdopen(os.dup(1), "w")  # the replies only: the SDK's prints and logs go to stderr
os.dup2(2, 1)
sys.stdout = sys.stderr
os.environ["TQDM_DISABLE"] = "1"  # its upload progress bar
os.environ["LOG_LEVEL"] = "ERROR"  # its logger warns per batch, e.g. "Failed to upload 0 inputs"

def reply(obj):
    protocol.write(json.dumps(obj) + "\n")
    protocol.flush()

try:
    bench_path, config_path = sys.argv[1:3]
    spec = importlib.util.spec_from_file_location("modelwire_bench", bench_path)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["modelwire_bench"] = bench
    spec.loader.exec_module(bench)
    with open(config_path) as f:
        config = json.load(f)
    counter = bench.CallCounter()
    counter.patch_channels()  # every channel the SDK makes from now on is counted
    import google.protobuf, grpc
    prepare_round = getattr(bench, config["driver"])(config, counter)
    logging.getLogger("clarifai").setLevel(logging.ERROR)
except BaseException:
    reply({"error": traceback.format_exc()})
    sys.exit(3)

reply({
    "ready": True,
    "clarifai": metadata.version("clarifai"),
    "clarifai_grpc": metadata.version("clarifai-grpc"),
    "grpc": grpc.__version__,
    "protobuf": google.protobuf.__version__,
    "python": platform.python_version(),
    "executable": sys.executable,
    "setup_calls": counter.snapshot()[0],
})
for line in sys.stdin:
    command, _, arguments = line.strip().partition(" ")
    if command != "round":
        break
    try:
        call = prepare_round(json.loads(arguments or "{}"))
        reply(bench._time_sync(call).to_json())
    except BaseException:
        reply({"error": traceback.format_exc()})
        sys.exit(4)
"""

SdkRound = Callable[[dict[str, Any]], Callable[[], Outcome]]  # round args -> the round's timed call
SdkDriver = Callable[[dict[str, Any], CallCounter], SdkRound]


def clarifai_sdk_contender(
    ctx: ScenarioContext,
    driver: SdkDriver,
    config: dict[str, Any],
    *,
    round_args: Callable[[], dict[str, Any]] | None = None,
) -> SubprocessContender:
    """The published clarifai SDK as a contender: its bench-only venv's python running `driver` (a
    function of this file, looked up by name in the child) with `config` (JSON)."""

    def argv() -> list[str]:
        if ctx.skip_published:
            raise Unavailable("--skip-published")
        python = bench_python(CLARIFAI_SDK_VENV, CLARIFAI_SDK_REQUIREMENT)
        path = ctx.workdir / f"{driver.__name__}.json"
        path.write_text(json.dumps({"driver": driver.__name__, **config}))
        return [str(python), "-I", "-c", CLARIFAI_SDK_CHILD, str(Path(__file__).resolve()), str(path)]

    return SubprocessContender(
        "clarifai_sdk", "clarifai 12.5.0 (published SDK)", argv, cwd=ctx.workdir, round_args=round_args
    )


def _published(module: str) -> Any:
    """A module of the published SDK: importable in its child process only."""
    return importlib.import_module(module)


def clarifai_sdk_upload_list(config: dict[str, Any], counter: CallCounter) -> SdkRound:
    """clarifai_upload_list's published side (in the child): per round an Inputs of that round's app,
    what its users write; _bulk_upload as Dataset.upload_from_csv uses it."""
    inputs_class = _published("clarifai.client.input").Inputs
    items, page, batch = config["items"], config["page"], config["batch"]
    expected = [input_id for input_id, _ in items]

    def prepare(args: dict[str, Any]) -> Callable[[], Outcome]:
        inputs = inputs_class(
            user_id=config["user_id"], app_id=args["app_id"], base_url=config["base_url"], pat=config["pat"]
        )

        def upload() -> None:
            inputs._bulk_upload(
                [inputs.get_text_input(input_id, text) for input_id, text in items], batch_size=batch
            )

        def list_default() -> list[str]:
            return [i.id for i in inputs.list_inputs()]

        def list_paged() -> list[str]:
            # list_inputs(per_page=...) fetches that one page only: page through as a user must
            ids: list[str] = []
            page_no = 1
            while True:
                got = [i.id for i in inputs.list_inputs(page_no=page_no, per_page=page)]
                ids += got
                if len(got) < page:
                    return ids
                page_no += 1

        return lambda: clarifai_round(
            PhaseClock(counter, config["server_pid"]), expected, upload, list_default, list_paged
        )

    return prepare


class FreshApps:
    """A new app for each round of each contender (the contender's previous one is deleted), made
    before the round, untimed, by a client of its own whose calls are not counted."""

    def __init__(self, user: Any, prefix: str) -> None:
        self._user = user
        self._prefix = prefix
        self._made = 0
        self._current: dict[str, str] = {}

    def fresh(self, key: str) -> str:
        self.drop(key)
        self._made += 1
        app_id = f"{self._prefix}-{key.replace('_', '-')}-{self._made}"
        self._user.create_app(app_id).close()
        self._current[key] = app_id
        return app_id

    def drop(self, key: str) -> None:
        app_id = self._current.pop(key, None)
        if app_id is not None:
            try:
                self._user.delete_app(app_id)
            except Exception as exc:  # the emulator keeps it: only memory is lost
                _log(f"could not delete app {app_id}: {exc}")

    def close(self) -> None:
        for key in list(self._current):
            self.drop(key)


def clarifai_upload_list(ctx: ScenarioContext) -> Plan:
    """modelwire's Inputs against the published clarifai SDK (its own venv, a child process)."""
    from modelwire.clarifai import Inputs, User

    n = ctx.items or (CLARIFAI_QUICK_ITEMS if ctx.quick else CLARIFAI_ITEMS)
    items = clarifai_items(n)
    expected = [input_id for input_id, _ in items]
    server = ctx.emulator("--user-id", CLARIFAI_USER)
    base_url = f"http://{server.target}"
    admin = User(user_id=CLARIFAI_USER, base_url=base_url, pat=server.api_key)
    ctx.stack.callback(admin.close)
    apps = FreshApps(admin, f"bench-{os.getpid()}")
    ctx.stack.callback(apps.close)  # runs before admin.close and the emulator's stop

    def open_modelwire() -> SyncSession:
        counter = CallCounter()
        with counter.counting_channels():
            user = User(user_id=CLARIFAI_USER, base_url=base_url, pat=server.api_key)
        current: list[Inputs] = []

        def prepare() -> None:
            for old in current:
                old.close()
            app = user.app(apps.fresh("modelwire"))  # one GetApp, outside the phases
            current[:] = [app.inputs()]
            app.close()

        def call() -> Outcome:
            (inputs,) = current

            def upload() -> None:
                built = [inputs.get_text_input(input_id, text) for input_id, text in items]
                summary = inputs.upload_inputs_bulk(built, show_progress=False)
                if summary.failed:
                    raise BenchError(f"modelwire: {len(summary.failed)} inputs failed to upload: {summary}")

            return clarifai_round(
                PhaseClock(counter, server.pid),
                expected,
                upload,
                lambda: [i.id for i in inputs.list_inputs()],
                lambda: [i.id for i in inputs.list_inputs(per_page=CLARIFAI_PAGE)],
            )

        def close() -> None:
            for old in current:
                old.close()
            user.close()
            apps.drop("modelwire")

        return SyncSession(call, close, prepare)

    published_config = {
        "base_url": base_url,
        "user_id": CLARIFAI_USER,
        "pat": server.api_key,
        "server_pid": server.pid,
        "items": items,
        "page": CLARIFAI_PAGE,
        "batch": CLARIFAI_BATCH,
    }

    ours, theirs = "modelwire", "clarifai_sdk"
    default_pages, paged_pages = n // CLARIFAI_OUR_DEFAULT_PAGE + 1, n // CLARIFAI_PAGE + 1
    no_total = "a full last page costs one more call: ListInputs has no total"
    return Plan(
        description=(
            f"{n} text inputs uploaded into a fresh app per round and contender, then listed back twice; "
            f"one emulator. upload = build the inputs + the SDK's bulk upload, which waits for the "
            f"add-jobs (modelwire: upload_inputs_bulk(show_progress=False); clarifai: "
            f"Inputs._bulk_upload(batch_size={CLARIFAI_BATCH}), as Dataset.upload_from_csv does). "
            f"{LIST_DEFAULT} = list(list_inputs()), each SDK's default page size (modelwire "
            f"{CLARIFAI_OUR_DEFAULT_PAGE}, clarifai: per_page unset, the server's default). {LIST_PAGED} = "
            f"{CLARIFAI_PAGE} per page (modelwire: list_inputs(per_page={CLARIFAI_PAGE}); clarifai: its "
            "list_inputs(per_page=...) returns one page, so "
            f"list_inputs(page_no=p, per_page={CLARIFAI_PAGE}) for p = 1, 2, ... until a short page). "
            "Every listing must return exactly the uploaded ids. "
            "RPCs counted client-side by the same gRPC interceptor in both processes. Throughput ratio "
            "= clarifai's median time / modelwire's."
        ),
        messages=n,
        contenders=[
            SyncContender(ours, "modelwire Inputs", open_modelwire),
            clarifai_sdk_contender(
                ctx,
                clarifai_sdk_upload_list,
                published_config,
                round_args=lambda: {"app_id": apps.fresh(theirs)},
            ),
        ],
        comparisons=[
            Comparison(ours, theirs, 3.0, phase=UPLOAD),
            Comparison(
                ours,
                theirs,
                2.0,
                phase=LIST_PAGED,
                denominator_phase=LIST_DEFAULT,
                title=f"list as used: modelwire per_page={CLARIFAI_PAGE} / clarifai list_inputs()",
            ),
            Comparison(ours, theirs, 2.0, phase=LIST_DEFAULT),
            Comparison(ours, theirs, 2.0, phase=LIST_PAGED),
        ],
        server=server,
        expected_check=n,
        unit="inputs/s",
        item="input",
        details={
            "items": n,
            "user_id": CLARIFAI_USER,
            "batch": CLARIFAI_BATCH,
            "page": CLARIFAI_PAGE,
            "modelwire_default_page": CLARIFAI_OUR_DEFAULT_PAGE,
            "published": CLARIFAI_SDK_REQUIREMENT,
            "rpc_counts": "client-side, by a gRPC interceptor (CallCounter) in each process",
        },
        call_methods=CLARIFAI_METHODS,
        budgets=[
            CallBudget(
                ours, UPLOAD, "PostInputs", math.ceil(n / CLARIFAI_BATCH), f"one per {CLARIFAI_BATCH}"
            ),
            CallBudget(ours, UPLOAD, "ListInputs", 0, "no re-listing when the add-jobs report success"),
            CallBudget(ours, UPLOAD, "DeleteInputs", 0, "nothing to delete when every input succeeded"),
            CallBudget(
                ours,
                LIST_DEFAULT,
                "ListInputs",
                default_pages,
                f"{n} // {CLARIFAI_OUR_DEFAULT_PAGE} + 1: {no_total}",
            ),
            CallBudget(
                ours, LIST_PAGED, "ListInputs", paged_pages, f"{n} // {CLARIFAI_PAGE} + 1: {no_total}"
            ),
        ],
    )


# -- clarifai: predict with a built-in model, in batches of 1, 32 and 128 --------------------------
#
# Both SDKs predict with the emulator's built-in `general-text-classification` (owned by user
# `clarifai`, app `main`; any key may use it) on short texts. A round has one phase per batch size:
# a loop of sequential predict calls of that many inputs each, every call timed on its own. The
# inputs are built once per process (untimed), the same ids and texts on both sides; every response
# must hold one output per input, in order (checked after the phase, untimed).

PREDICT_USER, PREDICT_APP = "clarifai", "main"  # the owner of the emulator's built-in models
PREDICT_MODEL = "general-text-classification"
PREDICT_CALLS = {1: 200, 32: 40, 128: 20}  # calls per phase, by batch size (128: the API's maximum)
PREDICT_QUICK_CALLS = {1: 20, 32: 3, 128: 2}
PREDICT_METHODS = ("PostModelOutputs", "GetModel", "GetModelType", "GetModelVersion")
CLARIFAI_SUCCESS = 10000  # status_code_pb2.SUCCESS (the child has other generated modules than ours)

_REVIEWS = (
    "the pizza was great",
    "terrible flight and a rude crew",
    "my new laptop is not bad at all",
    "the match was boring",
    "lovely sunny weather for the beach",
    "stock prices fell again today",
    "the hotel was fine",
    "an awesome team and a brilliant coach",
    "the app is slow and the code is broken",
    "dinner at the restaurant was delicious",
    "rain all week, what a dreadful holiday",
    "the meeting moved to tuesday",
)


def predict_texts(n: int, seed: int = 20251124) -> list[str]:
    """n short texts (reviews of sorts, with sentiment and topic words); deterministic."""
    rng = random.Random(seed)
    return [f"{rng.choice(_REVIEWS)} ({i})" for i in range(n)]


def predict_phase(batch: int) -> str:
    return f"batch_{batch}"


def predict_calls(ctx: ScenarioContext) -> dict[int, int]:
    """Calls per phase by batch size; --items N makes N batch-1 calls and scales the others alike."""
    if ctx.items is not None:
        scale = ctx.items / PREDICT_CALLS[1]
        return {batch: max(1, round(calls * scale)) for batch, calls in PREDICT_CALLS.items()}
    return dict(PREDICT_QUICK_CALLS if ctx.quick else PREDICT_CALLS)


def predict_requests(calls: dict[int, int]) -> dict[str, list[list[tuple[str, str]]]]:
    """Per phase, the (input id, text) pairs of each call: `calls[b]` calls of b inputs each."""
    texts = predict_texts(max(b * c for b, c in calls.items()))
    return {
        predict_phase(b): [[(f"b{b}-{k * b + j:05d}", texts[k * b + j]) for j in range(b)] for k in range(c)]
        for b, c in calls.items()
    }


def predict_inputs(resources: Any, requests: dict[str, list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """The text Input protos of predict_requests(), from `resources` (a generated resources_pb2 module:
    ours here, clarifai-grpc's in the published SDK's child)."""
    return {
        phase: [
            [
                resources.Input(id=input_id, data=resources.Data(text=resources.Text(raw=text)))
                for input_id, text in batch
            ]
            for batch in batches
        ]
        for phase, batches in requests.items()
    }


def check_predictions(what: str, batch: Sequence[Any], response: Any) -> int:
    """The outputs of one predict call that score `positive` above `negative`; BenchError unless the
    call succeeded with one output per input, in input order."""
    if response.status.code != CLARIFAI_SUCCESS:
        raise BenchError(f"{what}: predict answered {response.status.code} {response.status.description!r}")
    got, sent = [o.input.id for o in response.outputs], [i.id for i in batch]
    if got != sent:
        raise BenchError(f"{what}: {len(got)} outputs for {len(sent)} inputs, or not in input order")
    positive = 0
    for output in response.outputs:
        scores = {c.id: c.value for c in output.data.concepts}
        positive += scores.get("positive", 0.0) > scores.get("negative", 0.0)
    return positive


def clarifai_predict_round(
    clock: PhaseClock, phases: dict[str, list[list[Any]]], predict: Callable[[list[Any]], Any]
) -> Outcome:
    """One round of clarifai_predict, the same for both SDKs (the child runs it too): per phase,
    `predict` once per batch, each call timed; then (untimed) every response is checked. The check
    is the number of outputs scoring positive above negative."""
    inputs = positive = 0
    for name, batches in phases.items():
        count = sum(len(batch) for batch in batches)
        responses = []
        with clock.phase(name, messages=count) as call_seconds:
            for batch in batches:
                start = time.perf_counter()
                responses.append(predict(batch))
                call_seconds.append(time.perf_counter() - start)
        for batch, response in zip(batches, responses, strict=True):
            positive += check_predictions(name, batch, response)
        inputs += count
    return clock.outcome(inputs, positive)


def clarifai_sdk_predict(config: dict[str, Any], counter: CallCounter) -> SdkRound:
    """clarifai_predict's published side (in the child): one Model, built once (its constructor
    calls GetModel: set-up), and `predict(inputs=[Input, ...])` per call, as its users write it."""
    model_class = _published("clarifai.client.model").Model
    resources = _published("clarifai_grpc.grpc.api.resources_pb2")
    model = model_class(
        user_id=config["user_id"],
        app_id=config["app_id"],
        model_id=config["model_id"],
        base_url=config["base_url"],
        pat=config["pat"],
    )
    phases = predict_inputs(resources, config["requests"])

    def predict(batch: list[Any]) -> Any:
        return model.predict(inputs=batch)

    return lambda _args: (
        lambda: clarifai_predict_round(PhaseClock(counter, config["server_pid"]), phases, predict)
    )


def clarifai_predict(ctx: ScenarioContext) -> Plan:
    """modelwire's Model.predict against the published clarifai SDK's, batches of 1, 32 and 128."""
    from modelwire._gen.clarifai.api import resources_pb2
    from modelwire.clarifai import Model

    calls = predict_calls(ctx)
    requests = predict_requests(calls)
    phases = list(requests)
    n = sum(b * c for b, c in calls.items())
    server = ctx.emulator()
    base_url = f"http://{server.target}"
    ids = {"user_id": PREDICT_USER, "app_id": PREDICT_APP, "model_id": PREDICT_MODEL}

    def open_modelwire() -> SyncSession:
        counter = CallCounter()
        with counter.counting_channels():  # the Model's channel is made here: no RPC yet
            model = Model(
                model_id=PREDICT_MODEL,
                user_id=PREDICT_USER,
                app_id=PREDICT_APP,
                base_url=base_url,
                pat=server.api_key,
            )
        inputs = predict_inputs(resources_pb2, requests)
        return SyncSession(
            lambda: clarifai_predict_round(PhaseClock(counter, server.pid), inputs, model.predict),
            model.close,
            info={"setup_calls": counter.snapshot()[0]},
        )

    def open_raw_stub() -> SyncSession:
        """The floor of any client's cost: our generated V2 stub, a request template copied per call
        with the batch appended (what the published proto path does), no checks, no wrapping."""
        import grpc

        from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc

        counter = CallCounter()
        with counter.counting_channels():
            channel = grpc.insecure_channel(server.target)
        stub = service_pb2_grpc.V2Stub(channel)
        metadata = (("authorization", f"Key {server.api_key}"),)
        template = service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=PREDICT_USER, app_id=PREDICT_APP),
            model_id=PREDICT_MODEL,
        )

        def predict(batch: list[Any]) -> Any:
            request = service_pb2.PostModelOutputsRequest()
            request.CopyFrom(template)
            request.inputs.extend(batch)
            return stub.PostModelOutputs(request, metadata=metadata)

        inputs = predict_inputs(resources_pb2, requests)
        return SyncSession(
            lambda: clarifai_predict_round(PhaseClock(counter, server.pid), inputs, predict), channel.close
        )

    published_config = {**ids, "base_url": base_url, "pat": server.api_key, "server_pid": server.pid}
    ours, theirs, raw = "modelwire", "clarifai_sdk", "raw_stub"
    sizes = ", ".join(f"{predict_phase(b)} = {c} calls of {b}" for b, c in calls.items())
    budgets = []
    for b, c in calls.items():
        phase = predict_phase(b)
        budgets += [
            CallBudget(ours, phase, "PostModelOutputs", c, "one per call", least=c),
            CallBudget(ours, phase, "GetModel", 0, "the Model needs no model info to predict"),
            CallBudget(ours, phase, "GetModelType", 0, "nor the model type"),
        ]
    return Plan(
        description=(
            f"predict with the emulator's built-in {PREDICT_USER}/{PREDICT_APP} {PREDICT_MODEL} on short "
            f"texts, sequential calls, one emulator: {sizes}; each call timed (latency), the inputs built "
            "once (untimed), every response checked for one output per input in order. modelwire: "
            f"Model(model_id=..., user_id=..., app_id=...).predict(inputs) (no RPC at construction); "
            "clarifai: Model(...) (GetModel at construction, set-up) then predict(inputs=[Input, ...]). "
            "RPCs counted client-side by the same gRPC interceptor in both processes. Throughput ratio = "
            "clarifai's median phase time / modelwire's."
        ),
        messages=n,
        contenders=[
            SyncContender(raw, "raw V2 stub", open_raw_stub),
            SyncContender(ours, "modelwire Model", open_modelwire),
            clarifai_sdk_contender(ctx, clarifai_sdk_predict, {**published_config, "requests": requests}),
        ],
        comparisons=[Comparison(ours, theirs, 2.0, phase=phase) for phase in phases]
        + [Comparison(ours, raw, 0.95, phase=phase) for phase in phases]
        # the ceiling: how far the published SDK is from the bare stub (no target: a reference)
        + [Comparison(theirs, raw, None, phase=phase) for phase in phases],
        server=server,
        unit="inputs/s",
        item="input",
        details={
            **ids,
            "calls": {predict_phase(b): c for b, c in calls.items()},
            "inputs": {predict_phase(b): b * c for b, c in calls.items()},
            "published": CLARIFAI_SDK_REQUIREMENT,
            "rpc_counts": "client-side, by a gRPC interceptor (CallCounter) in each process",
        },
        call_methods=PREDICT_METHODS,
        budgets=budgets,
    )


# -- decthings: add entries, evaluate (bench/decthings.py) -----------------------------------------


def _decthings() -> ModuleType:
    """bench/decthings.py, imported by path; its plan builders take this module (the harness)."""
    name = "modelwire_bench_decthings"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "decthings.py")
        if spec is None or spec.loader is None:
            raise BenchError(f"cannot load {ROOT / 'bench' / 'decthings.py'}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def decthings_add_entries(ctx: ScenarioContext) -> Plan:
    plan: Plan = _decthings().add_entries_plan(sys.modules[__name__], ctx)
    return plan


def decthings_evaluate(ctx: ScenarioContext) -> Plan:
    plan: Plan = _decthings().evaluate_plan(sys.modules[__name__], ctx)
    return plan


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("clavata_stream", "clavata streaming evaluate", clavata_stream),
        Scenario("clavata_stream_replay", "clavata streaming evaluate, replayed", clavata_stream_replay),
        Scenario(
            "clarifai_upload_list",
            "clarifai bulk upload + list inputs",
            clarifai_upload_list,
            rounds=3,  # a round of the published SDK uploads 10,000 inputs: heavy
            warmup=1,
        ),
        Scenario("clarifai_predict", "clarifai predict, batches of 1, 32 and 128", clarifai_predict),
        Scenario("decthings_add_entries", "decthings add dataset entries", decthings_add_entries),
        Scenario("decthings_evaluate", "decthings evaluate, sequential and 16 in flight", decthings_evaluate),
        # a scenario that needs more of the emulator starts it with e.g. ctx.emulator("--http-port", "0")
    )
}


# --------------------------------------------------------------------------------------------------
# Reporting


def _fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _fmt_us(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def ratio(results: dict[str, ContenderResult], comparison: Comparison) -> float | None:
    top = results[comparison.numerator].median_rate(comparison.phase)
    bottom = results[comparison.denominator].median_rate(comparison.bottom_phase)
    return top / bottom if top is not None and bottom else None


def cpu_ratio(results: dict[str, ContenderResult], comparison: Comparison) -> float | None:
    """numerator's median client CPU per message / denominator's (below 1: the numerator is cheaper)."""
    top = results[comparison.numerator].median_cpu_us(comparison.phase)
    bottom = results[comparison.denominator].median_cpu_us(comparison.bottom_phase)
    return top / bottom if top is not None and bottom else None


def _phases(results: dict[str, ContenderResult]) -> list[str]:
    """Every phase some contender's rounds had, in the order they ran."""
    return list(dict.fromkeys(p for r in results.values() if r.ok for p in r.phases()))


def _fmt_calls(values: list[int]) -> str:
    """The median calls over the rounds, with the range when the rounds differed."""
    median = statistics.median(values)
    text = f"{median:g}"
    return text if min(values) == max(values) else f"{text} ({min(values)}-{max(values)})"


def _rate_lines(plan: Plan, results: dict[str, ContenderResult], phases: list[str]) -> list[str]:
    """Throughput per contender: one row per contender, or per phase and contender."""
    width = max(len("contender"), *(len(r.label) for r in results.values()))
    pwidth = max((len("phase"), *(len(p) for p in phases))) if phases else 0
    lead = f"{'phase':<{pwidth}}  " if phases else ""
    seconds = f"  {'median s':>9}" if phases else ""
    cpu_head = f"client CPU us/{plan.item}"
    head = (
        f"{lead}{'contender':<{width}}  {'median ' + plan.unit:>15}  {'min':>9}  {'max':>9}  "
        f"{'spread':>6}{seconds}  {cpu_head:>17}  {'server busy':>11}"
    )
    lines = [head, "-" * len(head)]
    rows: list[tuple[str | None, ContenderResult]] = [
        (p, r) for p in phases for r in results.values() if r.ok and p in r.phases()
    ]
    if not phases:
        rows = [(None, r) for r in results.values() if r.ok]
    for phase, r in rows:
        rates = r.rates(phase)
        median = r.median_rate(phase) or 0.0
        spread = (max(rates) - min(rates)) / median * 100 if median else 0.0
        server = r.median_server_busy(phase)
        busy = "-" if server is None else f"{server * 100:.0f}%"
        lead = f"{phase:<{pwidth}}  " if phases else ""
        seconds = f"  {r.median_seconds(phase) or 0.0:>9.3f}" if phases else ""
        lines.append(
            f"{lead}{r.label:<{width}}  {_fmt_rate(median):>15}  {_fmt_rate(min(rates)):>9}  "
            f"{_fmt_rate(max(rates)):>9}  {spread:>5.0f}%{seconds}  {_fmt_us(r.median_cpu_us(phase)):>17}  "
            f"{busy:>11}"
        )
    for r in results.values():
        if not r.ok:
            first = (r.reason or "").splitlines()[0] if r.reason else ""
            lead = f"{'-':<{pwidth}}  " if phases else ""
            lines.append(f"{lead}{r.label:<{width}}  {r.status}: {first}")
    return lines


def _ratio_lines(plan: Plan, results: dict[str, ContenderResult]) -> list[str]:
    names = [c.name(results) for c in plan.comparisons]
    cwidth = max(len("ratio (median throughput)"), *(len(n) for n in names))
    head = (
        f"{'ratio (median throughput)':<{cwidth}}  {'value':>7}  {'target':>9}  result  {'CPU/msg ratio':>13}"
    )
    lines = [head, "-" * len(head)]
    for name, c in zip(names, plan.comparisons, strict=True):
        value, cpu_value = ratio(results, c), cpu_ratio(results, c)
        cpu = "-" if cpu_value is None else f"{cpu_value:.2f}x"
        shown = "-" if value is None else f"{value:.3f}x"
        lines.append(f"{name:<{cwidth}}  {shown:>7}  {c.target_text:>9}  {c.verdict(value):<6}  {cpu:>13}")
    return lines


def _call_lines(plan: Plan, results: dict[str, ContenderResult], phases: list[str]) -> list[str]:
    """RPCs per round by method, per phase and contender (median over the rounds, range if they differ)."""
    seen = {
        m for r in results.values() if r.ok for s in r.samples for p in s.phases.values() for m in p.calls
    }
    methods = [*plan.call_methods, *sorted(seen - set(plan.call_methods))]
    rows = [(p, r) for p in phases for r in results.values() if r.ok and p in r.phases()]
    width = max(len("contender"), *(len(r.label) for _, r in rows))
    pwidth = max(len("phase"), *(len(p) for p in phases))
    cells = [
        [
            *(_fmt_calls(r.calls(p, m)) for m in methods),
            _fmt_calls([sum(s.phases[p].calls.values()) for s in r.samples]),
            _fmt_calls([sum(n for m, n in s.phases[p].empty.items()) for s in r.samples]),
        ]
        for p, r in rows
    ]
    titles = [*methods, "total", "empty pages"]
    widths = [max(len(t), *(len(c[i]) for c in cells)) for i, t in enumerate(titles)]
    head = f"{'phase':<{pwidth}}  {'contender':<{width}}  " + "  ".join(
        f"{t:>{w}}" for t, w in zip(titles, widths, strict=True)
    )
    lines = [
        "RPC calls per round, by method (median over the rounds; the range when they differ); "
        "empty pages: List calls that returned no items",
        head,
        "-" * len(head),
    ]
    for (p, r), row in zip(rows, cells, strict=True):
        lines.append(
            f"{p:<{pwidth}}  {r.label:<{width}}  "
            + "  ".join(f"{c:>{w}}" for c, w in zip(row, widths, strict=True))
        )
    return lines


def _budget_lines(plan: Plan, results: dict[str, ContenderResult]) -> list[str]:
    names = [f"{results[b.contender].label}, {b.phase}: {b.method}" for b in plan.budgets]
    counts = []
    for b in plan.budgets:
        fewest, worst = b.fewest(results), b.worst(results)
        counts.append("-" if worst is None else str(worst) if fewest == worst else f"{fewest}-{worst}")
    width = max(len("RPC budget (every round)"), *(len(n) for n in names))
    cwidth = max(len("calls"), *(len(c) for c in counts))
    bwidth = max(len("budget"), *(len(b.budget_text) for b in plan.budgets))
    head = f"{'RPC budget (every round)':<{width}}  {'calls':>{cwidth}}  {'budget':>{bwidth}}  result  why"
    lines = [head, "-" * len(head)]
    for name, count, b in zip(names, counts, plan.budgets, strict=True):
        lines.append(
            f"{name:<{width}}  {count:>{cwidth}}  {b.budget_text:>{bwidth}}  {b.verdict(results):<6}  {b.why}"
        )
    return lines


def _percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-quantile (0 < q <= 1) of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency_summary(call_seconds: Sequence[float]) -> dict[str, float | int]:
    """Median, p90 and max of per-call wall times, in ms (empty when the calls were not timed)."""
    if not call_seconds:
        return {}
    return {
        "timed_calls": len(call_seconds),
        "median_call_ms": statistics.median(call_seconds) * 1e3,
        "p90_call_ms": _percentile(call_seconds, 0.9) * 1e3,
        "max_call_ms": max(call_seconds) * 1e3,
    }


def _latency_lines(results: dict[str, ContenderResult], phases: list[str]) -> list[str]:
    """Per-call latency per phase and contender, pooled over every timed call of every round."""
    rows = [
        (p, r, latency_summary(r.call_seconds(p)))
        for p in phases
        for r in results.values()
        if r.ok and p in r.phases() and r.call_seconds(p)
    ]
    if not rows:
        return []
    width = max(len("contender"), *(len(r.label) for _, r, _ in rows))
    pwidth = max(len("phase"), *(len(p) for p, _, _ in rows))
    head = (
        f"{'phase':<{pwidth}}  {'contender':<{width}}  {'calls':>6}  {'median ms':>9}  {'p90 ms':>9}  "
        f"{'max ms':>9}"
    )
    lines = ["latency per call (every timed call of every round)", head, "-" * len(head)]
    for p, r, summary in rows:
        lines.append(
            f"{p:<{pwidth}}  {r.label:<{width}}  {summary['timed_calls']:>6}  "
            + "  ".join(f"{summary[k]:>9.3f}" for k in ("median_call_ms", "p90_call_ms", "max_call_ms"))
        )
    return lines


def render_table(
    scenario: Scenario,
    plan: Plan,
    results: dict[str, ContenderResult],
    *,
    rounds: int,
    warmup: int,
    pinning_note: str,
) -> str:
    phases = _phases(results)
    lines = [
        f"== {scenario.title} ({scenario.name}) ==",
        textwrap.fill(plan.description, 110),
        f"{rounds} rounds interleaved after {warmup} warm-up round(s) each; medians over the "
        f"rounds; {pinning_note}",
        "",
        *_rate_lines(plan, results, phases),
        "",
        *_ratio_lines(plan, results),
    ]
    if latency := _latency_lines(results, phases):
        lines += ["", *latency]
    if phases:
        lines += ["", *_call_lines(plan, results, phases)]
    if plan.budgets:
        lines += ["", *_budget_lines(plan, results)]
    busiest = max(
        (b for r in results.values() for p in [None, *phases] if (b := r.median_server_busy(p)) is not None),
        default=None,
    )
    if busiest is not None and busiest >= SERVER_BOUND:
        name = plan.server.name if plan.server else "server"
        lines += [
            "",
            f"note: the {name} was up to {busiest * 100:.0f}% busy (of one core): throughput is bounded "
            "by the server, so the throughput ratios say little about client overhead; CPU/msg does.",
        ]
    return "\n".join(lines)


def _environment() -> dict[str, Any]:
    import google.protobuf
    import grpc
    from google.protobuf.internal import api_implementation

    from modelwire._version import __version__

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_at_start": load,
        "modelwire": __version__,
        "grpc": grpc.__version__,
        "protobuf": google.protobuf.__version__,
        "protobuf_backend": api_implementation.Type(),
    }


# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    rounds: int | None  # --rounds, or None: 3 with --quick, else the scenario's default
    warmup: int | None  # --warmup, or None: 1 with --quick, else the scenario's default
    items: int | None
    quick: bool
    skip_published: bool
    results_dir: Path
    pinning: Pinning | None
    pinning_note: str

    def rounds_for(self, scenario: Scenario) -> tuple[int, int]:
        """(timed rounds, warm-up rounds) for `scenario`."""
        rounds = self.rounds if self.rounds is not None else (3 if self.quick else scenario.rounds)
        warmup = self.warmup if self.warmup is not None else (1 if self.quick else scenario.warmup)
        return rounds, warmup


def run_scenario(scenario: Scenario, opts: RunOptions) -> bool:
    """Run one scenario, print its table, write its JSON; False when a required contender failed."""
    started = datetime.now(timezone.utc)
    rounds, warmup = opts.rounds_for(scenario)
    with (
        tempfile.TemporaryDirectory(prefix=f"modelwire-bench-{scenario.name}-") as tmp,
        contextlib.ExitStack() as stack,  # the scenario's servers: stopped before tmp goes
    ):
        ctx = ScenarioContext(
            items=opts.items,
            quick=opts.quick,
            skip_published=opts.skip_published,
            workdir=Path(tmp),
            server_cpus=opts.pinning.server if opts.pinning else None,
            stack=stack,
        )
        plan = scenario.plan(ctx)
        server = plan.server
        where = f"{server.name} pid {server.pid} at {server.target}" if server else "no server"
        _log(f"{scenario.name}: {where}; {opts.pinning_note}")
        results = run_interleaved(
            plan.contenders,
            rounds=rounds,
            warmup=warmup,
            messages=plan.messages,
            server_cpu=server.cpu_seconds if server else lambda: None,
            expected_check=plan.expected_check,
        )
    table = render_table(
        scenario, plan, results, rounds=rounds, warmup=warmup, pinning_note=opts.pinning_note
    )
    print(table, flush=True)
    document = {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": plan.description,
        "started": started.isoformat(),
        "seconds": (datetime.now(timezone.utc) - started).total_seconds(),
        "argv": sys.argv[1:],
        "rounds": rounds,
        "warmup_rounds": warmup,
        "messages_per_round": plan.messages,
        "unit": plan.unit,
        "pinning": opts.pinning_note,
        "server": plan.server.name if plan.server else None,
        "expected_check": plan.expected_check,
        "details": plan.details,
        "environment": _environment(),
        "contenders": {key: r.to_json() for key, r in results.items()},
        "ratios": [
            {
                "name": c.name(results),
                "numerator": c.numerator,
                "denominator": c.denominator,
                "phase": c.phase,
                "denominator_phase": c.bottom_phase,
                "value": ratio(results, c),
                "target": c.target,
                "strict": c.strict,
                "result": c.verdict(ratio(results, c)),
                "cpu_per_message_ratio": cpu_ratio(results, c),
            }
            for c in plan.comparisons
        ],
        "budgets": [
            {
                **dataclasses.asdict(b),
                "worst": b.worst(results),
                "fewest": b.fewest(results),
                "result": b.verdict(results),
            }
            for b in plan.budgets
        ],
    }
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    out = opts.results_dir / f"{scenario.name}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results: {out}\n", flush=True)
    required = {c.key for c in plan.contenders if not c.optional}
    return all(results[k].ok for k in required)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few items, 3 rounds, 1 warm-up: a smoke run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="timed rounds per contender (default 7; clarifai_upload_list 3)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="warm-up rounds per contender (default 2; clarifai_upload_list 1)",
    )
    parser.add_argument(
        "--items",
        type=int,
        default=None,
        help="items per round (scenario default; clarifai_predict: batch-1 calls, the others scaled; "
        "decthings_evaluate: sequential calls, 2x as many concurrent)",
    )
    parser.add_argument(
        "--skip-published", action="store_true", help="leave out the published SDKs (no venv is built)"
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the server and the clients to separate CPUs",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="run only this scenario (repeatable; default all)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"where to write JSON (default {DEFAULT_RESULTS})",
    )
    parser.add_argument("--replay-server", type=Path, help=argparse.SUPPRESS)  # the replay server's process
    args = parser.parse_args(argv)
    if args.replay_server is not None:
        return replay_server_main(args.replay_server)
    if (
        (args.rounds is not None and args.rounds < 1)
        or (args.warmup is not None and args.warmup < 0)
        or (args.items is not None and args.items < 1)
    ):
        parser.error("--rounds and --items must be at least 1, --warmup at least 0")
    pinning, note = plan_pinning(not args.no_pin)
    if pinning is not None:
        pin_this_process(pinning.client)
    opts = RunOptions(
        rounds=args.rounds,
        warmup=args.warmup,
        items=args.items,
        quick=args.quick,
        skip_published=args.skip_published,
        results_dir=args.results_dir,
        pinning=pinning,
        pinning_note=note,
    )

    ok = True
    for name in args.scenario or list(SCENARIOS):
        try:
            ok = run_scenario(SCENARIOS[name], opts) and ok
        except BenchError as exc:
            _log(f"{name}: error: {exc}")
            ok = False
        except Exception:
            _log(f"{name}: error:\n{traceback.format_exc()}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
