"""Running contenders: warm-up, then interleaved rounds; what each contender's rounds gave
(ContenderResult, with its per-call latency summary)."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.harness.common import BenchError, Unavailable, log
from bench.harness.contenders import Contender
from bench.harness.processes import process_wait_seconds
from bench.harness.samples import Sample


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

    def median_client_waited(self) -> float | None:
        waited = [w for s in self.samples if (w := s.client_waited) is not None]
        return statistics.median(waited) if self.ok and waited else None

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
            "median_client_waited": self.median_client_waited(),
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
        log(f"{c.label}: {status}: {reason}")
        if c in active:
            active.remove(c)
        with contextlib.suppress(Exception):
            c.close()

    def one_round(c: Contender) -> Sample | None:
        try:
            c.prepare()
            before, waited = server_cpu(), process_wait_seconds(c.pid)
            sample = c.run_round()
            after, waited_after = server_cpu(), process_wait_seconds(c.pid)
            if before is not None and after is not None:
                sample = dataclasses.replace(sample, server_cpu_seconds=after - before)
            if waited is not None and waited_after is not None:
                # Summed over the threads alive at each read: a thread that ended during the round
                # takes its wait with it, so this is a lower bound (never below 0).
                sample = dataclasses.replace(sample, client_wait_seconds=max(waited_after - waited, 0.0))
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
                log(f"round {r + 1}/{rounds}: {line}")
    finally:
        for c in active:
            with contextlib.suppress(Exception):
                c.close()
    return results
