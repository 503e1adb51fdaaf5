"""docs/at-scale.md's complete example, and the README's "At scale" example, run as written on a
local Ray cluster (in a fresh interpreter, as a reader would run them: each starts its own emulator
and cluster). Slow: run with `make test-ray`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
pytest.importorskip("ray.data")

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "at-scale.md"


README = ROOT / "README.md"


def example(page: Path = PAGE, heading: str = "## A complete example") -> str:
    """The first ```py block under `heading` of `page`."""
    text = page.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    found = re.search(r"^```py\n(.*?)^```$", section, re.S | re.M)
    assert found is not None, f"no ```py block under {heading}"
    return found.group(1)


def _run(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "at_scale.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAVATA_", "CLARIFAI_", "DECTHINGS_"))}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_the_complete_example_runs_on_a_local_cluster(tmp_path: Path) -> None:
    done = _run(tmp_path, example())
    printed = [line for line in done.stdout.splitlines() if line.startswith(("{", "0"))]
    assert printed == ["{'FALSE': 2700, 'TRUE': 300}", "0", "{'uploaded': 3000}", "{'uploaded': 3000}"], (
        done.stdout
    )


def test_the_readme_example_runs_on_a_local_cluster(tmp_path: Path) -> None:
    done = _run(tmp_path, example(README, "## At scale"))
    assert done.stdout.splitlines()[-1] == "{'FALSE': 2700, 'TRUE': 300}", done.stdout
