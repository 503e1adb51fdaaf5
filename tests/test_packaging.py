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
