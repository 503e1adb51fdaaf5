"""`User`: the user's apps and runners (PAT-scoped calls)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai._base import BaseClient, op
from modelwire.clarifai._patching import OVERWRITE, REMOVE, check_action, check_id, resource_fields
from modelwire.clarifai._proto import from_kwargs
from modelwire.clarifai.runner import Runner

if TYPE_CHECKING:
    from modelwire.clarifai.app import App


def _check_filters(request_type: Any, filter_by: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """`filter_by` keys must be fields of the list request (caught here, not by the server)."""
    filters = dict(filter_by or {})
    from_kwargs(request_type, filters, what=what)  # validates names and types
    return filters


class User(BaseClient):
    """A Clarifai user: `User(user_id, base_url, pat, token)`."""

    def __init__(
        self,
        user_id: str = "",
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(user_id=user_id or None, base_url=base_url, pat=pat, token=token, **kwargs)

    def _app(self, info: resources_pb2.App) -> App:
        from modelwire.clarifai.app import App

        return self._derive(App, app_id=info.id, app_info=info)

    def app(self, app_id: str, **kwargs: Any) -> App:
        """The existing app `app_id` (one GetApp)."""
        return self._app(self._request("GetApp", _app_id=app_id).app)

    def create_app(self, app_id: str, base_workflow: str = "Empty", **kwargs: Any) -> App:
        """Create an app; kwargs are App fields (name, description, metadata, ...)."""
        app = from_kwargs(resources_pb2.App, {"id": app_id, **kwargs}, what="create_app")
        app.default_workflow.id = base_workflow
        app.default_workflow.app_id = "main"
        app.default_workflow.user_id = "clarifai"
        response = self._request("PostApps", apps=[app])
        return self._app(response.apps[0])

    def delete_app(self, app_id: str) -> None:
        """Delete one of the user's apps (DeleteApp) with everything in it.

        Raises:
            ApiError: No such app, or the call failed.
        """
        self._request("DeleteApp", _app_id=app_id)

    def patch_app(self, app_id: str, action: str = "overwrite", **kwargs: Any) -> App:
        """Patch an app (PatchApp; action "overwrite" or "remove", the ones the API takes for apps):
        kwargs are App fields (name, description, notes, default_language, metadata, ...) and, as
        published, `base_workflow` (a Clarifai workflow id), `visibility=10`, `image_url=...` and
        `is_template=True`. Returns the patched app."""
        check_id(app_id, "app_id")
        check_action(action, (OVERWRITE, REMOVE), "patch_app")
        fields = resource_fields(kwargs)
        if "base_workflow" in fields:
            base = check_id(fields.pop("base_workflow"), "base_workflow")
            fields["default_workflow"] = {"id": base, "app_id": "main", "user_id": "clarifai"}
        app = from_kwargs(resources_pb2.App, {**fields, "id": app_id}, what="patch_app")
        response = self._request("PatchApp", _app_id=app_id, app=app, action=action, reindex=False)
        return self._app(response.app)

    def list_apps(
        self, filter_by: dict[str, Any] | None = None, page_no: int | None = None, per_page: int | None = None
    ) -> Iterator[App]:
        """The user's apps, lazily (all pages, or one page with page_no)."""
        filters = _check_filters(op("ListApps").request_type, filter_by, "list_apps filter_by")
        return self._list(
            "ListApps", self._app, page_no=page_no, per_page=per_page, items_field="apps", **filters
        )

    def create_runner(self, runner_id: str, labels: list[str] | None = None, description: str = "") -> Runner:
        """Register a runner (PostRunners) that models can send work to.

        Args:
            runner_id: The new runner's id.
            labels: Labels that route work to it.
            description: What it is for.

        Returns:
            The `Runner`; subclass `Runner` and implement `run_input` to serve work.

        Raises:
            ApiError: The API refused it (e.g. the id exists already).
        """
        runner = resources_pb2.Runner(id=runner_id, description=description, labels=list(labels or []))
        response = self._request("PostRunners", runners=[runner])
        return self._derive(Runner, runner_id=runner_id, runner_info=response.runners[0])

    def runner(self, runner_id: str) -> Runner:
        """The existing runner `runner_id` (one GetRunner)."""
        return self._derive(Runner, runner_id=runner_id, check_runner_exists=True)

    def list_runners(
        self, filter_by: dict[str, Any] | None = None, page_no: int | None = None, per_page: int | None = None
    ) -> Iterator[Runner]:
        """The user's runners, fetched lazily page by page.

        Args:
            filter_by: ListRunners request fields to filter on.
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Runners per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Runner`.

        Raises:
            UserError: `filter_by` names a field ListRunners does not have.
        """
        filters = _check_filters(op("ListRunners").request_type, filter_by, "list_runners filter_by")

        def shape(info: resources_pb2.Runner) -> Runner:
            return self._derive(Runner, runner_id=info.id, runner_info=info)

        return self._list(
            "ListRunners", shape, page_no=page_no, per_page=per_page, items_field="runners", **filters
        )

    def delete_runner(self, runner_id: str) -> None:
        """Delete a runner (DeleteRunners).

        Raises:
            ApiError: No such runner, or the call failed.
        """
        self._request("DeleteRunners", ids=[runner_id])
