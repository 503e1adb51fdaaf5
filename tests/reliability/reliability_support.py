"""Shared pieces of the reliability suite: distinctive keys, the fuzz-case counter, the summary."""

from __future__ import annotations

from collections import Counter
from typing import Any

# Distinctive, so a leak anywhere (message, repr, log, traceback locals) is unambiguous.
LEAK_KEY = "mwleak-Zq8Xv3Kd9Tp2Lw7Rb5Ns"
WRONG_KEY = "mwwrong-Hy4Jf6Gc1Vm8Qe0Ua3Xo"

CASES: Counter[str] = Counter()
SUMMARY: dict[str, Any] = {}


class FuzzCounter:
    """Counts examples per target; `tried` is what one test ran (asserted > 0 by the test)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.tried = 0

    def __call__(self, n: int = 1) -> None:
        self.tried += n
        CASES[self.target] += n


def record(name: str, value: Any) -> None:
    """Add a figure (e.g. methods in the auth matrix) to the end-of-run summary."""
    SUMMARY[name] = value
