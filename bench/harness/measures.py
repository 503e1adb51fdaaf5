"""Scenarios whose figure is not a throughput ratio between contenders: import time, peak memory,
the emulator against its own earlier release. Such a scenario registers
`Scenario(name, title, measure=fn)`, where `fn(ctx, rounds)` returns Measurements: rows of one
value each (a median over `rounds` unless the row says otherwise) with the target it is held to.
The table and the JSON follow the same shape as the contender scenarios' (title, description,
rows with value / target / result)."""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Measure:
    """One row: `value` in `unit`, held to `target` (at most it when `at_most`, else at least)."""

    name: str
    value: float | None  # None: could not be measured (see `detail`)
    unit: str
    target: float | None = None  # None: a reference row, reported without a verdict
    at_most: bool = False
    detail: str = ""
    samples: Sequence[float] = ()  # every round's value, for the JSON

    @property
    def result(self) -> str:
        if self.value is None:
            return "SKIP"
        if self.target is None:
            return "info"
        ok = self.value <= self.target if self.at_most else self.value >= self.target
        return "PASS" if ok else "MISS"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'<=' if self.at_most else '>='} {_number(self.target)} {self.unit}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "samples": list(self.samples), "result": self.result}


@dataclass
class Measurements:
    description: str
    measures: list[Measure]
    details: dict[str, Any] = field(default_factory=dict)


Measurer = Callable[[Any, int], Measurements]  # (ScenarioContext, rounds) -> Measurements


def median_of(values: Sequence[float]) -> float:
    return statistics.median(values)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def render_measurements(name: str, title: str, measured: Measurements, *, rounds: int, note: str) -> str:
    width = max([len(m.name) for m in measured.measures] + [20])
    lines = [
        f"== {title} ({name}) ==",
        textwrap.fill(measured.description, 110),
        f"{rounds} rounds; medians over the rounds; {note}",
        "",
        f"{'measure':<{width}}  {'value':>14}  {'target':>16}  result  detail",
        "-" * (width + 50),
    ]
    for m in measured.measures:
        value = "-" if m.value is None else f"{_number(m.value)} {m.unit}"
        lines.append(f"{m.name:<{width}}  {value:>14}  {m.target_text:>16}  {m.result:<6}  {m.detail}")
    return "\n".join(lines)
