"""What a timed round yields: a Sample (with a PhaseSample per phase), from a call's CallResult or
Outcome. The published SDKs' child processes build and send them too (Sample.to_json)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


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
    # the time the client's threads were ready to run but waited for a CPU (other load, or its own
    # threads competing for the CPU they are pinned to)
    client_wait_seconds: float | None = None

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
    def client_waited(self) -> float | None:
        """The client's run-queue wait over the wall time (0: it always had a CPU when it wanted one)."""
        if self.client_wait_seconds is None or self.seconds <= 0:
            return None
        return self.client_wait_seconds / self.seconds

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
            "client_wait_seconds": self.client_wait_seconds,
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
