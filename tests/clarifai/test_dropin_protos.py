"""Drop-in for clarifai 12.5.0: the protobuf values the published SDK accepts are accepted here,
whatever pool they come from (google.protobuf's Struct, clarifai-grpc's Concept/OutputConfig/Input),
and a predict where every input failed raises ApiError as published."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dropin_helpers import foreign, png
from google.protobuf import struct_pb2

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai import ApiError, App, Inputs, User, UserError
from modelwire.clarifai.workflow import Workflow


def _struct(values: dict[str, object]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()  # google.protobuf's own, not modelwire's generated Struct
    struct.update(values)
    return struct


@pytest.fixture
def builtin(user: User) -> Iterator[App]:
    app = user._derive(App, app_id="main", user_id="clarifai")
    yield app
    app.close()


def _concepts(response: object) -> list[str]:
    return [c.id for c in response.outputs[0].data.concepts]  # type: ignore[attr-defined]


@pytest.mark.parametrize("origin", ["google.protobuf", "other pool", "dict"])
def test_input_metadata_takes_a_struct_of_any_origin(origin: str) -> None:
    values = {"source": "camera", "rank": 2}
    metadata = {
        "google.protobuf": _struct(values),
        "other pool": foreign("google.protobuf.Struct")(),
        "dict": values,
    }[origin]
    if origin == "other pool":
        metadata.update(values)
    built = Inputs.get_text_input(input_id="m", raw_text="hi", metadata=metadata)
    assert dict(built.data.metadata) == {"source": "camera", "rank": 2.0}


def test_wrong_metadata_is_a_clear_error() -> None:
    with pytest.raises(
        UserError, match=r"expected a google\.protobuf\.Struct message \(or a dict\), got a clarifai"
    ):
        Inputs.get_text_input(input_id="m", raw_text="hi", metadata=resources_pb2.Concept(id="x"))
    with pytest.raises(UserError, match="metadata"):
        Inputs.get_text_input(input_id="m", raw_text="hi", metadata={"bad": b"bytes"})


def test_create_calls_take_struct_metadata(user: User) -> None:
    app = user.create_app("structured", metadata=_struct({"team": "vision"}))
    assert dict(user.app("structured").app_info.metadata) == {"team": "vision"}
    dataset = app.create_dataset("structured-ds", metadata=_struct({"split": "train"}))
    assert dict(dataset.dataset_info.metadata) == {"split": "train"}
    dataset.close()
    user.delete_app(app.id)


def test_upload_and_predict_take_clarifai_grpc_inputs(app: App, builtin: App) -> None:
    Input = foreign("clarifai.api.Input")
    theirs = Input(id="theirs")
    theirs.data.text.raw = "a text built with clarifai-grpc"
    inputs = app.inputs()
    inputs.upload_inputs([theirs])
    assert [i.id for i in inputs.list_inputs()] == ["theirs"]
    classifier = builtin.model("general-text-classification")
    assert classifier.predict([theirs]).outputs[0].data.concepts
    inputs.close()


@pytest.mark.parametrize("shape", ["dict of Concepts", "OutputConfig"])
def test_select_concepts_and_output_config_from_clarifai_grpc(builtin: App, shape: str) -> None:
    Concept, OutputConfig = foreign("clarifai.api.Concept"), foreign("clarifai.api.OutputConfig")
    model = builtin.model("general-image-recognition")
    chosen = _concepts(model.predict_by_bytes(png((20, 200, 20))))[-1]
    selected = [Concept(id=chosen)]  # the seed documents select_concepts as list[Concept]
    config = (
        {"select_concepts": selected}
        if shape == "dict of Concepts"
        else OutputConfig(select_concepts=selected)
    )
    assert _concepts(model.predict_by_bytes(png((20, 200, 20)), output_config=config)) == [chosen]
    capped = OutputConfig(max_concepts=1)
    assert len(_concepts(model.predict_by_bytes(png((20, 200, 20)), output_config=capped))) == 1


def test_inference_params_take_a_struct(builtin: App) -> None:
    model = builtin.model("general-image-recognition")
    response = model.predict_by_bytes(png((20, 200, 20)), inference_params=_struct({"temperature": 2.0}))
    assert response.status.code == status_code_pb2.SUCCESS
    with pytest.raises(UserError, match="inference_params must be a dict"):
        model.predict_by_bytes(png((20, 200, 20)), inference_params=["temperature"])  # type: ignore[arg-type]


def _workflow(app: App, tmp_path: Path, model_id: str) -> Workflow:
    node = {"id": "only", "model": {"model_id": model_id, "user_id": "clarifai", "app_id": "main"}}
    config = tmp_path / f"{model_id}.yaml"
    config.write_text(yaml.safe_dump({"workflow": {"id": f"wf-{model_id}", "nodes": [node]}}))
    return app.create_workflow(str(config), display=False)


def test_workflow_takes_an_output_config_message(app: App, tmp_path: Path) -> None:
    created = _workflow(app, tmp_path, "general-image-recognition")
    OutputConfig = foreign("clarifai.api.OutputConfig")
    workflow = Workflow(
        workflow_id=created.id,
        output_config=OutputConfig(max_concepts=2),
        app_id=app.id,
        user_id=app.user_id,
        _connection=app._conn,
    )
    (result,) = workflow.predict_by_bytes(png((200, 20, 20)), "image").results
    assert len(result.outputs[0].data.concepts) == 2
    with pytest.raises(UserError, match="output_config"):
        Workflow(
            workflow_id=created.id,
            output_config={"max_conceptz": 1},
            app_id=app.id,
            user_id=app.user_id,
            _connection=app._conn,
        )
    workflow.close()


def test_predict_raises_when_every_input_failed(builtin: App) -> None:
    model = builtin.model("general-image-recognition")  # reads images: text inputs fail
    texts = [Inputs.get_text_input(f"t{i}", "not an image") for i in range(2)]
    with pytest.raises(ApiError) as caught:
        model.predict(texts)
    err = caught.value
    assert err.status_code == status_code_pb2.FAILURE and err.resource == "PostModelOutputs"
    assert "first failure" in str(err) and "image" in str(err)
    assert [o.status.code for o in err.response.outputs] == [status_code_pb2.INPUT_UNSUPPORTED_FORMAT] * 2
    # Some failed, some did not: MIXED_STATUS is a result to read item by item.
    mixed = model.predict([texts[0], Inputs.get_input_from_bytes("img", image_bytes=png((1, 2, 3)))])
    assert mixed.status.code == status_code_pb2.MIXED_STATUS and mixed.outputs[1].data.concepts


def test_workflow_predict_raises_when_every_input_failed(app: App, tmp_path: Path) -> None:
    workflow = _workflow(app, tmp_path, "general-image-recognition")
    with pytest.raises(ApiError) as caught:
        workflow.predict([Inputs.get_text_input("t", "not an image")])
    assert caught.value.status_code == status_code_pb2.FAILURE
    assert caught.value.resource == "PostWorkflowResults" and len(caught.value.response.results) == 1
    mixed = workflow.predict(
        [
            Inputs.get_text_input("t", "not an image"),
            Inputs.get_input_from_bytes("i", image_bytes=png((9, 9, 9))),
        ]
    )
    assert mixed.status.code == status_code_pb2.MIXED_STATUS and len(mixed.results) == 2
