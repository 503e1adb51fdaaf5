"""The base of app resources (Model, Workflow, Module).

Each holds its info message (`model_info`, `workflow_info`, ...) and shares the connection of the
object that made it. Building one from a listing or a create call costs no extra RPC (the
published client fetched every listed model again).
"""

from __future__ import annotations

from typing import Any

from modelwire.clarifai._auth import parse_clarifai_url
from modelwire.clarifai._base import BaseClient, client_options
from modelwire.clarifai._proto import from_kwargs


def _ids(
    url: str, kind: str, given_id: str, kwargs: dict[str, Any]
) -> tuple[str, str | None, str | None, str]:
    """(resource id, user id, app id, version id) from a URL or the arguments."""
    if url:
        parsed = parse_clarifai_url(url, kind)
        return (
            parsed.get("resource_id", given_id),
            parsed["user_id"],
            parsed["app_id"],
            parsed.get("version_id", ""),
        )
    return given_id, kwargs.pop("user_id", None), kwargs.pop("app_id", None), ""


class _Resource(BaseClient):
    """A resource in an app, identified by id (and optionally a version)."""

    _kind = ""
    _info_type: Any = None

    def __init__(
        self,
        url: str = "",
        resource_id: str = "",
        version_id: str = "",
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        info: Any = None,
        **kwargs: Any,
    ) -> None:
        rid, user_id, app_id, url_version = _ids(url, self._kind, resource_id, kwargs)
        options = client_options(kwargs)
        super().__init__(
            user_id=user_id,
            app_id=app_id or "",
            base_url=base_url,
            pat=pat,
            token=token,
            **options,
        )
        if info is None:
            info = from_kwargs(self._info_type, {"id": rid, **kwargs}, what=type(self).__name__)
            info.app_id, info.user_id = self.app_id, self.user_id
        self.id = info.id
        self.version_id = version_id or url_version
        self._info = info

    def __repr__(self) -> str:
        version = f", version_id={self.version_id!r}" if self.version_id else ""
        name = type(self).__name__
        return f"{name}(id={self.id!r}, user_id={self.user_id!r}, app_id={self.app_id!r}{version})"
