"""`Lister` (page-number listing) and `Chunker`, with the Clarifai SDK's names.

Listing is lazy and uses the core pager: a page shorter than `per_page` ends it, so a listing of
n items makes ceil(n / per_page) calls, plus one only when n is an exact multiple of per_page and
the API gives no total (the published client always made the extra empty-page call). Items are
yielded as they are (protos or typed objects), never round-tripped through dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf import json_format

from modelwire._core.batching import Chunker
from modelwire._core.paging import Page, PageNumber, Pager
from modelwire._core.wire import is_repeated
from modelwire.clarifai._proto import merge_into
from modelwire.clarifai.errors import UserError

DEFAULT_PAGE_SIZE = 16  # the Clarifai SDK's default when only page_no is given
MAX_PER_PAGE = 1000  # the API's maximum page size

__all__ = ["Chunker", "Lister", "list_items"]


def _field(response: Any) -> str:
    """The repeated field of a list response (the one that is not `status`)."""
    for field in response.DESCRIPTOR.fields:
        if field.name != "status" and is_repeated(field):
            return str(field.name)
    raise UserError(f"{response.DESCRIPTOR.full_name} has no repeated field to list")


def _check_page_args(page_no: int | None, per_page: int | None) -> None:
    for name, value in (("page_no", page_no), ("per_page", per_page)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UserError(f"{name} must be a positive integer, got {value!r}")
    if per_page is not None and per_page > MAX_PER_PAGE:
        raise UserError(f"per_page must be at most {MAX_PER_PAGE} (the API's limit), got {per_page}")


class _AnyListField:
    """PageNumber over whichever repeated field the response carries (for `Lister`)."""

    def items(self, response: Any) -> Any:
        return getattr(response, _field(response))

    def next_request(self, request: Any, response: Any) -> Any | None:
        return PageNumber(items_field=_field(response)).next_request(request, response)


def list_items(
    fetch: Callable[[Any], Any],
    request: Any,
    *,
    items_field: str | None = None,
    shape: Callable[[Any], Any] = lambda item: item,
    page_no: int | None = None,
    per_page: int | None = None,
    default_per_page: int = 128,
    single_page_size: int = DEFAULT_PAGE_SIZE,
    shape_page: Callable[[Any, list[Any]], Page[Any]] = lambda response, items: Page(items, response),
) -> Iterator[Any]:
    """Items of a page-numbered listing: only page `page_no` when given, else all pages, lazily.

    `items_field` names the response's repeated field (found automatically when None). Without
    per_page, a single page holds `single_page_size` items and a full listing pages by
    `default_per_page`.
    """
    _check_page_args(page_no, per_page)
    request.page = page_no or 1
    request.per_page = per_page or (single_page_size if page_no else default_per_page)
    strategy = PageNumber(items_field=items_field) if items_field else _AnyListField()
    pager: Pager[Any, Page[Any]] = Pager(
        fetch,
        request,
        strategy,
        shape_item=shape,
        shape_page=shape_page,
        max_items=request.per_page if page_no else None,
    )
    return iter(pager)


class Lister:
    """`Lister(page_size).list_pages_generator(endpoint, proto_message, request_data, page_no, per_page)`."""

    def __init__(self, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        _check_page_args(None, page_size)
        self.default_page_size = page_size

    def list_pages_generator(
        self,
        endpoint: Callable[[Any], Any],
        proto_message: type[Any],
        request_data: dict[str, Any],
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield each listed item as a dict (proto field names), fetching pages as needed.

        `request_data` holds the request's fields as the published SDK builds them: plain values,
        dicts, or messages of any origin (e.g. a clarifai-grpc `UserAppIDSet`). As published, an
        item's `id` is renamed `<resource>_id` (`app_id` for ListApps, `model_id`, ...); a listing
        of dataset inputs yields each input, its id as `dataset_input_id`."""
        request = proto_message()
        merge_into(request, request_data, what="request_data")
        return list_items(
            endpoint,
            request,
            page_no=page_no,
            per_page=per_page,
            default_per_page=self.default_page_size,
            single_page_size=self.default_page_size,
            shape_page=_keyed_page,
        )


def _keyed_page(response: Any, items: list[Any]) -> Page[Any]:
    field = _field(response)
    return Page([_keyed(field, item) for item in items], response)


def _keyed(field: str, item: Any) -> dict[str, Any]:
    """The published SDK's item dict: `id` becomes `<resource>_id` (the list field, singular);
    a dataset input is its input."""
    if field == "dataset_inputs":
        item = item.input
    shaped = json_format.MessageToDict(item, preserving_proto_field_name=True)
    if "id" in shaped:
        shaped[f"{field[:-1]}_id"] = shaped.pop("id")
    return shaped
