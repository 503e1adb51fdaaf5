"""Batching of any iterable into fixed-size chunks (lazy or materialised)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Generic, TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most `size` items, lazily, preserving order."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"chunk size must be a positive integer, got {size!r}")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Chunker(Generic[T]):
    """`Chunker(seq, size).chunk()` -> a list of lists of at most `size` items (any iterable)."""

    def __init__(self, seq: Iterable[T], chunk_size: int) -> None:
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.seq = seq
        self.chunk_size = chunk_size

    def chunk(self) -> list[list[T]]:
        return list(chunked(self.seq, self.chunk_size))

    def __iter__(self) -> Iterator[list[T]]:
        return chunked(self.seq, self.chunk_size)
