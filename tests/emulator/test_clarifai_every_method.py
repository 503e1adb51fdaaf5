"""Every method of `clarifai.api.V2` gets a Clarifai answer from the emulator, never gRPC
UNIMPLEMENTED: implemented ones a real result or validation error, the rest NOT_IMPLEMENTED
naming the method (after the auth check), streams one such response and then the end.

The walk over the published descriptor runs where clarifai-grpc is installed (`.venv-published`);
the raw-channel tests and the check that docs/clarifai-v2-methods.md is current run everywhere.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire.emulator import Emulator
from modelwire.emulator.clarifai.v2_published import METHODS

S = status_code_pb2.StatusCode
KEY = "every-method-key"
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/clarifai.api.V2/"
DECLARED = set(service_pb2.DESCRIPTOR.services_by_name["V2"].methods_by_name)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_key=KEY) as emulator:
        emulator.clarifai.runner_poll_window = 0.05
        yield emulator


@pytest.fixture(scope="module")
def app_id(emu: Emulator) -> str:
    app = f"every-{uuid.uuid4().hex[:8]}"
    request = service_pb2.PostAppsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=emu.user_id), apps=[resources_pb2.App(id=app)]
    )
    with grpc.insecure_channel(emu.address) as channel:
        answer = _raw_unary(channel, "PostApps", request.SerializeToString(), KEY)
    assert answer.status.code == S.SUCCESS, answer.status
    return app


def _metadata(key: str | None) -> tuple[tuple[str, str], ...]:
    return () if key is None else (("authorization", f"Key {key}"),)


def _raw_unary(channel: grpc.Channel, name: str, request: bytes, key: str | None) -> status_pb2.BaseResponse:
    call = channel.unary_unary(
        PREFIX + name, request_serializer=None, response_deserializer=status_pb2.BaseResponse.FromString
    )
    answer: status_pb2.BaseResponse = call(request, metadata=_metadata(key), timeout=30)
    return answer


def _ids(emu: Emulator, app_id: str = "") -> bytes:
    return service_pb2.GetAppRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=emu.user_id, app_id=app_id)
    ).SerializeToString()


def _undeclared(auth: str) -> str:
    return next(
        n for n, m in METHODS.items() if m.auth == auth and n not in DECLARED and not m.server_streaming
    )


# -- the generic handler over a raw channel (any venv) -----------------------------------------------


def test_an_undeclared_method_authenticates_first_then_answers_not_implemented(
    emu: Emulator, app_id: str
) -> None:
    name = _undeclared("key")
    with grpc.insecure_channel(emu.address) as channel:
        assert _raw_unary(channel, name, _ids(emu, app_id), None).status.code == S.CONN_KEY_INVALID
        assert _raw_unary(channel, name, _ids(emu, app_id), "wrong").status.code == S.CONN_KEY_NOT_FOUND
        answer = _raw_unary(channel, name, _ids(emu, app_id), KEY)
    assert answer.status.code == S.NOT_IMPLEMENTED
    assert answer.status.description == "Not implemented"
    assert name in answer.status.details
    assert answer.status.req_id


def test_a_pat_only_undeclared_method_refuses_an_app_key(emu: Emulator, app_id: str) -> None:
    name = _undeclared("pat")
    app_key = emu.clarifai.create_app_key(app_id)
    with grpc.insecure_channel(emu.address) as channel:
        refused = _raw_unary(channel, name, _ids(emu), app_key)
        accepted = _raw_unary(channel, name, _ids(emu), KEY)
    assert refused.status.code == S.CONN_INSUFFICIENT_SCOPES
    assert accepted.status.code == S.NOT_IMPLEMENTED


def test_a_no_auth_method_answers_without_credentials(emu: Emulator) -> None:
    name = _undeclared("none")
    with grpc.insecure_channel(emu.address) as channel:
        answer = _raw_unary(channel, name, b"", None)
    assert answer.status.code == S.NOT_IMPLEMENTED
    assert name in answer.status.details


def test_undeclared_streams_answer_once_and_end(emu: Emulator, app_id: str) -> None:
    server_stream = next(n for n, m in METHODS.items() if m.server_streaming and not m.client_streaming)
    bidi = next(n for n, m in METHODS.items() if m.client_streaming and n not in DECLARED)
    decode = status_pb2.BaseResponse.FromString
    with grpc.insecure_channel(emu.address) as channel:
        one_way = channel.unary_stream(PREFIX + server_stream, response_deserializer=decode)
        answers = list(one_way(_ids(emu, app_id), metadata=_metadata(KEY), timeout=30))
        both_ways = channel.stream_stream(PREFIX + bidi, response_deserializer=decode)
        bidi_answers = list(both_ways(iter([_ids(emu, app_id)]), metadata=_metadata(KEY), timeout=30))
        unauthenticated = list(both_ways(iter([_ids(emu, app_id)]), timeout=30))
    assert [(a.status.code, server_stream in a.status.details) for a in answers] == [
        (S.NOT_IMPLEMENTED, True)
    ]
    assert [(a.status.code, bidi in a.status.details) for a in bidi_answers] == [(S.NOT_IMPLEMENTED, True)]
    assert [a.status.code for a in unauthenticated] == [S.CONN_KEY_INVALID]


def test_other_services_still_get_grpc_unimplemented(emu: Emulator) -> None:
    with grpc.insecure_channel(emu.address) as channel:
        call = channel.unary_unary("/clarifai.api.V3/ListApps")
        with pytest.raises(grpc.RpcError) as failed:
            call(b"", metadata=_metadata(KEY), timeout=10)
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_the_v2_methods_table_is_current() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import v2_methods
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert (ROOT / "docs/clarifai-v2-methods.md").read_text() == v2_methods.render_doc(), (
        "run: python scripts/v2_methods.py"
    )
    readme = (ROOT / "README.md").read_text()
    assert v2_methods.readme_with_section(readme) == readme, "run: python scripts/v2_methods.py"
    if importlib.util.find_spec("clarifai_grpc") is not None:
        assert v2_methods.TABLE.read_text() == v2_methods.render_table(), (
            "run in .venv-published: python scripts/v2_methods.py --table"
        )


# -- every published method (where clarifai-grpc is installed) --------------------------------------


def _call(channel: grpc.Channel, method: Any, request: Any) -> list[Any]:
    """One call with clarifai-grpc's own messages (its V2Stub needs its ClarifaiChannel wrapper)."""
    from google.protobuf.message_factory import GetMessageClass

    metadata = _metadata(KEY)
    path = PREFIX + method.name
    kind = (method.client_streaming, method.server_streaming)
    make = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, True): channel.stream_stream,
    }[kind]
    function: Any = make(
        path,
        request_serializer=type(request).SerializeToString,
        response_deserializer=GetMessageClass(method.output_type).FromString,
    )
    if method.client_streaming:
        return list(function(iter([request]), metadata=metadata, timeout=20))
    if method.server_streaming:
        return list(function(request, metadata=metadata, timeout=20))
    return [function(request, metadata=metadata, timeout=20)]


def test_every_published_v2_method_gets_a_clarifai_answer(emu: Emulator, app_id: str) -> None:
    pytest.importorskip("clarifai_grpc")
    from clarifai_grpc.grpc.api import resources_pb2 as published_resources
    from clarifai_grpc.grpc.api import service_pb2 as published
    from google.protobuf.message_factory import GetMessageClass

    service = published.DESCRIPTOR.services_by_name["V2"]
    assert len(service.methods) == len(METHODS)
    implemented = emu.clarifai.implemented_methods()
    outcomes: dict[str, str] = {}
    errors: dict[str, tuple[grpc.StatusCode, bool]] = {}
    with grpc.insecure_channel(emu.address) as channel:
        for method in service.methods:
            request = GetMessageClass(method.input_type)()
            if "user_app_id" in method.input_type.fields_by_name:  # a few requests have none
                request.user_app_id.CopyFrom(
                    published_resources.UserAppIDSet(user_id=emu.user_id, app_id=app_id)
                )
            try:
                answers = _call(channel, method, request)
            except grpc.RpcError as failed:
                # An implemented stream may wait for work past the deadline; nothing is UNIMPLEMENTED.
                outcomes[method.name] = failed.code().name
                errors[method.name] = (failed.code(), method.name in implemented and method.server_streaming)
                continue
            if method.name not in implemented:
                assert len(answers) == 1, method.name
                status = answers[0].status
                assert status.code == S.NOT_IMPLEMENTED, (method.name, status)
                assert method.name in status.details, (method.name, status)
            else:
                for answer in answers:
                    assert answer.status.code != S.NOT_IMPLEMENTED, (method.name, answer.status)
                    assert answer.status.code, (method.name, answer.status)
            outcomes[method.name] = (
                status_code_pb2.StatusCode.Name(answers[0].status.code) if answers else "END"
            )
    assert {n: e for n, e in errors.items() if e[0] == grpc.StatusCode.UNIMPLEMENTED or not e[1]} == {}
    assert len(outcomes) == 273
    not_implemented = {n for n, outcome in outcomes.items() if outcome == "NOT_IMPLEMENTED"}
    assert not_implemented == set(METHODS) - implemented
