"""The Clarifai emulator's models over a real gRPC channel, driven with the raw generated V2 stub:
model types, Clarifai's public models, training, predictions, evaluations, workflows and
runner-backed models. Waiting is bounded by attempts, never asserted on time.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.message_factory import GetMessageClass
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator import Emulator
from modelwire.emulator.clarifai.embeddings import embed_image, embed_text
from modelwire.emulator.clarifai.learning import held_out

KEY = "clarifai-models-pat"
USER = "demo"
S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
PUBLIC = R.UserAppIDSet(user_id="clarifai", app_id="main")
DONE_TRAINING = (S.MODEL_TRAINED, S.MODEL_TRAINING_FAILED)
DONE_EVALUATING = (S.MODEL_EVALUATED, S.MODEL_EVALUATION_FAILED)
ALL_FIELDS = R.FieldsValue(
    confusion_matrix=True, label_counts=True, binary_metrics=True, test_set=True, metrics_by_class=True
)

# Three clearly separable text concepts: every example uses the concept's own vocabulary.
VOCABULARY = {
    "sports": "football match goal team player coach stadium league",
    "food": "pizza pasta cheese dinner cook recipe tomato bread",
    "tech": "computer software laptop code bug server keyboard program",
}
CLEAR = {
    "sports": "the team scored a goal in the football match",
    "food": "cook pasta with tomato and cheese",
}
CLEAR["tech"] = "a bug in the laptop software code"


class Api:
    """Calls V2 RPCs for one user_app_id through the raw stub and checks each answer's status code
    (gRPC itself must answer OK, as the real API does)."""

    def __init__(self, stub: service_pb2_grpc.V2Stub, app: R.UserAppIDSet) -> None:
        self.stub, self.app = stub, app

    def at(self, app: R.UserAppIDSet) -> Api:
        return Api(self.stub, app)

    def __call__(
        self, method: str, expect: int = S.SUCCESS, timeout: float | None = None, **fields: Any
    ) -> Any:
        request = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
        if "user_app_id" not in fields:
            request.user_app_id.CopyFrom(self.app)
        response = getattr(self.stub, method)(
            request, metadata=(("authorization", f"Key {KEY}"),), timeout=timeout
        )
        assert response.status.code == expect, (method, response.status)
        return response


def poll(check: Callable[[], Any], what: str, attempts: int = 3000) -> Any:
    """Call `check` until it returns something truthy (bounded by attempts, not by time)."""
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(0.005)
    raise AssertionError(f"gave up waiting for {what}")


def png(color: tuple[int, int, int], size: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, "PNG")
    return out.getvalue()


def text_input(raw: str, input_id: str = "", **data: Any) -> R.Input:
    return R.Input(id=input_id, data=R.Data(text=R.Text(raw=raw), **data))


def image_input(raw: bytes, input_id: str = "") -> R.Input:
    return R.Input(id=input_id, data=R.Data(image=R.Image(base64=raw)))


def struct(**values: Any) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def concepts_of(output: R.Output) -> dict[str, float]:
    return {c.id: c.value for c in output.data.concepts}


def top(output: R.Output) -> str:
    assert output.status.code == S.SUCCESS, output.status
    return str(output.data.concepts[0].id)


def labelled_texts(dataset_id: str, per_concept: int = 10) -> list[R.Input]:
    inputs = []
    for concept_id, words in VOCABULARY.items():
        vocabulary = words.split()
        for i in range(per_concept):
            raw = " ".join(vocabulary[(i + k) % len(vocabulary)] for k in range(4))
            inputs.append(
                R.Input(
                    id=f"{concept_id}-{i}",
                    dataset_ids=[dataset_id],
                    data=R.Data(text=R.Text(raw=raw), concepts=[R.Concept(id=concept_id, value=1.0)]),
                )
            )
    return inputs


def upload(api: Api, inputs: list[R.Input]) -> None:
    job_id = api("PostInputs", inputs=inputs).inputs_add_job.id

    def processed() -> bool:
        progress = api("GetInputsAddJob", id=job_id).inputs_add_job.progress
        return progress.pending_count + progress.in_progress_count == 0

    poll(processed, "inputs processing")
    assert api("GetInputsAddJob", id=job_id).inputs_add_job.progress.failed_count == 0


def train_request(dataset_id: str, concepts: list[str], **params: Any) -> R.ModelVersion:
    return R.ModelVersion(
        train_info=R.TrainInfo(params=struct(dataset_id=dataset_id, **params)),
        output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id=c) for c in concepts])),
    )


def wait_version(api: Api, model_id: str, version_id: str) -> list[int]:
    """The statuses a version goes through until training ends (from the one first seen)."""
    seen: list[int] = []

    def done() -> bool:
        version = api("GetModelVersion", model_id=model_id, version_id=version_id).model_version
        if not seen or seen[-1] != version.status.code:
            seen.append(version.status.code)
        return version.status.code in DONE_TRAINING

    poll(done, f"training of {model_id}/{version_id}")
    return seen


def train(api: Api, model_id: str, model_type: str, dataset_id: str = "texts", **params: Any) -> str:
    api("PostModels", models=[R.Model(id=model_id, model_type_id=model_type)])
    version = train_request(dataset_id, list(VOCABULARY), **params)
    version_id: str = api(
        "PostModelVersions", model_id=model_id, model_versions=[version]
    ).model.model_version.id
    assert wait_version(api, model_id, version_id)[-1] == S.MODEL_TRAINED
    return version_id


def predict(api: Api, model_id: str, *inputs: R.Input, expect: int = S.SUCCESS, **fields: Any) -> Any:
    return api("PostModelOutputs", expect, model_id=model_id, inputs=list(inputs), **fields)


def output_config(**config: Any) -> R.Model:
    return R.Model(
        model_version=R.ModelVersion(output_info=R.OutputInfo(output_config=R.OutputConfig(**config)))
    )


def evaluate(api: Api, **metrics: Any) -> R.EvalMetrics:
    evaluation_id = api("PostEvaluations", eval_metrics=[R.EvalMetrics(**metrics)]).eval_metrics[0].id

    def done() -> R.EvalMetrics | None:
        found: R.EvalMetrics = api("GetEvaluation", evaluation_id=evaluation_id).eval_metrics
        return found if found.status.code in DONE_EVALUATING else None

    finished: R.EvalMetrics = poll(done, f"evaluation {evaluation_id}")
    return finished


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, user_id=USER, content_dirs=[tempfile.gettempdir()]) as emu:
        emu.clarifai.train_delay = 0.02
        yield emu


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[service_pb2_grpc.V2Stub]:
    with grpc.insecure_channel(emulator.address) as channel:
        yield service_pb2_grpc.V2Stub(channel)


@pytest.fixture(scope="module")
def user(stub: service_pb2_grpc.V2Stub) -> Api:
    return Api(stub, R.UserAppIDSet(user_id=USER))


@pytest.fixture(scope="module")
def public(stub: service_pb2_grpc.V2Stub) -> Api:
    """Clarifai's public models (user clarifai, app main)."""
    return Api(stub, PUBLIC)


def new_app(user: Api, app_id: str) -> Api:
    user("PostApps", apps=[R.App(id=app_id)])
    return user.at(R.UserAppIDSet(user_id=USER, app_id=app_id))


@pytest.fixture
def api(user: Api, request: pytest.FixtureRequest) -> Api:
    """Calls in a fresh app named after the test."""
    return new_app(user, request.node.name[:60])


@pytest.fixture(scope="module")
def trained(user: Api) -> Api:
    """An app with the labelled texts (dataset "texts") and trained models: "clf" (text-classifier,
    LogisticRegression), "centroid" (text-classifier, NearestCentroid) and "emb-clf"
    (embedding-classifier)."""
    api = new_app(user, "trained")
    api("PostDatasets", datasets=[R.Dataset(id="texts")])
    upload(api, labelled_texts("texts"))
    train(api, "clf", "text-classifier", template="LogisticRegression")
    train(api, "centroid", "text-classifier", template="NearestCentroid", sharpness=20)
    train(api, "emb-clf", "embedding-classifier")
    return api


# -- model types -----------------------------------------------------------------------------------


def sdk_templates(response: Any, model_type_id: str) -> list[str]:
    """clarifai.utils.model_train.response_to_templates, as the published SDK does it."""
    templates: list[str] = []
    for model_type in MessageToDict(response)["modelTypes"]:
        if model_type["id"] == model_type_id:
            for field in model_type["modelTypeFields"]:
                if field["path"].split(".")[-1] == "template":
                    templates = [t["id"] for t in field["modelTypeEnumOptions"]]
    return templates


def sdk_params(response: Any, model_type_id: str, template: str | None) -> dict[str, Any]:
    """The core of clarifai.utils.model_train.response_to_model_params."""
    params: dict[str, Any] = {"train_params": {}}
    for model_type in MessageToDict(response)["modelTypes"]:
        if model_type["id"] != model_type_id:
            continue
        for field in model_type["modelTypeFields"]:
            path = field["path"].split(".")
            if path[1] in ("dataset", "data") or path[-1] in ("dataset_id", "dataset_version_id"):
                continue
            if "internalOnly" in field:
                continue
            if path[-1] != "template":
                if path[0] == "train_info":
                    params["train_params"][path[-1]] = field["defaultValue"]
                if path[0] == "output_info":
                    params["inference_params"] = {path[-1]: field["defaultValue"]}
                if path[:2] == ["output_info", "output_config"]:
                    params["concepts_mutually_exclusive"] = field["defaultValue"]
                assert field["placeholder"]  # get_param_info deletes it: it must be there
            else:
                options = {o["id"]: o for o in field["modelTypeEnumOptions"]}
                assert template in options
                params["train_params"]["template"] = template
                for option_field in options[template]["modelTypeFields"]:
                    assert option_field["placeholder"] and option_field["description"]
                    params["train_params"][option_field["path"].split(".")[-1]] = option_field["defaultValue"]
    return params


def test_model_types_parse_like_the_published_sdk(user: Api, public: Api) -> None:
    response = user("ListModelTypes")
    types = {t.id: t for t in response.model_types}
    assert {"text-embedder", "visual-embedder", "text-classifier", "visual-classifier"} <= set(types)
    assert not types["text-embedder"].trainable and types["text-classifier"].trainable
    assert list(types["visual-embedder"].input_fields) == ["image"]
    for type_id in ("text-classifier", "visual-classifier"):
        assert sdk_templates(response, type_id) == ["NearestCentroid", "LogisticRegression"]
    params = sdk_params(response, "text-classifier", "LogisticRegression")
    assert params["train_params"] == {
        "template": "LogisticRegression",
        "learning_rate": 2.0,
        "epochs": 300.0,
        "l2": 0.0001,
        "balanced": True,
    }
    assert params["inference_params"] == {"temperature": 1.0}
    assert params["concepts_mutually_exclusive"] is False
    assert sdk_params(response, "visual-classifier", "NearestCentroid")["train_params"] == {
        "template": "NearestCentroid",
        "sharpness": 10.0,
    }
    assert sdk_templates(response, "embedding-classifier") == []  # the SDK forbids a template for it
    assert set(sdk_params(response, "embedding-classifier", None)["train_params"]) == {
        "learning_rate",
        "epochs",
        "l2",
        "balanced",
    }
    got = public("GetModelType", model_type_id="text-classifier").model_type  # any user_app_id works
    assert got == types["text-classifier"]
    user("GetModelType", S.CONN_DOES_NOT_EXIST, model_type_id="visual-teleporter")


# -- Clarifai's public models ----------------------------------------------------------------------


def test_public_models_are_readable_by_any_key(public: Api, api: Api) -> None:
    models = {m.id: m for m in public("ListModels").models}
    assert set(models) == {
        "general-text-embedding",
        "general-image-embedding",
        "general-image-recognition",
        "general-text-classification",
    }
    recognition = public("GetModel", model_id="general-image-recognition").model
    assert (recognition.user_id, recognition.app_id) == ("clarifai", "main")
    assert recognition.model_version.id == "aa7f35c01e0642fda5cf400f543e7c40"
    assert recognition.model_version.status.code == S.MODEL_TRAINED
    versions = public("ListModelVersions", model_id="general-image-recognition").model_versions
    assert [v.id for v in versions] == [recognition.model_version.id]
    api("GetModel", S.MODEL_DOES_NOT_EXIST, model_id="general-image-recognition")  # not in the app
    public("PostModels", S.CONN_INSUFFICIENT_SCOPES, models=[R.Model(id="mine")])  # read-only


def test_public_embedders_output_the_search_vectors(public: Api) -> None:
    sentence = "a quiet walk along the river"
    answer = predict(public, "general-text-embedding", text_input(sentence, "t1"), text_input("second"))
    first = answer.outputs[0]
    assert (first.input.id, first.model.id, first.model.user_id) == (
        "t1",
        "general-text-embedding",
        "clarifai",
    )
    assert first.model.model_version.id and first.id and first.HasField("created_at")
    assert answer.outputs[1].input.id  # generated
    embedding = first.data.embeddings[0]
    assert embedding.num_dimensions == 512
    np.testing.assert_allclose(embedding.vector, embed_text(sentence), atol=1e-6)
    picture = png((30, 120, 200))
    image = predict(public, "general-image-embedding", image_input(picture)).outputs[0].data.embeddings[0]
    assert image.num_dimensions == 256
    np.testing.assert_allclose(image.vector, embed_image(picture), atol=1e-6)


def test_public_image_recognition_names_colours(public: Api) -> None:
    colours = [png((220, 20, 20)), png((20, 40, 210)), png((250, 250, 250)), png((5, 5, 5))]
    outputs = predict(public, "general-image-recognition", *map(image_input, colours)).outputs
    hues = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink")
    assert [max(hues, key=concepts_of(o).__getitem__) for o in outputs[:2]] == ["red", "blue"]
    assert concepts_of(outputs[0])["red"] > 0.9 and concepts_of(outputs[0])["colorful"] > 0.9
    white, black = concepts_of(outputs[2]), concepts_of(outputs[3])
    assert white["white"] > 0.9 and white["bright"] > 0.9 and white["monochrome"] > 0.9
    assert black["black"] > 0.9 and black["dark"] > 0.9
    assert all(0.0 <= c.value <= 1.0 for o in outputs for c in o.data.concepts)
    values = [c.value for c in outputs[0].data.concepts]
    assert values == sorted(values, reverse=True)


def test_output_config_selects_concepts(public: Api) -> None:
    red = image_input(png((220, 20, 20)))

    def names(**config: Any) -> list[str]:
        output = predict(public, "general-image-recognition", red, model=output_config(**config)).outputs[0]
        return [c.name for c in output.data.concepts]

    assert len(names()) == 15
    assert names(max_concepts=2) == ["colorful", "red"]
    assert set(names(min_value=0.5)) == {"colorful", "red", "dark"}
    # select_concepts returns exactly those, even below min_value.
    assert set(names(min_value=0.5, select_concepts=[R.Concept(name="blue"), R.Concept(id="red")])) == {
        "blue",
        "red",
    }


def test_public_text_classification_reads_sentiment_and_topic(public: Api) -> None:
    texts = [
        "I love this, the food was great and delicious",
        "a terrible, awful experience",
        "the meeting is on tuesday",
        "the football match was not good",
    ]
    outputs = predict(public, "general-text-classification", *map(text_input, texts)).outputs
    sentiment = [max(("positive", "negative", "neutral"), key=concepts_of(o).__getitem__) for o in outputs]
    assert sentiment == ["positive", "negative", "neutral", "negative"]
    assert concepts_of(outputs[0])["food"] > 0.5 and concepts_of(outputs[3])["sports"] > 0.3


def test_predict_failures_are_per_input(public: Api, tmp_path: Path) -> None:
    picture = tmp_path / "blue.png"
    picture.write_bytes(png((20, 40, 210)))
    answer = predict(
        public,
        "general-image-recognition",
        R.Input(data=R.Data(image=R.Image(url=picture.as_uri()))),
        R.Input(data=R.Data(image=R.Image(url="http://example.com/cat.png"))),  # refused: not loopback
        image_input(b"not an image"),
        text_input("words for an image model"),
        expect=S.MIXED_STATUS,
    )
    assert concepts_of(answer.outputs[0])["blue"] > 0.9
    codes = [o.status.code for o in answer.outputs[1:]]
    assert codes == [S.INPUT_DOWNLOAD_FAILED, S.INPUT_DOWNLOAD_FAILED, S.INPUT_UNSUPPORTED_FORMAT]
    assert "example.com" in answer.outputs[1].status.details
    assert all(not o.data.concepts for o in answer.outputs[1:])
    predict(public, "general-image-recognition", text_input("x"), expect=S.FAILURE)
    too_many = [text_input(str(i)) for i in range(129)]
    predict(public, "general-text-embedding", *too_many, expect=S.PREDICT_INVALID_REQUEST)
    predict(public, "general-text-embedding", expect=S.PREDICT_INVALID_REQUEST)
    predict(public, "no-such-model", text_input("x"), expect=S.MODEL_DOES_NOT_EXIST)


# -- training and predicting -----------------------------------------------------------------------


def test_training_moves_through_its_statuses(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="texts")])
    upload(api, labelled_texts("texts"))
    api("PostModels", models=[R.Model(id="clf", model_type_id="text-classifier")])
    version = train_request("texts", list(VOCABULARY), template="NearestCentroid")
    version.description = "first try"
    version.output_info.params.update({"temperature": 0.5})
    made = api("PostModelVersions", model_id="clf", model_versions=[version]).model
    queued = made.model_version
    assert queued.status.code == S.MODEL_QUEUED_FOR_TRAINING and queued.description == "first try"
    assert queued.train_info.params["template"] == "NearestCentroid"
    assert queued.train_info.params["sharpness"] == 10.0  # defaults are filled in
    assert [c.name for c in queued.output_info.data.concepts] == list(VOCABULARY)
    assert wait_version(api, "clf", queued.id)[-2:] == [S.MODEL_TRAINING, S.MODEL_TRAINED]
    trained = api("GetModel", model_id="clf").model.model_version
    assert trained.id == queued.id and trained.status.code == S.MODEL_TRAINED
    held = sum(held_out(i.id) for i in labelled_texts("texts"))
    assert trained.total_input_count == 30 - held and trained.active_concept_count == 3
    assert trained.output_info.params["temperature"] == 0.5  # stored as the inference default
    assert trained.HasField("completed_at")


def test_trained_classifiers_predict_clear_examples(trained: Api) -> None:
    probes = [text_input(CLEAR[c], f"probe-{c}") for c in VOCABULARY]
    for model_id in ("clf", "centroid", "emb-clf"):
        outputs = predict(trained, model_id, *probes).outputs
        assert [top(o) for o in outputs] == list(VOCABULARY), model_id
        assert [o.input.id for o in outputs] == [p.id for p in probes]
        assert {c.name for c in outputs[0].data.concepts} == set(VOCABULARY)
    sports = predict(trained, "clf", probes[0]).outputs[0]
    assert concepts_of(sports)["sports"] > 0.5
    only = predict(trained, "clf", probes[0], model=output_config(max_concepts=1)).outputs[0]
    assert [c.id for c in only.data.concepts] == ["sports"]
    confident = predict(trained, "clf", probes[0], model=output_config(min_value=0.5)).outputs[0]
    assert [c.id for c in confident.data.concepts] == ["sports"]
    chosen = output_config(min_value=0.99, select_concepts=[R.Concept(id="food")])
    assert [c.id for c in predict(trained, "clf", probes[0], model=chosen).outputs[0].data.concepts] == [
        "food"
    ]


def test_temperature_is_an_inference_param(trained: Api) -> None:
    probe = text_input(CLEAR["sports"])

    def sports_score(temperature: float) -> float:
        override = R.Model(
            model_version=R.ModelVersion(output_info=R.OutputInfo(params=struct(temperature=temperature)))
        )
        return concepts_of(predict(trained, "clf", probe, model=override).outputs[0])["sports"]

    assert sports_score(0.5) > sports_score(1.0) > sports_score(4.0) > 0.5
    bad = R.Model(model_version=R.ModelVersion(output_info=R.OutputInfo(params=struct(temperature=-1))))
    predict(trained, "clf", probe, model=bad, expect=S.MODEL_INVALID_ARGUMENT)


def test_versions_list_newest_first_and_pick_what_predicts(trained: Api) -> None:
    clf = trained("GetModel", model_id="clf").model
    described = trained(
        "PostModelVersions",
        model_id="clf",
        model_versions=[R.ModelVersion(id="notes", description="notes only")],
    ).model.model_version
    assert described.status.code == S.MODEL_UNTRAINED  # a classifier version without training
    listed = trained("ListModelVersions", model_id="clf").model_versions
    assert [v.id for v in listed] == ["notes", clf.model_version.id]
    assert [
        v.id for v in trained("ListModelVersions", model_id="clf", per_page=1, page=2).model_versions
    ] == [clf.model_version.id]
    assert [v.id for v in trained("ListModelVersions", model_id="clf", trained_only=True).model_versions] == [
        clf.model_version.id
    ]
    assert trained("GetModel", model_id="clf").model.model_version.id == "notes"  # the newest
    got = trained("GetModel", model_id="clf", version_id=clf.model_version.id).model.model_version
    assert got.status.code == S.MODEL_TRAINED
    probe = text_input(CLEAR["food"])
    assert top(predict(trained, "clf", probe).outputs[0]) == "food"  # the newest trained version
    untrained = predict(trained, "clf", probe, version_id="notes", expect=S.MODEL_UNTRAINED)
    assert "not trained" in untrained.status.details
    trained("DeleteModelVersion", model_id="clf", version_id="notes")
    trained("GetModelVersion", S.MODEL_DOES_NOT_EXIST, model_id="clf", version_id="notes")
    trained("DeleteModelVersion", S.MODEL_DOES_NOT_EXIST, model_id="clf", version_id="notes")


def test_training_on_a_dataset_version_uses_its_snapshot(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="texts")])
    upload(api, labelled_texts("texts", per_concept=6))
    api("PostDatasetVersions", dataset_id="texts", dataset_versions=[R.DatasetVersion(id="v1")])
    upload(api, [i for i in labelled_texts("texts") if int(i.id.split("-")[1]) >= 6])  # not in v1
    api("PostModels", models=[R.Model(id="clf", model_type_id="text-classifier")])
    version = train_request("texts", list(VOCABULARY), dataset_version_id="v1")
    version_id = api("PostModelVersions", model_id="clf", model_versions=[version]).model.model_version.id
    assert wait_version(api, "clf", version_id)[-1] == S.MODEL_TRAINED
    snapshot = [i.id for i in labelled_texts("texts", per_concept=6)]
    trained = api("GetModelVersion", model_id="clf", version_id=version_id).model_version
    assert trained.total_input_count == sum(not held_out(i) for i in snapshot)
    assert top(predict(api, "clf", text_input(CLEAR["tech"])).outputs[0]) == "tech"
    missing = train_request("texts", list(VOCABULARY), dataset_version_id="v9")
    version_id = api("PostModelVersions", model_id="clf", model_versions=[missing]).model.model_version.id
    assert wait_version(api, "clf", version_id)[-1] == S.MODEL_TRAINING_FAILED


def test_visual_classifier_learns_from_images(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="pictures")])
    shades = {"warm": [(230 - 8 * i, 40 + 9 * i, 30) for i in range(10)]}
    shades["cool"] = [(30, 60 + 9 * i, 230 - 8 * i) for i in range(10)]
    upload(
        api,
        [
            R.Input(
                id=f"{label}-{i}",
                dataset_ids=["pictures"],
                data=R.Data(image=R.Image(base64=png(colour)), concepts=[R.Concept(id=label, value=1.0)]),
            )
            for label, colours in shades.items()
            for i, colour in enumerate(colours)
        ],
    )
    api("PostModels", models=[R.Model(id="look", model_type_id="visual-classifier")])
    version = train_request("pictures", ["warm", "cool"], template="NearestCentroid")
    version.output_info.output_config.concepts_mutually_exclusive = True
    version_id = api("PostModelVersions", model_id="look", model_versions=[version]).model.model_version.id
    assert wait_version(api, "look", version_id)[-1] == S.MODEL_TRAINED
    outputs = predict(api, "look", image_input(png((250, 70, 20))), image_input(png((20, 90, 250)))).outputs
    assert [top(o) for o in outputs] == ["warm", "cool"]
    assert sum(concepts_of(outputs[0]).values()) == pytest.approx(1.0)  # mutually exclusive: a softmax
    assert predict(api, "look", text_input("warm"), expect=S.FAILURE).outputs[0].status.code == (
        S.INPUT_UNSUPPORTED_FORMAT
    )


def test_training_failures(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="texts")])
    upload(api, labelled_texts("texts"))
    api("PostConcepts", concepts=[R.Concept(id="unused")])
    api("PostModels", models=[R.Model(id="clf", model_type_id="text-classifier")])

    def failed(version: R.ModelVersion) -> str:
        version_id = api("PostModelVersions", model_id="clf", model_versions=[version]).model.model_version.id
        assert wait_version(api, "clf", version_id)[-1] == S.MODEL_TRAINING_FAILED
        return str(api("GetModelVersion", model_id="clf", version_id=version_id).model_version.status.details)

    assert "no positive examples for concept 'unused'" in failed(train_request("texts", ["sports", "unused"]))
    assert "dataset 'missing' does not exist" in failed(train_request("missing", ["sports"]))
    api("PostDatasets", datasets=[R.Dataset(id="empty")])
    assert "no successfully processed text inputs" in failed(train_request("empty", ["sports"]))
    # With no trained version, predicting reports the newest version's status.
    predict(api, "clf", text_input("x"), expect=S.MODEL_TRAINING_FAILED)

    def refused(model_id: str, version: R.ModelVersion, code: int = S.MODEL_INVALID_ARGUMENT) -> str:
        return str(api("PostModelVersions", code, model_id=model_id, model_versions=[version]).status.details)

    assert "template 'Magic' is unknown" in refused(
        "clf", train_request("texts", ["sports"], template="Magic")
    )
    assert "epochs" in refused("clf", train_request("texts", ["sports"], epochs=0))
    assert "unknown train_info.params 'sharpness'" in refused(
        "clf", train_request("texts", ["sports"], template="LogisticRegression", sharpness=3)
    )
    assert "'nope' does not exist" in refused("clf", train_request("texts", ["nope"]))
    # Without dataset_id a version trains on the app's labelled inputs (see the test below), but a
    # dataset version needs its dataset.
    assert "needs train_info.params.dataset_id" in refused(
        "clf", train_request("", ["sports"], dataset_version_id="v1")
    )
    refused("ghost", train_request("texts", ["sports"]), S.MODEL_DOES_NOT_EXIST)
    api("PostModels", models=[R.Model(id="embedder", model_type_id="text-embedder")])
    assert "cannot be trained" in refused("embedder", train_request("texts", ["sports"]))


def test_training_without_a_dataset_uses_the_apps_labelled_inputs(api: Api) -> None:
    # No dataset: sports and food are labelled by input-level concepts, tech by annotations only.
    texts = labelled_texts("unused")
    tech = [i.id for i in texts if i.id.startswith("tech-")]
    for item in texts:
        item.ClearField("dataset_ids")
        if item.id in tech:
            item.data.ClearField("concepts")
    negative = text_input("cook the bread", "negative", concepts=[R.Concept(id="food", value=0.0)])
    upload(api, [*texts, negative, text_input("nothing to see here", "plain")])
    api(
        "PostAnnotations",
        annotations=[
            R.Annotation(input_id=i, data=R.Data(concepts=[R.Concept(id="tech", value=1.0)])) for i in tech
        ],
    )
    labelled = [i.id for i in texts]
    concepts = R.OutputInfo(
        data=R.Data(concepts=[R.Concept(id=c) for c in VOCABULARY]),
        output_config=R.OutputConfig(concepts_mutually_exclusive=True),
    )
    api("PostModels", models=[R.Model(id="clf", model_type_id="text-classifier", output_info=concepts)])

    # A bare version (what legacy Model.train sends, minus the concepts) learns the model's concepts.
    made = api("PostModelVersions", model_id="clf", description="from labels").model.model_version
    assert made.status.code == S.MODEL_QUEUED_FOR_TRAINING
    assert [c.id for c in made.output_info.data.concepts] == list(VOCABULARY)
    assert made.output_info.output_config.concepts_mutually_exclusive  # the model's, too
    assert "dataset_id" not in made.train_info.params and made.train_info.params["template"]
    assert wait_version(api, "clf", made.id)[-2:] == [S.MODEL_TRAINING, S.MODEL_TRAINED]
    version = api("GetModelVersion", model_id="clf", version_id=made.id).model_version
    assert version.total_input_count == sum(not held_out(i) for i in labelled)  # the same split
    assert version.active_concept_count == 3
    outputs = predict(api, "clf", *(text_input(CLEAR[c]) for c in VOCABULARY)).outputs
    assert [top(o) for o in outputs] == list(VOCABULARY)
    assert sum(concepts_of(outputs[0]).values()) == pytest.approx(1.0)  # mutually exclusive
    listed = api("ListModelInputs", model_id="clf", version_id=made.id, per_page=100).inputs
    assert sorted(i.id for i in listed) == sorted(labelled)  # held-out ones included; not "negative"
    # Its evaluation uses the held-out split of those inputs.
    finished = evaluate(api, model=R.Model(id="clf", model_version=R.ModelVersion(id=made.id)))
    assert finished.status.code == S.MODEL_EVALUATED, finished.status
    full = api("GetEvaluation", evaluation_id=finished.id, fields=ALL_FIELDS).eval_metrics
    assert sorted(e.input.id for e in full.test_set) == sorted(i for i in labelled if held_out(i))
    truth = {e.input.id: [c.id for c in e.ground_truth_concepts] for e in full.test_set}
    assert all(
        concepts == [input_id.split("-")[0]] for input_id, concepts in truth.items()
    )  # annotations too
    assert any(input_id.startswith("tech-") for input_id in truth)

    # The version's own concepts win over the model's; an empty dataset_id is no dataset.
    version = R.ModelVersion(
        train_info=R.TrainInfo(params=struct(dataset_id="", template="NearestCentroid")),
        output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id="sports"), R.Concept(id="tech")])),
    )
    two = api("PostModelVersions", model_id="clf", model_versions=[version]).model.model_version
    assert wait_version(api, "clf", two.id)[-1] == S.MODEL_TRAINED
    got = api("GetModelVersion", model_id="clf", version_id=two.id).model_version
    used = [i for i in labelled if not i.startswith("food-")]
    assert (got.active_concept_count, got.total_input_count) == (2, sum(not held_out(i) for i in used))
    assert not got.output_info.output_config.concepts_mutually_exclusive  # it set its own (none)
    assert top(predict(api, "clf", text_input(CLEAR["tech"]), version_id=two.id).outputs[0]) == "tech"

    # The failure reasons of dataset training.
    api("PostConcepts", concepts=[R.Concept(id="unused")])

    def failed(model_id: str, *concept_ids: str) -> str:
        version = R.ModelVersion(
            output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id=c) for c in concept_ids]))
        )
        version_id = api(
            "PostModelVersions", model_id=model_id, model_versions=[version]
        ).model.model_version.id
        assert wait_version(api, model_id, version_id)[-1] == S.MODEL_TRAINING_FAILED
        return str(
            api("GetModelVersion", model_id=model_id, version_id=version_id).model_version.status.details
        )

    assert "no positive examples for concept 'unused' in app" in failed("clf", "sports", "unused")
    api("PostModels", models=[R.Model(id="look", model_type_id="visual-classifier")])
    assert "no successfully processed image inputs to train on" in failed("look", "food")
    refused = api(
        "PostModelVersions",
        S.MODEL_INVALID_ARGUMENT,
        model_id="clf",
        model_versions=[
            R.ModelVersion(output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id="nope")])))
        ],
    )
    assert "'nope' does not exist" in refused.status.details
    # A model without concepts: a bare version has nothing to learn; params without concepts are refused.
    api("PostModels", models=[R.Model(id="blank", model_type_id="embedding-classifier")])
    bare = api("PostModelVersions", model_id="blank").model.model_version
    assert bare.status.code == S.MODEL_UNTRAINED and not bare.train_info.params.fields
    no_concepts = R.ModelVersion(train_info=R.TrainInfo(params=struct(epochs=5)))
    assert (
        "list the concepts"
        in api(
            "PostModelVersions", S.MODEL_INVALID_ARGUMENT, model_id="blank", model_versions=[no_concepts]
        ).status.details
    )


def test_untrained_models_and_embedder_versions(api: Api) -> None:
    api("PostModels", models=[R.Model(id="clf", model_type_id="text-classifier")])
    missing = predict(api, "clf", text_input("x"), expect=S.MODEL_UNTRAINED)
    assert "no version" in missing.status.details
    api("PostModels", models=[R.Model(id="embedder", model_type_id="text-embedder")])
    made = api("PostModelVersions", model_id="embedder", description="pretrained").model.model_version
    assert made.status.code == S.MODEL_TRAINED and made.description == "pretrained"
    vector = predict(api, "embedder", text_input("hello")).outputs[0].data.embeddings[0].vector
    np.testing.assert_allclose(vector, embed_text("hello"), atol=1e-6)
    api("PostModels", models=[R.Model(id="llm", model_type_id="text-to-text")])
    api("PostModelVersions", model_id="llm")
    assert "runner" in predict(api, "llm", text_input("hi"), expect=S.MODEL_NOT_DEPLOYED).status.details
    api("DeleteModels", ids=["embedder"])
    api("GetModelVersion", S.MODEL_DOES_NOT_EXIST, model_id="embedder", version_id=made.id)


# -- evaluations -----------------------------------------------------------------------------------


def test_evaluation_on_the_held_out_split(trained: Api) -> None:
    version_id = trained("GetModel", model_id="clf").model.model_version.id
    model = R.Model(id="clf", model_version=R.ModelVersion(id=version_id))
    queued = trained(
        "PostEvaluations", eval_metrics=[R.EvalMetrics(id="held-out", model=model)]
    ).eval_metrics[0]
    assert queued.status.code == S.MODEL_QUEUED_FOR_EVALUATION
    seen: list[int] = []

    def done() -> bool:
        code = trained("GetEvaluation", evaluation_id="held-out").eval_metrics.status.code
        if not seen or seen[-1] != code:
            seen.append(code)
        return code in DONE_EVALUATING

    poll(done, "evaluation")
    assert seen[-2:] == [S.MODEL_EVALUATING, S.MODEL_EVALUATED]
    summary_only = trained("GetEvaluation", evaluation_id="held-out").eval_metrics
    assert summary_only.summary.top1_accuracy >= 0.8 and summary_only.summary.macro_avg_roc_auc >= 0.8
    assert not summary_only.confusion_matrix.matrix and not summary_only.test_set
    assert not summary_only.binary_metrics and not summary_only.label_counts.positive_label_counts
    full = trained("GetEvaluation", evaluation_id="held-out", fields=ALL_FIELDS).eval_metrics
    test_size = sum(held_out(i.id) for i in labelled_texts("texts"))
    assert len(full.test_set) == test_size
    assert sum(e.value for e in full.confusion_matrix.matrix) == pytest.approx(test_size)
    assert len(full.confusion_matrix.matrix) == 9 and list(full.confusion_matrix.concept_ids) == list(
        VOCABULARY
    )
    assert sum(c.count for c in full.label_counts.positive_label_counts) == test_size
    for metrics in full.binary_metrics:
        assert 0.0 <= metrics.roc_auc <= 1.0 and 0.0 <= metrics.f1 <= 1.0
        assert metrics.num_tot == test_size == metrics.num_pos + metrics.num_neg
        assert list(metrics.roc_curve.tpr) and list(metrics.precision_recall_curve.precision)
    by_class = {m.concept.id: m for m in full.metrics_by_class}
    assert set(by_class) == set(VOCABULARY)
    assert all(0.0 <= m.precision_recall_curve.recall[0] <= 1.0 for m in by_class.values())
    entry = full.test_set[0]
    assert held_out(entry.input.id) and entry.input.data.text.raw
    assert [c.id for c in entry.ground_truth_concepts] == [entry.input.id.split("-")[0]]
    assert len(entry.predicted_concepts) == 3
    only_confusion = trained(
        "GetEvaluation", evaluation_id="held-out", fields=R.FieldsValue(confusion_matrix=True)
    ).eval_metrics
    assert only_confusion.confusion_matrix.matrix and not only_confusion.test_set
    listed = trained("ListModelVersionEvaluations", model_id="clf", model_version_id=version_id).eval_metrics
    assert [e.id for e in listed] == ["held-out"] and not listed[0].test_set
    trained(
        "PostEvaluations",
        S.EVALUATION_INVALID_ARGUMENT,
        eval_metrics=[R.EvalMetrics(id="held-out", model=model)],
    )


def test_evaluation_against_a_ground_truth_dataset(trained: Api) -> None:
    trained("PostDatasets", datasets=[R.Dataset(id="truth")])
    upload(
        trained,
        [
            R.Input(
                id=f"truth-{c}",
                dataset_ids=["truth"],
                data=R.Data(text=R.Text(raw=CLEAR[c]), concepts=[R.Concept(id=c, value=1.0)]),
            )
            for c in VOCABULARY
        ],
    )
    dataset = R.Dataset(id="truth", app_id="trained", user_id=USER)
    finished = evaluate(
        trained, model=R.Model(id="emb-clf"), ground_truth_dataset=dataset
    )  # newest trained version
    assert finished.status.code == S.MODEL_EVALUATED, finished.status
    assert finished.summary.top1_accuracy == 1.0 and finished.ground_truth_dataset.id == "truth"
    full = trained("GetEvaluation", evaluation_id=finished.id, fields=ALL_FIELDS).eval_metrics
    assert sorted(e.input.id for e in full.test_set) == sorted(f"truth-{c}" for c in VOCABULARY)
    failed = evaluate(trained, model=R.Model(id="clf"), ground_truth_dataset=R.Dataset(id="nowhere"))
    assert failed.status.code == S.MODEL_EVALUATION_FAILED and "does not exist" in failed.status.details
    trained("PostModels", models=[R.Model(id="blank", model_type_id="text-classifier")])
    trained(
        "PostEvaluations", S.MODEL_INVALID_ARGUMENT, eval_metrics=[R.EvalMetrics(model=R.Model(id="blank"))]
    )


# -- workflows -------------------------------------------------------------------------------------


def test_workflow_chains_an_embedder_into_a_classifier(trained: Api) -> None:
    embed = R.WorkflowNode(
        id="embed", model=R.Model(id="general-text-embedding", user_id="clarifai", app_id="main")
    )
    classify = R.WorkflowNode(
        id="classify", model=R.Model(id="emb-clf"), node_inputs=[R.NodeInput(node_id="embed")]
    )
    sentiment = R.WorkflowNode(
        id="sentiment", model=R.Model(id="general-text-classification", user_id="clarifai", app_id="main")
    )
    made = trained(
        "PostWorkflows", workflows=[R.Workflow(id="wf", nodes=[classify, embed, sentiment])]
    ).workflows[0]
    versions = trained("ListWorkflowVersions", workflow_id="wf").workflow_versions
    assert [v.id for v in versions] == [made.version.id] and [n.id for n in versions[0].nodes] == [
        "classify",
        "embed",
        "sentiment",
    ]
    probes = [text_input(CLEAR["tech"], "p1"), text_input("I love a great pizza dinner", "p2")]
    answer = trained("PostWorkflowResults", workflow_id="wf", inputs=probes)
    assert answer.workflow.id == "wf" and len(answer.results) == 2
    first = answer.results[0]
    assert first.status.code == S.SUCCESS and first.input.id == "p1"
    assert [o.model.id for o in first.outputs] == [
        "general-text-embedding",
        "emb-clf",
        "general-text-classification",
    ]
    assert first.outputs[0].data.embeddings[0].num_dimensions == 512
    assert top(first.outputs[1]) == "tech"
    direct = predict(trained, "emb-clf", text_input(CLEAR["tech"])).outputs[0]
    assert concepts_of(first.outputs[1]) == pytest.approx(concepts_of(direct))  # it read the embedding
    mood = concepts_of(answer.results[1].outputs[2])
    assert mood["positive"] > max(mood["negative"], mood["neutral"])
    pinned = trained("PostWorkflowResults", workflow_id="wf", version_id=made.version.id, inputs=probes[:1])
    assert len(pinned.results[0].outputs) == 3
    strict = trained(
        "PostWorkflowResults",
        workflow_id="wf",
        inputs=probes[:1],
        output_config=R.OutputConfig(min_value=0.5),
    )
    assert all(c.value >= 0.5 for o in strict.results[0].outputs for c in o.data.concepts)
    assert [c.id for c in strict.results[0].outputs[1].data.concepts] == ["tech"]
    many = [text_input(str(i)) for i in range(33)]
    trained("PostWorkflowResults", S.WORKFLOW_INVALID_REQUEST, workflow_id="wf", inputs=many)
    trained("PostWorkflowResults", S.WORKFLOW_DOES_NOT_EXIST, workflow_id="nope", inputs=probes)


def test_workflow_checks_its_graph_and_models(trained: Api) -> None:
    loop = [
        R.WorkflowNode(id="a", model=R.Model(id="clf"), node_inputs=[R.NodeInput(node_id="b")]),
        R.WorkflowNode(id="b", model=R.Model(id="clf"), node_inputs=[R.NodeInput(node_id="a")]),
    ]
    trained("PostWorkflows", S.WORKFLOW_INVALID_GRAPH, workflows=[R.Workflow(id="loop", nodes=loop)])
    trained("PostModels", models=[R.Model(id="untrained", model_type_id="text-classifier")])
    node = R.WorkflowNode(id="n", model=R.Model(id="untrained"))
    trained("PostWorkflows", workflows=[R.Workflow(id="needs-training", nodes=[node])])
    refused = trained(
        "PostWorkflowResults",
        S.WORKFLOW_REQUIRE_TRAINED_MODEL,
        workflow_id="needs-training",
        inputs=[text_input("x")],
    )
    assert "node 'n'" in refused.status.details
    ghost = R.WorkflowNode(id="g", model=R.Model(id="ghost"))
    unknown = trained(
        "PostWorkflows", S.MODEL_DOES_NOT_EXIST, workflows=[R.Workflow(id="ghostly", nodes=[ghost])]
    )
    assert "node 'g'" in unknown.status.details  # nodes name existing models
    trained("PostModels", models=[R.Model(id="ghost", model_type_id="text-classifier")])
    trained("PostWorkflows", workflows=[R.Workflow(id="ghostly", nodes=[ghost])])
    trained("DeleteModels", ids=["ghost"])  # gone since the workflow was made: the run says so
    trained("PostWorkflowResults", S.MODEL_DOES_NOT_EXIST, workflow_id="ghostly", inputs=[text_input("x")])
    mixed = R.WorkflowNode(
        id="see", model=R.Model(id="general-image-recognition", user_id="clarifai", app_id="main")
    )
    trained("PostWorkflows", workflows=[R.Workflow(id="images", nodes=[mixed])])
    answer = trained(
        "PostWorkflowResults",
        S.MIXED_STATUS,
        workflow_id="images",
        inputs=[image_input(png((0, 200, 0))), text_input("x")],
    )
    assert concepts_of(answer.results[0].outputs[0])["green"] > 0.9
    assert answer.results[1].status.code == S.FAILURE
    trained("DeleteWorkflows", ids=["images"])
    trained("ListWorkflowVersions", S.WORKFLOW_DOES_NOT_EXIST, workflow_id="images")


# -- runner-backed models --------------------------------------------------------------------------


class FakeRunner:
    """A runner on a thread: polls ListRunnerItems and answers each item with the upper-cased text
    of its inputs (or not at all with `answer=False`)."""

    def __init__(self, user: Api, runner_id: str, answer: bool = True) -> None:
        self.user, self.runner_id, self.answer = user, runner_id, answer
        self.items: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> FakeRunner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for item in self.user("ListRunnerItems", runner_id=self.runner_id).runner_items:
                self.items.append(item)
                if self.answer:
                    self.user(
                        "PostRunnerItemOutputs",
                        runner_id=self.runner_id,
                        runner_item_id=item.id,
                        runner_item_outputs=[
                            service_pb2.RunnerItemOutput(multi_output_response=self.respond(item))
                        ],
                    )

    @staticmethod
    def respond(item: Any) -> service_pb2.MultiOutputResponse:
        ok = status_pb2.Status(code=S.SUCCESS)
        outputs = [
            R.Output(
                id=f"out-{i.id}", status=ok, input=i, data=R.Data(text=R.Text(raw=i.data.text.raw.upper()))
            )
            for i in item.post_model_outputs_request.inputs
        ]
        return service_pb2.MultiOutputResponse(status=ok, outputs=outputs)


def until_connected(api: Api, model_id: str, probe: R.Input) -> Any:
    """PostModelOutputs, retried while the runner has not polled yet."""

    def attempt() -> Any:
        response = api.stub.PostModelOutputs(
            service_pb2.PostModelOutputsRequest(user_app_id=api.app, model_id=model_id, inputs=[probe]),
            metadata=(("authorization", f"Key {KEY}"),),
        )
        return None if response.status.code == S.MODEL_NOT_DEPLOYED else response

    return poll(attempt, "a connected runner")


def test_runner_backed_predictions(
    emulator: Emulator, user: Api, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.clarifai, "runner_poll_window", 0.2)
    user("PostRunners", runners=[R.Runner(id="gpu-1")])
    bound = R.Model(id="llm", model_type_id="text-to-text", metadata=struct(runner_id="gpu-1"))
    api("PostModels", models=[bound])
    api("PostModelVersions", model_id="llm", model_versions=[R.ModelVersion(id="v1")])
    nobody = predict(api, "llm", text_input("hi"), expect=S.MODEL_NOT_DEPLOYED)
    assert "no runner is connected for runner 'gpu-1'" in nobody.status.details
    with FakeRunner(user, "gpu-1") as runner:
        answer = until_connected(api, "llm", text_input("hello there", "q1"))
        assert answer.status.code == S.SUCCESS
        assert answer.outputs[0].data.text.raw == "HELLO THERE" and answer.outputs[0].input.id == "q1"
        sent = runner.items[-1].post_model_outputs_request
        assert (sent.model_id, sent.version_id, sent.model.model_version.id) == ("llm", "v1", "v1")
        assert sent.user_app_id.app_id == api.app.app_id
        config = output_config(max_concepts=3)
        predict(api, "llm", text_input("again"), model=config)
        assert (
            runner.items[
                -1
            ].post_model_outputs_request.model.model_version.output_info.output_config.max_concepts
            == 3
        )
        # A model of the app is sent to a runner when the request selects one.
        api("PostModels", models=[R.Model(id="plain", model_type_id="text-to-text")])
        selector = R.RunnerSelector(runner=R.Runner(id="gpu-1"))
        routed = predict(api, "plain", text_input("routed"), runner_selector=selector)
        assert routed.outputs[0].data.text.raw == "ROUTED"
        # Workflows send a runner-backed node's inputs to its runner too.
        api(
            "PostWorkflows",
            workflows=[R.Workflow(id="wf", nodes=[R.WorkflowNode(id="gen", model=R.Model(id="llm"))])],
        )
        result = api("PostWorkflowResults", workflow_id="wf", inputs=[text_input("in a workflow")]).results[0]
        assert result.outputs[0].data.text.raw == "IN A WORKFLOW" and result.outputs[0].model.id == "llm"
    missing = R.RunnerSelector(runner=R.Runner(id="nobody"))
    predict(api, "plain", text_input("x"), runner_selector=missing, expect=S.RUNNER_DOES_NOT_EXIST)
    user("ListRunnerItems", S.RUNNER_DOES_NOT_EXIST, runner_id="nobody")
    assert not user("ListRunnerItems", runner_id="gpu-1").runner_items  # an empty long poll
    user("PostRunnerItemOutputs", S.RUNNER_INVALID_ARGUMENT, runner_id="gpu-1", runner_item_id="unknown")


def test_runner_that_does_not_answer_times_out(
    emulator: Emulator, user: Api, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.clarifai, "runner_poll_window", 0.2)
    user("PostRunners", runners=[R.Runner(id="silent")])
    api("PostModels", models=[R.Model(id="slow", metadata=struct(runner_id="silent"))])
    with FakeRunner(user, "silent", answer=False) as runner:
        # The caller's deadline bounds the wait: the answer arrives just before it.
        answer = poll(lambda: _predict_slow(api, deadline=2.0), "a connected silent runner")
        assert answer.status.code == S.RPC_REQUEST_TIMEOUT and "did not answer" in answer.status.details
        late = runner.items[-1]
        monkeypatch.setattr(emulator.clarifai, "runner_result_timeout", 0.2)  # and so does the emulator's cap
        assert _predict_slow(api, deadline=None).status.code == S.RPC_REQUEST_TIMEOUT
    cancelled = user(
        "PostRunnerItemOutputs",
        S.RUNNER_ITEM_CANCELLED,
        runner_id="silent",
        runner_item_id=late.id,
        runner_item_outputs=[service_pb2.RunnerItemOutput(multi_output_response=FakeRunner.respond(late))],
    )
    assert "stopped waiting" in cancelled.status.details


def _predict_slow(api: Api, deadline: float | None) -> Any:
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=api.app, model_id="slow", inputs=[text_input("anyone?")]
    )
    response = api.stub.PostModelOutputs(
        request, metadata=(("authorization", f"Key {KEY}"),), timeout=deadline
    )
    return None if response.status.code == S.MODEL_NOT_DEPLOYED else response


# -- persistence -----------------------------------------------------------------------------------


def test_models_survive_a_restart_with_a_file_db(tmp_path: Path) -> None:
    db = tmp_path / "models.sqlite"
    app = R.UserAppIDSet(user_id=USER, app_id="kept")
    probe = text_input(CLEAR["food"])
    with Emulator(api_key=KEY, db=db) as emu, grpc.insecure_channel(emu.address) as channel:
        emu.clarifai.train_delay = 0.02
        user = Api(service_pb2_grpc.V2Stub(channel), R.UserAppIDSet(user_id=USER))
        api = new_app(user, "kept")
        api("PostDatasets", datasets=[R.Dataset(id="texts")])
        upload(api, labelled_texts("texts"))
        version_id = train(api, "clf", "text-classifier")
        before = concepts_of(predict(api, "clf", probe).outputs[0])
        evaluation = evaluate(
            api, id="eval", model=R.Model(id="clf", model_version=R.ModelVersion(id=version_id))
        )
        node = R.WorkflowNode(id="n", model=R.Model(id="clf"))
        api("PostWorkflows", workflows=[R.Workflow(id="wf", nodes=[node])])
        emu.clarifai.train_delay = 60.0  # this one is still queued when the emulator stops
        api("PostModels", models=[R.Model(id="later", model_type_id="text-classifier")])
        later = train_request("texts", list(VOCABULARY))
        queued = api("PostModelVersions", model_id="later", model_versions=[later]).model.model_version
        assert queued.status.code == S.MODEL_QUEUED_FOR_TRAINING
    with Emulator(api_key=KEY, db=db) as emu, grpc.insecure_channel(emu.address) as channel:
        api = Api(service_pb2_grpc.V2Stub(channel), app)
        assert api("GetModel", model_id="clf").model.model_version.status.code == S.MODEL_TRAINED
        assert concepts_of(predict(api, "clf", probe).outputs[0]) == pytest.approx(before)
        again = api("GetEvaluation", evaluation_id="eval", fields=ALL_FIELDS).eval_metrics
        assert again.summary == evaluation.summary and len(again.test_set) > 0
        assert len(api("ListWorkflowVersions", workflow_id="wf").workflow_versions) == 1
        assert (
            api("PostWorkflowResults", workflow_id="wf", inputs=[probe]).results[0].outputs[0].data.concepts
        )
        assert wait_version(api, "later", queued.id)[-1] == S.MODEL_TRAINED  # resumed after the restart
        public = api.at(PUBLIC)
        assert len(public("ListModels").models) == 4


def test_text_samples_embed_only_when_a_model_reads_the_vector() -> None:
    from modelwire.emulator.clarifai.predicting import sample_of

    item = R.Input(id="t", data=R.Data(text=R.Text(raw="a quiet morning by the lake")))
    sample = sample_of(item)
    assert sample.kind == "text" and sample.content == b"a quiet morning by the lake"
    assert sample._vector is None  # a concept model reads only the content: no embedding computed
    vector = sample.vector
    assert vector is not None and np.array_equal(vector, embed_text("a quiet morning by the lake"))
    assert sample.vector is vector  # computed once
    image = sample_of(R.Input(id="i", data=R.Data(image=R.Image(base64=png((9, 99, 199))))))
    assert image._vector is not None  # images are embedded up front: that is what validates them
