"""Clarifai credentials, endpoints and shared connections.

Resolution is argument > environment > default: `pat=` / `CLARIFAI_PAT`, `token=` /
`CLARIFAI_SESSION_TOKEN` (a PAT wins when both are present), `user_id=` / `CLARIFAI_USER_ID`,
`base_url=` / `CLARIFAI_API_BASE` / https://api.clarifai.com.

`base_url` decides the channel: `https://host[:port]` is TLS, `http://host[:port]` is plaintext,
a bare `host:port` is TLS unless the host is loopback (the published client probed the network at
construction to guess; we never do). Every object made from another (an App from a User, a Dataset
from an App) shares its parent's connection; the channel closes when the last holder closes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from modelwire._core.channel import sync_channel
from modelwire._core.config import Endpoint, Secret, env, first_set, is_loopback, warn_if_plaintext_remote
from modelwire._core.errors import ConfigurationError
from modelwire._core.transport import CallSettings, SyncTransport
from modelwire._version import __version__

DEFAULT_BASE = "https://api.clarifai.com"
UI_HOSTS = ("clarifai.com", "www.clarifai.com")


def endpoint_from_base_url(base_url: str) -> Endpoint:
    """The gRPC endpoint for a Clarifai base URL (no network access)."""
    text = base_url.strip()
    if "://" not in text:
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            host, port_text = text, ""
        if not host:
            raise ConfigurationError(f"base_url={base_url!r} has no host")
        return Endpoint(host.strip("[]"), int(port_text) if port_text else 443, not is_loopback(host))
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(
            f"base_url={base_url!r} must look like https://api.clarifai.com or http://127.0.0.1:50051"
        )
    secure = parts.scheme == "https"
    if not secure:
        warn_if_plaintext_remote(parts.hostname, what="base_url (http://)")
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        raise ConfigurationError(f"base_url={base_url!r} has an invalid port") from None
    return Endpoint(parts.hostname, port, secure)


@dataclass(frozen=True)
class Credentials:
    """A PAT (`authorization: Key <PAT>`) or a session token (`x-clarifai-session-token`)."""

    pat: Secret | None = None
    token: Secret | None = None

    @classmethod
    def resolve(cls, pat: str | None, token: str | None) -> Credentials:
        chosen_pat = first_set(pat, None if token else env("CLARIFAI_PAT"))
        if chosen_pat:
            return cls(pat=Secret(chosen_pat))
        chosen_token = first_set(token, env("CLARIFAI_SESSION_TOKEN"))
        if chosen_token:
            return cls(token=Secret(chosen_token))
        raise ConfigurationError(
            "No Clarifai credentials were given: pass pat='...' (a personal access token) or token='...' "
            "(a session token), or set CLARIFAI_PAT or CLARIFAI_SESSION_TOKEN."
        )

    def metadata(self) -> tuple[tuple[str, str], ...]:
        prefix = ("x-clarifai-request-id-prefix", f"modelwire-python-{__version__}")
        if self.pat is not None:
            return (("authorization", f"Key {self.pat.reveal()}"), prefix)
        assert self.token is not None
        return (("x-clarifai-session-token", self.token.reveal()), prefix)

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return tuple(s for s in (self.pat, self.token) if s is not None)


def parse_clarifai_url(url: str, *kinds: str) -> dict[str, str]:
    """Ids from a Clarifai UI URL: https://clarifai.com/{user}/{app}[/{kind}/{id}[/versions/{vid}]].

    `kinds` names the resource segments accepted after the app (e.g. "datasets", "models").
    """
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme not in ("https", "http") or len(segments) < 2:
        raise ConfigurationError(f"url={url!r} is not a Clarifai URL like https://clarifai.com/<user>/<app>")
    ids = {"user_id": segments[0], "app_id": segments[1]}
    rest = segments[2:]
    if rest:
        if rest[0] not in kinds or len(rest) < 2:
            expected = " or ".join(f".../{k}/<id>" for k in kinds) or "no resource segment"
            raise ConfigurationError(f"url={url!r}: expected {expected} after the app")
        ids["resource_id"] = rest[1]
        if len(rest) >= 4 and rest[2] in ("versions", "model_version", "module_version", "workflow_version"):
            ids["version_id"] = rest[3]
    return ids


class Connection:
    """One channel and transport per endpoint and credentials, shared by related objects."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials,
        settings: CallSettings,
        *,
        interceptors: Sequence[Any] = (),
    ) -> None:
        self.base_url = DEFAULT_BASE
        self.endpoint = endpoint
        self.credentials = credentials
        self.interceptors = tuple(interceptors)  # the caller's own (a pickled client carries them)
        self.transport = SyncTransport(sync_channel(endpoint, interceptors=interceptors), settings)
        self._holders = 1
        self._lock = threading.Lock()

    def acquire(self) -> Connection:
        with self._lock:
            if self._holders == 0:
                raise ConfigurationError("this client was closed; create a new one")
            self._holders += 1
        return self

    def release(self) -> None:
        with self._lock:
            if self._holders == 0:
                return
            self._holders -= 1
            last = self._holders == 0
        if last:
            self.transport.close()

    @property
    def closed(self) -> bool:
        return self._holders == 0
