"""The command line of bench/run.py: its options, running a scenario (its servers, the interleaved
rounds, the table, the JSON) and the bench's own child processes (`--child MODULE:FUNCTION ARG...`:
the replay server, the published decthings-api client)."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench.harness.common import ROOT, BenchError, log, resolve
from bench.harness.measures import Measurements, render_measurements
from bench.harness.plan import Scenario, ScenarioContext
from bench.harness.processes import Pinning, pin_this_process, plan_pinning
from bench.harness.report import render_table
from bench.harness.results import measurements_document, results_document, write_results
from bench.harness.rounds import run_interleaved
from bench.scenarios import discover

DEFAULT_RESULTS = ROOT / "bench" / "results"


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
        if scenario.measure is not None:
            return _run_measures(scenario, scenario.measure(ctx, rounds), started, rounds, opts)
        assert scenario.plan is not None
        plan = scenario.plan(ctx)
        server = plan.server
        where = f"{server.name} pid {server.pid} at {server.target}" if server else "no server"
        log(f"{scenario.name}: {where}; {opts.pinning_note}")
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
    document = results_document(
        scenario, plan, results, started, rounds=rounds, warmup=warmup, pinning_note=opts.pinning_note
    )
    out = write_results(opts.results_dir, document)
    print(f"results: {out}\n", flush=True)
    required = {c.key for c in plan.contenders if not c.optional}
    return all(results[k].ok for k in required)


def _run_measures(
    scenario: Scenario, measured: Measurements, started: datetime, rounds: int, opts: RunOptions
) -> bool:
    print(
        render_measurements(scenario.name, scenario.title, measured, rounds=rounds, note=opts.pinning_note),
        flush=True,
    )
    document = measurements_document(
        scenario, measured, started, rounds=rounds, pinning_note=opts.pinning_note
    )
    print(f"results: {write_results(opts.results_dir, document)}\n", flush=True)
    return True


def main(argv: Sequence[str] | None = None, description: str | None = None) -> int:
    """bench/run.py's command line (`description`: its --help text); the exit status."""
    scenarios = discover()
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
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
        choices=sorted(scenarios),
        help="run only this scenario (repeatable; default all)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"where to write JSON (default {DEFAULT_RESULTS})",
    )
    # the bench's own child processes (the replay server, the published decthings-api client): run
    # FUNCTION(*ARGS) of a bench module (see common.function_name) and exit with what it returns
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return int(resolve(args.child[0])(*args.child[1:]))
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
    for name in args.scenario or list(scenarios):
        try:
            ok = run_scenario(scenarios[name], opts) and ok
        except BenchError as exc:
            log(f"{name}: error: {exc}")
            ok = False
        except Exception:
            log(f"{name}: error:\n{traceback.format_exc()}")
            ok = False
    return 0 if ok else 1
