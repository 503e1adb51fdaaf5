"""`Module`: a module of an app and its versions (the drop-in path of `clarifai.client.module`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai._resources import _Resource
from modelwire.clarifai.errors import reject_not_offered

__all__ = ["Module"]


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
        reject_not_offered(kwargs, "Module")
        version = (module_version or {}).get("id", "")
        info = kwargs.pop("module_info", None)
        super().__init__(url, module_id, version, base_url, pat, token, info, **kwargs)

    @property
    def module_info(self) -> resources_pb2.Module:
        """The `Module` message as last fetched or built."""
        return self._info  # type: ignore[no-any-return]

    def list_versions(self, page_no: int | None = None, per_page: int | None = None) -> Iterator[Module]:
        """The module's versions, newest first, as Modules."""

        def shape(version: resources_pb2.ModuleVersion) -> Module:
            info = resources_pb2.Module()
            info.CopyFrom(self.module_info)
            info.module_version.CopyFrom(version)
            return self._derive(Module, module_id=self.id, module_info=info, app_id=self.app_id)

        return self._list(
            "ListModuleVersions",
            shape,
            page_no=page_no,
            per_page=per_page,
            items_field="module_versions",
            module_id=self.id,
        )
