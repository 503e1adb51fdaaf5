"""The Patch* RPCs of plain records, concept relations and DeleteAnnotations over the raw V2 stub:
what each action does, the ids that must exist, and the status codes of what is refused (with
nothing changed).

PatchApp(s) take "overwrite" and "remove" (PAT only); PatchDatasets, PatchWorkflows and
PatchModels take "merge", "overwrite" and "remove"; concept relations are PAT-only records seen
from either concept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from v2_calls import Api, S

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2_grpc
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator import Emulator

IMAGE = "https://samples.example/metro-north.jpg"


def struct(**values: Any) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[service_pb2_grpc.V2Stub]:
    with grpc.insecure_channel(emulator.address) as channel:
        yield service_pb2_grpc.V2Stub(channel)


@pytest.fixture
def user(stub: service_pb2_grpc.V2Stub, emulator: Emulator, api_key: str) -> Api:
    return Api(stub, R.UserAppIDSet(user_id=emulator.user_id), api_key)


@pytest.fixture
def api(user: Api) -> Iterator[Api]:
    """A fresh app (and calls in it) per test."""
    app_id = f"patch-{uuid.uuid4().hex[:10]}"
    user("PostApps", apps=[R.App(id=app_id, description="first", notes="old notes")])
    yield Api(user.stub, R.UserAppIDSet(user_id=user.ids.user_id, app_id=app_id), user.key)
    user("DeleteApp", user_app_id=R.UserAppIDSet(user_id=user.ids.user_id, app_id=app_id))


# -- apps -------------------------------------------------------------------------------------------


def test_patch_app_overwrites_what_it_sets_and_removes_only_the_image_by_its_url(
    api: Api, emulator: Emulator
) -> None:
    app_id = api.ids.app_id
    api("PatchApp", app=R.App(id=app_id, metadata=struct(keep=1, drop=2)), action="overwrite")
    patch = R.App(
        description="App Patching Test",
        default_language="en",
        visibility=R.Visibility(gettable=R.Visibility.PRIVATE),
        image=R.Image(url=IMAGE),
        default_workflow=R.Workflow(id="Universal", app_id="main", user_id="clarifai"),
        metadata=struct(drop=None, more=3),
    )
    patch.is_template.value = True
    got = api(
        "PatchApp", app=patch, action="overwrite", metadata_action=R.PatchAction(op="merge"), reindex=False
    ).app
    assert (got.id, got.description, got.notes, got.default_language) == (
        app_id,
        "App Patching Test",
        "old notes",  # not in the patch: kept
        "en",
    )
    assert got.image.url == IMAGE and got.is_template.value and got.default_workflow.id == "Universal"
    assert MessageToDict(got.metadata) == {"keep": 1, "more": 3}  # merged, a null deletes
    assert got.modified_at.ToNanoseconds() > got.created_at.ToNanoseconds()
    assert api("GetApp").app == got  # stored

    wrong = api(
        "PatchApp", S.CONN_INVALID_REQUEST, app=R.App(image=R.Image(url="https://other")), action="remove"
    )
    assert "current url" in wrong.status.details
    api("PatchApp", S.CONN_INVALID_REQUEST, app=R.App(notes="x"), action="remove")
    removed = api("PatchApp", app=R.App(image=R.Image(url=IMAGE)), action="remove").app
    assert not removed.HasField("image") and removed.description == "App Patching Test"

    merge = api("PatchApp", S.CONN_INVALID_REQUEST, app=R.App(notes="x"), action="merge")
    assert "'overwrite' or 'remove'" in merge.status.details
    api("PatchApp", S.CONN_INVALID_REQUEST, app=R.App(id="another", notes="x"), action="overwrite")
    api("PatchApp", S.CONN_INVALID_REQUEST, action="overwrite")  # no app
    # PAT only, as on the real API: the app's own key is refused.
    key = emulator.clarifai.create_app_key(app_id)
    Api(api.stub, R.UserAppIDSet(), key)("PatchApp", S.CONN_INSUFFICIENT_SCOPES, app=R.App(notes="x"))
    assert api("GetApp").app.notes == "old notes"


def test_patch_apps_needs_every_app_to_exist_and_changes_nothing_otherwise(api: Api, user: Api) -> None:
    app_id = api.ids.app_id
    missing = user("PatchApps", S.CONN_DOES_NOT_EXIST, apps=[R.App(id=app_id, notes="n"), R.App(id="ghost")])
    assert "'ghost'" in missing.status.details
    assert api("GetApp").app.notes == "old notes"
    done = user("PatchApps", apps=[R.App(id=app_id, notes="new notes")], action="overwrite").apps
    assert [(a.id, a.notes, a.description) for a in done] == [(app_id, "new notes", "first")]
    assert (
        user("PatchApps", apps=[R.App(id=app_id, name="named")]).apps[0].name == "named"
    )  # default: overwrite
    user("PatchApps", S.CONN_INVALID_REQUEST, action="overwrite")
    user("PatchApps", S.CONN_INVALID_REQUEST, apps=[R.App(notes="no id")], action="overwrite")
    user("PatchApps", S.CONN_INVALID_REQUEST, apps=[R.App(id=app_id)], action="replace")


# -- datasets ---------------------------------------------------------------------------------------


def test_patch_datasets_merges_overwrites_and_removes(api: Api) -> None:
    api("PostDatasets", datasets=[R.Dataset(id="ds", description="d", metadata=struct(a=1, nested={"x": 1}))])
    version = api("PostDatasetVersions", dataset_id="ds").dataset_versions[0]
    merged = api(
        "PatchDatasets",
        datasets=[
            R.Dataset(
                id="ds",
                notes="n",
                visibility=R.Visibility(gettable=R.Visibility.PRIVATE),
                image=R.Image(url=IMAGE),
                metadata=struct(nested={"y": 2}),
                version=R.DatasetVersion(id="not-patchable"),
            )
        ],
        action="merge",
    ).datasets[0]
    assert (merged.description, merged.notes, merged.image.url) == ("d", "n", IMAGE)
    assert MessageToDict(merged.metadata) == {"a": 1, "nested": {"x": 1, "y": 2}}
    assert merged.version.id == version.id  # the latest version, as GetDataset shows it
    assert api("GetDataset", dataset_id="ds").dataset == merged

    removed = api(
        "PatchDatasets",
        datasets=[R.Dataset(id="ds", metadata=struct(a=True), image=R.Image(url=IMAGE))],
        action="remove",
    ).datasets[0]
    assert MessageToDict(removed.metadata) == {"nested": {"x": 1, "y": 2}} and not removed.HasField("image")
    overwritten = api(
        "PatchDatasets", datasets=[R.Dataset(id="ds", metadata=struct(only=1))], action="overwrite"
    ).datasets[0]
    assert MessageToDict(overwritten.metadata) == {"only": 1} and overwritten.notes == "n"
    assert api("PatchDatasets", datasets=[R.Dataset(id="ds", notes="m")]).datasets[0].notes == "m"  # merge

    api("PatchDatasets", S.CONN_INVALID_REQUEST, datasets=[R.Dataset(id="ds", notes="x")], action="remove")
    ghost = api(
        "PatchDatasets", S.CONN_DOES_NOT_EXIST, datasets=[R.Dataset(id="ds", notes="z"), R.Dataset(id="nope")]
    )
    assert "'nope'" in ghost.status.details
    api("PatchDatasets", S.CONN_INVALID_REQUEST, datasets=[R.Dataset(id="ds")], action="replace")
    api("PatchDatasets", S.CONN_INVALID_REQUEST)
    assert api("GetDataset", dataset_id="ds").dataset.notes == "m"


# -- workflows --------------------------------------------------------------------------------------


def _node(node_id: str, model_id: str, *inputs: str) -> R.WorkflowNode:
    node = R.WorkflowNode(id=node_id, model=R.Model(id=model_id))
    for source in inputs:
        node.node_inputs.add(node_id=source)
    return node


def test_patch_workflows_edits_lists_and_records_a_version_for_new_nodes(api: Api) -> None:
    for model_id in ("m1", "m2", "m3"):  # nodes name existing models
        api("PostModels", models=[R.Model(id=model_id)])
    first = api(
        "PostWorkflows",
        workflows=[R.Workflow(id="wf", nodes=[_node("embed", "m1")], use_cases=["a"], description="one")],
    ).workflows[0]
    merged = api(
        "PatchWorkflows", workflows=[R.Workflow(id="wf", use_cases=["b", "a"], notes="n")]
    ).workflows[0]
    assert list(merged.use_cases) == ["a", "b"] and merged.notes == "n"  # appended what it lacked
    assert merged.version.id == first.version.id  # same nodes: same version
    removed = api(
        "PatchWorkflows", workflows=[R.Workflow(id="wf", use_cases=["a"])], action="remove"
    ).workflows[0]
    assert list(removed.use_cases) == ["b"]

    nodes = [_node("embed", "m1"), _node("classify", "m2", "embed")]
    renodes = api(
        "PatchWorkflows", workflows=[R.Workflow(id="wf", nodes=nodes)], action="overwrite"
    ).workflows[0]
    assert [n.id for n in renodes.nodes] == ["embed", "classify"]
    assert renodes.version.id != first.version.id and list(renodes.version.nodes) == list(renodes.nodes)
    versions = api("ListWorkflowVersions", workflow_id="wf").workflow_versions
    assert [v.id for v in versions] == [renodes.version.id, first.version.id]
    # merge by node id: the node keeps its place and takes the patch's fields
    moved = api("PatchWorkflows", workflows=[R.Workflow(id="wf", nodes=[_node("embed", "m3")])]).workflows[0]
    assert [(n.id, n.model.id) for n in moved.nodes] == [("embed", "m3"), ("classify", "m2")]

    cycle = [_node("embed", "m1", "classify"), _node("classify", "m2", "embed")]
    api(
        "PatchWorkflows",
        S.WORKFLOW_INVALID_GRAPH,
        workflows=[R.Workflow(id="wf", nodes=cycle)],
        action="overwrite",
    )
    api("PatchWorkflows", S.WORKFLOW_DOES_NOT_EXIST, workflows=[R.Workflow(id="ghost", notes="x")])
    api("PatchWorkflows", S.WORKFLOW_INVALID_REQUEST, workflows=[R.Workflow(id="wf")], action="replace")
    api(
        "PatchWorkflows",
        S.WORKFLOW_INVALID_ARGUMENT,
        workflows=[R.Workflow(id="wf", notes="x")],
        action="remove",
    )
    stored = api("GetWorkflow", workflow_id="wf").workflow
    assert stored.version.id == moved.version.id and stored.notes == "n"


def test_patch_models_patches_the_other_fields_generically(api: Api) -> None:
    api("PostModels", models=[R.Model(id="m", model_type_id="text-classifier", toolkits=["old"])])
    patch = R.Model(
        id="m",
        description="Model Patching Test",
        toolkits=["Clarifai"],
        use_cases=["misc"],
        languages=["en"],
        visibility=R.Visibility(gettable=R.Visibility.PRIVATE),
        image=R.Image(url=IMAGE),
    )
    merged = api("PatchModels", models=[patch], action="merge").models[0]
    assert list(merged.toolkits) == ["old", "Clarifai"] and list(merged.use_cases) == ["misc"]
    assert (merged.description, merged.image.url, merged.visibility.gettable) == (
        "Model Patching Test",
        IMAGE,
        R.Visibility.PRIVATE,
    )
    removed = api(
        "PatchModels", models=[R.Model(id="m", toolkits=["old"], image=R.Image(url=IMAGE))], action="remove"
    ).models[0]
    assert list(removed.toolkits) == ["Clarifai"] and not removed.HasField("image")
    api(
        "PatchModels",
        S.MODEL_INVALID_ARGUMENT,
        models=[R.Model(id="m", image=R.Image(url="x"))],
        action="remove",
    )


# -- concept relations ------------------------------------------------------------------------------


def _relations(response: Any) -> list[tuple[str, str, str]]:
    return [(r.subject_concept.id, r.predicate, r.object_concept.id) for r in response.concept_relations]


def test_a_concept_relation_is_seen_from_either_concept_and_listed_once(api: Api) -> None:
    api("PostConcepts", concepts=[R.Concept(id=c) for c in ("food", "honey", "bread", "loaf")])
    made = api(
        "PostConceptRelations",
        concept_id="food",
        concept_relations=[
            R.ConceptRelation(object_concept=R.Concept(id="honey"), predicate="hypernym"),
            R.ConceptRelation(
                object_concept=R.Concept(id="bread"), predicate="hypernym", knowledge_graph_id="kg"
            ),
        ],
    )
    assert _relations(made) == [("food", "hypernym", "honey"), ("food", "hypernym", "bread")]
    assert all(r.id and r.subject_concept.name == "food" for r in made.concept_relations)
    api(
        "PostConceptRelations",
        concept_id="loaf",
        concept_relations=[R.ConceptRelation(object_concept=R.Concept(id="bread"), predicate="synonym")],
    )

    everything = api("ListConceptRelations")
    assert sorted(_relations(everything)) == [
        ("food", "hypernym", "bread"),
        ("food", "hypernym", "honey"),
        ("loaf", "synonym", "bread"),
    ]
    assert _relations(api("ListConceptRelations", concept_id="honey")) == [("honey", "hyponym", "food")]
    from_honey = api("ListConceptRelations", concept_id="honey").concept_relations[0]
    assert from_honey.id == made.concept_relations[0].id  # the same relation, turned around
    assert sorted(_relations(api("ListConceptRelations", concept_id="bread"))) == [
        ("bread", "hyponym", "food"),
        ("bread", "synonym", "loaf"),
    ]
    # Without a concept, asking for hyponyms shows the stored hypernyms the other way round.
    assert sorted(_relations(api("ListConceptRelations", predicate="hyponym"))) == [
        ("bread", "hyponym", "food"),
        ("honey", "hyponym", "food"),
    ]
    assert _relations(api("ListConceptRelations", knowledge_graph_id="kg")) == [("food", "hypernym", "bread")]
    pages = [api("ListConceptRelations", page=p, per_page=2).concept_relations for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 1, 0]
    assert {r.id for p in pages for r in p} == {r.id for r in everything.concept_relations}
    # Concepts are shown as the app has them now.
    api("PatchConcepts", concepts=[R.Concept(id="honey", name="Honey")], action="overwrite")
    assert (
        api("ListConceptRelations", concept_id="food", predicate="hypernym")
        .concept_relations[-1]
        .object_concept.name
        == "Honey"
    )

    # Deleting through the object concept works; an id not of that concept deletes nothing.
    bread_id = made.concept_relations[1].id
    wrong = api(
        "DeleteConceptRelations", S.CONN_DOES_NOT_EXIST, concept_id="honey", ids=[from_honey.id, bread_id]
    )
    assert bread_id in wrong.status.details
    assert len(api("ListConceptRelations").concept_relations) == 3
    api("DeleteConceptRelations", concept_id="honey", ids=[from_honey.id])
    assert sorted(_relations(api("ListConceptRelations"))) == [
        ("food", "hypernym", "bread"),
        ("loaf", "synonym", "bread"),
    ]


def test_concept_relations_refuse_what_the_api_refuses(api: Api, emulator: Emulator) -> None:
    api("PostConcepts", concepts=[R.Concept(id=c) for c in ("food", "honey")])

    def post(expect: int, concept_id: str = "food", **relation: Any) -> Any:
        item = R.ConceptRelation(**relation)
        return api("PostConceptRelations", expect, concept_id=concept_id, concept_relations=[item])

    honey = R.Concept(id="honey")
    post(S.CONN_DOES_NOT_EXIST, concept_id="ghost", object_concept=honey, predicate="hyponym")
    assert (
        "'nope'"
        in post(
            S.CONN_DOES_NOT_EXIST, object_concept=R.Concept(id="nope"), predicate="hyponym"
        ).status.details
    )
    post(S.CONCEPTS_INVALID_REQUEST, concept_id="", object_concept=honey, predicate="hyponym")
    post(S.CONCEPTS_INVALID_REQUEST, object_concept=honey, predicate="is-a")
    post(S.CONCEPTS_INVALID_REQUEST, object_concept=R.Concept(id="food"), predicate="synonym")
    post(
        S.CONCEPTS_INVALID_REQUEST,
        object_concept=honey,
        predicate="hyponym",
        subject_concept=R.Concept(id="honey"),
    )
    api("PostConceptRelations", S.CONCEPTS_INVALID_REQUEST, concept_id="food")  # no relations
    post(S.SUCCESS, object_concept=honey, predicate="hypernym")
    again = post(S.CONCEPTS_INVALID_REQUEST, object_concept=honey, predicate="hypernym")
    assert "exists already" in again.status.details
    post(
        S.CONCEPTS_INVALID_REQUEST,
        concept_id="honey",
        object_concept=R.Concept(id="food"),
        predicate="hyponym",
    )
    post(S.SUCCESS, object_concept=honey, predicate="hypernym", knowledge_graph_id="other-graph")
    assert len(api("ListConceptRelations").concept_relations) == 2

    api("ListConceptRelations", S.CONCEPTS_INVALID_REQUEST, predicate="parent")
    api("ListConceptRelations", S.CONN_DOES_NOT_EXIST, concept_id="ghost")
    api("DeleteConceptRelations", S.CONCEPTS_INVALID_REQUEST, concept_id="food")  # no ids
    api("DeleteConceptRelations", S.CONN_DOES_NOT_EXIST, concept_id="food", ids=["nope"])
    # PAT only: an app key may not touch the knowledge graph.
    key = emulator.clarifai.create_app_key(api.ids.app_id)
    Api(api.stub, R.UserAppIDSet(), key)("ListConceptRelations", S.CONN_INSUFFICIENT_SCOPES)
    assert len(api("ListConceptRelations").concept_relations) == 2


# -- annotations ------------------------------------------------------------------------------------


def test_delete_annotations_takes_input_ids_and_pairs_annotation_ids_with_them(api: Api) -> None:
    api("PostInputs", inputs=[R.Input(id=i, data=R.Data(text=R.Text(raw=i))) for i in ("i1", "i2")])
    label = R.Data(concepts=[R.Concept(id="c", value=1.0)])
    api(
        "PostAnnotations",
        annotations=[
            R.Annotation(id="a1", input_id="i1", data=label),
            R.Annotation(id="a2", input_id="i2", data=label),
            R.Annotation(id="a3", input_id="i2", data=label),
        ],
    )

    def left() -> list[str]:
        listed = api("ListAnnotations", list_all_annotations=True).annotations
        return sorted(a.id for a in listed if not a.input_level)  # not the inputs' own (input-level)

    api("DeleteAnnotations", S.ANNOTATION_INVALID_ARGUMENT, ids=["a1"])  # input_ids are required
    api("DeleteAnnotations", S.ANNOTATION_INVALID_ARGUMENT, ids=["a1", "a2"], input_ids=["i1"])
    assert left() == ["a1", "a2", "a3"]
    api("DeleteAnnotations", ids=["a1", "a2"], input_ids=["i2", "i2"])  # a1 is not of i2: kept
    assert left() == ["a1", "a3"]
    api("DeleteAnnotations", input_ids=["i2"])  # every annotation of i2
    assert left() == ["a1"]
