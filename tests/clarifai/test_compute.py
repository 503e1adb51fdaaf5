"""Models, training, evaluation, workflows and runners against the emulator's real models."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from clarifai_helpers import calls
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai import ApiError, App, Dataset, Model, Runner, User, UserError
from modelwire.clarifai._content import input_from_bytes, input_from_url, sniff_bytes
from modelwire.emulator import Emulator

TRAIN = {
    "sports": [
        "the team won the football match",
        "a great goal in the final minute",
        "the tennis player served an ace",
        "basketball playoffs start tonight",
        "the runner broke the marathon record",
        "a fantastic save by the goalkeeper",
        "the coach praised the defence",
        "fans cheered in the stadium",
        "the cyclist climbed the mountain stage",
        "a hat trick in the derby",
    ],
    "cooking": [
        "bake the bread for forty minutes",
        "chop the onions and fry them in butter",
        "a recipe for tomato soup",
        "season the sauce with salt and pepper",
        "whisk the eggs with sugar",
        "roast the chicken with garlic",
        "simmer the stew slowly",
        "knead the dough until smooth",
        "grill the vegetables",
        "a spoon of olive oil",
    ],
    "finance": [
        "the stock market fell sharply",
        "interest rates rose again",
        "the bank reported higher profits",
        "investors bought government bonds",
        "inflation slowed last quarter",
        "the company issued new shares",
        "a loan with a fixed rate",
        "quarterly earnings beat estimates",
        "the currency weakened against the dollar",
        "a dividend for shareholders",
    ],
}


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_input_types_are_sniffed_without_rpcs() -> None:
    assert sniff_bytes(png((1, 2, 3))) == "image"
    assert sniff_bytes(b"plain words") == "text"
    assert sniff_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio"
    assert sniff_bytes(b"\x00\x00\x00\x18ftypmp42") == "video"
    with pytest.raises(UserError, match="input_type"):
        sniff_bytes(b"\xff\xfe\x00\x81binary")
    assert input_from_bytes(b"hi").data.text.raw == "hi"
    assert input_from_url("https://x.org/a/cat.JPG").data.image.url.endswith("cat.JPG")
    with pytest.raises(UserError, match="input_type"):
        input_from_url("https://x.org/a/noext")


@pytest.fixture
def builtin(user: User) -> Iterator[App]:
    app = user._derive(App, app_id="main", user_id="clarifai")
    yield app
    app.close()


def test_builtin_models_predict_with_one_rpc_each(builtin: App, emulator: Emulator) -> None:
    embedder = builtin.model("general-text-embedding")
    before_get, before_predict = calls(emulator, "GetModel"), calls(emulator, "PostModelOutputs")
    for _ in range(3):
        (output,) = embedder.predict_by_bytes(b"a quiet morning by the lake").outputs
        assert output.data.embeddings[0].num_dimensions == len(output.data.embeddings[0].vector) > 0
    assert calls(emulator, "GetModel") == before_get  # no re-fetching the model per call
    assert calls(emulator, "PostModelOutputs") == before_predict + 3
    recognition = builtin.model("general-image-recognition")
    concepts = recognition.predict_by_bytes(png((220, 20, 20))).outputs[0].data.concepts
    assert "red" in {c.name for c in concepts if c.value == concepts[0].value}  # may tie with "colorful"
    assert [c.value for c in concepts] == sorted((c.value for c in concepts), reverse=True)


def test_predict_chunks_large_batches_in_order(builtin: App, emulator: Emulator) -> None:
    classifier = builtin.model("general-text-classification")
    inputs = [
        resources_pb2.Input(
            id=f"in-{i}", data=resources_pb2.Data(text=resources_pb2.Text(raw=f"good day {i}"))
        )
        for i in range(300)
    ]
    before = calls(emulator, "PostModelOutputs")
    response = classifier.predict(inputs)
    assert calls(emulator, "PostModelOutputs") == before + 3  # 128 + 128 + 44
    assert [o.input.id for o in response.outputs] == [f"in-{i}" for i in range(300)]
    assert response.status.code == status_code_pb2.SUCCESS


def test_chunked_predict_sends_the_overrides_with_every_chunk(builtin: App, emulator: Emulator) -> None:
    # Each chunk's request is a copy of one template: the overrides must reach all of them.
    classifier = builtin.model("general-text-classification")
    inputs = [
        resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw=f"fine {i}")))
        for i in range(130)
    ]
    everything = classifier.predict(inputs[:1]).outputs[0].data.concepts
    assert len(everything) >= 2
    before = calls(emulator, "PostModelOutputs")
    response = classifier.predict(inputs, output_config={"max_concepts": 1})
    assert calls(emulator, "PostModelOutputs") == before + 2  # 128 + 2
    assert [len(o.data.concepts) for o in response.outputs] == [1] * 130


def test_output_config_is_honoured(builtin: App) -> None:
    model = builtin.model("general-image-recognition")
    everything = model.predict_by_bytes(png((20, 200, 20))).outputs[0].data.concepts
    assert len(everything) >= 3
    top1 = (
        model.predict_by_bytes(png((20, 200, 20)), output_config={"max_concepts": 1}).outputs[0].data.concepts
    )
    assert [c.name for c in top1] == [everything[0].name]
    floor = everything[1].value
    above = (
        model.predict_by_bytes(png((20, 200, 20)), output_config={"min_value": floor})
        .outputs[0]
        .data.concepts
    )
    assert all(c.value >= floor for c in above) and len(above) < len(everything)
    chosen = everything[-1].id
    only = model.predict_by_bytes(png((20, 200, 20)), output_config={"select_concepts": [{"id": chosen}]})
    assert [c.id for c in only.outputs[0].data.concepts] == [chosen]
    with pytest.raises(UserError, match="unknown field"):
        model.predict_by_bytes(png((1, 1, 1)), output_config={"max_conceptz": 1})


def test_model_and_workflow_predict_by_filepath_and_url(builtin: App, app: App, tmp_path: Path) -> None:
    text_file, image_file = tmp_path / "review.txt", tmp_path / "green.png"
    text_file.write_text("a great and lovely day")
    image_file.write_bytes(png((20, 200, 20)))
    classifier = builtin.model("general-text-classification")
    recognition = builtin.model("general-image-recognition")
    # the seed's calls: positional input_type; the type also follows from the file's suffix
    for response, sent in (
        (classifier.predict_by_filepath(str(text_file), "text"), ("raw", "a great and lovely day")),
        (classifier.predict_by_filepath(str(text_file)), ("raw", "a great and lovely day")),
        (classifier.predict_by_url(text_file.as_uri(), "text"), ("url", text_file.as_uri())),
    ):
        (output,) = response.outputs
        assert getattr(output.input.data.text, sent[0]) == sent[1]  # the input as sent
        assert output.data.concepts[0].id == "positive"
    by_path = recognition.predict_by_filepath(str(image_file), "image").outputs[0].data.concepts
    by_url = recognition.predict_by_url(image_file.as_uri()).outputs[0].data.concepts
    assert [c.id for c in by_url] == [c.id for c in by_path] and "green" in {c.name for c in by_path}

    config = tmp_path / "wf.yaml"
    node = {
        "id": "classify",
        "model": {"model_id": "general-text-classification", "user_id": "clarifai", "app_id": "main"},
    }
    config.write_text(yaml.safe_dump({"workflow": {"id": "by-file", "nodes": [node]}}))
    workflow = app.create_workflow(str(config), display=False)
    for response in (
        workflow.predict_by_filepath(str(text_file), "text"),
        workflow.predict_by_url(text_file.as_uri()),
    ):
        (result,) = response.results
        assert result.outputs[0].data.concepts[0].id == "positive"

    missing = tmp_path / "missing.txt"
    for call in (classifier.predict_by_filepath, workflow.predict_by_filepath):
        with pytest.raises(UserError, match=r"missing\.txt"):
            call(str(missing), "text")
    with pytest.raises(UserError, match="input_type"):
        classifier.predict_by_url("https://example.org/no-suffix")
    unknown = tmp_path / "data.bin"
    unknown.write_bytes(b"\xff\xfe\x00\x81binary")  # no suffix to go by, and not sniffable
    with pytest.raises(UserError, match="input_type"):
        workflow.predict_by_filepath(str(unknown))


def _labelled_dataset(app: App) -> Dataset:
    dataset = app.create_dataset("topics")
    inputs = app.inputs()
    built = [
        inputs.get_text_input(f"{label}-{i}", text, dataset_id=dataset.id, labels=[label])
        for label, texts in TRAIN.items()
        for i, text in enumerate(texts)
    ]
    assert inputs.upload_inputs_bulk(built, show_progress=False).ok
    inputs.close()
    return dataset


def _trained(app: App, model_type: str, template: str | None, tmp_path: Path) -> tuple[Model, Dataset]:
    dataset = _labelled_dataset(app)
    model = app.create_model(f"{model_type}-{uuid.uuid4().hex[:4]}", model_type_id=model_type)
    params = model.get_params(template=template, save_to=str(tmp_path / "params.yaml"))
    assert yaml.safe_load((tmp_path / "params.yaml").read_text()) == params
    model.update_params(dataset_id=dataset.id, concepts=sorted(TRAIN))
    version_id = model.train()
    status = model.wait_for_training(version_id, timeout=60)
    assert status.code == status_code_pb2.MODEL_TRAINED, status.description
    return model, dataset


@pytest.mark.parametrize(
    ("model_type", "template"), [("embedding-classifier", None), ("text-classifier", "LogisticRegression")]
)
def test_train_evaluate_predict(app: App, tmp_path: Path, model_type: str, template: str | None) -> None:
    probe = app.create_model(f"probe-{uuid.uuid4().hex[:4]}", model_type_id=model_type)
    templates = probe.list_training_templates()
    assert (template in templates) if template else templates == []
    model, _dataset = _trained(app, model_type, template, tmp_path)
    info = model.get_param_info("concepts" if template is None else "template")
    assert info["param"] in ("concepts", "template")

    predictions = model.predict_by_bytes(b"the striker scored in the cup final").outputs[0].data.concepts
    assert predictions[0].id == "sports"
    predictions = model.predict_by_bytes(b"fry the garlic in olive oil").outputs[0].data.concepts
    assert predictions[0].id == "cooking"

    evaluation = model.evaluate()
    done = model.wait_for_evaluation(evaluation.id, timeout=60)
    assert done.status.code == status_code_pb2.MODEL_EVALUATED
    assert 0.0 <= done.summary.top1_accuracy <= 1.0 and not done.HasField("confusion_matrix")
    full = model.get_eval_by_id(evaluation.id, confusion_matrix=True, label_counts=True, binary_metrics=True)
    cells = sum(entry.value for entry in full.confusion_matrix.matrix)
    assert cells == pytest.approx(len(full.test_set) or cells) and cells > 0
    assert all(0.0 <= b.roc_auc <= 1.0 for b in full.binary_metrics)
    latest = model.get_latest_eval(confusion_matrix=True)
    assert latest is not None and latest.id == evaluation.id and latest.HasField("confusion_matrix")


def test_versions_and_training_failures(app: App, tmp_path: Path) -> None:
    model, _ = _trained(app, "embedding-classifier", None, tmp_path)
    trained = model.version_id
    assert model.training_status().code == status_code_pb2.MODEL_TRAINED
    plain = model.create_version(description="untrained copy")
    assert plain.version_id != trained
    assert {m.version_id for m in model.list_versions()} >= {trained, plain.version_id}
    model.delete_version(plain.version_id)
    assert plain.version_id not in {m.version_id for m in model.list_versions()}
    assert model.get_latest_eval() is None  # no evaluation yet: None, not IndexError

    app.inputs().upload_text("lonely", "nothing to see", labels=["unused"])
    model.update_params(concepts=["sports", "unused"])
    failing = model.train()
    status = model.wait_for_training(failing, timeout=60)
    assert (
        status.code == status_code_pb2.MODEL_TRAINING_FAILED
        and "unused" in status.description + status.details
    )
    model.update_params(concepts=["no-such-concept"])
    with pytest.raises(UserError, match="do not exist"):
        model.train()


def test_bad_training_requests(app: App) -> None:
    model = app.create_model("not-trainable", model_type_id="text-embedder")
    with pytest.raises(UserError, match="not trainable"):
        model.get_params()
    trainable = app.create_model("needs-template", model_type_id="text-classifier")
    with pytest.raises(UserError, match="template"):
        trainable.get_params()
    with pytest.raises(UserError, match="get_params"):
        trainable.update_params(epochs=3)


def test_workflow_chains_nodes_and_round_trips(app: App, tmp_path: Path, emulator: Emulator) -> None:
    model, _ = _trained(app, "embedding-classifier", None, tmp_path)
    config = tmp_path / "wf.yaml"
    embed = {"model_id": "general-text-embedding", "user_id": "clarifai", "app_id": "main"}
    classify = {"model_id": model.id, "model_version_id": model.version_id}
    nodes = [
        {"id": "embed", "model": embed},
        {"id": "classify", "model": classify, "node_inputs": [{"node_id": "embed"}]},
    ]
    config.write_text(yaml.safe_dump({"workflow": {"id": "topic-flow", "nodes": nodes}}))
    workflow = app.create_workflow(str(config), display=False)
    result = workflow.predict_by_bytes(b"the bank raised interest rates").results[0]
    assert [o.model.id for o in result.outputs] == ["general-text-embedding", model.id]
    assert result.outputs[0].data.embeddings and result.outputs[1].data.concepts[0].id == "finance"
    before = calls(emulator, "PostWorkflowResults")
    many = [input_from_bytes(f"stock prices {i}".encode()) for i in range(40)]
    for i, item in enumerate(many):
        item.id = f"wf-{i}"
    merged = workflow.predict(many)
    assert calls(emulator, "PostWorkflowResults") == before + 2  # 32 + 8
    # one response for both chunks: every result in input order, one status, the workflow once
    assert [r.input.id for r in merged.results] == [f"wf-{i}" for i in range(40)]
    assert merged.status.code == status_code_pb2.SUCCESS and merged.workflow.id == "topic-flow"
    exported = workflow.export(str(tmp_path / "out.yaml"))
    copy = app.create_workflow(str(exported), generate_new_id=True, display=False)
    assert copy.id != workflow.id
    assert [n.model.id for n in copy.workflow_info.nodes] == [
        n.model.id for n in app.workflow("topic-flow").workflow_info.nodes
    ]
    assert len(list(workflow.list_versions())) >= 1


def test_module_versions(app: App) -> None:
    module = app.create_module("tooling", description="helpers")
    assert list(module.list_versions()) == [] or all(m.id == "tooling" for m in module.list_versions())


class Shouter(Runner):
    def run_input(
        self, input: resources_pb2.Input, output_info: resources_pb2.OutputInfo
    ) -> resources_pb2.Output:
        text = input.data.text.raw
        if text == "boom":
            raise RuntimeError("cannot handle boom")
        output = resources_pb2.Output()
        output.data.text.raw = text.upper()
        output.data.concepts.add(id="loud", name="loud", value=min(1.0, len(text) / 10))
        return output


def test_runner_serves_a_custom_model(
    user: User, app: App, emulator: Emulator, base_url: str, api_key: str
) -> None:
    runner_id = f"runner-{uuid.uuid4().hex[:6]}"
    user.create_runner(runner_id, description="test runner")
    model = app.create_model("shouter", model_type_id="text-classifier", metadata={"runner_id": runner_id})
    with pytest.raises(ApiError, match="runner"):
        model.predict_by_bytes(b"nobody listening")  # no runner connected: a clear, immediate error

    runner = Shouter(runner_id, user_id=user.user_id, base_url=base_url, pat=api_key, num_parallel_polls=2)
    runner.start(blocking=False)
    try:
        for _ in range(100):  # until the runner's first poll reached the emulator
            if calls(emulator, "ListRunnerItems"):
                break
            time.sleep(0.05)
        response = model.predict_by_bytes(b"hello there")
        assert response.outputs[0].data.text.raw == "HELLO THERE"
        assert response.outputs[0].data.concepts[0].id == "loud"
        failed = model.predict([input_from_bytes(b"boom"), input_from_bytes(b"fine")])
        assert failed.status.code == status_code_pb2.MIXED_STATUS
        assert failed.outputs[0].status.code == status_code_pb2.MODEL_PREDICTION_FAILED
        assert "cannot handle boom" in failed.outputs[0].status.description
    finally:
        runner.stop()
    assert not runner.running and runner.items_done >= 2
    runner.close()
