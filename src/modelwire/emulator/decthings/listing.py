"""The filter / sort / offset-limit paging that getModels and getDatasets share.

Params: `{offset?=0, limit?=20, filter?: {owners?, tags?, ids?, names?, searchName?}, sort?="createdAt",
sortDirection?}`; result `{<items>, total, offset, limit}`. Filters combine with AND; `tags` needs
every listed {tag, value} pair; `searchName` is a case-insensitive substring of the name. Sorting is
by `createdAt` (default newest first) or `name` (default A-Z), ties broken by id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from modelwire.emulator.decthings.errors import (
    JsonObject,
    invalid_parameter,
    opt_int,
    opt_object,
    sort_direction,
    str_list,
    tags,
)

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 1000
SORTS: Final = ("createdAt", "name")

T = TypeVar("T")


def page(
    items: Sequence[T],
    params: Mapping[str, Any],
    fields: Callable[[T], JsonObject],
) -> tuple[list[T], JsonObject]:
    """(the page of `items`, {total, offset, limit}); `fields(item)` gives id, name, owner, tags,
    createdAt of an item."""
    offset = opt_int(params, "offset", 0)
    limit = opt_int(params, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise invalid_parameter("limit", f"must be at most {MAX_LIMIT}, got {limit}")
    sort = params.get("sort") or "createdAt"
    if sort not in SORTS:
        raise invalid_parameter("sort", f"must be one of {', '.join(SORTS)}, got {sort!r}")
    direction = sort_direction(params, "desc" if sort == "createdAt" else "asc")
    flt = opt_object(params, "filter") or {}
    owners = str_list(flt, "owners", "filter")
    ids = str_list(flt, "ids", "filter")
    names = str_list(flt, "names", "filter")
    wanted_tags = tags(flt, "tags", "filter")
    search = flt.get("searchName")
    if search is not None and not isinstance(search, str):
        raise invalid_parameter("filter.searchName", "must be a string")

    def keep(item: T) -> bool:
        f = fields(item)
        if owners is not None and f["owner"] not in owners:
            return False
        if ids is not None and f["id"] not in ids:
            return False
        if names is not None and f["name"] not in names:
            return False
        if wanted_tags and any(t not in f["tags"] for t in wanted_tags):
            return False
        return not search or search.casefold() in f["name"].casefold()

    matched = [item for item in items if keep(item)]
    matched.sort(key=lambda item: fields(item)["id"])
    if sort == "name":
        matched.sort(key=lambda item: fields(item)["name"].casefold(), reverse=direction == "desc")
    else:
        matched.sort(key=lambda item: fields(item)["createdAt"], reverse=direction == "desc")
    return matched[offset : offset + limit], {"total": len(matched), "offset": offset, "limit": limit}
