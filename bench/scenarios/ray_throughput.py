"""ray_throughput: Clavata evaluate over a dataset with the Ray Data operator (1 and 2 actors on a
local 2-CPU Ray cluster) against a plain single-process loop, on the same emulator process.

Each round evaluates the same rows three ways: the loop (one `ClavataClient`, sequential
`evaluate` streams of 64 rows, reading each report: what one process does without an engine), then
`ClavataEvaluate` in `map_batches` with 1 and with 2 actors (batches of 500 rows, chunks of 64,
up to 4 streams in flight per actor). Figures: rows/s end to end (for Ray: from `map_batches` to
the last row back, so including the actor pool's start-up, which Ray Data does per execution; the
cluster itself is started before the rounds), rows/s once running (the first batch's start to the
last batch's end), and client CPU per row: the process's CPU time for the loop,
and the CPU each actor's operator calls used (time.process_time around them) for Ray, which leaves
out Ray's own work outside the operator (moving blocks, the driver). The server is one emulator
process, so past a point more actors only queue behind it; and on the bench machine every client
process, Ray's included, shares the client CPU (the server has the other).

Needs the `ray` extra (`pip install 'modelwire[ray]'`); without it the rows say so. With --quick
only the loop runs: starting a Ray cluster takes longer than the whole quick run may.
"""

from __future__ import annotations

import time
from typing import Any

from bench.harness.common import log
from bench.harness.measures import Measure, Measurements, median_of
from bench.harness.plan import Scenario, ScenarioContext

ROWS, QUICK_ROWS = 20_000, 500
CHUNK = 64
BATCH = 500
POLICY = "demo-policy"


def _texts(rows: int) -> list[str]:
    return [
        ("I will attack you " if i % 4 == 0 else "a calm post about the weather ") + str(i)
        for i in range(rows)
    ]


def _loop(client: Any, texts: list[str]) -> tuple[float, float, int, float]:
    """The plain loop: (seconds, CPU seconds, TRUE outcomes, seconds)."""
    from modelwire.clavata import EvaluateRequest

    matched = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), CHUNK):
        request = EvaluateRequest(content=texts[start : start + CHUNK], policy_id=POLICY)
        for response in client.evaluate(request):
            matched += response.report.outcome == "TRUE"
    seconds = time.perf_counter() - wall
    return seconds, time.process_time() - cpu, matched, seconds


def _timed_operator() -> Any:
    """ClavataEvaluate that reports the CPU its calls used, per batch (a column, summed after)."""
    from modelwire.integrations.ray import ClavataEvaluate

    class TimedClavataEvaluate(ClavataEvaluate):
        def __call__(self, batch: Any) -> Any:
            import pyarrow as pa

            start, cpu = time.time(), time.process_time()
            out = super().__call__(batch)
            used, end = time.process_time() - cpu, time.time()
            out = out.append_column("cpu_s", pa.array([used] + [0.0] * (out.num_rows - 1)))
            out = out.append_column("t0", pa.array([start] * out.num_rows))
            return out.append_column("t1", pa.array([end] * out.num_rows))

    return TimedClavataEvaluate


def _ray_round(
    ray: Any, operator: Any, texts: list[str], port: int, key: str, actors: int
) -> tuple[float, float, int]:
    """One Ray run: (seconds, CPU seconds in the operators, TRUE outcomes)."""
    import ray.data

    ds = ray.data.from_items([{"text": t} for t in texts], override_num_blocks=max(1, len(texts) // BATCH))
    ds = ds.materialize()  # the rows exist before the clock starts, as a dataset read earlier would
    wall = time.perf_counter()
    out = ds.map_batches(
        operator,
        fn_constructor_kwargs={
            "policy_id": POLICY,
            "client_kwargs": {"host": "127.0.0.1", "port": port, "auth_token": key},
            "chunk_size": CHUNK,
            "max_in_flight": 4,
        },
        concurrency=actors,
        num_cpus=0.25,
        batch_size=BATCH,
        batch_format="pyarrow",
    ).to_pandas()
    seconds = time.perf_counter() - wall
    if len(out) != len(texts) or out["error"].notna().any():
        raise RuntimeError(
            f"ray_throughput: {len(out)} rows out of {len(texts)}, errors: {out['error'].notna().sum()}"
        )
    steady = float(out["t1"].max() - out["t0"].min())
    return seconds, float(out["cpu_s"].sum()), int((out["outcome"] == "TRUE").sum()), steady


def _start_ray(ray: Any) -> None:
    """A local 2-CPU cluster; a second try when the first times out (measured once in a full
    `make bench`: its GCS server missed Ray's start-up deadline after the memory scenario)."""
    for attempt in (1, 2):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            return
        except RuntimeError as exc:
            ray.shutdown()
            if attempt == 2:
                raise
            log(f"ray_throughput: Ray did not start ({exc}); trying once more")


def ray_throughput(ctx: ScenarioContext, rounds: int) -> Measurements:
    from modelwire.clavata import ClavataClient

    rows = ctx.items or (QUICK_ROWS if ctx.quick else ROWS)
    texts = _texts(rows)
    expected = sum(t.startswith("I will attack") for t in texts)
    server = ctx.emulator()
    runs: dict[str, list[tuple[float, float, int, float]]] = {"loop": [], "ray_1": [], "ray_2": []}
    with ClavataClient(host="127.0.0.1", port=server.port, auth_token=server.api_key) as client:
        _loop(client, texts[:CHUNK])  # warm-up: channel, policy cache
        skipped = ""
        try:
            import ray
        except ImportError:
            ray, skipped = None, "ray is not installed (pip install 'modelwire[ray]')"
        if ctx.quick:
            ray, skipped = None, "not with --quick (a Ray cluster starts in ~5 s)"
        operator = None
        if ray is not None:
            try:
                _start_ray(ray)
            except RuntimeError as exc:  # reported as a skipped row, not a failed bench
                ray, skipped = None, f"the local Ray cluster did not start: {exc}"
        if ray is not None:
            operator = _timed_operator()
            _ray_round(ray, operator, texts[: BATCH * 2], server.port, server.api_key, 2)  # warm-up
        try:
            for round_no in range(rounds):
                runs["loop"].append(_loop(client, texts))
                if ray is not None:
                    for actors in (1, 2):
                        runs[f"ray_{actors}"].append(
                            _ray_round(ray, operator, texts, server.port, server.api_key, actors)
                        )
                log(f"ray_throughput: round {round_no + 1}/{rounds} done")
        finally:
            if ray is not None:
                ray.shutdown()
    for name, samples in runs.items():
        if any(sample[2] != expected for sample in samples):
            raise RuntimeError(f"ray_throughput: {name} counted the wrong TRUE outcomes")

    def rate(name: str) -> float | None:
        samples = runs[name]
        return median_of([rows / s[0] for s in samples]) if samples else None

    def steady(name: str) -> float | None:
        samples = runs[name]
        return median_of([rows / s[3] for s in samples]) if samples else None

    def cpu_us(name: str) -> float | None:
        samples = runs[name]
        return median_of([s[1] / rows * 1e6 for s in samples]) if samples else None

    loop_rate = rate("loop")
    measures = [
        Measure("plain loop: rows/s", loop_rate, "rows/s", detail="one process, sequential streams of 64"),
        Measure("plain loop: client CPU per row", cpu_us("loop"), "us", detail="process CPU time"),
    ]
    for actors in (1, 2):
        name = f"ray_{actors}"
        measured = rate(name)
        measures += [
            Measure(
                f"Ray, {actors} actor{'s' if actors > 1 else ''}: rows/s",
                measured,
                "rows/s",
                detail=skipped or f"ClavataEvaluate, concurrency={actors}, 4 streams in flight per actor",
                samples=[rows / s[0] for s in runs[name]],
            ),
            Measure(
                f"Ray, {actors} actor{'s' if actors > 1 else ''}: rows/s once running",
                steady(name),
                "rows/s",
                detail=skipped or "first batch's start to last batch's end (no actor start-up)",
            ),
            Measure(
                f"Ray, {actors} actor{'s' if actors > 1 else ''}: client CPU per row",
                cpu_us(name),
                "us",
                detail=skipped or "CPU of the operator calls in the actors (not Ray's own work)",
            ),
            Measure(
                f"Ray, {actors} actor{'s' if actors > 1 else ''} / plain loop",
                None if measured is None or not loop_rate else measured / loop_rate,
                "x",
                detail=skipped or "throughput ratio",
            ),
        ]
    return Measurements(
        description=(
            f"Clavata evaluate of {rows} rows on one emulator process: a plain loop in one process vs "
            "the Ray Data operator with 1 and 2 actors on a local 2-CPU Ray cluster (started before the "
            "rounds)"
        ),
        measures=measures,
        details={"rows": rows, "runs": runs},
    )


SCENARIO = Scenario("ray_throughput", "Ray Data throughput", measure=ray_throughput, rounds=3, order=90)
