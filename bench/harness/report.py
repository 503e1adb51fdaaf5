"""Reporting: the table printed per scenario (throughput, ratios, per-call latency, RPCs per phase,
RPC budgets, and a note when the server was the bottleneck)."""

from __future__ import annotations

import statistics
import textwrap

from bench.harness.plan import Comparison, Plan, Scenario
from bench.harness.rounds import ContenderResult, latency_summary

CLIENT_WAITED = 0.10  # run-queue wait / wall time from which a round counts as disturbed
SERVER_BOUND = 0.85  # server CPU / wall time from which a round counts as limited by the server


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
    twidth = max(9, *(len(c.target_text) for c in plan.comparisons))
    head = (
        f"{'ratio (median throughput)':<{cwidth}}  {'value':>7}  {'target':>{twidth}}  result  "
        f"{'CPU/msg ratio':>13}"
    )
    lines = [head, "-" * len(head)]
    for name, c in zip(names, plan.comparisons, strict=True):
        value, cpu_value = ratio(results, c), cpu_ratio(results, c)
        cpu = "-" if cpu_value is None else f"{cpu_value:.2f}x"
        shown = "-" if value is None else f"{value:.3f}x"
        verdict = c.verdict(value, cpu_value)
        lines.append(f"{name:<{cwidth}}  {shown:>7}  {c.target_text:>{twidth}}  {verdict:<6}  {cpu:>13}")
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
    waited = {r.label: w for r in results.values() if (w := r.median_client_waited()) is not None}
    if waited and max(waited.values()) >= CLIENT_WAITED:
        worst = max(waited, key=lambda label: waited[label])
        lines += [
            "",
            f"note: {worst}'s threads waited for a CPU {waited[worst] * 100:.0f}% of its rounds' wall time "
            "(median): other load on the machine, or its own threads sharing the client CPU they are "
            "pinned to (--no-pin spreads them); CPU/msg is the steadier figure.",
        ]
    if busiest is not None and busiest >= SERVER_BOUND:
        name = plan.server.name if plan.server else "server"
        lines += [
            "",
            f"note: the {name} was up to {busiest * 100:.0f}% busy (of one core): throughput is bounded "
            "by the server, so the throughput ratios say little about client overhead; CPU/msg does.",
        ]
    return "\n".join(lines)
