"""Drop-in for the clarifai 12.5.0 methods its own tests use: `App.create_concepts`, concept
relations (create / search / delete), `User.patch_app`, `App.patch_dataset / patch_model /
patch_workflow`, `Inputs.get_input / patch_inputs / patch_annotations / patch_concepts /
delete_annotations`, `Dataset.merge_dataset` and `.version` on `Dataset.list_versions()` items,
called as 12.5.0's tests call them, against the emulator.

The last tests drive the published 12.5.0 SDK itself through the same flows (where it is
installed, as `make test-published` does) and check it sees what ours sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dropin_helpers import foreign

from modelwire._core.errors import NotFoundError
from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai import App, Inputs, User, UserError
from modelwire.clarifai.app import concept_relations_tree
from modelwire.clarifai.dataset import Dataset
from modelwire.emulator import Emulator

IMAGE_URL = "https://samples.clarifai.com/metro-north.jpg"
SUBJECT_CONCEPT_ID, OBJECT_CONCEPT_ID, PREDICATE = "honey", "food", "hypernym"  # as 12.5.0's tests


def _relations(found: Any) -> list[tuple[str, str, str]]:
    return sorted((r.subject_concept.id, r.predicate, r.object_concept.id) for r in found)


# -- concepts and their relations ---------------------------------------------------------------


def test_concepts_and_relations_as_the_published_tests_use_them(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    app.create_concepts([OBJECT_CONCEPT_ID, SUBJECT_CONCEPT_ID])
    app.create_concepts(["bread", "loaf"], concepts=["Bread", "Loaf"])
    assert {(c.id, c.name) for c in app.list_concepts()} >= {("food", "food"), ("bread", "Bread")}
    # 12.5.0's test: food is a parent (hypernym) of honey.
    app.create_concept_relations(OBJECT_CONCEPT_ID, [SUBJECT_CONCEPT_ID], [PREDICATE])
    app.create_concept_relations("bread", ["food", "loaf"], ["hyponym", "synonym"])

    everything = list(app.search_concept_relations(show_tree=True))
    assert isinstance(everything[0], resources_pb2.ConceptRelation)
    assert _relations(everything) == [
        ("bread", "hyponym", "food"),
        ("bread", "synonym", "loaf"),
        ("food", "hypernym", "honey"),
    ]
    # Newest first: the synonyms, then food over its kinds.
    assert capsys.readouterr().out.splitlines() == ["bread", "loaf", "food", "├── bread", "└── honey"]
    # Seen from a concept, a relation of which it is the object comes back turned around.
    assert _relations(app.search_concept_relations(concept_id="honey")) == [("honey", "hyponym", "food")]
    assert _relations(app.search_concept_relations(concept_id="food", predicate="hypernym")) == [
        ("food", "hypernym", "bread"),
        ("food", "hypernym", "honey"),
    ]
    assert len(list(app.search_concept_relations(page_no=1, per_page=2))) == 2
    names = {c.id: c.name for r in everything for c in (r.subject_concept, r.object_concept)}
    assert names == {"bread": "Bread", "loaf": "Loaf", "food": "food", "honey": "honey"}

    # 12.5.0's test deletes, through honey, the relation it made on food.
    ids = [r.id for r in app.search_concept_relations(concept_id=SUBJECT_CONCEPT_ID)]
    app.delete_concept_relations(SUBJECT_CONCEPT_ID, ids)
    assert _relations(app.search_concept_relations()) == [
        ("bread", "hyponym", "food"),
        ("bread", "synonym", "loaf"),
    ]
    app.delete_concept_relations("bread")  # no ids: every relation of the concept
    assert list(app.search_concept_relations()) == []
    app.delete_concept_relations("bread")  # nothing left: nothing to do


def test_concept_relations_tree_draws_parents_over_their_kinds() -> None:
    def relation(subject: str, predicate: str, obj: str) -> resources_pb2.ConceptRelation:
        return resources_pb2.ConceptRelation(
            subject_concept=resources_pb2.Concept(id=subject),
            object_concept=resources_pb2.Concept(id=obj),
            predicate=predicate,
        )

    tree = concept_relations_tree(
        [
            relation("food", "hypernym", "honey"),
            relation("bread", "hyponym", "food"),
            relation("a", "synonym", "b"),
        ]
    )
    assert tree.splitlines() == ["food", "├── honey", "└── bread", "a", "b"]


def test_concept_calls_refuse_bad_input_before_sending(app: App, emulator: Emulator) -> None:
    before = len(emulator.calls.records("PostConceptRelations"))
    with pytest.raises(UserError, match="one entry per concept id"):
        app.create_concepts(["a", "b"], concepts=["only one"])
    with pytest.raises(UserError, match="concept_ids must be a list"):
        app.create_concepts("food")
    with pytest.raises(UserError, match="one predicate per object concept"):
        app.create_concept_relations("food", ["honey", "bread"], ["hypernym"])
    with pytest.raises(UserError, match=r"predicates\[0\] must be one of"):
        app.create_concept_relations("food", ["honey"], ["parent"])
    with pytest.raises(UserError, match="predicate must be one of"):
        app.search_concept_relations(predicate="parent")
    assert len(emulator.calls.records("PostConceptRelations")) == before
    with pytest.raises(NotFoundError, match="ghost"):  # the API's answer, typed
        app.create_concept_relations("ghost", ["honey"], ["hypernym"])


# -- patches of apps, datasets, models and workflows ----------------------------------------------


def test_user_patch_app_as_the_published_test_calls_it(user: User, app: App) -> None:
    patched = user.patch_app(
        app_id=app.id,
        action="overwrite",
        default_language="en",
        base_workflow="Universal",
        description="App Patching Test",
        is_template=True,
        visibility=10,
        notes="App Patching Notes Test",
        image_url=IMAGE_URL,
    )
    info = patched.app_info
    assert (patched.id, info.description, info.notes, info.image.url) == (
        app.id,
        "App Patching Test",
        "App Patching Notes Test",
        IMAGE_URL,
    )
    assert info.is_template.value and info.visibility.gettable == resources_pb2.Visibility.PRIVATE
    assert (info.default_workflow.id, info.default_workflow.user_id) == ("Universal", "clarifai")
    assert user.app(app.id).app_info.description == "App Patching Test"
    removed = user.patch_app(app.id, action="remove", image_url=IMAGE_URL)
    assert not removed.app_info.HasField("image")
    with pytest.raises(UserError, match="action must be one of"):
        user.patch_app(app.id, action="merge", notes="x")
    with pytest.raises(UserError, match="unknown field"):
        user.patch_app(app.id, colour="blue")
    patched.close()
    removed.close()


def test_app_patch_dataset_model_and_workflow(app: App, tmp_path: Path) -> None:
    dataset = app.create_dataset("ds")
    patched = app.patch_dataset(
        dataset_id="ds",
        action="merge",
        description="App Patching Test",
        visibility=10,
        notes="App Patching Notes Test",
        image_url=IMAGE_URL,
        metadata={"team": "vision"},
    )
    assert isinstance(patched, Dataset) and patched.id == "ds"
    assert (patched.dataset_info.description, patched.dataset_info.image.url) == (
        "App Patching Test",
        IMAGE_URL,
    )
    assert app.dataset("ds").dataset_info.metadata["team"] == "vision"

    app.create_model("m", model_type_id="text-classifier")
    model = app.patch_model(
        model_id="m",
        action="merge",
        visibility=10,
        description="Model Patching Test",
        notes="Model Patching Test",
        toolkits=["Clarifai"],
        use_cases=["misc"],
        languages=["en"],
        image_url=IMAGE_URL,
    )
    info = model.model_info
    assert (model.id, info.description, list(info.toolkits), list(info.languages)) == (
        "m",
        "Model Patching Test",
        ["Clarifai"],
        ["en"],
    )
    assert list(app.patch_model("m", action="remove", toolkits=["Clarifai"]).model_info.toolkits) == []

    config = tmp_path / "wf.yaml"
    config.write_text("workflow:\n  id: wf\n  nodes:\n    - id: embed\n      model:\n        model_id: m\n")
    created = app.create_workflow(str(config), display=False)
    two_nodes = tmp_path / "wf2.yaml"
    two_nodes.write_text(
        "workflow:\n  id: wf\n  nodes:\n"
        "    - id: embed\n      model:\n        model_id: m\n"
        "    - id: again\n      model:\n        model_id: m\n      node_inputs:\n        - node_id: embed\n"
    )
    workflow = app.patch_workflow("wf", action="overwrite", config_filepath=str(two_nodes), description="two")
    assert [n.id for n in workflow.workflow_info.nodes] == ["embed", "again"]
    assert workflow.workflow_info.description == "two"
    assert workflow.workflow_info.version.id != created.workflow_info.version.id
    assert len(list(workflow.list_versions())) == 2
    assert list(app.patch_workflow("wf", use_cases=["demo"]).workflow_info.use_cases) == ["demo"]

    with pytest.raises(UserError, match="action must be one of"):
        app.patch_dataset("ds", action="replace", notes="x")
    with pytest.raises(UserError, match="unknown field"):
        app.patch_model("m", colour="blue")
    with pytest.raises(UserError, match="config_filepath or nodes"):
        app.patch_workflow("wf", config_filepath=str(two_nodes), nodes=[])
    with pytest.raises(UserError, match="cannot read workflow config"):
        app.patch_workflow("wf", config_filepath=str(tmp_path / "missing.yaml"))
    with pytest.raises(NotFoundError):
        app.patch_dataset("ghost", notes="x")
    for made in (dataset, patched, model, created, workflow):
        made.close()


# -- inputs, annotations, concepts ----------------------------------------------------------------


@pytest.fixture
def inputs(app: App) -> Iterator[Inputs]:
    with app.inputs() as made:
        yield made


def test_get_and_patch_inputs_annotations_and_concepts(app: App, inputs: Inputs) -> None:
    inputs.upload_text("doc", "a note", labels=["cat"])
    inputs.upload_text("other", "another note")
    got = inputs.get_input("doc")
    assert isinstance(got, resources_pb2.Input) and got.data.text.raw == "a note"
    with pytest.raises(NotFoundError, match="ghost"):
        inputs.get_input("ghost")

    labelled = resources_pb2.Input(
        id="doc", data=resources_pb2.Data(concepts=[resources_pb2.Concept(id="dog", value=1)])
    )
    labelled.data.metadata.update({"source": "test"})
    assert inputs.patch_inputs([labelled], action="merge") is None
    assert sorted(c.id for c in inputs.get_input("doc").data.concepts) == ["cat", "dog"]
    # clarifai-grpc's messages are taken too (by bytes)
    theirs = foreign("clarifai.api.Input")(id="doc", data={"concepts": [{"id": "cat"}]})
    inputs.patch_inputs([theirs], action="remove")
    stored = inputs.get_input("doc")
    assert [c.id for c in stored.data.concepts] == ["dog"] and stored.data.metadata["source"] == "test"

    box = Inputs.get_bbox_proto("other", "car", [0.1, 0.1, 0.5, 0.5], annot_id="box-1")
    assert inputs.upload_annotations([box]) == []
    tagged = resources_pb2.Annotation(id="box-1", input_id="other")
    tagged.data.concepts.add(id="vehicle", value=1.0)
    inputs.patch_annotations([tagged], action="merge")
    annotations = {a.id: a for a in inputs.list_annotations([inputs.get_input("other")])}
    assert [c.id for c in annotations["box-1"].data.concepts] == ["vehicle"]
    assert len(annotations["box-1"].data.regions) == 1

    inputs.patch_concepts(["dog"], labels=["Dog"])
    assert {c.id: c.name for c in app.list_concepts()}["dog"] == "Dog"

    inputs.delete_annotations(["other"], ["box-1"])
    assert "box-1" not in {a.id for a in inputs.list_annotations()}
    inputs.delete_annotations(["doc"])  # every annotation of doc, its input-level labels too
    assert list(inputs.get_input("doc").data.concepts) == []


def test_input_patches_refuse_bad_input_before_sending(inputs: Inputs, emulator: Emulator) -> None:
    before = {
        m: len(emulator.calls.records(m)) for m in ("PatchInputs", "PatchConcepts", "DeleteAnnotations")
    }
    with pytest.raises(UserError, match="inputs must be a list"):
        inputs.patch_inputs(resources_pb2.Input(id="x"))  # type: ignore[arg-type]
    with pytest.raises(UserError, match="an id on each"):
        inputs.patch_inputs([resources_pb2.Input()])
    with pytest.raises(UserError, match="action must be one of"):
        inputs.patch_inputs([resources_pb2.Input(id="x")], action="replace")
    with pytest.raises(UserError, match="batch_annot must be a list"):
        inputs.patch_annotations("not a list")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="one entry per concept id"):
        inputs.patch_concepts(["a", "b"], labels=["A"])
    with pytest.raises(UserError, match="values must be a list of numbers"):
        inputs.patch_concepts(["a"], values=["high"])  # type: ignore[list-item]
    with pytest.raises(UserError, match="action must be one of"):
        inputs.patch_concepts(["a"], action="merge")
    with pytest.raises(UserError, match="input_ids must be a list"):
        inputs.delete_annotations("doc")
    with pytest.raises(UserError, match="must pair up"):
        inputs.delete_annotations(["a", "b"], ["x"])
    with pytest.raises(UserError, match="input_id must be a non-empty str"):
        inputs.get_input("")
    assert {m: len(emulator.calls.records(m)) for m in before} == before


# -- datasets -------------------------------------------------------------------------------------


def test_merge_dataset_and_the_version_of_listed_versions(app: App) -> None:
    first, second = app.create_dataset("first"), app.create_dataset("second")
    with app.inputs() as inputs:
        inputs.upload_text("a", "in first", dataset_id="first")
        inputs.upload_text("b", "in second", dataset_id="second")
        inputs.upload_text("c", "in both", dataset_id="second")
        inputs.upload_text("c2", "elsewhere")
        first.merge_dataset(merge_dataset_id="second")
        assert sorted(i.id for i in inputs.list_inputs(dataset_id="first")) == ["a", "b", "c"]
        assert sorted(i.id for i in inputs.list_inputs(dataset_id="second")) == ["b", "c"]
    first.merge_dataset("second")  # again: nothing new, nothing duplicated
    with pytest.raises(UserError, match="merge_dataset_id"):
        first.merge_dataset("")

    made = first.create_version(description="one")
    assert made.version.id == made.version_id and made.version.description == "one"
    versions = list(first.list_versions())
    assert [v.version.id for v in versions] == [made.version.id]
    assert first.version.id == ""  # no version chosen on this object
    first.delete_version(version_id=versions[0].version.id)  # as 12.5.0's test deletes it
    assert list(first.list_versions()) == []
    for dataset in (first, second, made, *versions):
        dataset.close()


# -- the published 12.5.0 SDK, unchanged, against the emulator --------------------------------------


@pytest.fixture
def published_app(user: User, base_url: str, api_key: str) -> Iterator[tuple[Any, Any, App]]:
    """The published User, an app it made, and the same app as our App."""
    published_user = pytest.importorskip("clarifai.client.user")
    app_id = f"pub-{uuid.uuid4().hex[:8]}"
    theirs = published_user.User(user_id=user.user_id, base_url=base_url, pat=api_key)
    their_app = theirs.create_app(app_id=app_id)
    yield theirs, their_app, user.app(app_id)
    theirs.delete_app(app_id)


def test_the_published_sdk_makes_and_reads_what_ours_does(
    published_app: tuple[Any, Any, App], user: User
) -> None:
    theirs, their_app, ours = published_app
    their_app.create_concepts([OBJECT_CONCEPT_ID, SUBJECT_CONCEPT_ID])
    their_app.create_concept_relations(OBJECT_CONCEPT_ID, [SUBJECT_CONCEPT_ID], [PREDICATE])
    their_relations = list(their_app.search_concept_relations())
    assert (
        _relations(their_relations)
        == _relations(ours.search_concept_relations())
        == [("food", "hypernym", "honey")]
    )
    assert _relations(their_app.search_concept_relations(concept_id="honey")) == [
        ("honey", "hyponym", "food")
    ]

    theirs.patch_app(
        app_id=ours.id,
        action="overwrite",
        default_language="en",
        base_workflow="Universal",
        description="App Patching Test",
        is_template=True,
        visibility=10,
        notes="App Patching Notes Test",
        image_url=IMAGE_URL,
    )
    seen = user.app(ours.id).app_info
    assert (seen.description, seen.notes, seen.image.url, seen.is_template.value) == (
        "App Patching Test",
        "App Patching Notes Test",
        IMAGE_URL,
        True,
    )
    their_app.create_dataset("ds")
    their_app.patch_dataset(dataset_id="ds", action="merge", description="patched", visibility=10, notes="n")
    assert ours.dataset("ds").dataset_info.description == "patched"
    their_app.create_model("m")
    their_app.patch_model(
        model_id="m", action="merge", toolkits=["Clarifai"], use_cases=["misc"], languages=["en"]
    )
    assert list(ours.model("m").model_info.toolkits) == ["Clarifai"]

    dataset = their_app.dataset(dataset_id="ds")
    dataset.create_version()
    their_versions = list(dataset.list_versions())
    our_versions = list(ours.dataset("ds").list_versions())
    assert [v.version.id for v in their_versions] == [v.version.id for v in our_versions]
    dataset.delete_version(version_id=their_versions[0].version.id)

    their_app.delete_concept_relations(SUBJECT_CONCEPT_ID, [r.id for r in their_relations])
    assert list(ours.search_concept_relations()) == []


def test_the_published_inputs_patch_what_ours_reads(
    published_app: tuple[Any, Any, App], base_url: str, api_key: str
) -> None:
    published_input = pytest.importorskip("clarifai.client.input")
    their_resources = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")

    _, their_app, ours = published_app
    theirs = published_input.Inputs(user_id=ours.user_id, app_id=ours.id, base_url=base_url, pat=api_key)
    with ours.inputs() as our_inputs:
        our_inputs.upload_text("doc", "a note", labels=["cat"])
        assert theirs.get_input("doc").data.text.raw == "a note"
        patch = their_resources.Input(
            id="doc", data=their_resources.Data(concepts=[their_resources.Concept(id="dog", value=1)])
        )
        theirs.patch_inputs([patch], action="merge")
        assert sorted(c.id for c in our_inputs.get_input("doc").data.concepts) == ["cat", "dog"]
        theirs.patch_concepts(["dog"], labels=["Dog"])
        assert {c.id: c.name for c in ours.list_concepts()}["dog"] == "Dog"
        theirs.delete_annotations(["doc"])
        assert list(our_inputs.get_input("doc").data.concepts) == []

        first = their_app.create_dataset("first")
        their_app.create_dataset("second")
        our_inputs.upload_text("b", "in second", dataset_id="second")
        first.merge_dataset(merge_dataset_id="second")
        assert [i.id for i in our_inputs.list_inputs(dataset_id="first")] == ["b"]


def test_app_model_fetches_the_version_asked_for_in_either_spelling(app: App) -> None:
    app.create_model("versioned", model_type_id="text-classifier")
    first = app.model("versioned").create_version(description="first")
    latest = first.create_version(description="second")
    assert first.version_id != latest.version_id
    # The seed's keyword and 12.5.0's dict name the same version; before, model_version= was dropped.
    assert app.model("versioned", model_version_id=first.version_id).version_id == first.version_id
    assert (
        app.model(model_id="versioned", model_version={"id": first.version_id}).version_id == first.version_id
    )
    assert (
        app.model("versioned", {"id": first.version_id}).version_id == first.version_id
    )  # 12.5.0 positional
    assert app.model("versioned").version_id == latest.version_id
    with pytest.raises(UserError, match="different versions"):
        app.model("versioned", model_version_id=first.version_id, model_version={"id": latest.version_id})
    with pytest.raises(UserError, match="model_version must be"):
        app.model("versioned", model_version={"version": first.version_id})
    with pytest.raises(UserError, match="unknown argument"):
        app.model("versioned", model_versoin={"id": first.version_id})
