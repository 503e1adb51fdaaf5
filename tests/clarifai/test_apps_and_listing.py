"""User and App operations, and lazy listing with exact call counts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from clarifai_helpers import calls

from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire.clarifai import App, Chunker, Lister, User, UserError
from modelwire.emulator import Emulator


def test_create_get_list_delete_apps(user: User, emulator: Emulator) -> None:
    prefix = f"la-{uuid.uuid4().hex[:6]}"
    made = [user.create_app(f"{prefix}-{i}", description=f"app {i}") for i in range(5)]
    assert user.app(made[0].id).app_info.description == "app 0"

    before = calls(emulator, "ListApps")
    listed = [a.id for a in user.list_apps(per_page=2) if a.id.startswith(prefix)]
    assert sorted(listed) == sorted(a.id for a in made)
    total = sum(1 for _ in user.list_apps(per_page=2))
    assert calls(emulator, "ListApps") - before == 2 * (total // 2 + 1)  # both listings: short last pages

    before = calls(emulator, "ListApps")
    page = list(user.list_apps(page_no=1, per_page=3))
    assert len(page) == 3 and calls(emulator, "ListApps") == before + 1
    for app in made:
        user.delete_app(app.id)
    assert not any(a.id.startswith(prefix) for a in user.list_apps())


def test_listing_is_lazy_and_stops_on_a_short_page(app: App, emulator: Emulator) -> None:
    for i in range(7):
        app.create_dataset(f"ds-{i}")
    before = calls(emulator, "ListDatasets")
    listing = app.list_datasets(per_page=3)
    assert calls(emulator, "ListDatasets") == before  # nothing fetched yet
    assert len(list(listing)) == 7
    assert calls(emulator, "ListDatasets") == before + 3  # ceil(7 / 3)


def test_filter_by_is_validated(user: User) -> None:
    with pytest.raises(UserError, match="unknown field"):
        list(user.list_apps(filter_by={"colour": "red"}))


def test_datasets_versions_models_workflows_modules(app: App, tmp_path: Path) -> None:
    dataset = app.create_dataset("animals", description="cats and dogs")
    assert app.dataset("animals").dataset_info.description == "cats and dogs"
    version = dataset.create_version(description="v1")
    assert version.version_id and [v.version_id for v in dataset.list_versions()] == [version.version_id]
    dataset.delete_version(version.version_id)
    assert list(dataset.list_versions()) == []

    model = app.create_model("classifier", model_type_id="embedding-classifier")
    assert app.model("classifier").model_info.model_type_id == "embedding-classifier"
    assert [m.id for m in app.list_models()] == ["classifier"]
    config = tmp_path / "wf.yaml"
    config.write_text(
        "workflow:\n  id: wf1\n  nodes:\n"
        "    - id: embed\n      model: {model_id: classifier}\n"
        "    - id: second\n      model: {model_id: classifier}\n      node_inputs: [{node_id: embed}]\n"
    )
    workflow = app.create_workflow(str(config), display=False)
    assert [n.id for n in app.workflow("wf1").workflow_info.nodes] == ["embed", "second"]
    assert [w.id for w in app.list_workflows()] == [workflow.id]
    module = app.create_module("mod1", description="a module")
    assert app.module("mod1").module_info.description == "a module"
    assert [m.id for m in app.list_modules()] == [module.id]
    assert list(app.list_installed_module_versions()) == []
    app.delete_model(model.id)
    app.delete_workflow("wf1")
    app.delete_module("mod1")
    app.delete_dataset("animals")
    assert list(app.list_models()) == [] and list(app.list_datasets()) == []
    assert "embedding-classifier" in app.list_trainable_model_types()


def test_bad_workflow_config_says_where(app: App, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    node = "    - id: a\n      model: {model_id: m}\n      node_inputs: [{node_id: z}]\n"
    config.write_text("workflow:\n  id: w\n  nodes:\n" + node)
    with pytest.raises(UserError, match=r"nodes\[0\].*'z'"):
        app.create_workflow(str(config))


def test_runners(user: User) -> None:
    runner = user.create_runner("runner-a", labels=["gpu"], description="laptop")
    assert user.runner("runner-a").runner_info.description == "laptop"
    assert "runner-a" in [r.id for r in user.list_runners()]
    user.delete_runner(runner.id)
    assert "runner-a" not in [r.id for r in user.list_runners()]


def test_lister_and_chunker(emulator: Emulator, user: User, api_key: str) -> None:
    for i in range(3):
        user.create_app(f"lister-{uuid.uuid4().hex[:6]}-{i}")
    import grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{emulator.port}")
    stub = service_pb2_grpc.V2Stub(channel)

    def endpoint(request: service_pb2.ListAppsRequest) -> service_pb2.MultiAppResponse:
        return stub.ListApps(request, metadata=(("authorization", f"Key {api_key}"),))

    lister = Lister(page_size=2)
    request_data = {"user_app_id": {"user_id": emulator.user_id}}
    items = list(lister.list_pages_generator(endpoint, service_pb2.ListAppsRequest, request_data))
    assert len(items) >= 3 and all("app_id" in item and "id" not in item for item in items)  # as published
    assert (
        len(list(lister.list_pages_generator(endpoint, service_pb2.ListAppsRequest, request_data, page_no=1)))
        == 2
    )
    channel.close()
    assert Chunker(list(range(7)), 3).chunk() == [[0, 1, 2], [3, 4, 5], [6]]
