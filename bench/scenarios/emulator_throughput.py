"""emulator_throughput: how many items/s the emulator serves, against its own earlier release.

Every user's test suite runs against the emulator, so its speed is theirs (issue 14: at least 2x
the items/s of the release before that work, with the same results). Two `modelwire serve`
processes, each pinned like every bench server: the current tree's, and BASELINE's (its src/ taken
out of git into the scenario's work directory and put first on the server's sys.path). The bench
process drives them alternately, round by round, with the raw generated stubs over grpc.aio, 4
calls in flight (_emulator_workloads.py):

* clavata: Evaluate streams of 100 texts (policy demo-policy);
* predict: Clarifai PostModelOutputs, batches of 32 texts (clarifai/main general-text-classification);
* upload: Clarifai PostInputs, batches of 128 text inputs with fresh ids, into a fresh app per round
  (made and deleted untimed); `upload+processed` also waits until the emulator has processed every
  input in the background (GetInputCount), which is what an upload really costs it.

Each round's check (TRUE outcomes, concepts returned, inputs accepted or processed) must be the same
on both servers. The server's CPU time per item is reported too: the emulator is one process.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from bench.harness.common import API_KEY, ROOT, BenchError, log
from bench.harness.measures import Measure, Measurements, median_of
from bench.harness.plan import Scenario, ScenarioContext
from bench.harness.processes import ServerProcess, emulator_command

# The last commit before issue 14's emulator work: the "today" the 2x target is measured against.
BASELINE = "fa046af"
TARGET = 2.0
USER = ("--user-id", "demo")  # the workloads' Clarifai user
QUICK_SCALE = 0.1  # --quick: a tenth of the calls per round


def baseline_src(workdir: Path) -> Path | None:
    """BASELINE's src/ under `workdir` (from git), or None when this is not a git checkout of it."""
    done = subprocess.run(
        # src/modelwire/_gen is a link to generated/: both are needed
        ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE, "src", "generated"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        log(f"emulator_throughput: no baseline ({BASELINE}): {done.stderr.decode(errors='replace').strip()}")
        return None
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(workdir / "baseline", filter="data")
    return workdir / "baseline" / "src"


def serve_baseline(ctx: ScenarioContext, src: Path) -> ServerProcess:
    """`ctx.emulator()`'s command, run with BASELINE's `src` first on the server's sys.path."""
    python, flag, module, *args = emulator_command(API_KEY, USER)
    assert (flag, module) == ("-m", "modelwire.cli"), "emulator_command changed its form"
    code = f"import sys; sys.path.insert(0, {str(src)!r}); from modelwire.cli import main; sys.exit(main())"
    return ctx.serve(f"emulator at {BASELINE}", [python, "-c", code, *args])


def emulator_throughput(ctx: ScenarioContext, rounds: int) -> Measurements:
    from bench.scenarios import _emulator_workloads as work

    scale = QUICK_SCALE if ctx.quick else 1.0
    sizes = {
        "clavata": max(1, round(work.CLAVATA_STREAMS * scale)),
        "predict": max(1, round(work.PREDICT_CALLS * scale)),
        "upload": max(1, round(work.UPLOAD_CALLS * scale)),
    }
    workloads: dict[str, Any] = {
        "clavata": lambda s: work.clavata_evaluate(s.host, s.port, s.cpu_seconds, sizes["clavata"]),
        "predict": lambda s: work.clarifai_predict(s.host, s.port, s.cpu_seconds, sizes["predict"]),
        "upload": lambda s: work.clarifai_upload(s.host, s.port, s.cpu_seconds, sizes["upload"]),
        "upload+processed": lambda s: work.clarifai_upload(
            s.host, s.port, s.cpu_seconds, sizes["upload"], processed=True
        ),
    }
    src = baseline_src(ctx.workdir)
    servers = {"current": ctx.emulator(*USER)}
    if src is not None:
        servers["baseline"] = serve_baseline(ctx, src)
    results: dict[tuple[str, str], list[Any]] = {(w, s): [] for w in workloads for s in servers}
    for round_no in range(rounds + 1):  # round 0 warms both servers up and is dropped
        for name, run in workloads.items():
            for which, server in servers.items():
                result = asyncio.run(run(server))
                if round_no:
                    results[name, which].append(result)
    measures = []
    for name in workloads:
        checks = {r.check for which in servers for r in results[name, which]}
        if len(checks) != 1:
            raise BenchError(f"{name}: the servers disagree: checks {sorted(checks)}")
        rate = {which: median_of([r.rate for r in results[name, which]]) for which in servers}
        cpu_us = {which: median_of([r.cpu_us for r in results[name, which]]) for which in servers}
        items = results[name, "current"][0].items
        measures.append(
            Measure(
                f"{name}: items/s, current / {BASELINE}",
                rate["current"] / rate["baseline"] if "baseline" in rate else None,
                "x",
                target=TARGET,
                detail=(
                    f"{rate['current']:,.0f} vs {rate.get('baseline', 0):,.0f} items/s; server CPU "
                    f"{cpu_us['current']:.1f} vs {cpu_us.get('baseline', 0):.1f} us/item; {items:,} items"
                ),
                samples=[r.rate for r in results[name, "current"]],
            )
        )
    return Measurements(
        description=(
            f"the emulator (modelwire serve, its own pinned process) against itself at {BASELINE}, "
            "driven alternately by raw grpc.aio stubs with 4 calls in flight; the same checks from both"
        ),
        measures=measures,
        details={
            "baseline": BASELINE,
            "sizes": sizes,
            "rounds": {
                f"{name}/{which}": [vars(r) for r in found] for (name, which), found in results.items()
            },
        },
    )


SCENARIO = Scenario(
    "emulator_throughput",
    "emulator throughput vs its earlier release",
    measure=emulator_throughput,
    rounds=5,
    order=75,
)
