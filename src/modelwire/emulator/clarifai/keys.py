"""API keys as plain records (PostKeys, GetKey, ListKeys, ListAppKeys, PatchKeys, DeleteKey) and
what the caller's credentials may do (MyScopes, MyScopesUser).

A key's `id` is its secret, made by the service (or taken as given, after the id rules). Its
`type` is "app_specific_key" (the default: exactly one existing app of the user in `apps`) or
"personal_access_token" (no apps). `scopes` are required, each a scope Clarifai exposes
("All", "Predict", "Inputs:Add", ... see `v2_published.SCOPES`); an `expires_at` in the past is
refused. A key authenticates as soon as PostKeys answers (`auth.KeyRing`): an app key may call the
app-scoped RPCs of its app, a PAT what the emulator's PAT may; either may call only the methods
whose scopes (as the published descriptor lists them) it holds, unless it holds "All"
(CONN_INSUFFICIENT_SCOPES otherwise); an expired key is CONN_KEY_INVALID. PatchKeys changes
`description`, `scopes` and `expires_at` (type and apps stay); DeleteKey ends the key at once, and
deleting an app deletes its keys. Keys made by `ClarifaiEmulator.create_app_key` hold "All" and
are not records (ListKeys does not show them).

MyScopes answers for the calling key: its scopes and, for an app key (or a PAT naming an app in
user_app_id), the app. MyScopesUser (PAT only) answers the PAT's scopes. The emulator's own PAT
and `create_app_key` keys hold "All".
"""

from __future__ import annotations

import sqlite3
from typing import Any

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.google.protobuf import timestamp_pb2
from modelwire.emulator.clarifai.auth import ALL_SCOPES, Caller, KeyRing, Scope
from modelwire.emulator.clarifai.context import CALL_METADATA, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S
from modelwire.emulator.clarifai.labels import OVERWRITE
from modelwire.emulator.clarifai.plain_records import PlainRecord
from modelwire.emulator.clarifai.records import APP, KEY, Owner, Records
from modelwire.emulator.clarifai.v2_published import SCOPES

APP_KEY, PAT = "app_specific_key", "personal_access_token"
_KNOWN_SCOPES = frozenset(SCOPES)


def _now() -> timestamp_pb2.Timestamp:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    return now


class KeyRecords:
    def __init__(self, records: Records, keys: KeyRing) -> None:
        self._records = records
        self._keys = keys

    def spec(self) -> PlainRecord:
        return PlainRecord(
            KEY,
            resources_pb2.Key,
            "Keys",
            "Key",
            Scope.PAT_USER,
            S.CONN_INVALID_REQUEST,
            generate_id=True,
            fixed=frozenset({"type", "apps", "organization_id", "authorized_idp_ids"}),
            patch_actions=(OVERWRITE,),
            prepare=self._check,
            also=self._grant,
            after_delete=self._revoke,
            keep=_key_matches,
            patch_finish=_check_patched,
        )

    def routes(self) -> dict[str, Route]:
        return {
            "ListAppKeys": Route(Scope.PAT_APP, self.list_app_keys),
            "MyScopes": Route(Scope.USER, self.my_scopes),
            "MyScopesUser": Route(Scope.PAT_USER, self.my_scopes_user),
        }

    def forget_app(self, owner: Owner) -> None:
        """Delete the key records of a deleted app (its credentials went with the app's rows)."""
        self._records.store.execute(
            "DELETE FROM clarifai_objects WHERE kind = ? AND user_id = ? AND app_id = '' AND facet = ?",
            (KEY.name, owner.user_id, owner.app_id),
        )

    # -- records ---------------------------------------------------------------------------------------

    def _check(self, caller: Caller, request: Any, key: resources_pb2.Key) -> None:
        key.type = key.type or APP_KEY
        if key.type == APP_KEY:
            if len(key.apps) != 1:
                raise ApiFailure(
                    S.CONN_INVALID_REQUEST,
                    f"an {APP_KEY} names exactly one app in `apps` (got {len(key.apps)})",
                )
            app = key.apps[0]
            if app.user_id not in ("", caller.user_id):
                raise ApiFailure(
                    S.CONN_INSUFFICIENT_SCOPES,
                    f"app {app.id!r} of user {app.user_id!r} is not yours: keys are for your own apps",
                )
            found = self._records.get(APP, Owner(caller.user_id, app.id), app.id, resources_pb2.App)
            if found is None:
                raise ApiFailure(
                    S.CONN_DOES_NOT_EXIST, f"app {app.id!r} of user {caller.user_id!r} does not exist"
                )
            key.apps[0].CopyFrom(resources_pb2.App(id=found.id, user_id=caller.user_id, name=found.name))
        elif key.type == PAT:
            if key.apps:
                raise ApiFailure(S.CONN_INVALID_REQUEST, f"a {PAT} reaches all your apps: leave `apps` empty")
        else:
            raise ApiFailure(
                S.CONN_INVALID_REQUEST, f"key type {key.type!r} is unknown: use {APP_KEY!r} or {PAT!r}"
            )
        _check_scopes(key)
        if key.HasField("expires_at") and key.expires_at.ToNanoseconds() <= _now().ToNanoseconds():
            raise ApiFailure(
                S.CONN_INVALID_REQUEST, "expires_at is in the past: leave it unset or make it later"
            )

    def _grant(self, conn: sqlite3.Connection, caller: Caller, key: resources_pb2.Key) -> None:
        app_id = key.apps[0].id if key.type == APP_KEY else ""
        conn.execute(
            "INSERT INTO clarifai_keys (key, user_id, app_id, created_ns) VALUES (?, ?, ?, ?)",
            (key.id, caller.user_id, app_id, self._records.now()),
        )

    @staticmethod
    def _revoke(conn: sqlite3.Connection, caller: Caller, ids: Any, parent: str) -> None:
        for key_id in ids:
            conn.execute("DELETE FROM clarifai_keys WHERE key = ? AND user_id = ?", (key_id, caller.user_id))

    # -- RPCs ------------------------------------------------------------------------------------------

    def list_app_keys(
        self, caller: Caller, request: service_pb2.ListAppKeysRequest
    ) -> service_pb2.MultiKeyResponse:
        page_size = request.per_page or 128
        page = max(request.page, 1)
        rows = self._records.store.query(
            "SELECT proto FROM clarifai_objects WHERE kind = ? AND user_id = ? AND app_id = '' AND facet = ? "
            "ORDER BY created_ns DESC, id ASC LIMIT ? OFFSET ?",
            (
                KEY.name,
                caller.user_id,
                caller.app_id,
                min(page_size, 1000),
                (page - 1) * min(page_size, 1000),
            ),
        )
        return service_pb2.MultiKeyResponse(keys=[resources_pb2.Key.FromString(r["proto"]) for r in rows])

    def my_scopes(
        self, caller: Caller, request: service_pb2.MyScopesRequest
    ) -> service_pb2.MultiScopeResponse:
        grant = self._keys.identify(CALL_METADATA.get())
        response = service_pb2.MultiScopeResponse(scopes=sorted(grant.scopes))
        app_id = grant.app_id or request.user_app_id.app_id
        if app_id:
            app = self._records.get(APP, Owner(caller.user_id, app_id), app_id, resources_pb2.App)
            if app is None:
                raise ApiFailure(
                    S.CONN_DOES_NOT_EXIST, f"app {app_id!r} of user {caller.user_id!r} does not exist"
                )
            response.app.CopyFrom(app)
        return response

    def my_scopes_user(
        self, caller: Caller, request: service_pb2.MyScopesUserRequest
    ) -> service_pb2.MultiScopeUserResponse:
        grant = self._keys.identify(CALL_METADATA.get())
        return service_pb2.MultiScopeUserResponse(scopes=sorted(grant.scopes))


def _check_scopes(key: resources_pb2.Key) -> None:
    if not key.scopes:
        raise ApiFailure(S.CONN_INVALID_REQUEST, f"key {key.id!r}: scopes are required (e.g. {ALL_SCOPES!r})")
    unknown = [s for s in key.scopes if s not in _KNOWN_SCOPES]
    if unknown:
        raise ApiFailure(
            S.CONN_INVALID_REQUEST,
            f"key {key.id!r}: unknown scope(s) {unknown}: use Clarifai's scope names, e.g. 'All', "
            "'Predict', 'Inputs:Get'",
        )


def _check_patched(before: resources_pb2.Key, after: resources_pb2.Key) -> None:
    _check_scopes(after)


def _key_matches(request: service_pb2.ListKeysRequest, key: resources_pb2.Key) -> bool:
    if request.type and key.type != request.type:
        return False
    if request.scopes and not set(request.scopes) <= set(key.scopes):
        return False
    if request.endpoints and not set(request.endpoints) <= set(key.endpoints):
        return False
    expired = key.HasField("expires_at") and key.expires_at.ToNanoseconds() <= _now().ToNanoseconds()
    return not (request.not_expired and expired)
