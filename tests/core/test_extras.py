"""A missing extra is named: importing an optional part without it raises MissingExtraError with the
`pip install 'modelwire[...]'` to run; other import errors pass through unchanged."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modelwire._core.errors import needs_extra
from modelwire.errors import MissingExtraError, ModelwireError


@pytest.mark.parametrize(
    ("blocked", "module", "extra"),
    [("PIL", "modelwire.emulator", "emulator"), ("ray", "modelwire.integrations.ray", "ray")],
)
def test_importing_without_the_extra_names_it(blocked: str, module: str, extra: str) -> None:
    # a fresh interpreter in which the extra's package cannot be imported
    probe = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "try:\n"
        f"    import {module}\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(type(exc).__module__, type(exc).__name__, exc.name, exc, sep='|')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    where, name, missing, message = done.stdout.strip().split("|")
    assert (where, name, missing.split(".")[0]) == ("modelwire.errors", "MissingExtraError", blocked)
    assert f"pip install 'modelwire[{extra}]'" in message and module in message


def test_other_import_errors_are_not_taken_for_a_missing_extra() -> None:
    with pytest.raises(ModuleNotFoundError) as caught, needs_extra("emulator", "x", ("PIL",)):
        import modelwire.no_such_module  # noqa: F401
    assert not isinstance(caught.value, MissingExtraError)
    with pytest.raises(MissingExtraError) as named, needs_extra("emulator", "the thing", ("no_such_pkg",)):
        import no_such_pkg.sub  # noqa: F401
    assert isinstance(named.value, ModelwireError) and named.value.name == "no_such_pkg"
    assert "the thing needs the emulator extra: pip install 'modelwire[emulator]'" in str(named.value)
