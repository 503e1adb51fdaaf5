"""The Clarifai emulator over a real gRPC channel, driven with the raw generated V2 stub.

`Api` builds each request from the service descriptor (`api("GetInput", input_id="x")` sends a
GetInputRequest with the test's user_app_id and `authorization: Key <key>`) and checks the status
code the response carries; gRPC itself must answer OK, as the real API does.
"""

from __future__ import annotations

import http.server
import io
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass
from PIL import Image, ImageDraw

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator import Emulator
from modelwire.emulator.clarifai.models import ModelsArea

KEY = "clarifai-test-pat"
USER = "demo"
S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
EXPORT_PROTOBUF = [R.DatasetVersionExport(format=R.CLARIFAI_DATA_PROTOBUF)]


class Api:
    """Calls one app's V2 RPCs through the raw stub and checks the status code of each answer."""

    def __init__(self, stub: service_pb2_grpc.V2Stub, app: R.UserAppIDSet, key: str | None = KEY) -> None:
        self.stub, self.app, self.key = stub, app, key

    def as_key(self, key: str | None) -> Api:
        return Api(self.stub, self.app, key)

    def __call__(self, method: str, expect: int = S.SUCCESS, metadata: Any = None, **fields: Any) -> Any:
        request = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
        if "user_app_id" not in fields:
            request.user_app_id.CopyFrom(self.app)
        if metadata is None:
            metadata = (("authorization", f"Key {self.key}"),) if self.key is not None else ()
        response = getattr(self.stub, method)(request, metadata=metadata)
        assert response.status.code == expect, (method, response.status)
        assert response.status.req_id
        return response


def png(seed: int, size: tuple[int, int] = (96, 72)) -> bytes:
    """A small picture that differs clearly per seed."""
    img = Image.new("RGB", size, ((seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256))
    draw = ImageDraw.Draw(img)
    for i in range(4):
        x, y = (seed * 13 + i * 23) % size[0], (seed * 7 + i * 17) % size[1]
        draw.rectangle((x, y, x + 20, y + 15), fill=((seed * 11 + i * 50) % 256, (i * 90) % 256, 200))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def text(input_id: str, raw: str, dataset_ids: tuple[str, ...] = (), **data: Any) -> R.Input:
    return R.Input(id=input_id, dataset_ids=dataset_ids, data=R.Data(text=R.Text(raw=raw), **data))


def image(input_id: str, raw: bytes, dataset_ids: tuple[str, ...] = (), **data: Any) -> R.Input:
    return R.Input(id=input_id, dataset_ids=dataset_ids, data=R.Data(image=R.Image(base64=raw), **data))


def concept(concept_id: str, value: float = 1.0) -> R.Concept:
    return R.Concept(id=concept_id, name=concept_id, value=value)


def struct(**values: Any) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def box(concept_id: str, top: float = 0.1, bottom: float = 0.9) -> R.Region:
    info = R.RegionInfo(
        bounding_box=R.BoundingBox(top_row=top, left_col=0.2, bottom_row=bottom, right_col=0.6)
    )
    return R.Region(region_info=info, data=R.Data(concepts=[concept(concept_id)]))


def rank(**data: Any) -> R.Rank:
    return R.Rank(annotation=R.Annotation(data=R.Data(**data)))


def text_rank(raw: str) -> R.Rank:
    return rank(text=R.Text(raw=raw))


def served(url: str, key: str = KEY) -> bytes:
    """What the emulator's file host serves at `url` (hosted content and exports need the key)."""
    assert url.startswith("http://127.0.0.1:"), url
    request = urllib.request.Request(url, headers={"Authorization": f"Key {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def hosted(part: Any) -> bytes:
    return served(f"{part.hosted.prefix}/orig/{part.hosted.suffix}")


def poll(check: Callable[[], Any], what: str, attempts: int = 4000) -> Any:
    """Call `check` until it returns something truthy (bounded by attempts, not by time)."""
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(0.005)
    raise AssertionError(f"gave up waiting for {what}")


def wait_job(api: Api, job_id: str) -> R.InputsAddJob:
    def done() -> R.InputsAddJob | None:
        job: R.InputsAddJob = api("GetInputsAddJob", id=job_id).inputs_add_job
        return job if job.progress.pending_count + job.progress.in_progress_count == 0 else None

    job: R.InputsAddJob = poll(done, f"inputs add job {job_id}")
    return job


def add(api: Api, inputs: list[R.Input]) -> R.InputsAddJob:
    """Post inputs in batches of 128 and wait until each batch is processed."""
    job = R.InputsAddJob()
    for start in range(0, len(inputs), 128):
        job = wait_job(api, api("PostInputs", inputs=inputs[start : start + 128]).inputs_add_job.id)
    return job


def input_ids(api: Api, **fields: Any) -> list[str]:
    return [i.id for i in api("ListInputs", **fields).inputs]


def search(api: Api, query: R.Query, expect: int = S.SUCCESS, metric: int = 0, **fields: Any) -> Any:
    return api("PostInputsSearches", expect, searches=[R.Search(query=query, metric=metric)], **fields)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, user_id=USER, content_dirs=[tempfile.gettempdir()]) as emu:
        yield emu


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[service_pb2_grpc.V2Stub]:
    with grpc.insecure_channel(emulator.address) as channel:
        yield service_pb2_grpc.V2Stub(channel)


@pytest.fixture(scope="module")
def user(stub: service_pb2_grpc.V2Stub) -> Api:
    """User-level calls (no app)."""
    return Api(stub, R.UserAppIDSet(user_id=USER))


@pytest.fixture
def api(user: Api, request: pytest.FixtureRequest) -> Api:
    """Calls in a fresh app named after the test."""
    app_id = request.node.name.replace("[", "-").replace("]", "")[:60]
    user("PostApps", apps=[R.App(id=app_id)])
    return Api(user.stub, R.UserAppIDSet(user_id=USER, app_id=app_id))


# -- auth -------------------------------------------------------------------------------------------


def test_auth_failures_are_reported_in_the_status(api: Api) -> None:
    missing = api.as_key(None)("ListInputs", S.CONN_KEY_INVALID)
    assert "authorization" in missing.status.details
    assert api.as_key("wrong")("ListInputs", S.CONN_KEY_NOT_FOUND).status.description == "API key not found"
    api("ListInputs", S.CONN_KEY_INVALID, metadata=(("authorization", f"Bearer {KEY}"),))
    api("ListInputs", metadata=(("x-clarifai-session-token", KEY),))
    api("ListInputs", S.CONN_CREDENTIALS_INVALID, metadata=(("x-clarifai-session-token", "nope"),))
    other_user = R.UserAppIDSet(user_id="mallory", app_id=api.app.app_id)
    api("ListInputs", S.CONN_DOES_NOT_EXIST, user_app_id=other_user)
    api("ListInputs", user_app_id=R.UserAppIDSet(user_id="me", app_id=api.app.app_id))
    no_app = api("ListInputs", S.CONN_DOES_NOT_EXIST, user_app_id=R.UserAppIDSet(user_id=USER, app_id="nope"))
    assert "'nope'" in no_app.status.details
    api("ListInputs", S.CONN_INVALID_REQUEST, user_app_id=R.UserAppIDSet(user_id=USER))
    assert api("ListInputs").status.req_id != api("ListInputs").status.req_id
    prefixed = api(
        "ListInputs", metadata=(("authorization", f"Key {KEY}"), ("x-clarifai-request-id-prefix", "sdk"))
    )
    assert prefixed.status.req_id.startswith("sdk-")


def test_app_keys_are_scoped_to_their_app(emulator: Emulator, api: Api) -> None:
    app_key = emulator.clarifai.create_app_key(api.app.app_id)
    scoped = Api(api.stub, R.UserAppIDSet(), app_key)  # an app key names its user and app itself
    assert scoped("GetApp").app.id == api.app.app_id
    scoped("PostInputs", inputs=[text("k1", "hello")])
    scoped("ListInputs", user_app_id=api.app)
    for method in (
        "PostApps",
        "ListApps",
        "DeleteApp",
        "PostRunners",
        "GetRunner",
        "ListRunners",
        "DeleteRunners",
        "ListRunnerItems",
        "PostRunnerItemOutputs",
    ):
        scoped(method, S.CONN_INSUFFICIENT_SCOPES)
    scoped("ListInputs", S.CONN_KEY_INVALID, user_app_id=R.UserAppIDSet(user_id=USER, app_id="another-app"))
    with pytest.raises(ValueError, match="does not exist"):
        emulator.clarifai.create_app_key("never-created")
    api("DeleteApp")
    scoped("GetApp", S.CONN_KEY_NOT_FOUND)  # keys go with their app


# -- apps and the catalog -----------------------------------------------------------------------------


def test_app_crud_and_cascading_delete(user: Api) -> None:
    default_workflow = R.Workflow(id="Empty", app_id="main", user_id="clarifai")
    new_app = R.App(id="crud", name="Crud App", default_workflow=default_workflow, metadata=struct(team="x"))
    created = user("PostApps", apps=[new_app]).apps[0]
    assert (created.user_id, created.default_workflow.id, created.metadata["team"]) == (USER, "Empty", "x")
    assert created.HasField("created_at")
    assert (
        "already exists" in user("PostApps", S.CONN_INVALID_REQUEST, apps=[R.App(id="crud")]).status.details
    )
    user("PostApps", S.CONN_INVALID_REQUEST, apps=[R.App(name="no id")])
    assert [a.id for a in user("ListApps", search="CRUD").apps] == ["crud"]
    api = Api(user.stub, R.UserAppIDSet(user_id=USER, app_id="crud"))
    assert api("GetApp").app.name == "Crud App"
    add(api, [text("t1", "one")])
    api("PostDatasets", datasets=[R.Dataset(id="ds")])
    api("DeleteApp")
    api("GetApp", S.CONN_DOES_NOT_EXIST)
    api("DeleteApp", S.CONN_DOES_NOT_EXIST)
    user("PostApps", apps=[R.App(id="crud")])
    assert input_ids(api) == []  # everything in the old app went with it
    api("GetDataset", S.CONN_DOES_NOT_EXIST, dataset_id="ds")


def test_models(api: Api) -> None:
    made = api(
        "PostModels", models=[R.Model(id="clf", model_type_id="visual-classifier", description="cats")]
    )
    assert isinstance(made, service_pb2.SingleModelResponse) and made.model.app_id == api.app.app_id
    api("PostModels", models=[R.Model(id="emb", model_type_id="visual-embedder")])
    api("PostModels", S.MODEL_INVALID_ARGUMENT, models=[R.Model(id="clf")])
    assert api("GetModel", model_id="clf").model.description == "cats"
    assert (
        api("GetModel", S.MODEL_DOES_NOT_EXIST, model_id="nope").status.description == "Model does not exist"
    )
    assert [m.id for m in api("ListModels", model_type_id="visual-embedder").models] == ["emb"]
    assert [m.id for m in api("ListModels").models] == ["emb", "clf"]
    assert [m.id for m in api("ListModels", search="cats").models] == ["clf"]
    api("DeleteModels", S.MODEL_DOES_NOT_EXIST, ids=["clf", "ghost"])  # all or nothing
    api("DeleteModels", ids=["clf"])
    assert [m.id for m in api("ListModels").models] == ["emb"]


def test_workflows_and_modules(api: Api) -> None:
    api("PostModels", models=[R.Model(id="emb", model_type_id="visual-embedder")])
    node = R.WorkflowNode(id="n1", model=R.Model(id="emb"))
    dangling = R.WorkflowNode(id="n2", model=R.Model(id="emb"), node_inputs=[R.NodeInput(node_id="missing")])
    api("PostWorkflows", S.WORKFLOW_INVALID_GRAPH, workflows=[R.Workflow(id="wf", nodes=[node, dangling])])
    api("PostWorkflows", workflows=[R.Workflow(id="wf", nodes=[node])])
    api("PostWorkflows", S.WORKFLOW_DUPLICATE, workflows=[R.Workflow(id="wf")])
    assert api("GetWorkflow", workflow_id="wf").workflow.nodes[0].model.id == "emb"
    api("GetWorkflow", S.WORKFLOW_DOES_NOT_EXIST, workflow_id="x")
    assert len(api("ListWorkflows").workflows) == 1
    api("DeleteWorkflows", delete_all=True)
    assert not api("ListWorkflows").workflows

    api("PostModules", modules=[R.Module(id="mod", description="m")])
    assert api("GetModule", module_id="mod").module.user_id == USER
    assert [m.id for m in api("ListModules").modules] == ["mod"]
    assert not api("ListModuleVersions", module_id="mod").module_versions
    api("ListModuleVersions", S.MODULE_DOES_NOT_EXIST, module_id="x")
    api("ListInstalledModuleVersions")
    api("DeleteModules", ids=["mod"])
    api("GetModule", S.MODULE_DOES_NOT_EXIST, module_id="mod")


def test_runners_are_user_level(user: Api) -> None:
    runner = R.Runner(id="runner-1", description="gpu", worker=R.Worker(model=R.Model(id="emb")))
    user("PostRunners", nodepool_id="np", compute_cluster_id="cc", runners=[runner])
    user("PostRunners", S.RUNNER_INVALID_ARGUMENT, runners=[R.Runner(id="runner-1")])
    got = user("GetRunner", runner_id="runner-1").runner
    assert (got.nodepool.id, got.nodepool.compute_cluster.id, got.description) == ("np", "cc", "gpu")
    assert len(user("ListRunners", nodepool_id="np", compute_cluster_id="cc").runners) == 1
    assert not user("ListRunners", nodepool_id="other").runners
    user("DeleteRunners", ids=["runner-1"])
    user("GetRunner", S.RUNNER_DOES_NOT_EXIST, runner_id="runner-1")


def test_rpcs_not_emulated_answer_not_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every unary RPC of modelwire's V2 proto is emulated; one without a route (here PatchModels,
    # its route taken away) answers NOT_IMPLEMENTED in the status.
    routes = ModelsArea.routes
    monkeypatch.setattr(
        ModelsArea, "routes", lambda self: {k: v for k, v in routes(self).items() if k != "PatchModels"}
    )
    with Emulator(api_key=KEY, user_id=USER) as emu, grpc.insecure_channel(emu.address) as channel:
        api = Api(service_pb2_grpc.V2Stub(channel), R.UserAppIDSet(user_id=USER, app_id="any"))
        answer = api("PatchModels", S.NOT_IMPLEMENTED)
    assert "not emulated" in answer.status.details


# -- datasets -------------------------------------------------------------------------------------------


def test_dataset_crud_and_membership(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="train"), R.Dataset(id="test")])
    api("PostDatasets", S.CONN_INVALID_REQUEST, datasets=[R.Dataset(id="train")])
    got = api("GetDataset", dataset_id="train").dataset
    assert (got.id, got.app_id, got.user_id) == ("train", api.app.app_id, USER)
    api("GetDataset", S.CONN_DOES_NOT_EXIST, dataset_id="nope")
    assert [d.id for d in api("ListDatasets").datasets] == ["test", "train"]
    add(api, [text("a", "alpha"), text("b", "beta"), text("c", "gamma"), text("d", "delta", ("train",))])
    members = [R.DatasetInput(input=R.Input(id=i)) for i in ("a", "b", "d")]
    added = api("PostDatasetInputs", dataset_id="train", dataset_inputs=members)
    assert [d.input.id for d in added.dataset_inputs] == ["a", "b"]  # d was a member already
    ghost = [R.DatasetInput(input=R.Input(id="zz"))]
    api("PostDatasetInputs", S.INPUT_DOES_NOT_EXIST, dataset_id="train", dataset_inputs=ghost)
    # Merge "train" into "test" by search, as the SDK's merge_dataset does.
    in_train = R.Search(query=R.Query(filters=[R.Filter(input=R.Input(dataset_ids=["train"]))]))
    merged = api("PostDatasetInputs", dataset_id="test", search=in_train)
    assert sorted(d.input.id for d in merged.dataset_inputs) == ["a", "b", "d"]
    listed = api("ListDatasetInputs", dataset_id="train").dataset_inputs
    assert sorted(d.input.id for d in listed) == ["a", "b", "d"]
    assert all(d.HasField("created_at") and d.input.data.text.raw for d in listed)
    assert list(api("GetInput", input_id="a").input.dataset_ids) == ["test", "train"]
    api("DeleteDatasets", dataset_ids=["train"])
    api("ListDatasetInputs", S.CONN_DOES_NOT_EXIST, dataset_id="train")
    assert sorted(input_ids(api)) == ["a", "b", "c", "d"]  # inputs outlive their dataset
    assert list(api("GetInput", input_id="a").input.dataset_ids) == ["test"]


# -- inputs ---------------------------------------------------------------------------------------------


def test_duplicate_ids_give_mixed_status_and_per_input_statuses(api: Api) -> None:
    add(api, [text("dup", "first")])
    response = api(
        "PostInputs",
        S.MIXED_STATUS,
        inputs=[
            text("dup", "again"),  # exists in the app
            text("new", "fresh"),
            text("new", "twice in one request"),
            R.Input(id="empty"),
            text("bad-ds", "x", ("nope",)),
            R.Input(id="no concept id", data=R.Data(text=R.Text(raw="x"), concepts=[R.Concept(value=1)])),
        ],
    )
    assert [i.status.code for i in response.inputs] == [
        S.INPUT_DUPLICATE,
        S.INPUT_DOWNLOAD_PENDING,
        S.INPUT_DUPLICATE,
        S.INPUT_INVALID_ARGUMENT,
        S.INPUT_INVALID_ARGUMENT,
        S.INPUT_INVALID_ARGUMENT,
    ]
    duplicate = response.inputs[0].status
    assert duplicate.description == duplicate.details == "Input has a duplicate ID."  # clients match it
    assert "'nope'" in response.inputs[4].status.details
    wait_job(api, response.inputs_add_job.id)
    assert api("GetInput", input_id="new").input.data.text.raw == "fresh"
    assert api("PostInputs", S.FAILURE, inputs=[text("dup", "x")]).inputs[0].status.code == S.INPUT_DUPLICATE
    api("PostInputs", inputs=[text("dup", "x")], input_id_conflict_resolution=R.SKIP)
    assert (
        api("PostInputs", inputs=[text("dup", "x")], input_id_conflict_resolution=R.SUFFIX).inputs[0].id
        == "dup-1"
    )
    too_many = [text(f"m{i}", "x") for i in range(129)]
    assert "128" in api("PostInputs", S.INPUT_INVALID_REQUEST, inputs=too_many).status.details
    api("PostInputs", S.INPUT_INVALID_REQUEST, inputs=[])


def test_inputs_are_processed_asynchronously(emulator: Emulator, api: Api, tmp_path: Path) -> None:
    picture = png(1)
    on_disk = tmp_path / "pic.png"
    on_disk.write_bytes(png(2))
    paris = R.Geo(geo_point=R.GeoPoint(longitude=2.35, latitude=48.85))
    posted = api(
        "PostInputs",
        inputs_add_job_id="job-1",
        inputs=[
            text("txt", "a sentence about cats", metadata=struct(source="test"), concepts=[concept("cat")]),
            image("img", picture, geo=paris),
            R.Input(id="url", data=R.Data(image=R.Image(url=on_disk.as_uri()))),
            R.Input(id="vid", data=R.Data(video=R.Video(base64=b"\x00\x00\x00\x18ftypmp42"))),
            image("broken", b"not an image"),
        ],
    )
    assert posted.inputs_add_job.id == "job-1"
    assert all(i.status.code == S.INPUT_DOWNLOAD_PENDING and not i.data.image.base64 for i in posted.inputs)
    api("PostInputs", S.INPUT_INVALID_REQUEST, inputs_add_job_id="job-1", inputs=[text("z", "z")])
    job = wait_job(api, "job-1")
    assert (job.progress.success_count, job.progress.failed_count, job.status.code) == (4, 1, S.JOB_COMPLETED)
    got = {i.id: i for i in api("ListInputs").inputs}
    assert {k: v.status.code for k, v in got.items()} == {
        "txt": S.INPUT_DOWNLOAD_SUCCESS,
        "img": S.INPUT_DOWNLOAD_SUCCESS,
        "url": S.INPUT_DOWNLOAD_SUCCESS,
        "vid": S.INPUT_DOWNLOAD_SUCCESS,
        "broken": S.INPUT_DOWNLOAD_FAILED,
    }
    assert "not a decodable image" in got["broken"].status.details
    txt = got["txt"].data
    assert (txt.text.raw, txt.metadata["source"], txt.concepts[0].id) == (
        "a sentence about cats",
        "test",
        "cat",
    )
    assert hosted(txt.text) == b"a sentence about cats"
    img = got["img"].data.image
    assert not img.base64 and (img.image_info.width, img.image_info.height, img.image_info.format) == (
        96,
        72,
        "PNG",
    )
    assert hosted(img) == served(img.url) == picture
    assert got["img"].data.geo.geo_point.latitude == pytest.approx(48.85)
    assert got["url"].data.image.url == on_disk.as_uri()  # the given URL is kept, next to a hosted copy
    assert hosted(got["url"].data.image) == on_disk.read_bytes()
    counts = api("GetInputCount").counts
    assert (counts.processed, counts.errors, counts.to_process, counts.processing) == (4, 1, 0, 0)
    # "txt" has an input-level annotation with its concepts, and "cat" became an app concept.
    annotations = api("ListAnnotations", input_ids=["txt"]).annotations
    assert [(a.input_level, [c.id for c in a.data.concepts]) for a in annotations] == [(True, ["cat"])]
    assert api("GetConcept", concept_id="cat").concept.name == "cat"
    api("GetInput", S.INPUT_DOES_NOT_EXIST, input_id="nope")
    api("GetInputsAddJob", S.CONN_DOES_NOT_EXIST, id="nope")
    api("DeleteInputs", ids=["broken", "never-existed"])  # unknown ids are ignored
    api("DeleteInputs", ids=[])
    assert sorted(input_ids(api)) == ["img", "txt", "url", "vid"]

    def blobs() -> int:
        row = emulator.store.one("SELECT COUNT(*) AS n FROM clarifai_blobs")
        assert row is not None
        return int(row["n"])

    before = blobs()
    api("DeleteInputs", ids=["img"])
    assert blobs() == before - 1  # content nothing refers to any more is deleted with its input


def test_urls_off_loopback_are_refused(api: Api) -> None:
    job = add(api, [R.Input(id="remote", data=R.Data(image=R.Image(url="https://example.com/cat.jpg")))])
    assert job.progress.failed_count == 1
    failed = api("GetInput", input_id="remote").input.status
    assert failed.code == S.INPUT_DOWNLOAD_FAILED and "example.com" in failed.details
    remote_rank = rank(image=R.Image(url="http://203.0.113.7/a.png"))
    assert "203.0.113.7" in search(api, R.Query(ranks=[remote_rank]), S.INPUT_INVALID_URL).status.details


class _SlowImages(http.server.BaseHTTPRequestHandler):
    """Serves a PNG once `release` is set: keeps the emulator's workers busy on demand."""

    release = threading.Event()
    body = png(5)

    def do_GET(self) -> None:
        self.release.wait(30)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def test_cancel_inputs_add_job_fails_its_pending_inputs(api: Api) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowImages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slow.png"
    try:
        # 4 workers x 32 inputs: the first job's chunks hold every worker, the second job waits.
        slow = [R.Input(id=f"s{i}", data=R.Data(image=R.Image(url=url))) for i in range(128)]
        first = api("PostInputs", inputs=slow).inputs_add_job.id
        second = api("PostInputs", inputs=[text(f"q{i}", "queued") for i in range(128)]).inputs_add_job.id
        job = api("CancelInputsAddJob", id=second).inputs_add_job
        assert (job.status.code, job.progress.failed_count, job.progress.pending_count) == (
            S.JOB_CANCELLED,
            128,
            0,
        )
    finally:
        _SlowImages.release.set()
    assert wait_job(api, first).progress.success_count == 128
    cancelled = api("ListInputs", ids=["q0"]).inputs[0].status
    assert cancelled.code == S.INPUT_DOWNLOAD_FAILED and "cancelled" in cancelled.details
    server.shutdown()


def test_paging_defaults_maxima_and_exact_slices(api: Api) -> None:
    add(api, [text(f"p{i:04d}", f"text {i}") for i in range(1030)])
    newest_first = [f"p{i:04d}" for i in reversed(range(1030))]
    assert input_ids(api) == newest_first[:128]  # per_page unset: 128
    assert input_ids(api, page=0, per_page=10) == newest_first[:10]  # page 0 is page 1
    assert input_ids(api, per_page=5000) == newest_first[:1000]  # clamped to 1000
    pages = [input_ids(api, page=p, per_page=300) for p in range(1, 5)]
    assert [len(p) for p in pages] == [300, 300, 300, 130]
    assert [i for page in pages for i in page] == newest_first
    assert input_ids(api, page=99, per_page=300) == []
    assert input_ids(api, ids=["p0007", "p0003", "p1000"]) == ["p1000", "p0007", "p0003"]
    add(api, [image("f", b"junk")])
    assert input_ids(api, status=status_pb2.Status(code=S.INPUT_DOWNLOAD_FAILED)) == ["f"]


# -- labels ---------------------------------------------------------------------------------------------


def test_patch_inputs_merge_remove_overwrite(api: Api) -> None:
    add(api, [text("x", "patch me", concepts=[concept("a")], metadata=struct(keep=1, nested={"k": "v"}))])

    def patch(action: str, **data: Any) -> R.Data:
        result: R.Data = (
            api("PatchInputs", action=action, inputs=[R.Input(id="x", data=R.Data(**data))]).inputs[0].data
        )
        return result

    merged = patch("merge", concepts=[concept("b", 0.0)], metadata=struct(extra=True, nested={"k2": 2}))
    assert [(c.id, c.value) for c in merged.concepts] == [("a", 1.0), ("b", 0.0)]
    assert (merged.metadata["keep"], merged.metadata["extra"]) == (1, True)
    assert dict(merged.metadata["nested"]) == {"k": "v", "k2": 2}
    removed = patch("remove", concepts=[concept("a")], metadata=struct(nested={"k": None}))
    assert [c.id for c in removed.concepts] == ["b"] and dict(removed.metadata["nested"]) == {"k2": 2}
    overwritten = patch("overwrite", concepts=[concept("c")], metadata=struct(only="this"))
    assert [c.id for c in overwritten.concepts] == ["c"] and dict(overwritten.metadata) == {"only": "this"}
    assert overwritten.text.raw == "patch me"
    levels = [a for a in api("ListAnnotations", input_ids=["x"]).annotations if a.input_level]
    assert [[c.id for c in a.data.concepts] for a in levels] == [["c"]]
    assert {c.id for c in api("ListConcepts").concepts} == {"a", "b", "c"}
    api("PatchInputs", S.INPUT_INVALID_REQUEST, action="replace", inputs=[R.Input(id="x")])
    api("PatchInputs", S.INPUT_DOES_NOT_EXIST, action="merge", inputs=[R.Input(id="ghost")])


def test_annotations_with_regions(api: Api) -> None:
    add(api, [image("pic", png(3)), text("doc", "words")])
    points = [
        R.Point(row=0.1, col=0.1, visibility=R.Point.VISIBLE),
        R.Point(row=0.5, col=0.2),
        R.Point(row=0.3, col=0.9),
    ]
    polygon = R.Region(
        region_info=R.RegionInfo(polygon=R.Polygon(points=points)), data=R.Data(concepts=[concept("cat")])
    )
    response = api(
        "PostAnnotations",
        S.MIXED_STATUS,
        annotations=[
            R.Annotation(id="ann-box", input_id="pic", data=R.Data(regions=[box("dog")])),
            R.Annotation(input_id="pic", data=R.Data(regions=[polygon])),
            R.Annotation(input_id="missing", data=R.Data(concepts=[concept("x")])),
            R.Annotation(id="ann-box", input_id="doc", data=R.Data(concepts=[concept("y")])),
        ],
    )
    assert [a.status.code for a in response.annotations] == [
        S.ANNOTATION_SUCCESS,
        S.ANNOTATION_SUCCESS,
        S.INPUT_DOES_NOT_EXIST,
        S.ANNOTATION_INVALID_ARGUMENT,
    ]
    polygon_id = response.annotations[1].id
    listed = {a.id: a for a in api("ListAnnotations", input_ids=["pic"]).annotations}
    (level,) = [a for a in listed.values() if a.input_level]  # every input has one, empty without labels
    assert set(listed) == {"ann-box", polygon_id, level.id} and level.data == R.Data()
    assert listed["ann-box"].data.regions[0].region_info.bounding_box.right_col == pytest.approx(0.6)
    assert (
        len(
            api("ListAnnotations", ids=[polygon_id]).annotations[0].data.regions[0].region_info.polygon.points
        )
        == 3
    )
    assert len(api("ListAnnotations", list_all_annotations=True, per_page=1).annotations) == 1
    assert {"dog", "cat"} <= {c.id for c in api("ListConcepts").concepts}
    tagged = R.Annotation(id="ann-box", data=R.Data(concepts=[concept("tag")]))
    patched = api("PatchAnnotations", action="merge", annotations=[tagged]).annotations[0]
    assert [c.id for c in patched.data.concepts] == ["tag"] and len(patched.data.regions) == 1
    api("PatchAnnotations", S.CONN_DOES_NOT_EXIST, action="merge", annotations=[R.Annotation(id="nope")])
    api("DeleteAnnotations", ids=["ann-box", "unknown"], input_ids=["pic", "pic"])
    assert [a.id for a in api("ListAnnotations").annotations if not a.input_level] == [polygon_id]
    api("DeleteAnnotations", S.ANNOTATION_INVALID_ARGUMENT)


def test_concepts_crud_and_search(api: Api) -> None:
    made = api(
        "PostConcepts",
        concepts=[
            R.Concept(id="dog", name="Dog"),
            R.Concept(id="hotdog", name="Hot Dog"),
            R.Concept(id="chien", name="chien", language="fr"),
        ],
    )
    assert [c.language for c in made.concepts] == ["en", "en", "fr"]
    api("PostConcepts", S.CONCEPTS_INVALID_REQUEST, concepts=[R.Concept(id="dog")])
    assert api("GetConcept", concept_id="dog").concept.name == "Dog"
    api("GetConcept", S.CONN_DOES_NOT_EXIST, concept_id="cat")
    assert (
        api("PatchConcepts", action="overwrite", concepts=[R.Concept(id="dog", name="Doggo")])
        .concepts[0]
        .name
        == "Doggo"
    )
    api("PatchConcepts", S.CONCEPTS_INVALID_REQUEST, action="merge", concepts=[R.Concept(id="dog")])

    def find(name: str, language: str = "", **page: int) -> list[str]:
        query = R.ConceptQuery(name=name, language=language)
        found = api("PostConceptsSearches", concept_query=query, pagination=service_pb2.Pagination(**page))
        return [c.id for c in found.concepts]

    assert find("*dog") == ["hotdog"] and find("*DOG*") == ["hotdog", "dog"]
    assert find("doggo") == ["dog"] and find("hot*") == ["hotdog"] and find("dog") == []
    assert find("*", language="fr") == ["chien"]
    assert find("*", per_page=2, page=2) == ["dog"]
    assert [c.id for c in api("ListConcepts", per_page=2).concepts] == ["chien", "hotdog"]


# -- dataset versions and exports ------------------------------------------------------------------------


def test_dataset_versions_metrics_and_export_archive(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="ds")])
    picture = png(4)
    add(
        api,
        [
            image("i1", picture, ("ds",), concepts=[concept("cat")], metadata=struct(a=1)),
            text("t1", "hello world", ("ds",), concepts=[concept("cat"), concept("dog")]),
            text("t2", "unlabeled", ("ds",)),
            text("outside", "not in the dataset"),
        ],
    )
    api("PostAnnotations", annotations=[R.Annotation(input_id="i1", data=R.Data(regions=[box("dog")]))])
    version = api(
        "PostDatasetVersions",
        dataset_id="ds",
        dataset_versions=[R.DatasetVersion(id="v1", description="first")],
    )
    v1 = version.dataset_versions[0]
    assert (v1.status.code, v1.dataset_id, v1.description) == (S.DATASET_VERSION_READY, "ds", "first")
    root = v1.metrics["/"]
    assert (
        root.inputs_count.value,
        root.unlabeled_inputs_count.value,
        root.positive_input_tags_count.value,
    ) == (3, 1, 3)
    assert (
        root.bounding_boxes_count.value,
        root.inputs_with_metadata_count.value,
        root.embeddings_count.value,
    ) == (1, 1, 3)
    api(
        "PostDatasetVersions",
        S.DATASET_VERSION_CONFLICT,
        dataset_id="ds",
        dataset_versions=[R.DatasetVersion(id="v1")],
    )
    api("PostDatasetVersions", dataset_id="ds")  # a generated id
    versions = api("ListDatasetVersions", dataset_id="ds").dataset_versions
    assert len(versions) == 2 and versions[1].id == "v1"
    assert api("GetDataset", dataset_id="ds").dataset.version.id == versions[0].id  # the latest
    api("DeleteInputs", ids=["t2"])  # a version is a snapshot: this changes nothing below

    groups = api(
        "ListDatasetVersionMetricsGroups", dataset_id="ds", dataset_version_id="v1"
    ).dataset_version_metrics_groups
    counts = {
        (g.type, g.value.string_value or g.value.number_value): g.metrics.inputs_count.value for g in groups
    }
    assert counts[(R.INPUT_TYPE, "image")] == 1 and counts[(R.INPUT_TYPE, "text")] == 2
    assert counts[(R.CONCEPT_ID, "cat")] == 2 and counts[(R.CONCEPT_ID, "dog")] == 2
    assert all(g.parent_path == "/" for g in groups)
    by_concept = api(
        "ListDatasetVersionMetricsGroups", dataset_id="ds", dataset_version_id="v1", types=[R.CONCEPT_ID]
    ).dataset_version_metrics_groups
    assert [g.value.string_value for g in by_concept] == ["cat", "dog"]
    api("ListDatasetVersionMetricsGroups", S.CONN_DOES_NOT_EXIST, dataset_id="ds", dataset_version_id="nope")

    def export() -> R.DatasetVersionExport:
        answer: R.DatasetVersionExport = api(
            "PutDatasetVersionExports", dataset_id="ds", dataset_version_id="v1", exports=EXPORT_PROTOBUF
        ).exports[0]
        return answer

    started = {
        S.DATASET_VERSION_EXPORT_PENDING,
        S.DATASET_VERSION_EXPORT_IN_PROGRESS,
        S.DATASET_VERSION_EXPORT_SUCCESS,
    }
    assert export().status.code in started
    done = poll(lambda: (e := export()).status.code == S.DATASET_VERSION_EXPORT_SUCCESS and e, "the export")
    archive_bytes = served(done.url)
    assert len(archive_bytes) == done.size
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        names = archive.namelist()
        assert names[0] == "mimetype" and archive.read("mimetype") == b"application/x.clarifai-data+protobuf"
        batches = [R.InputBatch.FromString(archive.read(name)) for name in names[1:]]
    assert [name.rsplit("_n", 1)[1] for name in names[1:]] == ["3"]
    exported = {i.id: i for batch in batches for i in batch.inputs}
    assert sorted(exported) == ["i1", "t1", "t2"]
    assert exported["i1"].data.image.base64 == picture == hosted(exported["i1"].data.image)
    assert [c.id for c in exported["i1"].data.concepts] == ["cat"] and len(exported["i1"].data.regions) == 1
    assert exported["t2"].data.text.raw == "unlabeled"
    coco = [R.DatasetVersionExport(format=R.COCO)]
    api(
        "PutDatasetVersionExports",
        S.CONN_INVALID_REQUEST,
        dataset_id="ds",
        dataset_version_id="v1",
        exports=coco,
    )
    api("DeleteDatasetVersions", dataset_id="ds", dataset_version_ids=["v1"])
    assert len(api("ListDatasetVersions", dataset_id="ds").dataset_versions) == 1
    api("DeleteDatasetVersions", S.CONN_DOES_NOT_EXIST, dataset_id="ds", dataset_version_ids=["v1"])


# -- search ---------------------------------------------------------------------------------------------


TEXTS = {
    "fox": "the quick brown fox jumps over the lazy dog",
    "fox2": "a quick brown fox jumped over lazy dogs",
    "cake": "recipe for a chocolate cake",
    "cake2": "how to bake chocolate cake at home",
    "market": "stock markets fell sharply on tuesday",
}


@pytest.mark.parametrize("metric", [R.Search.EUCLIDEAN_DISTANCE, R.Search.COSINE_DISTANCE])
def test_search_by_text_and_image_with_filters(api: Api, metric: int) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="pets")])
    inputs = [text(k, v, concepts=[concept("food")] if "cake" in k else []) for k, v in TEXTS.items()]
    for i in range(4):
        inputs.append(
            image(f"img{i}", png(10 + i), ("pets",) if i < 2 else (), metadata=struct(even=i % 2 == 0))
        )
    add(api, inputs)

    def ids(query: R.Query, **fields: Any) -> list[str]:
        return [h.input.id for h in search(api, query, metric=metric, **fields).hits]

    hits = search(api, R.Query(ranks=[text_rank("quick brown fox")]), metric=metric).hits
    assert {h.input.id for h in hits[:2]} == {"fox", "fox2"} and hits[0].score >= hits[1].score >= hits[
        2
    ].score
    assert {h.input.id for h in hits} <= set(TEXTS)  # text never ranks images
    assert hits[0].input.data.text.raw == TEXTS[hits[0].input.id] and hits[0].app_id == api.app.app_id
    by_image = rank(image=R.Image(base64=png(12)))
    found = search(api, R.Query(ranks=[by_image]), metric=metric).hits
    assert found[0].input.id == "img2" and found[0].score == pytest.approx(1.0, abs=1e-4)
    assert {h.input.id for h in found} == {"img0", "img1", "img2", "img3"}

    images_only = R.Filter(input=R.Input(data=R.Data(image=R.Image())))
    assert sorted(ids(R.Query(filters=[images_only]))) == ["img0", "img1", "img2", "img3"]
    in_pets = R.Filter(input=R.Input(dataset_ids=["pets"]))
    assert sorted(ids(R.Query(ranks=[by_image], filters=[in_pets]))) == ["img0", "img1"]
    even = R.Filter(annotation=R.Annotation(data=R.Data(metadata=struct(even=True))))
    assert sorted(ids(R.Query(filters=[even]))) == ["img0", "img2"]
    food = R.Annotation(data=R.Data(concepts=[concept("food")]))
    assert sorted(ids(R.Query(ranks=[text_rank("chocolate")], filters=[R.Filter(annotation=food)]))) == [
        "cake",
        "cake2",
    ]
    assert "cake" not in ids(
        R.Query(ranks=[text_rank("chocolate cake")], filters=[R.Filter(negate=True, annotation=food)])
    )
    processed = R.Filter(input=R.Input(status=status_pb2.Status(code=S.INPUT_DOWNLOAD_SUCCESS)))
    everything = ids(R.Query(filters=[processed]), pagination=service_pb2.Pagination(page=1, per_page=9))
    assert len(everything) == 9
    # Pages are exact slices of one ranking: they never overlap.
    pages = [
        ids(R.Query(filters=[processed]), pagination=service_pb2.Pagination(page=p, per_page=4))
        for p in (1, 2, 3)
    ]
    assert [i for page in pages for i in page] == everything and [len(p) for p in pages] == [4, 4, 1]
    counted = search(api, R.Query(filters=[images_only]), only_count=True)
    assert counted.hit_counts[0].estimated_total == 4 and not counted.hits
    more_like_cake = R.Rank(annotation=R.Annotation(input_id="cake"))
    assert ids(R.Query(ranks=[more_like_cake]))[:2] == ["cake", "cake2"]


def test_search_refuses_what_it_cannot_run(api: Api) -> None:
    add(api, [text("t", "text"), R.Input(id="v", data=R.Data(video=R.Video(base64=b"\x00video")))])
    bad_image = rank(image=R.Image(base64=b"junk"))
    assert "decodable" in search(api, R.Query(ranks=[bad_image]), S.SEARCH_INVALID_REQUEST).status.details
    negated = R.Rank(negate=True, annotation=text_rank("x").annotation)
    search(api, R.Query(ranks=[negated]), S.SEARCH_INVALID_REQUEST)
    assert [h.input.id for h in search(api, R.Query(ranks=[R.Rank()])).hits] == ["v", "t"]  # empty: none
    api("PostInputsSearches", S.SEARCH_INVALID_REQUEST)  # no search
    api("PostInputsSearches", S.SEARCH_INVALID_REQUEST, searches=[R.Search(algorithm="magic")])
    video_rank = R.Rank(annotation=R.Annotation(input_id="v"))
    search(api, R.Query(ranks=[video_rank]), S.SEARCH_BY_NOT_FULLY_INDEXED_INPUT)


def test_annotation_search_add_jobs_and_dataset_versions(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="ds")])
    first = add(api, [image("red", png(1), ("ds",)), text("note", "a note", concepts=[concept("memo")])])
    second = add(api, [image("blue", png(2), metadata=struct(tint="blue"))])
    info = struct(reviewed=True)
    api(
        "PostAnnotations",
        annotations=[
            R.Annotation(id="b1", input_id="red", data=R.Data(regions=[box("apple")]), annotation_info=info),
            R.Annotation(id="b2", input_id="blue", data=R.Data(regions=[box("sky")])),
        ],
    )

    def found(*filters: R.Filter, **fields: Any) -> list[str]:
        query = R.Query(ranks=[R.Rank()], filters=list(filters))  # an empty rank: none
        response = api("PostAnnotationsSearches", searches=[R.Search(query=query)], **fields)
        assert all(h.input.id == h.annotation.input_id for h in response.hits)
        return [h.annotation.id for h in response.hits]

    every = found(R.Filter())
    assert len(every) == 5 and every[:2] == ["b2", "b1"]  # 3 input-level ones (one per input) + 2 boxes
    on = {"annotation": R.Annotation(data=R.Data(concepts=[concept("apple")]))}
    assert found(R.Filter(**on)) == ["b1"]
    assert "b1" not in found(R.Filter(negate=True, **on)) and len(found(R.Filter(negate=True, **on))) == 4
    assert found(R.Filter(annotation=R.Annotation(annotation_info=struct(reviewed=True)))) == ["b1"]
    in_ds = R.Filter(input=R.Input(dataset_ids=["ds"]))
    assert sorted(found(in_ds)) == sorted(
        ["b1", *(a.id for a in api("ListAnnotations", input_ids=["red"]).annotations if a.input_level)]
    )
    blue = R.Filter(annotation=R.Annotation(data=R.Data(metadata=struct(tint="blue"))))
    texts = R.Filter(input=R.Input(data=R.Data(text=R.Text())))
    assert len(found(blue)) == 2 and len(found(texts)) == 1 and found(blue, texts) == []
    assert found(R.Filter(**on), pagination=service_pb2.Pagination(page=2, per_page=1)) == []
    assert found(R.Filter(), pagination=service_pb2.Pagination(page=2, per_page=2)) == every[2:4]
    by_worker = R.Filter(annotation=R.Annotation(model_version_id="mv"))  # all are made by hand here
    assert found(by_worker) == []
    api("PostAnnotationsSearches", S.SEARCH_INVALID_REQUEST)  # no search

    jobs = api("ListInputsAddJobs").inputs_add_jobs
    assert [j.id for j in jobs] == [second.id, first.id]
    assert jobs[1].progress.success_count == 2 and jobs[1].status.code == S.JOB_COMPLETED
    assert [j.id for j in api("ListInputsAddJobs", page=2, per_page=1).inputs_add_jobs] == [first.id]
    api("GetInputsAddJob", S.CONN_DOES_NOT_EXIST, id="nope")

    made = api("PostDatasetVersions", dataset_id="ds", dataset_versions=[R.DatasetVersion(id="v1")])
    got = api("GetDatasetVersion", dataset_id="ds", dataset_version_id="v1").dataset_version
    assert got == made.dataset_versions[0] and got.metrics["/"].inputs_count.value == 1
    api("GetDatasetVersion", S.CONN_DOES_NOT_EXIST, dataset_id="ds", dataset_version_id="nope")
    api("GetDatasetVersion", S.CONN_DOES_NOT_EXIST, dataset_id="nope", dataset_version_id="v1")
    api("PostDatasets", datasets=[R.Dataset(id="empty")])
    api("PostDatasetVersions", dataset_id="empty", dataset_versions=[R.DatasetVersion(id="e1")])
    (total,) = api(
        "ListDatasetVersionMetricsGroups", dataset_id="empty", dataset_version_id="e1"
    ).dataset_version_metrics_groups
    assert (total.type, total.value.string_value, total.parent_path) == (R.INPUT_TYPE, "total", "/")
    assert total.metrics.HasField("inputs_count") and total.metrics.inputs_count.value == 0


# -- persistence and wiring --------------------------------------------------------------------------------


def test_everything_survives_a_restart_with_a_file_db(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite"
    by_image = rank(image=R.Image(base64=png(7)))
    with Emulator(api_key=KEY, db=db) as emu, grpc.insecure_channel(emu.address) as channel:
        stub = service_pb2_grpc.V2Stub(channel)
        Api(stub, R.UserAppIDSet(user_id=USER))("PostApps", apps=[R.App(id="kept")])
        api = Api(stub, R.UserAppIDSet(user_id=USER, app_id="kept"))
        app_key = emu.clarifai.create_app_key("kept")
        api("PostDatasets", datasets=[R.Dataset(id="ds")])
        add(api, [image("img", png(7), ("ds",), concepts=[concept("cat")]), text("txt", "persisted words")])
        api("PostDatasetVersions", dataset_id="ds", dataset_versions=[R.DatasetVersion(id="v1")])
        api("PostModels", models=[R.Model(id="m")])
        assert search(api, R.Query(ranks=[text_rank("persisted")])).hits[0].input.id == "txt"
    with Emulator(api_key=KEY, db=db) as emu, grpc.insecure_channel(emu.address) as channel:
        api = Api(service_pb2_grpc.V2Stub(channel), R.UserAppIDSet(user_id=USER, app_id="kept"))
        assert Api(api.stub, R.UserAppIDSet(), app_key)("GetApp").app.id == "kept"
        img = api("GetInput", input_id="img").input
        assert img.status.code == S.INPUT_DOWNLOAD_SUCCESS and list(img.dataset_ids) == ["ds"]
        assert served(img.data.image.url) == png(7)  # hosted again by the new process
        assert search(api, R.Query(ranks=[text_rank("persisted")])).hits[0].input.id == "txt"  # index rebuilt
        assert search(api, R.Query(ranks=[by_image])).hits[0].input.id == "img"
        versions = api("ListDatasetVersions", dataset_id="ds").dataset_versions
        assert [v.id for v in versions] == ["v1"] and versions[0].metrics["/"].inputs_count.value == 1
        assert api("GetModel", model_id="m").model.id == "m"
        assert api("GetConcept", concept_id="cat").concept.id == "cat"


def test_client_env_points_at_clarifai(emulator: Emulator) -> None:
    env = emulator.client_env()
    assert (env["CLARIFAI_PAT"], env["CLARIFAI_USER_ID"]) == (KEY, USER)
    assert env["CLARIFAI_API_BASE"] == f"http://{emulator.address}"


def test_injected_faults_apply_to_clarifai(emulator: Emulator, api: Api) -> None:
    emulator.faults.add("ListInputs", grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(grpc.RpcError) as caught:
        api("ListInputs")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    api("ListInputs")
    assert any(c.code == "UNAVAILABLE" for c in emulator.calls.records("/clarifai.api.V2/ListInputs"))
