"""What a scenario is: the Scenario a scenario module registers (`SCENARIO = Scenario(...)`), the
ScenarioContext it plans in (its servers start through it) and the Plan it returns: contenders,
Comparisons (ratios against targets) and CallBudgets (RPCs a contender may make per phase)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness.common import API_KEY, STARTUP_TIMEOUT, log
from bench.harness.contenders import Contender
from bench.harness.measures import Measurer
from bench.harness.processes import LISTENING, ServerProcess, emulator_command, server_process
from bench.harness.rounds import ContenderResult


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
    # also hold the numerator's client CPU per message to at most this ratio of the denominator's
    cpu_at_most: float | None = None

    @property
    def bottom_phase(self) -> str | None:
        return self.denominator_phase or self.phase

    def name(self, results: dict[str, ContenderResult]) -> str:
        if self.title:
            return self.title
        prefix = f"{self.phase}: " if self.phase else ""
        return f"{prefix}{results[self.numerator].label} / {results[self.denominator].label}"

    def verdict(self, value: float | None, cpu: float | None = None) -> str:
        if value is None:
            return "SKIP"
        if self.target is None:
            return "info"
        fast = value > self.target if self.strict else value >= self.target
        cheap = self.cpu_at_most is None or (cpu is not None and cpu <= self.cpu_at_most)
        return "PASS" if fast and cheap else "MISS"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        text = f"{'>' if self.strict else '>='} {self.target:.2f}x"
        return text if self.cpu_at_most is None else f"{text}, CPU <= {self.cpu_at_most:.2f}x"


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
        ready: re.Pattern[str] = LISTENING,
        timeout: float = STARTUP_TIMEOUT,
    ) -> ServerProcess:
        """`cmd` as a server process (see server_process), pinned, stopped with the scenario."""
        log(f"starting the {name}")
        return self.stack.enter_context(
            server_process(name, cmd, api_key=api_key, cpus=self.server_cpus, ready=ready, timeout=timeout)
        )

    def emulator(self, *extra_args: str) -> ServerProcess:
        """`modelwire serve` in its own process, e.g. `ctx.emulator("--http-port", "0")`."""
        return self.serve("emulator", emulator_command(API_KEY, extra_args))


@dataclass(frozen=True)
class Scenario:
    """A scenario, registered by defining `SCENARIO = Scenario(...)` in its module of bench/scenarios/,
    which is named as the scenario (see bench.scenarios.discover)."""

    name: str  # results file name, --scenario value and the name of its module in bench/scenarios/
    title: str
    plan: Callable[[ScenarioContext], Plan] | None = None  # contenders in interleaved rounds, or
    measure: Measurer | None = None  # rows of figures of its own (see bench.harness.measures)
    rounds: int = 7  # timed rounds unless --rounds / --quick say otherwise
    warmup: int = 2  # warm-up rounds per contender unless --warmup / --quick say otherwise
    order: int = 100  # scenarios run (and print) by order, then by name

    def __post_init__(self) -> None:
        if (self.plan is None) == (self.measure is None):
            raise ValueError(f"scenario {self.name}: give it a plan or a measure, one of the two")
