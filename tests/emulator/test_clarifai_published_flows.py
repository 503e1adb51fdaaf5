"""The unchanged published clarifai 12.5.0 SDK against the emulator, flow by flow, next to ours.

Each flow runs through the published client exactly as its users call it (`base_url` =
"http://127.0.0.1:<port>", `pat` = the emulator's key) and through modelwire's SDK on the same
emulator, and both must see the same thing: search with filters only (the published
`Search.query` always sends an empty rank), annotation search, input-level annotations, datasets
(patch, versions, merge, upload status with `pre_upload`), inputs-add jobs, and workflows
(create, validation). Runs where the published SDK is installed (`make test-published`).
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai import App, Inputs, User

published_search = pytest.importorskip("clarifai.client.search")
published_user = pytest.importorskip("clarifai.client.user")
published_input = pytest.importorskip("clarifai.client.input")
published_dataset = pytest.importorskip("clarifai.client.dataset")
their_pb = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")
their_service = pytest.importorskip("clarifai_grpc.grpc.api.service_pb2")

S = status_code_pb2.StatusCode


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), ((seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256)).save(out, "PNG")
    return out.getvalue()


def wait_until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def apps(user: User, base_url: str, api_key: str) -> Iterator[tuple[Any, App]]:
    """A fresh app made by the published SDK, and the same app as our App."""
    app_id = f"flows-{uuid.uuid4().hex[:8]}"
    theirs = published_user.User(user_id=user.user_id, base_url=base_url, pat=api_key)
    their_app = theirs.create_app(app_id=app_id)
    ours = user.app(app_id)
    yield their_app, ours
    ours.close()
    theirs.delete_app(app_id)


def _processed(inputs: Inputs, count: int) -> None:
    wait_until(lambda: [i.status.code for i in inputs.list_inputs()] == [S.INPUT_DOWNLOAD_SUCCESS] * count)


@pytest.fixture
def stocked(apps: tuple[Any, App]) -> tuple[Any, App]:
    """Three images (two in dataset "pets", labelled) and two texts, all processed."""
    their_app, ours = apps
    ours.create_dataset("pets").close()
    with ours.inputs() as inputs:
        inputs.upload_inputs(
            [
                Inputs.get_input_from_bytes("cat", image_bytes=png(1), dataset_id="pets", labels=["cat"]),
                Inputs.get_input_from_bytes("dog", image_bytes=png(2), dataset_id="pets", labels=["dog"]),
                Inputs.get_input_from_bytes("car", image_bytes=png(3), metadata={"kind": "vehicle"}),
                Inputs.get_text_input("t1", "a note about cats", labels=["cat"]),
                Inputs.get_text_input("t2", "a note about cars", metadata={"kind": "vehicle"}),
            ]
        )
        _processed(inputs, 5)
    return their_app, ours


# -- 1. search with filters only ---------------------------------------------------------------------


def _hit_ids(responses: Any) -> list[str]:
    return [hit.input.id for response in responses for hit in response.hits]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"input_types": ["image"]}, {"cat", "dog", "car"}),
        ({"input_types": ["text"]}, {"t1", "t2"}),
        ({"input_dataset_ids": ["pets"]}, {"cat", "dog"}),
        ({"metadata": {"kind": "vehicle"}}, {"car", "t2"}),
        ({"concepts": [{"id": "cat", "value": 1}]}, {"cat", "t1"}),
        ({"input_types": ["image"], "input_status_code": 30000}, {"cat", "dog", "car"}),
    ],
)
def test_the_published_search_with_filters_only_finds_what_ours_finds(
    stocked: tuple[Any, App], base_url: str, api_key: str, spec: dict[str, Any], expected: set[str]
) -> None:
    _, ours = stocked
    theirs = published_search.Search(user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key)
    # The published client sends ranks=[{}] (one empty rank): "no ranking", as on the real API.
    their_ids = _hit_ids(theirs.query(filters=[dict(spec)]))
    search = ours.search(top_k=10)
    our_ids = _hit_ids(search.query(filters=[dict(spec)]))
    search.close()
    assert set(their_ids) == expected
    assert their_ids == our_ids  # same order too: newest first


def test_the_published_search_pages_filter_only_results(
    stocked: tuple[Any, App], base_url: str, api_key: str
) -> None:
    _, ours = stocked
    theirs = published_search.Search(
        user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key, pagination=True
    )
    first = _hit_ids(theirs.query(filters=[{"input_types": ["image"]}], page_no=1, per_page=2))
    second = _hit_ids(theirs.query(filters=[{"input_types": ["image"]}], page_no=2, per_page=2))
    assert len(first) == 2 and len(second) == 1 and set(first + second) == {"cat", "dog", "car"}
    # The default query (an empty rank and an empty filter) lists everything.
    assert len(_hit_ids(theirs.query())) == 5


# -- 2. annotation search ------------------------------------------------------------------------------


def _box(concept: str) -> Any:
    return their_pb.Region(
        region_info=their_pb.RegionInfo(
            bounding_box=their_pb.BoundingBox(top_row=0.1, left_col=0.1, bottom_row=0.5, right_col=0.5)
        ),
        data=their_pb.Data(concepts=[their_pb.Concept(id=concept, value=1.0)]),
    )


def test_annotation_search_through_both_sdks(stocked: tuple[Any, App], base_url: str, api_key: str) -> None:
    their_app, ours = stocked
    their_inputs = published_input.Inputs(
        user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key
    )
    boxes = [
        their_pb.Annotation(id="box-cat", input_id="cat", data=their_pb.Data(regions=[_box("whisker")])),
        their_pb.Annotation(id="box-car", input_id="car", data=their_pb.Data(regions=[_box("wheel")])),
    ]
    assert their_inputs.upload_annotations(boxes) == []  # nothing to retry

    def theirs(query: Any, **fields: Any) -> Any:
        request = their_service.PostAnnotationsSearchesRequest(
            user_app_id=their_app.user_app_id, searches=[their_pb.Search(query=query)], **fields
        )
        return their_app.STUB.PostAnnotationsSearches(request, metadata=their_app.auth_helper.metadata)

    def ours_(query: R.Query, **fields: Any) -> Any:
        return ours._request("PostAnnotationsSearches", searches=[R.Search(query=query)], **fields)

    by_concept = their_pb.Query(
        filters=[
            their_pb.Filter(
                annotation=their_pb.Annotation(
                    data=their_pb.Data(concepts=[their_pb.Concept(id="whisker", value=1)])
                )
            )
        ]
    )
    response = theirs(by_concept)
    assert response.status.code == S.SUCCESS, response.status
    assert [(h.annotation.id, h.annotation.input_id, h.input.id) for h in response.hits] == [
        ("box-cat", "cat", "cat")
    ]
    ours_hits = ours_(R.Query.FromString(by_concept.SerializeToString())).hits
    assert [h.annotation.id for h in ours_hits] == ["box-cat"]

    # Input filters apply to each annotation's input; an empty rank and filter mean "none".
    images = their_pb.Query(
        ranks=[their_pb.Rank(annotation=their_pb.Annotation())],
        filters=[
            their_pb.Filter(input=their_pb.Input(data=their_pb.Data(image=their_pb.Image()))),
            their_pb.Filter(annotation=their_pb.Annotation(), input=their_pb.Input()),
        ],
    )
    found = theirs(images, pagination=their_service.Pagination(page=1, per_page=50))
    assert found.status.code == S.SUCCESS, found.status
    by_input: dict[str, list[str]] = {}
    for hit in found.hits:
        by_input.setdefault(hit.input.id, []).append(hit.annotation.id)
        assert hit.input.data.image.url and hit.user_id == ours.user_id and hit.app_id == ours.id
    assert sorted(by_input) == ["car", "cat", "dog"]
    assert "box-car" in by_input["car"] and "box-cat" in by_input["cat"]
    assert len(found.hits) == 5  # each image's input-level annotation, and the two boxes
    paged = theirs(images, pagination=their_service.Pagination(page=2, per_page=3)).hits
    assert [h.annotation.id for h in paged] == [h.annotation.id for h in found.hits[3:]]

    # Ranked by the content of each annotation's input.
    ranked = their_pb.Query(
        ranks=[
            their_pb.Rank(
                annotation=their_pb.Annotation(data=their_pb.Data(image=their_pb.Image(base64=png(3))))
            )
        ],
        filters=[their_pb.Filter(annotation=their_pb.Annotation(data=their_pb.Data(regions=[])))],
    )
    top = theirs(ranked).hits
    assert top[0].input.id == "car" and top[0].score == pytest.approx(top[1].score)
    missing = theirs(their_pb.Query(ranks=[their_pb.Rank(annotation=their_pb.Annotation(input_id="nope"))]))
    assert missing.status.code == S.INPUT_DOES_NOT_EXIST


# -- 3. input-level annotations ---------------------------------------------------------------------


def test_unlabelled_inputs_get_an_empty_input_level_annotation(
    apps: tuple[Any, App], base_url: str, api_key: str
) -> None:
    _, ours = apps
    theirs = published_input.Inputs(user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key)
    # As a COCO upload does: 3 inputs without labels, then 4 boxes.
    images = [theirs.get_input_from_bytes(f"img{i}", image_bytes=png(i)) for i in range(3)]
    theirs.upload_inputs(images)
    boxes = [
        theirs.get_bbox_proto(f"img{i % 3}", "thing", [0.1, 0.1, 0.4, 0.4], annot_id=f"b{i}")
        for i in range(4)
    ]
    assert theirs.upload_annotations(boxes) == []
    their_listed = list(theirs.list_annotations())
    with ours.inputs() as inputs:
        our_listed = list(inputs.list_annotations())
    assert len(their_listed) == len(our_listed) == 7
    input_level = [a for a in our_listed if a.input_level]
    assert sorted(a.input_id for a in input_level) == ["img0", "img1", "img2"]
    for annotation in input_level:
        assert annotation.id and annotation.status.code == S.ANNOTATION_SUCCESS
        assert annotation.data == R.Data()  # empty: the inputs had no labels
        assert annotation.created_at.seconds
    # Labelling the input later fills the same annotation; it is never a second one.
    theirs.patch_inputs(
        [their_pb.Input(id="img0", data=their_pb.Data(concepts=[their_pb.Concept(id="red", value=1)]))],
        action="merge",
    )
    with ours.inputs() as inputs:
        again = [a for a in inputs.list_annotations() if a.input_level and a.input_id == "img0"]
    assert [a.id for a in again] == [next(a.id for a in input_level if a.input_id == "img0")]
    assert [c.id for c in again[0].data.concepts] == ["red"]


# -- 4. datasets: patch, versions, merge, upload status ---------------------------------------------------


def test_dataset_flows_of_the_published_sdk(stocked: tuple[Any, App], base_url: str, api_key: str) -> None:
    their_app, ours = stocked
    their_app.patch_dataset(dataset_id="pets", action="merge", description="my pets", notes="n")
    assert ours.dataset("pets").dataset_info.description == "my pets"

    their_app.create_dataset("more")
    with ours.inputs() as inputs:
        inputs.upload_inputs([Inputs.get_text_input("t3", "another note", dataset_id="more")])
        wait_until(lambda: inputs.get_input("t3").status.code == S.INPUT_DOWNLOAD_SUCCESS)
    pets = their_app.dataset(dataset_id="pets")
    pets.merge_dataset(merge_dataset_id="more")
    with ours.inputs() as inputs:
        assert sorted(i.id for i in inputs.list_inputs(dataset_id="pets")) == ["cat", "dog", "t3"]

    version = pets.create_version(description="v1")
    listed = list(pets.list_versions())
    assert [v.version.id for v in listed] == [version.version.id]
    got = their_app.STUB.GetDatasetVersion(
        their_service.GetDatasetVersionRequest(
            user_app_id=their_app.user_app_id, dataset_id="pets", dataset_version_id=version.version.id
        ),
        metadata=their_app.auth_helper.metadata,
    )
    assert got.status.code == S.SUCCESS, got.status
    assert got.dataset_version.id == version.version.id and got.dataset_version.description == "v1"
    assert got.dataset_version.metrics["/"].inputs_count.value == 3
    ours_version = ours._request(
        "GetDatasetVersion", dataset_id="pets", dataset_version_id=version.version.id
    )
    assert ours_version.dataset_version.id == version.version.id

    inputs_stats, annotations = pets.get_upload_status(pre_upload=True, delete_version=True)
    assert inputs_stats == {"image": "2", "text": "1", "total": "3"}
    assert annotations == {"concepts": 2, "bboxes": 0, "polygons": 0}
    pets.delete_version(version.version.id)
    # The published client returns pre_upload stats before it deletes its status version.
    assert [v.version.description for v in pets.list_versions()] == ["SDK Upload Status"]


def test_upload_status_of_an_empty_dataset_returns_at_once(
    apps: tuple[Any, App], base_url: str, api_key: str
) -> None:
    pytest.importorskip("rich")  # the published get_upload_status needs it (not one of its requirements)
    their_app, ours = apps
    their_app.create_dataset("empty")
    dataset = published_dataset.Dataset(
        dataset_id="empty", user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key
    )
    started = time.monotonic()
    inputs_stats, annotations = dataset.get_upload_status(pre_upload=True, delete_version=True)
    assert time.monotonic() - started < 5  # it polled for 10 minutes when no group came back
    assert inputs_stats == {"total": "0"}
    assert annotations == {"concepts": 0, "bboxes": 0, "polygons": 0}
    ours_dataset = ours.dataset("empty")
    assert ours_dataset.get_upload_status(pre_upload=True, timeout=30) == ({"total": 0}, annotations)
    ours_dataset.close()


# -- 6. inputs-add jobs ----------------------------------------------------------------------------------


def test_inputs_add_jobs_are_listed_and_read(apps: tuple[Any, App], base_url: str, api_key: str) -> None:
    their_app, ours = apps
    theirs = published_input.Inputs(user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key)
    job_ids = []
    for i in range(3):
        job_id, _ = theirs.upload_inputs([theirs.get_text_input(f"j{i}", f"text {i}")])
        job_ids.append(job_id)

    def list_jobs(**fields: Any) -> Any:
        request = their_service.ListInputsAddJobsRequest(user_app_id=their_app.user_app_id, **fields)
        return their_app.STUB.ListInputsAddJobs(request, metadata=their_app.auth_helper.metadata)

    listed = list_jobs()
    assert listed.status.code == S.SUCCESS, listed.status
    assert [j.id for j in listed.inputs_add_jobs] == job_ids[::-1]  # newest first
    first, second = list_jobs(page=1, per_page=2), list_jobs(page=2, per_page=2)
    assert [j.id for j in [*first.inputs_add_jobs, *second.inputs_add_jobs]] == job_ids[::-1]
    assert list_jobs(page=3, per_page=2).inputs_add_jobs == []
    wait_until(lambda: all(j.status.code == S.JOB_COMPLETED for j in list_jobs().inputs_add_jobs))
    done = list_jobs().inputs_add_jobs[0]
    assert done.progress.success_count == 1 and done.created_at.seconds
    got = their_app.STUB.GetInputsAddJob(
        their_service.GetInputsAddJobRequest(user_app_id=their_app.user_app_id, id=job_ids[0]),
        metadata=their_app.auth_helper.metadata,
    )
    assert got.status.code == S.SUCCESS and got.inputs_add_job.id == job_ids[0]
    ours_listed = ours._request("ListInputsAddJobs", per_page=1).inputs_add_jobs
    assert [j.id for j in ours_listed] == [job_ids[-1]]


# -- 5. workflows ----------------------------------------------------------------------------------------


def test_the_published_sdk_creates_workflows_of_existing_models(
    apps: tuple[Any, App], tmp_path: Path
) -> None:
    their_app, ours = apps
    config = tmp_path / "workflow.yml"
    config.write_text(
        "workflow:\n"
        "  id: general\n"
        "  nodes:\n"
        "    - id: classify\n"
        "      model:\n"
        "        model_id: general-image-recognition\n"
        "        user_id: clarifai\n"
        "        app_id: main\n"
    )
    workflow = their_app.create_workflow(config_filepath=str(config), display=False)
    assert workflow.id == "general"
    assert [n.id for n in ours.workflow("general").workflow_info.nodes] == ["classify"]


def test_workflow_nodes_are_validated(apps: tuple[Any, App], user: User) -> None:
    their_app, ours = apps
    ours.create_model("mine").close()

    def post(*nodes: Any) -> Any:
        request = their_service.PostWorkflowsRequest(
            user_app_id=their_app.user_app_id,
            workflows=[their_pb.Workflow(id=f"wf-{uuid.uuid4().hex[:6]}", nodes=list(nodes))],
        )
        return their_app.STUB.PostWorkflows(request, metadata=their_app.auth_helper.metadata)

    def node(node_id: str, model_id: str, *inputs: str, version: str = "", **owner: str) -> Any:
        model = their_pb.Model(id=model_id, model_version=their_pb.ModelVersion(id=version), **owner)
        return their_pb.WorkflowNode(
            id=node_id, model=model, node_inputs=[their_pb.NodeInput(node_id=i) for i in inputs]
        )

    public = {"user_id": "clarifai", "app_id": "main"}
    ok = post(node("a", "general-image-recognition", **public), node("b", "mine"))
    assert ok.status.code == S.SUCCESS, ok.status

    unknown = post(node("a", "no-such-model"))
    assert unknown.status.code == S.MODEL_DOES_NOT_EXIST
    assert "no-such-model" in unknown.status.details and "'a'" in unknown.status.details
    unknown_version = post(node("a", "mine", version="0" * 32))
    assert (
        unknown_version.status.code == S.MODEL_DOES_NOT_EXIST and "0" * 32 in unknown_version.status.details
    )
    other_app = post(node("a", "mine", user_id=ours.user_id, app_id="some-other-app"))
    assert other_app.status.code == S.MODEL_DOES_NOT_EXIST
    no_model = post(node("a", ""))
    assert no_model.status.code == S.WORKFLOW_INVALID_ARGUMENT
    bad_input = post(node("a", "mine", "ghost"))
    assert bad_input.status.code == S.WORKFLOW_INVALID_GRAPH and "ghost" in bad_input.status.details
    cycle = post(node("a", "mine", "b"), node("b", "mine", "a"))
    assert cycle.status.code == S.WORKFLOW_INVALID_GRAPH
    assert [w.id for w in ours.list_workflows()] == [ok.workflows[0].id]  # nothing else was created

    # A patch that brings in a node with an unknown model is refused the same way.
    patch = their_service.PatchWorkflowsRequest(
        user_app_id=their_app.user_app_id,
        action="overwrite",
        workflows=[their_pb.Workflow(id=ok.workflows[0].id, nodes=[node("c", "no-such-model")])],
    )
    patched = their_app.STUB.PatchWorkflows(patch, metadata=their_app.auth_helper.metadata)
    assert patched.status.code == S.MODEL_DOES_NOT_EXIST
    assert [n.id for n in ours.workflow(ok.workflows[0].id).workflow_info.nodes] == ["a", "b"]
