"""app.models and Model: create, find (ids, names, the cache, public models), list, search, patch,
versions, training, predictions and feedback."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from clarifai_helpers import calls
from legacy_helpers import BLUE, GREEN, RED, legacy_fixture, png, png_file

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.clarifai.legacy import (
    ApiClientError,
    ApiError,
    BoundingBox,
    ClarifaiApp,
    Concept,
    FeedbackInfo,
    Image,
    Model,
    Region,
    RegionInfo,
    UserError,
)
from modelwire.emulator import Emulator

legacy = legacy_fixture()


def test_create_and_get(legacy: ClarifaiApp, emulator: Emulator) -> None:
    legacy.concepts.bulk_create(["bird", "fish"])
    made = legacy.models.create(
        "birds", concepts=["bird", "fish"], concepts_mutually_exclusive=True, hyper_parameters={"lr": 0.1}
    )
    assert isinstance(made, Model) and (made.model_id, made.model_name) == ("birds", "birds")
    assert made.concepts == ["bird", "fish"] and made.concepts_mutually_exclusive
    assert made.hyper_parameters == {"lr": 0.1} and made.model_type_id == "embedding-classifier"
    assert (made.user_id, made.app_id) == (emulator.user_id, legacy.api.id) and made.created_at
    by_id = legacy.models.get(model_id="birds")
    assert by_id.concepts == ["bird", "fish"]
    public = legacy.models.get("general-v1.3")  # the legacy name of Clarifai's general model
    assert (public.model_id, public.user_id, public.app_id) == (
        "general-image-recognition",
        "clarifai",
        "main",
    )
    assert "red" in public.concepts
    assert legacy.models.get(model_id="general-image-recognition").app_id == "main"
    with pytest.raises(UserError, match="model_name"):
        legacy.models.get()
    with pytest.raises(UserError, match="closed_environment"):
        legacy.models.create("closed", closed_environment=True)
    with pytest.raises(UserError, match="list of ids"):
        legacy.models.create("bad", concepts="bird")  # type: ignore[arg-type]
    with pytest.raises(ApiError) as failure:
        legacy.models.create("birds")
    assert failure.value.status_name.endswith("ALREADY_EXISTS") or "exists" in str(failure.value)


def test_names_are_resolved_once_and_cached(legacy: ClarifaiApp, emulator: Emulator) -> None:
    legacy.models.create("m-1", model_name="My Model")
    before = calls(emulator, "PostModelsSearches")
    assert legacy.models.get("My Model").model_id == "m-1"
    assert calls(emulator, "PostModelsSearches") == before + 1
    assert legacy.models.get("My Model").model_id == "m-1"  # cached: one GetModel, no search
    assert calls(emulator, "PostModelsSearches") == before + 1
    legacy.models.clear_model_cache()
    with pytest.raises(ApiError) as failure:
        legacy.models.get("My Model", model_type="embed")
    assert failure.value.status_name == "MODEL_DOES_NOT_EXIST" and "named 'My Model'" in str(failure.value)
    assert legacy.models.get("My Model", model_type="concept").model_id == "m-1"
    legacy.models.get(model_id="m-1").update(model_name="Renamed")
    assert legacy.models.get("Renamed").model_id == "m-1"
    with pytest.raises(ApiError, match="MODEL_DOES_NOT_EXIST"):
        legacy.models.get("My Model")  # the cached name is checked, not trusted
    legacy.models.delete("m-1")
    with pytest.raises(ApiError, match="MODEL_DOES_NOT_EXIST"):
        legacy.models.get("Renamed")


def test_a_shared_name_is_an_error_not_a_guess(legacy: ClarifaiApp) -> None:
    legacy.models.create("a1", model_name="twin")
    legacy.models.create("a2", model_name="twin")
    with pytest.raises(UserError, match=r"2 models of the app are named 'twin' \(\['a1', 'a2'\]\)"):
        legacy.models.get("twin")
    assert "twin" not in legacy.models.init_model_cache()


def test_listing_and_the_cache(legacy: ClarifaiApp) -> None:
    for i in range(3):
        legacy.models.create(f"own-{i}", model_name=f"Own {i}")
    own = {m.model_id for m in legacy.models.get_all(private_only=True)}
    assert own == {"own-0", "own-1", "own-2"}
    assert own <= {m.model_id for m in legacy.models.get_all()}
    public = {m.model_id for m in legacy.models.get_all(public_only=True)}
    assert "general-image-recognition" in public and not own & public
    page = legacy.models.get_by_page(private_only=True, page=2, per_page=2)
    assert len(page) == 1 and page[0].model_id in own
    assert len(legacy.models.get_by_page(public_only=True, per_page=2)) == 2
    with pytest.raises(UserError, match="not both"):
        legacy.models.get_all(public_only=True, private_only=True)
    legacy.models.clear_model_cache()
    cache = legacy.models.init_model_cache()
    assert cache["Own 1"] == {"model_id": "own-1", "user_id": legacy.api.user_id, "app_id": legacy.api.id}


def test_search(legacy: ClarifaiApp) -> None:
    legacy.models.create("pets", model_name="pet classifier")
    legacy.models.create("cars", model_name="car classifier")
    found = legacy.models.search("pet*")
    assert found is not None and [m.model_id for m in found] == ["pets"]
    everything = legacy.models.search("*classifier")
    assert everything is not None and {m.model_id for m in everything} == {"pets", "cars"}
    general = legacy.models.search("general-image*")
    assert general is not None and {m.model_id for m in general} >= {"general-image-recognition"}
    embedders = legacy.models.search("general*", model_type="embed")
    assert embedders is not None and {m.model_type_id for m in embedders} == {
        "visual-embedder",
        "text-embedder",
    }
    assert legacy.models.search("no such model at all") is None


def test_concepts_and_settings(legacy: ClarifaiApp, emulator: Emulator) -> None:
    legacy.concepts.bulk_create(["bird", "hurd", "fish"])
    model = legacy.models.create("m", concepts=["bird"])
    assert model.add_concepts(["hurd"]).concepts == ["bird", "hurd"]
    assert model.merge_concepts(["fish"], overwrite=True).concepts == ["fish"]
    assert model.merge_concepts(["bird"]).get_concept_ids() == ["fish", "bird"]
    assert model.delete_concepts(["fish"]).concepts == ["bird"]
    renamed = model.update(model_name="new name", concepts_mutually_exclusive=True)
    assert renamed is model and (model.model_name, model.concepts_mutually_exclusive) == ("new name", True)
    before = calls(emulator, "PatchModels")
    assert model.update() is model  # nothing to change: no request
    assert calls(emulator, "PatchModels") == before
    info = model.get_info()
    assert info["model"]["name"] == "new name" and "data" not in info["model"].get("output_info", {})
    verbose = model.get_info(verbose=True)
    assert verbose["model"]["output_info"]["data"]["concepts"] == [{"id": "bird", "name": "bird"}]
    with pytest.raises(UserError, match="action"):
        model.update(action="replace", concept_ids=["bird"])
    with pytest.raises(UserError, match="closed_environment"):
        model.update(closed_environment=True)
    with pytest.raises(UserError, match="list of ids"):
        model.add_concepts("bird")  # type: ignore[arg-type]


def _train_on_dataset(app: ClarifaiApp, model: Model, concepts: list[str]) -> str:
    """Train a version the V2 way (a dataset): what legacy train does needs dataset-less training."""
    params = struct_pb2.Struct()
    params.update({"dataset_id": "colours"})
    version = resources_pb2.ModelVersion(train_info=resources_pb2.TrainInfo(params=params))
    version.output_info.data.concepts.extend(resources_pb2.Concept(id=c) for c in concepts)
    response = app.api._request("PostModelVersions", model_id=model.model_id, model_versions=[version])
    return str(response.model.model_version.id)


@pytest.fixture
def coloured(legacy: ClarifaiApp, emulator: Emulator) -> ClarifaiApp:
    """An app whose dataset "colours" holds red and blue images, labelled so."""
    emulator.clarifai.train_delay = 0.02
    legacy.api.create_dataset("colours")
    inputs = legacy.api.inputs()
    for i in range(6):
        for name, colour in (("red", RED), ("blue", BLUE)):
            inputs.upload_from_bytes(
                f"{name}-{i}", image_bytes=png(colour, size=16 + i), dataset_id="colours", labels=[name]
            )
    inputs.close()
    legacy.wait_until_inputs_upload_finish(20)
    return legacy


def test_versions_inputs_and_predictions_of_a_custom_model(coloured: ClarifaiApp, emulator: Emulator) -> None:
    model = coloured.models.create("colours", concepts=["red", "blue"])
    assert model.list_versions()["model_versions"] == []
    version_id = _train_on_dataset(coloured, model, ["red", "blue"])
    with model._modern() as modern:  # wait as train(sync=True) does
        assert modern.wait_for_training(version_id, timeout=20).code == 21100
    assert model.get_version(version_id)["model_version"]["status"]["code"] == 21100
    assert [v["id"] for v in model.list_versions()["model_versions"]] == [version_id]
    trained_on = model.get_inputs(version_id, per_page=50)
    assert len(trained_on) == 12 and all(isinstance(i, Image) for i in trained_on)
    assert len(model.get_inputs(page=2, per_page=5)) == 5
    scores = model.predict_by_bytes(png(RED, size=20))["outputs"][0]["data"]["concepts"]
    assert scores[0]["id"] == "red"
    untrained = model.train(sync=False)
    assert isinstance(untrained, dict) and untrained["model"]["model_version"]["id"] != version_id
    assert model.delete_version(untrained["model"]["model_version"]["id"])["status"]["code"] == 10000
    assert coloured.models.delete("colours", version_id=version_id)["status"]["code"] == 10000
    assert model.list_versions()["model_versions"] == []


def test_train_waits_for_the_new_version(coloured: ClarifaiApp) -> None:
    model = coloured.models.create("colours", concepts=["red", "blue"])
    trained = model.train(timeout=30)
    assert trained is model and model.model_version is not None
    assert model.predict_by_bytes(png(BLUE, size=20))["outputs"][0]["data"]["concepts"][0]["id"] == "blue"
    assert len(model.get_inputs(per_page=50)) == 12


def test_training_that_does_not_succeed_raises(legacy: ClarifaiApp) -> None:
    legacy.concepts.create("unicorn")
    model = legacy.models.create("nobody-labelled-it", concepts=["unicorn"])
    with pytest.raises(ApiError) as failure:
        model.train(timeout=10)
    assert failure.value.status_name in ("MODEL_UNTRAINED", "MODEL_TRAINING_FAILED")
    assert "nobody-labelled-it" in str(failure.value)
    for bad in (0, -5, "60"):
        with pytest.raises(UserError, match="timeout"):
            model.train(timeout=bad)  # type: ignore[arg-type]


def test_training_times_out_with_a_clear_error(coloured: ClarifaiApp, emulator: Emulator) -> None:
    emulator.clarifai.train_delay = 2.0
    model = coloured.models.create("slow", concepts=["red", "blue"])
    version_id = _train_on_dataset(coloured, model, ["red", "blue"])
    with model._modern() as modern, pytest.raises(ApiClientError, match="after"):
        modern.wait_for_training(version_id, timeout=0.3)  # the wait train(sync=True) uses
    emulator.clarifai.train_delay = 0.02


def test_predictions_with_the_general_model(legacy: ClarifaiApp, tmp_path: Path) -> None:
    general = legacy.models.get("general-v1.3")
    red = png_file(tmp_path, "red", RED)
    by_url = general.predict_by_url(red.as_uri())
    assert by_url["status"]["code"] == 10000 and by_url["outputs"][0]["data"]["concepts"][0]["value"] > 0.5
    by_file = general.predict_by_filename(str(red), max_concepts=2)
    assert len(by_file["outputs"][0]["data"]["concepts"]) == 2
    by_bytes = general.predict_by_bytes(png(GREEN), min_value=0.9)
    assert all(c["value"] >= 0.9 for c in by_bytes["outputs"][0]["data"]["concepts"])
    chosen = general.predict_by_base64(
        base64.b64encode(png(BLUE)), select_concepts=["red", Concept(concept_id="blue")], lang="en"
    )
    assert sorted(c["id"] for c in chosen["outputs"][0]["data"]["concepts"]) == ["blue", "red"]
    with pytest.raises(UserError, match="min_value"):
        general.predict_by_url(red.as_uri(), min_value=2)
    with pytest.raises(UserError, match="max_concepts"):
        general.predict_by_url(red.as_uri(), max_concepts=0)
    with pytest.raises(UserError, match="output_config"):
        general.predict([Image(url=red.as_uri())], model_output_info={"output_configs": {}})
    with pytest.raises(UserError, match="known fields"):
        general.predict([Image(url=red.as_uri())], model_output_info={"output_config": {"min_valu": 1}})


def test_a_batch_prediction_reports_each_input(legacy: ClarifaiApp, tmp_path: Path) -> None:
    general = legacy.models.get(model_id="general-image-recognition")
    good, missing = png_file(tmp_path, "ok", RED).as_uri(), (tmp_path / "missing.png").as_uri()
    mixed = general.predict([Image(url=good), Image(url=missing)])
    assert mixed["status"]["code"] == 10010  # MIXED_STATUS: look at each output
    assert [o["status"]["code"] == 10000 for o in mixed["outputs"]] == [True, False]
    with pytest.raises(ApiError) as failure:
        general.predict_by_url(missing)
    assert "missing.png" in str(failure.value)
    with pytest.raises(ApiError):
        general.predict_by_url(good, is_video=True)  # an image model does not read videos
    with pytest.raises(UserError, match="non-empty list"):
        general.predict([])


def test_feedback_is_stored_as_annotations(legacy: ClarifaiApp, tmp_path: Path) -> None:
    legacy.inputs.create_image_from_bytes(png(RED), image_id="seen")
    model = legacy.models.create("m")
    concept = model.send_concept_feedback(
        "seen",
        None,
        ["red"],
        ["blue"],
        FeedbackInfo(end_user_id="u1", session_id="s1", event_type="annotation"),
    )
    (annotation,) = concept["annotations"]
    assert annotation["input_id"] == "seen"
    assert annotation["annotation_info"]["feedback"] == {
        "kind": "concept",
        "model_id": "m",
        "model_user_id": legacy.api.user_id,
        "model_app_id": legacy.api.id,
        "end_user_id": "u1",
        "session_id": "s1",
        "event_type": "annotation",
    }
    box = Region(RegionInfo(BoundingBox(0.1, 0.1, 0.6, 0.6), feedback_type="misplaced"), concepts=["red"])
    url = png_file(tmp_path, "new", BLUE).as_uri()
    region = model.send_region_feedback("new-input", url, regions=[box])
    assert region["annotations"][0]["annotation_info"]["feedback"]["region_feedback_types"] == ["misplaced"]
    assert legacy.inputs.get("new-input").input_id == "new-input"  # added from the url first
    again = model.send_region_feedback("new-input", url, regions=[box])  # the input exists: no failure
    assert again["status"]["code"] == 10000
    listed = list(legacy.api.inputs().list_annotations())
    assert (
        sum(
            a.annotation_info.fields["feedback"].struct_value.fields["kind"].string_value == "region"
            for a in listed
        )
        == 2
    )
    with pytest.raises(UserError, match="needs concepts"):
        model.send_concept_feedback("seen", None)
    with pytest.raises(ApiError, match="never-added"):
        model.send_concept_feedback("never-added", None, ["red"])


def test_delete_and_delete_all(legacy: ClarifaiApp) -> None:
    for name in ("d1", "d2", "d3"):
        legacy.models.create(name)
    assert legacy.models.delete("d1")["status"]["code"] == 10000
    assert {m.model_id for m in legacy.models.get_all(private_only=True)} == {"d2", "d3"}
    assert legacy.models.delete_all()["status"]["code"] == 10000
    legacy.wait_until_models_delete_finish(timeout=5)
    with pytest.raises(ApiError, match="MODEL_DOES_NOT_EXIST"):
        legacy.models.get(model_id="d2")
