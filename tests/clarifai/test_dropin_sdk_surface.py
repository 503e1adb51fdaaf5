"""Drop-in for clarifai 12.5.0: the seed's imports after the documented rewrite, the `Input(s)`
builders as static methods, `Chunker(seq, size)`, the published `ApiError` constructor, `Module`
and `Lister`'s published item keys."""

from __future__ import annotations

import importlib
import inspect
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from dropin_helpers import foreign, png

from modelwire._core.errors import ModelwireError, UsageError
from modelwire._gen.clarifai.api import resources_pb2, service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai import App, Chunker, Inputs, Lister, User
from modelwire.emulator import Emulator

# Every `from clarifai.client.<module> import <Name>` of the seed, and clarifai.errors' names.
SEED_IMPORTS = [
    ("user", "User"),
    ("app", "App"),
    ("dataset", "Dataset"),
    ("input", "Input"),
    ("input", "Inputs"),
    ("model", "Model"),
    ("workflow", "Workflow"),
    ("module", "Module"),
    ("search", "Search"),
]
ERRORS = ("ApiError", "ApiClientError", "UserError")

# The builders' signatures in clarifai 12.5.0 (inspect.signature of the staticmethods there).
PUBLISHED_BUILDERS = {
    "get_text_input": "(input_id, raw_text, dataset_id=None, **kwargs)",
    "get_multimodal_input": (
        "(input_id, raw_text=None, text_bytes=None, image_url=None, image_bytes=None, dataset_id=None, "
        "**kwargs)"
    ),
    "get_input_from_bytes": (
        "(input_id, image_bytes=None, video_bytes=None, audio_bytes=None, text_bytes=None, dataset_id=None, "
        "**kwargs)"
    ),
    "get_input_from_file": (
        "(input_id, image_file=None, video_file=None, audio_file=None, text_file=None, dataset_id=None, "
        "**kwargs)"
    ),
    "get_input_from_url": (
        "(input_id, image_url=None, video_url=None, audio_url=None, text_url=None, dataset_id=None, **kwargs)"
    ),
    "get_inputs_from_csv": "(csv_path, input_type='text', csv_type='raw', dataset_id=None, labels=True)",
    "get_image_inputs_from_folder": "(folder_path, dataset_id=None, labels=False)",
    "get_text_inputs_from_folder": "(folder_path, dataset_id=None, labels=False)",
}


def _bare(signature: inspect.Signature) -> str:
    """A signature without annotations, as published and ours are compared."""
    return str(
        signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=inspect.Signature.empty,
        )
    )


@pytest.mark.parametrize(("module", "name"), SEED_IMPORTS)
def test_every_seed_import_resolves_after_the_rewrite(module: str, name: str) -> None:
    rewritten = importlib.import_module(f"modelwire.clarifai.{module}")  # was clarifai.client.<module>
    assert inspect.isclass(getattr(rewritten, name))


def test_clarifai_errors_resolves_after_the_rewrite() -> None:
    errors = importlib.import_module("modelwire.clarifai.errors")  # was clarifai.errors
    assert all(issubclass(getattr(errors, name), Exception) for name in ERRORS)


def test_input_module_is_the_home_of_inputs_and_input_is_inputs() -> None:
    from modelwire.clarifai import input as input_module
    from modelwire.clarifai import inputs as inputs_module

    assert input_module.Inputs is inputs_module.Inputs is Inputs
    assert input_module.Input is Inputs  # the seed's name for the builders' class


@pytest.mark.parametrize("name", sorted(PUBLISHED_BUILDERS))
def test_builders_are_staticmethods_with_the_published_parameters(name: str) -> None:
    assert isinstance(inspect.getattr_static(Inputs, name), staticmethod)
    assert _bare(inspect.signature(getattr(Inputs, name))) == PUBLISHED_BUILDERS[name]


def test_builders_work_on_the_class_without_an_instance(tmp_path: Path) -> None:
    text = Inputs.get_text_input(input_id="t", raw_text="hello", dataset_id="d", labels=["greeting"])
    assert text.id == "t" and text.data.text.raw == "hello" and list(text.dataset_ids) == ["d"]
    (tmp_path / "a.txt").write_text("one")
    assert [i.data.text.raw for i in Inputs.get_text_inputs_from_folder(folder_path=str(tmp_path))] == ["one"]
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("input,concepts\nbuy milk,todo\n")
    (row,) = Inputs.get_inputs_from_csv(csv_path=str(csv_path))
    assert row.data.text.raw == "buy milk" and [c.id for c in row.data.concepts] == ["todo"]


def test_seed_input_examples_run_as_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base_url: str, api_key: str
) -> None:
    """The seed's examples, with only `clarifai.client.input` rewritten: `Input()` needs no user
    for the builders (as published, only a PAT), and `Input.<builder>` needs no instance."""
    from modelwire.clarifai.input import Input

    monkeypatch.delenv("CLARIFAI_USER_ID", raising=False)
    monkeypatch.setenv("CLARIFAI_PAT", api_key)
    monkeypatch.setenv("CLARIFAI_API_BASE", base_url)
    monkeypatch.chdir(tmp_path)
    Path("demo.jpg").write_bytes(png((10, 20, 30)))
    Path("demo.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    Path("demo_folder").mkdir()
    Path("demo_folder/cat.png").write_bytes(png((1, 2, 3)))

    input_obj = Input()
    input_proto = input_obj.get_input_from_url(
        input_id="demo", image_url="https://samples.clarifai.com/metro-north.jpg"
    )
    assert input_proto.data.image.url == "https://samples.clarifai.com/metro-north.jpg"
    image = open("demo.jpg", "rb").read()  # noqa: SIM115 - the seed's own line
    video = open("demo.mp4", "rb").read()  # noqa: SIM115
    input_proto = input_obj.get_input_from_bytes(input_id="demo", image_bytes=image, video_bytes=video)
    assert input_proto.data.image.base64 == image and input_proto.data.video.base64 == video
    input_protos = input_obj.get_image_inputs_from_folder(folder_path="demo_folder")
    assert [i.id for i in input_protos] == ["cat"]
    input_protos = input_obj.get_text_input(input_id="demo", raw_text="This is a test")
    assert input_protos.data.text.raw == "This is a test"
    input_protos = Input.get_multimodal_input(
        input_id="demo",
        raw_text="What time of day is it?",
        image_url="https://samples.clarifai.com/metro-north.jpg",
    )
    assert input_protos.data.text.raw and input_protos.data.image.url
    annotation = Inputs.get_bbox_proto(input_id="demo", label="demo", bbox=[0.1, 0.2, 0.3, 0.4])
    assert annotation.data.regions[0].region_info.bounding_box.right_col == pytest.approx(0.3)
    # Without a user, the first call to the API says what to pass (nothing is sent).
    with pytest.raises(ModelwireError, match="user_id"):
        input_obj.upload_inputs([input_proto])
    input_obj.close()


def test_input_builders_reject_no_source_with_a_clear_error() -> None:
    with pytest.raises(UsageError, match="at least one of image_bytes"):
        Inputs.get_input_from_bytes(input_id="x")
    with pytest.raises(UsageError, match="image_url must be a str"):
        Inputs.get_input_from_url(input_id="x", image_url=b"https://a")  # type: ignore[arg-type]


def test_seed_module_example(user: User, app: App) -> None:
    from modelwire.clarifai.module import Module

    created = app.create_module("tooling", description="helpers")
    assert isinstance(created, Module)
    module = Module(module_id="tooling", user_id=user.user_id, app_id=app.id, _connection=user._conn)
    all_module_versions = list(module.list_versions())
    assert all(isinstance(m, Module) for m in all_module_versions)
    module.close()


def test_chunker_takes_the_published_size_parameter() -> None:
    assert Chunker(seq=list(range(5)), size=2).chunk() == [[0, 1], [2, 3], [4]]
    assert Chunker(list(range(5)), 2).size == 2
    old_name = Chunker(list(range(3)), chunk_size=2)  # the former keyword keeps working
    assert old_name.chunk() == [[0, 1], [2]] and old_name.chunk_size == 2
    with pytest.raises(UsageError, match="not both"):
        Chunker([1], size=1, chunk_size=1)
    with pytest.raises(UsageError, match="positive"):
        Chunker(seq=[1], size=0)
    with pytest.raises(UsageError, match="positive"):
        Chunker(seq=[1])


def test_api_error_has_the_published_constructor() -> None:
    from modelwire.clarifai.errors import ApiError

    bare = ApiError("/v2/models", {"page": 1}, "GET")
    assert (bare.resource, bare.params, bare.method, bare.response) == (
        "/v2/models",
        {"page": 1},
        "GET",
        None,
    )
    assert "GET /v2/models FAILED" in str(bare) and isinstance(bare, ModelwireError)
    response = service_pb2.MultiModelResponse()
    response.status.code = status_code_pb2.MODEL_DOES_NOT_EXIST
    response.status.description = "Model does not exist"
    response.status.req_id = "req-1"
    err = ApiError("/v2/models/x", {}, "GET", response)
    assert err.error_code == err.status_code == status_code_pb2.MODEL_DOES_NOT_EXIST
    assert err.error_desc == "Model does not exist" and err.status_name == "MODEL_DOES_NOT_EXIST"
    assert err.code == grpc.StatusCode.NOT_FOUND and err.req_id == "req-1" and err.response is response
    # clarifai-grpc's response (another pool) and 2.x's requests.Response (its JSON body) work too.
    theirs = foreign("clarifai.api.MultiModelResponse").FromString(response.SerializeToString())
    assert ApiError("r", {}, "GET", theirs).error_code == status_code_pb2.MODEL_DOES_NOT_EXIST

    class JsonBody:
        def json(self) -> dict[str, Any]:
            return {"status": {"code": 11007, "description": "Not authorized"}}

    legacy = ApiError("/v2/inputs", {}, "POST", JsonBody())
    assert legacy.error_code == 11007 and legacy.code == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(ApiError):
        raise ApiError("/v2/inputs", {}, "POST")


def test_api_errors_the_sdk_raises_keep_their_rich_attributes(app: App) -> None:
    from modelwire._core.errors import NotFoundError
    from modelwire.clarifai.errors import ApiError

    with pytest.raises(NotFoundError) as caught:
        app.model("no-such-model")
    err = caught.value
    assert isinstance(err, ApiError)
    assert err.resource == "GetModel" and err.method.endswith("/GetModel") and err.params == {}
    assert err.error_code == err.status_code and err.status_name.endswith("DOES_NOT_EXIST")
    assert err.response is not None and err.response.status.code == err.status_code and err.req_id


def _endpoint(emulator: Emulator, api_key: str, rpc: str) -> tuple[grpc.Channel, Any]:
    channel = grpc.insecure_channel(f"127.0.0.1:{emulator.port}")
    method = getattr(service_pb2_grpc.V2Stub(channel), rpc)

    def call(request: Any) -> Any:
        return method(request, metadata=(("authorization", f"Key {api_key}"),))

    return channel, call


def test_lister_takes_proto_values_and_yields_published_keys(
    emulator: Emulator, user: User, app: App, api_key: str
) -> None:
    for i in range(3):
        user.create_app(f"keys-{uuid.uuid4().hex[:6]}-{i}")
    channel, endpoint = _endpoint(emulator, api_key, "ListApps")
    # As the published SDK builds requests: a message (here clarifai-grpc's) as a field value.
    scope = foreign("clarifai.api.UserAppIDSet")(user_id=emulator.user_id)
    lister = Lister(page_size=2)
    items = list(lister.list_pages_generator(endpoint, service_pb2.ListAppsRequest, {"user_app_id": scope}))
    assert len(items) >= 4 and all("app_id" in item and "id" not in item for item in items)
    assert app.id in {item["app_id"] for item in items}
    with pytest.raises(UsageError, match=r"clarifai\.api\.UserAppIDSet"):
        Lister().list_pages_generator(
            endpoint, service_pb2.ListAppsRequest, {"user_app_id": resources_pb2.Concept(id="x")}
        )
    channel.close()


def test_lister_yields_dataset_inputs_as_inputs(emulator: Emulator, app: App, api_key: str) -> None:
    dataset = app.create_dataset("listed")
    inputs = app.inputs()
    inputs.upload_inputs(
        [Inputs.get_text_input(f"in-{i}", f"text {i}", dataset_id=dataset.id) for i in range(3)]
    )
    channel, endpoint = _endpoint(emulator, api_key, "ListDatasetInputs")
    request_data = {"user_app_id": app.user_app_id, "dataset_id": dataset.id}
    items = list(Lister().list_pages_generator(endpoint, service_pb2.ListDatasetInputsRequest, request_data))
    assert sorted(item["dataset_input_id"] for item in items) == ["in-0", "in-1", "in-2"]
    assert all(item["data"]["text"]["raw"].startswith("text") for item in items)
    channel.close()
    inputs.close()
    dataset.close()
