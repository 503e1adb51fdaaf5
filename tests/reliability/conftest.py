"""Fixtures of the reliability suite: an emulator with a distinctive key, and a fuzz-case counter.

Every fuzzing test reports the cases it tried to `fuzz_cases`; the totals are printed at the end of
the run and written to `<pytest basetemp>/fuzz_cases.json`, so "N fuzz cases" can be quoted.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import CASES, LEAK_KEY, SUMMARY, FuzzCounter

from modelwire.emulator import Emulator
from modelwire.testing import EmulatorFactory


@pytest.fixture
def fuzz_cases(request: pytest.FixtureRequest) -> FuzzCounter:
    return FuzzCounter(request.node.name)


@pytest.fixture(scope="session")
def leak_emulator() -> Iterator[Emulator]:
    """An emulator whose only key is LEAK_KEY, with the Decthings server running. Started by the
    modelwire pytest plugin's EmulatorFactory, so the plugin clears its faults after every test."""
    with EmulatorFactory() as start:
        yield start(api_key=LEAK_KEY, http_port=0, webhook_backoff=0.05)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not CASES:
        return
    total = sum(CASES.values())
    terminalreporter.write_sep("-", f"reliability: {total} fuzz cases over {len(CASES)} targets")
    for target, count in sorted(CASES.items()):
        terminalreporter.write_line(f"  {count:6d}  {target}")
    for name, value in sorted(SUMMARY.items()):
        terminalreporter.write_line(f"  {name}: {value}")
    try:
        base = Path(str(config._tmp_path_factory.getbasetemp()))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return
    out = base / "fuzz_cases.json"
    out.write_text(json.dumps({"total": total, "targets": dict(CASES), **SUMMARY}, indent=1))
    terminalreporter.write_line(f"  written to {out}")
