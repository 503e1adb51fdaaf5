"""What every Clarifai object shares: credentials, one connection, `user_app_id`, and calls by RPC name.

Each public method builds a request (pure), calls one V2 RPC through the core transport (deadline,
retries, error mapping) and shapes the response. Failures reported in `response.status` become
`ApiError`s in the transport's inspection hook, so they are retried like transport errors.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from google.protobuf import message, message_factory

from modelwire._core.channel import check_interceptors
from modelwire._core.config import env, first_set
from modelwire._core.pickling import carried
from modelwire._core.retry import DEFAULT_RETRY, RetryPolicy
from modelwire._core.transport import CallSettings, Op
from modelwire._core.wire import is_repeated
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire.clarifai._auth import DEFAULT_BASE, Connection, Credentials, endpoint_from_base_url
from modelwire.clarifai.errors import MIXED_STATUS, SUCCESS, UserError, status_failure
from modelwire.clarifai.lister import list_items

_V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
# RPCs whose responses carry per-item statuses: MIXED_STATUS there is a result, not a failure.
_PER_ITEM = frozenset(
    {
        "PostInputs",
        "PostAnnotations",
        "PatchInputs",
        "PatchAnnotations",
        "PostConcepts",
        "PostModelOutputs",
        "PostWorkflowResults",
    }
)
_READS = ("Get", "List")
_SAFE_POSTS = frozenset(
    {"PostInputsSearches", "PostConceptsSearches", "PostModelsSearches", "PostModelOutputs"}
)

C = TypeVar("C", bound="BaseClient")
_NO_USER_ID = "user_id is required: pass user_id='...' (or a Clarifai URL), or set CLARIFAI_USER_ID"


@functools.cache
def op(name: str) -> Op[Any, Any]:
    """The Op for a V2 RPC by name; reads and searches are idempotent, writes are not."""
    method = _V2.methods_by_name[name]
    return Op.of(
        _V2,
        name,
        message_factory.GetMessageClass(method.input_type),
        message_factory.GetMessageClass(method.output_type),
        idempotent=name.startswith(_READS) or name in _SAFE_POSTS,
    )


def _has_item_statuses(response: Any) -> bool:
    """True when a per-item response reports each item's own status (so callers can act on them)."""
    for field in response.DESCRIPTOR.fields:
        item_type = field.message_type
        if is_repeated(field) and item_type is not None and "status" in item_type.fields_by_name:
            return any(item.status.code for item in getattr(response, field.name))
    return False


def _inspector(secrets: tuple[Any, ...]) -> Callable[[Op[Any, Any], Any], Any]:
    def inspect(called: Op[Any, Any], response: Any) -> Any:
        code = response.status.code
        if code == SUCCESS:
            return None  # the hot path: no scan of the items
        # For per-item RPCs, MIXED_STATUS and an all-items FAILURE that lists each item's status
        # are results to act on item by item, not a failure of the call.
        per_item = called.path.rsplit("/", 1)[-1] in _PER_ITEM and (
            code == MIXED_STATUS or _has_item_statuses(response)
        )
        return status_failure(
            response.status, called.path, allow_mixed=per_item, secrets=secrets, response=response
        )

    return inspect


def client_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the BaseClient options (`_connection`, `timeout`, `retry`, `interceptors`) out of a
    subclass's kwargs, leaving the rest for the resource's own fields."""
    return {k: kwargs.pop(k) for k in ("_connection", "timeout", "retry", "interceptors") if k in kwargs}


def _body_request_id(response: Any) -> str | None:
    """Clarifai reports the request id in the response body (`status.req_id`)."""
    return str(response.status.req_id) or None


class BaseClient:
    """Credentials, the shared connection and the ids every request carries."""

    # Objects that are useful without a user (Inputs' builders, Dataset's export of a local
    # archive) may be made without one, as published; their first RPC then asks for it.
    _user_id_optional = False

    def __init__(
        self,
        *,
        user_id: str | None = None,
        app_id: str = "",
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        timeout: float | None = 60.0,
        retry: RetryPolicy | None = None,
        interceptors: Sequence[Any] | None = None,
        _connection: Connection | None = None,
    ) -> None:
        # `interceptors`: grpc client interceptors for the channel (a derived object shares its
        # parent's connection, and so its interceptors).
        if _connection is not None:
            self._conn = _connection.acquire()
            self.base_url = _connection.base_url
        else:
            self.base_url = first_set(base_url, env("CLARIFAI_API_BASE"), DEFAULT_BASE) or DEFAULT_BASE
            credentials = Credentials.resolve(pat or None, token or None)
            settings = CallSettings(
                metadata=credentials.metadata(),
                timeout=timeout,
                retry=retry or DEFAULT_RETRY,
                secrets=credentials.secrets,
                inspect=_inspector(credentials.secrets),
                request_id=_body_request_id,
            )
            self._conn = Connection(
                endpoint_from_base_url(self.base_url),
                credentials,
                settings,
                interceptors=check_interceptors(interceptors, aio=False),
            )
            self._conn.base_url = self.base_url
        chosen = first_set(user_id, env("CLARIFAI_USER_ID")) or ""
        if not chosen and not self._user_id_optional:
            raise UserError(_NO_USER_ID)
        self.user_id = chosen
        self.app_id = app_id
        self.user_app_id = resources_pb2.UserAppIDSet(user_id=chosen, app_id=app_id)

    # -- calls -----------------------------------------------------------------------------------

    def _grpc_request(self, name: str, request: message.Message) -> Any:
        """Call V2 RPC `name`; raises ApiError for a failed status."""
        if not self.user_id:
            raise UserError(f"{name}: {_NO_USER_ID}")
        return self._conn.transport.unary(op(name), request)

    def _request(self, name: str, _app_id: str | None = None, **fields: Any) -> Any:
        """Call `name` with a request of `fields`, scoped to this object's user and app
        (or to app `_app_id` of the same user)."""
        scope = self.user_app_id
        if _app_id is not None:
            scope = resources_pb2.UserAppIDSet(user_id=self.user_id, app_id=_app_id)
        return self._grpc_request(name, op(name).request_type(user_app_id=scope, **fields))

    def _list(
        self,
        name: str,
        shape: Callable[[Any], Any] = lambda item: item,
        *,
        page_no: int | None = None,
        per_page: int | None = None,
        items_field: str | None = None,
        _scope: resources_pb2.UserAppIDSet | None = None,
        **fields: Any,
    ) -> Iterator[Any]:
        """Lazy listing of RPC `name` (page-numbered): one page if page_no is given, else all.

        `_scope` lists another owner's resources (e.g. the public clarifai/main models)."""
        request = op(name).request_type(user_app_id=_scope or self.user_app_id, **fields)
        return list_items(
            functools.partial(self._grpc_request, name),
            request,
            items_field=items_field,
            shape=shape,
            page_no=page_no,
            per_page=per_page,
        )

    def _derive(self, cls: type[C], **kwargs: Any) -> C:
        """Another client object on this one's connection (shared, not a new channel)."""
        kwargs.setdefault("user_id", self.user_id)
        return cls(_connection=self._conn, **kwargs)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release this object's hold on the connection; the last holder closes the channel."""
        self._conn.release()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        ids = f"user_id={self.user_id!r}" + (f", app_id={self.app_id!r}" if self.app_id else "")
        return f"{type(self).__name__}({ids}, base_url={self.base_url!r})"

    # -- pickling --------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """This object's fields and its connection's configuration (endpoint, credentials as held,
        call settings, interceptors), never the channel: the unpickled copy connects anew (Ray
        workers, multiprocessing children). Objects that shared a connection get one each.

        Raises:
            UsageError: The connection's `interceptors=` do not pickle.
        """
        state = dict(self.__dict__)
        conn: Connection = state.pop("_conn")
        interceptors = carried(conn.interceptors, client=type(self).__name__, what="interceptors=")
        # The status inspector is a closure over the secrets: rebuilt on the other side.
        settings = dataclasses.replace(conn.transport.settings, inspect=None)
        state["_conn"] = (conn.base_url, conn.endpoint, conn.credentials, settings, interceptors)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        base_url, endpoint, credentials, settings, interceptors = state.pop("_conn")
        self.__dict__.update(state)
        settings = dataclasses.replace(settings, inspect=_inspector(credentials.secrets))
        self._conn = Connection(endpoint, credentials, settings, interceptors=interceptors)
        self._conn.base_url = base_url
