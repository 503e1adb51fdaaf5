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
