"""App keys and an empty user_app_id, over the raw V2 stub: an app's API key implies its user and
app (what clarifai 2.x's `ClarifaiApp(api_key=...)` relies on); a personal access token implies no
app, so app-scoped RPCs without one fail in the status, saying what to send."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.emulator import Emulator

S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[service_pb2_grpc.V2Stub]:
    with grpc.insecure_channel(emulator.address) as channel:
        yield service_pb2_grpc.V2Stub(channel)


def call(stub: service_pb2_grpc.V2Stub, key: str, method: str, **fields: Any) -> Any:
    request = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
    return getattr(stub, method)(request, metadata=(("authorization", f"Key {key}"),))


@pytest.fixture
def app_id(stub: service_pb2_grpc.V2Stub, emulator: Emulator, api_key: str) -> Iterator[str]:
    made = f"keys-{uuid.uuid4().hex[:8]}"
    mine = R.UserAppIDSet(user_id=emulator.user_id)
    assert call(stub, api_key, "PostApps", user_app_id=mine, apps=[R.App(id=made)]).status.code == S.SUCCESS
    yield made
    call(stub, api_key, "DeleteApp", user_app_id=R.UserAppIDSet(user_id=emulator.user_id, app_id=made))


def test_an_app_key_resolves_an_empty_user_app_id(
    stub: service_pb2_grpc.V2Stub, emulator: Emulator, api_key: str, app_id: str
) -> None:
    key = emulator.clarifai.create_app_key(app_id)
    added = call(stub, key, "PostConcepts", concepts=[R.Concept(id="via-key")])  # no user_app_id at all
    assert added.status.code == S.SUCCESS
    assert call(stub, key, "GetApp").app.id == app_id
    assert (
        call(stub, key, "ListConcepts", user_app_id=R.UserAppIDSet(user_id="me")).concepts[0].id == "via-key"
    )
    owner = R.UserAppIDSet(user_id=emulator.user_id, app_id=app_id)
    assert [c.id for c in call(stub, api_key, "ListConcepts", user_app_id=owner).concepts] == ["via-key"]


def test_a_personal_access_token_must_name_the_app(stub: service_pb2_grpc.V2Stub, api_key: str) -> None:
    for method in ("ListConcepts", "ListInputs", "GetModel"):
        failed = call(stub, api_key, method).status
        assert failed.code == S.CONN_INVALID_REQUEST, failed
        assert "user_app_id" in failed.details and "API key" in failed.details  # says what to send
    assert call(stub, api_key, "ListApps").status.code == S.SUCCESS  # user-level: the PAT names the user
