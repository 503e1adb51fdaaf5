"""Public resources of the Clarifai emulator: who may read user ``clarifai``'s, and listings across apps.

The resources of user ``clarifai`` (its app ``main`` with the built-in models and workflows, see
`builtin_models`) are public, as on the real API: with any valid key (a PAT, or an app key of any
app) the read RPCs in `PUBLIC_READS` may name ``user_id: "clarifai"`` in `user_app_id`. Every other
RPC on them is refused with CONN_INSUFFICIENT_SCOPES: a key's scopes on another user's public app
are the read scopes only. (An emulator whose own user is ``clarifai`` owns them instead.)

ListModels and ListWorkflows also take no app (REST ``/v2/users/{user_id}/models`` and
``/v2/models``): with a PAT and an empty ``user_app_id.app_id`` they list across apps, newest first,
paged and filtered as in an app: the user's own resources (user_id = the PAT's user or "me", any
visibility), clarifai's (user_id "clarifai"), or, with no user_id either, the public resources of
every user (the published `User.list_models(user_id="all")`). An app key implies its app, as it
does everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from google.protobuf.message import Message

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai.auth import ME, Caller, KeyRing, Scope
from modelwire.emulator.clarifai.builtin_models import BUILTIN_OWNER
from modelwire.emulator.clarifai.failures import ApiFailure, S
from modelwire.emulator.clarifai.records import Kind, Owner, Records, order_of, request_page

M = TypeVar("M", bound=Message)

PUBLIC_USER = BUILTIN_OWNER.user_id
# The RPCs any valid key may call on user clarifai's resources.
PUBLIC_READS = frozenset(
    {
        "GetUser",
        "GetApp",
        "ListApps",
        "ListModelTypes",
        "GetModelType",
        "GetModel",
        "ListModels",
        "PostModelsSearches",
        "GetModelVersion",
        "ListModelVersions",
        "ListModelConcepts",
        "PostModelOutputs",
        "GetWorkflow",
        "ListWorkflows",
        "ListWorkflowVersions",
        "PostWorkflowResults",
    }
)
# The RPCs that list across apps when user_app_id names no app.
ACROSS_APPS = frozenset({"ListModels", "ListWorkflows"})
_PUBLIC = resources_pb2.Visibility.PUBLIC


class PublicAccess:
    """Decides the caller of requests on public resources and of listings across apps."""

    def __init__(self, keys: KeyRing, app_exists: Callable[[Owner], bool]) -> None:
        self._keys = keys
        self._app_exists = app_exists

    def caller(
        self, method: str, scope: Scope, ids: resources_pb2.UserAppIDSet, metadata: Mapping[str, str]
    ) -> Caller | None:
        """The caller of a request on clarifai's resources or across apps (ApiFailure when it may
        not); None for every other request, which the key ring authorizes as usual."""
        if ids.user_id == PUBLIC_USER and self._keys.user_id != PUBLIC_USER:
            return self._public_caller(method, scope, ids.app_id, metadata)
        if method in ACROSS_APPS and not ids.app_id:
            grant = self._keys.identify(metadata)
            if grant.app_id is None and ids.user_id in ("", ME, grant.user_id):
                return Caller(grant.user_id, "")
        return None

    def _public_caller(self, method: str, scope: Scope, app_id: str, metadata: Mapping[str, str]) -> Caller:
        grant = self._keys.identify(metadata)  # any valid credentials
        if method not in PUBLIC_READS:
            raise ApiFailure(
                S.CONN_INSUFFICIENT_SCOPES,
                f"{method} is not allowed on user {PUBLIC_USER!r}: its apps, models and workflows are "
                "public, so any key may read them, but only their owner may change them or read their "
                "data; copy what you need into an app of your own",
            )
        if scope.pat_only and grant.app_id is not None:
            raise ApiFailure(
                S.CONN_INSUFFICIENT_SCOPES,
                f"{method} needs a personal access token; app keys may call only app-scoped RPCs",
            )
        if not scope.needs_app or (not app_id and method in ACROSS_APPS):
            return Caller(PUBLIC_USER, "")
        if not app_id:
            raise ApiFailure(
                S.CONN_INVALID_REQUEST, f"{method} acts on an app: set user_app_id.app_id (e.g. 'main')"
            )
        owner = Owner(PUBLIC_USER, app_id)
        if not self._app_exists(owner):
            raise ApiFailure(S.CONN_DOES_NOT_EXIST, f"app {app_id!r} of user {PUBLIC_USER!r} does not exist")
        return Caller(*owner)


def is_public(message: Message) -> bool:
    visibility: Any = getattr(message, "visibility", None)
    return visibility is not None and visibility.gettable == _PUBLIC


def list_across_apps(
    records: Records,
    kind: Kind,
    cls: type[M],
    caller: Caller,
    request: Any,
    where: str = "",
    params: Sequence[Any] = (),
) -> list[M]:
    """One page of `kind` across apps for a List request whose caller names no app: the caller's
    user's objects, or with no user_id in the request the public objects of every user (only the
    public ones of user clarifai, too). `where`/`params` filter the rows (`tag`, `facet`)."""
    everyone = not request.user_app_id.user_id
    conditions, args = ["kind = ?", "parent = ''"], [kind.name]
    if not everyone:
        conditions.append("user_id = ?")
        args.append(caller.user_id)
    if where:
        conditions.append(f"({where})")
        args += params
    condition = " AND ".join(conditions)
    page, order = request_page(request), order_of(request)
    if not everyone and caller.user_id != PUBLIC_USER:
        rows = records.page_rows("clarifai_objects", condition, args, page, order)
        return [cls.FromString(r["proto"]) for r in rows]
    # Visibility is inside the proto: filter, then page (there are few public objects).
    rows = records.store.query(f"SELECT proto FROM clarifai_objects WHERE {condition} ORDER BY {order}", args)
    shown = (m for m in (cls.FromString(r["proto"]) for r in rows) if is_public(m))
    return [m for i, m in enumerate(shown) if page.offset <= i < page.offset + page.per_page]
