"""What every part of the bench shares: where the repo is, the servers' API key and host, timeouts,
the two exceptions, logging, and naming a function so that another process can call it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "bench" / "run.py"  # the entry point; the bench's own child processes run it too (--child)
API_KEY = "bench-key-0123456789"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0  # seconds for a server / a subprocess contender to come up
ROUND_TIMEOUT = 600.0  # seconds for one round of a subprocess contender


class BenchError(Exception):
    """The benchmark itself cannot go on (a server did not start, a required contender failed)."""


class Unavailable(Exception):
    """A contender cannot run here (e.g. the published SDK's venv could not be built); the reason says why."""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "  | (no output)"
    return "\n".join("  | " + line for line in text.rstrip().splitlines()[-lines:]) or "  | (no output)"


def function_name(function: Callable[..., Any]) -> str:
    """`module:name` of a module-level function, for resolve() in another process (e.g. a child's config)."""
    return f"{function.__module__}:{function.__qualname__}"


def resolve(name: str) -> Callable[..., Any]:
    """The function `module:name` names (see function_name), its module imported."""
    module, _, attr = name.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return function
