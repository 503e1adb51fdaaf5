"""Model, Workflow, Module and Runner objects as App and User create, fetch and list them.

Each holds its info message (`model_info`, `workflow_info`, ...) and shares the connection of the
object that made it. Building one from a listing or a create call costs no extra RPC (the
published client fetched every listed model again).
"""

from __future__ import annotations

from typing import Any

from modelwire._gen.clarifai.api import resources_pb2
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


class Model(_Resource):
    """A model in an app. Prediction, training and evaluation arrive with the compute issue."""

    _kind = "models"
    _info_type = resources_pb2.Model

    def __init__(
        self,
        url: str = "",
        model_id: str = "",
        model_version: dict[str, str] | None = None,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        version = (model_version or {}).get("id", "")
        super().__init__(
            url, model_id, version, base_url, pat, token, kwargs.pop("model_info", None), **kwargs
        )
        if self.version_id and not self._info.model_version.id:
            self._info.model_version.id = self.version_id
        self.version_id = self._info.model_version.id

    @property
    def model_info(self) -> resources_pb2.Model:
        return self._info  # type: ignore[no-any-return]


class Workflow(_Resource):
    """A workflow in an app."""

    _kind = "workflows"
    _info_type = resources_pb2.Workflow

    def __init__(
        self,
        url: str = "",
        workflow_id: str = "",
        workflow_version: dict[str, str] | None = None,
        output_config: dict[str, Any] | None = None,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        version = (workflow_version or {}).get("id", "")
        info = kwargs.pop("workflow_info", None)
        super().__init__(url, workflow_id, version, base_url, pat, token, info, **kwargs)
        self.output_config = dict(output_config or {"min_value": 0})

    @property
    def workflow_info(self) -> resources_pb2.Workflow:
        return self._info  # type: ignore[no-any-return]


class Module(_Resource):
    """A module in an app (the Module API of clarifai-grpc 12.1.1)."""

    _kind = "modules"
    _info_type = resources_pb2.Module

    def __init__(
        self,
        url: str = "",
        module_id: str = "",
        module_version: dict[str, str] | None = None,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        version = (module_version or {}).get("id", "")
        info = kwargs.pop("module_info", None)
        super().__init__(url, module_id, version, base_url, pat, token, info, **kwargs)

    @property
    def module_info(self) -> resources_pb2.Module:
        return self._info  # type: ignore[no-any-return]


class Runner(BaseClient):
    """A runner of the user's (its work loop, `start()`, arrives with the compute issue)."""

    def __init__(
        self,
        runner_id: str = "",
        user_id: str = "",
        check_runner_exists: bool = True,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        num_parallel_polls: int = 4,
        **kwargs: Any,
    ) -> None:
        info = kwargs.pop("runner_info", None)
        super().__init__(
            user_id=user_id or None, base_url=base_url, pat=pat, token=token, **client_options(kwargs)
        )
        self.id = runner_id or (info.id if info is not None else "")
        self.num_parallel_polls = min(max(1, num_parallel_polls), 32)
        if info is None and check_runner_exists:
            info = self._request("GetRunner", runner_id=self.id).runner
        self.runner_info: resources_pb2.Runner = (
            info if info is not None else resources_pb2.Runner(id=self.id)
        )

    def __repr__(self) -> str:
        return f"Runner(id={self.id!r}, user_id={self.user_id!r})"
