"""Auth, endpoints, shared connections, status-in-body errors and throttling retries."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from modelwire import ConfigurationError
from modelwire._core.config import Endpoint
from modelwire._gen.clarifai.api import resources_pb2, service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire.clarifai import ApiError, App, Dataset, RetryPolicy, User, UserError
from modelwire.clarifai._auth import endpoint_from_base_url, parse_clarifai_url
from modelwire.emulator import Emulator

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.02)


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("https://api.clarifai.com", Endpoint("api.clarifai.com", 443, True)),
        ("https://api.example.com:8443", Endpoint("api.example.com", 8443, True)),
        ("http://127.0.0.1:50051", Endpoint("127.0.0.1", 50051, False)),
        ("http://emulator.local", Endpoint("emulator.local", 80, False)),
        ("localhost:7000", Endpoint("localhost", 7000, False)),
        ("api.internal:443", Endpoint("api.internal", 443, True)),
    ],
)
def test_base_url_decides_the_channel_without_network(base_url: str, endpoint: Endpoint) -> None:
    assert endpoint_from_base_url(base_url) == endpoint


def test_bad_base_url_and_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        endpoint_from_base_url("ftp://x")
    for name in ("CLARIFAI_PAT", "CLARIFAI_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="CLARIFAI_PAT"):
        User(user_id="u")
    monkeypatch.delenv("CLARIFAI_USER_ID", raising=False)
    with pytest.raises(UserError, match="user_id"):
        User(pat="p")


def test_env_configuration(monkeypatch: pytest.MonkeyPatch, emulator: Emulator, api_key: str) -> None:
    monkeypatch.setenv("CLARIFAI_PAT", api_key)
    monkeypatch.setenv("CLARIFAI_USER_ID", emulator.user_id)
    monkeypatch.setenv("CLARIFAI_API_BASE", f"http://127.0.0.1:{emulator.port}")
    with User() as user:
        assert user.user_id == emulator.user_id
        assert api_key not in repr(user)
        assert isinstance(list(user.list_apps(page_no=1, per_page=1)), list)


def test_urls_initialise_objects(base_url: str, api_key: str) -> None:
    assert parse_clarifai_url("https://clarifai.com/u1/a1/datasets/d1", "datasets") == {
        "user_id": "u1",
        "app_id": "a1",
        "resource_id": "d1",
    }
    app = App(url="https://clarifai.com/u1/a1", base_url=base_url, pat=api_key)
    dataset = Dataset(url="https://clarifai.com/u1/a1/datasets/d1", base_url=base_url, pat=api_key)
    assert (app.user_id, app.id) == ("u1", "a1")
    assert (dataset.user_id, dataset.app_id, dataset.id) == ("u1", "a1", "d1")
    with pytest.raises(ConfigurationError, match="Clarifai URL"):
        App(url="https://clarifai.com/only-user", base_url=base_url, pat=api_key)
    app.close()
    dataset.close()


def test_objects_made_from_one_share_its_connection(user: User, app: App) -> None:
    dataset = app.create_dataset("shared")
    inputs = app.inputs()
    assert dataset._conn is app._conn is inputs._conn is user._conn
    dataset.close()
    inputs.close()
    assert not user._conn.closed  # children released their hold; the parent still works
    assert user.app(app.id).id == app.id


def test_wrong_pat_is_a_typed_api_error(emulator: Emulator, base_url: str) -> None:
    with (
        User(user_id=emulator.user_id, base_url=base_url, pat="wrong-pat-123", retry=FAST) as user,
        pytest.raises(ApiError) as caught,
    ):
        list(user.list_apps())
    err = caught.value
    assert err.code == grpc.StatusCode.UNAUTHENTICATED
    assert err.status_name.startswith("CONN_") and err.status_code > 10000
    assert err.resource == "ListApps" and "wrong-pat-123" not in str(err)


def test_missing_resource_is_not_found(app: App) -> None:
    from modelwire._core.errors import NotFoundError

    with pytest.raises(NotFoundError) as caught:
        app.dataset("no-such-dataset")
    assert isinstance(caught.value, ApiError)
    assert "DOES_NOT_EXIST" in caught.value.status_name or "NOT_FOUND" in caught.value.status_name
    assert caught.value.req_id


class _Throttling(service_pb2_grpc.V2Servicer):
    """A V2 server from the generated stubs that throttles the first `fail` GetApp calls."""

    def __init__(self, fail: int, code: int) -> None:
        self.fail, self.code, self.calls = fail, code, 0

    def GetApp(self, request: Any, context: Any) -> Any:
        self.calls += 1
        if self.calls <= self.fail:
            return service_pb2.SingleAppResponse(
                status=status_pb2.Status(code=self.code, description="slow down")
            )
        return service_pb2.SingleAppResponse(
            status=status_pb2.Status(code=status_code_pb2.SUCCESS),
            app=resources_pb2.App(id=request.user_app_id.app_id),
        )


@pytest.fixture
def throttling() -> Iterator[tuple[_Throttling, str]]:
    servicer = _Throttling(2, status_code_pb2.CONN_THROTTLED)
    server = grpc.server(futures.ThreadPoolExecutor(2))
    service_pb2_grpc.add_V2Servicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"http://127.0.0.1:{port}"
    server.stop(None)


@pytest.mark.parametrize("code", [status_code_pb2.CONN_THROTTLED, status_code_pb2.CONN_EXCEED_HOURLY_LIMIT])
def test_throttling_in_the_body_is_retried_with_backoff(
    throttling: tuple[_Throttling, str], code: int
) -> None:
    servicer, url = throttling
    servicer.code = code
    with User(user_id="u", base_url=url, pat="p", retry=FAST) as user:
        assert user.app("a1").id == "a1"
    assert servicer.calls == 3


def test_throttling_gives_up_with_the_status(throttling: tuple[_Throttling, str]) -> None:
    servicer, url = throttling
    servicer.fail = 10
    with (
        User(user_id="u", base_url=url, pat="p", retry=FAST.with_options(max_attempts=3)) as user,
        pytest.raises(ApiError) as caught,
    ):
        user.app("a1")
    assert caught.value.status_name == "CONN_THROTTLED" and caught.value.attempts == 3
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert servicer.calls == 3


def test_app_keys_are_scoped_to_their_app(app: App, emulator: Emulator, base_url: str) -> None:
    key = emulator.clarifai.create_app_key(app.id)
    with App(app_id=app.id, user_id=emulator.user_id, base_url=base_url, pat=key) as scoped:
        scoped.create_dataset("with-an-app-key")
        assert [d.id for d in scoped.list_datasets()] == ["with-an-app-key"]
    with (
        User(user_id=emulator.user_id, base_url=base_url, pat=key, retry=FAST) as user,
        pytest.raises(ApiError) as caught,
    ):
        list(user.list_apps())
    assert caught.value.status_name == "CONN_INSUFFICIENT_SCOPES"
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
