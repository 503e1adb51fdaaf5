"""Batching: chunks of any iterable, and bounded concurrent execution of batches with progress."""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from itertools import islice
from typing import Any, Generic, TypeVar

from modelwire._core.config import is_int_at_least
from modelwire._core.errors import UsageError

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most `size` items, lazily, preserving order."""
    if not is_int_at_least(size, 1):
        raise ValueError(f"chunk size must be a positive integer, got {size!r}")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Chunker(Generic[T]):
    """`Chunker(seq, size).chunk()` -> a list of lists of at most `size` items (any iterable).

    `size` is the published Clarifai SDK's name; `chunk_size=` (this class's earlier name) still
    works, and `chunk_size` reads the same value."""

    def __init__(self, seq: Iterable[T], size: int | None = None, *, chunk_size: int | None = None) -> None:
        if size is not None and chunk_size is not None:
            raise UsageError("Chunker takes size= (or its old name chunk_size=), not both")
        chosen = size if size is not None else chunk_size
        if chosen is None or not is_int_at_least(chosen, 1):
            raise UsageError(f"Chunker size must be a positive integer, got {chosen!r}")
        self.seq = seq
        self.size = chosen

    @property
    def chunk_size(self) -> int:
        """The chunk size (the same value as `size`; this class's earlier name)."""
        return self.size

    def chunk(self) -> list[list[T]]:
        """The items in lists of at most `size`, in order (the last may be shorter).

        Returns:
            A list of lists; empty for no items.
        """
        return list(chunked(self.seq, self.size))

    def __iter__(self) -> Iterator[list[T]]:
        return chunked(self.seq, self.size)


def progress_enabled(requested: bool | None) -> bool:
    """Show a progress bar when asked, or by default only on an interactive terminal."""
    if requested is not None:
        return requested
    return sys.stderr.isatty()


class Progress:
    """A thread-safe progress counter, drawn with tqdm when enabled."""

    def __init__(self, total: int, desc: str, enabled: bool | None = None) -> None:
        self._lock = threading.Lock()
        self._bar: Any = None
        if progress_enabled(enabled):
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="item")

    def advance(self, count: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


R = TypeVar("R")


def run_batches(
    work: Callable[[list[T]], R],
    batches: Sequence[list[T]],
    *,
    max_workers: int = 8,
    progress: Progress | None = None,
) -> list[R]:
    """Run `work` on each batch with at most `max_workers` in flight; results in batch order.

    Every batch runs to completion even when another fails; the first failure is then raised,
    so no batch is left half-done behind an early exit.
    """
    if max_workers < 1:
        raise ValueError(f"max_workers must be >= 1, got {max_workers}")
    if not batches:
        return []

    def run(batch: list[T]) -> R:
        result = work(batch)
        if progress is not None:
            progress.advance(len(batch))
        return result

    workers = min(max_workers, len(batches))
    if workers == 1:
        return [run(batch) for batch in batches]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="modelwire-batch") as pool:
        # Each batch runs in a copy of the caller's context, so a span the caller opened (an
        # operation, see _core.observe) is the parent of the batches' calls on the pool's threads.
        futures = [pool.submit(contextvars.copy_context().run, run, batch) for batch in batches]
        wait(futures)
    return [future.result() for future in futures]
