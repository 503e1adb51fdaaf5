"""Smoke test of the benchmark harness: `bench/run.py --quick --skip-published` runs every scenario
end to end (server process, warm-up, interleaved rounds, table, JSON) in a few seconds: the
emulator-backed `clavata_stream` and `clavata_stream_replay`, whose bench-local server replays
responses recorded from the emulator, `clarifai_upload_list` (phased rounds: upload, then two
listings, with the RPCs of each phase counted) and `clarifai_predict` (a phase per batch size, each
with its own number of inputs and per-call latencies), and the Decthings scenarios (bench/scenarios/:
`decthings_add_entries`, `decthings_evaluate`, over HTTP with the HTTP calls counted). When the published
decthings-api venv exists (`make compat` builds it), one round of both Decthings scenarios also runs
with the published client's child processes; otherwise that test is skipped (it never builds a venv)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("raw_sync", "modelwire_sync", "raw_aio", "modelwire_async")
SCENARIOS = {"clavata_stream": "emulator", "clavata_stream_replay": "replay server"}  # clavata's
CLARIFAI_PHASES = ["upload", "list_default", "list_1000"]
PREDICT_CALLS = {1: 20, 32: 3, 128: 2}  # --quick
DECTHINGS = ("modelwire_sync", "modelwire_async")
DECTHINGS_PUBLISHED = ("decthings_api_sync", "decthings_api_async")
DECTHINGS_ENTRIES, DECTHINGS_CALLS = 300, 20  # --quick: 3 addEntries calls of 100; 20 + 40 evaluate calls


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    # sys.executable is the venv's python running pytest; results go to a temporary directory so
    # that a test run never overwrites the numbers of a real `make bench` in bench/results/.
    results_dir = tmp_path_factory.mktemp("bench-results")
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--quick",
        "--skip-published",
        "--results-dir",
        str(results_dir),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc, results_dir


def _results(results_dir: Path, scenario: str) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((results_dir / f"{scenario}.json").read_text())
    return results


@pytest.mark.parametrize(("scenario", "server"), SCENARIOS.items())
def test_bench_quick_runs_and_writes_results(
    quick_run: tuple[subprocess.CompletedProcess[str], Path], scenario: str, server: str
) -> None:
    proc, results_dir = quick_run
    results = _results(results_dir, scenario)
    assert results["scenario"] == scenario
    assert results["server"] == server
    assert results["rounds"] == 3
    contenders = results["contenders"]
    checks = set()
    for key in REQUIRED:
        entry = contenders[key]
        assert entry["status"] == "ok", entry
        assert entry["median_rate"] > 0
        assert len(entry["samples"]) == 3
        assert all(s["messages"] == results["messages_per_round"] for s in entry["samples"])
        # how long the client waited for a CPU (other load), read from the kernel around each round
        assert all(s["client_wait_seconds"] >= 0 for s in entry["samples"])
        checks |= {s["check"] for s in entry["samples"]}
    assert len(checks) == 1  # every contender read the same number of TRUE outcomes
    assert contenders["clavata_sdk"]["status"] == "skipped"
    assert "--skip-published" in contenders["clavata_sdk"]["reason"]
    assert {(r["numerator"], r["denominator"]) for r in results["ratios"]} >= {
        ("modelwire_sync", "raw_sync"),
        ("modelwire_async", "raw_aio"),
    }
    assert f"({scenario}) ==" in proc.stdout
    assert "modelwire ClavataClient / raw sync stub" in proc.stdout


def test_replay_serves_what_the_emulator_decided(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, results_dir = quick_run
    live = _results(results_dir, "clavata_stream")
    replay = _results(results_dir, "clavata_stream_replay")
    recording = replay["details"]["recording"]
    # the same texts: the replay server recorded one real report per item, with their full shape
    assert replay["messages_per_round"] == live["messages_per_round"] == recording["responses"]
    assert recording["with_token_usage"] == recording["responses"]
    assert recording["sections"] >= recording["responses"]
    assert 0 < recording["true_outcomes"] < recording["responses"]
    assert recording["label_matches"] > 0 and recording["assertions"] > 0
    # the rounds were checked against the recording, which agrees with the emulator served live
    assert replay["expected_check"] == recording["true_outcomes"]
    live_check = live["contenders"]["raw_sync"]["samples"][0]["check"]
    replay_check = replay["contenders"]["raw_sync"]["samples"][0]["check"]
    assert replay_check == live_check == recording["true_outcomes"]


def test_clarifai_upload_list_counts_calls_per_phase(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, results_dir = quick_run
    results = _results(results_dir, "clarifai_upload_list")
    n = results["messages_per_round"]
    assert results["server"] == "emulator"
    assert results["rounds"] == 3
    assert results["expected_check"] == n == results["details"]["items"]
    ours = results["contenders"]["modelwire"]
    assert ours["status"] == "ok", ours
    assert len(ours["samples"]) == 3
    for sample in ours["samples"]:
        assert sample["messages"] == sample["check"] == n  # every listing returned exactly the ids
        phases = sample["phases"]
        assert list(phases) == CLARIFAI_PHASES
        assert all(p["seconds"] > 0 and p["server_cpu_seconds"] is not None for p in phases.values())
        upload = phases["upload"]["calls"]
        assert upload["PostInputs"] == math.ceil(n / 128)
        assert upload["GetInputsAddJob"] >= math.ceil(n / 128)  # each batch's add-job, polled
        assert "DeleteInputs" not in upload and "ListInputs" not in upload
        assert phases["list_default"]["calls"] == {"ListInputs": n // 128 + 1}
        assert phases["list_1000"]["calls"] == {"ListInputs": n // 1000 + 1}
    assert set(ours["phases"]) == set(CLARIFAI_PHASES)
    published = results["contenders"]["clarifai_sdk"]
    assert published["status"] == "skipped"
    assert "--skip-published" in published["reason"]
    assert {r["phase"] for r in results["ratios"]} == set(CLARIFAI_PHASES)
    assert {r["result"] for r in results["ratios"]} == {"SKIP"}
    assert results["budgets"] and all(b["result"] == "PASS" for b in results["budgets"])
    assert "(clarifai_upload_list) ==" in proc.stdout
    assert "RPC calls per round" in proc.stdout


def test_clarifai_predict_times_each_batch_size(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, results_dir = quick_run
    results = _results(results_dir, "clarifai_predict")
    phases = [f"batch_{b}" for b in PREDICT_CALLS]
    inputs = {f"batch_{b}": b * c for b, c in PREDICT_CALLS.items()}
    assert results["server"] == "emulator"
    assert results["rounds"] == 3
    assert results["details"]["calls"] == {f"batch_{b}": c for b, c in PREDICT_CALLS.items()}
    assert results["messages_per_round"] == sum(inputs.values())
    ours = results["contenders"]["modelwire"]
    assert ours["status"] == "ok", ours
    assert ours["info"]["setup_calls"] == {}  # Model(...) makes no RPC
    checks = set()
    for sample in ours["samples"]:
        assert list(sample["phases"]) == phases
        checks.add(sample["check"])
        for batch, calls in PREDICT_CALLS.items():
            phase = sample["phases"][f"batch_{batch}"]
            assert phase["messages"] == batch * calls  # throughput per phase counts its own inputs
            assert phase["calls"] == {"PostModelOutputs": calls}  # one per call, nothing else
            assert len(phase["call_seconds"]) == calls
            assert phase["server_cpu_seconds"] is not None
            assert sum(phase["call_seconds"]) <= phase["seconds"]
    assert len(checks) == 1 and 0 < checks.pop() < results["messages_per_round"]
    for name, phase in ours["phases"].items():
        assert phase["median_rate"] > 0 and phase["timed_calls"] == 3 * results["details"]["calls"][name]
        assert phase["median_call_ms"] <= phase["p90_call_ms"] <= phase["max_call_ms"]
    published = results["contenders"]["clarifai_sdk"]
    assert published["status"] == "skipped"
    assert "--skip-published" in published["reason"]
    raw = results["contenders"]["raw_stub"]  # the bare generated stub: the ceiling of any client
    assert raw["status"] == "ok", raw
    for sample in raw["samples"]:
        assert sample["check"] == ours["samples"][0]["check"]  # the same predictions
        for batch, calls in PREDICT_CALLS.items():
            assert sample["phases"][f"batch_{batch}"]["calls"] == {"PostModelOutputs": calls}
    ratios = [(r["numerator"], r["denominator"], r["phase"], r["target"]) for r in results["ratios"]]
    # held to the bare stub in throughput and in client CPU per input
    assert {
        r["cpu_at_most"] for r in results["ratios"] if r["denominator"] == "raw_stub" and r["target"]
    } == {1 / 0.95}
    assert ratios == (
        [("modelwire", "clarifai_sdk", p, None) for p in phases]  # a reference: decision 0008
        + [("modelwire", "raw_stub", p, 0.95) for p in phases]
        + [("clarifai_sdk", "raw_stub", p, None) for p in phases]  # a reference row, no verdict
    )
    results_by_pair = {(r["numerator"], r["denominator"]): r["result"] for r in results["ratios"]}
    assert results_by_pair[("modelwire", "clarifai_sdk")] == "SKIP"  # the published SDK did not run
    assert results_by_pair[("clarifai_sdk", "raw_stub")] == "SKIP"
    against_raw = [r for r in results["ratios"] if r["denominator"] == "raw_stub" and r["value"]]
    assert len(against_raw) == len(phases) and all(r["result"] in ("PASS", "MISS") for r in against_raw)
    assert len(results["budgets"]) == 3 * len(phases)
    assert all(b["result"] == "PASS" for b in results["budgets"])
    assert "(clarifai_predict) ==" in proc.stdout
    assert "latency per call" in proc.stdout


def test_decthings_add_entries_counts_entries_and_calls(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, results_dir = quick_run
    results = _results(results_dir, "decthings_add_entries")
    n = DECTHINGS_ENTRIES
    assert results["server"] == "emulator"
    assert results["rounds"] == 3
    assert results["messages_per_round"] == results["expected_check"] == results["details"]["items"] == n
    for key in DECTHINGS:
        entry = results["contenders"][key]
        assert entry["status"] == "ok", entry
        assert len(entry["samples"]) == 3
        for sample in entry["samples"]:
            assert sample["check"] == n  # getDatasets counted every entry of the round's fresh dataset
            assert list(sample["phases"]) == ["add_entries"]
            phase = sample["phases"]["add_entries"]
            assert phase["calls"] == {"Dataset.addEntries": n // 100}  # one HTTP call per 100 entries
            assert phase["seconds"] > 0 and phase["server_cpu_seconds"] is not None
        assert entry["phases"]["add_entries"]["median_rate"] > 0
    for key in DECTHINGS_PUBLISHED:
        assert results["contenders"][key]["status"] == "skipped"
        assert "--skip-published" in results["contenders"][key]["reason"]
    assert [(r["numerator"], r["denominator"], r["result"]) for r in results["ratios"]] == [
        ("modelwire_sync", "decthings_api_sync", "SKIP"),
        ("modelwire_async", "decthings_api_async", "SKIP"),
    ]
    verdicts = {b["contender"]: b["result"] for b in results["budgets"]}
    assert verdicts == {**dict.fromkeys(DECTHINGS, "PASS"), **dict.fromkeys(DECTHINGS_PUBLISHED, "SKIP")}
    assert "(decthings_add_entries) ==" in proc.stdout


def test_decthings_evaluate_sequential_and_concurrent(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, results_dir = quick_run
    results = _results(results_dir, "decthings_evaluate")
    calls = {"sequential": DECTHINGS_CALLS, "concurrent_16": 2 * DECTHINGS_CALLS}
    assert results["details"]["calls"] == calls
    assert results["messages_per_round"] == results["expected_check"] == sum(calls.values())
    for key in DECTHINGS:
        entry = results["contenders"][key]
        assert entry["status"] == "ok", entry
        for sample in entry["samples"]:
            assert sample["check"] == sum(calls.values())  # every output was its row's sum
            assert list(sample["phases"]) == list(calls)
            for name, count in calls.items():
                phase = sample["phases"][name]
                assert phase["messages"] == count
                assert phase["calls"] == {"Model.evaluate": count}
            assert len(sample["phases"]["sequential"]["call_seconds"]) == DECTHINGS_CALLS
        assert entry["phases"]["sequential"]["timed_calls"] == 3 * DECTHINGS_CALLS
    against_published = [r for r in results["ratios"] if r["denominator"] not in DECTHINGS]
    assert {(r["phase"], r["result"]) for r in against_published} == {
        ("sequential", "SKIP"),
        ("concurrent_16", "SKIP"),
    }
    # 16 in flight on the async client against the sync client one call after the other: a verdict
    ours = {
        (r["phase"], r["denominator_phase"], r["target"])
        for r in results["ratios"]
        if r["denominator"] in DECTHINGS
    }
    assert ours == {("concurrent_16", "sequential", 1.0), ("concurrent_16", "concurrent_16", None)}
    assert all(b["result"] == "PASS" for b in results["budgets"] if b["contender"] in DECTHINGS)
    assert "(decthings_evaluate) ==" in proc.stdout
    assert "latency per call" in proc.stdout


def _published_decthings_venv() -> bool:
    """True when scripts/compat.py has built the decthings-api venv already (this test never builds it)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import compat
    finally:
        sys.path.pop(0)
    target = compat.DECTHINGS_TARGET
    venv = compat.cache_dir() / "venvs" / target.name
    marker = venv / compat.MARKER
    return (
        (venv / "bin" / "python").exists()
        and marker.is_file()
        and marker.read_text().strip() == target.requirement
    )


def test_decthings_published_children_run_a_round(tmp_path: Path) -> None:
    if not _published_decthings_venv():
        pytest.skip("the decthings-api venv is not built (make compat builds it)")
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--quick",
        "--rounds",
        "1",
        "--warmup",
        "0",
        "--scenario",
        "decthings_add_entries",
        "--scenario",
        "decthings_evaluate",
        "--results-dir",
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    add = _results(tmp_path, "decthings_add_entries")
    evaluate = _results(tmp_path, "decthings_evaluate")
    for key in DECTHINGS_PUBLISHED:
        entry = add["contenders"][key]
        assert entry["status"] == "ok", entry
        assert entry["info"]["decthings-api"] == "0.0.4"
        (sample,) = entry["samples"]
        assert sample["check"] == DECTHINGS_ENTRIES
        assert sample["phases"]["add_entries"]["calls"] == {"Dataset.addEntries": DECTHINGS_ENTRIES // 100}
        entry = evaluate["contenders"][key]
        assert entry["status"] == "ok", entry
        (sample,) = entry["samples"]
        assert sample["check"] == 3 * DECTHINGS_CALLS
        assert sample["phases"]["concurrent_16"]["calls"] == {"Model.evaluate": 2 * DECTHINGS_CALLS}
    assert all(r["value"] is not None for r in [*add["ratios"], *evaluate["ratios"]])
    assert all(b["result"] == "PASS" for b in [*add["budgets"], *evaluate["budgets"]])


def test_measure_scenarios_report_their_rows(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """import_time and memory hold figures of their own, each row with its target and verdict."""
    proc, results_dir = quick_run
    imports = _results(results_dir, "import_time")
    rows = {m["name"]: m for m in imports["measures"]}
    assert rows["import modelwire.decthings"]["value"] > 0
    assert rows["modelwire.decthings rounds that loaded grpc"]["result"] == "PASS"  # counted, not assumed
    assert rows["modelwire.clarifai / clarifai.client"]["result"] == "SKIP"  # no published venv asked for
    memory = _results(results_dir, "memory")
    growth = [m for m in memory["measures"] if m["name"].endswith("peak RSS growth")]
    assert len(growth) == 3
    for row in growth:
        assert row["target"] == 50.0 and row["at_most"] and len(row["samples"]) == 3
        assert 0 <= row["value"] < 200 and row["result"] in ("PASS", "MISS")
    assert "(memory) ==" in proc.stdout and "(import_time) ==" in proc.stdout


def test_predict_workloads_count_the_rpcs(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, results_dir = quick_run
    results = _results(results_dir, "clarifai_predict_workloads")
    ours = results["contenders"]["modelwire"]
    assert ours["status"] == "ok", ours
    calls = results["details"]["calls"]
    for sample in ours["samples"]:
        phases = sample["phases"]
        assert phases["inputs_1000"]["calls"] == {
            "PostModelOutputs": 8 * calls["inputs_1000"]
        }  # 1000 = 7x128 + 104
        assert phases["by_bytes"]["calls"] == {"PostModelOutputs": calls["by_bytes"]}
        assert phases["fresh_model"]["calls"] == {"PostModelOutputs": calls["fresh_model"]}
    assert all(b["result"] == "PASS" for b in results["budgets"])
