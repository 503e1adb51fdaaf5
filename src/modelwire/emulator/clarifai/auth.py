"""Credentials of the Clarifai emulator: the emulator's PAT, app keys, and what each may call.

A request authenticates with metadata `authorization: Key <key>` or `x-clarifai-session-token:
<token>`. The emulator's API key is a personal access token (PAT) of its user; it is accepted as a
session token too. App keys (`KeyRing.create_app_key`) belong to one app: they may call only the
app-scoped RPCs of that app and need no user_app_id (the key names both: an empty user_app_id,
or user_id "me", is resolved to them). A PAT names no app, so with an empty app_id an app-scoped
RPC fails with CONN_INVALID_REQUEST. Like the real API, failures are reported in the response
status, not as gRPC errors.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai.failures import ApiFailure, S
from modelwire.emulator.clarifai.records import Owner, Records
from modelwire.emulator.clarifai.v2_published import METHODS

ME = "me"  # user_id alias for the key's owner
ALL_SCOPES = "All"  # the scope that allows everything
_EVERYTHING = frozenset({ALL_SCOPES})
# RPCs that only a PAT may call (descriptor option cl_auth_type = PATAuth in clarifai-grpc 12.6.0).
PAT_ONLY_RPCS = frozenset(
    {
        "PostApps",
        "DeleteApp",
        "ListApps",
        "PatchApp",
        "PatchApps",
        "PostConceptRelations",
        "ListConceptRelations",
        "DeleteConceptRelations",
        "PostRunners",
        "DeleteRunners",
        "ListRunners",
        "GetRunner",
        "ListRunnerItems",
        "PostRunnerItemOutputs",
        "ProcessRunnerItems",
    }
)


class Scope(enum.Enum):
    """What an RPC acts on, which decides the credentials and user_app_id it needs."""

    APP = "app"  # one existing app; a PAT or that app's key
    USER = "user"  # the user; a PAT or an app key
    PAT_USER = "pat-user"  # the user; a PAT only
    PAT_APP = "pat-app"  # one existing app; a PAT only

    @property
    def pat_only(self) -> bool:
        return self in (Scope.PAT_USER, Scope.PAT_APP)

    @property
    def needs_app(self) -> bool:
        return self in (Scope.APP, Scope.PAT_APP)


@dataclass(frozen=True)
class Grant:
    """Who a credential is: its user, and the app of an app key (None for a PAT)."""

    user_id: str
    app_id: str | None
    # What the credential may do (keys made by PostKeys hold what they were given; see `keys`).
    scopes: frozenset[str] = _EVERYTHING


@dataclass(frozen=True)
class Caller:
    """The authorized caller of one request and the app it acts on ("" for user-level RPCs)."""

    user_id: str
    app_id: str

    @property
    def owner(self) -> Owner:
        return Owner(self.user_id, self.app_id)


class KeyRing:
    def __init__(self, records: Records, *, pat: str, user_id: str) -> None:
        self._records = records
        self._pat = pat
        self.user_id = user_id

    def create_app_key(self, app_id: str) -> str:
        """A new key scoped to `app_id` of this emulator's user (persisted with the app)."""
        key = "mwapp-" + secrets.token_hex(16)
        self._records.store.execute(
            "INSERT INTO clarifai_keys (key, user_id, app_id, created_ns) VALUES (?, ?, ?, ?)",
            (key, self.user_id, app_id, self._records.now()),
        )
        return key

    def identify(self, metadata: Mapping[str, str]) -> Grant:
        """The grant of the request's credentials (a PAT wins over a session token, as in the SDK)."""
        header = metadata.get("authorization")
        if header is not None:
            scheme, _, key = header.strip().partition(" ")
            if scheme.lower() != "key" or not key.strip():
                raise ApiFailure(
                    S.CONN_KEY_INVALID, "the authorization metadata must be 'Key <personal access token>'"
                )
            return self._lookup(key.strip())
        token = metadata.get("x-clarifai-session-token")
        if token is not None:
            if hmac.compare_digest(token.strip().encode(), self._pat.encode()):
                return Grant(self.user_id, None)
            raise ApiFailure(S.CONN_CREDENTIALS_INVALID, "the session token is not valid for this emulator")
        raise ApiFailure(
            S.CONN_KEY_INVALID,
            "no credentials: send metadata 'authorization: Key <PAT>' "
            "(or 'x-clarifai-session-token: <token>')",
        )

    def _lookup(self, key: str) -> Grant:
        if hmac.compare_digest(key.encode(), self._pat.encode()):
            return Grant(self.user_id, None)
        row = self._records.store.one("SELECT user_id, app_id FROM clarifai_keys WHERE key = ?", (key,))
        if row is None:
            raise ApiFailure(
                S.CONN_KEY_NOT_FOUND, "the key is neither this emulator's PAT nor one of its app keys"
            )
        # Keys made by PostKeys are also records, with their scopes and expiry (app_id "" = a PAT).
        record = self._records.store.one(
            "SELECT proto FROM clarifai_objects "
            "WHERE kind = 'key' AND user_id = ? AND app_id = '' AND id = ?",
            (row["user_id"], key),
        )
        if record is None:
            return Grant(row["user_id"], row["app_id"] or None)
        made = resources_pb2.Key.FromString(record["proto"])
        if made.HasField("expires_at") and made.expires_at.ToNanoseconds() <= time.time_ns():
            raise ApiFailure(S.CONN_KEY_INVALID, "the key has expired: make a new one (PostKeys)")
        return Grant(row["user_id"], row["app_id"] or None, frozenset(made.scopes))

    def authorize(
        self,
        metadata: Mapping[str, str],
        ids: resources_pb2.UserAppIDSet,
        scope: Scope,
        method: str,
        app_exists: Callable[[Owner], bool],
    ) -> Caller:
        grant = self.identify(metadata)
        published = METHODS.get(method)
        if ALL_SCOPES not in grant.scopes and published is not None:
            lacking = [s for s in published.scopes if s not in grant.scopes]
            if lacking:
                raise ApiFailure(
                    S.CONN_INSUFFICIENT_SCOPES,
                    f"{method} needs scope(s) {', '.join(lacking)}, which this key lacks: "
                    "add them (PatchKeys)",
                )
        if grant.app_id is None:
            caller = self._pat_caller(grant.user_id, ids)
        else:
            caller = self._app_key_caller(grant.user_id, grant.app_id, ids, scope, method)
        if not scope.needs_app:
            return Caller(caller.user_id, "")
        if not caller.app_id:
            # Only an app key implies its app; a PAT reaches every app of its user, so it must name one.
            raise ApiFailure(
                S.CONN_INVALID_REQUEST,
                f"{method} acts on an app: with a personal access token set user_app_id (user_id and "
                "app_id), or authenticate with the app's API key, which implies its user and app",
            )
        if not app_exists(caller.owner):
            raise ApiFailure(
                S.CONN_DOES_NOT_EXIST, f"app {caller.app_id!r} of user {caller.user_id!r} does not exist"
            )
        return caller

    @staticmethod
    def _pat_caller(user_id: str, ids: resources_pb2.UserAppIDSet) -> Caller:
        user = ids.user_id
        if user and user not in (ME, user_id):
            raise ApiFailure(
                S.CONN_DOES_NOT_EXIST,
                f"user {user!r} does not exist: this key belongs to user {user_id!r} "
                f"(set user_app_id.user_id to {user_id!r} or {ME!r})",
            )
        return Caller(user_id, ids.app_id)

    @staticmethod
    def _app_key_caller(
        user_id: str, app_id: str, ids: resources_pb2.UserAppIDSet, scope: Scope, method: str
    ) -> Caller:
        if scope.pat_only:
            raise ApiFailure(
                S.CONN_INSUFFICIENT_SCOPES,
                f"{method} needs a personal access token; app keys may call only app-scoped RPCs",
            )
        if ids.user_id not in ("", ME, user_id) or ids.app_id not in ("", app_id):
            raise ApiFailure(
                S.CONN_KEY_INVALID,
                f"this app key belongs to app {app_id!r} of user {user_id!r}, not to "
                f"app {ids.app_id or app_id!r} of user {ids.user_id or user_id!r}",
            )
        return Caller(user_id, app_id)
