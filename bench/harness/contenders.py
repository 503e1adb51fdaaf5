"""Contenders: something that runs one timed round at a time, in this process (sync, or on an
event loop of its own) or in a child process driven over a line protocol; and timing a round."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import select
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.harness.common import ROUND_TIMEOUT, STARTUP_TIMEOUT, BenchError, tail
from bench.harness.samples import CallResult, Outcome, Sample


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

    @property
    def pid(self) -> int:
        """The process the contender's client runs in (this one, unless it runs a child)."""
        return os.getpid()

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


def time_sync(call: Callable[[], CallResult | Outcome]) -> Sample:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return _sample(result, wall, cpu)


async def time_async(call: Callable[[], Awaitable[CallResult | Outcome]]) -> Sample:
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
        return time_sync(self._session.call)

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
        return self._loop.run_until_complete(time_async(self._session.call))

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

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc is not None else os.getpid()

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
                    f"{self.label}: the child exited (status {code}):\n{tail(self._stderr_path)}"
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
