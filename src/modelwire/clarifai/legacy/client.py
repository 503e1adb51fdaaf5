"""`ClarifaiApp`: the entry point of the legacy client, and `Auth`."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from modelwire._core.config import env, first_set
from modelwire._core.errors import ConfigurationError
from modelwire._core.polling import poll
from modelwire._core.retry import RetryPolicy
from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai.app import App
from modelwire.clarifai.errors import ApiClientError, UserError
from modelwire.clarifai.legacy._wire import KEY_APP, KEY_USER, MAX_BATCH, is_key_scoped, key_scoped
from modelwire.clarifai.legacy.concepts import Concepts
from modelwire.clarifai.legacy.inputs import Inputs
from modelwire.clarifai.legacy.models import Models
from modelwire.clarifai.legacy.types import Image

DEFAULT_WAIT = 600.0  # seconds a wait_until_* helper waits at most by default


def _key_app(**options: Any) -> App:
    """The App an app-scoped API key implies (its requests carry an empty user_app_id)."""
    app = key_scoped(App(app_id=KEY_APP, user_id=KEY_USER, **options))
    app.id = ""
    app.app_info = resources_pb2.App()
    return app


def _set_log_level(level: int | str) -> None:
    try:
        logging.getLogger("modelwire.clarifai").setLevel(level)
    except (TypeError, ValueError):
        raise UserError(f"log_level must be a logging level such as logging.DEBUG, got {level!r}") from None


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise UserError(f"the timeout must be a positive number of seconds, got {value!r}")
    return float(value)


class Auth:
    """The app's credentials (`app.auth`). V2 has no token exchange: the API key is the token."""

    def __init__(self, api: App) -> None:
        self.api = api

    def get_token(self) -> str:
        """The key sent with every request (`authorization: Key <token>`)."""
        pat = self.api._conn.credentials.pat
        assert pat is not None  # ClarifaiApp always authenticates with a key
        return pat.reveal()


class ClarifaiApp:
    """One Clarifai application: `app.concepts`, `app.inputs`, `app.models` (and `app.api`, the
    modern `App` underneath, on the same connection).

        app = ClarifaiApp(api_key="...")      # an app's API key: the key names the app (2.x style)
        app = ClarifaiApp(app_id="my-app", user_id="me", api_key="<personal access token>")

    Credentials: `api_key=`, else CLARIFAI_API_KEY, else CLARIFAI_PAT. Without `app_id=` (nor
    CLARIFAI_APP_ID) the key must be an app-scoped API key: requests then carry an empty
    `user_app_id` and the API works in the key's app, as in 2.x. A personal access token reaches
    every app of its user, so it needs `app_id=` and `user_id=` (else CLARIFAI_USER_ID); used
    without them, the first call fails with the API's ApiError. Nothing is requested here: a wrong
    key surfaces as ApiError on the first call.

    `base_url=` (else CLARIFAI_API_BASE, else https://api.clarifai.com) picks the endpoint, e.g.
    the emulator's http://127.0.0.1:<port>. `app_secret` (the retired id/secret token exchange)
    is ignored with a DeprecationWarning. `quiet` is accepted and unused (this client never checks
    for upgrades); `log_level`, when given, sets the level of the ``modelwire.clarifai`` logger.
    `timeout` (per call), `retry` and `interceptors` (grpc client interceptors, e.g.
    `modelwire.otel.grpc_interceptors()`) are the modern client's options.
    """

    def __init__(
        self,
        app_id: str | None = None,
        app_secret: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        quiet: bool = True,
        log_level: int | str | None = None,
        *,
        user_id: str | None = None,
        timeout: float | None = 60.0,
        retry: RetryPolicy | None = None,
        interceptors: Sequence[Any] | None = None,
    ) -> None:
        if app_secret is not None:
            # 2.x warned and then refused; V2 has no token exchange, so the secret has no use here.
            warnings.warn(
                "app_secret is ignored: Clarifai retired app id/secret tokens; authenticate with "
                "api_key= (an app's API key, or a personal access token with app_id= and user_id=)",
                DeprecationWarning,
                stacklevel=2,
            )
        key = first_set(api_key, env("CLARIFAI_API_KEY"), env("CLARIFAI_PAT"))
        if not key:
            raise ConfigurationError(
                "No Clarifai API key: pass api_key='...' or set CLARIFAI_API_KEY (CLARIFAI_PAT is read too)"
            )
        chosen_app = first_set(app_id, env("CLARIFAI_APP_ID"))
        if not chosen_app and user_id:
            raise UserError(
                "user_id= goes with app_id=: without an app, the app (and user) of the API key are used"
            )
        if log_level is not None:
            _set_log_level(log_level)
        self.quiet = quiet
        options: dict[str, Any] = {
            "base_url": base_url,
            "pat": key,
            "timeout": timeout,
            "retry": retry,
            "interceptors": interceptors,
        }
        if chosen_app:
            self.api = App(app_id=chosen_app, user_id=user_id, **options)
        else:
            self.api = _key_app(**options)
        self.auth = Auth(self.api)
        self.concepts = Concepts(self.api)
        self.inputs = Inputs(self.api)
        self.models = Models(self.api)

    # -- tagging --------------------------------------------------------------------------------------

    def _tag(self, images: list[Image], model_name: str, model_id: str | None) -> dict[str, Any]:
        model = self.models.get(model_name=model_name, model_id=model_id)
        return model.predict(images)

    @staticmethod
    def _batch(values: Sequence[str], what: str) -> list[str]:
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise UserError(f"{what} must be a non-empty list, got {values!r}")
        if len(values) > MAX_BATCH:
            raise UserError(f"{what}: the max batch size is {MAX_BATCH}, got {len(values)}; split them")
        return list(values)

    def tag_urls(
        self, urls: Sequence[str], model_name: str = "general-v1.3", model_id: str | None = None
    ) -> dict[str, Any]:
        """Predict up to 128 image URLs with a model (by default the general one); the response as JSON."""
        return self._tag([Image(url=u) for u in self._batch(urls, "urls")], model_name, model_id)

    def tag_files(
        self, files: Sequence[str], model_name: str = "general-v1.3", model_id: str | None = None
    ) -> dict[str, Any]:
        """Predict up to 128 local image files with a model (by default the general one)."""
        return self._tag([Image(filename=f) for f in self._batch(files, "files")], model_name, model_id)

    # -- waiting ----------------------------------------------------------------------------------------

    @staticmethod
    def _wait(done: Callable[[], bool], what: str, timeout: float) -> None:
        poll(
            done,
            bool,
            timeout=_timeout(timeout),
            on_timeout=lambda _, waited: ApiClientError(f"{what} did not finish within {waited:.1f}s"),
        )

    def wait_until_inputs_delete_finish(self, timeout: float = DEFAULT_WAIT) -> None:
        """Block until the app has no inputs (ListInputs is empty); ApiClientError after `timeout` s."""
        self._wait(
            lambda: not self.api._request("ListInputs", page=1, per_page=1).inputs, "deleting inputs", timeout
        )

    def wait_until_inputs_upload_finish(self, max_wait: float = DEFAULT_WAIT) -> None:
        """Block until no input is waiting or being processed (GetInputCount); ApiClientError after
        `max_wait` s. (The published client returned at once without asking.)"""

        def finished() -> bool:
            counts = self.api._request("GetInputCount").counts
            return bool(counts.to_process == 0 and counts.processing == 0)

        self._wait(finished, "processing uploaded inputs", max_wait)

    def wait_until_models_delete_finish(self, timeout: float = DEFAULT_WAIT) -> None:
        """Block until the app has no models of its own (ListModels); ApiClientError after `timeout` s."""
        self._wait(
            lambda: not self.api._request("ListModels", page=1, per_page=1, dont_fetch_from_main=True).models,
            "deleting models",
            timeout,
        )

    def check_upgrade(self) -> None:
        """Kept for compatibility: this client never checks for upgrades (no network, no output)."""

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the connection; calls made afterwards raise `ClientClosedError`."""
        self.api.close()

    def __enter__(self) -> ClarifaiApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if is_key_scoped(self.api):
            return f"ClarifaiApp(<the API key's app>, base_url={self.api.base_url!r})"
        ids = f"app_id={self.api.id!r}, user_id={self.api.user_id!r}"
        return f"ClarifaiApp({ids}, base_url={self.api.base_url!r})"
