"""The V2 RPCs that the legacy Clarifai 2.x client maps to (reference Part B §B.4), over a real gRPC
channel to the emulator, driven with the raw generated V2 stub: PatchModels, PostModelsSearches,
ListModelInputs, PostModelVersionMetrics, and the input/concept RPCs legacy calls lean on
(DeleteInputs of many ids, GetInputCount, PatchConcepts, PostConceptsSearches, PostInputsSearches
with the deprecated `Query.ands` terms). Waiting is bounded by attempts, never asserted on time.
"""

from __future__ import annotations

import http.server
import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.message_factory import GetMessageClass
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator import Emulator

KEY = "clarifai-legacy-pat"
USER = "demo"
S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
PUBLIC = R.UserAppIDSet(user_id="clarifai", app_id="main")
BUILTIN_IDS = {
    "general-image-embedding",
    "general-image-recognition",
    "general-text-classification",
    "general-text-embedding",
}
DONE_TRAINING = (S.MODEL_TRAINED, S.MODEL_TRAINING_FAILED)
DONE_EVALUATING = (S.MODEL_EVALUATED, S.MODEL_EVALUATION_FAILED)
VOCABULARY = {
    "sports": "football match goal team player coach stadium league",
    "food": "pizza pasta cheese dinner cook recipe tomato bread",
    "tech": "computer software laptop code bug server keyboard program",
}


class Api:
    """Calls V2 RPCs for one user_app_id through the raw stub with `authorization: Key <key>` and
    checks the status code each answer carries (gRPC itself must answer OK)."""

    def __init__(self, stub: service_pb2_grpc.V2Stub, app: R.UserAppIDSet, key: str = KEY) -> None:
        self.stub, self.app, self.key = stub, app, key

    def at(self, app: R.UserAppIDSet, key: str = KEY) -> Api:
        return Api(self.stub, app, key)

    def __call__(self, method: str, expect: int = S.SUCCESS, **fields: Any) -> Any:
        request: Any = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
        if "user_app_id" not in fields:
            request.user_app_id.CopyFrom(self.app)
        response = getattr(self.stub, method)(request, metadata=(("authorization", f"Key {self.key}"),))
        assert response.status.code == expect, (method, response.status)
        assert response.status.req_id
        return response


def poll(check: Callable[[], Any], what: str, attempts: int = 4000) -> Any:
    """Call `check` until it returns something truthy (bounded by attempts, not by time)."""
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(0.005)
    raise AssertionError(f"gave up waiting for {what}")


def struct(**values: Any) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def concept(concept_id: str, value: float = 1.0, name: str = "") -> R.Concept:
    return R.Concept(id=concept_id, name=name, value=value)


def text(input_id: str, raw: str, *dataset_ids: str, **data: Any) -> R.Input:
    return R.Input(id=input_id, dataset_ids=dataset_ids, data=R.Data(text=R.Text(raw=raw), **data))


def png(*stripes: tuple[tuple[int, int, int], int], size: int = 20) -> bytes:
    """A picture of horizontal stripes: (colour, rows out of `size`) from the top."""
    img = Image.new("RGB", (size, size))
    row = 0
    for colour, rows in stripes:
        img.paste(colour, (0, row, size, row + rows))
        row += rows
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def add(api: Api, inputs: list[R.Input]) -> None:
    """Post inputs in batches of 128 and wait until each batch is processed."""
    for start in range(0, len(inputs), 128):
        job_id = api("PostInputs", inputs=inputs[start : start + 128]).inputs_add_job.id

        def processed(job_id: str = job_id) -> bool:
            progress = api("GetInputsAddJob", id=job_id).inputs_add_job.progress
            return bool(progress.pending_count + progress.in_progress_count == 0)

        poll(processed, "inputs processing")


def labelled_texts(dataset_id: str, per_concept: int = 10) -> list[R.Input]:
    inputs = []
    for concept_id, words in VOCABULARY.items():
        vocabulary = words.split()
        for i in range(per_concept):
            raw = " ".join(vocabulary[(i + k) % len(vocabulary)] for k in range(4))
            inputs.append(text(f"{concept_id}-{i}", raw, dataset_id, concepts=[concept(concept_id)]))
    return inputs


def train_version(api: Api, model_id: str, concepts: list[str], **params: Any) -> str:
    version = R.ModelVersion(
        train_info=R.TrainInfo(params=struct(dataset_id="texts", **params)),
        output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id=c) for c in concepts])),
    )
    version_id: str = api(
        "PostModelVersions", model_id=model_id, model_versions=[version]
    ).model.model_version.id

    def trained() -> bool:
        got = api("GetModelVersion", model_id=model_id, version_id=version_id).model_version
        return got.status.code in DONE_TRAINING

    poll(trained, f"training of {model_id}")
    got = api("GetModelVersion", model_id=model_id, version_id=version_id).model_version
    assert got.status.code == S.MODEL_TRAINED, got.status
    return version_id


def search(api: Api, *ands: R.And, expect: int = S.SUCCESS, **pagination: int) -> Any:
    query = R.Query(ands=list(ands), language="en")
    return api(
        "PostInputsSearches",
        expect,
        searches=[R.Search(query=query)],
        pagination=service_pb2.Pagination(**pagination),
    )


def hit_ids(response: Any) -> list[str]:
    return [hit.input.id for hit in response.hits]


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


def new_app(user: Api, app_id: str) -> Api:
    user("PostApps", apps=[R.App(id=app_id)])
    return user.at(R.UserAppIDSet(user_id=USER, app_id=app_id))


@pytest.fixture
def api(user: Api, request: pytest.FixtureRequest) -> Api:
    """Calls in a fresh app named after the test."""
    return new_app(user, request.node.name[:60])


@pytest.fixture(scope="module")
def trained(user: Api) -> tuple[Api, str]:
    """An app with the labelled texts of dataset "texts", one unlabelled text in it and a "sports"
    text outside it, and text-classifier "clf" trained on sports and food (not tech); returns the
    app and the version id."""
    api = new_app(user, "trained")
    api("PostDatasets", datasets=[R.Dataset(id="texts")])
    add(
        api,
        [
            *labelled_texts("texts"),
            text("plain", "nothing to see here", "texts"),
            text("outside", "football stadium goal", concepts=[concept("sports")]),
        ],
    )
    api("PostModels", models=[R.Model(id="clf", model_type_id="text-classifier")])
    return api, train_version(api, "clf", ["sports", "food"])


# -- PatchModels --------------------------------------------------------------------------------------


def test_patch_models_merge_remove_overwrite(api: Api) -> None:
    api("PostConcepts", concepts=[R.Concept(id="b", name="Bee")])
    model = R.Model(
        id="m",
        name="Old name",
        model_type_id="visual-classifier",
        metadata=struct(keep=1, nested={"y": 1}),
        output_info=R.OutputInfo(
            data=R.Data(concepts=[R.Concept(id="a", name="a")]),
            output_config=R.OutputConfig(max_concepts=5, concepts_mutually_exclusive=True),
        ),
    )
    api("PostModels", models=[model])
    merged = api(
        "PatchModels",
        action="merge",
        models=[
            R.Model(
                id="m",
                name="New name",
                display_name="Shown",
                description="what it does",
                notes="# notes",
                metadata=struct(nested={"z": 2}),
                output_info=R.OutputInfo(
                    data=R.Data(concepts=[R.Concept(id="b")]),
                    output_config=R.OutputConfig(min_value=0.25),
                ),
            )
        ],
    ).models
    assert [m.id for m in merged] == ["m"]
    got = merged[0]
    assert (got.name, got.display_name, got.description, got.notes) == (
        "New name",
        "Shown",
        "what it does",
        "# notes",
    )
    assert [(c.id, c.name) for c in got.output_info.data.concepts] == [("a", "a"), ("b", "Bee")]
    assert MessageToDict(got.metadata) == {"keep": 1, "nested": {"y": 1, "z": 2}}
    config = got.output_info.output_config
    assert (config.max_concepts, config.min_value, config.concepts_mutually_exclusive) == (5, 0.25, True)
    assert got.modified_at.ToNanoseconds() > got.created_at.ToNanoseconds()

    removed = api(
        "PatchModels",
        action="remove",
        models=[
            R.Model(
                id="m",
                name="ignored by remove",
                metadata=struct(keep=True),
                output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id="a"), R.Concept(id="zz")])),
            )
        ],
    ).models[0]
    assert removed.name == "New name" and MessageToDict(removed.metadata) == {"nested": {"y": 1, "z": 2}}
    assert [c.id for c in removed.output_info.data.concepts] == ["b"]

    overwritten = api(
        "PatchModels",
        action="overwrite",
        models=[
            R.Model(
                id="m",
                metadata=struct(only=1),
                output_info=R.OutputInfo(
                    data=R.Data(concepts=[R.Concept(name="c"), R.Concept(id="d", name="Dee")]),
                    output_config=R.OutputConfig(max_concepts=2),
                ),
            )
        ],
    ).models[0]
    assert [(c.id, c.name) for c in overwritten.output_info.data.concepts] == [("c", "c"), ("d", "Dee")]
    assert MessageToDict(overwritten.metadata) == {"only": 1}
    config = overwritten.output_info.output_config
    assert (config.max_concepts, config.min_value, config.concepts_mutually_exclusive) == (2, 0.0, False)
    # Persisted: GetModel and the name search see the patched model.
    assert api("GetModel", model_id="m").model.output_info.data.concepts[1].name == "Dee"
    assert [m.id for m in api("ListModels", name="new name").models] == ["m"]
    # A patch without action merges.
    assert api("PatchModels", models=[R.Model(id="m", notes="n2")]).models[0].notes == "n2"


def test_patch_models_failures(api: Api) -> None:
    api("PostModels", models=[R.Model(id="m", name="kept", model_type_id="text-classifier")])
    missing = api(
        "PatchModels",
        S.MODEL_DOES_NOT_EXIST,
        action="merge",
        models=[R.Model(id="m", name="changed"), R.Model(id="ghost", name="x")],
    )
    assert missing.status.description == "Model does not exist" and "ghost" in missing.status.details
    assert api("GetModel", model_id="m").model.name == "kept"  # nothing changed
    api("PatchModels", S.MODEL_INVALID_REQUEST, action="replace", models=[R.Model(id="m")])
    api("PatchModels", S.MODEL_INVALID_REQUEST, action="merge")
    api("PatchModels", S.MODEL_INVALID_REQUEST, action="merge", models=[R.Model(name="no id")])
    changed_type = api(
        "PatchModels", S.MODEL_INVALID_ARGUMENT, models=[R.Model(id="m", model_type_id="text-embedder")]
    )
    assert "model_type_id" in changed_type.status.details
    no_id = R.OutputInfo(data=R.Data(concepts=[R.Concept(value=1.0)]))
    api("PatchModels", S.MODEL_INVALID_ARGUMENT, models=[R.Model(id="m", output_info=no_id)])
    assert api("GetModel", model_id="m").model.name == "kept"
    # Clarifai's public models cannot be patched; nor can anything with an unknown key.
    api(
        "PatchModels",
        S.CONN_INSUFFICIENT_SCOPES,
        user_app_id=PUBLIC,
        models=[R.Model(id="general-image-recognition")],
    )
    api.at(api.app, key="wrong")("PatchModels", S.CONN_KEY_NOT_FOUND, models=[R.Model(id="m")])


# -- PostModelsSearches -------------------------------------------------------------------------------


def test_post_models_searches(api: Api, emulator: Emulator) -> None:
    for model in (
        R.Model(id="cat-detector", name="Cat Detector", model_type_id="visual-classifier"),
        R.Model(id="dog-text", name="Dog Text", model_type_id="text-classifier"),
        R.Model(id="pictures", display_name="Picture Vectors", model_type_id="visual-embedder"),
    ):
        api("PostModels", models=[model])

    def find(name: str = "", model_type_id: str = "", on: Api = api, **page: int) -> list[str]:
        query = R.ModelQuery(name=name, model_type_id=model_type_id)
        found = on("PostModelsSearches", model_query=query, pagination=service_pb2.Pagination(**page))
        return [m.id for m in found.models]

    everything = find()
    assert everything[:3] == ["pictures", "dog-text", "cat-detector"]  # the app's, newest first
    assert set(everything[3:]) == BUILTIN_IDS  # then Clarifai's public models
    assert find("CAT DET") == ["cat-detector"] and find("detector") == ["cat-detector"]
    assert find("CAT") == ["cat-detector", "general-text-classification"]  # a substring of id or name
    assert find("cat*") == ["cat-detector"] and find("*vectors") == ["pictures"]
    assert find("*text*") == ["dog-text", "general-text-classification", "general-text-embedding"]
    assert find("*cat") == [] and find("nothing") == []
    assert find(model_type_id="text-classifier") == ["dog-text", "general-text-classification"]
    assert find(model_type_id="concept") == [
        "dog-text",
        "cat-detector",
        "general-image-recognition",
        "general-text-classification",
    ]
    assert find("image", model_type_id="embed") == ["general-image-embedding"]
    assert find(model_type_id="no-such-type") == []
    assert find(per_page=2, page=2) == everything[2:4]
    assert find(per_page=2, page=9) == []
    found = api("PostModelsSearches", model_query=R.ModelQuery(name="general-image-recognition")).models
    assert [(m.user_id, m.app_id) for m in found] == [("clarifai", "main")]
    assert found[0].model_version.status.code == S.MODEL_TRAINED  # with its newest version
    # With clarifai/main only the public models are searched; an app key searches its own app.
    assert set(find(on=api.at(PUBLIC))) == BUILTIN_IDS
    app_key = emulator.clarifai.create_app_key(api.app.app_id)
    assert find("dog", on=api.at(R.UserAppIDSet(), key=app_key)) == ["dog-text"]
    api.at(R.UserAppIDSet(user_id=USER, app_id="nope"))("PostModelsSearches", S.CONN_DOES_NOT_EXIST)
    api.at(api.app, key="wrong")("PostModelsSearches", S.CONN_KEY_NOT_FOUND)


# -- ListModelInputs ----------------------------------------------------------------------------------


def test_list_model_inputs(trained: tuple[Api, str]) -> None:
    api, version_id = trained
    expected = {f"{c}-{i}" for c in ("sports", "food") for i in range(10)}

    def listed(model_id: str, version: str = "", per_page: int = 0) -> list[str]:
        ids: list[str] = []
        for page in range(1, 100):
            got = api("ListModelInputs", model_id=model_id, version_id=version, page=page, per_page=per_page)
            ids += [i.id for i in got.inputs]
            if not got.inputs or not per_page:
                return ids
        raise AssertionError("too many pages")

    # The training dataset's inputs with the version's concepts (not tech, not the unlabelled one,
    # not the sports input outside the dataset), newest first, in pages.
    everything = listed("clf")
    assert set(everything) == expected and len(everything) == 20
    assert everything[0] == "food-9" and everything[-1] == "sports-0"
    assert listed("clf", per_page=7) == everything == listed("clf", version_id)
    first = api("ListModelInputs", model_id="clf", per_page=1).inputs[0]
    assert first.status.code == S.INPUT_DOWNLOAD_SUCCESS and first.data.text.raw
    assert list(first.dataset_ids) == ["texts"] and first.data.text.hosted.prefix
    # No training info: the app's inputs annotated with the model's output_info concepts.
    legacy = R.Model(id="legacy", output_info=R.OutputInfo(data=R.Data(concepts=[R.Concept(id="tech")])))
    api("PostModels", models=[legacy])
    annotation = R.Annotation(input_id="plain", data=R.Data(concepts=[concept("tech")]))
    api("PostAnnotations", annotations=[annotation])
    assert set(listed("legacy")) == {f"tech-{i}" for i in range(10)} | {"plain"}
    api("PostModelVersions", model_id="legacy", model_versions=[R.ModelVersion(description="bare")])
    assert set(listed("legacy")) == {f"tech-{i}" for i in range(10)} | {"plain"}
    api("PostModels", models=[R.Model(id="conceptless")])
    assert listed("conceptless") == []
    api("DeleteAnnotations", input_ids=["plain"])
    # Failures.
    api("ListModelInputs", S.MODEL_DOES_NOT_EXIST, model_id="ghost")
    api("ListModelInputs", S.MODEL_DOES_NOT_EXIST, model_id="clf", version_id="ghost")
    api("ListModelInputs", S.MODEL_INVALID_ARGUMENT)  # no model id


def test_list_model_inputs_of_a_dataset_version(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="texts")])
    add(api, labelled_texts("texts", per_concept=8))
    snapshot = api("PostDatasetVersions", dataset_id="texts").dataset_versions[0].id
    api("PostModels", models=[R.Model(id="snap", model_type_id="text-classifier")])
    version_id = train_version(api, "snap", ["tech"], dataset_version_id=snapshot)
    api("DeleteInputs", ids=["tech-0", "tech-1"])  # the version was trained on the snapshot
    got = api("ListModelInputs", model_id="snap", version_id=version_id).inputs
    assert {i.id for i in got} == {f"tech-{i}" for i in range(8)}
    assert all(list(i.dataset_ids) == ["texts"] and i.data.text.raw for i in got)


# -- PostModelVersionMetrics --------------------------------------------------------------------------


def test_post_model_version_metrics(trained: tuple[Api, str]) -> None:
    api, version_id = trained
    started = api("PostModelVersionMetrics", model_id="clf", version_id=version_id).model_version
    assert started.id == version_id and started.status.code == S.MODEL_TRAINED
    assert started.metrics.status.code == S.MODEL_QUEUED_FOR_EVALUATION
    seen: list[int] = []

    def evaluated() -> R.ModelVersion | None:
        got: R.ModelVersion = api("GetModelVersion", model_id="clf", version_id=version_id).model_version
        if not seen or seen[-1] != got.metrics.status.code:
            seen.append(got.metrics.status.code)
        return got if got.metrics.status.code in DONE_EVALUATING else None

    version: R.ModelVersion = poll(evaluated, "evaluation")
    assert seen[-1] == S.MODEL_EVALUATED, version.metrics.status
    assert version.metrics.summary.top1_accuracy >= 0.8 and version.metrics.summary.macro_avg_roc_auc >= 0.8
    assert not version.metrics.test_set  # the summary only
    listed = api("ListModelVersions", model_id="clf").model_versions
    assert listed[0].metrics.id == version.metrics.id
    evaluations = api("ListModelVersionEvaluations", model_id="clf", model_version_id=version_id)
    assert [e.id for e in evaluations.eval_metrics] == [version.metrics.id]
    # Without version_id: the newest trained version; each call starts a new evaluation.
    again = api("PostModelVersionMetrics", model_id="clf").model_version
    assert again.id == version_id and again.metrics.id != version.metrics.id
    newest = api("GetModelVersion", model_id="clf", version_id=version_id).model_version
    assert newest.metrics.id == again.metrics.id
    # Failures.
    api("PostModelVersionMetrics", S.MODEL_DOES_NOT_EXIST, model_id="ghost", version_id=version_id)
    api("PostModelVersionMetrics", S.MODEL_DOES_NOT_EXIST, model_id="clf", version_id="ghost")
    api("PostModels", models=[R.Model(id="untrained", model_type_id="text-classifier")])
    api("PostModelVersionMetrics", S.MODEL_INVALID_ARGUMENT, model_id="untrained")
    bare = api("PostModelVersions", model_id="untrained").model.model_version.id
    api("PostModelVersionMetrics", S.MODEL_INVALID_ARGUMENT, model_id="untrained", version_id=bare)
    test_search = api(
        "PostModelVersionMetrics",
        S.MODEL_INVALID_ARGUMENT,
        model_id="clf",
        version_id=version_id,
        test_search=R.Search(query=R.Query()),
    )
    assert "test_search" in test_search.status.details
    assert not api("GetModelVersion", model_id="untrained", version_id=bare).model_version.HasField("metrics")


# -- inputs and concepts --------------------------------------------------------------------------------


def test_delete_inputs_of_many_ids(api: Api) -> None:
    add(api, [text(f"t{i}", f"text number {i}") for i in range(300)])
    assert api("GetInputCount").counts.processed == 300
    # Far more ids than SQLite takes in one statement, unknown and repeated ones included.
    ids = [f"t{i}" for i in range(250)] + [f"unknown-{i}" for i in range(260_000)] + ["t0", "t1"]
    api("DeleteInputs", ids=ids)
    left = api("ListInputs", per_page=1000).inputs
    assert sorted(i.id for i in left) == sorted(f"t{i}" for i in range(250, 300))
    assert api("GetInputCount").counts.processed == 50
    assert len(search(api, per_page=1000).hits) == 50
    api("DeleteInputs", ids=[i.id for i in left])
    assert not api("ListInputs").inputs and api("GetInputCount").counts.processed == 0
    api("DeleteInputs", ids=["t0"])  # already gone: still fine


class _Gate(http.server.BaseHTTPRequestHandler):
    """Serves text once `release` is set: inputs fetching from it stay in processing until then."""

    release = threading.Event()

    def do_GET(self) -> None:
        self.release.wait(timeout=30)
        body = f"fetched from {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_input_count_follows_processing() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gate)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    workers = 4  # the emulator's input-processing threads
    try:
        with Emulator(api_key=KEY, user_id=USER) as emu, grpc.insecure_channel(emu.address) as channel:
            api = new_app(Api(service_pb2_grpc.V2Stub(channel), R.UserAppIDSet(user_id=USER)), "counts")
            counts = api("GetInputCount").counts
            assert (counts.processed, counts.to_process, counts.processing, counts.errors) == (0, 0, 0, 0)
            for i in range(workers):  # one call each: every worker is held by a gated input
                api(
                    "PostInputs",
                    inputs=[R.Input(id=f"gated-{i}", data=R.Data(text=R.Text(url=f"{base}/{i}")))],
                )
            poll(lambda: api("GetInputCount").counts.processing == workers, "every worker busy")
            api(
                "PostInputs",
                S.SUCCESS,
                inputs=[
                    text("queued-1", "one"),
                    text("queued-2", "two"),
                    R.Input(id="broken", data=R.Data(image=R.Image(base64=b"not an image"))),
                ],
            )
            counts = api("GetInputCount").counts
            assert (counts.processed, counts.to_process, counts.processing, counts.errors) == (0, 3, 4, 0)
            _Gate.release.set()

            def settled() -> Any:
                got = api("GetInputCount").counts
                return got if got.to_process + got.processing == 0 else None

            counts = poll(settled, "processing to finish")
            assert (counts.processed, counts.errors) == (6, 1)
            assert (counts.reindexed, counts.to_reindex, counts.reindex_errors, counts.reindexing) == (0,) * 4
            assert api("GetInput", input_id="gated-0").input.data.text.raw == "fetched from /0"
            api("DeleteInputs", ids=["broken", "queued-1"])
            counts = api("GetInputCount").counts
            assert (counts.processed, counts.errors) == (5, 0)
            api.at(R.UserAppIDSet(user_id=USER, app_id="nope"))("GetInputCount", S.CONN_DOES_NOT_EXIST)
    finally:
        _Gate.release.set()
        server.shutdown()
        server.server_close()


def test_patch_concepts_overwrite_renames(api: Api) -> None:
    api("PostConcepts", concepts=[R.Concept(id="c1", name="kitten"), R.Concept(id="c2", name="puppy")])
    add(api, [text("x", "a small cat", concepts=[concept("c1")])])
    by_name = R.And(input=R.Input(data=R.Data(concepts=[R.Concept(name="kitten", value=1.0)])))
    assert hit_ids(search(api, by_name)) == ["x"]
    renamed = api(
        "PatchConcepts",
        action="overwrite",
        concepts=[R.Concept(id="c1", name="Cat"), R.Concept(id="c2", language="fr")],
    ).concepts
    assert [(c.id, c.name, c.language) for c in renamed] == [("c1", "Cat", "en"), ("c2", "puppy", "fr")]
    assert api("GetConcept", concept_id="c1").concept.name == "Cat"
    assert hit_ids(search(api, by_name)) == []  # the old name no longer finds it, the new one does
    new_name = R.And(input=R.Input(data=R.Data(concepts=[R.Concept(name="Cat", value=1.0)])))
    assert hit_ids(search(api, new_name)) == ["x"]
    api("PatchConcepts", S.CONN_DOES_NOT_EXIST, action="overwrite", concepts=[R.Concept(id="nope", name="x")])
    api("PatchConcepts", S.CONCEPTS_INVALID_REQUEST, action="merge", concepts=[R.Concept(id="c1", name="y")])
    api("PatchConcepts", S.CONCEPTS_INVALID_REQUEST, concepts=[R.Concept(id="c1", name="y")])  # no action
    assert api("GetConcept", concept_id="c1").concept.name == "Cat"


def test_concept_searches_with_wildcards_and_language(api: Api) -> None:
    api(
        "PostConcepts",
        concepts=[
            R.Concept(id="dog", name="Dog"),
            R.Concept(id="hotdog", name="Hot Dog"),
            R.Concept(id="dogma", name="dogma"),
            R.Concept(id="chien", name="chien", language="fr"),
            R.Concept(id="chiot", name="chiot", language="fr"),
        ],
    )

    def find(name: str, language: str = "", **page: int) -> list[str]:
        query = R.ConceptQuery(name=name, language=language)
        found = api("PostConceptsSearches", concept_query=query, pagination=service_pb2.Pagination(**page))
        return [c.id for c in found.concepts]

    assert find("dog") == ["dog"] and find("DOG") == ["dog"]  # no wildcard: the whole name
    assert find("dog*") == ["dogma", "dog"] and find("*dog") == ["hotdog", "dog"]
    assert find("*o*") == ["chiot", "dogma", "hotdog", "dog"]  # newest first
    assert find("ch*", language="fr") == ["chiot", "chien"] and find("ch*", language="en") == []
    assert find("*", language="fr", per_page=1, page=2) == ["chien"]
    assert find("") == find("*") and len(find("*")) == 5
    assert find("d*g*", language="en") == ["dogma", "dog"]
    api.at(R.UserAppIDSet(user_id=USER, app_id="nope"))(
        "PostConceptsSearches", S.CONN_DOES_NOT_EXIST, concept_query=R.ConceptQuery(name="*")
    )


# -- PostInputsSearches with the legacy `ands` terms --------------------------------------------------------


def _input_term(**data: Any) -> R.And:
    return R.And(input=R.Input(data=R.Data(**data)))


def _output_concepts(*concepts: R.Concept, negate: bool = False) -> R.And:
    return R.And(output=R.Output(data=R.Data(concepts=list(concepts))), negate=negate)


def _similar(**image: Any) -> R.And:
    return R.And(output=R.Output(input=R.Input(data=R.Data(image=R.Image(**image)))))


def _geo(lon: float, lat: float) -> R.Geo:
    return R.Geo(geo_point=R.GeoPoint(longitude=lon, latitude=lat))


def test_legacy_and_searches(api: Api, tmp_path: Path) -> None:
    red, mostly_red, little_red, blue = (
        png((RED, 20)),
        png((RED, 14), (WHITE, 6)),
        png((RED, 6), (WHITE, 14)),
        png((BLUE, 20)),
    )
    on_disk = tmp_path / "blue.png"
    on_disk.write_bytes(blue)
    paris, berlin = _geo(2.35, 48.85), _geo(13.40, 52.52)
    add(
        api,
        [
            R.Input(id="red", data=R.Data(image=R.Image(base64=red), concepts=[concept("cat")], geo=paris)),
            R.Input(id="mostly-red", data=R.Data(image=R.Image(base64=mostly_red), metadata=struct(k="v"))),
            R.Input(id="little-red", data=R.Data(image=R.Image(base64=little_red), geo=berlin)),
            R.Input(
                id="blue", data=R.Data(image=R.Image(url=on_disk.as_uri()), concepts=[concept("cat", 0.0)])
            ),
            text("happy", "a great and wonderful day", concepts=[concept("cat")]),
            text("grumpy", "a terrible awful day", metadata=struct(k="v", n=1)),
            R.Input(id="broken", data=R.Data(image=R.Image(base64=b"no picture"))),
        ],
    )
    # Annotated concepts (InputSearchTerm): by id or name, value 0 for "labelled not".
    assert set(hit_ids(search(api, _input_term(concepts=[concept("cat")])))) == {"red", "happy"}
    assert set(hit_ids(search(api, _input_term(concepts=[R.Concept(name="cat", value=1.0)])))) == {
        "red",
        "happy",
    }
    not_cat = set(hit_ids(search(api, _input_term(concepts=[concept("cat", 0.0)]))))
    assert not_cat == {"mostly-red", "little-red", "blue", "grumpy", "broken"}
    # Predicted concepts (OutputSearchTerm): the built-in models' predictions above 0.5, best first.
    reds = search(api, _output_concepts(R.Concept(name="red", value=1.0)))
    assert hit_ids(reds) == ["red", "mostly-red"]
    assert [h.score for h in reds.hits] == pytest.approx([1.0, 0.7], abs=0.01)  # the red share
    assert hit_ids(search(api, _output_concepts(concept("positive")))) == ["happy"]
    assert hit_ids(search(api, _output_concepts(concept("NEGATIVE")))) == ["grumpy"]
    assert set(hit_ids(search(api, _output_concepts(concept("red", 0.0))))) == {
        "little-red",
        "blue",
        "happy",
        "grumpy",
    }  # predicted, but not red; the broken image has no prediction
    assert set(hit_ids(search(api, _output_concepts(concept("red"), negate=True)))) == {
        "little-red",
        "blue",
        "happy",
        "grumpy",
        "broken",
    }
    assert hit_ids(search(api, _output_concepts(concept("red"), concept("white")))) == []
    assert hit_ids(search(api, _output_concepts(concept("blue"), concept("colorful")))) == ["blue"]
    assert hit_ids(search(api, _output_concepts(concept("unicorn")))) == []
    # Both kinds together: all terms hold.
    both = search(api, _input_term(concepts=[concept("cat")]), _output_concepts(concept("red")))
    assert hit_ids(both) == ["red"]
    # Visual similarity (OutputSearchTerm url / base64 / input_id): the same picture first.
    assert hit_ids(search(api, _similar(url=on_disk.as_uri())))[0] == "blue"
    by_bytes = search(api, _similar(base64=mostly_red))
    assert hit_ids(by_bytes)[0] == "mostly-red" and by_bytes.hits[0].score == pytest.approx(1.0)
    like_input = R.And(output=R.Output(input=R.Input(id="little-red", data=R.Data(image=R.Image()))))
    assert hit_ids(search(api, like_input))[0] == "little-red"
    similar_reds = search(api, _similar(base64=red), _output_concepts(concept("red")))
    assert hit_ids(similar_reds) == ["red", "mostly-red"]
    # Original URL and input id (InputSearchTerm url / input_id), metadata, geo.
    assert hit_ids(search(api, _input_term(image=R.Image(url=on_disk.as_uri())))) == ["blue"]
    assert hit_ids(search(api, _input_term(image=R.Image(url="file:///elsewhere.png")))) == []
    by_id = R.And(input=R.Input(id="grumpy", data=R.Data(text=R.Text())))
    assert hit_ids(search(api, by_id)) == ["grumpy"]
    assert set(hit_ids(search(api, _input_term(metadata=struct(k="v"))))) == {"mostly-red", "grumpy"}
    assert hit_ids(search(api, _input_term(metadata=struct(n=1)))) == ["grumpy"]
    near_paris = R.Geo(geo_point=paris.geo_point, geo_limit=R.GeoLimit(type="withinKilometers", value=50))
    assert hit_ids(search(api, _input_term(geo=near_paris))) == ["red"]
    far = R.Geo(geo_point=paris.geo_point, geo_limit=R.GeoLimit(type="withinMiles", value=700))
    assert set(hit_ids(search(api, _input_term(geo=far)))) == {"red", "little-red"}
    box = R.Geo(
        geo_box=[
            R.GeoBoxedPoint(geo_point=_geo(10.0, 50.0).geo_point),
            R.GeoBoxedPoint(geo_point=_geo(15.0, 55.0).geo_point),
        ]
    )
    assert hit_ids(search(api, _input_term(geo=box))) == ["little-red"]
    # Pages of an ands search.
    pages = [hit_ids(search(api, _output_concepts(concept("red", 0.0)), page=p, per_page=3)) for p in (1, 2)]
    assert len(pages[0]) == 3 and len(pages[1]) == 1 and not set(pages[0]) & set(pages[1])
    # Failures.
    negated_similarity = R.And(
        output=R.Output(input=R.Input(data=R.Data(image=R.Image(base64=red)))), negate=True
    )
    assert "negated" in search(api, negated_similarity, expect=S.SEARCH_INVALID_REQUEST).status.details
    search(api, R.And(output=R.Output()), expect=S.SEARCH_INVALID_REQUEST)
    search(api, R.And(output=R.Output(), negate=True), expect=S.SEARCH_INVALID_REQUEST)
    search(api, _output_concepts(R.Concept(value=1.0)), expect=S.SEARCH_INVALID_REQUEST)
    unknown = R.And(output=R.Output(input=R.Input(id="ghost", data=R.Data(image=R.Image()))))
    search(api, unknown, expect=S.INPUT_DOES_NOT_EXIST)
    search(api, _input_term(geo=paris), expect=S.SEARCH_INVALID_REQUEST)  # a point needs a limit
    search(api, _input_term(image=R.Image(base64=red)), expect=S.SEARCH_INVALID_REQUEST)
    search(api, _similar(base64=b"not a picture"), expect=S.SEARCH_INVALID_REQUEST)


# -- PostInputsSearches: concept ranks are predicted concepts, concept filters annotated ones ---------------


def _ranked(api: Api, query: R.Query, expect: int = S.SUCCESS, **fields: Any) -> Any:
    return api("PostInputsSearches", expect, searches=[R.Search(query=query)], **fields)


def _concept_rank(*concepts: R.Concept) -> R.Rank:
    return R.Rank(annotation=R.Annotation(data=R.Data(concepts=list(concepts))))


def _concept_filter(*concepts: R.Concept) -> R.Filter:
    return R.Filter(annotation=R.Annotation(data=R.Data(concepts=list(concepts))))


def test_concept_ranks_are_predicted_concepts(api: Api) -> None:
    red, mostly_red, little_red, blue = (
        png((RED, 20)),
        png((RED, 14), (WHITE, 6)),
        png((RED, 6), (WHITE, 14)),
        png((BLUE, 20)),
    )
    # The labels contradict the pictures: "red" is labelled blue, "blue" is labelled red.
    add(
        api,
        [
            R.Input(id="red", data=R.Data(image=R.Image(base64=red), concepts=[concept("blue")])),
            R.Input(id="mostly-red", data=R.Data(image=R.Image(base64=mostly_red))),
            R.Input(id="little-red", data=R.Data(image=R.Image(base64=little_red))),
            R.Input(id="blue", data=R.Data(image=R.Image(base64=blue), concepts=[concept("red")])),
            text("happy", "a great and wonderful day"),
            text("grumpy", "a terrible awful day", concepts=[concept("positive")]),
            R.Input(id="broken", data=R.Data(image=R.Image(base64=b"no picture"))),
        ],
    )

    def ids(query: R.Query, **fields: Any) -> list[str]:
        return hit_ids(_ranked(api, query, **fields))

    # A concept rank: the inputs predicted to show it (score > 0.5), best first, whatever their labels.
    reds = _ranked(api, R.Query(ranks=[_concept_rank(concept("red"))]))
    assert hit_ids(reds) == ["red", "mostly-red"]
    assert [h.score for h in reds.hits] == pytest.approx([1.0, 0.7], abs=0.01)  # the red share
    legacy = search(api, _output_concepts(concept("red")))  # the same as the legacy output term
    assert [(h.input.id, h.score) for h in legacy.hits] == [(h.input.id, h.score) for h in reds.hits]
    assert ids(R.Query(ranks=[_concept_rank(R.Concept(name="red", value=1.0))])) == ["red", "mostly-red"]
    assert ids(R.Query(ranks=[_concept_rank(concept("blue"))])) == ["blue"]
    assert ids(R.Query(ranks=[_concept_rank(concept("positive"))])) == ["happy"]  # text: sentiment
    # A concept filter: the labels.
    assert ids(R.Query(filters=[_concept_filter(concept("red"))])) == ["blue"]
    assert ids(R.Query(filters=[_concept_filter(concept("positive"))])) == ["grumpy"]
    # Value 0: inputs with a prediction that does not show the concept (no rank, newest first).
    assert set(ids(R.Query(ranks=[_concept_rank(concept("red", 0.0))]))) == {
        "little-red",
        "blue",
        "happy",
        "grumpy",
    }
    # Every concept of a rank, and every concept rank, must hold.
    assert ids(R.Query(ranks=[_concept_rank(concept("red"), concept("white"))])) == []
    assert ids(R.Query(ranks=[_concept_rank(concept("red")), _concept_rank(concept("blue"))])) == []
    assert ids(R.Query(ranks=[_concept_rank(concept("blue"), concept("colorful"))])) == ["blue"]
    assert ids(R.Query(ranks=[_concept_rank(concept("unicorn"))])) == []
    # With other ranks and with filters.
    by_image = R.Rank(annotation=R.Annotation(data=R.Data(image=R.Image(base64=little_red))))
    assert ids(R.Query(ranks=[by_image]))[0] == "little-red"
    # little-red looks most like itself but is not predicted red: the concept rank leaves it out.
    assert sorted(ids(R.Query(ranks=[by_image, _concept_rank(concept("red"))]))) == ["mostly-red", "red"]
    in_one = R.Query(ranks=[_concept_rank(concept("red"))], filters=[_concept_filter(concept("blue"))])
    assert ids(in_one) == ["red"]  # predicted red, labelled blue
    counted = _ranked(api, R.Query(ranks=[_concept_rank(concept("red"))]), only_count=True)
    assert counted.hit_counts[0].estimated_total == 2
    pages = [
        ids(
            R.Query(ranks=[_concept_rank(concept("red", 0.0))]),
            pagination=service_pb2.Pagination(page=p, per_page=3),
        )
        for p in (1, 2)
    ]
    assert len(pages[0]) == 3 and len(pages[1]) == 1 and not set(pages[0]) & set(pages[1])
    # Failures.
    _ranked(api, R.Query(ranks=[_concept_rank(R.Concept(value=1.0))]), S.SEARCH_INVALID_REQUEST)
    negated = R.Rank(negate=True, annotation=_concept_rank(concept("red")).annotation)
    _ranked(api, R.Query(ranks=[negated]), S.SEARCH_INVALID_REQUEST)
    misplaced = R.And(output=R.Output(input=R.Input(data=R.Data(concepts=[concept("red")]))))
    assert "output.data.concepts" in search(api, misplaced, expect=S.SEARCH_INVALID_REQUEST).status.details
