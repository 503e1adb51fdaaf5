"""Plumbing shared by the legacy classes: JSON shapes, scoped calls, per-item failures, search pages.

Calls go through the modern `BaseClient` (its connection, retries and status inspection); this
module only adds what the legacy surface needs on top: responses as the legacy JSON dicts, calls
scoped to another owner (Clarifai's public models live in clarifai/main), per-item failures of
batch RPCs raised as one `ApiError`, and lazy paging of search RPCs, whose page numbers sit in the
request's `pagination` message rather than at its top level.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf import json_format, message

from modelwire._core.paging import Page, PageNumber, Pager
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire.clarifai._base import BaseClient, op
from modelwire.clarifai.errors import ApiError, status_failure
from modelwire.clarifai.inputs import _reason
from modelwire.clarifai.lister import _check_page_args

T = TypeVar("T")
C = TypeVar("C", bound=BaseClient)

DEFAULT_PER_PAGE = 20  # the legacy client's page size
LIST_PAGE_SIZE = 128  # page size of full listings (get_all, search generators)
MAX_BATCH = 128  # inputs per PostInputs / PostModelOutputs call
PUBLIC = resources_pb2.UserAppIDSet(user_id="clarifai", app_id="main")  # Clarifai's public models

# Item statuses that are not failures: done, still processing, or nothing reported.
ITEM_OK = frozenset(
    {
        0,
        status_code_pb2.SUCCESS,
        status_code_pb2.INPUT_DOWNLOAD_SUCCESS,
        status_code_pb2.INPUT_DOWNLOAD_PENDING,
        status_code_pb2.INPUT_DOWNLOAD_IN_PROGRESS,
        status_code_pb2.ANNOTATION_SUCCESS,
    }
)


def as_json(msg: message.Message) -> dict[str, Any]:
    """A message as the legacy client's JSON: snake_case keys, integer status codes."""
    return json_format.MessageToDict(msg, preserving_proto_field_name=True, use_integers_for_enums=True)


def from_float32(value: float) -> float:
    """A float32 field as the shortest decimal with the same float32 value (0.1, not
    0.10000000149011612): what the sender most likely wrote."""
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == value:
            return candidate
    return value


def timestamp_text(msg: Any, field: str) -> str | None:
    """An RFC 3339 timestamp field as text (what the legacy JSON carried), None when unset."""
    return str(getattr(msg, field).ToJsonString()) if msg.HasField(field) else None


# The ids a key-scoped client is built with, to pass the modern clients' checks for a user and an
# app: its requests carry an empty user_app_id instead (see `key_scoped`). "me" is the API's alias
# of the key's owner, so `user_id` stays true; the app has no name on this side.
KEY_USER, KEY_APP = "me", "-"


def key_scoped(client: C) -> C:
    """Address `client` to the app its API key implies: requests carry an empty user_app_id, which
    the server resolves from an app-scoped key (the 2.x norm: `ClarifaiApp(api_key=...)`)."""
    client.user_id, client.app_id = KEY_USER, ""
    client.user_app_id = resources_pb2.UserAppIDSet()
    return client


def is_key_scoped(client: BaseClient) -> bool:
    """True when `client` works in the app its API key implies (no ids of its own)."""
    return not (client.user_app_id.user_id or client.user_app_id.app_id)


def app_name(client: BaseClient) -> str:
    """`client`'s app, for messages."""
    if is_key_scoped(client):
        return "the API key's app"
    return f"app {client.app_id!r} of user {client.user_id!r}"


def scope_of(client: BaseClient, user_id: str, app_id: str) -> resources_pb2.UserAppIDSet | None:
    """The scope to address a resource of user_id/app_id from `client` (None: client's own app).
    An app-scoped key reaches only its own app besides the public models, so for a key-scoped
    client every other owner is its own app, addressed as always by the empty user_app_id."""
    if (user_id, app_id) == (client.user_id, client.app_id):
        return None
    if is_key_scoped(client) and (user_id, app_id) != (PUBLIC.user_id, PUBLIC.app_id):
        return None
    return resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id)


def call(
    client: BaseClient, name: str, scope: resources_pb2.UserAppIDSet | None = None, **fields: Any
) -> Any:
    """RPC `name` for `client`'s app, or for another owner's (`scope`, e.g. PUBLIC)."""
    return client._grpc_request(
        name, op(name).request_type(user_app_id=scope or client.user_app_id, **fields)
    )


@contextmanager
def derived(api: BaseClient, cls: type[C], **kwargs: Any) -> Iterator[C]:
    """A modern client on `api`'s connection for one operation, released right after (legacy
    objects are made freely and never closed, so they must not hold the connection open).
    From a key-scoped `api`, a client of the key's own app is key-scoped too."""
    own_app = (
        is_key_scoped(api) and scope_of(api, kwargs.get("user_id", ""), kwargs.get("app_id", "")) is None
    )
    if own_app:
        kwargs.update(user_id=KEY_USER, app_id=KEY_APP)
    client = api._derive(cls, **kwargs)
    if own_app:
        key_scoped(client)
    try:
        yield client
    finally:
        client.close()


def api_error(name: str, code: int, description: str, details: str) -> ApiError:
    """An ApiError of RPC `name` for a failure found in a response (typed by `code` as usual)."""
    status = status_pb2.Status(description=description, details=details)
    status.code = code  # type: ignore[assignment]  # any code the API sent, known to this SDK or not
    error = status_failure(status, op(name).path)
    assert error is not None  # `code` is a failure
    return error


def raise_for_items(
    name: str, items: Sequence[Any], key: Callable[[Any], str], *, ignore: frozenset[int] = frozenset()
) -> None:
    """Raise one ApiError naming every item of a batch response that failed (its first failure's
    code types it); items whose code is in `ignore` are not failures for this caller."""
    failed = [item for item in items if item.status.code not in ITEM_OK | ignore]
    if not failed:
        return
    shown = "; ".join(f"{key(item)!r}: {_reason(item.status)}" for item in failed[:10])
    more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
    first = failed[0].status
    raise api_error(
        name, first.code, first.description, f"{len(failed)} of {len(items)} failed: {shown}{more}"
    )


def scoped_list(
    client: BaseClient,
    name: str,
    shape: Callable[[Any], T],
    scope: resources_pb2.UserAppIDSet | None = None,
    *,
    items_field: str,
    page_no: int | None = None,
    per_page: int | None = None,
    **fields: Any,
) -> Iterator[T]:
    """`client._list` for the app's or another owner's (`scope`) resources."""
    return client._list(
        name, shape, items_field=items_field, page_no=page_no, per_page=per_page, _scope=scope, **fields
    )


@dataclass(frozen=True)
class _BodyPagination:
    """Numbered pages for search RPCs: the page lives in the request's `pagination` message."""

    items_field: str

    def items(self, response: Any) -> Sequence[Any]:
        return getattr(response, self.items_field)  # type: ignore[no-any-return]

    def next_request(self, request: Any, response: Any) -> Any | None:
        following_page = PageNumber(self.items_field).next_request(request.pagination, response)
        if following_page is None:
            return None
        following = type(request)()
        following.CopyFrom(request)
        following.pagination.CopyFrom(following_page)
        return following


def search_items(
    client: BaseClient,
    name: str,
    shape: Callable[[Any], T],
    *,
    items_field: str,
    page: int | None = None,
    per_page: int | None = None,
    **fields: Any,
) -> Iterator[T]:
    """The items of search RPC `name`, lazily: only page `page` when given, else every page."""
    _check_page_args(page, per_page)
    size = per_page or (DEFAULT_PER_PAGE if page else LIST_PAGE_SIZE)
    pagination = service_pb2.Pagination(page=page or 1, per_page=size)
    request = op(name).request_type(user_app_id=client.user_app_id, pagination=pagination, **fields)
    pager: Pager[T, Page[T]] = Pager(
        functools.partial(client._grpc_request, name),
        request,
        _BodyPagination(items_field),
        shape_item=shape,
        shape_page=lambda response, items: Page(items, response),
        max_items=size if page else None,
    )
    return iter(pager)
