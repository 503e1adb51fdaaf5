"""Accounting for chunked writes: every item is uploaded, failed (with a reason) or unknown.

A bulk write that stops half-way must still say what landed, or the caller cannot resume it
without duplicates. `WriteSummary` is that record; `attach_summary` hangs it on the exception
that stopped the write (`err.summary`), so the failure and the accounting travel together.

"unknown" is the honest third state: the request left the client and no answer came back, so the
server may or may not have stored it. Writes keyed by caller-chosen ids can be rerun safely; the
provider's rerun logic resolves the unknowns (e.g. by reading the ids back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from modelwire._core import observe
from modelwire._core.batching import Progress, run_batches
from modelwire._core.errors import ApiError, ModelwireError, lost_in_flight

E = TypeVar("E", bound=ModelwireError)
T = TypeVar("T")
S = TypeVar("S", bound="WriteSummary")
NOT_SENT = "not sent: an earlier batch failed"
_NOTE_PREFIX = "bulk write stopped: "


@dataclass(repr=False)
class WriteSummary:
    """What a chunked write did with each item, by key: nothing is left unaccounted for."""

    uploaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # The request for these was sent but its outcome is not known: they may have landed.
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every item was uploaded: nothing failed and nothing is unknown."""
        return not self.failed and not self.unknown

    @property
    def accounted(self) -> int:
        """How many items the summary accounts for (uploaded + failed + unknown)."""
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
        """A one-line account, e.g. "98 uploaded, 2 failed"; unknowns are named when there are any."""
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
    note = f"{_NOTE_PREFIX}{summary.describe()}; see err.summary for every item"
    add_note = getattr(error, "add_note", None)
    if add_note is not None:  # Python >= 3.11; tracebacks then show it under the message
        # A summary attached again (a batch's, then the whole write's) replaces the earlier note.
        notes = getattr(error, "__notes__", [])
        notes[:] = [n for n in notes if not n.startswith(_NOTE_PREFIX)]
        add_note(note)
    return error


def failure_reason(error: BaseException) -> str:
    """How a failed request reads in a summary."""
    return str(error).split("\n", 1)[0] or type(error).__name__


def account_failed_batch(summary: WriteSummary, keys: Iterable[str], error: BaseException) -> None:
    """Record a batch whose request failed: unknown when it may have landed, else failed."""
    landed_maybe = isinstance(error, ApiError) and (error.outcome_unknown or lost_in_flight(error))
    summary.mark(keys, failure_reason(error), landed_maybe=landed_maybe)


def write_batches(
    work: Callable[[list[T]], S],
    batches: Sequence[list[T]],
    *,
    keys: Callable[[list[T]], list[str]],
    new_summary: Callable[[], S],
    max_workers: int = 8,
    progress: Progress | None = None,
    operation: str = "modelwire.bulk_write",
) -> S:
    """Run `work` on each batch (bounded concurrency) and merge what each reports.

    The first batch that raises stops new batches from starting (the service is likely down, and
    every later batch would wait out its own retries); batches in flight finish. Then that error is
    raised with `err.summary` accounting for every key: what landed, what failed or may have landed
    (from the failed batch, or from `err.summary` when `work` accounted for it itself) and what was
    never sent. Without a failure the merged summary is returned.

    When tracing (modelwire.otel), the whole write is one span named `operation`, with the item
    count and, at its end, how many landed, failed and are unknown; its calls are its children.
    """
    stop = threading.Event()
    errors: list[ModelwireError] = []

    def run(batch: list[T]) -> S:
        if stop.is_set():
            skipped = new_summary()
            skipped.mark(keys(batch), NOT_SENT, landed_maybe=False)
            return skipped
        try:
            return work(batch)
        except ModelwireError as err:
            stop.set()
            errors.append(err)
            if err.summary is not None:  # `work` accounted for its batch itself
                return cast("S", err.summary)
            accounted = new_summary()
            account_failed_batch(accounted, keys(batch), err)
            return accounted

    total = new_summary()
    items = sum(len(batch) for batch in batches)
    with observe.operation(operation, {"modelwire.items": items, "modelwire.batches": len(batches)}) as span:
        try:
            for result in run_batches(run, list(batches), max_workers=max_workers, progress=progress):
                total.merge(result)
        finally:
            if span is not None:
                span.set("modelwire.uploaded", len(total.uploaded))
                span.set("modelwire.failed", len(total.failed))
                span.set("modelwire.unknown", len(total.unknown))
        if errors:
            raise attach_summary(errors[0], total)
    return total
