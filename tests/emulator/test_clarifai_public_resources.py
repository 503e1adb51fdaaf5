"""Clarifai's public resources in the emulator: the app clarifai/main (its models, workflows and
the app itself) is readable with any valid key and refuses writes with CONN_INSUFFICIENT_SCOPES;
ListModels and ListWorkflows without an app list across apps (`/v2/users/{user}/models`) or, without
a user, the public models of every user (`/v2/models`); ListModelConcepts lists a version's
concepts. Checked with the raw V2 stub, our SDK, and the unchanged published SDK when it is
installed (`make test-published`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai import App, User
from modelwire.clarifai.errors import ApiError
from modelwire.emulator import Emulator
from modelwire.emulator.clarifai.builtin_models import COLOUR_CONCEPTS, TEXT_CONCEPTS

KEY = "clarifai-public-pat"
USER = "demo"
S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
MAIN = R.UserAppIDSet(user_id="clarifai", app_id="main")
BUILTIN_MODELS = {
    "general-image-embedding",
    "general-image-recognition",
    "general-text-classification",
    "general-text-embedding",
}
PUBLIC = R.Visibility(gettable=R.Visibility.PUBLIC)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, user_id=USER, content_dirs=[tempfile.gettempdir()]) as emu:
        yield emu


@pytest.fixture(scope="module")
def base_url(emulator: Emulator) -> str:
    return f"http://127.0.0.1:{emulator.port}"


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[service_pb2_grpc.V2Stub]:
    with grpc.insecure_channel(emulator.address) as channel:
        yield service_pb2_grpc.V2Stub(channel)


def call(
    stub: service_pb2_grpc.V2Stub, method: str, expect: int = S.SUCCESS, key: str = KEY, **fields: Any
) -> Any:
    request = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
    response = getattr(stub, method)(request, metadata=(("authorization", f"Key {key}"),))
    assert response.status.code == expect, (method, response.status)
    return response


@pytest.fixture(scope="module")
def two_apps(stub: service_pb2_grpc.V2Stub) -> tuple[R.UserAppIDSet, R.UserAppIDSet]:
    """Two apps of the user, each with a model: "shared" (public) in the first, "private" in the
    second (whose output concepts are "cat" and "dog")."""
    first, second = (R.UserAppIDSet(user_id=USER, app_id=a) for a in ("first", "second"))
    call(
        stub,
        "PostApps",
        user_app_id=R.UserAppIDSet(user_id=USER),
        apps=[R.App(id="first"), R.App(id="second")],
    )
    call(
        stub,
        "PostModels",
        user_app_id=first,
        models=[R.Model(id="shared", model_type_id="visual-embedder", visibility=PUBLIC)],
    )
    concepts = [R.Concept(id="cat", name="Cat"), R.Concept(id="dog", name="Dog")]
    call(stub, "PostConcepts", user_app_id=second, concepts=concepts)
    private = R.Model(
        id="private",
        model_type_id="text-classifier",
        output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id="cat"), R.Concept(id="dog")])),
    )
    call(stub, "PostModels", user_app_id=second, models=[private])
    return first, second


# -- the app clarifai/main ---------------------------------------------------------------------------


def test_clarifai_main_is_an_app_any_key_may_read(emulator: Emulator, stub: service_pb2_grpc.V2Stub) -> None:
    app = call(stub, "GetApp", user_app_id=MAIN).app
    assert (app.id, app.user_id, app.visibility.gettable) == ("main", "clarifai", R.Visibility.PUBLIC)
    listed = call(stub, "ListApps", user_app_id=R.UserAppIDSet(user_id="clarifai")).apps
    assert [a.id for a in listed] == ["main"]
    # Another user's apps stay unknown; clarifai's other apps do not exist.
    call(stub, "ListApps", S.CONN_DOES_NOT_EXIST, user_app_id=R.UserAppIDSet(user_id="someone"))
    call(stub, "GetApp", S.CONN_DOES_NOT_EXIST, user_app_id=R.UserAppIDSet(user_id="clarifai", app_id="nope"))
    # An app key of one of the user's apps reads them too (but ListApps needs a PAT, as always).
    call(stub, "PostApps", user_app_id=R.UserAppIDSet(user_id=USER), apps=[R.App(id="keyed")])
    app_key = emulator.clarifai.create_app_key("keyed")
    assert call(stub, "GetApp", key=app_key, user_app_id=MAIN).app.id == "main"
    assert {m.id for m in call(stub, "ListModels", key=app_key, user_app_id=MAIN).models} == BUILTIN_MODELS
    call(
        stub,
        "ListApps",
        S.CONN_INSUFFICIENT_SCOPES,
        key=app_key,
        user_app_id=R.UserAppIDSet(user_id="clarifai"),
    )
    call(stub, "GetApp", S.CONN_KEY_NOT_FOUND, key="not-a-key", user_app_id=MAIN)


def test_clarifai_main_has_public_workflows_that_run(stub: service_pb2_grpc.V2Stub) -> None:
    workflows = {w.id: w for w in call(stub, "ListWorkflows", user_app_id=MAIN).workflows}
    assert {"General", "Empty"} <= set(workflows)
    general = call(stub, "GetWorkflow", user_app_id=MAIN, workflow_id="General").workflow
    assert general.user_id == "clarifai" and general.visibility.gettable == R.Visibility.PUBLIC
    assert [n.model.id for n in general.nodes] == ["general-image-recognition", "general-image-embedding"]
    versions = call(stub, "ListWorkflowVersions", user_app_id=MAIN, workflow_id="General").workflow_versions
    assert [v.id for v in versions] == [general.version.id]
    text = R.Input(id="t", data=R.Data(text=R.Text(raw="a great football match")))
    result = call(stub, "PostWorkflowResults", user_app_id=MAIN, workflow_id="Text", inputs=[text]).results[0]
    concepts = {c.id for output in result.outputs for c in output.data.concepts}
    assert {"positive", "sports"} <= concepts
    call(stub, "GetWorkflow", S.WORKFLOW_DOES_NOT_EXIST, user_app_id=MAIN, workflow_id="nope")


@pytest.mark.parametrize(
    ("method", "fields"),
    [
        ("PostModels", {"models": [R.Model(id="mine")]}),
        (
            "PatchModels",
            {"models": [R.Model(id="general-text-embedding", description="x")], "action": "merge"},
        ),
        ("DeleteModels", {"ids": ["general-text-embedding"]}),
        ("PostModelVersions", {"model_id": "general-text-embedding", "model_versions": [R.ModelVersion()]}),
        ("PostWorkflows", {"workflows": [R.Workflow(id="w")]}),
        ("DeleteWorkflows", {"ids": ["General"]}),
        ("PostInputs", {"inputs": [R.Input(data=R.Data(text=R.Text(raw="x")))]}),
        ("ListInputs", {}),
        ("PostConcepts", {"concepts": [R.Concept(id="c")]}),
        ("DeleteApp", {}),
        ("PatchApp", {"app": R.App(id="main", description="mine now"), "action": "overwrite"}),
    ],
)
def test_writes_to_clarifai_main_are_refused(
    stub: service_pb2_grpc.V2Stub, method: str, fields: dict[str, Any]
) -> None:
    status = call(stub, method, S.CONN_INSUFFICIENT_SCOPES, user_app_id=MAIN, **fields).status
    assert "clarifai" in status.details and "read" in status.details
    assert call(stub, "GetApp", user_app_id=MAIN).app.description != "mine now"
    assert len(call(stub, "ListModels", user_app_id=MAIN).models) == len(BUILTIN_MODELS)


# -- listing across apps ------------------------------------------------------------------------------


def test_list_models_without_an_app_lists_across_apps(
    stub: service_pb2_grpc.V2Stub, two_apps: tuple[R.UserAppIDSet, R.UserAppIDSet]
) -> None:
    def listed(user_id: str, **fields: Any) -> list[tuple[str, str, str]]:
        models = call(stub, "ListModels", user_app_id=R.UserAppIDSet(user_id=user_id), **fields).models
        return [(m.user_id, m.app_id, m.id) for m in models]

    own = [(USER, "second", "private"), (USER, "first", "shared")]  # newest first
    assert listed(USER) == listed("me") == own
    assert listed(USER, per_page=1, page=2) == own[1:]
    assert listed(USER, model_type_id="text-classifier") == own[:1]
    assert {m for _, _, m in listed("clarifai")} == BUILTIN_MODELS
    # No user: the public models of every user (`/v2/models`); the private one is not among them.
    everyone = listed("")
    assert everyone[0] == (USER, "first", "shared")
    assert {m for _, _, m in everyone[1:]} == BUILTIN_MODELS
    assert listed("", per_page=2, page=1) == everyone[:2] and listed("", per_page=2, page=3) == everyone[4:]
    call(stub, "ListModels", S.CONN_DOES_NOT_EXIST, user_app_id=R.UserAppIDSet(user_id="someone"))
    # With an app, only the app's models, as before.
    first, _ = two_apps
    assert [m.id for m in call(stub, "ListModels", user_app_id=first).models] == ["shared"]


def test_list_workflows_without_an_app_lists_across_apps(
    stub: service_pb2_grpc.V2Stub, two_apps: tuple[R.UserAppIDSet, R.UserAppIDSet]
) -> None:
    first, second = two_apps
    call(stub, "PostWorkflows", user_app_id=first, workflows=[R.Workflow(id="wf-a")])
    call(stub, "PostWorkflows", user_app_id=second, workflows=[R.Workflow(id="wf-b", visibility=PUBLIC)])
    mine = call(stub, "ListWorkflows", user_app_id=R.UserAppIDSet(user_id=USER)).workflows
    assert [(w.app_id, w.id) for w in mine] == [("second", "wf-b"), ("first", "wf-a")]
    everyone = call(stub, "ListWorkflows", user_app_id=R.UserAppIDSet()).workflows
    assert ("second", "wf-b") in [(w.app_id, w.id) for w in everyone]
    assert "wf-a" not in [w.id for w in everyone] and "General" in [w.id for w in everyone]


# -- ListModelConcepts ----------------------------------------------------------------------------------


def test_list_model_concepts_of_own_and_public_models(
    stub: service_pb2_grpc.V2Stub, two_apps: tuple[R.UserAppIDSet, R.UserAppIDSet]
) -> None:
    _, second = two_apps
    own = call(stub, "ListModelConcepts", user_app_id=second, model_id="private").concepts
    assert [(c.id, c.name) for c in own] == [("cat", "Cat"), ("dog", "Dog")]
    assert [
        c.id
        for c in call(stub, "ListModelConcepts", user_app_id=second, model_id="private", search="DO").concepts
    ] == ["dog"]
    public = call(stub, "ListModelConcepts", user_app_id=MAIN, model_id="general-image-recognition").concepts
    assert tuple(c.id for c in public) == COLOUR_CONCEPTS
    paged = call(
        stub,
        "ListModelConcepts",
        user_app_id=MAIN,
        model_id="general-text-classification",
        page=2,
        per_page=3,
    ).concepts
    assert tuple(c.id for c in paged) == TEXT_CONCEPTS[3:6]
    call(stub, "ListModelConcepts", S.MODEL_DOES_NOT_EXIST, user_app_id=second, model_id="nope")
    call(
        stub,
        "ListModelConcepts",
        S.MODEL_DOES_NOT_EXIST,
        user_app_id=MAIN,
        model_id="general-image-recognition",
        version_id="nope",
    )


# -- through our SDK -------------------------------------------------------------------------------------


def test_our_sdk_reads_clarifai_main(base_url: str, two_apps: Any) -> None:
    with User(user_id="clarifai", base_url=base_url, pat=KEY) as clarifai:
        assert [a.id for a in clarifai.list_apps()] == ["main"]
        main = clarifai.app("main")
        assert main.app_info.visibility.gettable == R.Visibility.PUBLIC
        assert {m.id for m in main.list_models()} == BUILTIN_MODELS
        assert {"General", "Empty", "Text"} <= {w.id for w in main.list_workflows()}
        with pytest.raises(ApiError) as refused:
            main.create_dataset("mine")
        assert refused.value.status_code == S.CONN_INSUFFICIENT_SCOPES
    with App(user_id="clarifai", app_id="main", base_url=base_url, pat=KEY) as app:
        general = app.workflow("General")
        assert [n.id for n in general.workflow_info.nodes] == [
            "general-image-recognition",
            "general-image-embedding",
        ]
        text = R.Input(id="t", data=R.Data(text=R.Text(raw="we had a great dinner")))
        result = app.workflow("Text").predict([text]).results[0]
        assert {"positive", "food"} <= {c.id for output in result.outputs for c in output.data.concepts}
        assert app.model("general-text-classification").model_info.model_version.id


# -- through the published SDK, unchanged ------------------------------------------------------------------


def test_published_sdk_reads_clarifai_main_and_lists_across_apps(base_url: str, two_apps: Any) -> None:
    published_app = pytest.importorskip("clarifai.client.app")
    published_user = pytest.importorskip("clarifai.client.user")

    main = published_app.App(user_id="clarifai", app_id="main", pat=KEY, base_url=base_url)
    assert {m.id for m in main.list_models()} == BUILTIN_MODELS
    assert {"General", "Empty", "Text"} <= {w.id for w in main.list_workflows()}
    clarifai = published_user.User(user_id="clarifai", pat=KEY, base_url=base_url)
    assert [a.id for a in clarifai.list_apps()] == ["main"]
    assert clarifai.app("main").id == "main"

    me = published_user.User(user_id=USER, pat=KEY, base_url=base_url)
    everyone = me.list_models(user_id="all", show=False)
    assert {m["id"] for m in everyone} == BUILTIN_MODELS | {"shared"}
    mine = me.list_models(show=False)
    assert [(m["app_id"], m["id"]) for m in mine] == [("second", "private"), ("first", "shared")]
    theirs = me.list_models(user_id="clarifai", app_id="main", show=False)
    assert {m["id"] for m in theirs} == BUILTIN_MODELS
    with pytest.raises(Exception, match="CONN_INSUFFICIENT_SCOPES"):
        main.create_dataset("mine")
