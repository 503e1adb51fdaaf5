"""The built wheel ships only the `modelwire` package: generated code stays in its namespace."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_adds_no_foreign_top_level_packages(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("modelwire-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"modelwire"}
    assert "modelwire/py.typed" in names
    assert "modelwire/_gen/clavata/gateway/v1/gateway_pb2.py" in names
    assert "modelwire/_gen/clavata/gateway/v1/gateway_pb2.pyi" in names
    assert "modelwire/emulator/clavata/default_policies.yaml" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)  # Apache-2.0 text


def test_generated_modules_register_the_real_wire_names() -> None:
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2

    service = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"]
    assert service.full_name == "clavata.gateway.v1.GatewayService"
    assert gateway_pb2.EvaluateRequest.__module__ == "modelwire._gen.clavata.gateway.v1.gateway_pb2"
    # In a fresh interpreter (this one may hold the published clients, under `make test-published`):
    # importing every provider adds no top-level clavata/clarifai package.
    probe = (
        "import sys, modelwire.clavata, modelwire.clarifai, modelwire.decthings, modelwire.emulator; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'clavata', 'clavata_sdk', 'clarifai', "
        "'clarifai_grpc', 'decthings_api'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_sdist_holds_the_whole_project(tmp_path: Path) -> None:
    """What a downstream packager needs to rebuild and test: protos, examples, tests, docs, license."""
    import tarfile

    probe = f"import sys; from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))"
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, timeout=300, capture_output=True)
    (sdist,) = tmp_path.glob("modelwire-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for expected in (
        "LICENSE",
        "CHANGELOG.md",
        "Makefile",
        "protos/clavata/gateway/v1/gateway.proto",
        "examples/clavata_demo.py",
        "tests/test_packaging.py",
        "scripts/generate.py",
        "bench/run.py",
        "docs/migration.md",
        "constraints/floor.txt",
        "src/modelwire/py.typed",
    ):
        assert expected in names, expected
    assert not any("__pycache__" in name for name in names)


def test_python_dash_m_modelwire_is_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modelwire", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.startswith("usage: modelwire")
    assert "serve" in done.stdout and "migrate" in done.stdout


def test_a_newcomer_installs_into_a_clean_venv_and_the_first_snippet_runs(tmp_path: Path) -> None:
    """The README's promise: `pip install 'modelwire[emulator]'` in a clean venv (here from this
    checkout), then its in-process first snippet, as written, in a fresh directory."""
    import re
    import venv

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{ROOT}[emulator]"],
        check=True,
        timeout=600,
        capture_output=True,
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_call = readme.split("## First call", 1)[1].split("\n## ", 1)[0]
    in_process = [
        b for b in re.findall(r"^```python\n(.*?)^```$", first_call, re.S | re.M) if "Emulator(" in b
    ]
    assert len(in_process) == 1, "the README's first call shows one in-process snippet"
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [str(python), "-c", in_process[0]], cwd=work, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines()[0] == "COMPLETED {}"
    assert "decthings-sum" in done.stdout.splitlines()[1]
