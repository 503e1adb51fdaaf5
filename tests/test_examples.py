"""Every script in examples/ runs, against the session emulator; the `serve` command works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from modelwire.clavata import ClavataClient
from modelwire.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLAVATA_")}
    return subprocess.run(
        [sys.executable, str(script)], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(script: str, emulator: Emulator) -> None:
    result = _run(EXAMPLES / script, emulator.client_env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_quickstart_prints_what_the_readme_promises(emulator: Emulator) -> None:
    out = _run(EXAMPLES / "clavata_quickstart.py", emulator.client_env()).stdout
    assert "created job" in out and "PENDING" in out
    assert "EvaluateResponse(job_uuid=" in out
    assert "First refusal reason:  UNSUPPORTED_FORMAT" in out


def test_demo_shows_a_refusal_and_a_verified_webhook() -> None:
    out = _run(EXAMPLES / "clavata_demo.py", {}).stdout
    assert "UNSUPPORTED_FORMAT" in out
    assert "signature verified" in out and "COMPLETED" in out


def test_make_demo_runs_all_three_providers_in_under_a_minute() -> None:
    """`make demo` (examples/demo.py): its own embedded emulator, no environment needed."""
    makefile = (EXAMPLES.parent / "Makefile").read_text()
    assert "$(BIN)/python examples/demo.py" in makefile
    started = time.monotonic()
    result = _run(EXAMPLES / "demo.py", {})
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert took < 60, f"the demo took {took:.0f} s"
    # Clavata: streamed evaluations, a refusal, a verified webhook
    assert "I will attack you and kill your plants'     TRUE  score 0.96  matches: Violence 0.96" in out
    assert "UNSUPPORTED_FORMAT" in out and "signature verified" in out
    # Clarifai: upload, search, train, evaluate, predict
    assert "UploadSummary(uploaded=600, failed=0)" in out
    assert "a great hotel near the" in out
    assert ": Model trained" in out and "top-1 accuracy" in out
    assert "'what a wonderful and happy evening': positive" in out
    assert "'an awful, horrible purchase': negative" in out
    # Decthings: dataset, training, evaluation
    assert ": 2000 entries" in out and "training completed" in out
    assert "f(1, 1) = 2.0, f(2, 0) = 7.0" in out
    assert "all three providers, offline" in out


def test_serve_command_listens_and_prints_the_generated_key(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelwire.cli", "serve", "--port", "0", "--db", str(db), "--user-id", "me"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        address = re.search(r"listening on (\S+)", lines[0])
        key = re.search(r"generated API key: (\S+)", "".join(lines))
        assert address and key, lines
        host, port = address.group(1).rsplit(":", 1)
        with ClavataClient(host=host, port=int(port), auth_token=key.group(1)) as client:
            job = client.create_job(content="attack", policy_id="demo-policy", wait_for_completion=True)
            assert job.status == "COMPLETED"
        # The printed file host is live and asks for the key, as real hosted content does.
        files = re.search(r"hosted content and exports \(HTTP, key required\): (http://\S+)", "".join(lines))
        assert files, lines
        missing = f"{files.group(1)}/hosted/orig/{'0' * 64}"
        for headers, status in (({}, 401), ({"Authorization": f"Key {key.group(1)}"}, 404)):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(urllib.request.Request(missing, headers=headers), timeout=10)
            assert answer.value.code == status
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0
    assert db.exists() and db.stat().st_size > 0  # jobs persisted to the file


def test_serve_reports_a_bad_policy_file(tmp_path: Path) -> None:
    bad = tmp_path / "policies.yaml"
    bad.write_text("policies:\n  - id: p\n    threshold: 3\n    sections: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "modelwire.cli", "serve", "--port", "0", "--clavata-policies", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert str(bad) in result.stderr and "threshold" in result.stderr


def test_jobs_persist_across_emulator_restarts(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with (
        Emulator(api_key="k-persist", db=db) as first,
        ClavataClient(host="127.0.0.1", port=first.port, auth_token="k-persist") as client,
    ):
        job = client.create_job(content="kill", policy_id="demo-policy", wait_for_completion=True)
    with (
        Emulator(api_key="k-persist", db=db) as second,
        ClavataClient(host="127.0.0.1", port=second.port, auth_token="k-persist") as client,
    ):
        again = client.get_job(job.job_uuid)
    assert again == job


def test_running_job_resumes_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "resume.db"
    first = Emulator(api_key="k-resume", db=db, clavata_job_delay=30).start()
    with ClavataClient(host="127.0.0.1", port=first.port, auth_token="k-resume") as client:
        job = client.create_job(content="attack", policy_id="demo-policy")
        for _ in range(200):  # until the runner has picked it up
            if client.get_job(job.job_uuid).status == "RUNNING":
                break
    first.stop()  # interrupts the 30 s delay at once, without writing to a closed store
    with (
        Emulator(api_key="k-resume", db=db) as second,
        ClavataClient(host="127.0.0.1", port=second.port, auth_token="k-resume") as client,
    ):
        done = client.wait_for_job(job.job_uuid, timeout=10)
    assert done.status == "COMPLETED"
    assert done.results[0].report is not None and done.results[0].report.outcome == "TRUE"
