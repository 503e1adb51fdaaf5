"""Accounting for chunked writes: every item is uploaded, failed (with a reason) or unknown.

A bulk write that stops half-way must still say what landed, or the caller cannot resume it
without duplicates. `WriteSummary` is that record; `attach_summary` hangs it on the exception
that stopped the write (`err.summary`), so the failure and the accounting travel together.

"unknown" is the honest third state: the request left the client and no answer came back, so the
server may or may not have stored it. Writes keyed by caller-chosen ids can be rerun safely; the
provider's rerun logic resolves the unknowns (e.g. by reading the ids back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from modelwire._core.errors import ModelwireError

E = TypeVar("E", bound=ModelwireError)


@dataclass(repr=False)
class WriteSummary:
    """What a chunked write did with each item, by key: nothing is left unaccounted for."""

    uploaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # The request for these was sent but its outcome is not known: they may have landed.
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unknown

    @property
    def accounted(self) -> int:
        return len(self.uploaded) + len(self.failed) + len(self.unknown)

    def merge(self, other: WriteSummary) -> None:
        self.uploaded += other.uploaded
        self.failed.update(other.failed)
        self.unknown.update(other.unknown)

    def mark(self, keys: Iterable[str], reason: str, *, landed_maybe: bool) -> None:
        """Record `keys` as failed, or as unknown when the request may have reached the server."""
        target = self.unknown if landed_maybe else self.failed
        for key in keys:
            target[key] = reason

    def describe(self) -> str:
        parts = [f"{len(self.uploaded)} uploaded", f"{len(self.failed)} failed"]
        if self.unknown:
            parts.append(f"{len(self.unknown)} unknown (may have landed; rerun with the same ids)")
        return ", ".join(parts)

    def __repr__(self) -> str:
        unknown = f", unknown={len(self.unknown)}" if self.unknown else ""
        return f"{type(self).__name__}(uploaded={len(self.uploaded)}, failed={len(self.failed)}{unknown})"


def attach_summary(error: E, summary: WriteSummary) -> E:
    """Set `error.summary` and say in the error's notes what the write did before it stopped."""
    error.summary = summary
    note = f"bulk write stopped: {summary.describe()}; see err.summary for every item"
    add_note = getattr(error, "add_note", None)
    if add_note is not None:  # Python >= 3.11; tracebacks then show it under the message
        add_note(note)
    return error


class PartialWriteError(ModelwireError):
    """A bulk write ended with items failed or unknown; `summary` says which (nothing is dropped)."""

    def __init__(self, message: str, summary: WriteSummary) -> None:
        super().__init__(message)
        self.summary = summary
