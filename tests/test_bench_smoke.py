"""Smoke test of the benchmark harness: `bench/run.py --quick --skip-published` runs end to end
(emulator process, warm-up, interleaved rounds, table, JSON) in a few seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("raw_sync", "modelwire_sync", "raw_aio", "modelwire_async")


def test_bench_quick_runs_and_writes_results(tmp_path: Path) -> None:
    # sys.executable is the venv's python running pytest; results go to tmp_path so that a test
    # run never overwrites the numbers of a real `make bench` in bench/results/.
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--quick",
        "--skip-published",
        "--results-dir",
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"

    results = json.loads((tmp_path / "clavata_stream.json").read_text())
    assert results["rounds"] == 3
    contenders = results["contenders"]
    for key in REQUIRED:
        entry = contenders[key]
        assert entry["status"] == "ok", entry
        assert entry["median_rate"] > 0
        assert len(entry["samples"]) == 3
        assert all(s["messages"] == results["messages_per_round"] for s in entry["samples"])
    assert contenders["clavata_sdk"]["status"] == "skipped"
    assert "--skip-published" in contenders["clavata_sdk"]["reason"]
    assert {(r["numerator"], r["denominator"]) for r in results["ratios"]} >= {
        ("modelwire_sync", "raw_sync"),
        ("modelwire_async", "raw_aio"),
    }
    assert "modelwire ClavataClient / raw sync stub" in proc.stdout
