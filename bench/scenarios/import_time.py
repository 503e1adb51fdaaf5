"""import_time: how long `import modelwire.<provider>` takes in a fresh interpreter, against the
published SDKs' own imports, and which heavy modules each import pulls in.

Every round starts a fresh interpreter per import (interleaved, so drift hits all alike) that
times only the import statement (interpreter start-up excluded) and reports whether grpc and
aiohttp were loaded. Targets (issue 14): `import modelwire.clarifai` at most 1/3 of
`import clarifai.client` (clarifai 12.5.0), and `import modelwire.decthings` without grpc (its API
is HTTP).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.harness.common import Unavailable, log
from bench.harness.measures import Measure, Measurements, median_of
from bench.harness.plan import Scenario, ScenarioContext
from bench.harness.venvs import bench_python, published_python
from bench.scenarios._clarifai import CLARIFAI_SDK_REQUIREMENT, CLARIFAI_SDK_VENV

_PROBE = (
    "import sys, time, json; start = time.perf_counter(); import {module}; "
    "took = time.perf_counter() - start; "
    "print(json.dumps({{'ms': took * 1000, 'grpc': 'grpc' in sys.modules, "
    "'aiohttp': 'aiohttp' in sys.modules}}))"
)
OURS = ("modelwire.clavata", "modelwire.clarifai", "modelwire.decthings")


def time_import(python: Path | str, module: str) -> dict[str, float | bool]:
    """One fresh interpreter's import of `module`: milliseconds, and whether grpc / aiohttp came along."""
    done = subprocess.run(
        [str(python), "-I", "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise Unavailable(f"import {module} failed in {python}: {done.stderr.strip()[-300:]}")
    result: dict[str, float | bool] = json.loads(done.stdout)
    return result


def _published(ctx: ScenarioContext) -> dict[str, Path]:
    """The published SDKs' interpreters, by the module to import there (none with --skip-published)."""
    if ctx.skip_published:
        return {}
    found = {}
    for module, python in (
        ("clarifai.client", lambda: bench_python(CLARIFAI_SDK_VENV, CLARIFAI_SDK_REQUIREMENT)),
        ("clavata_sdk", lambda: published_python("clavata")),
    ):
        try:
            found[module] = python()
        except Unavailable as exc:
            log(f"import_time: {module} left out: {exc}")
    return found


def import_time(ctx: ScenarioContext, rounds: int) -> Measurements:
    imports: dict[str, Path | str] = {m: sys.executable for m in OURS} | _published(ctx)
    runs: dict[str, list[dict[str, float | bool]]] = {m: [] for m in imports}
    for round_no in range(rounds + 1):  # the first round warms the disk cache and is dropped
        for module, python in imports.items():
            sample = time_import(python, module)
            if round_no:
                runs[module].append(sample)
    ms = {m: median_of([float(s["ms"]) for s in samples]) for m, samples in runs.items()}
    loads = {m: [k for k in ("grpc", "aiohttp") if samples[0][k]] for m, samples in runs.items()}
    measures = [
        Measure(
            f"import {m}",
            ms[m],
            "ms",
            detail=f"loads {', '.join(loads[m]) or 'neither grpc nor aiohttp'}",
            samples=[float(s["ms"]) for s in runs[m]],
        )
        for m in imports
    ]
    published = ms.get("clarifai.client")
    measures.append(
        Measure(
            "modelwire.clarifai / clarifai.client",
            None if published is None else ms["modelwire.clarifai"] / published,
            "x",
            target=1 / 3,
            at_most=True,
            detail="clarifai 12.5.0's import, in its own venv" if published else "no published venv",
        )
    )
    grpc_runs = [bool(s["grpc"]) for s in runs["modelwire.decthings"]]
    measures.append(
        Measure(
            "modelwire.decthings rounds that loaded grpc",
            float(sum(grpc_runs)),
            "rounds",
            target=0,
            at_most=True,
            detail="the Decthings API is HTTP: grpc has no business there",
        )
    )
    return Measurements(
        description=(
            "each import in a fresh interpreter (python -I -c), timing the import statement only; "
            "rounds interleaved, the first (cold disk cache) dropped"
        ),
        measures=measures,
        details={"runs": runs},
    )


SCENARIO = Scenario("import_time", "import time", measure=import_time, rounds=9, order=70)
