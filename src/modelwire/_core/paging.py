"""Lazy pagination, sync and async, with page-token and page-number strategies.

A pager fetches a page only when iteration needs it and stops on the first signal that there is
no more (an empty token, a short page, a known total): never an extra call for an empty page when
the response already says it was the last. Every page is fetched with the same timeout, retry
policy and metadata as the first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from modelwire._core.config import is_int_at_least
from modelwire._core.errors import UsageError

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page: its shaped items, the raw response, and the token of the next page (if any)."""

    items: list[T]
    response: Any = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


P = TypeVar("P", bound=Page[Any])


class PageStrategy(Protocol):
    """How to read a page's items and build the request for the page after it."""

    def items(self, response: Any) -> Sequence[Any]: ...

    def next_request(self, request: Any, response: Any) -> Any | None: ...


@dataclass(frozen=True)
class PageToken:
    """`next_page_token` in the response goes into `page_token` of the next request; empty ends."""

    items_field: str
    request_token_field: str = "page_token"
    response_token_field: str = "next_page_token"

    def items(self, response: Any) -> Sequence[Any]:
        return getattr(response, self.items_field)  # type: ignore[no-any-return]

    def next_request(self, request: Any, response: Any) -> Any | None:
        token = getattr(response, self.response_token_field)
        if not token:
            return None
        following = type(request)()
        following.CopyFrom(request)
        setattr(following, self.request_token_field, token)
        return following


@dataclass(frozen=True)
class PageNumber:
    """Numbered pages of `per_page` items. A page shorter than `per_page` is the last; so is the
    page that reaches `total` when the provider can tell it (`total(response)` not None)."""

    items_field: str
    page_field: str = "page"
    per_page_field: str = "per_page"
    total: Callable[[Any], int | None] | None = None

    def items(self, response: Any) -> Sequence[Any]:
        return getattr(response, self.items_field)  # type: ignore[no-any-return]

    def next_request(self, request: Any, response: Any) -> Any | None:
        per_page = getattr(request, self.per_page_field)
        page = getattr(request, self.page_field) or 1
        count = len(self.items(response))
        if per_page <= 0 or count < per_page:
            return None
        known = self.total(response) if self.total is not None else None
        if known is not None and page * per_page >= known:
            return None
        following = type(request)()
        following.CopyFrom(request)
        setattr(following, self.page_field, page + 1)
        return following


class _PagerBase(Generic[T, P]):
    def __init__(
        self,
        request: Any,
        strategy: PageStrategy,
        *,
        shape_item: Callable[[Any], T],
        shape_page: Callable[[Any, list[T]], P],
        max_items: int | None = None,
    ) -> None:
        if max_items is not None and not is_int_at_least(max_items, 0):
            raise UsageError(f"max_items must be an int >= 0 (or None for all), got {max_items!r}")
        self._request = request
        self._strategy = strategy
        self._shape_item = shape_item
        self._shape_page = shape_page
        self._max_items = max_items
        self.calls = 0  # RPCs made so far, for the curious and for tests

    def _take(self, response: Any, seen: int) -> tuple[list[T], bool]:
        """Shape a page's items, trimmed to max_items; True when the limit is reached."""
        raw = self._strategy.items(response)
        if self._max_items is not None:
            raw = raw[: max(self._max_items - seen, 0)]
        items = [self._shape_item(item) for item in raw]
        return items, self._max_items is not None and seen + len(items) >= self._max_items


class Pager(_PagerBase[T, P]):
    """Iterate items (`for job in pager`) or pages (`for page in pager.pages()`); lazy."""

    def __init__(self, fetch: Callable[[Any], Any], request: Any, strategy: PageStrategy, **kw: Any) -> None:
        super().__init__(request, strategy, **kw)
        self._fetch = fetch

    def pages(self) -> Iterator[P]:
        request: Any | None = self._request
        seen = 0
        while request is not None and (self._max_items is None or seen < self._max_items):
            response = self._fetch(request)
            self.calls += 1
            items, full = self._take(response, seen)
            seen += len(items)
            yield self._shape_page(response, items)
            request = None if full else self._strategy.next_request(request, response)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPager(_PagerBase[T, P]):
    """`async for item in pager`, `async for page in pager.pages()`, or `await pager` for the first
    page (what the published async SDKs returned)."""

    def __init__(
        self, fetch: Callable[[Any], Awaitable[Any]], request: Any, strategy: PageStrategy, **kw: Any
    ) -> None:
        super().__init__(request, strategy, **kw)
        self._fetch = fetch

    async def pages(self) -> AsyncIterator[P]:
        request: Any | None = self._request
        seen = 0
        while request is not None and (self._max_items is None or seen < self._max_items):
            response = await self._fetch(request)
            self.calls += 1
            items, full = self._take(response, seen)
            seen += len(items)
            yield self._shape_page(response, items)
            request = None if full else self._strategy.next_request(request, response)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def first_page(self) -> P:
        response = await self._fetch(self._request)
        self.calls += 1
        items, _ = self._take(response, 0)
        return self._shape_page(response, items)

    def __await__(self) -> Generator[Any, None, P]:
        return self.first_page().__await__()
