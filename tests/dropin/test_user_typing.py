"""A user's `mypy --strict` over code using modelwire's Clarifai types sees real message types
(types-protobuf is installed with modelwire; the generated stubs ship in the wheel), not `Any`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is in the dev extra")

USER_CODE = """
from modelwire.clarifai.api import resources_pb2
from modelwire.clarifai.types import Concept, Input, MultiOutputResponse, OutputConfig, StatusCode

def first_concept(response: MultiOutputResponse) -> str:
    return response.outputs[0].data.concepts[0].name

concept = Concept(id="cat", value=1.0)
config = OutputConfig(max_concepts=3, select_concepts=[concept])
item: Input = resources_pb2.Input(id="x")
code: int = StatusCode.SUCCESS
reveal_type(item.data.concepts)
wrong: int = item.id
"""


def test_user_code_gets_message_types_from_mypy_strict(tmp_path: Path) -> None:
    source = tmp_path / "user_code.py"
    source.write_text(textwrap.dedent(USER_CODE))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    out = done.stdout
    # Exactly one error, the deliberate one: `id` is a str, so the types are real, not Any.
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in out, out
    assert "RepeatedCompositeFieldContainer[" in out and "Concept]" in out, out
    assert "Found 1 error" in out, out
